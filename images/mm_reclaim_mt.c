//go:build ignore

/* mm_reclaim_mt: page-table frames reclaimed while many vCPUs run. In a
 * small --mem kshim runs out of never-used frames again and again and
 * drops every shadow page to reuse the frames ended processes' tables
 * held (ept reclaimTables); here the drops come while other processes'
 * threads are in the guest, storing to and checking their own memory.
 * W workers run at once; each has two spinning threads (their pages must
 * keep what they stored, a signal handler's count must add up) while its
 * main thread forks children from the multi-threaded process: a child
 * checks the copy-on-write view, writes MAP_SHARED pages (anonymous, and
 * of a file in /dev/shm) the worker reads back, fills fresh memory with memset's wide stores, and every
 * third one vforks and execs this program, every fifth starts a thread
 * of its own. Output: one line per worker, in order, and a total. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define KEEP (64 * PG)  /* each worker's own data */
#define SPIN (16 * PG)  /* each spinning thread's own data */
#define FILL (32 * PG)  /* fresh memory each child fills */

static unsigned char *keep;
static volatile unsigned char *shared; /* MAP_SHARED between a worker and its children */
static volatile unsigned char *fshared; /* the same, of a file in /dev/shm */
static atomic_int stop, bad, sigs;
static atomic_long loops;

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 64)
		p[i] = (unsigned char)(i / 64 * 13 + seed);
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i += 64)
		if (p[i] != (unsigned char)(i / 64 * 13 + seed))
			return 0;
	return 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigs, 1);
}

static void *spinner(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned char *p = malloc(SPIN);
	if (!p) {
		atomic_store(&bad, 1);
		return NULL;
	}
	for (unsigned r = 0; !atomic_load(&stop); r++) {
		fill(p, SPIN, seed + r);
		if (!check(p, SPIN, seed + r))
			atomic_store(&bad, 2);
		memset(p, (int)(r & 0xff), SPIN);
		if (!all_is(p, SPIN, (unsigned char)r))
			atomic_store(&bad, 3);
		atomic_fetch_add(&loops, 1);
	}
	free(p);
	return NULL;
}

static void *child_thread(void *arg)
{
	unsigned char *p = arg;
	memset(p, 0x77, FILL / 2);
	return all_is(p, FILL / 2, 0x77) ? p : NULL;
}

static int child(int i)
{
	if (!check(keep, KEEP, 1))
		return 2;
	shared[i % PG] = (unsigned char)i;
	fshared[(i * 61) % (4 * PG)] = (unsigned char)(i + 1);
	if (i % 3 == 0) {
		pid_t v = vfork();
		if (v == 0) {
			execl("/proc/self/exe", "mm_reclaim_mt", "leaf", (char *)NULL);
			_exit(12);
		}
		int st;
		if (v < 0 || waitpid(v, &st, 0) != v || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("child %d: vfork -> %s, ", i, v < 0 ? ename(errno) : "ok");
			wait_status("exec'd child", st);
			return 3;
		}
	}
	unsigned char *p = mmap(NULL, FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 4;
	if (!all_is(p, FILL, 0))
		return 5;
	memset(p, 0xa5, FILL);
	if (i % 5 == 0) {
		pthread_t t;
		void *r;
		if (pthread_create(&t, NULL, child_thread, p) != 0 || pthread_join(t, &r) != 0 || r != p)
			return 6;
	}
	fill(keep, KEEP, (unsigned)i);
	return check(keep, KEEP, (unsigned)i) ? 7 : 8;
}

static int worker(int w, int rounds)
{
	keep = malloc(KEEP);
	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char name[64];
	snprintf(name, sizeof name, "/dev/shm/mm_reclaim_mt.%d", w);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4 * PG) != 0)
		return 1;
	fshared = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unlink(name);
	close(fd);
	if (!keep || shared == MAP_FAILED || fshared == MAP_FAILED)
		return 1;
	fill(keep, KEEP, 1);
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t t[2];
	for (int k = 0; k < 2; k++)
		if (pthread_create(&t[k], NULL, spinner, (void *)(uintptr_t)(w * 2 + k)) != 0)
			return 1;
	int sent = 0, fails = 0;
	for (int i = 0; i < rounds; i++) {
		pid_t p = fork();
		if (p < 0) {
			printf("worker %d: fork %d -> %s\n", w, i, ename(errno));
			fails++;
			break;
		}
		if (p == 0)
			_exit(child(i));
		pthread_kill(t[i & 1], SIGUSR1);
		sent++;
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			printf("worker %d round %d: ", w, i);
			wait_status("child", st);
			fails++;
		}
		while (atomic_load(&sigs) < sent) /* taken while the child ran, or now */
			sched_yield();
		if (fshared[(i * 61) % (4 * PG)] != (unsigned char)(i + 1)) {
			printf("worker %d round %d: shared file page lost the child's store\n", w, i);
			fails++;
		}
		if (shared[i % PG] != (unsigned char)i) {
			printf("worker %d round %d: shared page lost the child's store\n", w, i);
			fails++;
		}
		if (!check(keep, KEEP, 1)) {
			printf("worker %d round %d: the worker's memory changed\n", w, i);
			fails++;
		}
		if (fails > 3)
			break;
	}
	atomic_store(&stop, 1);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	if (atomic_load(&bad)) {
		printf("worker %d: a spinning thread saw its memory change (%d)\n", w, atomic_load(&bad));
		fails++;
	}
	if (atomic_load(&loops) == 0) {
		printf("worker %d: the spinning threads never ran\n", w);
		fails++;
	}
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "leaf") == 0) {
		unsigned char *p = malloc(FILL);
		if (!p)
			return 9;
		memset(p, 0x3c, FILL);
		return all_is(p, FILL, 0x3c) ? 7 : 10;
	}
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	int workers = argc > 2 ? atoi(argv[2]) : 3;
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t pids[16];
	for (int w = 0; w < workers && w < 16; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			_exit(worker(w, rounds));
	}
	int ok = 0;
	for (int w = 0; w < workers && w < 16; w++) {
		int st;
		if (waitpid(pids[w], &st, 0) == pids[w] && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("worker %d: ok\n", w);
			ok++;
		} else {
			printf("worker %d: ", w);
			wait_status("status", st);
		}
	}
	printf("%d of %d workers ok\n", ok, workers);
	return ok == workers ? 0 : 1;
}
