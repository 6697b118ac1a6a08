//go:build ignore

/* fs_reopen: reopens the file it was handed as stdin by the names Linux
 * gives it (/dev/stdin, /proc/self/fd/0, /dev/fd/0) with the modes named
 * on the command line, and prints one line per attempt, then what stdin
 * still holds. images/sandbox_test.go hands it a mode 0444 file, opened
 * read-only: reopening it for writing must fail (EACCES) and leave the
 * file as it was, whatever rights kshim has on the host.
 *
 *   r, w, rw, wt (O_WRONLY|O_TRUNC), rt (O_RDONLY|O_TRUNC), a (O_WRONLY|O_APPEND) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static int flags_of(const char *m)
{
	if (!strcmp(m, "r"))
		return O_RDONLY;
	if (!strcmp(m, "w"))
		return O_WRONLY;
	if (!strcmp(m, "rw"))
		return O_RDWR;
	if (!strcmp(m, "wt"))
		return O_WRONLY | O_TRUNC;
	if (!strcmp(m, "rt"))
		return O_RDONLY | O_TRUNC;
	if (!strcmp(m, "a"))
		return O_WRONLY | O_APPEND;
	return -1;
}

int main(int argc, char **argv)
{
	static const char *names[] = {"/dev/stdin", "/proc/self/fd/0", "/dev/fd/0"};
	for (int i = 1; i < argc; i++) {
		int fl = flags_of(argv[i]);
		if (fl < 0) {
			fprintf(stderr, "bad mode %s\n", argv[i]);
			return 2;
		}
		for (unsigned n = 0; n < sizeof names / sizeof names[0]; n++) {
			int fd = open(names[n], fl);
			char what[64];
			snprintf(what, sizeof what, "open(%s, %s)", names[n], argv[i]);
			if (fd >= 0) {
				if ((fl & O_ACCMODE) != O_RDONLY && write(fd, "X", 1) != 1)
					printf("%s -> ok, write -> %s\n", what, ename(errno));
				else
					printf("%s -> ok\n", what);
				close(fd);
			} else {
				printf("%s -> %s\n", what, ename(errno));
			}
		}
	}
	char buf[256];
	ssize_t r = pread(0, buf, sizeof buf - 1, 0);
	buf[r > 0 ? r : 0] = 0;
	printf("stdin holds: \"%s\"\n", buf);
	return 0;
}
