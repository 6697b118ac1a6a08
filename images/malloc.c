//go:build ignore

/* malloc: glibc malloc over brk and mmap.  Many small blocks, large
 * blocks above the mmap threshold (1 MiB, 64 MiB), realloc growth,
 * calloc zeroing.  Prints checksums of the data read back. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static uint32_t lcg = 12345;
static uint32_t rnd(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return lcg >> 8;
}

static uint64_t fnv(const unsigned char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7 + (i >> 9));
}

#define NSMALL 20000

int main(void)
{
	static unsigned char *small[NSMALL];
	static size_t small_len[NSMALL];
	int aligned = 1;
	uint64_t h;

	/* 1. Many small allocations with deterministic sizes. */
	for (int i = 0; i < NSMALL; i++) {
		size_t len = 1 + rnd() % 512;
		small[i] = malloc(len);
		if (!small[i]) {
			printf("small malloc %d failed\n", i);
			return 1;
		}
		small_len[i] = len;
		aligned &= ((uintptr_t)small[i] % 16) == 0;
		fill(small[i], len, (unsigned)i);
	}
	/* Free every third one and reallocate, to exercise the free lists. */
	for (int i = 0; i < NSMALL; i += 3) {
		free(small[i]);
		small_len[i] = 1 + rnd() % 2048;
		small[i] = malloc(small_len[i]);
		if (!small[i])
			return 1;
		aligned &= ((uintptr_t)small[i] % 16) == 0;
		fill(small[i], small_len[i], (unsigned)i * 3);
	}
	h = 14695981039346656037ull;
	for (int i = 0; i < NSMALL; i++)
		h = fnv(small[i], small_len[i], h);
	printf("small_count=%d\n", NSMALL);
	printf("small_aligned16=%d\n", aligned);
	printf("small_checksum=%016llx\n", (unsigned long long)h);

	/* 2. Large allocations (mmap threshold is 128 KiB by default). */
	size_t sizes[] = {1u << 20, 64u << 20};
	for (int k = 0; k < 2; k++) {
		size_t n = sizes[k];
		unsigned char *p = malloc(n);
		if (!p) {
			printf("large malloc %zu failed\n", n);
			return 2;
		}
		fill(p, n, 99 + k);
		h = fnv(p, n, 14695981039346656037ull);
		printf("large_%zuMiB_aligned16=%d checksum=%016llx last=%u\n", n >> 20,
		       ((uintptr_t)p % 16) == 0, (unsigned long long)h, p[n - 1]);
		free(p);
	}

	/* 3. realloc growth: content must be preserved at every step. */
	size_t len = 16;
	unsigned char *r = malloc(len);
	fill(r, len, 7);
	int preserved = 1;
	while (len < (16u << 20)) {
		size_t nlen = len * 2;
		unsigned char *nr = realloc(r, nlen);
		if (!nr) {
			printf("realloc to %zu failed\n", nlen);
			return 3;
		}
		r = nr;
		/* Old prefix was filled with seed 7 pattern for its length. */
		unsigned char *chk = malloc(len);
		fill(chk, len, 7);
		if (memcmp(chk, r, len) != 0)
			preserved = 0;
		free(chk);
		fill(r, nlen, 7);
		len = nlen;
	}
	printf("realloc_final_len=%zu preserved=%d checksum=%016llx\n", len, preserved,
	       (unsigned long long)fnv(r, len, 14695981039346656037ull));
	/* Shrink back down. */
	r = realloc(r, 100);
	unsigned char ref[100];
	fill(ref, 100, 7);
	printf("realloc_shrink_preserved=%d\n", r && memcmp(r, ref, 100) == 0);
	free(r);

	/* 4. calloc zeroed, small and large (after dirtying freed memory). */
	unsigned char *d = malloc(4096);
	memset(d, 0xAA, 4096);
	free(d);
	unsigned char *c1 = calloc(512, 8);
	unsigned char *c2 = calloc(1, 8u << 20);
	unsigned char *c3 = calloc(1000, 1000);
	printf("calloc_small_zero=%d\n", c1 && all_is(c1, 4096, 0));
	printf("calloc_8MiB_zero=%d\n", c2 && all_is(c2, 8u << 20, 0));
	printf("calloc_1000x1000_zero=%d\n", c3 && all_is(c3, 1000000, 0));
	free(c1);
	free(c2);
	free(c3);

	/* 5. Free everything and allocate again. */
	for (int i = 0; i < NSMALL; i++)
		free(small[i]);
	void *again = malloc(1000);
	printf("malloc_after_free_ok=%d\n", again != NULL);
	free(again);
	printf("done\n");
	return 0;
}
