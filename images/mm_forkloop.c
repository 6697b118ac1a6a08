//go:build ignore

/* mm_forkloop: fork, exit, reap, again and again, never more than two
 * processes at once: Linux runs this for ever in a small memory. kshim
 * retires every page-table frame an ended process leaves (ept/memory.go
 * FreeTable: a shadow MMU may still hold shadows of it), so each fork and
 * exit keeps ~12 frames of guest-physical memory for good, and after
 * about 20 per MiB of --mem (321 with --mem 16M, 23809 with the default
 * 1G) fork fails. A known gap (diff_test.go knownGaps). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			printf("fork %d -> %s\n", i, ename(errno));
			return 1;
		}
		if (p == 0)
			_exit(7);
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("child %d: status %#x\n", i, st);
			return 1;
		}
	}
	printf("%d forks, each child reaped\n", n);
	return 0;
}
