//go:build ignore

/* mm_mremap: growing in place, moving (MREMAP_MAYMOVE), MREMAP_FIXED,
 * MREMAP_DONTUNMAP, shrinking, and argument errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#include "common.h"

static char *anon(void *hint, size_t len, int extra)
{
	return mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static void fill(char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(seed + i % 241);
}

static int check(const char *p, size_t n, int seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(seed + i % 241))
			return 0;
	return 1;
}

/* Result of an mremap as a fact: the errno, or where it landed. */
static const char *where(void *r, void *old, void *want)
{
	static char buf[64];
	if (r == MAP_FAILED)
		snprintf(buf, sizeof buf, "%s", ename(errno));
	else if (r == old)
		snprintf(buf, sizeof buf, "in_place");
	else if (want && r == want)
		snprintf(buf, sizeof buf, "at_requested");
	else
		snprintf(buf, sizeof buf, "moved");
	return buf;
}

int main(void)
{
	catch_faults();

	/* Grow in place: the 4 pages after the mapping are free. */
	char *base = free_range(8);
	char *p = anon(base, 2 * PG, MAP_FIXED_NOREPLACE);
	fill(p, 2 * PG, 1);
	errno = 0;
	char *r = mremap(p, 2 * PG, 6 * PG, 0);
	printf("grow_free_space: %s\n", where(r, p, NULL));
	printf("grow content_ok=%d new_part_zero=%d\n", check(p, 2 * PG, 1), all_is(p + 2 * PG, 4 * PG, 0));
	p[6 * PG - 1] = 5;

	/* Grow with the next page occupied and no MAYMOVE: ENOMEM. */
	char *blocker = anon(p + 6 * PG, PG, MAP_FIXED_NOREPLACE);
	printf("blocker_placed=%d\n", blocker == p + 6 * PG);
	errno = 0;
	r = mremap(p, 6 * PG, 8 * PG, 0);
	printf("grow_blocked_no_maymove: %s\n", where(r, p, NULL));
	printf("after_failed_grow content_ok=%d\n", check(p, 2 * PG, 1) && p[6 * PG - 1] == 5);

	/* MAYMOVE: moves, keeps the contents, the old range is gone. */
	errno = 0;
	char *m = mremap(p, 6 * PG, 8 * PG, MREMAP_MAYMOVE);
	printf("grow_blocked_maymove: %s\n", where(m, p, NULL));
	if (m != MAP_FAILED) {
		printf("moved content_ok=%d tail_kept=%d new_part_zero=%d\n", check(m, 2 * PG, 1),
		       m[6 * PG - 1] == 5, all_is(m + 6 * PG, 2 * PG, 0));
		printf("old_range: %s\n", probe_read(p + PG));
		printf("blocker_intact: %s\n", probe_read(blocker));
	}

	/* MREMAP_FIXED to a chosen free address (requires MAYMOVE). */
	char *dst = free_range(16);
	errno = 0;
	r = mremap(m, 8 * PG, 8 * PG, MREMAP_FIXED, dst);
	printf("fixed_without_maymove: %s\n", where(r, m, dst));
	errno = 0;
	r = mremap(m, 8 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * PG);
	printf("fixed_maymove: %s\n", where(r, m, dst + 4 * PG));
	char *f = dst + 4 * PG;
	printf("fixed content_ok=%d old_range: %s\n", check(f, 2 * PG, 1), probe_read(m));
	/* MREMAP_FIXED onto an existing mapping replaces it. */
	char *victim = anon(NULL, 2 * PG, 0);
	memset(victim, 'v', 2 * PG);
	errno = 0;
	r = mremap(f, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, victim);
	printf("fixed_over_existing: %s content_ok=%d\n", where(r, f, victim), r == victim && check(victim, 2 * PG, 1));
	/* New range overlapping the old one: EINVAL. */
	errno = 0;
	r = mremap(victim, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, victim + PG);
	printf("fixed_overlapping_old: %s\n", where(r, victim, victim + PG));

	/* Shrink: in place, the tail is unmapped. */
	char *s = anon(NULL, 8 * PG, 0);
	fill(s, 8 * PG, 9);
	errno = 0;
	r = mremap(s, 8 * PG, 3 * PG, 0);
	printf("shrink: %s content_ok=%d tail: %s\n", where(r, s, NULL), check(s, 3 * PG, 9), probe_read(s + 3 * PG));
	printf("shrink last_kept_page: %s\n", probe_read(s + 3 * PG - 1));

	/* MREMAP_DONTUNMAP: the pages move, the old range stays mapped and
	 * reads as zero (private anonymous). */
	char *d = anon(NULL, 4 * PG, 0);
	fill(d, 4 * PG, 3);
	errno = 0;
	char *dn = mremap(d, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	printf("dontunmap: %s\n", where(dn, d, NULL));
	if (dn != MAP_FAILED) {
		const char *res = probe_read(d);
		printf("dontunmap new content_ok=%d old_range: %s old_zero=%d\n", check(dn, 4 * PG, 3),
		       res, all_is(d, 4 * PG, 0));
		d[5] = 1;
		printf("dontunmap old_writable=%d new_unaffected=%d\n", d[5] == 1, dn[5] == (char)(3 + 5));
	}
	errno = 0;
	r = mremap(dn, 4 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	printf("dontunmap_size_change: %s\n", where(r, dn, NULL));
	errno = 0;
	r = mremap(dn, 4 * PG, 4 * PG, MREMAP_DONTUNMAP);
	printf("dontunmap_without_maymove: %s\n", where(r, dn, NULL));

	/* Argument errors. */
	errno = 0;
	r = mremap(s, 3 * PG, 4 * PG, 0x40);
	printf("invalid_flags: %s\n", where(r, s, NULL));
	errno = 0;
	r = mremap(s + 1, PG, 2 * PG, MREMAP_MAYMOVE);
	printf("unaligned_old: %s\n", where(r, s, NULL));
	errno = 0;
	r = mremap(s, 3 * PG, 0, MREMAP_MAYMOVE);
	printf("new_size_0: %s\n", where(r, s, NULL));
	char *gone = free_range(2);
	errno = 0;
	r = mremap(gone, PG, 2 * PG, MREMAP_MAYMOVE);
	printf("unmapped_old: %s\n", where(r, gone, NULL));
	errno = 0;
	r = mremap(s, 3 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 1);
	printf("fixed_unaligned_new: %s\n", where(r, s, NULL));
	/* old_size larger than the mapping: EFAULT. */
	errno = 0;
	r = mremap(s, 64 * PG, 65 * PG, MREMAP_MAYMOVE);
	printf("old_size_past_mapping: %s\n", where(r, s, NULL));
	printf("done\n");
	return 0;
}
