//go:build ignore

/* mm_segv_handler: SIGSEGV handlers that inspect siginfo and the
 * ucontext, fix the fault and return (the faulting instruction restarts),
 * skip the faulting instruction by editing RIP, change registers that
 * sigreturn must restore, and siglongjmp out. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "common.h"

static char *region;
static volatile int calls, last_code, addr_ok, trapno_ok, err_write, err_user;
static volatile long last_trapno;
static void *volatile expect_addr;
static volatile int mode; /* 0: fix with mprotect, 1: skip insn, 2: longjmp */
static sigjmp_buf jb;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	calls++;
	last_code = si->si_code;
	addr_ok = si->si_addr == expect_addr;
	last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	trapno_ok = last_trapno == 14; /* #PF */
	err_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
	err_user = (uc->uc_mcontext.gregs[REG_ERR] & 4) != 0;
	switch (mode) {
	case 0: {
		/* Make the page writable and return: the store is retried. */
		char *page = (char *)((uintptr_t)si->si_addr & ~(PG - 1));
		mprotect(page, PG, PROT_READ | PROT_WRITE);
		break;
	}
	case 1:
		/* Skip the 3-byte "movb $0x5a,(%rax)" and set RCX for the
		 * interrupted code to see. */
		uc->uc_mcontext.gregs[REG_RIP] += 3;
		uc->uc_mcontext.gregs[REG_RCX] = 0x1234abcd;
		break;
	default:
		siglongjmp(jb, 1);
	}
}

int main(void)
{
	set_handler(SIGSEGV, handler, 0);

	/* 1. Lazy allocation: 8 PROT_NONE pages made writable one by one by
	 * the handler, each store restarted and landing. */
	region = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mode = 0;
	int codes_ok = 1, addrs_ok = 1;
	for (int i = 0; i < 8; i++) {
		char *a = region + i * PG + 100 + i;
		expect_addr = a;
		*(volatile char *)a = (char)('A' + i);
		codes_ok &= last_code == SEGV_ACCERR;
		addrs_ok &= addr_ok;
	}
	int stored = 1;
	for (int i = 0; i < 8; i++)
		stored &= region[i * PG + 100 + i] == (char)('A' + i);
	printf("lazy: calls=%d codes_accerr=%d si_addr_ok=%d stores_landed=%d\n", (int)calls, codes_ok,
	       addrs_ok, stored);
	printf("lazy: trapno_pf=%d err_write=%d err_user=%d\n", (int)trapno_ok, (int)err_write, (int)err_user);
	/* No more faults once everything is writable. */
	calls = 0;
	memset(region, 1, 8 * PG);
	printf("no_more_faults=%d\n", calls == 0);

	/* 2. Read-only page: a read does not fault, a write does once. */
	mprotect(region, PG, PROT_READ);
	calls = 0;
	volatile char c = region[5];
	(void)c;
	printf("readonly read_calls=%d\n", (int)calls);
	expect_addr = region + 5;
	*(volatile char *)(region + 5) = 9;
	printf("readonly write: calls=%d code=%s si_addr_ok=%d value=%d err_write=%d\n", (int)calls,
	       fault_code_name(SIGSEGV, last_code), (int)addr_ok, region[5], (int)err_write);

	/* 3. Skip the faulting instruction by editing RIP; RCX edited in the
	 * handler must be what the code sees after sigreturn. */
	mode = 1;
	calls = 0;
	char *gone = free_range(1);
	expect_addr = gone;
	unsigned long rcx = 0;
	__asm__ volatile("xor %%ecx, %%ecx\n\t"
			 ".byte 0xc6, 0x00, 0x5a\n\t" /* movb $0x5a,(%%rax) */
			 "mov %%rcx, %0"
			 : "=r"(rcx)
			 : "a"(gone)
			 : "rcx", "memory");
	printf("skip: calls=%d code=%s si_addr_ok=%d rcx_from_handler=%d\n", (int)calls,
	       fault_code_name(SIGSEGV, last_code), (int)addr_ok, rcx == 0x1234abcd);

	/* 4. siglongjmp out of the handler; the signal mask is restored. */
	mode = 2;
	calls = 0;
	expect_addr = gone + 8;
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile char *)(gone + 8) = 1;
		printf("longjmp: no fault\n");
	} else {
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		printf("longjmp: calls=%d code=%s si_addr_ok=%d segv_unblocked=%d\n", (int)calls,
		       fault_code_name(SIGSEGV, last_code), (int)addr_ok, !sigismember(&cur, SIGSEGV));
	}
	/* Repeated: handler entry/exit via longjmp works many times. */
	int n = 0;
	for (int i = 0; i < 100; i++)
		if (sigsetjmp(jb, 1) == 0)
			*(volatile char *)(gone + i) = 1;
		else
			n++;
	printf("longjmp_repeated=%d\n", n);

	/* 5. A non-canonical address is a #GP, not a page fault: SIGSEGV with
	 * SI_KERNEL and si_addr 0. */
	expect_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		*(volatile char *)0x8000000000000000ul = 1;
		printf("noncanonical: no fault\n");
	} else {
		printf("noncanonical: code=%s si_addr_null=%d trapno_gp=%d\n", fault_code_name(SIGSEGV, last_code),
		       (int)addr_ok, last_trapno == 13);
	}

	/* 6. Kernel-half address: a page fault with si_addr as given. */
	expect_addr = (void *)0xffff880000000000ul;
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile char *)0xffff880000000000ul;
		printf("kernel_addr: no fault\n");
	} else {
		printf("kernel_addr: code=%s si_addr_ok=%d\n", fault_code_name(SIGSEGV, last_code), (int)addr_ok);
	}

	/* 7. SA_RESETHAND: the handler runs once, then the default action
	 * would apply (checked via sigaction readback, not by dying). */
	set_handler(SIGSEGV, handler, SA_RESETHAND);
	if (sigsetjmp(jb, 1) == 0)
		*(volatile char *)gone = 1;
	struct sigaction now;
	sigaction(SIGSEGV, NULL, &now);
	printf("resethand: now_default=%d\n", now.sa_handler == SIG_DFL);
	printf("done\n");
	return 0;
}
