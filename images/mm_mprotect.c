//go:build ignore

/* mm_mprotect: splitting mappings by protection, PROT_NONE, PROT_EXEC and
 * no-execute, error cases, and contents surviving protection changes. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

/* Calls the code at code (as int (*)(void)): "ok" or the fault's name. */
typedef int (*fn_t)(void);
static volatile int call_result;
static const char *probe_call(void *code)
{
	fault_sig = 0;
	if (sigsetjmp(fault_jb, 1) == 0) {
		call_result = ((fn_t)code)();
		return "ok";
	}
	return fault_name(fault_sig);
}

static void show_pages(const char *label, char *p, int n)
{
	printf("%s:", label);
	for (int i = 0; i < n; i++) {
		const char *r = probe_read(p + i * PG + 1);
		const char *w = probe_write(p + i * PG + 2);
		printf(" [%d r=%s w=%s]", i, r, w);
	}
	printf("\n");
}

int main(void)
{
	catch_faults();

	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < 4 * PG; i++)
		p[i] = (char)(i % 253);

	errno = 0;
	show("mprotect(page 1, READ)", mprotect(p + PG, PG, PROT_READ));
	errno = 0;
	show("mprotect(page 2, NONE)", mprotect(p + 2 * PG, PG, PROT_NONE));
	show_pages("split", p, 4);
	const char *res = probe_read(p + 2 * PG + 99);
	printf("prot_none read: %s si_addr_ok=%d\n", res, fault_addr == p + 2 * PG + 99);
	res = probe_write(p + PG + 7);
	printf("read_only write: %s si_addr_ok=%d\n", res, fault_addr == p + PG + 7);

	/* Upgrade back to RW: contents preserved everywhere. */
	errno = 0;
	show("mprotect(all, RW)", mprotect(p, 4 * PG, PROT_READ | PROT_WRITE));
	int ok = 1;
	for (size_t i = 0; i < 4 * PG; i++)
		ok &= p[i] == (char)(i % 253);
	printf("contents_preserved=%d\n", ok);
	show_pages("rw_again", p, 4);

	/* Write-only is really read+write on x86. */
	errno = 0;
	show("mprotect(page 0, WRITE only)", mprotect(p, PG, PROT_WRITE));
	show_pages("write_only", p, 1);
	mprotect(p, PG, PROT_READ | PROT_WRITE);

	/* Error cases. */
	errno = 0;
	show("mprotect(unaligned)", mprotect(p + 1, PG, PROT_READ));
	errno = 0;
	show("mprotect(invalid prot bits)", mprotect(p, PG, 0x100));
	errno = 0;
	show("mprotect(len 0)", mprotect(p, 0, PROT_READ));
	char *gone = free_range(1);
	errno = 0;
	show("mprotect(unmapped)", mprotect(gone, PG, PROT_READ));
	/* A range that runs off the end of the mapping into a hole. */
	munmap(p + 3 * PG, PG);
	errno = 0;
	show("mprotect(range with hole)", mprotect(p + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE));

	/* PROT_EXEC: copy "mov $42,%eax; ret" into a page and run it. */
	static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3};
	char *x = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(x, code, sizeof code);
	res = probe_call(x);
	printf("exec from RW page: %s si_addr_ok=%d\n", res, fault_addr == x);
	errno = 0;
	show("mprotect(code, READ|EXEC)", mprotect(x, PG, PROT_READ | PROT_EXEC));
	call_result = 0;
	res = probe_call(x);
	printf("exec from RX page: %s result=%d\n", res, call_result);
	printf("write to RX page: %s\n", probe_write(x + 10));
	errno = 0;
	show("mprotect(code, NONE)", mprotect(x, PG, PROT_NONE));
	res = probe_call(x);
	printf("exec from PROT_NONE page: %s\n", res);
	munmap(x, PG);
	munmap(p, 3 * PG);
	printf("done\n");
	return 0;
}
