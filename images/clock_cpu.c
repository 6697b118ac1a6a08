//go:build ignore

/* clock_cpu: CPU-time clocks named by pid and tid (clock_getcpuclockid,
 * pthread_getcpuclockid): the caller's, a child's, a thread of its own;
 * a thread of another process, a pid that does not exist and fd clocks are
 * EINVAL (ESRCH from glibc's clock_getcpuclockid). Values are not printed,
 * only that they read and do not go back. Prints facts only. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PROCESS_CLOCK(pid, which) ((clockid_t)((~(unsigned)(pid)) << 3) | (which))
#define THREAD_CLOCK(tid, which) (PROCESS_CLOCK(tid, which) | 4)

static long long ns(clockid_t c, int *err)
{
	struct timespec ts;
	*err = clock_gettime(c, &ts) == 0 ? 0 : errno;
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void readable(const char *what, clockid_t c)
{
	int e1, e2;
	long long a = ns(c, &e1);
	for (volatile int i = 0; i < 2000000; i++)
		;
	long long b = ns(c, &e2);
	if (e1 || e2)
		printf("%s -> %s\n", what, ename(e1 ? e1 : e2));
	else
		printf("%s -> reads, %s\n", what, b >= a ? "not back" : "WENT BACK");
}

static volatile pid_t thread_tid;
static volatile int stop;

static void *spin(void *a)
{
	(void)a;
	thread_tid = gettid();
	while (!stop)
		;
	return NULL;
}

int main(void)
{
	clockid_t c;
	int r = clock_getcpuclockid(0, &c);
	printf("clock_getcpuclockid(0) -> %s\n", r ? ename(r) : "0");
	readable("  that clock", c);
	r = clock_getcpuclockid(getpid(), &c);
	printf("clock_getcpuclockid(getpid()) -> %s\n", r ? ename(r) : "0");
	readable("  that clock", c);
	readable("CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID);
	readable("CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID);
	readable("thread clock of tid 0", THREAD_CLOCK(0, 2));
	readable("thread clock of own tid", THREAD_CLOCK(gettid(), 2));
	readable("process clock, PROF", PROCESS_CLOCK(0, 0));
	readable("process clock, VIRT", PROCESS_CLOCK(0, 1));

	pthread_t t;
	pthread_create(&t, NULL, spin, NULL);
	while (!thread_tid)
		;
	pthread_getcpuclockid(t, &c);
	readable("pthread_getcpuclockid(other thread)", c);
	readable("thread clock of the other thread", THREAD_CLOCK(thread_tid, 2));
	readable("process clock by the other thread's tid", PROCESS_CLOCK(thread_tid, 2));
	stop = 1;
	pthread_join(t, NULL);

	pid_t child = fork();
	if (child == 0) {
		for (;;)
			;
	}
	r = clock_getcpuclockid(child, &c);
	printf("clock_getcpuclockid(child) -> %s\n", r ? ename(r) : "0");
	readable("  that clock", c);
	readable("thread clock of the child's tid", THREAD_CLOCK(child, 2));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	r = clock_getcpuclockid(child, &c);
	printf("clock_getcpuclockid(reaped child) -> %s\n", r ? ename(r) : "0");
	r = clock_getcpuclockid(3999999, &c);
	printf("clock_getcpuclockid(3999999) -> %s\n", r ? ename(r) : "0");
	readable("clock type 3 (an fd clock, fd 1)", PROCESS_CLOCK(1, 3));
	readable("clock type 3 (an fd clock, fd 99)", PROCESS_CLOCK(99, 3));
	struct timespec res;
	r = clock_getres(PROCESS_CLOCK(0, 2), &res);
	printf("clock_getres(own process clock) -> %s, %ld ns\n", r ? ename(errno) : "0", res.tv_nsec);
	r = clock_getres(THREAD_CLOCK(child, 2), &res);
	printf("clock_getres(reaped child's thread clock) -> %s\n", r ? ename(errno) : "0");
	return 0;
}
