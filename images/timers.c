//go:build ignore

/* timers: alarm, setitimer/getitimer, POSIX timers (signal, thread-id,
 * none, glibc's SIGEV_THREAD, absolute times, overruns) and timerfd, and
 * what execve and fork do to them.  Prints facts, never times or ids. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static volatile sig_atomic_t alrm;
static volatile int last_code, last_value;
/* The first signal taken while ov_watch is set: its si_overrun, and
 * timer_getoverrun in its handler (a periodic timer's later signals,
 * which a slow machine takes before main prints, have fewer). */
static timer_t ov_timer;
static volatile int ov_watch, ov_seen, ov_si, ov_get;

static void on_alrm(int sig) { (void)sig; alrm++; }
static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
	if (ov_watch && !ov_seen) {
		ov_seen = 1;
		ov_si = si->si_overrun;
		ov_get = timer_getoverrun(ov_timer);
	}
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static pid_t gettid_(void) { return syscall(SYS_gettid); }
static volatile int thread_hit;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void on_thread(union sigval v)
{
	pthread_mutex_lock(&mu);
	thread_hit = v.sival_int;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static volatile pid_t target_tid;
static void *waiter(void *arg)
{
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + 1);
	target_tid = gettid_();
	siginfo_t si;
	int sig = sigwaitinfo(&s, &si);
	printf("thread-id timer: %s in the target thread, code SI_TIMER %s\n", sig == SIGRTMIN + 1 ? "signal" : "no signal",
	       si.si_code == SI_TIMER ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, 0, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
		unsigned left = alarm(0);
		printf("after exec: alarm left %s\n", left >= 28 && left <= 30 ? "kept" : "lost");
		timer_t id = (timer_t)(intptr_t)atoi(argv[2]);
		show("after exec: timer_delete(old timer)", timer_delete(id));
		return 0;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sigaction(SIGALRM, &sa, 0);

	/* alarm */
	alarm(5);
	printf("alarm(0) after alarm(5): %u\n", alarm(0));
	printf("alarm(0) again: %u\n", alarm(0));
	alarm(1);
	pause();
	printf("alarm fired: %d\n", (int)alrm);

	/* setitimer, getitimer */
	alrm = 0;
	struct itimerval it = {{0, 10000}, {0, 20000}}, old, cur;
	show("setitimer(ITIMER_REAL, 20ms then 10ms)", setitimer(ITIMER_REAL, &it, 0));
	while (alrm < 5)
		pause();
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer: interval %ld us, running %s\n", (long)cur.it_interval.tv_usec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 10000 ? "yes" : "no");
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, &old);
	printf("old interval %ld us\n", (long)old.it_interval.tv_usec);
	getitimer(ITIMER_REAL, &cur);
	printf("disarmed: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? "yes" : "no");
	show("setitimer(bad which)", setitimer(7, &it, 0));
	it.it_value.tv_usec = 1000000;
	show("setitimer(usec 1000000)", setitimer(ITIMER_REAL, &it, 0));

	/* POSIX timer: a signal with a value */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, 0);
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 42;
	timer_t t1;
	show("timer_create(MONOTONIC, SIGRTMIN)", timer_create(CLOCK_MONOTONIC, &ev, &t1));
	sigset_t set, prev;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, &prev);
	struct itimerspec ts = {{0, 0}, {0, 10000000}}, cts;
	show("timer_settime(10ms)", timer_settime(t1, 0, &ts, 0));
	siginfo_t si;
	int sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s, SI_TIMER %s, value %d\n", sig == SIGRTMIN ? "SIGRTMIN" : "other",
	       si.si_code == SI_TIMER ? "yes" : "no", si.si_value.sival_int);
	timer_gettime(t1, &cts);
	printf("one-shot done: %s\n", cts.it_value.tv_sec == 0 && cts.it_value.tv_nsec == 0 ? "yes" : "no");

	/* overruns: expiries while the signal stays blocked. Its first
	 * expiry is waited for (pending) before the 20 ms that make the
	 * overruns: on a slow machine (an emulated one) the first expiry
	 * may come later than any fixed sleep, and a signal taken right
	 * after it has no overrun. */
	ts = (struct itimerspec){{0, 1000000}, {0, 1000000}};
	timer_settime(t1, 0, &ts, 0);
	sigset_t first;
	for (int i = 0; i < 5000; i++) {
		sigpending(&first);
		if (sigismember(&first, SIGRTMIN))
			break;
		msleep(1);
	}
	msleep(20);
	/* Counted at delivery: the pending signal's overruns are not yet the
	 * timer's (the last one taken, the one-shot's, had none). */
	printf("timer_getoverrun while its signal is pending: %d\n", timer_getoverrun(t1));
	ov_timer = t1;
	ov_watch = 1;
	sigprocmask(SIG_SETMASK, &prev, 0);
	ov_watch = 0;
	printf("handler: SI_TIMER %s, overrun > 0 %s, timer_getoverrun > 0 %s\n", last_code == SI_TIMER ? "yes" : "no",
	       ov_si > 0 ? "yes" : "no", ov_get > 0 ? "yes" : "no");
	/* Re-arming drops a signal still pending (Linux 6.13 on). */
	sigprocmask(SIG_BLOCK, &set, &prev);
	ts = (struct itimerspec){{0, 0}, {0, 1000000}};
	timer_settime(t1, 0, &ts, 0);
	msleep(20);
	ts = (struct itimerspec){{0, 0}, {0, 0}};
	timer_settime(t1, 0, &ts, 0);
	sigset_t pend;
	sigpending(&pend);
	printf("pending after disarm: %s\n", sigismember(&pend, SIGRTMIN) ? "yes" : "no");
	sigprocmask(SIG_SETMASK, &prev, 0);

	/* absolute time on CLOCK_REALTIME */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 20000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	timer_t t2;
	ev.sigev_value.sival_int = 7;
	timer_create(CLOCK_REALTIME, &ev, &t2);
	ts = (struct itimerspec){{0, 0}, now};
	last_value = 0;
	show("timer_settime(TIMER_ABSTIME, now+20ms)", timer_settime(t2, TIMER_ABSTIME, &ts, 0));
	while (last_value != 7)
		pause();
	printf("absolute timer fired\n");
	show("timer_delete", timer_delete(t2));
	show("timer_delete again", timer_delete(t2));

	/* SIGEV_NONE: nothing sent, time still runs down */
	timer_t t3;
	ev.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_MONOTONIC, &ev, &t3);
	ts = (struct itimerspec){{0, 0}, {5, 0}};
	timer_settime(t3, 0, &ts, 0);
	msleep(20);
	timer_gettime(t3, &cts);
	printf("SIGEV_NONE counting down: %s\n", cts.it_value.tv_sec == 4 ? "yes" : "no");

	/* SIGEV_THREAD_ID to one thread */
	pthread_t th;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, 0);
	pthread_create(&th, 0, waiter, 0);
	while (!target_tid)
		msleep(1);
	timer_t t4;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 1;
	ev._sigev_un._tid = target_tid;
	show("timer_create(SIGEV_THREAD_ID)", timer_create(CLOCK_MONOTONIC, &ev, &t4));
	ts = (struct itimerspec){{0, 0}, {0, 5000000}};
	timer_settime(t4, 0, &ts, 0);
	pthread_join(th, 0);
	ev._sigev_un._tid = 0x3ffffff0;
	show("timer_create(SIGEV_THREAD_ID, no such thread)", timer_create(CLOCK_MONOTONIC, &ev, &t4));

	/* glibc's SIGEV_THREAD */
	timer_t t5;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD;
	ev.sigev_notify_function = on_thread;
	ev.sigev_value.sival_int = 99;
	show("timer_create(SIGEV_THREAD)", timer_create(CLOCK_MONOTONIC, &ev, &t5));
	ts = (struct itimerspec){{0, 0}, {0, 5000000}};
	timer_settime(t5, 0, &ts, 0);
	pthread_mutex_lock(&mu);
	while (!thread_hit)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	printf("SIGEV_THREAD callback: %d\n", thread_hit);

	/* errors */
	show("timer_create(bad clock)", timer_create(99, 0, &t4));
	ts = (struct itimerspec){{0, 0}, {0, -1}};
	show("timer_settime(negative nsec)", timer_settime(t1, 0, &ts, 0));
	show("timer_gettime(bad id)", timer_gettime((timer_t)(intptr_t)12345, &cts));

	/* timerfd */
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	printf("timerfd_create: %s\n", tfd >= 0 ? "ok" : ename(errno));
	uint64_t n;
	show("read before expiry", read(tfd, &n, 8) < 0 ? -1 : 0);
	ts = (struct itimerspec){{0, 10000000}, {0, 10000000}};
	show("timerfd_settime(10ms, 10ms)", timerfd_settime(tfd, 0, &ts, 0));
	struct pollfd pfd = {tfd, POLLIN, 0};
	printf("poll: %d\n", poll(&pfd, 1, 1000));
	printf("read: %s\n", read(tfd, &n, 8) == 8 && n >= 1 ? "count >= 1" : "bad");
	struct itimerspec g;
	timerfd_gettime(tfd, &g);
	printf("timerfd_gettime interval %ld ns\n", g.it_interval.tv_nsec);
	show("timerfd_create(bad clock)", timerfd_create(99, 0));
	show("timerfd_create(bad flags)", timerfd_create(CLOCK_MONOTONIC, 0x10));
	show("timerfd_settime on a pipe", timerfd_settime(0, 0, &ts, 0));
	close(tfd);

	/* fork: the child has no alarm; exec: alarm kept, POSIX timers gone */
	alarm(30);
	pid_t c = fork();
	if (c == 0) {
		printf("child: alarm left %u\n", alarm(0));
		_exit(0);
	}
	waitpid(c, 0, 0);
	char idbuf[16];
	snprintf(idbuf, sizeof idbuf, "%d", (int)(intptr_t)t1);
	char *args[] = {argv[0], "after-exec", idbuf, 0};
	execv("/proc/self/exe", args);
	perror("execv");
	return 1;
}
