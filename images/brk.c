//go:build ignore

/* brk: the program break via the raw brk syscall.
 * Linux semantics: brk(addr) returns the new break on success and the
 * old (unchanged) break on failure; brk(0) returns the current break. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

extern char end[]; /* end of .bss */

#define PAGE 4096ul
#define MiB (1ul << 20)

static uintptr_t sys_brk(uintptr_t a)
{
	return (uintptr_t)syscall(SYS_brk, a);
}

static int faults(volatile char *p)
{
	char c;
	return try_read(p, &c) != 0;
}

int main(void)
{
	catch_faults();

	uintptr_t cur = sys_brk(0);
	uintptr_t cur2 = sys_brk(0);
	printf("brk0_stable=%d\n", cur == cur2);
	printf("sbrk0_eq_brk0=%d\n", (uintptr_t)sbrk(0) == cur);
	printf("brk_at_or_above_bss_end=%d\n", cur >= (uintptr_t)end);
	/* Work from a page-aligned base so the facts don't depend on how much
	 * of the heap glibc's startup already used. */
	uintptr_t base = (cur + PAGE - 1) & ~(PAGE - 1);
	printf("align_up_ok=%d\n", sys_brk(base) == base);

	/* Grow by 1 MiB. */
	uintptr_t want = base + MiB;
	uintptr_t got = sys_brk(want);
	printf("grow_ok=%d\n", got == want);
	printf("brk0_after_grow_ok=%d\n", sys_brk(0) == want);
	unsigned char *p = (unsigned char *)base;
	printf("grow_zeroed=%d\n", all_is(p, MiB, 0));
	for (size_t i = 0; i < MiB; i++)
		p[i] = (unsigned char)(i * 13 + 1);
	int ok = 1;
	for (size_t i = 0; i < MiB; i++)
		if (p[i] != (unsigned char)(i * 13 + 1))
			ok = 0;
	printf("touch_verify=%d\n", ok);
	printf("beyond_break_faults=%d\n", faults((volatile char *)want));
	printf("beyond_break_si_code_maperr=%d\n", fault_code == SEGV_MAPERR);

	/* Shrink by half: the upper half goes away. */
	uintptr_t half = base + MiB / 2;
	printf("shrink_ok=%d\n", sys_brk(half) == half);
	printf("below_shrunk_break_readable=%d\n", !faults((volatile char *)(half - 1)));
	printf("lower_half_intact=%d\n", p[12345] == (unsigned char)(12345 * 13 + 1));
	printf("above_shrunk_break_faults=%d\n", faults((volatile char *)half));

	/* Grow again: the re-grown pages must be fresh zero pages. */
	printf("regrow_ok=%d\n", sys_brk(want) == want);
	printf("regrow_zeroed=%d\n", all_is((unsigned char *)half, MiB / 2, 0));
	printf("regrow_lower_half_intact=%d\n", p[100] == (unsigned char)(100 * 13 + 1));

	/* Unaligned break: the value is returned as given, the page that
	 * contains it is accessible, the next one is not. */
	uintptr_t odd = want + 100;
	printf("unaligned_brk_returned_exact=%d\n", sys_brk(odd) == odd);
	printf("brk0_unaligned=%d\n", sys_brk(0) == odd);
	printf("unaligned_page_readable=%d\n", !faults((volatile char *)(odd + 50)));
	printf("page_after_unaligned_faults=%d\n", faults((volatile char *)(want + PAGE)));

	/* Back to exactly where we started. */
	printf("restore_ok=%d\n", sys_brk(cur) == cur);

	/* Below the start of the heap (into the program's text): refused,
	 * the old break is returned. */
	uintptr_t low = (uintptr_t)&main & ~(PAGE - 1);
	printf("brk_below_start_refused=%d\n", sys_brk(low) == cur);
	printf("brk_unchanged_after_refusal=%d\n", sys_brk(0) == cur);

	/* A break that would run over the mappings above the heap (the
	 * stack, at least) is refused too (returns the old break). */
	uintptr_t huge = cur + (1ul << 47);
	printf("brk_huge_refused=%d\n", sys_brk(huge) == cur);

	/* sbrk wrappers. */
	void *s0 = sbrk(0);
	void *s1 = sbrk(8192);
	void *s2 = sbrk(0);
	printf("sbrk_grow_returns_old=%d\n", s1 == s0);
	printf("sbrk_moves_by_increment=%d\n", (char *)s2 - (char *)s0 == 8192);
	memset(s1, 0x5a, 8192);
	void *s3 = sbrk(-8192);
	printf("sbrk_shrink_returns_old=%d\n", s3 == s2);
	printf("sbrk_shrink_back=%d\n", sbrk(0) == s0);
	return 0;
}
