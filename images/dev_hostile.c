//go:build ignore

/* dev_hostile: hostile paths through Linux's links into /proc/self/fd
 * (/dev/fd, /dev/std*) and /proc/thread-self: ".." chains out of them,
 * symlink loops that go through /dev/fd (each hop a new lookup in
 * kshim's /proc), odd fd names, names past NAME_MAX and PATH_MAX, chdir
 * through them, and the same from a second thread. For each path: lstat,
 * stat, readlink, open, open with O_NOFOLLOW. kshim once resolved
 * /proc/thread-self as /proc/self (so "../../../etc/passwd" under it
 * opened /etc/passwd and "task" was there), found /proc/self/cwd gone
 * (ESRCH) from a non-leader thread, answered a loop through /dev/fd with
 * EMFILE after holding an fd per hop, and chdir or O_PATH|O_DIRECTORY
 * through /dev/stdin onto a device with EACCES or success. Pids and the
 * scratch directory's name are not printed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static char pidstr[32], tidstr[32];
static const char *kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFLNK: return "symlink";
	case S_IFDIR: return "dir";
	case S_IFREG: return "file";
	case S_IFIFO: return "fifo";
	case S_IFCHR: return "chr";
	case S_IFSOCK: return "sock";
	}
	return "?";
}
/* scrub replaces the path components of s that are the pid or the tid
 * with PID and TID (whole components only: a literal such as
 * /dev/fd/4294967301 is left as it is whatever the pid). */
static void scrub(char *s)
{
	char out[8192];
	size_t o = 0;
	for (size_t i = 0; s[i] && o < sizeof out - 8;) {
		if (s[i] == '/' || (i > 0 && s[i - 1] != '/')) {
			out[o++] = s[i++];
			continue;
		}
		size_t n = strcspn(s + i, "/");
		if (n == strlen(tidstr) && !strncmp(s + i, tidstr, n) && strcmp(tidstr, pidstr)) {
			memcpy(out + o, "TID", 3), o += 3, i += n;
		} else if (n == strlen(pidstr) && !strncmp(s + i, pidstr, n)) {
			memcpy(out + o, "PID", 3), o += 3, i += n;
		} else {
			memcpy(out + o, s + i, n), o += n, i += n;
		}
	}
	out[o] = 0;
	strcpy(s, out);
}

/* probe prints what lstat, stat, readlink, open and open(O_NOFOLLOW) say
 * of path (from dirfd), under label (the path when NULL). */
static void probel(int dirfd, const char *path, const char *label)
{
	char shown[8192];
	snprintf(shown, 161, "%s%.100s%s", dirfd == AT_FDCWD ? "" : "@ ", label ? label : path, strlen(path) > 100 ? "..." : "");
	printf("%-60s", shown);
	struct stat st;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) printf(" lstat %s", kind(st.st_mode));
	else printf(" lstat %s", ename(errno));
	if (fstatat(dirfd, path, &st, 0) == 0) printf(" stat %s", kind(st.st_mode));
	else printf(" stat %s", ename(errno));
	char buf[4096];
	ssize_t n = readlinkat(dirfd, path, buf, sizeof buf - 1);
	if (n >= 0) { buf[n] = 0; if (!strncmp(buf, "pipe:", 5) || !strncmp(buf, "socket:", 7) || !strncmp(buf, "anon", 4)) strcpy(buf, "(obj)"); scrub(buf); printf(" -> %s", buf); }
	else printf(" readlink %s", ename(errno));
	int fd = openat(dirfd, path, O_RDONLY);
	if (fd >= 0) {
		char b[8] = {0};
		fstat(fd, &st);
		if (S_ISREG(st.st_mode)) { ssize_t r = read(fd, b, 4); printf(" open %s %zd", kind(st.st_mode), r); }
		else printf(" open %s", kind(st.st_mode));
		close(fd);
	} else printf(" open %s", ename(errno));
	fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW);
	if (fd >= 0) { printf(" nofollow ok"); close(fd); } else printf(" nofollow %s", ename(errno));
	printf("\n");
}

static void probe(int dirfd, const char *path) { probel(dirfd, path, NULL); }
static void *thr(void *a)
{
	(void)a;
	snprintf(tidstr, sizeof tidstr, "%ld", (long)syscall(SYS_gettid));
	char b[256]; ssize_t n = readlink("/proc/thread-self", b, sizeof b - 1);
	if (n > 0) { b[n] = 0; scrub(b); printf("thread: /proc/thread-self -> %s\n", b); }
	probe(AT_FDCWD, "/proc/thread-self/..");
	probe(AT_FDCWD, "/proc/thread-self/../..");
	probe(AT_FDCWD, "/proc/thread-self/fd/5/passwd");
	probe(AT_FDCWD, "/proc/thread-self/cwd");
	probe(AT_FDCWD, "/proc/thread-self/../../../etc/passwd");
	probe(AT_FDCWD, "/proc/self/cwd");
	probe(AT_FDCWD, "/proc/thread-self/exe");
	probe(AT_FDCWD, "/proc/thread-self/root");
	probe(AT_FDCWD, "/proc/thread-self/fd/5");
	probe(AT_FDCWD, "/proc/thread-self/maps");
	probe(AT_FDCWD, "/proc/thread-self/status");
	char p2[128];
	snprintf(p2, sizeof p2, "/proc/%s/task/%s/cwd", pidstr, tidstr);
	probel(AT_FDCWD, p2, "/proc/PID/task/TID/cwd");
	snprintf(p2, sizeof p2, "/proc/%s/task/%s/fd", pidstr, tidstr);
	probel(AT_FDCWD, p2, "/proc/PID/task/TID/fd");
	/* (/proc/TID of a non-leader thread, which Linux finds though it
	 * does not list it, is not there in kshim's /proc: not probed.) */
	probe(AT_FDCWD, "/proc/thread-self/task");
	probe(AT_FDCWD, "/proc/thread-self/exe/..");
	return NULL;
}
int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(pidstr, sizeof pidstr, "%d", getpid());
	strcpy(tidstr, pidstr);
	int nul = open("/dev/null", O_RDONLY);
	dup2(nul, 0); close(nul);
	int d = open("/etc", O_RDONLY | O_DIRECTORY);
	dup2(d, 5); close(d);
	char tmp[] = "/dev/shm/devhXXXXXX";
	if (!mkdtemp(tmp)) {
		printf("mkdtemp %s\n", ename(errno));
		return 1;
	}
	int t = open(tmp, O_RDONLY | O_DIRECTORY);
	dup2(t, 6); close(t);
	symlinkat("/dev/fd/6/loop", 6, "loop");
	symlinkat("/proc/thread-self/fd/6/loop2", 6, "loop2");
	symlinkat("/dev/stdin", 6, "in");
	symlinkat("/dev/fd/6/a/../in", 6, "via");
	symlinkat("../../../../../../dev/fd/5/passwd", 6, "up");
	symlinkat("/dev/fd/6", 6, "self");
	mkdirat(6, "a", 0755);
	close(7);
	const char *paths[] = {
		"/dev/fd", "/dev/fd/", "/dev/fd/.", "/dev/fd/..", "/dev/fd/../..", "/dev/fd/../../etc/passwd",
		"/dev/fd/../../../../../etc/passwd", "/dev/fd/./0", "/dev/fd//0", "/dev//fd/0",
		"/dev/stdin", "/dev/stdin/", "/dev/stdin/..", "/dev/stdin/.", "/dev/stderr/../..",
		"/dev/fd/5", "/dev/fd/5/", "/dev/fd/5/passwd", "/dev/fd/5/..", "/dev/fd/5/../../../../etc/passwd",
		"/dev/fd/5/../dev/fd/5/passwd", "/dev/fd/7", "/dev/fd/7/..", "/dev/fd/00", "/dev/fd/05/passwd",
		"/dev/fd/-1", "/dev/fd/+5", "/dev/fd/5 ", "/dev/fd/ 5", "/dev/fd/4294967301", "/dev/fd/2147483653",
		"/dev/fd/99999", "/dev/fd/0x5",
		"/dev/fd/6/loop", "/dev/fd/6/loop2", "/dev/fd/6/in", "/dev/fd/6/via", "/dev/fd/6/up", "/dev/fd/6/self/self/self/up",
		"/dev/fd/6/self/../up", "/dev/fd/6/a/../../../etc/passwd",
		"/proc/thread-self", "/proc/thread-self/", "/proc/thread-self/..", "/proc/thread-self/../..",
		"/proc/thread-self/../../..", "/proc/thread-self/../../../etc/passwd", "/proc/thread-self/root/etc/passwd",
		"/proc/thread-self/root/../../../etc/passwd", "/proc/thread-self/fd/5/../etc/passwd",
		"/proc/thread-self/fd/0/..", "/proc/self/fd/6/loop", "/proc/thread-self/task",
		"/proc/self/task/../../self/fd/5/passwd",
		NULL,
	};
	for (int i = 0; paths[i]; i++)
		probe(AT_FDCWD, paths[i]);
	int dev = open("/dev", O_RDONLY | O_DIRECTORY);
	probe(dev, "fd/5/passwd");
	probe(dev, "stdin");
	probe(dev, "fd/..");
	probe(dev, "./fd/../fd/5/..");
	int fdd = open("/dev/fd", O_RDONLY | O_DIRECTORY);
	if (fdd < 0) printf("open /dev/fd dir: %s\n", ename(errno));
	else { probe(fdd, "5/passwd"); probe(fdd, ".."); probe(fdd, "../fd/6/in"); probe(fdd, "7"); }
	/* long names */
	static char big[9000];
	strcpy(big, "/dev/fd/"); memset(big + 8, '1', 300); probe(AT_FDCWD, big);
	strcpy(big, "/dev/fd/"); memset(big + 8, '0', 300); big[308] = '5'; big[309] = 0; probe(AT_FDCWD, big);
	strcpy(big, "/dev/fd/5/"); for (int i = 0; i < 1200; i++) strcat(big, "../"); strcat(big, "etc/passwd"); probe(AT_FDCWD, big);
	strcpy(big, "/dev/fd/5/"); for (int i = 0; i < 1100; i++) strcat(big, "./."); strcat(big, "/passwd"); probe(AT_FDCWD, big);
	strcpy(big, "/proc/thread-self/fd/"); memset(big + 21, '9', 4000); big[4021] = 0; probe(AT_FDCWD, big);
	strcpy(big, "/dev/stdin/"); memset(big + 11, 'x', 256); big[267] = 0; probe(AT_FDCWD, big);
	strcpy(big, "/dev/fd/6/"); memset(big + 10, 'y', 256); big[266] = 0; probe(AT_FDCWD, big);
	strcpy(big, "/dev/fd/6/"); memset(big + 10, 'y', 255); big[265] = 0; probe(AT_FDCWD, big);
	/* O_PATH|O_DIRECTORY (chdir's lookup) through the fd links */
	const char *odirs[] = {"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "/dev/fd/5", "/proc/thread-self/fd/0", NULL};
	for (int i = 0; odirs[i]; i++) {
		int fd = open(odirs[i], O_PATH | O_DIRECTORY);
		printf("O_PATH|O_DIRECTORY %s -> %s\n", odirs[i], fd >= 0 ? "ok" : ename(errno));
		if (fd >= 0)
			close(fd);
	}
	/* chdir through the links */
	char cwd[4096];
	const char *dirs[] = {"/dev/fd", "/dev/fd/5", "/dev/fd/6/self", "/proc/thread-self", "/dev/stdin", "/dev/fd/..", NULL};
	for (int i = 0; dirs[i]; i++) {
		if (chdir(dirs[i]) != 0) { printf("chdir %s: %s\n", dirs[i], ename(errno)); continue; }
		if (!getcwd(cwd, sizeof cwd)) { printf("chdir %s: getcwd %s\n", dirs[i], ename(errno)); continue; }
		if (!strncmp(cwd, tmp, strlen(tmp))) { memmove(cwd + 4, cwd + strlen(tmp), strlen(cwd + strlen(tmp)) + 1); memcpy(cwd, "TMP", 3); cwd[3] = cwd[3] ? cwd[3] : 0; }
		scrub(cwd);
		printf("chdir %s: cwd %s\n", dirs[i], cwd);
		probe(AT_FDCWD, "..");
		probe(AT_FDCWD, "../../..");
		chdir("/");
	}
	pthread_t th;
	pthread_create(&th, NULL, thr, NULL);
	pthread_join(th, NULL);
	unlinkat(6, "loop", 0); unlinkat(6, "loop2", 0); unlinkat(6, "in", 0); unlinkat(6, "via", 0); unlinkat(6, "up", 0); unlinkat(6, "self", 0); unlinkat(6, "a", AT_REMOVEDIR);
	rmdir(tmp);
	return 0;
}
