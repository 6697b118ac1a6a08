//go:build ignore

/* sig_queue: pending signals queued as Linux queues them. Realtime
 * signals queue every instance with its own siginfo (sigqueue, kill,
 * tgkill), taken in order, lowest signal first; standard signals coalesce.
 * Thread-directed signals stay with their thread; a process-directed one
 * is pending for every thread (sigpending), taken by whichever can: a
 * thread that does not block it (even asleep or spinning), one waiting in
 * sigwaitinfo, one that unblocks it later. RLIMIT_SIGPENDING: EAGAIN for
 * sigqueue and tgkill of a realtime signal over it, the siginfo lost (the
 * signal still sent) otherwise; an ignored signal is discarded and does
 * not count; SIG_IGN flushes queued instances. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define RT(n) (SIGRTMIN + (n))

static const char *sname(int s)
{
	static char b[32];
	if (s >= SIGRTMIN)
		snprintf(b, sizeof b, "SIGRTMIN+%d", s - SIGRTMIN);
	else
		snprintf(b, sizeof b, "SIG%s", sigabbrev_np(s));
	return b;
}

static const char *cname(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	case SI_TIMER: return "SI_TIMER";
	}
	return "?";
}

static sigset_t set_of(int n, ...)
{
	sigset_t s;
	sigemptyset(&s);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		sigaddset(&s, va_arg(ap, int));
	va_end(ap);
	return s;
}

/* Takes every pending signal of s at once, printing each. */
static void drain(const char *who, sigset_t s)
{
	struct timespec z = {0, 0};
	siginfo_t si;
	int n;
	while ((n = sigtimedwait(&s, &si, &z)) > 0)
		printf("%s took %s: %s value %d pid %s\n", who, sname(n), cname(si.si_code), si.si_value.sival_int,
		       si.si_pid == getpid() ? "self" : si.si_pid == 0 ? "0" : "other");
	printf("%s: then %s\n", who, ename(errno));
}

static void show_pending(const char *who, int a, int b, int c)
{
	sigset_t p;
	sigpending(&p);
	printf("%s sigpending:", who);
	printf(" %s %d,", sname(a), sigismember(&p, a));
	printf(" %s %d,", sname(b), sigismember(&p, b));
	printf(" %s %d\n", sname(c), sigismember(&p, c));
}

static int sq(int sig, int v) { return sigqueue(getpid(), sig, (union sigval){.sival_int = v}); }

static volatile int handled[8], hvals[8], nh;
static pid_t main_tid;
static _Atomic pid_t handler_tid;

static void on_sig(int s, siginfo_t *si, void *u)
{
	(void)u;
	if (nh < 8) {
		handled[nh] = s;
		hvals[nh] = si->si_value.sival_int;
		nh++;
	}
	atomic_store(&handler_tid, gettid());
}

static _Atomic int phase;

/* Thread: blocks SIGUSR1, waits for the process's SIGUSR1 in sigwaitinfo. */
static void *waiter(void *a)
{
	(void)a;
	sigset_t s = set_of(1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	atomic_store(&phase, 1);
	siginfo_t si;
	int n = sigwaitinfo(&s, &si);
	printf("waiter thread: sigwaitinfo -> %s %s\n", n > 0 ? sname(n) : ename(errno), n > 0 ? cname(si.si_code) : "");
	return NULL;
}

/* Thread: SIGUSR2 unblocked, asleep (sleeper) or spinning. */
static void *sleeper(void *a)
{
	(void)a;
	sigset_t s = set_of(1, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	atomic_store(&phase, 2);
	struct timespec t = {5, 0};
	int r = nanosleep(&t, NULL);
	printf("sleeping thread: nanosleep -> %s\n", r ? ename(errno) : "0");
	return NULL;
}

static void *spinner(void *a)
{
	(void)a;
	sigset_t s = set_of(1, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	atomic_store(&phase, 3);
	while (!atomic_load(&handler_tid))
		;
	return NULL;
}

/* Thread: sees the process's pending SIGUSR1, then unblocks it. */
static void *unblocker(void *a)
{
	(void)a;
	show_pending("unblocker thread", SIGUSR1, SIGUSR2, RT(0));
	sigset_t s = set_of(1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	printf("unblocker thread: took it: %s\n", atomic_load(&handler_tid) == gettid() ? "yes" : "no");
	return NULL;
}

static pid_t target_tid;
static _Atomic int target_go;

/* Thread: its own queued signal, which main does not see. */
static void *target(void *a)
{
	(void)a;
	target_tid = gettid();
	while (!atomic_load(&target_go))
		usleep(1000);
	show_pending("target thread", RT(1), RT(2), SIGUSR1);
	drain("target thread", set_of(2, RT(1), RT(2)));
	return NULL;
}

int main(void)
{
	main_tid = gettid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP && (s < 32 || s >= SIGRTMIN))
			sigaction(s, &sa, NULL);
	sigset_t all = set_of(8, SIGUSR1, SIGUSR2, RT(0), RT(1), RT(2), RT(3), RT(4), RT(5));
	sigprocmask(SIG_BLOCK, &all, NULL);

	/* Queued instances, in order, lowest signal first; standard ones coalesce. */
	for (int i = 1; i <= 5; i++)
		sq(RT(0), i);
	sq(RT(1), 100);
	sq(SIGUSR1, 7);
	sq(SIGUSR1, 8);
	kill(getpid(), RT(1));
	kill(getpid(), RT(1));
	syscall(SYS_tgkill, getpid(), gettid(), RT(1));
	show_pending("main", SIGUSR1, RT(0), RT(1));
	drain("main", all);

	/* A handler runs once per instance, in order. */
	sq(RT(2), 21);
	sq(RT(2), 22);
	sq(RT(2), 23);
	nh = 0;
	sigset_t one = set_of(1, RT(2));
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	sigprocmask(SIG_BLOCK, &one, NULL);
	for (int i = 0; i < nh; i++)
		printf("handler %d: %s value %d\n", i, sname(handled[i]), hvals[i]);

	/* Thread-directed signals stay with their thread. */
	pthread_t t;
	pthread_create(&t, NULL, target, NULL);
	while (!target_tid)
		usleep(1000);
	pthread_sigqueue(t, RT(1), (union sigval){.sival_int = 11});
	pthread_sigqueue(t, RT(1), (union sigval){.sival_int = 12});
	syscall(SYS_tgkill, getpid(), target_tid, RT(2));
	show_pending("main", RT(1), RT(2), SIGUSR1);
	atomic_store(&target_go, 1);
	pthread_join(t, NULL);

	/* A process signal is pending for every thread; the first to unblock takes it. */
	kill(getpid(), SIGUSR1);
	show_pending("main", SIGUSR1, SIGUSR2, RT(0));
	atomic_store(&handler_tid, 0);
	pthread_create(&t, NULL, unblocker, NULL);
	pthread_join(t, NULL);
	show_pending("main after", SIGUSR1, SIGUSR2, RT(0));

	/* A thread in sigwaitinfo takes the process signal although it blocks it. */
	atomic_store(&phase, 0);
	pthread_create(&t, NULL, waiter, NULL);
	while (atomic_load(&phase) != 1)
		usleep(1000);
	usleep(50000);
	kill(getpid(), SIGUSR1);
	pthread_join(t, NULL);

	/* A thread that does not block it takes it: asleep, then spinning. */
	atomic_store(&handler_tid, 0);
	pthread_create(&t, NULL, sleeper, NULL);
	while (atomic_load(&phase) != 2)
		usleep(1000);
	usleep(50000);
	pid_t sleeper_tid = 0;
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	sleeper_tid = atomic_load(&handler_tid);
	printf("SIGUSR2 taken by the sleeping thread, not main: %s\n", sleeper_tid && sleeper_tid != main_tid ? "yes" : "no");
	atomic_store(&handler_tid, 0);
	pthread_create(&t, NULL, spinner, NULL);
	while (atomic_load(&phase) != 3)
		usleep(1000);
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	printf("SIGUSR2 taken by the spinning thread, not main: %s\n",
	       atomic_load(&handler_tid) && atomic_load(&handler_tid) != main_tid ? "yes" : "no");

	/* SIG_IGN flushes queued instances; an ignored unblocked signal is discarded. */
	sq(RT(4), 1);
	sq(RT(4), 2);
	show_pending("queued twice", RT(4), RT(3), RT(5));
	signal(RT(4), SIG_IGN);
	show_pending("after SIG_IGN", RT(4), RT(3), RT(5));
	sigset_t s4 = set_of(1, RT(4));
	sigprocmask(SIG_UNBLOCK, &s4, NULL);
	printf("sigqueue to an ignored, unblocked signal -> %d\n", sq(RT(4), 3));
	show_pending("after", RT(4), RT(3), RT(5));

	/* RLIMIT_SIGPENDING. Linux counts the signals queued for every process
	 * of the user, so how many this one may queue depends on what others
	 * hold (kshim: the guest's); only that it reaches the limit is shown. */
	struct rlimit rl = {64, 64};
	rc("setrlimit(RLIMIT_SIGPENDING, 64)", setrlimit(RLIMIT_SIGPENDING, &rl));
	int n = 0;
	while (n < 100 && sq(RT(0), n + 1) == 0)
		n++;
	printf("sigqueue(SIGRTMIN) until it fails -> %s, after 1 to 64: %s\n", ename(errno), n >= 1 && n <= 64 ? "yes" : "no");
	printf("sigqueue to an ignored, unblocked signal at the limit -> %s\n", sq(RT(4), 4) ? ename(errno) : "0");
	rc("tgkill(SIGRTMIN+1) at the limit", syscall(SYS_tgkill, getpid(), gettid(), RT(1)));
	rc("kill(SIGRTMIN+3) at the limit", kill(getpid(), RT(3)));
	printf("sigqueue(SIGUSR2) at the limit -> %s\n", sq(SIGUSR2, 77) ? ename(errno) : "0");
	{
		struct timespec z = {0, 0};
		siginfo_t si;
		int got, rt0 = 0, inorder = 1;
		while ((got = sigtimedwait(&all, &si, &z)) > 0) {
			if (got == RT(0)) {
				inorder &= si.si_value.sival_int == ++rt0;
				continue;
			}
			printf("main took %s: %s value %d pid %s\n", sname(got), cname(si.si_code), si.si_value.sival_int,
			       si.si_pid == getpid() ? "self" : si.si_pid == 0 ? "0" : "other");
		}
		printf("main took every SIGRTMIN queued, in order: %s\n", rt0 == n && inorder ? "yes" : "no");
	}
	printf("sigqueue(SIGRTMIN) after draining -> %s\n", sq(RT(0), 9) ? ename(errno) : "0");
	drain("main", all);

	/* Errors. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	rc("rt_sigqueueinfo(sig 65)", syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si));
	rc("rt_sigqueueinfo(bad info)", syscall(SYS_rt_sigqueueinfo, getpid(), RT(0), (void *)8));
	rc("rt_tgsigqueueinfo(tid 0)", syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, RT(0), &si));
	rc("rt_tgsigqueueinfo(other process's tid)", syscall(SYS_rt_tgsigqueueinfo, getpid(), 3999999, RT(0), &si));
	rc("rt_sigpending(size 9)", syscall(SYS_rt_sigpending, &si, 9));
	rc("rt_sigpending(bad)", syscall(SYS_rt_sigpending, (void *)8, 8));
	return 0;
}
