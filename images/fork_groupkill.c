//go:build ignore

/* fork_groupkill: a signal sent to a process group while one of its
 * processes forks reaches the child too, or the fork happens after it:
 * no child outlives its group's kill (Linux's copy_process: a signal
 * pending at the fork's start restarts it, one sent to several processes
 * during it is the child's as well; kshim's kernel.Process.Fork).
 *
 * Each round, a forker in a group of its own forks without pause (children
 * that wait in pause; it kills and reaps the oldest past a few), and the
 * top process, a subreaper, kills the group with SIGTERM, then reaps
 * everything: an escaped child would wait forever, which an alarm reports.
 * Prints counts, never pids. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

enum { ROUNDS = 20 };

static volatile sig_atomic_t timed_out;

static void on_alarm(int s)
{
	(void)s;
	timed_out = 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		printf("PR_SET_CHILD_SUBREAPER -> %s\n", strerrorname_np(errno));
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: wait ends */
	sigaction(SIGALRM, &sa, NULL);
	int escaped = 0, forker_term = 0;
	for (int r = 0; r < ROUNDS; r++) {
		pid_t f = fork_churner(r);
		if (f < 0)
			return 1;
		kill(-f, SIGTERM);
		timed_out = 0;
		alarm(5);
		int st;
		pid_t w;
		while ((w = wait(&st)) > 0 || (w < 0 && errno == EINTR && !timed_out))
			if (w == f && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
				forker_term++;
		alarm(0);
		if (timed_out) {
			escaped++;
			kill(-f, SIGKILL);
			while (wait(NULL) > 0)
				;
		}
	}
	printf("%d rounds: forker killed by SIGTERM %d, a child outlived the kill %d\n", ROUNDS, forker_term, escaped);
	return 0;
}
