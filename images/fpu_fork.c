//go:build ignore

/* fpu_fork: the AVX state a new task starts with.  Linux copies the whole
 * FPU state of the caller into a fork child and a new thread (fpu_clone),
 * the upper halves of the ymm registers included, and execve starts the
 * new image with every register in its initial state (zero).  Each check
 * sets a ymm register and makes the call in one asm block (no libc code
 * in between, which may use ymm registers itself), and the new task
 * stores the register first thing:
 *   - a fork child sees its parent's ymm9;
 *   - a child forked after another child left a secret in ymm10 and
 *     exited sees its parent's (zero) ymm10, not the other process's;
 *   - a thread sees its creator's ymm11.
 * (What an execve'd image starts with is not checked: the C library's
 * start-up runs AVX2 string functions, whose vzeroupper clears every upper
 * half before main.)  Without AVX (CPUID, XGETBV) it says so and checks
 * nothing; `fpu_fork probe` only says whether it has AVX. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static unsigned char pat[32] __attribute__((aligned(32)));
static unsigned char zero[32] __attribute__((aligned(32)));
static unsigned char secret[32] __attribute__((aligned(32)));
static unsigned char out[32] __attribute__((aligned(32)));

static const char *upper(const unsigned char *v, const unsigned char *want)
{
	if (memcmp(v + 16, want + 16, 16) == 0)
		return want == zero ? "zero" : "the parent's";
	for (int i = 16; i < 32; i++)
		if (v[i])
			return memcmp(v + 16, secret + 16, 16) == 0 ? "another process's" : "other";
	return "zero";
}

/* fork with ymm(N) = *in; the child (or the parent, with the child's pid)
 * continues with ymm(N) stored in out. */
#define FORK_WITH(N, in)                                                          \
	({                                                                        \
		long r_;                                                          \
		__asm__ volatile("vmovdqu (%1), %%ymm" #N "\n\t"                  \
				 "mov $57, %%eax\n\t"                              \
				 "syscall\n\t"                                     \
				 "vmovdqu %%ymm" #N ", (%2)"                       \
				 : "=&a"(r_)                                       \
				 : "r"(in), "r"(out)                               \
				 : "rcx", "r11", "memory");                        \
		r_;                                                               \
	})

static int thread_fn(void *arg)
{
	(void)arg;
	/* The new thread's first instructions: store ymm11, then exit. */
	__asm__ volatile("vmovdqu %%ymm11, (%0)" ::"r"(out) : "memory");
	syscall(SYS_exit, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "probe") == 0) {
		printf("%s\n", have_avx(NULL) ? "AVX" : "no AVX"); /* diff_test.go: does the guest have it? */
		return 0;
	}
	if (!have_avx(NULL)) {
		printf("no AVX\n");
		return 0;
	}
	memset(pat, 0x5a, sizeof pat);
	memset(secret, 0xa5, sizeof secret);

	long p = FORK_WITH(9, pat);
	if (p == 0) {
		printf("fork: ymm9 upper half %s\n", upper(out, pat));
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);

	/* A child leaves a secret in ymm10 and exits at once. */
	p = FORK_WITH(10, zero);
	if (p == 0)
		__asm__ volatile("vmovdqu (%0), %%ymm10\n\t"
				 "mov $60, %%eax\n\t"
				 "xor %%edi, %%edi\n\t"
				 "syscall" ::"r"(secret)
				 : "memory");
	waitpid(p, NULL, 0);
	p = FORK_WITH(10, zero);
	if (p == 0) {
		printf("fork after another child: ymm10 upper half %s\n", upper(out, zero));
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);

	/* A thread: clone(CLONE_VM|...) by the raw call, ymm11 set just before. */
	static char stack[64 << 10] __attribute__((aligned(16)));
	memset(out, 0, sizeof out);
	long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		     CLONE_CHILD_CLEARTID;
	static volatile int ctid = 1;
	long r;
	register long r10 __asm__("r10") = (long)&ctid;
	register long r8 __asm__("r8") = 0;
	char *sp = stack + sizeof stack;
	__asm__ volatile("vmovdqu (%[in]), %%ymm11\n\t"
			 "syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%edi, %%edi\n\t"
			 "call *%[fn]\n\t"
			 "1:"
			 : "=a"(r)
			 : "a"(SYS_clone), "D"(flags), "S"(sp), "d"(0), "r"(r10), "r"(r8), [in] "r"(pat),
			   [fn] "r"(thread_fn)
			 : "rcx", "r11", "memory");
	if (r < 0) {
		printf("clone -> %s\n", ename(-r));
		return 1;
	}
	while (ctid != 0)
		syscall(SYS_futex, &ctid, 0 /* FUTEX_WAIT */, 1, NULL, NULL, 0);
	printf("thread: ymm11 upper half %s\n", upper(out, pat));

	return 0;
}
