//go:build ignore
/* bench_micro: the guest side of `kshim bench`. One mode per run:
 *
 *   bench_micro MODE [N]
 *
 * getppid         N raw getppid syscalls                  -> ns_per_op=
 * clock_gettime   N clock_gettime(CLOCK_MONOTONIC) (libc)  -> ns_per_op=
 * first-touch     first write to N fresh anonymous pages   -> ns_per_page=
 * file-fault      first read of N pages of a file mapping  -> ns_per_page=
 *                 (bench_micro file-fault N FILE reads an existing FILE of
 *                 at least N pages of 'f', opened read-only; without FILE
 *                 it writes a temporary file itself)
 * cow-fault       write to N pages shared with a child     -> ns_per_page=
 * segv-roundtrip  N stores to a read-only page, each one
 *                 SIGSEGV -> handler skips it -> return    -> ns_per_op=
 * mmap-cycle      N x (mmap 64 KiB, touch 16 pages, munmap)-> ns_per_op=
 * posix-spawn     with 16 MiB of touched memory, N x
 *                 (posix_spawn of this program "exit", wait) -> ns_per_op=
 * futex-wake      N round trips between two threads through
 *                 a futex (FUTEX_WAIT / FUTEX_WAKE)        -> ns_per_op=
 * pipe-wake       N round trips of one byte between two
 *                 processes through two pipes              -> ns_per_op=
 * exit            exits at once (posix-spawn's child)
 *
 * Every figure is measured with clock_gettime(CLOCK_MONOTONIC) around the
 * measured loop only. On failure the program prints one line
 * "bench_micro: WHAT: strerror" on stderr and exits 1, so the harness can
 * report the runner as absent with that reason. Not in the differential
 * table: its output is a timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define BENCH_NAME "bench_micro"
#include "bench.h"

static double bench_getppid(long n)
{
	for (long i = 0; i < n / 10 + 1; i++)
		syscall(SYS_getppid);
	double t0 = now();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return (now() - t0) / n;
}

static double bench_clock(long n)
{
	struct timespec ts;
	for (long i = 0; i < n / 10 + 1; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	double t0 = now();
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (now() - t0) / n;
}

/* First write to fresh anonymous pages, in regions of at most 1 MiB (no
 * region can hold a huge page). */
static double bench_first_touch(long n)
{
	double total = 0;
	for (long done = 0; done < n;) {
		long k = n - done < 256 ? n - done : 256;
		volatile char *p = map_anon(k * PG, 0);
		double t0 = now();
		for (long i = 0; i < k; i++)
			p[i * PG] = 1;
		total += now() - t0;
		munmap((void *)p, k * PG);
		done += k;
	}
	return total / n;
}

static double bench_file_fault(long n, const char *file)
{
	int fd = bench_file(file, n * PG, PG);
	volatile char *p = mmap(NULL, n * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap of the file");
	long sum = 0;
	double t0 = now();
	for (long i = 0; i < n; i++)
		sum += p[i * PG];
	double t = now() - t0;
	if (sum != 'f' * n) {
		errno = EIO;
		die("file mapping content");
	}
	munmap((void *)p, n * PG);
	close(fd);
	return t / n;
}

static double bench_cow(long n)
{
	volatile char *p = map_anon(n * PG, 0);
	for (long i = 0; i < n; i++)
		p[i * PG] = 1;
	int wfd;
	pid_t pid = fork_holder(&wfd);
	double t0 = now();
	for (long i = 0; i < n; i++)
		p[i * PG] = 2;
	double t = now() - t0;
	close(wfd);
	int st;
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid");
	munmap((void *)p, n * PG);
	return t / n;
}

static double bench_segv(long n)
{
	char *page = segv_page();
	double t0 = 0;
	for (long i = -1; i < n; i++) {
		if (i == 0)
			t0 = now();
		__asm__ volatile("movb $1, (%%rdi)" : : "D"(page) : "memory");
	}
	double t = now() - t0;
	if (page[0] != 0) {
		errno = EIO;
		die("store to a read-only page landed");
	}
	return t / n;
}

static double bench_mmap_cycle(long n)
{
	const size_t len = 64 << 10;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		for (size_t off = 0; off < len; off += PG)
			p[off] = 1;
		if (munmap((void *)p, len) < 0)
			die("munmap");
	}
	return (now() - t0) / n;
}

/* The wake-up rows: each side blocks until the other hands it the turn,
 * so a round trip is two wake-ups of a sleeping task (bench_wakelat.c
 * varies the load around them). */
static _Atomic int turn; /* 0: main's turn, 1: the peer's */
static long wake_n;

static void turn_wait(int v)
{
	while (atomic_load(&turn) == v)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void turn_give(int v)
{
	atomic_store(&turn, v);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *turn_peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < wake_n; i++) {
		turn_wait(0);
		turn_give(0);
	}
	return NULL;
}

static double bench_futex_wake(long n)
{
	pthread_t t;
	wake_n = n;
	int err = pthread_create(&t, NULL, turn_peer, NULL);
	if (err) {
		errno = err;
		die("pthread_create");
	}
	double t0 = now();
	for (long i = 0; i < n; i++) {
		turn_give(1);
		turn_wait(1);
	}
	double r = (now() - t0) / n;
	pthread_join(t, NULL);
	return r;
}

static double bench_pipe_wake(long n)
{
	int a[2], b[2];
	if (pipe(a) < 0 || pipe(b) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		for (long i = 0; i < n; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	char c = 'w';
	double t0 = now();
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("pipe round trip");
	double r = (now() - t0) / n;
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = ECHILD;
		die("the pipe peer");
	}
	return r;
}

extern char **environ;

/* posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK), then execve) from a
 * process with some memory in use, as a shell or Python's subprocess. */
static double bench_spawn(long n, char *self)
{
	const size_t len = 16 << 20;
	char *mem = map_anon(len, 0);
	memset(mem, 1, len);
	char *argv[] = {self, "exit", NULL};
	double t0 = now();
	for (long i = 0; i < n; i++) {
		pid_t c;
		int err = posix_spawn(&c, self, NULL, NULL, argv, environ);
		if (err) {
			errno = err;
			die("posix_spawn");
		}
		int st;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			errno = ECHILD;
			die("the spawned child");
		}
	}
	double t = (now() - t0) / n;
	munmap(mem, len);
	return t;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "exit"))
		return 0;
	if (argc < 2) {
		fprintf(stderr, "usage: bench_micro MODE [N]\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = argc > 2 ? atol(argv[2]) : 0;
	double r;
	const char *key = "ns_per_op";
	if (!strcmp(mode, "getppid"))
		r = bench_getppid(n > 0 ? n : 2000);
	else if (!strcmp(mode, "clock_gettime"))
		r = bench_clock(n > 0 ? n : 2000);
	else if (!strcmp(mode, "first-touch"))
		r = bench_first_touch(n > 0 ? n : 1024), key = "ns_per_page";
	else if (!strcmp(mode, "file-fault"))
		r = bench_file_fault(n > 0 ? n : 1024, argc > 3 ? argv[3] : NULL), key = "ns_per_page";
	else if (!strcmp(mode, "cow-fault"))
		r = bench_cow(n > 0 ? n : 1024), key = "ns_per_page";
	else if (!strcmp(mode, "segv-roundtrip"))
		r = bench_segv(n > 0 ? n : 500);
	else if (!strcmp(mode, "mmap-cycle"))
		r = bench_mmap_cycle(n > 0 ? n : 200);
	else if (!strcmp(mode, "posix-spawn"))
		r = bench_spawn(n > 0 ? n : 20, argv[0]);
	else if (!strcmp(mode, "futex-wake"))
		r = bench_futex_wake(n > 0 ? n : 500);
	else if (!strcmp(mode, "pipe-wake"))
		r = bench_pipe_wake(n > 0 ? n : 500);
	else {
		fprintf(stderr, "bench_micro: unknown mode %s\n", mode);
		return 2;
	}
	printf("%s=%.1f\n", key, r);
	return 0;
}
