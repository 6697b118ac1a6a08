//go:build ignore

/* rusage: per-task CPU time and resource use: getrusage (RUSAGE_SELF,
 * RUSAGE_CHILDREN, RUSAGE_THREAD), times, wait4's and waitid's rusage,
 * CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID. Time spent
 * spinning in user code is user time, of the thread and of the process
 * (an ended thread's too); sleeping is no CPU time; a reaped child's time
 * and its reaped children's count in RUSAGE_CHILDREN, a child not waited
 * for does not; maxrss keeps the peak; faults and waits count. Prints
 * facts with wide margins (timings vary), never the numbers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static long long ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long long tv(struct timeval t) { return (long long)t.tv_sec * 1000000000 + t.tv_usec * 1000LL; }

/* Spins in user code until the clock c has advanced by ms milliseconds,
 * reading it seldom (each read is a system call). */
static void spin(clockid_t c, int ms)
{
	long long end = ns(c) + ms * 1000000LL;
	while (ns(c) < end)
		for (volatile int i = 0; i < 200000; i++)
			;
}

static struct rusage ru(int who)
{
	struct rusage r;
	memset(&r, 0, sizeof r);
	if (getrusage(who, &r))
		printf("getrusage(%d) -> %s\n", who, ename(errno));
	return r;
}

/* Spins until the process's user time has advanced by ms milliseconds
 * (or its CPU time by 2 s, should user time not advance): a child whose
 * user time its parent checks, whatever share of the spin's CPU time the
 * clock reads cost (under an emulated hypervisor an exit costs far more
 * than the loop between reads). */
static void spin_user(int ms)
{
	long long end = tv(ru(RUSAGE_SELF).ru_utime) + ms * 1000000LL;
	long long cap = ns(CLOCK_PROCESS_CPUTIME_ID) + 2000000000LL;
	while (tv(ru(RUSAGE_SELF).ru_utime) < end && ns(CLOCK_PROCESS_CPUTIME_ID) < cap)
		for (volatile int i = 0; i < 200000; i++)
			;
}

static void yes(const char *what, int c) { printf("%s: %s\n", what, c ? "yes" : "no"); }

static long long thread_spun;

static void *spinner(void *a)
{
	(void)a;
	long long t0 = ns(CLOCK_THREAD_CPUTIME_ID);
	spin(CLOCK_THREAD_CPUTIME_ID, 150);
	struct rusage r = ru(RUSAGE_THREAD);
	thread_spun = ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	yes("thread: RUSAGE_THREAD utime >= 100 ms", tv(r.ru_utime) >= 100000000);
	return NULL;
}

static void *sleeper(void *a)
{
	(void)a;
	long long t0 = ns(CLOCK_THREAD_CPUTIME_ID);
	usleep(100000);
	yes("sleeping thread: its clock advanced < 20 ms", ns(CLOCK_THREAD_CPUTIME_ID) - t0 < 20000000);
	return NULL;
}

int main(void)
{
	/* User time while spinning; little system time. */
	struct rusage a = ru(RUSAGE_SELF);
	long long p0 = ns(CLOCK_PROCESS_CPUTIME_ID), t0 = ns(CLOCK_THREAD_CPUTIME_ID);
	spin(CLOCK_PROCESS_CPUTIME_ID, 300);
	struct rusage b = ru(RUSAGE_SELF);
	long long du = tv(b.ru_utime) - tv(a.ru_utime), ds = tv(b.ru_stime) - tv(a.ru_stime);
	yes("spin 300 ms: utime grew >= 200 ms", du >= 200000000);
	yes("spin 300 ms: stime grew < 100 ms", ds < 100000000);
	yes("spin 300 ms: process clock grew >= 300 ms", ns(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 300000000);
	yes("spin 300 ms: thread clock grew >= 290 ms", ns(CLOCK_THREAD_CPUTIME_ID) - t0 >= 290000000);
	struct rusage th = ru(RUSAGE_THREAD);
	/* (Linux scales a thread's and its process's tick-sampled times apart:
	 * within a few ticks.) */
	yes("RUSAGE_THREAD utime <= RUSAGE_SELF utime + 50 ms", tv(th.ru_utime) <= tv(ru(RUSAGE_SELF).ru_utime) + 50000000);
	yes("RUSAGE_THREAD utime >= 200 ms", tv(th.ru_utime) >= 200000000);

	/* times(2) agrees with getrusage (USER_HZ ticks). */
	struct tms tm;
	clock_t c = times(&tm);
	struct rusage s = ru(RUSAGE_SELF);
	yes("times: returns a tick count", c != (clock_t)-1);
	long long tu = tm.tms_utime * 10000000LL, su = tv(s.ru_utime);
	yes("times: tms_utime within 30 ms of ru_utime", tu - su < 30000000 && su - tu < 30000000);
	yes("times: no children yet", tm.tms_cutime == 0 && tm.tms_cstime == 0);

	/* Sleeping is no CPU time (Python's test_process_time). */
	p0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	usleep(100000);
	yes("sleep 100 ms: process clock grew < 20 ms", ns(CLOCK_PROCESS_CPUTIME_ID) - p0 < 20000000);

	/* A thread's time is its own, and stays in the process when it ends. */
	a = ru(RUSAGE_SELF);
	th = ru(RUSAGE_THREAD);
	pthread_t t;
	pthread_create(&t, NULL, spinner, NULL);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, sleeper, NULL);
	pthread_join(t, NULL);
	b = ru(RUSAGE_SELF);
	struct rusage th2 = ru(RUSAGE_THREAD);
	yes("ended thread's time stays in RUSAGE_SELF", tv(b.ru_utime) - tv(a.ru_utime) >= 100000000);
	yes("ended thread's time not in main's RUSAGE_THREAD", tv(th2.ru_utime) - tv(th.ru_utime) < 50000000);
	yes("the thread's clock saw its spin", thread_spun >= 150000000);

	/* Voluntary switches: waits. */
	a = ru(RUSAGE_SELF);
	for (int i = 0; i < 5; i++)
		usleep(2000);
	b = ru(RUSAGE_SELF);
	yes("5 sleeps: nvcsw grew", b.ru_nvcsw > a.ru_nvcsw);

	/* Page faults, and the resident peak. */
	a = ru(RUSAGE_SELF);
	size_t big = 64 << 20;
	char *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < big; i += PG)
		m[i] = 1;
	b = ru(RUSAGE_SELF);
	yes("touching 64 MiB: minflt grew", b.ru_minflt > a.ru_minflt);
	yes("touching 64 MiB: maxrss >= 64 MiB", b.ru_maxrss >= 65536);
	munmap(m, big);
	b = ru(RUSAGE_SELF);
	yes("after munmap: maxrss still >= 64 MiB (the peak)", b.ru_maxrss >= 65536);

	/* Children: nothing until reaped; wait4 reports the child's use. */
	pid_t child = fork();
	if (child == 0) {
		pid_t g = fork(); /* a grandchild the child reaps */
		if (g == 0) {
			spin(CLOCK_PROCESS_CPUTIME_ID, 100);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		char *cm = mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (size_t i = 0; i < (32u << 20); i += PG)
			cm[i] = 1;
		spin(CLOCK_PROCESS_CPUTIME_ID, 150);
		_exit(0);
	}
	siginfo_t si;
	waitid(P_PID, child, &si, WEXITED | WNOWAIT);
	s = ru(RUSAGE_CHILDREN);
	yes("child exited, not reaped: RUSAGE_CHILDREN zero", tv(s.ru_utime) == 0 && tv(s.ru_stime) == 0);
	struct rusage w;
	int st;
	pid_t r = wait4(child, &st, 0, &w);
	yes("wait4 reaps the child", r == child && WIFEXITED(st));
	yes("wait4 rusage: child's and grandchild's utime >= 200 ms", tv(w.ru_utime) >= 200000000);
	yes("wait4 rusage: maxrss >= 32 MiB", w.ru_maxrss >= 32768);
	s = ru(RUSAGE_CHILDREN);
	yes("RUSAGE_CHILDREN utime >= 200 ms", tv(s.ru_utime) >= 200000000);
	yes("RUSAGE_CHILDREN maxrss >= 32 MiB", s.ru_maxrss >= 32768);
	times(&tm);
	yes("times: tms_cutime >= 20 ticks", tm.tms_cutime >= 20);
	yes("RUSAGE_SELF does not include children", tv(ru(RUSAGE_SELF).ru_utime) < tv(b.ru_utime) + 100000000);

	/* waitid's rusage. */
	child = fork();
	if (child == 0) {
		spin_user(100);
		_exit(3);
	}
	memset(&w, 0, sizeof w);
	long rr = syscall(SYS_waitid, P_PID, child, &si, WEXITED, &w);
	yes("waitid: status 3", rr == 0 && si.si_status == 3);
	yes("waitid rusage: utime >= 70 ms", tv(w.ru_utime) >= 70000000);

	/* A child reaped because SIGCHLD is ignored adds nothing. */
	s = ru(RUSAGE_CHILDREN);
	signal(SIGCHLD, SIG_IGN);
	child = fork();
	if (child == 0) {
		spin(CLOCK_PROCESS_CPUTIME_ID, 100);
		_exit(0);
	}
	rc("wait4 with SIGCHLD ignored", wait4(child, NULL, 0, NULL));
	yes("ignored child's time not in RUSAGE_CHILDREN", tv(ru(RUSAGE_CHILDREN).ru_utime) == tv(s.ru_utime));
	signal(SIGCHLD, SIG_DFL);

	/* Errors. */
	struct rusage x;
	rc("getrusage(5)", syscall(SYS_getrusage, 5, &x));
	rc("getrusage(RUSAGE_BOTH)", syscall(SYS_getrusage, -2, &x));
	rc("getrusage(SELF, NULL)", syscall(SYS_getrusage, RUSAGE_SELF, NULL));
	rc("getrusage(SELF, bad)", syscall(SYS_getrusage, RUSAGE_SELF, (void *)8));
	rc("getrusage(THREAD, kernel address)", syscall(SYS_getrusage, RUSAGE_THREAD, (void *)0xffff800000000000ul));
	rc("times(NULL) ok", syscall(SYS_times, NULL) == -1 ? -1 : 0);
	rc("times(bad)", syscall(SYS_times, (void *)8));
	child = fork();
	if (child == 0)
		_exit(0);
	rc("wait4(bad rusage)", syscall(SYS_wait4, child, NULL, 0, (void *)8));
	rc("wait4 after: the child was reaped", wait4(child, NULL, WNOHANG, NULL));
	rc("clock_gettime(CLOCK_PROCESS_CPUTIME_ID, bad)", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, (void *)8));
	return 0;
}
