//go:build ignore
/* bench_faultlat: the guest side of `kshim faultlat`. One fault class per
 * run; every sample is one access timed with the TSC (lfence; rdtsc before,
 * rdtscp after), so the figure is the whole fault as the program sees it.
 *
 *   bench_faultlat CLASS [N]
 *
 * demand-zero  first write to anonymous pages, one per 64 KiB (so each
 *              access is a fault even where faults populate neighbours)
 * file         first read of a private file mapping, one page per 64 KiB
 *              (Linux maps up to 16 page-cache pages per file fault);
 *              `bench_faultlat file N FILE` maps an existing FILE (at least
 *              N x 64 KiB, an 'f' at every 64 KiB), opened read-only;
 *              without FILE it makes a temporary file itself
 * cow          write to pages shared with a child after fork
 * signal       store to a read-only page: SIGSEGV -> handler (skips the
 *              store) -> sigreturn -> next instruction
 * population   first write to MAP_POPULATE'd pages: the page-table entry is
 *              present before the access, so this is the cost of the first
 *              touch of the page frame itself (no fault in the process's
 *              own page tables)
 * stack        writes one page below the lowest page of the main stack,
 *              each one growing it by a page
 *
 * Output (stdout): class=, tsc_hz= (calibrated against CLOCK_MONOTONIC over
 * 20 ms), region=START-END (the addresses the samples touched, for the
 * VMM's side to match its records against), cycles= (N numbers). Errors:
 * "bench_faultlat: WHAT: strerror" on stderr, exit 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <x86intrin.h>

#define BENCH_NAME "bench_faultlat"
#include "bench.h"

#define STRIDE (16 * PG)

static uint64_t *cyc;
static uintptr_t lo, hi;

static inline uint64_t t_start(void)
{
	_mm_lfence();
	return __rdtsc();
}

static inline uint64_t t_end(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);
	_mm_lfence();
	return t;
}

static double tsc_hz(void)
{
	double a = now();
	uint64_t t0 = __rdtsc();
	while (now() - a < 20e6)
		;
	uint64_t t1 = __rdtsc();
	double b = now();
	return (t1 - t0) / (b - a) * 1e9;
}

static void demand_zero(long n)
{
	volatile char *p = map_anon(n * STRIDE, 0);
	lo = (uintptr_t)p, hi = lo + n * STRIDE;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = t_start();
		p[i * STRIDE] = 1;
		cyc[i] = t_end() - t0;
	}
}

static void file(long n, const char *name)
{
	int fd = bench_file(name, n * STRIDE, STRIDE);
	volatile char *p = mmap(NULL, n * STRIDE, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the file");
	lo = (uintptr_t)p, hi = lo + n * STRIDE;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = t_start();
		char c = p[i * STRIDE];
		cyc[i] = t_end() - t0;
		if (c != 'f') {
			errno = EIO;
			die("file mapping content");
		}
	}
}

static void cow(long n)
{
	volatile char *p = map_anon(n * PG, 0);
	for (long i = 0; i < n; i++)
		p[i * PG] = 1;
	int wfd;
	pid_t pid = fork_holder(&wfd);
	lo = (uintptr_t)p, hi = lo + n * PG;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = t_start();
		p[i * PG] = 2;
		cyc[i] = t_end() - t0;
	}
	close(wfd);
	int st;
	waitpid(pid, &st, 0);
}

static void signal_rt(long n)
{
	char *page = segv_page();
	lo = (uintptr_t)page, hi = lo + PG;
	__asm__ volatile("movb $1, (%%rdi)" : : "D"(page) : "memory"); /* warm */
	for (long i = 0; i < n; i++) {
		uint64_t t0 = t_start();
		__asm__ volatile("movb $1, (%%rdi)" : : "D"(page) : "memory");
		cyc[i] = t_end() - t0;
	}
}

static void population(long n)
{
	volatile char *p = map_anon(n * PG, MAP_POPULATE);
	lo = (uintptr_t)p, hi = lo + n * PG;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = t_start();
		p[i * PG] = 1;
		cyc[i] = t_end() - t0;
	}
}

static void __attribute__((noinline)) stack(long n)
{
	volatile char here = 0;
	/* Start 1 MiB below the current frame (below the initial stack mapping
	 * on Linux and kshim alike); the first touch grows the stack down to
	 * there and is not a sample. */
	uintptr_t base = ((uintptr_t)&here - (1ul << 20)) & ~(PG - 1);
	*(volatile char *)base = 1;
	lo = base - n * PG, hi = base;
	for (long i = 0; i < n; i++) {
		volatile char *p = (volatile char *)(base - (i + 1) * PG);
		uint64_t t0 = t_start();
		*p = 1;
		cyc[i] = t_end() - t0;
	}
	(void)here;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_faultlat CLASS [N]\n");
		return 2;
	}
	const char *class = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 0;
	if (n <= 0)
		n = 500;
	if (!strcmp(class, "stack") && n > 1536)
		n = 1536; /* stay well inside the 8 MiB stack limit */
	cyc = calloc(n, sizeof *cyc);
	if (!cyc)
		die("calloc");
	double hz = tsc_hz();
	if (!strcmp(class, "demand-zero"))
		demand_zero(n);
	else if (!strcmp(class, "file"))
		file(n, argc > 3 ? argv[3] : NULL);
	else if (!strcmp(class, "cow"))
		cow(n);
	else if (!strcmp(class, "signal"))
		signal_rt(n);
	else if (!strcmp(class, "population"))
		population(n);
	else if (!strcmp(class, "stack"))
		stack(n);
	else {
		fprintf(stderr, "bench_faultlat: unknown class %s\n", class);
		return 2;
	}
	printf("class=%s\ntsc_hz=%.0f\nregion=%#lx-%#lx\ncycles=", class, hz, (unsigned long)lo, (unsigned long)hi);
	for (long i = 0; i < n; i++)
		printf(i ? " %lu" : "%lu", (unsigned long)cyc[i]);
	printf("\n");
	return 0;
}
