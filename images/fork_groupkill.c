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

enum { ROUNDS = 20, KEEP = 8 };

static volatile sig_atomic_t timed_out;

static void on_alarm(int s)
{
	(void)s;
	timed_out = 1;
}

static void forker(int ready)
{
	pid_t kids[KEEP];
	int n = 0;
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;) {
		pid_t c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		if (c < 0)
			continue;
		if (n == KEEP) {
			kill(kids[0], SIGKILL);
			waitpid(kids[0], NULL, 0);
			for (int i = 1; i < KEEP; i++)
				kids[i - 1] = kids[i];
			n--;
		}
		kids[n++] = c;
	}
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
		int p[2];
		if (pipe(p) < 0)
			return 1;
		pid_t f = fork();
		if (f == 0) {
			close(p[0]);
			setpgid(0, 0);
			forker(p[1]);
		}
		setpgid(f, f); /* either may run first */
		close(p[1]);
		char c;
		if (read(p[0], &c, 1) != 1)
			return 1;
		close(p[0]);
		/* Let it fork a while: a few forks' time, varied. */
		struct timespec ts = {0, (1 + r % 5) * 1000 * 1000};
		nanosleep(&ts, NULL);
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
