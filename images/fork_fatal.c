//go:build ignore

/* fork_fatal: a fatal signal sent to one process while it forks leaves
 * no child born after the kill. Linux turns a signal that will end the
 * process (SIG_DFL, not ignored, not a stop) into a kill of its group as
 * it is sent (complete_signal), and copy_process gives up a fork that
 * finds one pending when the child would enter the table ("let kill
 * terminate clone/fork in the middle"): once kill(2) has returned, the
 * set of the forker's children is final (kshim's kernel.Process.Fork).
 *
 * Each round, a forker in a group of its own forks without pause
 * (children wait in pause; it kills and reaps the oldest past a few);
 * the top process, a subreaper, sends SIGTERM to the forker alone, then
 * notes the pids of the group's processes in /proc, reaps the forker,
 * kills the group and reaps the rest: a pid it did not note is a child
 * born after the kill. Prints counts, never pids. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

enum { ROUNDS = 60, MAXSEEN = 256 };

/* group lists the live and zombie processes of group pg but pg itself. */
static int group(pid_t pg, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == pg)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[len] = 0;
		char *p = strrchr(buf, ')');
		char state;
		int ppid, pgrp;
		if (p && sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pg && n < max)
			out[n++] = pid;
	}
	closedir(d);
	return n;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		printf("PR_SET_CHILD_SUBREAPER -> %s\n", strerrorname_np(errno));
		return 1;
	}
	int born_after = 0, forker_term = 0, listed = 0;
	for (int r = 0; r < ROUNDS; r++) {
		pid_t f = fork_churner(r);
		if (f < 0)
			return 1;
		kill(f, SIGTERM);
		pid_t seen[MAXSEEN];
		int n = group(f, seen, MAXSEEN);
		if (n >= 0)
			listed++;
		int st;
		if (waitpid(f, &st, 0) == f && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
			forker_term++;
		kill(-f, SIGKILL);
		pid_t w;
		while ((w = wait(NULL)) > 0) {
			int known = 0;
			for (int i = 0; i < n; i++)
				known |= seen[i] == w;
			born_after += !known;
		}
	}
	printf("%d rounds: /proc listed %d, forker killed by SIGTERM %d, children born after the kill %d\n",
	       ROUNDS, listed, forker_term, born_after);
	return 0;
}
