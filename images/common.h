/* common.h - helpers shared by the guest test programs (images/NAME.c).
 *
 * A header only: images.mk builds each images/NAME.c alone, and this file is
 * a prerequisite of every program, so editing it rebuilds them all.  Every
 * helper is static inline (and every variable marked unused), so a program
 * pays only for what it calls and -Wall stays quiet about the rest.
 *
 * Use: #define _GNU_SOURCE, the program's own #includes, then
 *      #include "common.h".
 *
 * As everywhere in images/, what the helpers print are facts ("-> ENOMEM",
 * "SEGV_ACCERR"), never addresses, so native output is the same every run. */
#ifndef KSHIM_IMAGES_COMMON_H
#define KSHIM_IMAGES_COMMON_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before the first #include (strerrorname_np needs it)"
#endif

#include <cpuid.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096ul

/* --- errno and results --------------------------------------------------- */

/* The name of errno value e ("ENOMEM"), not the locale's message. */
static inline const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

/* Prints "what -> 0" when r is 0, else "what -> ERRNO" (errno's name). */
static inline void show(const char *what, long r)
{
	printf("%s -> %s\n", what, r == 0 ? "0" : ename(errno));
}

/* Prints "what -> ok" when r >= 0, else "what -> ERRNO". */
static inline void okay(const char *what, long r)
{
	if (r < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> ok\n", what);
}

/* Prints "what -> N" (the call's result) when r >= 0, else "what -> ERRNO". */
static inline void rc(const char *what, long r)
{
	if (r < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %ld\n", what, r);
}

/* --- memory contents ----------------------------------------------------- */

/* Whether all n bytes at p equal v. */
static inline int all_is(const void *p, size_t n, unsigned char v)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

/* A free, page-aligned range of n pages (reserved, then released): a place
 * for MAP_FIXED mappings, or an address known to be unmapped. */
static inline char *free_range(size_t n)
{
	char *p = mmap(NULL, n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(10);
	munmap(p, n * PG);
	return p;
}

/* --- signals -------------------------------------------------------------- */

typedef void (*sigaction_fn)(int, siginfo_t *, void *);

/* Installs fn as the SA_SIGINFO handler of sig (empty sa_mask). */
static inline int set_handler(int sig, sigaction_fn fn, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	return sigaction(sig, &sa, NULL);
}

/* The name of si_code for a fault signal: "SEGV_MAPERR", "BUS_ADRERR", ...;
 * SI_KERNEL is what Linux gives for a #GP (a non-canonical address). */
static inline const char *fault_code_name(int sig, int code)
{
	if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
	if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
	if (sig == SIGSEGV && code == SI_KERNEL) return "SI_KERNEL";
	if (sig == SIGBUS && code == BUS_ADRERR) return "BUS_ADRERR";
	if (sig == SIGBUS && code == BUS_OBJERR) return "BUS_OBJERR";
	return "other";
}

/* --- touching memory that may fault --------------------------------------
 *
 * catch_faults() makes SIGSEGV and SIGBUS jump back into the try_* helper
 * that was touching memory.  Each try_* returns 0 if the access completed,
 * else the signal that stopped it, with its si_code and si_addr left in
 * fault_code and fault_addr (fault_sig holds the signal, 0 after a clean
 * access).  The probe_* forms return "ok" or the si_code's name. */

static sigjmp_buf fault_jb __attribute__((unused));
static volatile int fault_sig __attribute__((unused));
static volatile int fault_code __attribute__((unused));
static void *volatile fault_addr __attribute__((unused));

static inline void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	siglongjmp(fault_jb, 1);
}

static inline void catch_faults(void)
{
	set_handler(SIGSEGV, on_fault, 0);
	set_handler(SIGBUS, on_fault, 0);
}

/* Reads *p into *out. */
static inline int try_read(const volatile char *p, char *out)
{
	fault_sig = 0;
	if (sigsetjmp(fault_jb, 1) == 0) {
		*out = *p;
		return 0;
	}
	return fault_sig;
}

/* Stores v at *p. */
static inline int try_write(volatile char *p, char v)
{
	fault_sig = 0;
	if (sigsetjmp(fault_jb, 1) == 0) {
		*p = v;
		return 0;
	}
	return fault_sig;
}

/* Stores *p back into *p: a write access that keeps the contents. */
static inline int try_rewrite(volatile char *p)
{
	fault_sig = 0;
	if (sigsetjmp(fault_jb, 1) == 0) {
		*p = *p;
		return 0;
	}
	return fault_sig;
}

/* "ok" for a try_* result of 0, else the name of the fault's si_code. */
static inline const char *fault_name(int sig)
{
	return sig == 0 ? "ok" : fault_code_name(sig, fault_code);
}

static inline const char *probe_read(const volatile char *p)
{
	char c;
	return fault_name(try_read(p, &c));
}

static inline const char *probe_write(volatile char *p)
{
	return fault_name(try_rewrite(p));
}

/* --- files and children -------------------------------------------------- */

/* read_whole reads the file at path into buf (NUL-terminated, at most
 * size - 1 bytes); -1 with errno on failure. */
static inline ssize_t read_whole(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	return n;
}

/* wait_status prints how a child ended: "WHAT: exited N", "WHAT: killed
 * by SIG" or the raw status. */
static inline void wait_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
	else
		printf("%s: status %#x\n", what, st);
}

/* have_avx says whether user code may use AVX: the CPU has it and the
 * kernel enabled its state (XCR0's XMM and YMM bits); *xcr0, when not
 * NULL, gets XCR0's low word. */
static inline int have_avx(unsigned *xcr0)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if (xcr0)
		*xcr0 = lo;
	return (lo & 6) == 6;
}

/* fork_churn says "x" on ready, then forks without pause, for ever:
 * each child waits in pause(), and past 8 of them the oldest is killed
 * and reaped (a fork always under way, for a signal to race). */
static inline __attribute__((noreturn)) void fork_churn(int ready)
{
	enum { KEEP = 8 };
	pid_t kids[KEEP];
	int n = 0;
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;) {
		pid_t c = fork();
		if (c == 0) {
			for (;;)
				pause();
		}
		if (c < 0)
			continue;
		if (n == KEEP) {
			kill(kids[0], SIGKILL);
			waitpid(kids[0], NULL, 0);
			for (int i = 1; i < KEEP; i++)
				kids[i - 1] = kids[i];
			n--;
		}
		kids[n++] = c;
	}
}

/* fork_churner starts fork_churn in a process group of its own and
 * returns its pid once it runs and has forked a while (1-5 ms, varied
 * by round); -1 on failure. */
static inline __attribute__((unused)) pid_t fork_churner(int round)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t f = fork();
	if (f == 0) {
		close(p[0]);
		setpgid(0, 0);
		fork_churn(p[1]);
	}
	setpgid(f, f); /* either may run first */
	close(p[1]);
	char c;
	ssize_t n = read(p[0], &c, 1);
	close(p[0]);
	if (f < 0 || n != 1)
		return -1;
	struct timespec ts = {0, (1 + round % 5) * 1000 * 1000};
	nanosleep(&ts, NULL);
	return f;
}

#endif /* KSHIM_IMAGES_COMMON_H */
