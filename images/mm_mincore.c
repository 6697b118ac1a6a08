//go:build ignore

/* mm_mincore: residency as reported by mincore for anonymous memory.
 * Mappings are kept small (well below 2 MiB) so transparent huge pages
 * cannot make untouched neighbours resident. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define N 16

static void show_vec(const char *label, char *p, size_t n)
{
	unsigned char vec[64];
	memset(vec, 0xee, sizeof vec);
	errno = 0;
	int r = mincore(p, n * PG, vec);
	printf("%s: mincore=%s resident=", label, r == 0 ? "0" : ename(errno));
	for (size_t i = 0; i < n; i++)
		putchar(r == 0 ? '0' + (vec[i] & 1) : '?');
	printf(" untouched_bytes_ok=%d\n", vec[n] == 0xee);
}

int main(void)
{
	char *p = mmap(NULL, N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(p, N * PG, MADV_NOHUGEPAGE); /* may be EINVAL without THP: fine */
	show_vec("fresh", p, N);
	p[0] = 1;
	p[3 * PG + 10] = 1;
	p[15 * PG] = 1;
	show_vec("touched 0,3,15", p, N);
	madvise(p + 3 * PG, PG, MADV_DONTNEED);
	show_vec("after DONTNEED 3", p, N);

	char *q = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	show_vec("populated", q, 8);
	/* A sub-range and an unaligned length (rounded up). */
	unsigned char v[4] = {0xee, 0xee, 0xee, 0xee};
	errno = 0;
	int r = mincore(q + 2 * PG, PG + 1, v);
	printf("partial: mincore=%s v0=%d v1=%d v2_untouched=%d\n", r == 0 ? "0" : ename(errno), v[0] & 1,
	       v[1] & 1, v[2] == 0xee);

	/* Errors. */
	errno = 0;
	r = mincore(p + 1, PG, v);
	printf("unaligned: %s\n", r == 0 ? "0" : ename(errno));
	char *gone = free_range(1);
	errno = 0;
	r = mincore(gone, PG, v);
	printf("unmapped: %s\n", r == 0 ? "0" : ename(errno));
	errno = 0;
	r = mincore(q, PG, (unsigned char *)1);
	printf("bad vec: %s\n", r == 0 ? "0" : ename(errno));
	errno = 0;
	r = mincore(q, 0, v);
	printf("len 0: %s\n", r == 0 ? "0" : ename(errno));
	munmap(p, N * PG);
	munmap(q, 8 * PG);
	printf("done\n");
	return 0;
}
