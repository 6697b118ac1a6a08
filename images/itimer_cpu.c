//go:build ignore

/* itimer_cpu: timers on CPU-time clocks. setitimer/getitimer with
 * ITIMER_VIRTUAL (user time) and ITIMER_PROF (user and system): they fire
 * while the process spins, not while it sleeps, repeat at their interval,
 * keep their interval when disarmed, and report the old value; a
 * process-directed SIGPROF reaches a spinning thread. POSIX timers on
 * CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID (only that thread's
 * time counts), a child's process clock, TIMER_ABSTIME, overruns, and the
 * errors; clock_nanosleep on CPU clocks. Prints facts with wide margins (timings vary). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

static volatile int stop;

/* Spins in user code until *flag is set or the clock c advanced ms ms. */
static void spin_until(volatile sig_atomic_t *flag, clockid_t c, int ms)
{
	long long end = ns(c) + ms * 1000000LL;
	while (!*flag && ns(c) < end)
		for (volatile int i = 0; i < 100000 && !*flag; i++)
			;
}

static void yes(const char *what, int c) { printf("%s: %s\n", what, c ? "yes" : "no"); }

static volatile sig_atomic_t vt_count, prof_count, rt_count, rt_code, rt_val, rt_thread_other;
static volatile long long first_vt_user;
static pid_t main_tid;

static void on_vtalrm(int s)
{
	(void)s;
	if (vt_count == 0)
		first_vt_user = ns(CLOCK_PROCESS_CPUTIME_ID);
	if (++vt_count == 3) {
		struct itimerval z = {{0, 0}, {0, 0}};
		setitimer(ITIMER_VIRTUAL, &z, NULL);
	}
}

static void on_prof(int s)
{
	(void)s;
	/* Which thread first: main polls prof_count and then reads this,
	 * and may run between two stores of the handler's thread (seen
	 * with both vCPUs of an emulated machine on one host thread). */
	if (gettid() != main_tid)
		rt_thread_other = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	prof_count++;
}

static void on_rt(int s, siginfo_t *si, void *u)
{
	(void)s;
	(void)u;
	rt_count++;
	rt_code = si->si_code;
	rt_val = si->si_value.sival_int;
}

static void on_alrm(int s) { (void)s; }

static const char *nsl(int r) { return r ? ename(r) : "0"; }

static volatile long long spun; /* the spinner's own CPU time, ns */

static void *spinner(void *a)
{
	(void)a;
	while (!stop)
		;
	spun = ns(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static void show_itv(const char *what, int which)
{
	struct itimerval v;
	if (getitimer(which, &v)) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: interval %ld.%06ld, value %s\n", what, (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec,
	       v.it_value.tv_sec || v.it_value.tv_usec ? "armed" : "0");
}

static timer_t mk(clockid_t c, int sig, int val, int *err)
{
	struct sigevent ev = {0};
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_int = val;
	timer_t t = 0;
	*err = timer_create(c, &ev, &t) ? errno : 0;
	return t;
}

static void arm(timer_t t, int flags, long long value_ns, long long interval_ns)
{
	struct itimerspec s = {{interval_ns / 1000000000, interval_ns % 1000000000}, {value_ns / 1000000000, value_ns % 1000000000}};
	if (timer_settime(t, flags, &s, NULL))
		printf("timer_settime -> %s\n", ename(errno));
}

int main(void)
{
	main_tid = gettid();
	signal(SIGVTALRM, on_vtalrm);
	signal(SIGPROF, on_prof);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);

	show_itv("ITIMER_VIRTUAL at start", ITIMER_VIRTUAL);
	show_itv("ITIMER_PROF at start", ITIMER_PROF);

	/* ITIMER_VIRTUAL: three expiries while spinning, then the handler disarms it. */
	long long u0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	struct itimerval v = {{0, 50000}, {0, 100000}};
	rc("setitimer(ITIMER_VIRTUAL, 100 ms, 50 ms)", setitimer(ITIMER_VIRTUAL, &v, NULL));
	static volatile sig_atomic_t never;
	long long w0 = ns(CLOCK_MONOTONIC);
	while (vt_count < 3 && ns(CLOCK_MONOTONIC) - w0 < 20000000000LL)
		spin_until(&never, CLOCK_PROCESS_CPUTIME_ID, 10);
	printf("SIGVTALRM count: %d\n", (int)vt_count);
	yes("first SIGVTALRM after >= 50 ms of CPU time (100 ms asked; Linux samples user time at ticks)", first_vt_user - u0 >= 50000000);
	show_itv("ITIMER_VIRTUAL after the handler disarmed it", ITIMER_VIRTUAL);

	/* Not while sleeping. */
	v = (struct itimerval){{0, 0}, {0, 50000}};
	vt_count = 0;
	setitimer(ITIMER_VIRTUAL, &v, NULL);
	usleep(300000);
	yes("sleeping 300 ms: no SIGVTALRM", vt_count == 0);
	getitimer(ITIMER_VIRTUAL, &v);
	yes("sleeping 300 ms: ITIMER_VIRTUAL still > 40 ms", v.it_value.tv_sec == 0 && v.it_value.tv_usec > 40000);

	/* The old value; the interval stays when the value is 0. */
	v = (struct itimerval){{0, 500000}, {1, 0}};
	setitimer(ITIMER_VIRTUAL, &v, NULL);
	struct itimerval old;
	v = (struct itimerval){{2, 0}, {0, 0}};
	setitimer(ITIMER_VIRTUAL, &v, &old);
	printf("old interval %ld.%06ld\n", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
	yes("old value in (0.9 s, 1.1 s]", (old.it_value.tv_sec == 0 && old.it_value.tv_usec > 900000) ||
					    (old.it_value.tv_sec == 1 && old.it_value.tv_usec <= 100000));
	show_itv("ITIMER_VIRTUAL set with value 0, interval 2 s", ITIMER_VIRTUAL);
	v = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_VIRTUAL, &v, &old);
	printf("old after value 0: interval %ld.%06ld, value %ld.%06ld\n", (long)old.it_interval.tv_sec,
	       (long)old.it_interval.tv_usec, (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

	/* ITIMER_PROF: process-directed; with main blocking it, a spinning thread takes it. */
	pthread_t t;
	pthread_create(&t, NULL, spinner, NULL);
	sigset_t m, om;
	sigemptyset(&m);
	sigaddset(&m, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &m, &om);
	v = (struct itimerval){{0, 0}, {0, 100000}};
	rc("setitimer(ITIMER_PROF, 100 ms)", setitimer(ITIMER_PROF, &v, NULL));
	w0 = ns(CLOCK_MONOTONIC);
	while (!prof_count && ns(CLOCK_MONOTONIC) - w0 < 20000000000LL)
		usleep(5000);
	yes("SIGPROF while a thread spins and main sleeps", prof_count == 1);
	yes("taken by the thread that does not block it", rt_thread_other);
	stop = 1;
	pthread_join(t, NULL);
	pthread_sigmask(SIG_SETMASK, &om, NULL);
	show_itv("ITIMER_PROF after firing once", ITIMER_PROF);

	/* POSIX timer on CLOCK_PROCESS_CPUTIME_ID. */
	int err;
	timer_t pt = mk(CLOCK_PROCESS_CPUTIME_ID, SIGRTMIN, 42, &err);
	printf("timer_create(CLOCK_PROCESS_CPUTIME_ID) -> %s\n", err ? ename(err) : "0");
	arm(pt, 0, 100000000, 0);
	struct itimerspec cur;
	timer_gettime(pt, &cur);
	yes("timer_gettime: armed, <= 100 ms", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 100000000);
	usleep(200000);
	yes("not fired while sleeping", rt_count == 0);
	spin_until(&rt_count, CLOCK_MONOTONIC, 20000);
	printf("fired: count %d, si_code %s, si_value %d\n", (int)rt_count, rt_code == SI_TIMER ? "SI_TIMER" : "?", (int)rt_val);
	timer_gettime(pt, &cur);
	yes("timer_gettime after: disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* TIMER_ABSTIME on the process clock. */
	rt_count = 0;
	arm(pt, TIMER_ABSTIME, ns(CLOCK_PROCESS_CPUTIME_ID) + 50000000, 0);
	spin_until(&rt_count, CLOCK_MONOTONIC, 20000);
	yes("TIMER_ABSTIME: fired", rt_count == 1);
	rt_count = 0;
	arm(pt, TIMER_ABSTIME, 1, 0); /* long past: at once */
	spin_until(&rt_count, CLOCK_MONOTONIC, 20000);
	yes("TIMER_ABSTIME in the past: fired", rt_count == 1);

	/* Overruns while the signal is blocked. */
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &m, NULL);
	arm(pt, 0, 1000000, 1000000);
	spin_until(&never, CLOCK_PROCESS_CPUTIME_ID, 60);
	arm(pt, 0, 0, 0);
	siginfo_t si;
	struct timespec z = {0, 0};
	/* Linux 6.13 on drops a disarmed timer's pending signal: nothing to take */
	int got = sigtimedwait(&m, &si, &z);
	printf("pending after disarm: %s\n", got < 0 ? ename(errno) : "a signal");
	arm(pt, 0, 1000000, 1000000);
	spin_until(&never, CLOCK_PROCESS_CPUTIME_ID, 60);
	got = sigtimedwait(&m, &si, &z);
	arm(pt, 0, 0, 0);
	yes("interval 1 ms, 60 ms spun with it blocked: overrun >= 10", got == SIGRTMIN && si.si_overrun >= 10);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	timer_delete(pt);

	/* 1 ns intervals, the signal blocked: no storm, the expiries are overruns. */
	sigaddset(&m, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	timer_t fast[2];
	fast[0] = mk(CLOCK_MONOTONIC, SIGRTMIN, 1, &err);
	fast[1] = mk(CLOCK_PROCESS_CPUTIME_ID, SIGRTMIN + 1, 2, &err);
	arm(fast[0], 0, 1, 1);
	arm(fast[1], 0, 1, 1);
	long long c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	usleep(100000);
	spin_until(&never, CLOCK_PROCESS_CPUTIME_ID, 50);
	yes("1 ns timers: the process used < 150 ms of CPU in 100 ms asleep and 50 ms spinning",
	    ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < 150000000);
	/* (Each is re-armed when its signal is taken: take each alone.) */
	sigset_t only;
	sigemptyset(&only);
	sigaddset(&only, SIGRTMIN);
	got = sigtimedwait(&only, &si, &z);
	yes("1 ns CLOCK_MONOTONIC timer: a signal, overrun > 1000", got == SIGRTMIN && si.si_overrun > 1000);
	sigemptyset(&only);
	sigaddset(&only, SIGRTMIN + 1);
	got = sigtimedwait(&only, &si, &z);
	yes("1 ns CPU-time timer: a signal, overrun > 1000", got == SIGRTMIN + 1 && si.si_overrun > 1000);
	timer_delete(fast[0]);
	timer_delete(fast[1]);
	while (sigtimedwait(&m, &si, &z) > 0) /* one may have come since */
		;
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	sigdelset(&m, SIGRTMIN + 1);

	/* CLOCK_THREAD_CPUTIME_ID counts the creating thread only. */
	rt_count = 0;
	stop = 0;
	timer_t tt = mk(CLOCK_THREAD_CPUTIME_ID, SIGRTMIN, 7, &err);
	printf("timer_create(CLOCK_THREAD_CPUTIME_ID) -> %s\n", err ? ename(err) : "0");
	long long own0 = ns(CLOCK_THREAD_CPUTIME_ID);
	arm(tt, 0, 50000000, 0);
	pthread_create(&t, NULL, spinner, NULL);
	usleep(300000);
	/* Fired only if this thread's own clock got there: the thread that
	 * makes another may be charged for it (kshim's clone under emulated
	 * SVM on a loaded host took that long once), never for its spinning. */
	long long own = ns(CLOCK_THREAD_CPUTIME_ID) - own0;
	yes("thread timer: another thread's spinning does not fire it", rt_count == 0 || own >= 50000000);
	stop = 1;
	pthread_join(t, NULL);
	yes("thread clock: this thread's is below the spinner's", own < spun);
	spin_until(&rt_count, CLOCK_MONOTONIC, 20000);
	printf("thread timer fired once its thread spun: count %d, si_value %d\n", (int)rt_count, (int)rt_val);
	timer_delete(tt);

	/* A timer on a child's process clock: the child spins, the parent sleeps. */
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			;
	}
	clockid_t cc;
	clock_getcpuclockid(child, &cc);
	rt_count = 0;
	timer_t ct = mk(cc, SIGRTMIN, 9, &err);
	printf("timer_create(child's clock) -> %s\n", err ? ename(err) : "0");
	arm(ct, 0, 100000000, 0);
	w0 = ns(CLOCK_MONOTONIC);
	while (!rt_count && ns(CLOCK_MONOTONIC) - w0 < 20000000000LL)
		usleep(5000);
	printf("child's clock timer fired: count %d, si_value %d\n", (int)rt_count, (int)rt_val);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	timer_delete(ct);

	/* clock_nanosleep on CPU clocks: the process's advances while a thread spins. */
	struct timespec d = {0, 100000000}, rem;
	printf("clock_nanosleep(CLOCK_THREAD_CPUTIME_ID) -> %s\n", nsl(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL)));
	printf("clock_nanosleep(own thread clock by tid) -> %s\n",
	       nsl(clock_nanosleep((clockid_t)((~(unsigned)gettid()) << 3 | 6), 0, &d, NULL)));
	stop = 0;
	pthread_create(&t, NULL, spinner, NULL);
	long long p0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	printf("clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 100 ms) with a thread spinning -> %s\n",
	       nsl(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL)));
	yes("  the process clock advanced >= 100 ms", ns(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 100000000);
	struct timespec at;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &at);
	at.tv_nsec += 50000000;
	if (at.tv_nsec >= 1000000000)
		at.tv_sec++, at.tv_nsec -= 1000000000;
	printf("clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME +50 ms) -> %s\n",
	       nsl(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &at, NULL)));
	stop = 1;
	pthread_join(t, NULL);
	signal(SIGALRM, on_alrm);
	alarm(1);
	struct timespec ten = {10, 0};
	int r = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &ten, &rem);
	printf("clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 10 s) alone, SIGALRM after 1 s -> %s\n", nsl(r));
	yes("  remaining > 9 s", rem.tv_sec >= 9);
	printf("clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, bad) -> %s\n",
	       nsl(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, (void *)8, NULL)));
	d.tv_nsec = 1000000000;
	printf("clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, nsec 1e9) -> %s\n", nsl(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL)));

	/* Errors. */
	mk((clockid_t)((~(unsigned)3999999) << 3 | 2), SIGRTMIN, 0, &err);
	printf("timer_create(clock of pid 3999999) -> %s\n", err ? ename(err) : "0");
	mk((clockid_t)((~(unsigned)1) << 3 | 3), SIGRTMIN, 0, &err);
	printf("timer_create(fd clock) -> %s\n", err ? ename(err) : "0");
	mk((clockid_t)((~(unsigned)child) << 3 | 6), SIGRTMIN, 0, &err);
	printf("timer_create(reaped child's thread clock) -> %s\n", err ? ename(err) : "0");
	rc("setitimer(5)", syscall(SYS_setitimer, 5, &v, NULL));
	rc("setitimer(ITIMER_VIRTUAL, bad)", syscall(SYS_setitimer, ITIMER_VIRTUAL, (void *)8, NULL));
	v = (struct itimerval){{0, 0}, {0, 1000000}};
	rc("setitimer(ITIMER_PROF, usec 1000000)", syscall(SYS_setitimer, ITIMER_PROF, &v, NULL));
	v = (struct itimerval){{0, 0}, {-1, 0}};
	rc("setitimer(ITIMER_VIRTUAL, sec -1)", syscall(SYS_setitimer, ITIMER_VIRTUAL, &v, NULL));
	v = (struct itimerval){{0, 0}, {5, 0}};
	rc("setitimer(ITIMER_PROF, 5 s, old bad)", syscall(SYS_setitimer, ITIMER_PROF, &v, (void *)8));
	show_itv("ITIMER_PROF after that", ITIMER_PROF);
	rc("getitimer(ITIMER_VIRTUAL, bad)", syscall(SYS_getitimer, ITIMER_VIRTUAL, (void *)8));
	rc("getitimer(7)", syscall(SYS_getitimer, 7, &v));
	return 0;
}
