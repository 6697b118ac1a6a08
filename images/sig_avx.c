//go:build ignore

/* sig_avx: the XSAVE state in a signal frame.  Linux saves every
 * extended component (the ymm upper halves, AVX-512, ...) in the frame
 * (UC_FP_XSTATE, struct _fpx_sw_bytes with FP_XSTATE_MAGIC1, the XSAVE
 * image, FP_XSTATE_MAGIC2), starts the handler with them in their initial
 * state and restores them from the frame at rt_sigreturn.  Checks, each
 * with the ymm registers set and the signal raised in one asm block (no
 * libc code in between):
 *   - ymm0-15 survive a handler that overwrites them all;
 *   - the handler starts with zero upper halves, sees UC_FP_XSTATE, the
 *     magic values, xfeatures with AVX, xstate_size as CPUID leaf 0xD
 *     gives it for XCR0, and the interrupted upper halves in the frame at
 *     CPUID's offset of the AVX component;
 *   - a handler that changes an upper half in the frame changes the
 *     register after sigreturn;
 *   - with FP_XSTATE_MAGIC2 corrupted only the fxsave area is restored:
 *     an xmm register changed in the frame comes back, upper halves are
 *     reset to zero.
 *   - in a child each: a frame whose xfeatures or xstate_bv leave AVX
 *     out, or whose xstate_size is too small, resets the upper halves;
 *     one XRSTOR refuses (a reserved header byte or MXCSR bit, the image
 *     not 64-byte aligned, an xstate_bv bit outside XCR0) is SIGSEGV;
 *   - DAZ set in the frame's MXCSR comes back (where the CPU has it);
 *   - a frame too big for a MINSIGSTKSZ alternate stack is SIGSEGV.
 * Facts that depend on the CPU are printed relative to CPUID/XGETBV.
 * Without AVX it says so and checks nothing; `sig_avx probe` only says
 * whether it has AVX. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "common.h"

#define MAGIC1 0x46505853u
#define MAGIC2 0x46505845u

static unsigned char in[16][32] __attribute__((aligned(32)));
static unsigned char out[16][32] __attribute__((aligned(32)));
static unsigned char junk[32] __attribute__((aligned(32)));
static unsigned char entry0[32] __attribute__((aligned(32)));
static unsigned avx_off; /* CPUID(0xD, 2).EBX: the AVX component's offset */
static unsigned xcr0;
static int daz_allowed;
static int mode;         /* which check the handler makes (main) */

#define LOAD(N) "vmovdqu " #N "*32(%[in]), %%ymm" #N "\n\t"
#define STORE(N) "vmovdqu %%ymm" #N ", " #N "*32(%[out])\n\t"
#define ALL(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

/* ymm0-15 = in; kill(getpid(), SIGUSR1); out = ymm0-15. */
static void run(void)
{
	long pid = getpid(), r;
	__asm__ volatile(ALL(LOAD) "syscall\n\t" ALL(STORE)
			 : "=a"(r)
			 : "a"((long)SYS_kill), "D"(pid), "S"((long)SIGUSR1), [in] "r"(in), [out] "r"(out)
			 : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	__asm__ volatile("vmovdqu %%ymm0, (%0)" ::"r"(entry0) : "memory");
	ucontext_t *uc = ctx;
	unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
	unsigned *sw = (unsigned *)(fp + 464);
	unsigned xsize = sw[4];
	unsigned long long xfeatures = *(unsigned long long *)(fp + 472);
	if (mode == 0) {
		unsigned a, b, c, d;
		__cpuid_count(0xd, 0, a, b, c, d);
		int zero = 1;
		for (int i = 16; i < 32; i++)
			zero &= entry0[i] == 0;
		printf("handler starts with ymm0 upper half zero: %s\n", zero ? "yes" : "no");
		printf("UC_FP_XSTATE: %s\n", uc->uc_flags & 1 ? "yes" : "no");
		printf("fpstate 64-byte aligned: %s\n", ((unsigned long)fp & 63) == 0 ? "yes" : "no");
		printf("magic1: %s\n", sw[0] == MAGIC1 ? "yes" : "no");
		printf("xfeatures has x87, SSE, AVX: %s\n", (xfeatures & 7) == 7 ? "yes" : "no");
		printf("xfeatures within XCR0: %s\n", (xfeatures & ~(unsigned long long)xcr0) == 0 ? "yes" : "no");
		printf("xstate_size is CPUID(0xd,0).ebx: %s\n", xsize == b ? "yes" : "no");
		printf("extended_size is xstate_size + 4: %s\n", sw[1] == xsize + 4 ? "yes" : "no");
		printf("magic2 after the image: %s\n", *(unsigned *)(fp + xsize) == MAGIC2 ? "yes" : "no");
		printf("xstate_bv has AVX: %s\n", fp[512] & 4 ? "yes" : "no");
		int saved = 0;
		for (int i = 0; i < 16; i++)
			saved += memcmp(fp + avx_off + 16 * i, in[i] + 16, 16) == 0;
		printf("upper halves in the frame: %d of 16\n", saved);
	} else if (mode == 1) {
		memset(fp + avx_off + 16 * 3, 0x77, 16);
	} else if (mode == 2) {
		*(unsigned *)(fp + xsize) ^= 1;
		memset(fp + 160 + 16 * 5, 0x66, 16); /* xmm5 in the fxsave area */
	} else if (mode == 3) {
		*(unsigned long long *)(fp + 472) = 3; /* xfeatures: x87 and SSE */
	} else if (mode == 4) {
		fp[512] &= ~4; /* xstate_bv without AVX */
	} else if (mode == 5) {
		sw[4] = 512; /* xstate_size below the XSAVE header's end */
		memset(fp + 160 + 16 * 5, 0x66, 16);
	} else if (mode == 6) {
		fp[528] = 1; /* a reserved XSAVE header byte */
	} else if (mode == 7) {
		*(unsigned *)(fp + 24) |= 1u << 20; /* a reserved MXCSR bit */
	} else if (mode == 8) {
		memmove(fp + 32, fp, xsize + 4); /* the image misaligned for XRSTOR */
		uc->uc_mcontext.fpregs = (void *)(fp + 32);
	} else if (mode == 10) {
		*(unsigned *)(fp + 24) |= *(unsigned *)(fp + 28) & 0x40; /* DAZ, where MXCSR_MASK has it */
		daz_allowed = (*(unsigned *)(fp + 28) & 0x40) != 0;
	} else if (mode == 9) {
		int bit = 2;
		while (xcr0 & (1u << bit))
			bit++;
		*(unsigned long long *)(fp + 512) |= 1ull << bit; /* beyond XCR0 */
	}
	/* Clobber every ymm register, and let libc use them too. */
	memset(junk, 0xee, sizeof junk);
	__asm__ volatile("vmovdqu (%0), %%ymm0\n\tvmovdqu %%ymm0, %%ymm1\n\tvmovdqu %%ymm0, %%ymm2\n\t"
			 "vmovdqu %%ymm0, %%ymm3\n\tvmovdqu %%ymm0, %%ymm4\n\tvmovdqu %%ymm0, %%ymm5\n\t"
			 "vmovdqu %%ymm0, %%ymm6\n\tvmovdqu %%ymm0, %%ymm7\n\tvmovdqu %%ymm0, %%ymm8\n\t"
			 "vmovdqu %%ymm0, %%ymm9\n\tvmovdqu %%ymm0, %%ymm10\n\tvmovdqu %%ymm0, %%ymm11\n\t"
			 "vmovdqu %%ymm0, %%ymm12\n\tvmovdqu %%ymm0, %%ymm13\n\tvmovdqu %%ymm0, %%ymm14\n\t"
			 "vmovdqu %%ymm0, %%ymm15" ::"r"(junk)
			 : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	char buf[256];
	memset(buf, 'x', sizeof buf - 1);
	buf[sizeof buf - 1] = 0;
	if (strlen(buf) != sizeof buf - 1)
		printf("strlen?\n");
}

static int same(int i, int upper, const unsigned char *want)
{
	return memcmp(out[i] + (upper ? 16 : 0), want, 16) == 0;
}

int main(int argc, char **argv)
{
	int avx = have_avx(&xcr0);
	if (argc > 1 && strcmp(argv[1], "probe") == 0) {
		printf("%s\n", avx ? "AVX" : "no AVX"); /* diff_test.go: does the guest have it? */
		return 0;
	}
	if (!avx) {
		printf("no AVX\n");
		return 0;
	}
	unsigned a, b, c, d;
	__cpuid_count(0xd, 2, a, b, c, d);
	avx_off = b;
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 32; j++)
			in[i][j] = (unsigned char)(i * 32 + j + 1);
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR1, &sa, NULL);

	mode = 0;
	run();
	int ok = 0;
	for (int i = 0; i < 16; i++)
		ok += memcmp(out[i], in[i], 32) == 0;
	printf("ymm0-15 intact after the handler: %d of 16\n", ok);

	mode = 1;
	run();
	unsigned char sev[16];
	memset(sev, 0x77, 16);
	printf("ymm3 upper half from the edited frame: %s\n", same(3, 1, sev) ? "yes" : "no");
	printf("ymm4 intact: %s\n", memcmp(out[4], in[4], 32) == 0 ? "yes" : "no");

	mode = 2;
	run();
	unsigned char six[16], z[16] = {0};
	memset(six, 0x66, 16);
	printf("bad magic2: xmm5 from the frame: %s\n", same(5, 0, six) ? "yes" : "no");
	printf("bad magic2: xmm6 intact: %s\n", same(6, 0, in[6]) ? "yes" : "no");
	int zero = 0;
	for (int i = 0; i < 16; i++)
		zero += same(i, 1, z);
	printf("bad magic2: upper halves reset: %d of 16\n", zero);

	static const char *const what[] = {
		[3] = "xfeatures x87|SSE", [4] = "xstate_bv without AVX", [5] = "xstate_size 512",
		[6] = "reserved header byte", [7] = "reserved MXCSR bit", [8] = "image 32 bytes off",
		[9] = "xstate_bv beyond XCR0"};
	for (mode = 3; mode <= 9; mode++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			run();
			int zero = 0, low = 0;
			for (int i = 0; i < 16; i++) {
				zero += same(i, 1, z);
				low += same(i, 0, in[i]) || (mode == 5 && i == 5 && same(i, 0, six));
			}
			printf("%s: returned, lower halves kept %d, upper halves reset %d, xmm5 from the frame: %s\n",
			       what[mode], low, zero, same(5, 0, six) ? "yes" : "no");
			fflush(stdout);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		if (WIFSIGNALED(st))
			printf("%s: killed by %s\n", what[mode], strsignal(WTERMSIG(st)));
	}

	/* DAZ set in the frame's MXCSR (glibc's -ffast-math start-up sets it,
	 * and every frame then holds it) comes back. */
	mode = 10;
	run();
	unsigned mx;
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	printf("MXCSR DAZ from the frame: %s\n", (mx & 0x40) && daz_allowed ? "yes" : daz_allowed ? "no" : "no DAZ");
	mx &= ~0x40u;
	__asm__ volatile("ldmxcsr %0" ::"m"(mx));

	/* A handler on an alternate stack of MINSIGSTKSZ (2048) bytes: the
	 * frame fits or it does not (SIGSEGV), as its layout says (the image
	 * 64-byte aligned below the top, then the 440-byte rt_sigframe with
	 * the handler's rsp+8 16-byte aligned). */
	static unsigned char alt[2048] __attribute__((aligned(64)));
	unsigned long top = (unsigned long)alt + sizeof alt;
	__cpuid_count(0xd, 0, a, b, c, d);
	unsigned long fpa = (top - (b + 4)) & ~63ul, frame = ((fpa - 440) & ~15ul) - 8;
	int fits = frame > (unsigned long)alt;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
		sigaltstack(&ss, NULL);
		struct sigaction sa2 = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_ONSTACK};
		sigaction(SIGUSR1, &sa2, NULL);
		mode = 11;
		run();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	int segv = WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
	printf("MINSIGSTKSZ alternate stack: %s as the layout says\n",
	       segv == !fits ? "outcome" : "NOT the outcome");
	return 0;
}
