//go:build ignore

/* mm_stack: the main thread's stack grows on demand.  Deep recursion
 * grows it by several MiB, a large frame is touched far below the stack
 * pointer first, and overflowing a lowered RLIMIT_STACK raises SIGSEGV,
 * caught on an alternate signal stack. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"

#define MiB (1ul << 20)

static sigjmp_buf jb;
static volatile int g_sig, g_code;
static volatile int on_altstack;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	g_sig = sig;
	g_code = si->si_code;
	stack_t ss;
	sigaltstack(NULL, &ss);
	on_altstack = (ss.ss_flags & SS_ONSTACK) != 0;
	siglongjmp(jb, 1);
}

/* Each level uses about 1 KiB of stack and checks its data after the
 * deeper levels return. */
static __attribute__((noinline)) uint64_t recurse(int depth, uint64_t seed)
{
	volatile unsigned char frame[1000];
	for (size_t i = 0; i < sizeof frame; i++)
		frame[i] = (unsigned char)(seed + i);
	uint64_t sum = 0;
	if (depth > 0)
		sum = recurse(depth - 1, seed * 6364136223846793005ull + 1442695040888963407ull);
	for (size_t i = 0; i < sizeof frame; i++) {
		if (frame[i] != (unsigned char)(seed + i))
			return ~0ull; /* corrupted */
		sum += frame[i];
	}
	return sum;
}

static volatile uint64_t sink;
static volatile int endless = 1 << 30; /* never reached: 4 TiB of frames */

static __attribute__((noinline)) void infinite(int n)
{
	volatile char frame[4096];
	frame[0] = (char)n;
	frame[4095] = (char)n;
	if (n < endless)
		infinite(n + 1);
	sink += frame[0] + frame[4095];
}

static __attribute__((noinline)) int big_frame(size_t n)
{
	/* Touch the lowest byte first: 4 MiB below the previously used
	 * stack, so several MiB of stack must appear at once. */
	volatile char *a = __builtin_alloca(n);
	a[0] = 1;
	a[n / 2] = 2;
	a[n - 1] = 3;
	return a[0] + a[n / 2] + a[n - 1];
}

int main(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	/* Work inside a known limit: 16 MiB if we may, else what we have. */
	rlim_t want = 16 * MiB;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	printf("setrlimit_stack=%d\n", setrlimit(RLIMIT_STACK, &rl));
	printf("limit_at_least_8MiB=%d\n", want >= 8 * MiB);

	/* ~6 MiB of recursion. */
	int depth = 6 * 1024;
	uint64_t s = recurse(depth, 1);
	printf("recursion depth=%d ok=%d sum=%llu\n", depth, s != ~0ull, (unsigned long long)s);
	/* Again: the grown stack is still there and works. */
	printf("recursion_again_same=%d\n", recurse(depth, 1) == s);

	/* A 4 MiB frame, touched from its far end first. */
	printf("big_frame=%d\n", big_frame(4 * MiB));

	/* Overflow: SIGSEGV delivered on an alternate stack. */
	stack_t ss;
	ss.ss_sp = malloc(64 * 1024);
	ss.ss_size = 64 * 1024;
	ss.ss_flags = 0;
	printf("sigaltstack=%d\n", sigaltstack(&ss, NULL));
	set_handler(SIGSEGV, on_segv, SA_ONSTACK);
	if (sigsetjmp(jb, 1) == 0) {
		infinite(0);
		printf("overflow: no fault\n");
	} else {
		printf("overflow: sig=%s code=%s on_altstack=%d\n", sigabbrev_np(g_sig),
		       fault_code_name(g_sig, g_code), (int)on_altstack);
	}
	/* After the overflow, normal calls still work. */
	printf("after_overflow recursion_ok=%d\n", recurse(100, 7) != ~0ull);
	stack_t cur;
	sigaltstack(NULL, &cur);
	printf("altstack_not_active=%d\n", (cur.ss_flags & SS_ONSTACK) == 0);
	return 0;
}
