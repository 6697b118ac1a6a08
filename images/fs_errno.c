//go:build ignore

/* fs_errno: bad guest pointers and bad lengths in file syscalls, none of
 * which may hurt the VMM: EFAULT for unmapped or unreadable pointers (path,
 * buffers, stat, iovecs, pollfds, fd arrays) without losing pipe data,
 * ENAMETOOLONG at PATH_MAX and NAME_MAX, short reads at the edge of a
 * mapping, EINVAL for bad flags and lengths. Writes nothing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	char *ro = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(ro + PG, PG, PROT_READ);     /* page 0 writable, page 1 read-only */
	char *edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(edge + PG, PG);                /* one writable page, then a hole */
	char *bad = free_range(1);            /* unmapped (taken last: nothing reuses it) */
	struct stat st;
	char buf[64];

	/* path pointers */
	rc("open(unmapped path)", syscall(SYS_open, bad, O_RDONLY));
	rc("open(NULL)", syscall(SYS_open, NULL, O_RDONLY));
	rc("stat(unmapped path)", syscall(SYS_stat, bad, &st));
	rc("stat(\"/\", unmapped buf)", syscall(SYS_stat, "/", bad));
	rc("stat(\"/\", read-only buf)", syscall(SYS_stat, "/", ro + PG));
	rc("newfstatat(NULL, AT_EMPTY_PATH)", syscall(SYS_newfstatat, 0, NULL, &st, AT_EMPTY_PATH));
	rc("fstat(0, unmapped)", syscall(SYS_fstat, 0, bad));
	rc("access(unmapped)", syscall(SYS_access, bad, F_OK));
	rc("readlink(unmapped path)", syscall(SYS_readlink, bad, buf, sizeof buf));
	rc("readlink(/proc/self/exe, unmapped buf)", syscall(SYS_readlink, "/proc/self/exe", bad, 64));
	rc("chdir(unmapped)", syscall(SYS_chdir, bad));
	rc("mkdir(unmapped)", syscall(SYS_mkdir, bad, 0755));
	rc("getcwd(unmapped)", syscall(SYS_getcwd, bad, 4096));
	/* a path that runs off the end of a mapping without a NUL */
	memset(edge, 'a', PG);
	rc("open(path running into a hole)", syscall(SYS_open, edge, O_RDONLY));

	/* path lengths */
	char *longp = malloc(PATH_MAX + 2);
	memset(longp, 'a', PATH_MAX + 1);
	longp[0] = '/';
	longp[PATH_MAX + 1] = 0;
	rc("open(PATH_MAX+1 bytes)", open(longp, O_RDONLY));
	longp[PATH_MAX] = 0;
	rc("open(PATH_MAX bytes, no room for NUL)", open(longp, O_RDONLY));
	for (int i = 1; i < PATH_MAX - 1; i++)
		longp[i] = i % 200 == 0 ? '/' : 'a';
	longp[PATH_MAX - 1] = 0;
	rc("open(PATH_MAX-1 bytes, short components)", open(longp, O_RDONLY));
	char name[NAME_MAX + 3] = "/";
	memset(name + 1, 'n', NAME_MAX + 1);
	name[NAME_MAX + 2] = 0;
	rc("stat(component of NAME_MAX+1)", stat(name, &st));
	name[NAME_MAX + 1] = 0;
	rc("stat(component of NAME_MAX)", stat(name, &st));
	rc("mkdir(PATH_MAX+1 bytes)", mkdir(longp, 0755) == 0 ? 0 : (errno == ENOENT ? -1 : -1));

	/* read and write buffers: the data stays in the pipe on EFAULT */
	int p[2];
	pipe(p);
	write(p[1], "0123456789", 10);
	rc("read(pipe, unmapped)", read(p[0], bad, 10));
	rc("read(pipe, read-only page)", read(p[0], ro + PG, 10));
	rc("read(pipe, 4 bytes before a read-only page, 10)", read(p[0], ro + PG - 4, 10));
	rc("read(pipe, rest)", read(p[0], buf, sizeof buf));
	printf("  rest = %.6s\n", buf);
	rc("read(pipe, NULL, 0)", read(p[0], NULL, 0));
	rc("write(pipe, unmapped, 4)", write(p[1], bad, 4));
	rc("write(pipe, huge count)", syscall(SYS_write, p[1], buf, (size_t)-1 >> 1));
	rc("write(pipe, NULL, 0)", write(p[1], NULL, 0));
	struct iovec iov[2] = {{buf, 2}, {bad, 4}};
	write(p[1], "abcdef", 6);
	rc("readv(ok iovec, unmapped iovec)", readv(p[0], iov, 2));
	rc("readv(iovecs unmapped)", readv(p[0], (struct iovec *)bad, 2));
	struct iovec neg[1] = {{buf, (size_t)-1}};
	rc("readv(negative length)", readv(p[0], neg, 1));
	rc("readv(iovcnt 1025)", syscall(SYS_readv, p[0], iov, 1025));
	rc("readv(iovcnt -1)", syscall(SYS_readv, p[0], iov, -1));
	rc("read(pipe, rest)", read(p[0], buf, sizeof buf));
	printf("  rest = %.4s\n", buf);

	/* a file read that crosses into a hole is short */
	int self = open("/proc/self/exe", O_RDONLY);
	rc("read(file, 100 bytes across a hole)", read(self, edge + PG - 50, 100));
	rc("pread(file, unmapped)", pread(self, bad, 10, 0));
	rc("lseek after the failed pread", lseek(self, 0, SEEK_CUR));
	rc("read(dir fd, NULL)", syscall(SYS_read, open("/", O_RDONLY | O_DIRECTORY), NULL, 10));
	rc("read(O_PATH fd)", read(open("/", O_PATH), buf, 1));

	/* other pointers */
	rc("pipe(unmapped)", syscall(SYS_pipe, bad));
	rc("poll(unmapped, 1)", syscall(SYS_poll, bad, 1, 0));
	rc("poll(NULL, 0, 0)", poll(NULL, 0, 0));
	struct pollfd pf = {p[0], POLLIN, 0};
	rc("poll(nfds > RLIMIT_NOFILE)", syscall(SYS_poll, &pf, 1 << 30, 0));
	int ep = epoll_create1(0);
	rc("epoll_ctl(event unmapped)", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (struct epoll_event *)bad));
	rc("epoll_wait(events unmapped)", epoll_wait(ep, (struct epoll_event *)bad, 4, 0));
	rc("getdents64(unmapped)", syscall(SYS_getdents64, open("/", O_RDONLY | O_DIRECTORY), bad, 4096));
	rc("getdents64(count 1)", syscall(SYS_getdents64, open("/", O_RDONLY | O_DIRECTORY), buf, 1));
	rc("fcntl(F_GETLK, unmapped)", fcntl(self, F_GETLK, bad));
	rc("statx(unmapped buf)", syscall(SYS_statx, AT_FDCWD, "/", 0, STATX_BASIC_STATS, bad));

	/* bad flags and arguments */
	rc("open(O_CREAT|O_DIRECTORY)", open("/tmp", O_CREAT | O_DIRECTORY | O_RDONLY, 0644));
	rc("open(O_TMPFILE read-only)", open("/tmp", O_TMPFILE | O_RDONLY, 0644));
	rc("open(unknown flag bits ignored)", close(open("/", O_RDONLY | 0x40000000)));
	rc("newfstatat(bad flags)", syscall(SYS_newfstatat, AT_FDCWD, "/", &st, 0x4));
	rc("faccessat(bad mode)", syscall(SYS_faccessat, AT_FDCWD, "/", 0x10));
	rc("readlink(size -1)", syscall(SYS_readlink, "/proc/self/exe", buf, -1));
	rc("lseek(bad whence)", lseek(self, 0, 7));
	rc("epoll_create(0)", syscall(SYS_epoll_create, 0));
	rc("epoll_create1(bad flags)", epoll_create1(1));
	rc("umask returns old", umask(027));
	rc("umask(0777|01000) keeps 0777", (umask(0) , umask(07777)) >= 0 ? (long)umask(022) : -1);
	return 0;
}
