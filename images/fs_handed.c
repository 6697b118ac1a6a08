//go:build ignore

/* fs_handed: what the guest can do with host objects it was handed (its
 * fds 0-2, the served devices, /proc/self/exe) and with fd numbers it was
 * not given. Each command-line operation prints one line on stderr,
 * "OP -> ok" or "OP -> ERRNO" (stdout is left alone: the test hands in a
 * host file there and checks it afterwards). images/root_test.go runs it
 * under `kshim run --root DIR` with fd 0 a host directory outside DIR,
 * fd 1 a host file, fd 3 an inherited host directory, and checks both the
 * errnos and that nothing outside DIR changed.
 *
 * Lookups starting at fd FD:
 *   openat:FD:REL  openatw:FD:REL (O_CREAT|O_TRUNC, writes)  fstatat:FD:REL
 *   mkdirat:FD:NAME  mknodat:FD:NAME (FIFO)  symlinkat:FD:NAME
 *   readlinkat:FD:NAME  unlinkat:FD:NAME  rmdirat:FD:NAME
 *   renameat:FD:OLD:NEW (FD/OLD -> NEW)  renameto:FD:OLD:NEW (OLD -> FD/NEW)
 *   linkat:FD:OLD:NEW   linkto:FD:OLD:NEW   linkempty:FD:NEW (AT_EMPTY_PATH)
 *   fchownat:FD:NAME  fchmodat:FD:NAME  utimensat:FD:NAME  faccessat:FD:NAME
 *   execveat:FD:NAME (only ever a name that cannot run)  fchdir:FD
 * On the object itself:
 *   statempty:FD  fstat:FD  getdents:FD  write:FD  poll:FD  flock:FD
 *   setlk:FD  setfl:FD  ftruncate:FD  fallocate:FD  fchmod:FD  fchown:FD
 *   futimens:FD  fchownempty:FD  fchmodempty:FD  utimensempty:FD
 *   mmapw:FD (MAP_SHARED, PROT_READ|PROT_WRITE)  mprotw:FD (MAP_SHARED
 *   read-only, then mprotect to writable)  pathopen:FD:MODE (an O_PATH
 *   reopen of /proc/self/fd/FD, then its own magic link opened with MODE)
 * By path:
 *   read:PATH  open:PATH:MODE (r w rw wt a)  creat:PATH  mkdir:PATH
 *   chdir:PATH  unlink:PATH  symlink:PATH  rename:OLD:NEW  link:OLD:NEW
 *   symlinkto:TARGET:PATH
 *   truncate:PATH  chmod:PATH  chown:PATH  lchown:PATH  utimes:PATH
 *   openas:FD:PATH (open read-only, then dup2 to FD)
 *   samechmod:PATH samechown:PATH sametimes:PATH (set what it already has:
 *   harmless to a host device even where it wrongly succeeds)
 *   fsamechmod:PATH fsamechown:PATH (the same through an open fd) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const char *what;

static void res(long r)
{
	fprintf(stderr, "%s -> %s\n", what, r < 0 ? ename(errno) : "ok");
}

static int fdnum(const char *s) { return atoi(s); }

static const struct timespec past[2] = {{1, 0}, {1, 0}};

static void read_first(int fd)
{
	if (fd < 0) {
		res(-1);
		return;
	}
	char buf[128] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s -> read: %s\n", what, ename(errno));
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	fprintf(stderr, "%s -> \"%s\"\n", what, buf);
}

static long write_new(int fd)
{
	if (fd < 0)
		return -1;
	long r = write(fd, "guest\n", 6);
	close(fd);
	return r;
}

static int open_mode(const char *path, const char *m)
{
	int flags = O_RDONLY;
	if (!strcmp(m, "w"))
		flags = O_WRONLY;
	else if (!strcmp(m, "rw"))
		flags = O_RDWR;
	else if (!strcmp(m, "wt"))
		flags = O_WRONLY | O_TRUNC;
	else if (!strcmp(m, "a"))
		flags = O_WRONLY | O_APPEND;
	int fd = open(path, flags);
	if (fd >= 0)
		close(fd);
	return fd;
}

int main(int argc, char **argv)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		char *op = strdup(argv[i]);
		char *a = strchr(op, ':'), *b = NULL, *c = NULL;
		what = argv[i];
		if (!a) {
			fprintf(stderr, "%s -> bad operation\n", what);
			continue;
		}
		*a++ = 0;
		if ((b = strchr(a, ':')))
			*b++ = 0;
		if (b && (c = strchr(b, ':')))
			*c++ = 0;
		int fd = fdnum(a);
		struct stat st;
		if (!strcmp(op, "openat") && b) {
			read_first(openat(fd, b, O_RDONLY));
		} else if (!strcmp(op, "openatw") && b) {
			res(write_new(openat(fd, b, O_WRONLY | O_CREAT | O_TRUNC, 0644)));
		} else if (!strcmp(op, "fstatat") && b) {
			res(fstatat(fd, b, &st, AT_SYMLINK_NOFOLLOW));
		} else if (!strcmp(op, "mkdirat") && b) {
			res(mkdirat(fd, b, 0755));
		} else if (!strcmp(op, "mknodat") && b) {
			res(mknodat(fd, b, S_IFIFO | 0644, 0));
		} else if (!strcmp(op, "symlinkat") && b) {
			res(symlinkat("target", fd, b));
		} else if (!strcmp(op, "readlinkat") && b) {
			char buf[256];
			res(readlinkat(fd, b, buf, sizeof buf));
		} else if (!strcmp(op, "unlinkat") && b) {
			res(unlinkat(fd, b, 0));
		} else if (!strcmp(op, "rmdirat") && b) {
			res(unlinkat(fd, b, AT_REMOVEDIR));
		} else if (!strcmp(op, "renameat") && c) {
			res(renameat(fd, b, AT_FDCWD, c));
		} else if (!strcmp(op, "renameto") && c) {
			res(renameat(AT_FDCWD, b, fd, c));
		} else if (!strcmp(op, "linkat") && c) {
			res(linkat(fd, b, AT_FDCWD, c, 0));
		} else if (!strcmp(op, "linkto") && c) {
			res(linkat(AT_FDCWD, b, fd, c, 0));
		} else if (!strcmp(op, "linkempty") && b) {
			res(linkat(fd, "", AT_FDCWD, b, AT_EMPTY_PATH));
		} else if (!strcmp(op, "fchownat") && b) {
			res(fchownat(fd, b, 12345, 12345, AT_SYMLINK_NOFOLLOW));
		} else if (!strcmp(op, "fchmodat") && b) {
			res(fchmodat(fd, b, 0600, 0));
		} else if (!strcmp(op, "utimensat") && b) {
			res(utimensat(fd, b, past, AT_SYMLINK_NOFOLLOW));
		} else if (!strcmp(op, "faccessat") && b) {
			res(faccessat(fd, b, F_OK, 0));
		} else if (!strcmp(op, "execveat") && b) {
			char *args[] = {b, NULL};
			res(syscall(SYS_execveat, fd, b, args, (char *[]){NULL}, 0));
		} else if (!strcmp(op, "fchdir")) {
			res(fchdir(fd));
		} else if (!strcmp(op, "statempty")) {
			res(fstatat(fd, "", &st, AT_EMPTY_PATH));
		} else if (!strcmp(op, "fstat")) {
			res(fstat(fd, &st));
		} else if (!strcmp(op, "getdents")) {
			char buf[4096];
			long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
			res(n > 0 ? 0 : n == 0 ? (errno = ENODATA, -1) : -1);
		} else if (!strcmp(op, "write")) {
			res(write(fd, "guest\n", 6));
		} else if (!strcmp(op, "poll")) {
			struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
			long n = poll(&p, 1, 0);
			res(n < 0 ? -1 : p.revents & POLLNVAL ? (errno = EBADF, -1) : 0);
		} else if (!strcmp(op, "flock")) {
			long r = flock(fd, LOCK_SH | LOCK_NB);
			if (r == 0)
				r = flock(fd, LOCK_UN);
			res(r);
		} else if (!strcmp(op, "setlk")) {
			int acc = fcntl(fd, F_GETFL) & O_ACCMODE;
			struct flock l = {.l_type = acc == O_RDONLY ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET};
			long r = fcntl(fd, F_SETLK, &l);
			l.l_type = F_UNLCK;
			if (r == 0)
				r = fcntl(fd, F_SETLK, &l);
			res(r);
		} else if (!strcmp(op, "setfl")) {
			int fl = fcntl(fd, F_GETFL);
			long r = fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_APPEND | O_NONBLOCK);
			if (r == 0)
				r = fcntl(fd, F_SETFL, fl);
			res(r);
		} else if (!strcmp(op, "ftruncate")) {
			res(ftruncate(fd, 0));
		} else if (!strcmp(op, "fallocate")) {
			res(fallocate(fd, 0, 0, 1 << 20));
		} else if (!strcmp(op, "fchmod")) {
			res(fchmod(fd, 0600));
		} else if (!strcmp(op, "fchown")) {
			res(fchown(fd, 12345, 12345));
		} else if (!strcmp(op, "futimens")) {
			res(futimens(fd, past));
		} else if (!strcmp(op, "fchownempty")) {
			res(fchownat(fd, "", 12345, 12345, AT_EMPTY_PATH));
		} else if (!strcmp(op, "fchmodempty")) {
			long r = syscall(SYS_fchmodat2, fd, "", 0600, AT_EMPTY_PATH);
			if (r < 0 && errno == ENOSYS)
				errno = EOPNOTSUPP;
			res(r);
		} else if (!strcmp(op, "mmapw") || !strcmp(op, "mprotw")) {
			int w = !strcmp(op, "mmapw");
			void *m = mmap(NULL, 4096, PROT_READ | (w ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
			long r = m == MAP_FAILED ? -1 : 0;
			if (!r && !w)
				r = mprotect(m, 4096, PROT_READ | PROT_WRITE);
			if (m != MAP_FAILED)
				munmap(m, 4096);
			res(r);
		} else if (!strcmp(op, "pathopen") && b) {
			char self[32], path[48];
			snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
			int o = open(self, O_PATH);
			if (o < 0) {
				res(-1);
			} else {
				snprintf(path, sizeof path, "/proc/self/fd/%d", o);
				res(open_mode(path, b));
				close(o);
			}
		} else if (!strcmp(op, "utimensempty")) {
			res(utimensat(fd, "", past, AT_EMPTY_PATH));
		} else if (!strcmp(op, "read")) {
			read_first(open(a, O_RDONLY));
		} else if (!strcmp(op, "open") && b) {
			res(open_mode(a, b));
		} else if (!strcmp(op, "creat")) {
			res(write_new(creat(a, 0644)));
		} else if (!strcmp(op, "mkdir")) {
			res(mkdir(a, 0755));
		} else if (!strcmp(op, "chdir")) {
			res(chdir(a));
		} else if (!strcmp(op, "unlink")) {
			res(unlink(a));
		} else if (!strcmp(op, "symlink")) {
			res(symlink("target", a));
		} else if (!strcmp(op, "symlinkto") && b) {
			res(symlink(a, b));
		} else if (!strcmp(op, "rename") && b) {
			res(rename(a, b));
		} else if (!strcmp(op, "link") && b) {
			res(link(a, b));
		} else if (!strcmp(op, "truncate")) {
			res(truncate(a, 0));
		} else if (!strcmp(op, "chmod")) {
			res(chmod(a, 0600));
		} else if (!strcmp(op, "chown")) {
			res(chown(a, 12345, 12345));
		} else if (!strcmp(op, "lchown")) {
			res(lchown(a, 12345, 12345));
		} else if (!strcmp(op, "utimes")) {
			res(utimensat(AT_FDCWD, a, past, 0));
		} else if (!strcmp(op, "openas") && b) {
			int o = open(b, O_RDONLY);
			res(o < 0 ? -1 : dup2(o, fd));
			if (o >= 0 && o != fd)
				close(o);
		} else if (!strcmp(op, "samechmod") || !strcmp(op, "samechown") || !strcmp(op, "sametimes") ||
			   !strcmp(op, "fsamechmod") || !strcmp(op, "fsamechown")) {
			if (stat(a, &st) < 0) {
				res(-1);
				continue;
			}
			struct timespec ts[2] = {st.st_atim, st.st_mtim};
			int o = op[0] == 'f' ? open(a, O_RDONLY) : -1;
			if (op[0] == 'f' && o < 0)
				res(-1);
			else if (!strcmp(op, "samechmod"))
				res(chmod(a, st.st_mode & 07777));
			else if (!strcmp(op, "samechown"))
				res(chown(a, st.st_uid, st.st_gid));
			else if (!strcmp(op, "sametimes"))
				res(utimensat(AT_FDCWD, a, ts, 0));
			else if (!strcmp(op, "fsamechmod"))
				res(fchmod(o, st.st_mode & 07777));
			else
				res(fchown(o, st.st_uid, st.st_gid));
			if (o >= 0)
				close(o);
		} else {
			fprintf(stderr, "%s -> bad operation\n", what);
		}
		free(op);
	}
	return 0;
}
