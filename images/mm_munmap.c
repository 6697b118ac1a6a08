//go:build ignore

/* mm_munmap: partial unmapping splits mappings; error cases. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

static int page_ok(const char *p, size_t page)
{
	for (size_t i = 0; i < PG; i++)
		if (p[page * PG + i] != (char)(page * 31 + i % 251))
			return 0;
	return 1;
}

int main(void)
{
	catch_faults();

	const size_t n = 8;
	char *p = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (size_t pg = 0; pg < n; pg++)
		for (size_t i = 0; i < PG; i++)
			p[pg * PG + i] = (char)(pg * 31 + i % 251);

	/* Punch a hole at pages 3..4. */
	errno = 0;
	show("munmap(middle pages 3-4)", munmap(p + 3 * PG, 2 * PG));
	for (size_t pg = 0; pg < n; pg++) {
		const char *res = probe_read(p + pg * PG + 17);
		int addr_ok = fault_sig ? fault_addr == p + pg * PG + 17 : 1;
		printf("page %zu: %s", pg, res);
		if (fault_sig == 0)
			printf(" intact=%d", page_ok(p, pg));
		printf(" si_addr_ok=%d\n", addr_ok);
	}
	/* Both remaining pieces are still writable. */
	p[0] = 1;
	p[7 * PG + 5] = 1;
	printf("ends_writable=1\n");

	/* A new FIXED_NOREPLACE mapping fits exactly into the hole. */
	char *h = mmap(p + 3 * PG, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("refill_hole at_addr=%d zero=%d\n", h == p + 3 * PG, h == p + 3 * PG && h[0] == 0 && h[2 * PG - 1] == 0);
	show("munmap(refill)", munmap(h, 2 * PG));

	/* Error cases. */
	errno = 0;
	show("munmap(unaligned addr)", munmap(p + 1, PG));
	errno = 0;
	show("munmap(len 0)", munmap(p, 0));
	errno = 0;
	show("munmap(beyond user space)", munmap((void *)(0x7ffffffff000ul), 1ul << 40));
	/* Unmapping a range with nothing in it succeeds. */
	errno = 0;
	show("munmap(the hole again)", munmap(p + 3 * PG, 2 * PG));
	/* An unaligned length is rounded up to whole pages. */
	errno = 0;
	show("munmap(page 2, len 100)", munmap(p + 2 * PG, 100));
	printf("page 2 after: %s\n", probe_read(p + 2 * PG + PG - 1));
	printf("page 1 after: %s\n", probe_read(p + PG + PG - 1));
	/* One call spanning mapped pieces and holes removes them all. */
	errno = 0;
	show("munmap(whole range)", munmap(p, n * PG));
	int all_gone = 1;
	for (size_t pg = 0; pg < n; pg++)
		all_gone &= strcmp(probe_read(p + pg * PG), "SEGV_MAPERR") == 0;
	printf("all_gone=%d\n", all_gone);
	errno = 0;
	show("munmap(already unmapped)", munmap(p, n * PG));

	/* Unmap the first and last page of a mapping. */
	char *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(q, 'q', 4 * PG);
	show("munmap(first page)", munmap(q, PG));
	show("munmap(last page)", munmap(q + 3 * PG, PG));
	printf("first: %s middle: %s last: %s\n", probe_read(q), probe_read(q + PG), probe_read(q + 3 * PG));
	printf("middle_intact=%d\n", q[PG] == 'q' && q[3 * PG - 1] == 'q');
	munmap(q, 4 * PG);
	printf("done\n");
	return 0;
}
