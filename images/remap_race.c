//go:build ignore

/* remap_race [N]: two threads read a page while the main thread, N times,
 * maps another page of a memfd over it (MAP_FIXED; each page holds its
 * round number, written with pwrite, never through a mapping) and then
 * publishes the round (a sequence count, odd while it remaps). A reader
 * that reads within a published round must see that round's page: a stale
 * translation (the old frame still mapped on another vCPU after the
 * change returned) reads an older round. Prints "remap_race ok". The
 * page-table change protocols (ept/flush.go, ept/invalidate.go) and the
 * stop of the other vCPUs (vmm/space.go) are what it checks. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile long *p;
static atomic_long gen;
static atomic_int stop;
static atomic_long bad;

static void *reader(void *a)
{
	(void)a;
	while (!atomic_load(&stop)) {
		long g1 = atomic_load(&gen);
		if (g1 & 1)
			continue;
		long v = p[0];
		long g2 = atomic_load(&gen);
		if (g1 == g2 && v != g1 / 2 && atomic_fetch_add(&bad, 1) < 3)
			fprintf(stderr, "stale: round %ld read %ld\n", g1 / 2, v);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300;
	int fd = memfd_create("remap_race", 0);
	if (fd < 0 || ftruncate(fd, (n + 1) * 4096) < 0) {
		perror("memfd");
		return 1;
	}
	for (long g = 0; g <= n; g++)
		if (pwrite(fd, &g, sizeof g, g * 4096) != sizeof g) {
			perror("pwrite");
			return 1;
		}
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (long g = 1; g <= n; g++) {
		atomic_store(&gen, 2 * g - 1);
		if (mmap((void *)p, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, fd, g * 4096) != p) {
			perror("mmap");
			return 1;
		}
		atomic_store(&gen, 2 * g);
		usleep(50); /* the readers read this round */
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("remap_race %s\n", atomic_load(&bad) ? "STALE" : "ok");
	return atomic_load(&bad) != 0;
}
