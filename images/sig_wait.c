//go:build ignore

/* sig_wait: taking a blocked signal synchronously (sigwaitinfo,
 * sigtimedwait with a timeout), sigqueue with a value, and times(). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, 0);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	siginfo_t si;
	int r = sigwaitinfo(&s, &si);
	printf("first %s code %d pid_ok %d\n", sigabbrev_np(r), si.si_code, si.si_pid == getpid());
	r = sigwaitinfo(&s, &si);
	printf("second %s\n", sigabbrev_np(r));
	struct timespec t = {0, 20000000};
	r = sigtimedwait(&s, &si, &t);
	printf("timeout -> %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
	t.tv_nsec = 2000000000;
	r = sigtimedwait(&s, &si, &t);
	printf("bad timeout -> %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
	union sigval v = {.sival_int = 1234};
	printf("sigqueue -> %d\n", sigqueue(getpid(), SIGUSR1, v));
	r = sigwaitinfo(&s, &si);
	printf("queued %s code_is_queue %d value %d pid_ok %d\n", sigabbrev_np(r), si.si_code == SI_QUEUE,
	       si.si_value.sival_int, si.si_pid == getpid());
	struct tms tm;
	printf("times ok=%d\n", times(&tm) != (clock_t)-1);
	return 0;
}
