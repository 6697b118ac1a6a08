//go:build ignore

/* sig_badframe: rt_sigreturn with frames a program builds itself.
 *  - an unreadable frame, or one whose fpstate points at unmapped memory,
 *    forces SIGSEGV (si_code SI_KERNEL) that the program's handler (on its
 *    alternate stack) catches; with the bad fpstate the registers are
 *    already the frame's (Linux restores them before the FPU state);
 *  - the frame's uc_stack is applied as by sigaltstack (restore_altstack);
 *  - EFLAGS bits outside Linux's FIX_EFLAGS (NT, ID) are not taken from
 *    the frame, those inside (AC, DF cleared by us) are;
 *  - sigaltstack accepts SS_ONSTACK as "enable" (old programs);
 *  - the frame's CS and SS: any CS but __USER_CS (a kernel selector, a
 *    data segment, null, past the GDT) and, with UC_STRICT_RESTORE_SS, any
 *    SS but __USER_DS make the return to user mode fault: SIGSEGV
 *    SI_KERNEL (trapno 13, the selector as error code) with the frame's
 *    registers and its segments in the handler's sigcontext; without the
 *    flag an unusable SS is replaced. (__USER32_CS, compatibility mode,
 *    is left out: kshim does not run it.)
 * Prints facts, never addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static char altstack[64 << 10], altstack2[64 << 10];
static char landing_stack[16 << 10] __attribute__((aligned(16)));
static volatile int got_sig, got_code, on_alt;
static volatile uint64_t got_rip, got_rsp, got_segs, got_trapno, got_err;
static volatile uint64_t landed_flags;
static volatile void *landed_alt;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	char here;
	got_sig = sig;
	got_code = si->si_code;
	got_rip = uc->uc_mcontext.gregs[REG_RIP];
	got_rsp = uc->uc_mcontext.gregs[REG_RSP];
	got_segs = uc->uc_mcontext.gregs[REG_CSGSFS];
	got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	got_err = uc->uc_mcontext.gregs[REG_ERR];
	on_alt = &here >= altstack && &here < altstack + sizeof altstack;
	siglongjmp(env, 1);
}

/* Where a good frame returns to: records what it finds and goes back. */
static void landing(void)
{
	uint64_t f;
	stack_t ss;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	__asm__ volatile("pushq %0; popfq" ::"r"(f & ~0x44000ul)); /* clear NT and AC again */
	landed_flags = f;
	landed_alt = sigaltstack(NULL, &ss) == 0 ? ss.ss_sp : NULL;
	siglongjmp(env, 2);
}

/* frame[0..] is laid out as the kernel's rt_sigframe minus its return
 * address: rt_sigreturn reads it at RSP. */
static ucontext_t frame __attribute__((aligned(64)));

static void base_frame(void)
{
	memset(&frame, 0, sizeof frame);
	frame.uc_stack.ss_sp = altstack;
	frame.uc_stack.ss_size = sizeof altstack;
	frame.uc_mcontext.gregs[REG_RIP] = (greg_t)landing;
	/* At a function's entry (rsp + 8) is 16-aligned. */
	frame.uc_mcontext.gregs[REG_RSP] = (greg_t)(landing_stack + sizeof landing_stack - 8 - 64);
	frame.uc_mcontext.gregs[REG_EFL] = 0x202;
	frame.uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bl << 48);
	frame.uc_mcontext.fpregs = NULL;
	sigemptyset(&frame.uc_sigmask);
}

static int sigreturn_at(void *sp)
{
	got_sig = 0;
	int r = sigsetjmp(env, 0);
	if (r == 0)
		__asm__ volatile("mov %0, %%rsp; mov $15, %%eax; syscall; ud2" ::"r"(sp) : "memory");
	return r;
}

int main(void)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	if (sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL)) {
		perror("setup");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	/* A frame at an unmapped page. */
	char *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 4096);
	int r = sigreturn_at(hole + 64);
	printf("unreadable frame: back=%d sig=%d code_si_kernel=%d on_altstack=%d rsp_is_frame=%d\n", r, got_sig,
	       got_code == SI_KERNEL, on_alt, got_rsp == (uint64_t)(hole + 64));

	/* A good frame whose fpstate is unreadable. */
	base_frame();
	frame.uc_mcontext.fpregs = (fpregset_t)(hole + 128);
	r = sigreturn_at(&frame);
	printf("bad fpstate: back=%d sig=%d code_si_kernel=%d on_altstack=%d regs_from_frame=%d\n", r, got_sig,
	       got_code == SI_KERNEL, on_alt,
	       got_rip == (uint64_t)landing && got_rsp == (uint64_t)frame.uc_mcontext.gregs[REG_RSP]);

	/* A good frame: lands, with the frame's alternate stack. */
	base_frame();
	frame.uc_stack.ss_sp = altstack2;
	frame.uc_stack.ss_size = sizeof altstack2;
	r = sigreturn_at(&frame);
	printf("good frame: back=%d sig=%d altstack_from_frame=%d\n", r, got_sig, landed_alt == altstack2);

	/* uc_stack with SS_ONSTACK (as a frame built on the alternate stack
	 * holds) enables that stack; back to the first one. */
	base_frame();
	frame.uc_stack.ss_flags = SS_ONSTACK;
	r = sigreturn_at(&frame);
	printf("uc_stack SS_ONSTACK: back=%d altstack_from_frame=%d\n", r, landed_alt == altstack);

	/* EFLAGS: NT and ID are not the user's to set through a frame; AC is. */
	uint64_t before;
	__asm__ volatile("pushfq; popq %0" : "=r"(before));
	base_frame();
	frame.uc_mcontext.gregs[REG_EFL] = (0x202 | 0x4000 | 0x40000 | (before & 0x200000)) ^ 0x200000;
	r = sigreturn_at(&frame);
	printf("eflags: back=%d nt=%d ac=%d id_unchanged=%d\n", r, (int)(landed_flags >> 14 & 1),
	       (int)(landed_flags >> 18 & 1), (landed_flags & 0x200000) == (before & 0x200000));

	/* sigaltstack: SS_ONSTACK means "enable", as 0 does. */
	ss.ss_flags = SS_ONSTACK;
	printf("sigaltstack SS_ONSTACK -> %d\n", sigaltstack(&ss, NULL));
	ss.ss_flags = 4;
	r = sigaltstack(&ss, NULL);
	printf("sigaltstack flags 4 -> %d (%s)\n", r, r ? strerrorname_np(errno) : "");
	/* Segments: CS and SS as the frame gives them. */
	static const struct {
		uint16_t cs, ss;
		int strict;
	} segs[] = {
		{0x33, 0x2b, 1}, {0x10, 0x2b, 0}, {0x08, 0x2b, 1}, {0x2b, 0x2b, 0}, {0x00, 0x2b, 0},
		{0x3b, 0x2b, 0}, {0xffff, 0x2b, 0}, {0x13, 0x1234, 0}, {0x33, 0x00, 1}, {0x33, 0x10, 1},
		{0x33, 0x2f, 1}, {0x33, 0x28, 1}, {0x33, 0x00, 0}, {0x33, 0x10, 0}, {0x33, 0x33, 0},
	};
	for (unsigned i = 0; i < sizeof segs / sizeof segs[0]; i++) {
		base_frame();
		frame.uc_mcontext.gregs[REG_CSGSFS] = segs[i].cs | (greg_t)segs[i].ss << 48;
		frame.uc_flags = segs[i].strict ? 4 /* UC_STRICT_RESTORE_SS */ : 0;
		r = sigreturn_at(&frame);
		printf("cs %#x ss %#x strict %d: back=%d", segs[i].cs, segs[i].ss, segs[i].strict, r);
		if (r == 1)
			printf(" sig=%d code_si_kernel=%d trapno=%d err=%#lx segs=%#lx on_altstack=%d regs_from_frame=%d",
			       got_sig, got_code == SI_KERNEL, (int)got_trapno, (unsigned long)got_err,
			       (unsigned long)got_segs, on_alt,
			       got_rip == (uint64_t)landing && got_rsp == (uint64_t)frame.uc_mcontext.gregs[REG_RSP]);
		printf("\n");
	}
	return 0;
}
