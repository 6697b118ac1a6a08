//go:build ignore

/* mm_msync: msync on shared file mappings, flags and errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	char path[] = "/tmp/kshim-msync-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 4 * PG) != 0)
		return 1;
	int fd2 = open(path, O_RDONLY);
	unlink(path);

	char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("map_ok=%d\n", m != MAP_FAILED);
	memcpy(m + 100, "synced data", 11);
	memcpy(m + 3 * PG, "last page", 9);

	errno = 0;
	show("msync(MS_SYNC)", msync(m, 4 * PG, MS_SYNC));
	char buf[16] = {0};
	ssize_t n = pread(fd2, buf, 11, 100);
	printf("other_fd_sees=%d\n", n == 11 && memcmp(buf, "synced data", 11) == 0);
	errno = 0;
	show("msync(MS_ASYNC)", msync(m, 4 * PG, MS_ASYNC));
	errno = 0;
	show("msync(MS_INVALIDATE)", msync(m, 4 * PG, MS_INVALIDATE));
	errno = 0;
	show("msync(MS_SYNC|MS_INVALIDATE)", msync(m, 4 * PG, MS_SYNC | MS_INVALIDATE));
	errno = 0;
	show("msync(one page, unaligned len)", msync(m + 3 * PG, 10, MS_SYNC));
	n = pread(fd2, buf, 9, 3 * PG);
	printf("last_page_sees=%d\n", n == 9 && memcmp(buf, "last page", 9) == 0);
	errno = 0;
	show("msync(len 0)", msync(m, 0, MS_SYNC));
	errno = 0;
	show("msync(flags 0)", msync(m, PG, 0));

	/* Errors. */
	errno = 0;
	show("msync(MS_SYNC|MS_ASYNC)", msync(m, PG, MS_SYNC | MS_ASYNC));
	errno = 0;
	show("msync(invalid flag bits)", msync(m, PG, 0x100));
	errno = 0;
	show("msync(unaligned addr)", msync(m + 1, PG, MS_SYNC));
	char *gone = free_range(1);
	errno = 0;
	show("msync(unmapped)", msync(gone, PG, MS_SYNC));

	/* Anonymous and private mappings: nothing to write back, still 0. */
	char *a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a[0] = 1;
	errno = 0;
	show("msync(private anon)", msync(a, PG, MS_SYNC));
	char *pf = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	pf[0] = 'P';
	errno = 0;
	show("msync(private file)", msync(pf, PG, MS_SYNC));
	n = pread(fd2, buf, 1, 0);
	printf("private_write_not_in_file=%d\n", n == 1 && buf[0] == 0);

	munmap(pf, PG);
	munmap(a, PG);
	munmap(m, 4 * PG);
	close(fd);
	close(fd2);
	printf("done\n");
	return 0;
}
