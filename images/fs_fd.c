//go:build ignore

/* fs_fd: the fd table without writing any file: dup/dup2/dup3, fcntl
 * (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/F_SETFL, record
 * locks), lowest-free allocation, shared offsets between dups, close_range,
 * RLIMIT_NOFILE (EMFILE), pipe2 with a reader and a writer in one process,
 * /dev/null, /dev/zero, /dev/full, ioctl FIONREAD/FIOCLEX, EBADF
 * everywhere. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

int main(int argc, char **argv)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	(void)argc;
	/* The program itself: a file anyone can read. */
	int f = open(argv[0], O_RDONLY);
	rc("open(self)", f >= 0 ? 0 : -1);
	printf("first fd is 3: %d\n", f == 3);

	/* dup: lowest free; shared offset and status flags */
	int d = dup(f);
	printf("dup -> %d\n", d);
	char b[4];
	rc("read 4 via fd", read(f, b, 4));
	printf("  ELF magic: %d\n", memcmp(b, "\177ELF", 4) == 0);
	rc("offset seen via dup", lseek(d, 0, SEEK_CUR));
	rc("F_SETFL O_NONBLOCK via dup", fcntl(d, F_SETFL, O_NONBLOCK));
	printf("  O_NONBLOCK seen via fd: %d\n", (fcntl(f, F_GETFL) & O_NONBLOCK) != 0);
	fcntl(f, F_SETFL, 0);
	rc("close(3)", close(f));
	rc("dup gets 3 again", dup(d));
	rc("close(3)", close(3));

	/* dup2 / dup3 */
	rc("dup2(d, 10)", dup2(d, 10));
	rc("dup2(d, d)", dup2(d, d));
	rc("dup2(99, 99)", dup2(99, 99));
	rc("dup2(99, 11)", dup2(99, 11));
	rc("dup2(d, -1)", dup2(d, -1));
	rc("dup3(d, d, 0)", dup3(d, d, 0));
	rc("dup3(d, 11, 7)", dup3(d, 11, 7));
	rc("dup3(d, 11, O_CLOEXEC)", dup3(d, 11, O_CLOEXEC));
	rc("F_GETFD(11)", fcntl(11, F_GETFD));
	rc("F_GETFD(10)", fcntl(10, F_GETFD));
	rc("dup2(d, 10) over an open fd", dup2(d, 10));
	rc("close(10)", close(10));
	rc("close(10) again", close(10));
	rc("close(-1)", close(-1));

	/* fcntl */
	rc("F_DUPFD(d, 20)", fcntl(d, F_DUPFD, 20));
	rc("F_DUPFD(d, 20) again", fcntl(d, F_DUPFD, 20));
	rc("F_DUPFD_CLOEXEC(d, 0)", fcntl(d, F_DUPFD_CLOEXEC, 0));
	rc("F_GETFD of it", fcntl(3, F_GETFD));
	rc("F_SETFD(3, 0)", fcntl(3, F_SETFD, 0));
	rc("F_GETFD(3)", fcntl(3, F_GETFD));
	rc("F_DUPFD(-1)", fcntl(d, F_DUPFD, -1));
	rc("F_GETFL accmode", fcntl(d, F_GETFL) & O_ACCMODE);
	rc("fcntl(bad cmd)", fcntl(d, 12345));
	rc("fcntl(99, F_GETFD)", fcntl(99, F_GETFD));
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	rc("F_SETLK read lock", fcntl(d, F_SETLK, &fl));
	fl.l_type = F_WRLCK;
	rc("F_GETLK (own lock: none)", fcntl(d, F_GETLK, &fl));
	printf("  l_type is F_UNLCK: %d\n", fl.l_type == F_UNLCK);
	fl.l_type = F_WRLCK;
	rc("F_SETLK write lock on read-only fd", fcntl(d, F_SETLK, &fl));
	rc("F_SETLK bad pointer", fcntl(d, F_SETLK, (void *)8));
	/* flock: per open file description, shared by dups */
	int other = open(argv[0], O_RDONLY);
	rc("flock(d, LOCK_SH|LOCK_NB)", flock(d, LOCK_SH | LOCK_NB));
	rc("flock(other open, LOCK_EX|LOCK_NB)", flock(other, LOCK_EX | LOCK_NB));
	int dd = dup(d);
	rc("flock(dup of d, LOCK_UN)", flock(dd, LOCK_UN));
	rc("flock(other open, LOCK_EX|LOCK_NB) now", flock(other, LOCK_EX | LOCK_NB));
	rc("flock(99)", flock(99, LOCK_UN));
	rc("posix_fadvise(SEQUENTIAL)", -posix_fadvise(d, 0, 0, POSIX_FADV_SEQUENTIAL));
	rc("fadvise64(bad advice)", syscall(SYS_fadvise64, d, 0, 0, 99));
	rc("fallocate(read-only fd)", fallocate(d, 0, 0, 4096));
	close(other), close(dd);
	rc("ioctl(FIOCLEX)", ioctl(d, FIOCLEX));
	rc("F_GETFD after FIOCLEX", fcntl(d, F_GETFD));
	rc("ioctl(FIONCLEX)", ioctl(d, FIONCLEX));
	rc("F_GETFD after FIONCLEX", fcntl(d, F_GETFD));

	/* close_range */
	for (int i = 30; i < 36; i++)
		dup2(d, i);
	rc("close_range(31, 33, CLOEXEC)", syscall(SYS_close_range, 31, 33, CLOSE_RANGE_CLOEXEC));
	printf("  cloexec 30..35: %d%d%d%d%d%d\n", fcntl(30, F_GETFD), fcntl(31, F_GETFD), fcntl(32, F_GETFD),
	       fcntl(33, F_GETFD), fcntl(34, F_GETFD), fcntl(35, F_GETFD));
	rc("close_range(31, 34, 0)", syscall(SYS_close_range, 31, 34, 0));
	printf("  open 30..35: %d%d%d%d%d%d\n", is_open(30), is_open(31), is_open(32), is_open(33), is_open(34), is_open(35));
	rc("close_range(5, 3, 0)", syscall(SYS_close_range, 5, 3, 0));
	rc("close_range(flags 8)", syscall(SYS_close_range, 3, 5, 8));
	rc("close_range(20, ~0U, 0)", syscall(SYS_close_range, 20, ~0U, 0));
	printf("  open 20 30 35: %d%d%d\n", is_open(20), is_open(30), is_open(35));

	/* RLIMIT_NOFILE */
	struct rlimit rl = {16, 16};
	rc("setrlimit(NOFILE, 16)", setrlimit(RLIMIT_NOFILE, &rl));
	int n = 0, last = -1;
	for (;;) {
		int x = dup(d);
		if (x < 0)
			break;
		last = x, n++;
	}
	printf("dups until %s: %d, last fd %d\n", ename(errno), n, last);
	rc("open at the limit", open(argv[0], O_RDONLY));
	rc("dup2(d, 16)", dup2(d, 16));
	rc("dup2(d, 15)", dup2(d, 15));
	rc("F_DUPFD(d, 16)", fcntl(d, F_DUPFD, 16));
	rc("pipe at the limit", pipe((int[2]){0, 0}));
	rc("close_range(3, ~0U)", syscall(SYS_close_range, 3, ~0U, 0));

	/* pipe2: reader and writer in one process */
	int p[2];
	rc("pipe2(O_CLOEXEC)", pipe2(p, O_CLOEXEC));
	printf("  fds %d %d cloexec %d %d\n", p[0], p[1], fcntl(p[0], F_GETFD), fcntl(p[1], F_GETFD));
	rc("write(pipe)", write(p[1], "through the pipe", 16));
	int avail = -1;
	rc("ioctl(FIONREAD)", ioctl(p[0], FIONREAD, &avail));
	printf("  available %d\n", avail);
	char buf[32] = {0};
	rc("read(pipe, 7)", read(p[0], buf, 7));
	rc("read(pipe, rest)", read(p[0], buf + 7, sizeof buf - 8));
	printf("  got \"%s\"\n", buf);
	rc("lseek(pipe)", lseek(p[0], 0, SEEK_SET));
	rc("write(read end)", write(p[0], "x", 1));
	rc("read(write end)", read(p[1], buf, 1));
	rc("fcntl(F_SETFL, O_NONBLOCK)", fcntl(p[0], F_SETFL, O_NONBLOCK));
	rc("read(empty, nonblocking)", read(p[0], buf, 1));
	rc("F_GETPIPE_SZ > 0", fcntl(p[0], F_GETPIPE_SZ) > 0);
	rc("close(write end)", close(p[1]));
	rc("read(EOF)", read(p[0], buf, 1));
	close(p[0]);
	rc("pipe2(bad flags)", pipe2(p, O_RDWR));
	rc("pipe2(bad pointer)", syscall(SYS_pipe2, 8L, 0));
	rc("pipe(ok) fds reused", pipe(p));
	printf("  fds %d %d\n", p[0], p[1]);
	close(p[0]), close(p[1]);

	/* the devices */
	int nul = open("/dev/null", O_RDWR);
	rc("open(/dev/null, O_RDWR)", nul >= 0 ? 0 : -1);
	rc("write(/dev/null)", write(nul, "gone", 4));
	rc("read(/dev/null)", read(nul, buf, sizeof buf));
	struct stat st;
	fstat(nul, &st);
	printf("  chr=%d rdev=%d:%d\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	close(nul);
	int z = open("/dev/zero", O_RDONLY);
	memset(buf, 'x', sizeof buf);
	rc("read(/dev/zero, 32)", read(z, buf, sizeof buf));
	printf("  all zero: %d\n", all_is(buf, sizeof buf, 0));
	close(z);
	int full = open("/dev/full", O_WRONLY);
	rc("write(/dev/full)", write(full, "x", 1));
	close(full);
	rc("open(/dev/urandom) read", (z = open("/dev/urandom", O_RDONLY)) >= 0 ? read(z, buf, 8) : -1);
	close(z);

	/* EBADF on everything */
	rc("read(99)", read(99, buf, 1));
	rc("write(99)", write(99, buf, 1));
	rc("lseek(99)", lseek(99, 0, SEEK_SET));
	rc("fstat(99)", fstat(99, &st));
	rc("dup(99)", dup(99));
	rc("fsync(99)", fsync(99));
	rc("ftruncate(99)", ftruncate(99, 0));
	rc("fchdir(99)", fchdir(99));
	rc("ioctl(99, FIONREAD)", ioctl(99, FIONREAD, &avail));
	rc("write(1<<32 | 1) is fd 1", syscall(SYS_write, (1L << 32) | 1, "hi\n", 3));
	return 0;
}
