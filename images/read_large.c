//go:build ignore

/* read_large: one read(2) of more than kshim's 1 MiB chunk fills the
 * buffer as on Linux from a regular file (up to end of file), with
 * pread too, and from /dev/zero and /dev/urandom; a pipe's read returns
 * what it holds. dd counted kshim's 1 MiB answers as partial records. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

enum { MiB = 1 << 20 };

int main(void)
{
	char *buf = malloc(16 * MiB);
	if (!buf)
		return 1;
	int z = open("/dev/zero", O_RDONLY);
	printf("/dev/zero, 16 MiB: %zd\n", read(z, buf, 16 * MiB));
	int u = open("/dev/urandom", O_RDONLY);
	printf("/dev/urandom, 5 MiB: %zd\n", read(u, buf, 5 * MiB));

	char path[] = "/tmp/read_largeXXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		printf("mkstemp: %s\n", strerrorname_np(errno));
		return 0;
	}
	unlink(path);
	for (int i = 0; i < 3 * MiB; i++)
		buf[i] = (char)(i * 7);
	if (write(fd, buf, 3 * MiB + 12345) != 3 * MiB + 12345)
		return 1;
	memset(buf, 0, 16 * MiB);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, 16 * MiB);
	int same = 1;
	for (int i = 0; i < 3 * MiB; i++)
		same &= buf[i] == (char)(i * 7);
	printf("file of 3 MiB + 12345, read 16 MiB: %zd, contents %s, offset after %ld\n", n, same ? "right" : "wrong",
	       (long)lseek(fd, 0, SEEK_CUR));
	printf("read at end: %zd\n", read(fd, buf, 16 * MiB));
	printf("pread 4 MiB at 1 MiB - 5: %zd\n", pread(fd, buf, 4 * MiB, MiB - 5));
	n = pread(fd, buf, 2 * MiB, 2 * MiB);
	printf("pread 2 MiB at 2 MiB: %zd, byte 0 %s\n", n, buf[0] == (char)(2 * MiB * 7) ? "right" : "wrong");

	int p[2];
	if (pipe(p) < 0)
		return 1;
	if (write(p[1], buf, 1000) != 1000)
		return 1;
	printf("pipe holding 1000, read 2 MiB: %zd\n", read(p[0], buf, 2 * MiB));
	return 0;
}
