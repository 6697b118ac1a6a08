//go:build ignore

/* fs_dir: the directory tree in a fresh directory under /tmp (kshim needs
 * --rw): mkdir/rmdir, unlink, rename/renameat2 (NOREPLACE, EXCHANGE),
 * symlink/readlink, link, getdents64 (names sorted here), getcwd, chdir,
 * fchdir, access, utimensat and stat times, chmod, *at calls with dirfds,
 * and the errnos of each: ENOENT, EEXIST, EISDIR, ENOTDIR, ENOTEMPTY,
 * ELOOP, EINVAL, EBUSY, EXDEV-free renames. Prints facts only. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static void touch(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd))
		printf("touch %s: %s\n", path, ename(errno));
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists a directory with raw getdents64, sorted, with the d_type. */
static void list(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("list %s: %s\n", path, ename(errno));
		return;
	}
	char *names[64];
	int n = 0;
	char buf[512]; /* small: several getdents64 calls */
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got <= 0) {
			if (got < 0)
				printf("getdents64: %s\n", ename(errno));
			break;
		}
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			const char *t = d->d_type == DT_DIR ? "/" : d->d_type == DT_LNK ? "@" : d->d_type == DT_REG ? "" : "?";
			if (n < 64 && asprintf(&names[n], "%s%s", d->d_name, t) > 0)
				n++;
			off += d->d_reclen;
		}
	}
	qsort(names, n, sizeof *names, cmp);
	printf("ls %s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
	close(fd);
}

static char base[64];

/* getcwd relative to the test directory */
static void pwd(void)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf)) {
		printf("getcwd: %s\n", ename(errno));
		return;
	}
	size_t n = strlen(base);
	printf("cwd = %s\n", strncmp(buf, base, n) == 0 ? (buf[n] ? buf + n : "(base)") : "(elsewhere)");
}

int main(void)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	strcpy(base, "/tmp/kshim-fsdir-XXXXXX");
	if (!mkdtemp(base) || chdir(base)) {
		printf("setup: %s\n", ename(errno));
		return 1;
	}
	umask(022);
	pwd();

	rc("mkdir(d)", mkdir("d", 0755));
	rc("mkdir(d) again", mkdir("d", 0755));
	rc("mkdir(d/e/)", mkdir("d/e/", 0700));
	rc("mkdir(x/y)", mkdir("x/y", 0755));
	rc("mkdir(.)", mkdir(".", 0755));
	rc("mkdir(/)", mkdir("/", 0755));
	touch("d/f", "file f\n");
	touch("g", "file g\n");
	rc("mkdir(g/h)", mkdir("g/h", 0755));
	rc("symlink(f, d/lf)", symlink("f", "d/lf"));
	rc("symlink(../g, d/lg)", symlink("../g", "d/lg"));
	rc("symlink(nowhere, dangling)", symlink("nowhere", "dangling"));
	rc("symlink(d, ld)", symlink("d", "ld"));
	rc("symlink(x, d/f)", symlink("x", "d/f"));
	rc("symlink(\"\", e)", symlink("", "e"));
	rc("symlink(x, new/)", symlink("x", "new/"));
	rc("link(g, d/hg)", link("g", "d/hg"));
	rc("link(d, dl)", link("d", "dl"));
	rc("link(g, d/f)", link("g", "d/f"));
	rc("link(g/, x)", link("g/", "x"));
	rc("linkat(dangling, SYMLINK_FOLLOW)", linkat(AT_FDCWD, "dangling", AT_FDCWD, "x", AT_SYMLINK_FOLLOW));
	rc("linkat(dangling, 0)", linkat(AT_FDCWD, "dangling", AT_FDCWD, "hardsym", 0));
	rc("linkat(bad flags)", linkat(AT_FDCWD, "g", AT_FDCWD, "x", 0x8000));
	list(".");
	list("d");

	char buf[PATH_MAX];
	ssize_t n = readlink("d/lg", buf, sizeof buf);
	rc("readlink(d/lg)", n);
	printf("  -> %.*s\n", (int)(n > 0 ? n : 0), buf);
	rc("readlink(d/lg, size 2)", readlink("d/lg", buf, 2));
	rc("readlink(d/lg, size 0)", readlink("d/lg", buf, 0));
	rc("readlink(g) not a link", readlink("g", buf, sizeof buf));
	rc("readlink(missing)", readlink("missing", buf, sizeof buf));
	rc("readlink(\"\")", readlink("", buf, sizeof buf));
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	rc("readlinkat(dfd, lf)", readlinkat(dfd, "lf", buf, sizeof buf));
	int lfd = openat(dfd, "lf", O_PATH | O_NOFOLLOW);
	rc("readlinkat(O_PATH link fd, \"\")", readlinkat(lfd, "", buf, sizeof buf));
	close(lfd);

	/* stat through links, O_NOFOLLOW, loops */
	struct stat st;
	rc("stat(d/lg) size", stat("d/lg", &st) == 0 ? st.st_size : -1);
	rc("lstat(d/lg) size", lstat("d/lg", &st) == 0 ? st.st_size : -1);
	rc("stat(g) nlink", stat("g", &st) == 0 ? (long)st.st_nlink : -1);
	rc("stat(dangling)", stat("dangling", &st));
	rc("open(d/lf, O_NOFOLLOW)", open("d/lf", O_RDONLY | O_NOFOLLOW));
	rc("symlink(loop1, loop2)", symlink("loop1", "loop2"));
	rc("symlink(loop2, loop1)", symlink("loop2", "loop1"));
	rc("stat(loop1)", stat("loop1", &st));
	rc("open(g/x)", open("g/x", O_RDONLY));
	rc("open(d, O_WRONLY)", open("d", O_WRONLY));
	rc("open(g, O_DIRECTORY)", open("g", O_RDONLY | O_DIRECTORY));
	rc("open(g/)", open("g/", O_RDONLY));
	rc("open(d/, O_RDONLY) ok", close(open("d/", O_RDONLY)));
	rc("open(missing)", open("missing", O_RDONLY));
	rc("open(\"\")", open("", O_RDONLY));
	rc("open(ld/f) through a dir link", close(open("ld/f", O_RDONLY)));

	/* *at with a dirfd, and an fd that is not a directory */
	rc("mkdirat(dfd, sub)", mkdirat(dfd, "sub", 0755));
	rc("fstatat(dfd, ../g) size", fstatat(dfd, "../g", &st, 0) == 0 ? st.st_size : -1);
	int gfd = open("g", O_RDONLY);
	rc("openat(file fd, x)", openat(gfd, "x", O_RDONLY));
	rc("openat(file fd, /abs ok)", close(openat(gfd, base, O_RDONLY)));
	rc("openat(99, rel)", openat(99, "x", O_RDONLY));
	rc("openat(99, /abs ok)", close(openat(99, "/", O_RDONLY)));
	rc("unlinkat(dfd, sub, AT_REMOVEDIR)", unlinkat(dfd, "sub", AT_REMOVEDIR));
	rc("unlinkat(bad flags)", unlinkat(dfd, "sub", 1));

	/* access */
	rc("access(g, R_OK|W_OK)", access("g", R_OK | W_OK));
	rc("access(g, X_OK)", access("g", X_OK));
	rc("access(d, X_OK)", access("d", X_OK));
	rc("access(g, 8)", access("g", 8));
	rc("faccessat(dfd, f, F_OK)", faccessat(dfd, "f", F_OK, 0));
	rc("faccessat2(dangling, NOFOLLOW)", syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	rc("faccessat2(bad flags)", syscall(SYS_faccessat2, AT_FDCWD, "g", F_OK, 1));

	/* times and modes */
	struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
	rc("utimensat(g)", utimensat(AT_FDCWD, "g", ts, 0));
	stat("g", &st);
	printf("  atime %ld.%09ld mtime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec,
	       st.st_mtim.tv_nsec);
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	rc("utimensat(bad nsec)", utimensat(AT_FDCWD, "g", bad, 0));
	rc("utimensat(NOFOLLOW on link)", utimensat(AT_FDCWD, "d/lg", ts, AT_SYMLINK_NOFOLLOW));
	lstat("d/lg", &st);
	printf("  link mtime %ld\n", (long)st.st_mtim.tv_sec);
	rc("futimens(gfd)", futimens(gfd, ts));
	rc("chmod(g, 0600)", chmod("g", 0600));
	rc("stat mode", stat("g", &st) == 0 ? (long)(st.st_mode & 07777) : -1);
	rc("fchmod(gfd, 04755)", fchmod(gfd, 04755));
	rc("stat mode", stat("g", &st) == 0 ? (long)(st.st_mode & 07777) : -1);
	rc("fchmodat(d/lg) follows", fchmodat(AT_FDCWD, "d/lg", 0644, 0));
	rc("fchmodat(NOFOLLOW) on link", fchmodat(AT_FDCWD, "d/lg", 0644, AT_SYMLINK_NOFOLLOW));
	rc("fchown(gfd, -1, -1)", fchown(gfd, -1, -1));
	rc("fchownat(bad flags)", fchownat(AT_FDCWD, "g", -1, -1, 2));
	close(gfd);

	/* rename */
	touch("r1", "r1\n");
	touch("r2", "r2\n");
	rc("rename(r1, r3)", rename("r1", "r3"));
	rc("rename(r3, r2) replaces", rename("r3", "r2"));
	touch("r1", "r1\n");
	rc("renameat2(r1, r2, NOREPLACE)", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_NOREPLACE));
	rc("renameat2(r1, r2, EXCHANGE)", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_EXCHANGE));
	n = readlink("r1", buf, 1);
	int fd = open("r1", O_RDONLY);
	n = read(fd, buf, 3);
	close(fd);
	printf("  r1 now holds %.*s", (int)n, buf);
	rc("renameat2(bad flags)", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", 8 | 1 << 20));
	rc("renameat2(EXCHANGE|NOREPLACE)", renameat2(AT_FDCWD, "r1", AT_FDCWD, "r2", RENAME_EXCHANGE | RENAME_NOREPLACE));
	rc("rename(missing, x)", rename("missing", "x"));
	rc("rename(r1, nodir/x)", rename("r1", "nodir/x"));
	rc("rename(d, g) dir over file", rename("d", "g"));
	rc("rename(g, d) file over dir", rename("g", "d"));
	rc("rename(d, d/e/x) into itself", rename("d", "d/e/x"));
	rc("rename(., x)", rename(".", "x"));
	rc("rename(r1/, x)", rename("r1/", "x"));
	rc("rename(d/e, ee)", rename("d/e", "ee"));
	rc("rename(ee/, d/e/)", rename("ee/", "d/e/"));

	/* cwd */
	rc("chdir(d)", chdir("d"));
	pwd();
	rc("chdir(e/)", chdir("e/"));
	pwd();
	rc("chdir(../..)", chdir("../.."));
	pwd();
	rc("chdir(g)", chdir("g"));
	rc("chdir(missing)", chdir("missing"));
	rc("chdir(ld) through a link", chdir("ld"));
	pwd();
	rc("fchdir(dfd of d)", fchdir(dfd));
	pwd();
	rc("open(f) relative to the new cwd", close(open("f", O_RDONLY)));
	rc("open(../g) relative", close(open("../g", O_RDONLY)));
	rc("getcwd(size 1)", syscall(SYS_getcwd, buf, 1));
	rc("getcwd returns len+1", syscall(SYS_getcwd, buf, sizeof buf) == (long)strlen(buf) + 1);
	int rfd = open("/", O_RDONLY);
	rc("fchdir(/)", fchdir(rfd));
	pwd();
	rc("fchdir(file)", fchdir(open("/proc/self/exe", O_RDONLY)));
	rc("chdir(base)", chdir(base));
	rc("mkdir(gone)", mkdir("gone", 0755));
	rc("chdir(gone)", chdir("gone"));
	rc("rmdir(../gone) while inside", rmdir("../gone"));
	rc("getcwd in removed dir", getcwd(buf, sizeof buf) ? 0 : -1);
	rc("open(.) in removed dir", open(".", O_RDONLY) >= 0 ? 0 : -1);
	rc("creat(x) in removed dir", creat("x", 0644));
	rc("chdir(base)", chdir(base));
	close(rfd);

	/* unlink and rmdir */
	rc("rmdir(d) not empty", rmdir("d"));
	rc("rmdir(g) not a dir", rmdir("g"));
	rc("unlink(d) a dir", unlink("d"));
	rc("unlink(g/) trailing slash", unlink("g/"));
	rc("unlink(missing/)", unlink("missing/"));
	rc("rmdir(d/.)", rmdir("d/."));
	rc("rmdir(d/..)", rmdir("d/.."));
	rc("unlink(.)", unlink("."));

	/* clean up, checking each removal */
	const char *files[] = {"d/f", "d/lf", "d/lg", "d/hg", "dangling", "hardsym", "ld", "g", "r1", "r2", "loop1", "loop2"};
	for (unsigned i = 0; i < sizeof files / sizeof *files; i++)
		if (unlink(files[i]))
			printf("unlink %s: %s\n", files[i], ename(errno));
	if (rmdir("d/e") || rmdir("d"))
		printf("rmdir: %s\n", ename(errno));
	list(".");
	close(dfd);
	rc("chdir(/) and rmdir(base)", chdir("/") || rmdir(base) ? -1 : 0);
	return 0;
}
