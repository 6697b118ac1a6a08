//go:build ignore

/* fs_utimes: the older time-setting calls static binaries still make
 * (utime, utimes, futimesat; busybox touch uses utimes), in a fresh
 * directory under /tmp (kshim needs --rw): explicit times, NULL for now,
 * futimesat on a dirfd with a relative path and on a file fd with no path,
 * microseconds out of range, bad pointers, missing files. Prints facts
 * only (times set explicitly, "now" as a comparison). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "common.h"

static void times_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		printf("  stat %s: %s\n", path, ename(errno));
		return;
	}
	printf("  %s atime %ld.%09ld mtime %ld.%09ld\n", path, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(void)
{
	char dir[] = "/tmp/kshim-fsutimes-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir)) {
		perror("setup");
		return 1;
	}
	int fd = open("f", O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		perror("open");
		return 1;
	}

	struct utimbuf ub = {.actime = 1000000000, .modtime = 1100000000};
	rc("utime(f, 1e9/1.1e9)", syscall(SYS_utime, "f", &ub));
	times_of("f");

	struct timeval tv[2] = {{1200000000, 123456}, {1300000000, 999999}};
	rc("utimes(f, usec)", syscall(SYS_utimes, "f", tv));
	times_of("f");

	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	struct timeval tv2[2] = {{1400000000, 1}, {1500000000, 2}};
	rc("futimesat(dirfd, f)", syscall(SYS_futimesat, dfd, "f", tv2));
	times_of("f");
	struct timeval tv3[2] = {{1600000000, 0}, {1700000000, 500000}};
	rc("futimesat(fd, NULL)", syscall(SYS_futimesat, fd, NULL, tv3));
	times_of("f");
	rc("futimesat(AT_FDCWD, NULL)", syscall(SYS_futimesat, AT_FDCWD, NULL, tv3));
	rc("futimesat(badfd, f)", syscall(SYS_futimesat, 999, "f", tv3));

	time_t before = time(NULL);
	rc("utimes(f, NULL)", syscall(SYS_utimes, "f", NULL));
	struct stat st;
	stat("f", &st);
	printf("  now: mtime >= before %d\n", st.st_mtim.tv_sec >= before);
	rc("utime(f, NULL)", syscall(SYS_utime, "f", NULL));

	struct timeval neg[2] = {{1, -1}, {1, 0}};
	rc("utimes(usec -1)", syscall(SYS_utimes, "f", neg));
	struct timeval big[2] = {{1, 0}, {1, 1000000}};
	rc("utimes(usec 1e6)", syscall(SYS_utimes, "f", big));
	rc("utimes(bad times ptr)", syscall(SYS_utimes, "f", (void *)8));
	rc("utime(bad times ptr)", syscall(SYS_utime, "f", (void *)8));
	rc("utimes(bad path ptr)", syscall(SYS_utimes, (void *)8, tv));
	rc("utimes(missing)", syscall(SYS_utimes, "missing", tv));
	rc("utimes(f/x)", syscall(SYS_utimes, "f/x", tv));
	symlink("f", "l");
	struct timeval tv4[2] = {{1800000000, 7}, {1900000000, 8}};
	rc("utimes(symlink follows)", syscall(SYS_utimes, "l", tv4));
	times_of("f");

	unlink("l");
	unlink("f");
	close(fd);
	close(dfd);
	chdir("/");
	rmdir(dir);
	return 0;
}
