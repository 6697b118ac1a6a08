/* bench.h - set-up shared by the benchmark guests (bench_micro.c,
 * bench_faultlat.c): the error line, the clock, fresh anonymous memory,
 * the file to fault on and the child that holds pages shared for the
 * copy-on-write rows.
 *
 * A header only, like common.h: images.mk makes it a prerequisite of the
 * bench_* programs.  Define BENCH_NAME (the program's name, for the error
 * line) before including it.  On failure a helper prints one line
 * "BENCH_NAME: WHAT: strerror" on stderr and exits 1, so the harness can
 * report the runner as absent with that reason. */
#ifndef KSHIM_IMAGES_BENCH_H
#define KSHIM_IMAGES_BENCH_H

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define PG 4096ul

static void die(const char *what)
{
	fprintf(stderr, BENCH_NAME ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* map_anon maps len bytes of fresh private anonymous memory (flags extra
 * added), advised to 4 KiB faults as on a host without transparent huge
 * pages; the advice's result is ignored where it is not known. */
static char *map_anon(size_t len, int extra)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* bench_file opens the file the file-fault rows map: NAME read-only when
 * given (it must hold at least size bytes, an 'f' at every stride), else a
 * temporary file of size bytes with an 'f' at every stride, unlinked at
 * once. */
static int bench_file(const char *name, off_t size, off_t stride)
{
	int fd;
	if (name) {
		fd = open(name, O_RDONLY);
		if (fd < 0)
			die("open");
		struct stat st;
		if (fstat(fd, &st) < 0)
			die("fstat");
		if (st.st_size < size) {
			errno = EINVAL;
			die("file shorter than the run");
		}
		return fd;
	}
	const char *dir = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/kshim-" BENCH_NAME "-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp (open a temporary file)");
	unlink(path);
	if (ftruncate(fd, size) < 0)
		die("ftruncate");
	for (off_t off = 0; off < size; off += stride)
		if (pwrite(fd, "f", 1, off) != 1)
			die("pwrite");
	return fd;
}

/* COW_PAD_PAGES of touched memory make every fork_holder fork one of a
 * 36 MiB address space: a VMM may copy a small one's pages at the fork
 * instead of sharing them (kshim's eager fork copies at most 32 MiB), and
 * the rows measure copy-on-write faults, not that. */
#define COW_PAD_PAGES 9216

/* fork_holder forks a child that only waits for *wfd to close, so the
 * caller's private pages stay shared with it (copy-on-write) meanwhile. */
static pid_t fork_holder(int *wfd)
{
	static volatile char *pad;
	if (!pad) {
		pad = map_anon(COW_PAD_PAGES * PG, 0);
		for (unsigned long i = 0; i < COW_PAD_PAGES; i++)
			pad[i * PG] = 1;
	}
	int fds[2];
	if (pipe(fds) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	*wfd = fds[1];
	return pid;
}

/* skip_store is the SIGSEGV handler of the signal rows: it steps over the
 * faulting movb $1,(%rdi) (c6 07 01). */
static void skip_store(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 3;
}

/* segv_page maps a read-only page and installs skip_store, so each
 * movb $1,(page) is one SIGSEGV round trip that leaves the page alone. */
static char *segv_page(void)
{
	char *page = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = skip_store;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		die("sigaction");
	return page;
}

#endif
