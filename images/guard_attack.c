//go:build ignore

/* guard_attack: attacks on masked and read-only paths (OCI
 * linux.maskedPaths / linux.readonlyPaths, `kshim run --masked-path
 * --readonly-path`), for images/guardattack_test.go, which runs it in
 * guardTree's root (images/guardpaths_test.go) natively, with the paths
 * mounted as runc mounts them, and under kshim with the flags. One line
 * per operation: the errno, or what was read (verbatim, so the test sees
 * any secret), never a judgement of its own.
 *
 *   rd:PATH          open O_RDONLY (following links) and print the file
 *   rdat:DIR:REL     openat(open(DIR, O_PATH), REL), print the file
 *   fdrd:DIR:REL     open DIR, then /proc/self/fd/N/REL, print the file
 *   wr:PATH          open O_WRONLY|O_APPEND, write "X"
 *   wrat:DIR:REL     openat(open(DIR, O_PATH), REL, O_WRONLY|O_APPEND)
 *   fd0wr:REL        openat(0, REL, O_WRONLY|O_APPEND), write (fd 0 is a
 *                    directory the test hands in)
 *   fd0rd:REL        openat(0, REL), print the file
 *   fd0mk:REL        openat(0, REL, O_CREAT|O_EXCL|O_WRONLY)
 *   fd0chmod:-       fchmod(0, 0700)
 *   tmpfile:DIR:NEW  O_TMPFILE in DIR, then linkat it as NEW
 *   cfr:SRC:DST      copy_file_range from SRC into DST opened O_RDWR
 *   sendfile:SRC:DST sendfile, splice:SRC:DST splice through a pipe
 *   setxattr:PATH    user.k=v; utimes:PATH utimensat now; chown:PATH to
 *                    its own ids; trunc:PATH truncate(2) to 0;
 *   falloc:PATH      fallocate on an O_RDWR fd
 *   mmapro:PATH      open O_RDONLY, mmap MAP_SHARED PROT_WRITE
 *   exeas:PATH       copy this program to PATH (making its directories),
 *                    run it there: it prints what /proc/self/exe reads
 *                    ("ELF" when it is itself), and opening it for writing
 *   reowr:PATH       open O_RDONLY, reopen /proc/self/fd/N O_WRONLY|O_APPEND
 *                    and write; reotrunc:PATH the same with O_TRUNC
 *   bind:PATH        bind a unix socket at PATH
 *   reexec:-         run /proc/self/exe as exeas runs its copy
 *   ls:PATH          the sorted names in a directory
 *   cwdrace:SECS     a thread chdirs (and fchdirs) between the masked,
 *                    read-only and other directories while two read names
 *                    relative to the cwd and another churns fds: prints
 *                    "ok", or the first text that is no file's of the
 *                    directories it could have been read from
 *   scratch:SECS     short reads and getdents64 into zeroed 1 MiB buffers
 *                    while another thread reads 1 MiB calls: "ok" when
 *                    nothing past what a call returned changed
 *   race:SECS        threads swap a directory and a symlink into the
 *                    masked and read-only paths while others open through
 *                    them: prints whatever they read that is not a
 *                    known-good file's, and the writes that reached a
 *                    read-only file (both "none" when nothing did)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* Prints the file at fd whole (up to 4 KiB), newlines as "|". */
static void showfd(const char *op, int fd)
{
	if (fd < 0) {
		printf("%s -> %s\n", op, ename(errno));
		return;
	}
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += n;
	if (n < 0 && len == 0) {
		printf("%s -> read: %s\n", op, ename(errno));
		close(fd);
		return;
	}
	close(fd);
	buf[len] = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n')
			buf[i] = '|';
	printf("%s -> \"%s\"\n", op, buf);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *op, const char *p)
{
	DIR *d = opendir(p);
	if (!d) {
		printf("%s -> %s\n", op, ename(errno));
		return;
	}
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmpstr);
	printf("%s ->", op);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void mkparents(const char *p)
{
	char d[4096];
	snprintf(d, sizeof d, "%s", p);
	for (char *q = d + 1; (q = strchr(q, '/')); q++) {
		*q = 0;
		mkdir(d, 0755);
		*q = '/';
	}
}

/* The copy run by exeas: what its /proc/self/exe gives. */
static int exe_child(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0) {
		printf("exe -> %s\n", ename(errno));
	} else {
		unsigned char b[4] = {0};
		ssize_t n = read(fd, b, 4);
		if (n == 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F')
			printf("exe -> ELF\n");
		else {
			close(fd);
			showfd("exe", open("/proc/self/exe", O_RDONLY));
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	/* For writing: the permission check on the running file, then
	 * ETXTBSY. */
	fd = open("/proc/self/exe", O_WRONLY);
	okay("exe w", fd);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int copy_self(const char *dst)
{
	mkparents(dst);
	int in = open("/proc/self/exe", O_RDONLY), out = open(dst, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		return -1;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

/* race: the paths are guardTree's. */
static atomic_int stop;
static atomic_long opens;
static char leaked[8][128];
static atomic_int nleaked, nwrote;

static void leak(const char *what, const char *buf)
{
	int i = atomic_fetch_add(&nleaked, 1);
	if (i < 8)
		snprintf(leaked[i], sizeof leaked[i], "%s=%.60s", what, buf);
}

static void *swapper(void *arg)
{
	long k = (long)arg;
	while (!atomic_load(&stop)) {
		if (k == 0) {
			/* /other/l: a directory of harmless files, then a
			 * symlink to the masked directory, then to the
			 * read-only one. */
			mkdir("/other/sw", 0755);
			close(open("/other/sw/secret", O_CREAT | O_WRONLY, 0644));
			rename("/other/sw", "/other/l");
			rename("/other/l", "/other/sw");
			symlink("/masked-dir", "/other/l");
			unlink("/other/l");
			symlink("../ro-dir", "/other/l");
			renameat2(AT_FDCWD, "/other/sw", AT_FDCWD, "/other/l", RENAME_EXCHANGE);
			renameat2(AT_FDCWD, "/other/sw", AT_FDCWD, "/other/l", RENAME_EXCHANGE);
			unlink("/other/l");
		} else {
			/* A directory and a symlink to /etc (where secret2
			 * is masked) swapped by exchange. */
			symlink("/etc", "/other/e");
			mkdir("/other/d", 0755);
			renameat2(AT_FDCWD, "/other/d", AT_FDCWD, "/other/e", RENAME_EXCHANGE);
			renameat2(AT_FDCWD, "/other/d", AT_FDCWD, "/other/e", RENAME_EXCHANGE);
			rename("/other/e", "/other/e2");
			rename("/other/e2", "/other/e");
			unlink("/other/e");
			rmdir("/other/d");
			rmdir("/other/e");
			unlink("/other/d");
		}
	}
	return NULL;
}

static void *opener(void *arg)
{
	(void)arg;
	static const char *reads[] = {
		"/other/l/secret", "/other/l/sub/secret", "/other/l/../masked-file", "/other/l/../masked-dir/secret",
		"/other/e/secret2", "/other/d/secret2", "/other/e/../masked-file", "/other/l/../etc/secret2",
	};
	static const char *wr[] = {"/other/l/data", "/other/l/sub/file", "/other/l/../ro-file", "/other/e/../ro-dir/data"};
	char buf[256];
	int i = 0;
	while (!atomic_load(&stop)) {
		const char *p = reads[i % 8];
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n > 0) {
				buf[n] = 0;
				leak(p, buf);
			}
		}
		int dfd = open("/other", O_PATH | O_DIRECTORY);
		if (dfd >= 0) {
			fd = openat(dfd, reads[(i + 3) % 8] + 7, O_RDONLY);
			close(dfd);
			if (fd >= 0) {
				ssize_t n = read(fd, buf, sizeof buf - 1);
				close(fd);
				if (n > 0) {
					buf[n] = 0;
					leak(reads[(i + 3) % 8], buf);
				}
			}
		}
		fd = open(wr[i % 4], O_WRONLY | O_APPEND);
		if (fd >= 0) {
			if (write(fd, "X", 1) == 1)
				atomic_fetch_add(&nwrote, 1);
			close(fd);
		}
		fd = open(wr[(i + 1) % 4], O_WRONLY | O_TRUNC);
		if (fd >= 0) {
			atomic_fetch_add(&nwrote, 1);
			close(fd);
		}
		atomic_fetch_add(&opens, 4);
		i++;
	}
	return NULL;
}

static void race(const char *op, double secs)
{
	pthread_t t[4];
	pthread_create(&t[0], NULL, swapper, (void *)0);
	pthread_create(&t[1], NULL, swapper, (void *)1);
	pthread_create(&t[2], NULL, opener, NULL);
	pthread_create(&t[3], NULL, opener, NULL);
	struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	unlink("/other/l");
	rmdir("/other/l");
	unlink("/other/sw/secret");
	rmdir("/other/sw");
	unlink("/other/e");
	rmdir("/other/d");
	int n = atomic_load(&nleaked);
	/* Only /other/sw/secret (empty) is the guest's own: anything read
	 * is a leak. */
	printf("%s -> read:", op);
	if (n == 0)
		printf(" none");
	for (int i = 0; i < n && i < 8; i++)
		printf(" [%s]", leaked[i]);
	printf(" wrote: %s\n", atomic_load(&nwrote) ? "SOME" : "none");
	fprintf(stderr, "race: %ld opens\n", atomic_load(&opens));
}

/* cwdrace: chdir races with lookups from the cwd (the cwd's host fd is
 * held by reference while a lookup uses it, closed at the last one) and
 * with fd churn that would reuse a closed number. */
static atomic_int odd;
static char oddtext[128];

static void *chdirer(void *arg)
{
	(void)arg;
	int d = open("/masked-dir", O_RDONLY | O_DIRECTORY);
	while (!atomic_load(&stop)) {
		chdir("/other");
		chdir("/etc");
		if (d >= 0)
			fchdir(d);
		chdir("/ro-dir/sub");
	}
	if (d >= 0)
		close(d);
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fds[8];
		for (int i = 0; i < 8; i++)
			fds[i] = open(i & 1 ? "/masked-dir" : "/etc", O_RDONLY | O_DIRECTORY);
		for (int i = 0; i < 8; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	return NULL;
}

static void *cwdreader(void *arg)
{
	(void)arg;
	/* Each name is in one directory only: its text, or ENOENT. */
	static const struct {
		const char *name, *text;
	} names[] = {{"data", "other data\n"}, {"hosts", "hosts\n"}, {"file", "RO below\n"}, {"secret", ""}, {"secret2", ""}};
	char buf[128];
	int i = 0;
	while (!atomic_load(&stop)) {
		int k = i++ % 5;
		int fd = open(names[k].name, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (strcmp(buf, names[k].text) != 0 && atomic_fetch_add(&odd, 1) == 0)
			snprintf(oddtext, sizeof oddtext, "%s=%.60s", names[k].name, buf);
	}
	return NULL;
}

static void cwdrace(const char *op, double secs)
{
	pthread_t t[4];
	atomic_store(&stop, 0);
	pthread_create(&t[0], NULL, chdirer, NULL);
	pthread_create(&t[1], NULL, churner, NULL);
	pthread_create(&t[2], NULL, cwdreader, NULL);
	pthread_create(&t[3], NULL, cwdreader, NULL);
	struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	chdir("/");
	for (char *c = oddtext; *c; c++)
		if (*c == '\n')
			*c = '|';
	printf("%s -> %s%s\n", op, atomic_load(&odd) ? "ODD " : "ok", oddtext);
}

/* scratch: a thread reads a 1 MiB file of 'A's while another makes
 * short reads and getdents64 into zeroed 1 MiB buffers: nothing past
 * what each call returned may change (kshim's pooled VMM-side buffers
 * carry the last call's bytes). */
static atomic_int scratch_bad;

static void *bigreader(void *arg)
{
	static char buf[1 << 20];
	int fd = open((const char *)arg, O_RDONLY);
	while (fd >= 0 && !atomic_load(&stop))
		if (pread(fd, buf, sizeof buf, 0) < 0)
			break;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int zero_from(const char *b, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

static void scratch(const char *op, double secs)
{
	static char buf[1 << 20];
	const char *big = "/other/big";
	int w = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	memset(buf, 'A', sizeof buf);
	if (w < 0 || write(w, buf, sizeof buf) != (ssize_t)sizeof buf) {
		okay(op, -1);
		return;
	}
	close(w);
	atomic_store(&stop, 0);
	pthread_t t;
	pthread_create(&t, NULL, bigreader, (void *)big);
	int small = open("/other/data", O_RDONLY), dir = open("/masked-dir", O_RDONLY | O_DIRECTORY);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long rounds = 0;
	do {
		memset(buf, 0, sizeof buf);
		ssize_t n = pread(small, buf, sizeof buf, 0);
		if (n < 0 || !zero_from(buf, n, sizeof buf))
			atomic_fetch_add(&scratch_bad, 1);
		memset(buf, 0, 65536);
		lseek(dir, 0, SEEK_SET);
		n = syscall(SYS_getdents64, dir, buf, 65536);
		if (n < 0 || !zero_from(buf, n, 65536))
			atomic_fetch_add(&scratch_bad, 1);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	close(small);
	close(dir);
	unlink(big);
	printf("%s -> %s\n", op, atomic_load(&scratch_bad) ? "bytes past a call's result changed" : "ok");
	fprintf(stderr, "scratch: %ld rounds\n", rounds);
}

static void two(const char *op, const char *src, const char *dst, int how)
{
	int in = open(src, O_RDONLY), out = open(dst, O_RDWR);
	if (in < 0 || out < 0) {
		printf("%s -> %s\n", op, ename(errno));
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		return;
	}
	long r;
	if (how == 0) {
		r = copy_file_range(in, NULL, out, NULL, 4, 0);
	} else if (how == 1) {
		r = sendfile(out, in, NULL, 4);
	} else {
		int p[2];
		r = pipe(p);
		if (r == 0) {
			r = splice(in, NULL, p[1], NULL, 4, 0);
			if (r >= 0)
				r = splice(p[0], NULL, out, NULL, 4, 0);
			close(p[0]);
			close(p[1]);
		}
	}
	okay(op, r);
	close(in);
	close(out);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exe-child") == 0)
		return exe_child();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		char *op = strdup(argv[i]);
		char *arg = strchr(op, ':');
		if (!arg) {
			printf("%s -> bad operation\n", op);
			continue;
		}
		*arg++ = 0;
		char *arg2 = strchr(arg, ':');
		if (arg2)
			*arg2++ = 0;
		const char *what = argv[i];
		if (strcmp(op, "rd") == 0) {
			showfd(what, open(arg, O_RDONLY));
		} else if (strcmp(op, "rdat") == 0 && arg2) {
			int d = open(arg, O_PATH | O_DIRECTORY);
			showfd(what, d < 0 ? -1 : openat(d, arg2, O_RDONLY));
			if (d >= 0)
				close(d);
		} else if (strcmp(op, "fdrd") == 0 && arg2) {
			int d = open(arg, O_RDONLY | O_DIRECTORY);
			char p[4200];
			snprintf(p, sizeof p, "/proc/self/fd/%d/%s", d, arg2);
			showfd(what, d < 0 ? -1 : open(p, O_RDONLY));
			if (d >= 0)
				close(d);
		} else if (strcmp(op, "wr") == 0) {
			int fd = open(arg, O_WRONLY | O_APPEND);
			okay(what, fd < 0 ? -1 : write(fd, "X", 1));
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "wrat") == 0 && arg2) {
			int d = open(arg, O_PATH | O_DIRECTORY);
			int fd = d < 0 ? -1 : openat(d, arg2, O_WRONLY | O_APPEND);
			okay(what, fd < 0 ? -1 : write(fd, "X", 1));
			if (fd >= 0)
				close(fd);
			if (d >= 0)
				close(d);
		} else if (strcmp(op, "fd0wr") == 0) {
			int fd = openat(0, arg, O_WRONLY | O_APPEND);
			okay(what, fd < 0 ? -1 : write(fd, "X", 1));
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "fd0rd") == 0) {
			showfd(what, openat(0, arg, O_RDONLY));
		} else if (strcmp(op, "fd0mk") == 0) {
			int fd = openat(0, arg, O_CREAT | O_EXCL | O_WRONLY, 0644);
			okay(what, fd);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "fd0chmod") == 0) {
			okay(what, fchmod(0, 0700));
		} else if (strcmp(op, "tmpfile") == 0 && arg2) {
			int fd = open(arg, O_TMPFILE | O_WRONLY, 0644);
			if (fd < 0) {
				okay(what, -1);
				continue;
			}
			char p[64];
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			okay(what, linkat(AT_FDCWD, p, AT_FDCWD, arg2, AT_SYMLINK_FOLLOW));
			close(fd);
		} else if (strcmp(op, "cfr") == 0 && arg2) {
			two(what, arg, arg2, 0);
		} else if (strcmp(op, "sendfile") == 0 && arg2) {
			two(what, arg, arg2, 1);
		} else if (strcmp(op, "splice") == 0 && arg2) {
			two(what, arg, arg2, 2);
		} else if (strcmp(op, "setxattr") == 0) {
			okay(what, setxattr(arg, "user.k", "v", 1, 0));
		} else if (strcmp(op, "utimes") == 0) {
			okay(what, utimensat(AT_FDCWD, arg, NULL, 0));
		} else if (strcmp(op, "chown") == 0) {
			struct stat st;
			okay(what, stat(arg, &st) < 0 ? -1 : chown(arg, st.st_uid, st.st_gid));
		} else if (strcmp(op, "trunc") == 0) {
			okay(what, truncate(arg, 0));
		} else if (strcmp(op, "falloc") == 0) {
			int fd = open(arg, O_RDWR);
			okay(what, fd < 0 ? -1 : fallocate(fd, 0, 0, 8192));
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "mmapro") == 0) {
			int fd = open(arg, O_RDONLY);
			void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			okay(what, m == MAP_FAILED ? -1 : 0);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "exeas") == 0) {
			if (copy_self(arg) < 0) {
				okay(what, -1);
				continue;
			}
			pid_t pid = fork();
			if (pid == 0) {
				char *av[] = {arg, "--exe-child", NULL};
				execv(arg, av);
				printf("%s -> execv: %s\n", what, ename(errno));
				_exit(1);
			}
			int st;
			waitpid(pid, &st, 0);
		} else if (strcmp(op, "reowr") == 0 || strcmp(op, "reotrunc") == 0) {
			int fd = open(arg, O_RDONLY);
			char p[64];
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			int w = fd < 0 ? -1 : open(p, op[3] == 'w' ? O_WRONLY | O_APPEND : O_WRONLY | O_TRUNC);
			okay(what, w < 0 ? -1 : op[3] == 'w' ? write(w, "X", 1) : 0);
			if (w >= 0)
				close(w);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "bind") == 0) {
			int s = socket(AF_UNIX, SOCK_STREAM, 0);
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			snprintf(a.sun_path, sizeof a.sun_path, "%s", arg);
			okay(what, s < 0 ? -1 : bind(s, (struct sockaddr *)&a, sizeof a));
			if (s >= 0)
				close(s);
		} else if (strcmp(op, "reexec") == 0) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				char *av[] = {"guard_attack", "--exe-child", NULL};
				execv("/proc/self/exe", av);
				printf("%s -> execv: %s\n", what, ename(errno));
				_exit(1);
			}
			int st;
			waitpid(pid, &st, 0);
		} else if (strcmp(op, "ls") == 0) {
			list(what, arg);
		} else if (strcmp(op, "scratch") == 0) {
			scratch(what, atof(arg));
		} else if (strcmp(op, "cwdrace") == 0) {
			cwdrace(what, atof(arg));
		} else if (strcmp(op, "race") == 0) {
			race(what, atof(arg));
		} else {
			printf("%s -> bad operation\n", what);
		}
		free(op);
	}
	return 0;
}
