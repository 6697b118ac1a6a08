//go:build ignore

/* mm_forkloop: fork, exit, reap, again and again, never more than two
 * processes at once: Linux runs this for ever in a small memory. kshim
 * retires every page-table frame an ended process leaves (ept/memory.go
 * FreeTable: a shadow MMU may still hold shadows of it) and, once no
 * never-used frame is left, drops every shadow and reuses them
 * (reclaimTables); before that, fork failed after about 20 per MiB of
 * --mem. Then, with every frame of guest memory used at least once,
 * THREADS threads and as many processes alive at once: each task beyond
 * the most the guest had before needs a new vCPU, whose areas are runs
 * of consecutive frames (ept AllocRun: they came only from never-used
 * memory, and pthread_create failed with EAGAIN). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static pthread_barrier_t all;

static void *thread(void *arg)
{
	pthread_barrier_wait(&all);
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int threads = argc > 2 ? atoi(argv[2]) : 0;
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
	if (threads <= 0 || threads > 64)
		return 0;
	pthread_t t[64];
	pthread_barrier_init(&all, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		int e = pthread_create(&t[i], NULL, thread, NULL);
		if (e != 0) {
			printf("thread %d of %d -> %s\n", i, threads, ename(e));
			return 1;
		}
	}
	pthread_barrier_wait(&all); /* all of them alive at once */
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	pid_t kids[64];
	for (int i = 0; i < threads; i++) {
		kids[i] = fork();
		if (kids[i] < 0) {
			printf("process %d of %d -> %s\n", i, threads, ename(errno));
			return 1;
		}
		if (kids[i] == 0) { /* alive until the parent closes the pipe */
			char c;
			close(fds[1]);
			_exit(read(fds[0], &c, 1) == 0 ? 7 : 8);
		}
	}
	close(fds[1]);
	for (int i = 0; i < threads; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("process %d: status %#x\n", i, st);
			return 1;
		}
	}
	printf("then %d threads and %d processes at once\n", threads, threads);
	return 0;
}
