//go:build ignore

/* mm_reclaim: page-table frames of ended processes, used again. Run in a
 * small --mem, kshim runs out of never-used frames many times over and
 * reclaims the frames ended processes' page tables held (ept
 * reclaimTables: a drop of every shadow page first). Each round forks a
 * child that checks the parent's data (copy-on-write), fills fresh memory
 * with wide stores (the reclaimed frames come back as its data and its
 * tables), starts a thread (a vCPU root of its own, freed when it ends)
 * and, every eighth round, execs this program again. The parent checks
 * its own memory after every round: a stale shadow of a reused frame
 * would show there as wrong bytes, a fault or a VM error. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define KEEP (1u << 20) /* the parent's own data */
#define FILL (48 * PG)  /* fresh memory each child fills */

static unsigned char *keep;

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 512)
		if (p[i] != (unsigned char)(i / 512 * 7 + seed))
			return 0;
	return 1;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 512)
		p[i] = (unsigned char)(i / 512 * 7 + seed);
}

static void *worker(void *arg)
{
	unsigned char *p = arg;
	/* memset's wide stores (whatever the C library picks for this CPU). */
	memset(p + FILL / 2, 0x5a, FILL / 2);
	return all_is(p + FILL / 2, FILL / 2, 0x5a) ? p : NULL;
}

static int child(unsigned seed)
{
	if (!check(keep, KEEP, 1))
		return 2;
	unsigned char *p = mmap(NULL, FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	if (!all_is(p, FILL, 0))
		return 4;
	memset(p, 0xa5, FILL / 2);
	pthread_t t;
	void *r;
	if (pthread_create(&t, NULL, worker, p) != 0 || pthread_join(t, &r) != 0 || r != p)
		return 5;
	if (!all_is(p, FILL / 2, 0xa5))
		return 6;
	fill(keep, KEEP, seed); /* a copy of the parent's pages, the child's own */
	return check(keep, KEEP, seed) ? 7 : 8;
}

int main(int argc, char **argv)
{
	if (argc > 2) { /* the exec'd child: fresh, with its own page tables */
		unsigned char *p = malloc(FILL);
		if (!p)
			return 9;
		memset(p, 0x3c, FILL);
		return all_is(p, FILL, 0x3c) ? 7 : 10;
	}
	int n = argc > 1 ? atoi(argv[1]) : 600;
	keep = malloc(KEEP);
	if (!keep)
		return 1;
	fill(keep, KEEP, 1);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			printf("fork %d -> %s\n", i, ename(errno));
			return 1;
		}
		if (p == 0) {
			if (i % 8 == 7) {
				execl("/proc/self/exe", argv[0], "0", "exec", (char *)NULL);
				_exit(11);
			}
			_exit(child(i + 2));
		}
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("round %d: ", i);
			wait_status("child", st);
			return 1;
		}
		if (!check(keep, KEEP, 1)) {
			printf("round %d: the parent's memory changed\n", i);
			return 1;
		}
	}
	printf("%d rounds, every check passed\n", n);
	return 0;
}
