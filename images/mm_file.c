//go:build ignore

/* mm_file: file-backed mappings.  MAP_PRIVATE copy-on-write, MAP_SHARED
 * coherence with read()/write() on the same file, msync, offsets, and
 * SIGBUS beyond the end of the file. */
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
#include <unistd.h>

#include "common.h"

#define FSIZE (3 * PG + 100) /* three full pages and a partial one */

static char pat(size_t i)
{
	return (char)('A' + (i * 7 + i / PG) % 26);
}

static int matches_pattern(const char *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(off + i))
			return 0;
	return 1;
}

static int make_file(char *path)
{
	int fd = mkstemp(path);
	if (fd < 0)
		exit(10);
	static char buf[FSIZE];
	for (size_t i = 0; i < FSIZE; i++)
		buf[i] = pat(i);
	if (write(fd, buf, FSIZE) != (ssize_t)FSIZE)
		exit(11);
	return fd;
}

static char file_byte(int fd, off_t off)
{
	char c = 0;
	if (pread(fd, &c, 1, off) != 1)
		return '?';
	return c;
}

int main(void)
{
	catch_faults();

	char path[] = "/tmp/kshim-mmfile-XXXXXX";
	int fd = make_file(path);
	/* A second, independent descriptor for the same file. */
	int fd2 = open(path, O_RDONLY);
	unlink(path);
	printf("file_ready=%d fd2_ok=%d\n", fd >= 0, fd2 >= 0);

	/* --- MAP_PRIVATE: copy on write --- */
	char *pv = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("private map_ok=%d content_ok=%d\n", pv != MAP_FAILED, matches_pattern(pv, 0, FSIZE));
	pv[10] = '#';
	pv[PG + 1] = '#';
	printf("private write_visible=%d\n", pv[10] == '#' && pv[PG + 1] == '#');
	printf("private file_unchanged=%d fd2_unchanged=%d\n", file_byte(fd, 10) == pat(10),
	       file_byte(fd2, PG + 1) == pat(PG + 1));
	/* Bytes past EOF in the last (partial) page read as zero. */
	printf("private tail_of_last_page_zero=%d\n", pv[FSIZE] == 0 && pv[4 * PG - 1] == 0);

	/* --- MAP_SHARED: coherent with read()/write() --- */
	char *sh = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("shared map_ok=%d content_ok=%d\n", sh != MAP_FAILED, matches_pattern(sh, 0, FSIZE));
	sh[20] = '!';
	sh[2 * PG + 3] = '!';
	printf("shared write_seen_by_pread=%d fd2=%d\n", file_byte(fd, 20) == '!',
	       file_byte(fd2, 2 * PG + 3) == '!');
	if (pwrite(fd, "WXYZ", 4, PG + 50) != 4)
		return 12;
	printf("shared pwrite_seen_in_map=%d\n", memcmp(sh + PG + 50, "WXYZ", 4) == 0);
	printf("msync_sync=%d\n", msync(sh, FSIZE, MS_SYNC));
	char buf[8] = {0};
	lseek(fd2, 2 * PG, SEEK_SET);
	ssize_t got = read(fd2, buf, 4);
	printf("read_after_msync=%zd ok=%d\n", got, buf[3] == '!');

	/* The private mapping's first page was written (copied), so the
	 * shared write to that page is not visible through it. */
	printf("private copied_page_ignores_file_write=%d\n", pv[10] == '#' && pv[20] == pat(20));

	/* Writing in the partial last page beyond EOF does not grow the file. */
	sh[FSIZE + 10] = 'z';
	struct stat st;
	fstat(fd, &st);
	printf("shared write_past_eof_in_page size_unchanged=%d\n", st.st_size == (off_t)FSIZE);

	/* --- Beyond the end of the file: SIGBUS --- */
	char *big = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char c = 0;
	const char *res = fault_name(try_read(big + 3 * PG + 50, &c));
	printf("beyond_eof last_partial_page: %s\n", res);
	res = fault_name(try_read(big + 4 * PG + 8, &c));
	printf("beyond_eof next_page: %s si_addr_ok=%d\n", res, fault_addr == big + 4 * PG + 8);
	res = fault_name(try_write(big + 5 * PG, 1));
	printf("beyond_eof write: %s\n", res);
	/* Growing the file makes those pages valid (and zero). */
	printf("ftruncate_grow=%d\n", ftruncate(fd, 6 * PG));
	res = fault_name(try_read(big + 4 * PG + 8, &c));
	printf("after_grow read: %s zero=%d\n", res, c == 0);
	res = fault_name(try_write(big + 5 * PG, 'q'));
	printf("after_grow write: %s seen_by_pread=%d\n", res, file_byte(fd, 5 * PG) == 'q');
	/* Shrinking the file makes them fault again. */
	printf("ftruncate_shrink=%d\n", ftruncate(fd, 2 * PG));
	res = fault_name(try_read(big + 3 * PG, &c));
	printf("after_shrink read: %s\n", res);
	munmap(big, 6 * PG);
	if (ftruncate(fd, FSIZE) != 0)
		return 13;

	/* --- Offsets (page 2 was zeroed by the truncation above) --- */
	if (pwrite(fd, "OFFS", 4, 2 * PG) != 4)
		return 15;
	char *off = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
	printf("offset map_ok=%d content_ok=%d truncated_part_zero=%d\n", off != MAP_FAILED,
	       memcmp(off, "OFFS", 4) == 0, off[100] == 0);
	res = fault_name(try_write(off, 1));
	printf("offset read_only_write: %s\n", res);
	munmap(off, PG);
	errno = 0;
	char *off2 = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 100 * PG);
	res = fault_name(try_read(off2, &c));
	printf("offset beyond_eof map_ok=%d read: %s\n", off2 != MAP_FAILED, res);
	munmap(off2, PG);

	/* --- Private mapping of an O_RDONLY fd is writable (COW) --- */
	char *rp = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
	res = fault_name(try_write(rp + 1, 'r'));
	printf("private_rdonly_fd write: %s file_unchanged=%d\n", res, file_byte(fd, 1) == pat(1));
	munmap(rp, PG);

	/* --- The mapping outlives the descriptor --- */
	char *keep = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd2, 0);
	close(fd2);
	printf("after_close content_ok=%d\n", keep[20] == '!' && keep[0] == pat(0));
	munmap(keep, PG);

	/* --- Linux detail: a private mapping's pages that were never
	 * written still follow the file (until the first write copies). --- */
	if (pwrite(fd, "ZZ", 2, 3 * PG + 4) != 2)
		return 14;
	printf("private untouched_page_follows_file=%d\n", pv[3 * PG + 4] == 'Z');
	printf("private written_page_does_not=%d\n", pv[PG + 50] == pat(PG + 50));

	/* --- Small files mapped, read and unmapped one after another (git
	 * reading loose objects): each unmapped mapping faults, although
	 * its pages were just read, and each new one reads its own file. */
	for (int i = 0; i < 3; i++) {
		char spath[] = "/tmp/kshim-mmsmall-XXXXXX";
		int sfd = mkstemp(spath);
		char want[16];
		int n = snprintf(want, sizeof want, "small file %d", i);
		if (sfd < 0 || write(sfd, want, n) != n)
			return 16;
		unlink(spath);
		int flags = i == 1 ? MAP_SHARED : MAP_PRIVATE;
		char *sp = mmap(NULL, PG, PROT_READ, flags, sfd, 0);
		close(sfd);
		int same = sp != MAP_FAILED && memcmp(sp, want, n) == 0 && memcmp(sp, want, n) == 0;
		munmap(sp, PG);
		printf("small %d content_ok=%d after_munmap read: %s\n", i, same,
		       fault_name(try_read(sp, &c)));
	}

	munmap(pv, FSIZE);
	munmap(sh, FSIZE);
	close(fd);
	printf("done\n");
	return 0;
}
