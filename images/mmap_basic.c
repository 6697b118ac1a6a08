//go:build ignore

/* mmap_basic: anonymous private mappings, munmap, mprotect, and the
 * SIGSEGV si_code/si_addr the guest sees on bad accesses. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	catch_faults();

	const size_t len = 16 * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap_ok=%d\n", p != MAP_FAILED);
	if (p == MAP_FAILED)
		return 1;
	printf("page_aligned=%d\n", ((uintptr_t)p & 4095) == 0);
	int zero = 1;
	for (size_t i = 0; i < len; i++)
		zero &= p[i] == 0;
	printf("initially_zero=%d\n", zero);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)(i ^ (i >> 8));
	int ok = 1;
	for (size_t i = 0; i < len; i++)
		ok &= p[i] == (char)(i ^ (i >> 8));
	printf("write_read_ok=%d\n", ok);

	/* A second mapping must not overlap the first. */
	char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("second_no_overlap=%d\n", q != MAP_FAILED && (q + len <= p || q >= p + len));
	q[0] = 1;
	printf("first_untouched=%d\n", p[0] == 0 && p[1] == 1);

	/* munmap then access faults with SEGV_MAPERR. */
	printf("munmap=%d\n", munmap(p, len));
	char c;
	int s = try_read(p + 100, &c);
	printf("read_after_munmap: sig=%s code=%s si_addr_ok=%d\n", s ? sigabbrev_np(s) : "none",
	       s ? fault_code_name(s, fault_code) : "-", fault_addr == (void *)(p + 100));

	/* mprotect PROT_READ then write faults with SEGV_ACCERR at the exact
	 * address written; reading still works and sees the old data. */
	q[4096 + 77] = 42;
	printf("mprotect_read=%d\n", mprotect(q, len, PROT_READ));
	s = try_read(q + 4096 + 77, &c);
	printf("read_readonly: sig=%s value=%d\n", s ? sigabbrev_np(s) : "none", c);
	s = try_write(q + 4096 + 123, 9);
	printf("write_readonly: sig=%s code=%s si_addr_ok=%d\n", s ? sigabbrev_np(s) : "none",
	       s ? fault_code_name(s, fault_code) : "-", fault_addr == (void *)(q + 4096 + 123));
	printf("mprotect_rw=%d\n", mprotect(q, len, PROT_READ | PROT_WRITE));
	s = try_write(q + 4096 + 123, 9);
	printf("write_after_rw: sig=%s value=%d\n", s ? sigabbrev_np(s) : "none", q[4096 + 123]);

	/* PROT_NONE: reads fault with SEGV_ACCERR. */
	printf("mprotect_none=%d\n", mprotect(q, 4096, PROT_NONE));
	s = try_read(q + 5, &c);
	printf("read_prot_none: sig=%s code=%s si_addr_ok=%d\n", s ? sigabbrev_np(s) : "none",
	       s ? fault_code_name(s, fault_code) : "-", fault_addr == (void *)(q + 5));
	printf("next_page_still_rw=%d\n", try_write(q + 4096, 3) == 0);

	/* Simple error cases. */
	errno = 0;
	void *r = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap(len=0) -> %s\n", r == MAP_FAILED ? ename(errno) : "ok");
	errno = 0;
	printf("munmap(unaligned) -> %s\n", munmap(q + 1, 4096) == 0 ? "ok" : ename(errno));

	/* A NULL dereference is a MAPERR at address 0. */
	s = try_read((volatile char *)0, &c);
	printf("read_null: sig=%s code=%s si_addr_null=%d\n", s ? sigabbrev_np(s) : "none",
	       s ? fault_code_name(s, fault_code) : "-", fault_addr == NULL);

	printf("munmap_q=%d\n", munmap(q, len));
	return 0;
}
