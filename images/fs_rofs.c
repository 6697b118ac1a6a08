//go:build ignore

/* fs_rofs: every way of changing a directory tree, on the directory argv[1]
 * that holds d/ (a directory), f (a file with "hi\n"), l -> f and p (a FIFO).
 *
 * Under kshim without --rw the tree is read-only: this prints the errno a
 * read-only mount gives (EROFS where Linux's mnt_want_write fails, the
 * lookup errors that come first elsewhere); images/root_test.go checks that
 * output. With --rw (and natively) the same calls succeed: the differential
 * row runs it on a fresh tree it builds itself when argv[1] is absent. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"

static void rc_ok(const char *what, long r)
{
	printf("%-34s -> %s\n", what, r >= 0 ? "ok" : ename(errno));
}

/* open and close at once */
static long op(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd >= 0)
		close(fd);
	return fd;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/kshim-rofs-XXXXXX";
	const char *dir = argc > 1 ? argv[1] : NULL;
	if (!dir) {
		/* Build the tree (needs a writable /tmp: native or --rw). */
		if (!mkdtemp(tmpl))
			return 10;
		dir = tmpl;
		if (chdir(dir) || mkdir("d", 0755) || symlink("f", "l") || mkfifo("p", 0644))
			return 11;
		int fd = open("f", O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || write(fd, "hi\n", 3) != 3 || close(fd))
			return 12;
	} else if (chdir(dir)) {
		return 13;
	}

	/* Reads are fine either way. */
	char buf[8] = {0};
	int fd = open("f", O_RDONLY);
	rc_ok("open(f, O_RDONLY)", fd);
	rc_ok("read(f)", read(fd, buf, sizeof buf));
	printf("contents=%s", buf);
	rc_ok("ftruncate(rdonly fd)", ftruncate(fd, 0));
	rc_ok("fchmod(rdonly fd)", fchmod(fd, 0600));
	rc_ok("fchown(rdonly fd, -1, -1)", fchown(fd, -1, -1));
	rc_ok("futimens(rdonly fd)", futimens(fd, NULL));
	close(fd);
	rc_ok("access(f, R_OK)", access("f", R_OK));
	rc_ok("access(f, W_OK)", access("f", W_OK));
	rc_ok("access(d, W_OK)", access("d", W_OK));
	rc_ok("access(p, W_OK)", access("p", W_OK));
	rc_ok("access(/dev/null, W_OK)", access("/dev/null", W_OK));
	rc_ok("access(missing, W_OK)", access("missing", W_OK));

	/* open with write intent */
	rc_ok("open(f, O_WRONLY)", op("f", O_WRONLY));
	rc_ok("open(f, O_RDWR)", op("f", O_RDWR));
	rc_ok("open(f, O_RDONLY|O_TRUNC)", op("f", O_RDONLY | O_TRUNC));
	rc_ok("open(f, O_RDONLY|O_CREAT)", op("f", O_RDONLY | O_CREAT));
	rc_ok("open(f, O_CREAT|O_EXCL)", op("f", O_WRONLY | O_CREAT | O_EXCL));
	rc_ok("open(new, O_CREAT)", op("new", O_WRONLY | O_CREAT));
	rc_ok("open(nodir/new, O_CREAT)", op("nodir/new", O_WRONLY | O_CREAT));
	rc_ok("open(f/new, O_CREAT)", op("f/new", O_WRONLY | O_CREAT));
	rc_ok("open(d, O_WRONLY)", op("d", O_WRONLY));
	rc_ok("open(d, O_RDONLY|O_CREAT)", op("d", O_RDONLY | O_CREAT));
	rc_ok("open(l, O_WRONLY|O_NOFOLLOW)", op("l", O_WRONLY | O_NOFOLLOW));
	rc_ok("open(l, O_WRONLY)", op("l", O_WRONLY));
	rc_ok("open(p, O_RDWR)", op("p", O_RDWR));
	rc_ok("open(d, O_TMPFILE)", op("d", O_TMPFILE | O_RDWR));
	rc_ok("open(/dev/null, O_WRONLY)", op("/dev/null", O_WRONLY));
	rc_ok("creat(new)", creat("new", 0644) >= 0 ? 0 : -1);

	/* the tree: additions and attribute changes first, removals last,
	 * so that with --rw each call still meets the tree it expects */
	rc_ok("mkdir(new)", mkdir("new", 0755));
	rc_ok("mkdir(d)", mkdir("d", 0755));
	rc_ok("mkdir(nodir/x)", mkdir("nodir/x", 0755));
	rc_ok("link(f, g)", link("f", "g"));
	rc_ok("link(f, d)", link("f", "d"));
	rc_ok("link(missing, h)", link("missing", "h"));
	rc_ok("symlink(f, s)", symlink("f", "s"));
	rc_ok("symlink(f, l)", symlink("f", "l"));
	rc_ok("mknod(fifo2)", mknod("fifo2", S_IFIFO | 0644, 0));
	rc_ok("truncate(g, 1)", truncate("g", 1));
	rc_ok("truncate(d, 0)", truncate("d", 0));
	rc_ok("truncate(missing, 0)", truncate("missing", 0));
	rc_ok("chmod(f)", chmod("f", 0600));
	rc_ok("chmod(missing)", chmod("missing", 0600));
	rc_ok("chown(f, -1, -1)", chown("f", -1, -1));
	rc_ok("lchown(l, -1, -1)", lchown("l", -1, -1));
	rc_ok("utimes(f)", utimes("f", NULL));
	struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	rc_ok("utimensat(f, OMIT, OMIT)", utimensat(AT_FDCWD, "f", omit, 0));
	rc_ok("rename(s, s2)", rename("s", "s2"));
	rc_ok("rename(missing, s3)", rename("missing", "s3"));
	rc_ok("rmdir(.)", rmdir("."));
	rc_ok("rmdir(missing)", rmdir("missing"));
	rc_ok("rmdir(d)", rmdir("d"));
	rc_ok("unlink(missing)", unlink("missing"));
	rc_ok("unlink(nodir/x)", unlink("nodir/x"));
	rc_ok("unlink(g)", unlink("g"));

	/* whatever ran, the file is as it was or gone: report which */
	struct stat st;
	int r = stat("f", &st);
	printf("f after: %s size=%ld\n", r == 0 ? "present" : "gone", r == 0 ? (long)st.st_size : -1L);

	if (argc <= 1) {
		/* Clean up the tree this run made. */
		unlink("f"), unlink("s2"), unlink("l"), unlink("p"), unlink("fifo2");
		unlink("new"), rmdir("new"), rmdir("d");
		if (chdir("/") || rmdir(dir))
			printf("cleanup failed: %s\n", ename(errno));
	}
	return 0;
}
