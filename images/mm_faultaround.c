//go:build ignore

/* mm_faultaround: what mapping more than the faulting page must not
 * change.  kshim maps file pages around a read fault, zero pages after a
 * demand-zero fault and into small fresh mappings, copies ahead on
 * sequential copy-on-write, and may copy a small address space at fork;
 * the program must see exactly what Linux shows: mincore (page-cache
 * residency for a file, touched pages for anonymous memory), SIGBUS past
 * the end of a file (also after a truncation), a private file mapping
 * seeing later changes to the file until a page is written, and
 * copy-on-write isolation between parent and child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define FPAGES 40            /* whole pages of the file */
#define FSIZE (FPAGES * PG + 100) /* and a partial one */
#define MPAGES 48            /* the mapping reaches past the end */

static char pat(size_t i)
{
	return (char)('a' + (i * 13 + i / PG) % 26);
}

static void show_mincore(const char *what, void *p, size_t pages)
{
	unsigned char vec[512];
	if (pages > sizeof vec || mincore(p, pages * PG, vec) != 0) {
		printf("%s: mincore -> %s\n", what, ename(errno));
		return;
	}
	char s[513];
	for (size_t i = 0; i < pages; i++)
		s[i] = '0' + (vec[i] & 1);
	s[pages] = 0;
	printf("%s: %s\n", what, s);
}

static const char *probe(volatile char *p)
{
	char c;
	if (try_read(p, &c) == 0)
		return "ok";
	return fault_code_name(fault_sig, fault_code);
}

static void file_mapping(void)
{
	char path[] = "/tmp/kshim-faultaround-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		exit(10);
	unlink(path);
	static char buf[FSIZE];
	for (size_t i = 0; i < FSIZE; i++)
		buf[i] = pat(i);
	if (write(fd, buf, FSIZE) != (ssize_t)FSIZE)
		exit(11);
	volatile char *p = mmap(NULL, MPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		exit(12);

	/* One read fault; the file was just written, so every page of it is
	 * in the page cache, mapped or not. */
	printf("file: page 0 byte %s\n", p[5] == pat(5) ? "matches" : "differs");
	show_mincore("file: mincore after one read", (void *)p, FPAGES + 1);
	int ok = 1;
	for (size_t i = 0; i < FPAGES; i++)
		if (p[i * PG + 77] != pat(i * PG + 77))
			ok = 0;
	printf("file: every page reads the file: %s\n", ok ? "yes" : "no");

	/* The partial last page, then pages wholly past the end. */
	printf("file: partial page tail %s, past the data zero %s\n",
	       p[FPAGES * PG + 99] == pat(FPAGES * PG + 99) ? "matches" : "differs",
	       p[FPAGES * PG + 100] == 0 && p[FPAGES * PG + PG - 1] == 0 ? "yes" : "no");
	printf("file: first page past the end: %s\n", probe(p + (FPAGES + 1) * PG));
	printf("file: last page of the mapping: %s\n", probe(p + (MPAGES - 1) * PG));

	/* A page not yet written shows a later change to the file... */
	char c = 'Z';
	if (pwrite(fd, &c, 1, 30 * PG + 5) != 1)
		exit(13);
	printf("file: unwritten page sees pwrite: %s\n", p[30 * PG + 5] == 'Z' ? "yes" : "no");
	/* ...a written one keeps its copy, and its neighbours still follow
	 * the file. */
	p[20 * PG] = '!';
	c = 'Y';
	if (pwrite(fd, &c, 1, 20 * PG + 1) != 1 || pwrite(fd, &c, 1, 21 * PG + 1) != 1)
		exit(14);
	printf("file: written page keeps its copy: %s, its neighbour sees pwrite: %s\n",
	       p[20 * PG] == '!' && p[20 * PG + 1] == pat(20 * PG + 1) ? "yes" : "no",
	       p[21 * PG + 1] == 'Y' ? "yes" : "no");

	/* Truncation: pages mapped ahead go too. */
	if (ftruncate(fd, 10 * PG) != 0)
		exit(15);
	printf("file: after truncate to 10 pages: page 9 %s, page 10 %s, page 25 %s, page 20 %s\n",
	       probe(p + 9 * PG), probe(p + 10 * PG), probe(p + 25 * PG), probe(p + 20 * PG));
	munmap((void *)p, MPAGES * PG);
	close(fd);
}

static void small_anon(void)
{
	volatile char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(20);
	show_mincore("anon 16: fresh", (void *)p, 16);
	p[3 * PG] = 1;
	p[9 * PG + 100] = 2;
	(void)p[12 * PG]; /* a read maps the zero page: resident too */
	show_mincore("anon 16: after touching 3, 9, reading 12", (void *)p, 16);
	printf("anon 16: untouched pages zero: %s\n",
	       all_is((void *)p, 3 * PG, 0) && all_is((void *)(p + 10 * PG), 2 * PG, 0) ? "yes" : "no");
	munmap((void *)p, 16 * PG);
	printf("anon 16: after munmap: %s\n", probe(p + 3 * PG));

	/* One demand-zero fault in a larger mapping. */
	p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(21);
	p[0] = 1;
	show_mincore("anon 64: after touching 0", (void *)p, 64);
	for (int i = 0; i < 40; i++)
		p[i * PG] = 1;
	show_mincore("anon 64: after touching 0-39", (void *)p, 64);
	munmap((void *)p, 64 * PG);

	/* Every page used, then changed at once: kshim queues the entries as
	 * one run (ept/flush.go). */
	p = mmap(NULL, 40 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(22);
	for (int i = 0; i < 40; i++)
		p[i * PG] = (char)i;
	mprotect((void *)p, 40 * PG, PROT_READ);
	int ro = 0, rd = 1;
	for (int i = 0; i < 40; i++) {
		ro += try_write(p + i * PG, 1) == SIGSEGV && fault_code == SEGV_ACCERR;
		rd &= p[i * PG] == (char)i;
	}
	printf("run: after mprotect(PROT_READ) %d of 40 writes SEGV_ACCERR, reads %s\n", ro, rd ? "intact" : "changed");
	mprotect((void *)p, 40 * PG, PROT_READ | PROT_WRITE);
	int w = 0;
	for (int i = 0; i < 40; i++)
		w += try_write(p + i * PG, 2) == 0;
	printf("run: after mprotect(PROT_READ|PROT_WRITE) %d of 40 writes land\n", w);
	munmap((void *)(p + 4 * PG), 30 * PG);
	int gone = 0;
	for (int i = 0; i < 40; i++)
		gone += strcmp(probe(p + i * PG), "SEGV_MAPERR") == 0;
	printf("run: after munmap of 30 pages %d of 40 pages gone, page 3 %s, page 34 %s\n", gone, probe(p + 3 * PG), probe(p + 34 * PG));
	munmap((void *)p, 40 * PG);
}

/* Faults that walk a mapping sparsely upwards (an allocator carving an
 * arena: kshim maps longer runs after each) or downwards (a stack: kshim
 * maps below a fault whose page above was used): mincore still shows
 * only the pages touched, a read included (Linux maps the zero page). */
static void walks(void)
{
	volatile char *p = mmap(NULL, 256 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(23);
	static const int up[] = {0, 16, 48, 112, 176, 200};
	for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
		p[up[i] * PG + 8] = 1;
	(void)p[100 * PG];
	show_mincore("walk up: touched 0 16 48 112 176 200, read 100", (void *)p, 256);
	printf("walk up: page 150 zero: %s\n", all_is((void *)(p + 150 * PG), PG, 0) ? "yes" : "no");
	munmap((void *)p, 256 * PG);

	p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(24);
	for (int i = 40; i >= 37; i--)
		p[i * PG + 8] = 1;
	(void)p[30 * PG];
	show_mincore("walk down: touched 40 39 38 37, read 30", (void *)p, 64);
	munmap((void *)p, 64 * PG);
}

/* The stack below the program's frames (kshim maps some of it at load
 * and below a fault that walks down): untouched pages are not resident,
 * one read is (the zero page). */
static int resident_pages(uintptr_t lo, uintptr_t hi)
{
	unsigned char vec[512];
	size_t n = (hi - lo) / PG;
	if (n > sizeof vec || mincore((void *)lo, hi - lo, vec) != 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

static void stack_below(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uintptr_t lo = 0, hi = 0;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "[stack]"))
			sscanf(line, "%lx-%lx", &lo, &hi);
	if (f)
		fclose(f);
	volatile char here = 0;
	uintptr_t deep = (((uintptr_t)&here) & ~(uintptr_t)(PG - 1)) - 16 * PG;
	if (!lo || deep <= lo + 2 * PG) {
		printf("stack: no room below the frames\n");
		return;
	}
	int before = resident_pages(lo, deep);
	(void)*(volatile char *)(deep - PG);
	printf("stack: pages more than 16 below the frame resident: %d, after reading one: %d\n",
	       before, resident_pages(lo, deep));
}

/* A child and its parent each write every page of a region they share
 * copy-on-write, in order, and check the other's writes stay out. */
static void fork_isolation(const char *what, size_t pages)
{
	unsigned char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(30);
	for (size_t i = 0; i < pages; i++)
		p[i * PG] = 1, p[i * PG + PG - 1] = 1;
	int go[2], back[2];
	if (pipe(go) || pipe(back))
		exit(31);
	pid_t pid = fork();
	if (pid < 0)
		exit(32);
	if (pid == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* The parent has written 2 everywhere. */
		int ok = 1;
		for (size_t i = 0; i < pages; i++)
			if (p[i * PG] != 1 || p[i * PG + PG - 1] != 1)
				ok = 0;
		for (size_t i = 0; i < pages; i++)
			p[i * PG] = 3;
		if (write(back[1], "x", 1) != 1)
			_exit(1);
		_exit(ok ? 0 : 2);
	}
	for (size_t i = 0; i < pages; i++)
		p[i * PG] = 2, p[i * PG + PG - 1] = 2;
	if (write(go[1], "x", 1) != 1)
		exit(33);
	char c;
	if (read(back[0], &c, 1) != 1)
		exit(34);
	int st;
	waitpid(pid, &st, 0);
	int ok = 1;
	for (size_t i = 0; i < pages; i++)
		if (p[i * PG] != 2 || p[i * PG + PG - 1] != 2)
			ok = 0;
	printf("%s: child saw its own copy: %s, parent kept its writes: %s\n", what,
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no", ok ? "yes" : "no");
	close(go[0]), close(go[1]), close(back[0]), close(back[1]);
	munmap(p, pages * PG);
}

/* mincore in a child of pages the parent never touched. */
static void fork_mincore(void)
{
	volatile char *p = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(40);
	p[0] = 1;
	p[5 * PG] = 1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show_mincore("fork: child's mincore", (void *)p, 32);
		printf("fork: child reads %d %d %d\n", p[0], p[5 * PG], p[6 * PG]);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	show_mincore("fork: parent's mincore", (void *)p, 32);
	munmap((void *)p, 32 * PG);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_faults();
	file_mapping();
	small_anon();
	walks();
	stack_below();
	fork_isolation("fork 64 pages", 64);
	fork_isolation("fork 9000 pages", 9000);
	fork_mincore();
	return 0;
}
