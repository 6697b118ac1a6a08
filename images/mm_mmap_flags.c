//go:build ignore

/* mm_mmap_flags: mmap flag semantics and argument validation.
 * Prints facts and errno names, never addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

/* Prints "what -> ok" or "what -> ERRNO" and unmaps a successful result. */
static void expect(const char *what, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	errno = 0;
	void *p = mmap(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		printf("%s -> %s\n", what, ename(errno));
	} else {
		printf("%s -> ok\n", what);
		munmap(p, len ? len : PG);
	}
}

int main(void)
{
	catch_faults();

	/* MAP_PRIVATE | MAP_ANONYMOUS */
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("private_anon ok=%d aligned=%d zero=%d\n", p != MAP_FAILED,
	       ((uintptr_t)p % PG) == 0, all_is(p, 4 * PG, 0));
	memset(p, 'a', 4 * PG);
	printf("private_anon rw=%d\n", all_is(p, 4 * PG, 'a'));

	/* MAP_SHARED | MAP_ANONYMOUS */
	char *s = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	printf("shared_anon ok=%d zero=%d\n", s != MAP_FAILED, all_is(s, 2 * PG, 0));
	memset(s, 's', 2 * PG);
	printf("shared_anon rw=%d\n", all_is(s, 2 * PG, 's'));
	munmap(s, 2 * PG);

	/* MAP_SHARED file: two mappings of the same file page are coherent. */
	char tmpl[] = "/tmp/kshim-mmflags-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return 11;
	unlink(tmpl);
	if (ftruncate(fd, 2 * PG) != 0)
		return 12;
	char *m1 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *m2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("shared_file two_maps_distinct=%d\n", m1 != MAP_FAILED && m2 != MAP_FAILED && m1 != m2);
	m1[PG + 5] = 'X';
	printf("shared_file alias_sees_write=%d\n", m2[PG + 5] == 'X');
	char *mp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("private_file sees_shared_data=%d\n", mp[PG + 5] == 'X');
	mp[PG + 5] = 'P';
	printf("private_file write_not_shared=%d\n", m1[PG + 5] == 'X' && m2[PG + 5] == 'X');
	munmap(mp, 2 * PG);
	munmap(m1, 2 * PG);
	munmap(m2, 2 * PG);

	/* MAP_FIXED replaces the middle two pages of p with fresh zero pages. */
	char *f = mmap(p + PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("fixed at_addr=%d\n", f == p + PG);
	printf("fixed replaced_zero=%d\n", all_is(p + PG, 2 * PG, 0));
	printf("fixed neighbours_intact=%d\n", all_is(p, PG, 'a') && all_is(p + 3 * PG, PG, 'a'));

	/* MAP_FIXED_NOREPLACE over an existing mapping -> EEXIST; over a free
	 * range it maps exactly there. */
	errno = 0;
	void *r = mmap(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("fixed_noreplace over_existing -> %s\n", r == MAP_FAILED ? ename(errno) : "ok");
	printf("fixed_noreplace existing_intact=%d\n", all_is(p, PG, 'a'));
	char *fr = free_range(8);
	r = mmap(fr + 2 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("fixed_noreplace free at_addr=%d\n", r == fr + 2 * PG);
	/* Partially overlapping the one just made -> EEXIST as well. */
	errno = 0;
	void *r2 = mmap(fr + PG, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("fixed_noreplace partial_overlap -> %s\n", r2 == MAP_FAILED ? ename(errno) : "ok");
	munmap(fr, 8 * PG);

	/* Hints: honoured when the range is free, else moved elsewhere
	 * without disturbing the existing mapping. */
	char *h = free_range(4);
	r = mmap(h, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("hint free honoured=%d\n", r == h);
	void *r3 = mmap(h, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("hint occupied moved=%d no_overlap=%d\n", r3 != h,
	       (char *)r3 + 2 * PG <= h || (char *)r3 >= h + 2 * PG);
	munmap(r3, 2 * PG);
	munmap(h, 2 * PG);

	/* MAP_NORESERVE: a big mapping, sparse touches. */
	char *nr = mmap(NULL, 1ul << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	printf("noreserve_1GiB ok=%d\n", nr != MAP_FAILED);
	if (nr != MAP_FAILED) {
		for (size_t off = 0; off < (1ul << 30); off += 64ul << 20)
			nr[off] = 1;
		nr[(1ul << 30) - 1] = 2;
		printf("noreserve touch=%d last=%d\n", nr[64ul << 20], nr[(1ul << 30) - 1]);
		munmap(nr, 1ul << 30);
	}

	/* MAP_POPULATE: zero-filled, usable. */
	char *pp = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	printf("populate ok=%d zero=%d\n", pp != MAP_FAILED, all_is(pp, 16 * PG, 0));
	munmap(pp, 16 * PG);

	/* MAP_STACK is accepted (a hint only). */
	char *st = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	printf("stack ok=%d\n", st != MAP_FAILED);
	st[8 * PG - 1] = 1;
	munmap(st, 8 * PG);

	/* MAP_GROWSDOWN: a one-page mapping at the top of a large free range
	 * grows down when the page below it is touched. */
	char *gr = free_range(1024);
	char *gtop = gr + 1023 * PG;
	char *g = mmap(gtop, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
	printf("growsdown ok=%d\n", g == gtop);
	g[0] = 'g';
	printf("growsdown below_first_page: %s\n", probe_write(gtop - PG));
	printf("growsdown below_two_pages: %s\n", probe_write(gtop - 2 * PG));
	munmap(gr, 1024 * PG);

	/* PROT_NONE mapping: reserved, faults with SEGV_ACCERR. */
	char *pn = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *res = probe_read(pn + 10);
	printf("prot_none read: %s si_addr_ok=%d\n", res, fault_addr == pn + 10);
	munmap(pn, PG);
	/* Read-only anonymous mapping: reads zero, writes fault. */
	char *ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("read_only read: %s write: %s\n", probe_read(ro), probe_write(ro + 1));
	munmap(ro, PG);

	/* Invalid arguments. */
	int rdfd = open("/proc/self/exe", O_RDONLY);
	int wrfd = open("/dev/null", O_WRONLY);
	expect("neither PRIVATE nor SHARED", NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0);
	expect("len 0", NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect("len huge", NULL, (size_t)-PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect("unaligned FIXED addr", p + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	expect("unaligned offset (anon)", NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 100);
	expect("unaligned offset (file)", NULL, PG, PROT_READ, MAP_PRIVATE, rdfd, 100);
	expect("bad fd", NULL, PG, PROT_READ, MAP_PRIVATE, 9999, 0);
	expect("fd -1 without ANONYMOUS", NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0);
	expect("SHARED+PROT_WRITE on O_RDONLY fd", NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rdfd, 0);
	expect("PRIVATE+PROT_WRITE on O_RDONLY fd", NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, rdfd, 0);
	expect("PROT_READ on O_WRONLY fd", NULL, PG, PROT_READ, MAP_PRIVATE, wrfd, 0);
	expect("SHARED+PROT_READ on O_RDONLY fd", NULL, PG, PROT_READ, MAP_SHARED, rdfd, 0);
	close(rdfd);
	close(wrfd);
	close(fd);
	munmap(p, 4 * PG);
	printf("done\n");
	return 0;
}
