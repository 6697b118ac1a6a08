//go:build ignore

/* signal_fpu: the FPU/SSE state across a SIGSEGV handler.  The interrupted
 * code runs with distinctive values in xmm0-xmm15 and on the x87 stack,
 * rounding upward (MXCSR and x87 control word) and a sticky MXCSR flag set;
 * the handler clobbers all of that and returns (rt_sigreturn), and the
 * interrupted code must see its own state again.  Also what a handler reads:
 * the fresh FPU state Linux gives it (MXCSR 0x1f80, x87 CW 0x037f), REG_ERR,
 * REG_TRAPNO, REG_CR2 and uc_mcontext.fpregs (mxcsr, cwd, the saved xmm
 * registers), and that edits to fpregs are what sigreturn restores. */
#define _GNU_SOURCE
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "common.h"

#define MXCSR_RC_MASK 0x6000u
#define MXCSR_RC_UP 0x4000u
#define MXCSR_RC_ZERO 0x6000u
#define MXCSR_ZE 0x0004u /* divide-by-zero flag (sticky) */
#define X87_RC_MASK 0x0c00u
#define X87_RC_UP 0x0800u

static unsigned char xmm_in[16][16] __attribute__((aligned(16)));
static unsigned char xmm_out[16][16] __attribute__((aligned(16)));
static unsigned char xmm_junk[16] __attribute__((aligned(16)));
static double x87_in = 1234.5678, x87_out;
static volatile unsigned mxcsr_before, mxcsr_after;
static volatile unsigned short x87cw_after;

static char *page;
static volatile int mode; /* 0: inspect and clobber, 1: edit the saved state */

/* What the handler saw. */
static volatile int calls, code, cr2_is_addr, fpregs_present, frame_xmm_ok, frame_x87_ok;
static volatile long trapno, err;
static volatile unsigned h_mxcsr, h_frame_mxcsr, h_frame_cwd;
static volatile unsigned short h_x87cw;
static volatile int h_round;

/* The value the handler puts in the saved xmm15 in mode 1. */
static const uint32_t edited_xmm15[4] = {0xfeedf00d, 0x0badcafe, 0x12345678, 0x9abcdef0};

static unsigned get_mxcsr(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static unsigned short get_x87cw(void)
{
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
	/* First, before anything can touch it: the FPU state the handler
	 * itself starts with. */
	unsigned m = get_mxcsr();
	unsigned short cw = get_x87cw();
	ucontext_t *uc = ucv;
	struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
	(void)sig;

	calls++;
	code = si->si_code;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	cr2_is_addr = (void *)uc->uc_mcontext.gregs[REG_CR2] == si->si_addr && si->si_addr == page;
	fpregs_present = fp != NULL;
	if (mode == 0) {
		h_mxcsr = m;
		h_x87cw = cw;
		h_round = fegetround();
		if (fp) {
			h_frame_mxcsr = fp->mxcsr;
			h_frame_cwd = fp->cwd;
			frame_xmm_ok = memcmp(fp->_xmm, xmm_in, sizeof xmm_in) == 0;
			/* _st[0] holds st(0), x87_in widened to 80 bits (its
			 * first 10 bytes; the other 6 are padding). */
			long double ld = x87_in;
			frame_x87_ok = memcmp(&fp->_st[0], &ld, 10) == 0;
		}
		/* Clobber: every xmm register, the x87 state (fninit empties
		 * the stack and resets the control word), the rounding mode
		 * and an exception flag. */
		memset(xmm_junk, 0xa5, sizeof xmm_junk);
		__asm__ volatile("movdqa %0, %%xmm0\n\tmovdqa %0, %%xmm1\n\t"
				 "movdqa %0, %%xmm2\n\tmovdqa %0, %%xmm3\n\t"
				 "movdqa %0, %%xmm4\n\tmovdqa %0, %%xmm5\n\t"
				 "movdqa %0, %%xmm6\n\tmovdqa %0, %%xmm7\n\t"
				 "movdqa %0, %%xmm8\n\tmovdqa %0, %%xmm9\n\t"
				 "movdqa %0, %%xmm10\n\tmovdqa %0, %%xmm11\n\t"
				 "movdqa %0, %%xmm12\n\tmovdqa %0, %%xmm13\n\t"
				 "movdqa %0, %%xmm14\n\tmovdqa %0, %%xmm15\n\t"
				 "fninit\n\tfldpi\n\tfstp %%st(0)"
				 :
				 : "m"(xmm_junk)
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
				   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		fesetround(FE_TOWARDZERO);
		volatile double zero = 0.0;
		volatile double nan = zero / zero; /* sets IE (main has ZE, not IE) */
		(void)nan;
	} else if (fp) {
		/* Edit the saved state: sigreturn must load it. */
		memcpy(&fp->_xmm[15], edited_xmm15, sizeof edited_xmm15);
		fp->mxcsr = (fp->mxcsr & ~MXCSR_RC_MASK) | MXCSR_RC_ZERO;
	}
	/* Make the page writable: the faulting store is restarted. */
	mprotect(page, PG, PROT_READ | PROT_WRITE);
}

/* Loads xmm_in into xmm0-15 and x87_in onto the x87 stack, records MXCSR,
 * stores to *page (faulting when it is PROT_NONE), then records MXCSR and
 * the x87 CW and stores the registers to xmm_out and x87_out. */
static void run(void)
{
	__asm__ volatile("movdqa 0(%[in]), %%xmm0\n\tmovdqa 16(%[in]), %%xmm1\n\t"
			 "movdqa 32(%[in]), %%xmm2\n\tmovdqa 48(%[in]), %%xmm3\n\t"
			 "movdqa 64(%[in]), %%xmm4\n\tmovdqa 80(%[in]), %%xmm5\n\t"
			 "movdqa 96(%[in]), %%xmm6\n\tmovdqa 112(%[in]), %%xmm7\n\t"
			 "movdqa 128(%[in]), %%xmm8\n\tmovdqa 144(%[in]), %%xmm9\n\t"
			 "movdqa 160(%[in]), %%xmm10\n\tmovdqa 176(%[in]), %%xmm11\n\t"
			 "movdqa 192(%[in]), %%xmm12\n\tmovdqa 208(%[in]), %%xmm13\n\t"
			 "movdqa 224(%[in]), %%xmm14\n\tmovdqa 240(%[in]), %%xmm15\n\t"
			 "fldl %[x87in]\n\t"
			 "stmxcsr %[before]\n\t"
			 "movb $1, (%[page])\n\t" /* faults */
			 "stmxcsr %[after]\n\t"
			 "fnstcw %[cw]\n\t"
			 "fstpl %[x87out]\n\t"
			 "movdqa %%xmm0, 0(%[out])\n\tmovdqa %%xmm1, 16(%[out])\n\t"
			 "movdqa %%xmm2, 32(%[out])\n\tmovdqa %%xmm3, 48(%[out])\n\t"
			 "movdqa %%xmm4, 64(%[out])\n\tmovdqa %%xmm5, 80(%[out])\n\t"
			 "movdqa %%xmm6, 96(%[out])\n\tmovdqa %%xmm7, 112(%[out])\n\t"
			 "movdqa %%xmm8, 128(%[out])\n\tmovdqa %%xmm9, 144(%[out])\n\t"
			 "movdqa %%xmm10, 160(%[out])\n\tmovdqa %%xmm11, 176(%[out])\n\t"
			 "movdqa %%xmm12, 192(%[out])\n\tmovdqa %%xmm13, 208(%[out])\n\t"
			 "movdqa %%xmm14, 224(%[out])\n\tmovdqa %%xmm15, 240(%[out])"
			 : [before] "=m"(mxcsr_before), [after] "=m"(mxcsr_after), [cw] "=m"(x87cw_after),
			   [x87out] "=m"(x87_out)
			 : [in] "r"(xmm_in), [out] "r"(xmm_out), [page] "r"(page), [x87in] "m"(x87_in)
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
			   "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
}

static const char *round_name(int r)
{
	switch (r) {
	case FE_TONEAREST: return "FE_TONEAREST";
	case FE_UPWARD: return "FE_UPWARD";
	case FE_DOWNWARD: return "FE_DOWNWARD";
	case FE_TOWARDZERO: return "FE_TOWARDZERO";
	default: return "other";
	}
}

int main(void)
{
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			xmm_in[i][j] = (unsigned char)(0x11 * (i + 1) + 3 * j);
	page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	set_handler(SIGSEGV, handler, 0);

	/* 1. The interrupted code's state survives a handler that clobbers it. */
	fesetround(FE_UPWARD);
	__asm__ volatile("stmxcsr %0\n\t"
			 "orl %1, %0\n\t"
			 "ldmxcsr %0"
			 : "+m"(mxcsr_before)
			 : "i"(MXCSR_ZE));
	mode = 0;
	run();
	unsigned m = mxcsr_after;
	printf("calls=%d code=%s\n", (int)calls, fault_code_name(SIGSEGV, code));
	printf("main: rounding_upward=%d ze_flag=%d\n", (mxcsr_before & MXCSR_RC_MASK) == MXCSR_RC_UP,
	       (mxcsr_before & MXCSR_ZE) != 0);
	printf("after: mxcsr_restored=%d x87_rc_upward=%d fegetround=%s\n", m == mxcsr_before,
	       (x87cw_after & X87_RC_MASK) == X87_RC_UP, round_name(fegetround()));
	printf("after: xmm0-15_restored=%d x87_st0_restored=%d\n", memcmp(xmm_out, xmm_in, sizeof xmm_in) == 0,
	       x87_out == x87_in);
	volatile double one = 1.0, three = 3.0;
	printf("after: division_rounds_upward=%d\n", one / three == 0x1.5555555555556p-2);
	printf("handler: mxcsr=0x%04x x87_cw=0x%04x fegetround=%s\n", h_mxcsr, (unsigned)h_x87cw,
	       round_name(h_round));
	printf("handler: trapno=%ld err=0x%lx cr2_is_si_addr=%d\n", trapno, err, (int)cr2_is_addr);
	printf("handler: fpregs_present=%d frame_mxcsr_is_interrupted=%d frame_cwd_is_interrupted=%d\n",
	       (int)fpregs_present, h_frame_mxcsr == mxcsr_before, h_frame_cwd == x87cw_after);
	printf("handler: frame_xmm0-15_are_interrupted=%d frame_st0_is_interrupted=%d\n", (int)frame_xmm_ok,
	       (int)frame_x87_ok);

	/* 2. Edits to uc_mcontext.fpregs are what sigreturn restores. */
	mprotect(page, PG, PROT_NONE);
	fesetround(FE_UPWARD);
	mode = 1;
	calls = 0;
	run();
	printf("edit: calls=%d xmm15_from_handler=%d xmm0-14_kept=%d rounding_toward_zero=%d\n", (int)calls,
	       memcmp(xmm_out[15], edited_xmm15, 16) == 0, memcmp(xmm_out, xmm_in, 15 * 16) == 0,
	       (mxcsr_after & MXCSR_RC_MASK) == MXCSR_RC_ZERO);
	fesetround(FE_TONEAREST);
	printf("done\n");
	return 0;
}
