//go:build ignore

/* writev: write and writev directly to fd 1 (no stdio), including error
 * paths: 0-byte write, bad fd (EBADF), bad buffer (EFAULT), bad iovcnt. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

static void say(const char *s)
{
	size_t n = strlen(s);
	if (write(1, s, n) != (ssize_t)n)
		_exit(90);
}

static void result(const char *what, long r)
{
	char buf[128];
	if (r < 0)
		snprintf(buf, sizeof buf, "%s -> %s\n", what, ename(errno));
	else
		snprintf(buf, sizeof buf, "%s -> %ld\n", what, r);
	say(buf);
}

int main(void)
{
	char a[] = "first iovec, ";
	char b[] = "second iovec, ";
	char c[] = "";
	char d[] = "third iovec\n";
	struct iovec iov[4] = {
		{a, strlen(a)}, {b, strlen(b)}, {c, 0}, {d, strlen(d)},
	};
	ssize_t r = writev(1, iov, 4);
	result("writev(4 iovecs)", r);
	result("expected", (long)(strlen(a) + strlen(b) + strlen(d)));

	/* Many small iovecs. */
	static char digits[100];
	static struct iovec many[100];
	for (int i = 0; i < 100; i++) {
		digits[i] = (char)('0' + i % 10);
		many[i].iov_base = &digits[i];
		many[i].iov_len = 1;
	}
	r = writev(1, many, 100);
	say("\n");
	result("writev(100 iovecs)", r);

	errno = 0;
	result("write(len=0)", write(1, a, 0));
	errno = 0;
	result("writev(iovcnt=0)", writev(1, iov, 0));
	errno = 0;
	result("write(fd=999)", write(999, a, 3));
	errno = 0;
	result("write(fd=-1)", write(-1, a, 3));
	errno = 0;
	result("write(buf=1)", syscall(SYS_write, 1, (void *)1, 10));
	errno = 0;
	result("writev(iov=1)", syscall(SYS_writev, 1, (void *)1, 2));
	errno = 0;
	result("writev(iovcnt=-1)", syscall(SYS_writev, 1, iov, -1));
	errno = 0;
	result("writev(iovcnt=IOV_MAX+1)", syscall(SYS_writev, 1, iov, IOV_MAX + 1));
	errno = 0;
	result("read(fd=999)", read(999, a, 1));
	say("done\n");
	return 0;
}
