//go:build ignore

/* dev_links: Linux's /dev/fd and /dev/std{in,out,err} are symlinks into
 * /proc/self/fd. lstat and readlink see the links themselves, open and
 * stat what they lead to: the caller's own fds. kshim once answered
 * lstat("/dev/fd") with the directory it leads to, and readlink of
 * /dev/stdin with the name of the file on fd 0. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char *kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFLNK:
		return "symlink";
	case S_IFDIR:
		return "directory";
	case S_IFREG:
		return "file";
	case S_IFIFO:
		return "fifo";
	case S_IFCHR:
		return "chardev";
	}
	return "other";
}

int main(int argc, char **argv)
{
	int p[2];
	if (pipe(p) < 0)
		return 1;
	/* fd 0 a pipe, so what stat follows to is the same everywhere. */
	dup2(p[0], 0);
	static const char *links[] = {"/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"};
	for (unsigned i = 0; i < sizeof links / sizeof links[0]; i++) {
		const char *l = links[i];
		struct stat st;
		if (lstat(l, &st) < 0)
			printf("lstat(%s) -> %s\n", l, ename(errno));
		else
			printf("lstat(%s): %s, size %lld\n", l, kind(st.st_mode), (long long)st.st_size);
		char buf[256];
		ssize_t n = readlink(l, buf, sizeof buf - 1);
		if (n < 0)
			printf("readlink(%s) -> %s\n", l, ename(errno));
		else
			printf("readlink(%s) = %.*s\n", l, (int)n, buf);
		int fd = open(l, O_RDONLY | O_NOFOLLOW);
		printf("open(%s, O_NOFOLLOW) -> %s\n", l, fd < 0 ? ename(errno) : "an fd");
		if (fd >= 0)
			close(fd);
		fd = open(l, O_PATH | O_NOFOLLOW);
		if (fd < 0) {
			printf("open(%s, O_PATH|O_NOFOLLOW) -> %s\n", l, ename(errno));
		} else {
			n = readlinkat(fd, "", buf, sizeof buf - 1);
			printf("readlinkat(O_PATH|O_NOFOLLOW fd of %s, \"\") = %.*s\n", l, n < 0 ? 0 : (int)n, buf);
			close(fd);
		}
	}
	struct stat st;
	show("stat(/dev/stdin) is fd 0's pipe", stat("/dev/stdin", &st) == 0 && S_ISFIFO(st.st_mode) ? 0 : -1);
	show("stat(/dev/fd) is a directory", stat("/dev/fd", &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1);
	show("lstat(/dev/fd/) follows the trailing slash", lstat("/dev/fd/", &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1);
	show("lstat(/dev/fd/0) is fd 0's link", lstat("/dev/fd/0", &st) == 0 && S_ISLNK(st.st_mode) ? 0 : -1);
	/* Through the links, the caller's fds. */
	if (write(p[1], "via stdin\n", 10) != 10)
		return 1;
	int fd = open("/dev/stdin", O_RDONLY);
	char buf[32] = {0};
	if (fd < 0) {
		printf("open(/dev/stdin) -> %s\n", ename(errno));
	} else {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		printf("read(open(/dev/stdin)) = %.*s", n < 0 ? 0 : (int)n, buf);
		close(fd);
	}
	fd = open("/dev/fd/0", O_RDONLY);
	printf("open(/dev/fd/0) -> %s\n", fd < 0 ? ename(errno) : "an fd");
	DIR *d = opendir("/dev/fd/");
	printf("opendir(/dev/fd/) -> %s\n", d ? "a directory" : ename(errno));
	if (d)
		closedir(d);
	/* What follows a link is resolved below its target: a trailing slash
	 * or "." after a link to a non-directory is ENOTDIR, "/dev/fd/." is
	 * the directory and "/dev/fd/.." /proc/PID. kshim once took
	 * "/dev/stdin/" and "/dev/fd/." for the links themselves and opened
	 * "/proc/self/fd/0/" and "/proc/self/exe/". */
	static const char *through[] = {"/dev/stdin/", "/dev/stdin/.", "/dev/stderr//", "/dev/fd/.", "/dev/fd/..",
		"/dev/./fd", "/dev/../dev/stdout", "/dev/fd/0/", "/dev/stdin/..", "/proc/self/fd/0/", "/proc/self/exe/",
		"/proc/self/status/.", "/proc/self/cwd/", "/proc/mounts/"};
	for (unsigned i = 0; i < sizeof through / sizeof through[0]; i++) {
		const char *l = through[i];
		if (lstat(l, &st) < 0)
			printf("lstat(%s) -> %s", l, ename(errno));
		else
			printf("lstat(%s): %s", l, kind(st.st_mode));
		ssize_t n = readlink(l, buf, sizeof buf - 1);
		printf(", readlink -> %s", n < 0 ? ename(errno) : "a link");
		fd = open(l, O_RDONLY);
		printf(", open -> %s", fd < 0 ? ename(errno) : "an fd");
		if (fd >= 0)
			close(fd);
		fd = open(l, O_RDONLY | O_NOFOLLOW);
		printf(", O_NOFOLLOW -> %s\n", fd < 0 ? ename(errno) : "an fd");
		if (fd >= 0)
			close(fd);
	}
	/* The same relative to /dev (a walk across the mount table): with
	 * the argument "rel" (a bare root has no /dev to go to). */
	if (argc < 2 || strcmp(argv[1], "rel") != 0)
		return 0;
	static const char *rel[] = {"stdin", "stdin/", "stdin/.", "fd/.", "fd/..", "../dev/stderr/", "fd/0/"};
	if (chdir("/dev") < 0)
		return 1;
	for (unsigned i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		const char *l = rel[i];
		if (lstat(l, &st) < 0)
			printf("lstat(%s) in /dev -> %s", l, ename(errno));
		else
			printf("lstat(%s) in /dev: %s", l, kind(st.st_mode));
		fd = open(l, O_RDONLY);
		printf(", open -> %s\n", fd < 0 ? ename(errno) : "an fd");
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
