//go:build ignore

/* signal: delivery of a self-sent signal to a handler (raise -> tgkill),
 * a blocked signal staying pending until unblocked, sigreturn restoring
 * registers, SA_RESETHAND, SIG_IGN, and kill(getpid(), 0). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static volatile sig_atomic_t hits, last_sig, last_code, from_self;

static void h(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	from_self = si->si_pid == getpid();
}

int main(void)
{
	set_handler(SIGUSR1, h, 0);

	/* Live values across the handler must survive sigreturn. */
	volatile long a = 11, b = 22;
	volatile double d = 2.5;
	int r = raise(SIGUSR1);
	printf("raise=%d hits=%d sig=%s code_tkill=%d from_self=%d\n", r, (int)hits,
	       sigabbrev_np(last_sig), last_code == SI_TKILL, (int)from_self);
	printf("regs_preserved=%d\n", a == 11 && b == 22 && d == 2.5);

	r = kill(getpid(), SIGUSR1);
	printf("kill=%d hits=%d code_user=%d\n", r, (int)hits, last_code == SI_USER);

	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	sigpending(&pend);
	printf("blocked: hits=%d pending=%d\n", (int)hits, sigismember(&pend, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigpending(&pend);
	printf("unblocked: hits=%d pending=%d\n", (int)hits, sigismember(&pend, SIGUSR1));

	signal(SIGUSR2, SIG_IGN);
	raise(SIGUSR2);
	printf("ignored_survived=1\n");

	set_handler(SIGUSR2, h, SA_RESETHAND);
	raise(SIGUSR2);
	struct sigaction cur;
	sigaction(SIGUSR2, NULL, &cur);
	printf("resethand: hits=%d now_default=%d\n", (int)hits, cur.sa_handler == SIG_DFL);

	printf("kill0=%d\n", kill(getpid(), 0));
	errno = 0;
	r = kill(getpid(), 12345);
	printf("kill(bad sig) -> %s\n", r == 0 ? "ok" : ename(errno));
	return 0;
}
