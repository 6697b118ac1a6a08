//go:build ignore

/* fs_basic: file I/O in a fresh directory under /tmp (kshim needs --rw):
 * open/creat, read/write, lseek (SEEK_SET/CUR/END/DATA/HOLE), pread/pwrite,
 * readv/writev/preadv/pwritev, O_APPEND, O_TRUNC, O_CREAT|O_EXCL,
 * O_CLOEXEC, ftruncate, fstat/stat/lstat/statx fields, sendfile, fsync,
 * umask, O_TMPFILE. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static void show_file(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		printf("  %s: %s\n", path, ename(errno));
	} else {
		buf[n] = 0;
		printf("  %s [%zd]: \"", path, n);
		for (ssize_t i = 0; i < n; i++)
			putchar(buf[i] >= ' ' && buf[i] < 127 ? buf[i] : '.');
		printf("\"\n");
	}
	if (fd >= 0)
		close(fd);
}

static const char *ftype(mode_t m)
{
	return S_ISREG(m) ? "reg" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "lnk" : S_ISFIFO(m) ? "fifo" : S_ISCHR(m) ? "chr" : "other";
}

int main(void)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	char dir[] = "/tmp/kshim-fsbasic-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir)) {
		printf("setup: %s\n", ename(errno));
		return 1;
	}
	umask(022);

	/* create, write, read back */
	int fd = open("a", O_CREAT | O_RDWR | O_EXCL, 0666);
	rc("open(a, O_CREAT|O_EXCL)", fd >= 0 ? 0 : -1);
	rc("write(hello world)", write(fd, "hello world\n", 12));
	rc("lseek(0, SEEK_CUR)", lseek(fd, 0, SEEK_CUR));
	rc("lseek(6, SEEK_SET)", lseek(fd, 6, SEEK_SET));
	char buf[64] = {0};
	rc("read(5)", read(fd, buf, 5));
	printf("  got \"%s\"\n", buf);
	rc("lseek(-3, SEEK_END)", lseek(fd, -3, SEEK_END));
	rc("lseek(-100, SEEK_CUR)", lseek(fd, -100, SEEK_CUR));
	rc("lseek(0, 42)", lseek(fd, 0, 42));
	rc("read at EOF-3", read(fd, buf, sizeof buf));
	rc("read at EOF", read(fd, buf, sizeof buf));
	rc("pwrite(HELLO, 0)", pwrite(fd, "HELLO", 5, 0));
	rc("lseek(0, SEEK_CUR) after pwrite", lseek(fd, 0, SEEK_CUR));
	memset(buf, 0, sizeof buf);
	rc("pread(5, 6)", pread(fd, buf, 5, 6));
	printf("  got \"%s\"\n", buf);
	rc("pread(off -1)", pread(fd, buf, 1, -1));
	rc("pwrite(off 100) (hole)", pwrite(fd, "Z", 1, 100));
	struct stat st;
	rc("fstat", fstat(fd, &st));
	printf("  type=%s mode=%o size=%ld nlink=%ld\n", ftype(st.st_mode), st.st_mode & 07777, (long)st.st_size, (long)st.st_nlink);
	rc("lseek(0, SEEK_DATA)", lseek(fd, 0, SEEK_DATA));
	rc("lseek(101, SEEK_DATA)", lseek(fd, 101, SEEK_DATA));
	rc("ftruncate(12)", ftruncate(fd, 12));
	rc("ftruncate(-1)", ftruncate(fd, -1));
	rc("fallocate(0, 8192)", fallocate(fd, 0, 0, 8192));
	rc("fstat size after fallocate", fstat(fd, &st) == 0 ? st.st_size : -1);
	rc("fallocate(KEEP_SIZE, 0, 16384)", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16384));
	rc("fallocate(bad mode)", fallocate(fd, 0x4000, 0, 1));
	rc("fsync", fsync(fd));
	rc("fdatasync", fdatasync(fd));
	close(fd);
	show_file("a");

	/* vectors */
	fd = open("v", O_CREAT | O_WRONLY | O_TRUNC, 0600);
	struct iovec iov[3] = {{"one ", 4}, {"", 0}, {"two\n", 4}};
	rc("writev(3)", writev(fd, iov, 3));
	struct iovec iov2[2] = {{"AB", 2}, {"CD", 2}};
	rc("pwritev(2, off 2)", pwritev(fd, iov2, 2, 2));
	rc("pwritev2(flags 0, off -1)", pwritev2(fd, iov2, 1, -1, 0));
	rc("preadv(write-only fd)", preadv(fd, iov2, 1, 0));
	close(fd);
	show_file("v");
	fd = open("v", O_RDONLY);
	char x[3] = {0}, y[5] = {0};
	struct iovec riov[2] = {{x, 2}, {y, 4}};
	rc("readv(2+4)", readv(fd, riov, 2));
	printf("  x=\"%s\" y=\"%s\"\n", x, y);
	memset(x, 0, 3), memset(y, 0, 5);
	rc("preadv(2+4, off 4)", preadv(fd, riov, 2, 4));
	printf("  x=\"%s\" y=\"%s\"\n", x, y);
	rc("lseek(0, SEEK_CUR) after preadv", lseek(fd, 0, SEEK_CUR));
	rc("write(read-only fd)", write(fd, "x", 1));
	close(fd);

	/* O_APPEND: every write at the end, even after lseek; pwrite too
	 * (Linux ignores the offset of pwrite on O_APPEND fds) */
	fd = open("a", O_WRONLY | O_APPEND);
	rc("lseek(0, SEEK_SET) on O_APPEND", lseek(fd, 0, SEEK_SET));
	rc("write(more)", write(fd, "more\n", 5));
	rc("pwrite(PW, 0) on O_APPEND", pwrite(fd, "PW\n", 3, 0));
	rc("fcntl(F_GETFL) has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
	rc("fcntl(F_SETFL, 0)", fcntl(fd, F_SETFL, 0));
	rc("lseek(0, SEEK_SET)", lseek(fd, 0, SEEK_SET));
	rc("write(h) not appended", write(fd, "h", 1));
	close(fd);
	show_file("a");

	/* O_TRUNC, O_CREAT|O_EXCL, creat, O_CLOEXEC */
	fd = open("a", O_WRONLY | O_TRUNC);
	rc("open(a, O_TRUNC)", fd >= 0 ? 0 : -1);
	rc("fstat size after O_TRUNC", fstat(fd, &st) == 0 ? st.st_size : -1);
	close(fd);
	rc("open(a, O_CREAT|O_EXCL) again", open("a", O_CREAT | O_EXCL | O_WRONLY, 0600));
	fd = creat("c", 0777);
	rc("creat(c, 0777) under umask 022", fd >= 0 ? 0 : -1);
	rc("fstat mode", fstat(fd, &st) == 0 ? (long)(st.st_mode & 0777) : -1);
	printf("  mode=%o\n", st.st_mode & 0777);
	rc("F_GETFD without O_CLOEXEC", fcntl(fd, F_GETFD));
	close(fd);
	fd = open("c", O_RDONLY | O_CLOEXEC);
	rc("F_GETFD with O_CLOEXEC", fcntl(fd, F_GETFD));
	rc("F_GETFL accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	mode_t old = umask(0);
	printf("umask(0) returned %o\n", old);
	fd = open("m", O_CREAT | O_WRONLY, 0666);
	rc("fstat mode under umask 0", fstat(fd, &st) == 0 ? 0 : -1);
	printf("  mode=%o\n", st.st_mode & 0777);
	close(fd);
	umask(022);

	/* stat, lstat, statx of a file, a symlink, a directory */
	if (symlink("c", "lc"))
		printf("symlink: %s\n", ename(errno));
	rc("stat(lc)", stat("lc", &st));
	printf("  type=%s size=%ld\n", ftype(st.st_mode), (long)st.st_size);
	rc("lstat(lc)", lstat("lc", &st));
	printf("  type=%s size=%ld mode=%o\n", ftype(st.st_mode), (long)st.st_size, st.st_mode & 0777);
	rc("stat(.)", stat(".", &st));
	printf("  type=%s nlink=%ld\n", ftype(st.st_mode), (long)st.st_nlink);
	struct statx sx;
	rc("statx(lc, NOFOLLOW)", statx(AT_FDCWD, "lc", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	printf("  type=%s size=%llu mask_has_basic=%d\n", ftype(sx.stx_mode), (unsigned long long)sx.stx_size,
	       (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	fd = open("c", O_RDONLY);
	rc("statx(fd, \"\", AT_EMPTY_PATH)", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE | STATX_MODE, &sx));
	printf("  type=%s size=%llu\n", ftype(sx.stx_mode), (unsigned long long)sx.stx_size);
	rc("fstatat(fd, \"\", AT_EMPTY_PATH)", fstatat(fd, "", &st, AT_EMPTY_PATH));
	rc("fstatat(fd, \"\", 0)", fstatat(fd, "", &st, 0));
	rc("statx(bad flags)", statx(AT_FDCWD, "c", 0x40000000, STATX_BASIC_STATS, &sx));
	rc("statx(reserved mask)", statx(AT_FDCWD, "c", 0, 0x80000000u, &sx));
	close(fd);

	/* sendfile from a file to a file, with and without an offset */
	int in = open("v", O_RDONLY), out = open("sf", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	off_t off = 4;
	rc("sendfile(off 4, 4)", sendfile(out, in, &off, 4));
	printf("  off now %ld\n", (long)off);
	rc("sendfile(cur, 100)", sendfile(out, in, NULL, 100));
	rc("sendfile(out read-only)", sendfile(in, in, NULL, 1));
	close(in), close(out);
	show_file("sf");

	/* O_TMPFILE: an unnamed file in the directory */
	fd = open(".", O_TMPFILE | O_RDWR, 0600);
	rc("open(., O_TMPFILE)", fd >= 0 ? 0 : -1);
	rc("write to tmpfile", write(fd, "t", 1));
	rc("fstat nlink of tmpfile", fstat(fd, &st) == 0 ? (long)st.st_nlink : -1);
	close(fd);

	/* clean up */
	const char *names[] = {"a", "v", "c", "m", "lc", "sf"};
	int bad = 0;
	for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
		bad |= unlink(names[i]);
	bad |= chdir("/") | rmdir(dir);
	printf("cleanup -> %s\n", bad ? ename(errno) : "ok");
	return 0;
}
