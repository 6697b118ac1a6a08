//go:build ignore

/* proc_other: /proc/PID's links and views into another process of the
 * guest (kshim's syscalls/proc/fsproc.go pidDir, kernel's Peek): exe, cwd,
 * root, fd/, fdinfo/, maps, environ of a child that exec'd with its own
 * environment and sits in /tmp with files open; the same for a child that
 * made itself not dumpable (EACCES, root's files) and for a zombie
 * (ENOENT, empty).  Prints facts, never pids, inodes or addresses. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static const char *yes(int c) { return c ? "yes" : "no"; }

static void rl(pid_t pid, const char *what, char *out, size_t n)
{
	char p[128];
	snprintf(p, sizeof p, "/proc/%d/%s", pid, what);
	ssize_t r = readlink(p, out, n - 1);
	if (r < 0)
		snprintf(out, n, "-> %s", ename(errno));
	else
		out[r] = 0;
}

/* slurp reads a /proc/PID file; -1 and errno on failure. */
static ssize_t slurp(pid_t pid, const char *what, char *buf, size_t size)
{
	char p[128];
	snprintf(p, sizeof p, "/proc/%d/%s", pid, what);
	return read_whole(p, buf, size);
}

static void listdir(pid_t pid, const char *what)
{
	char p[128], names[1024] = "";
	snprintf(p, sizeof p, "/proc/%d/%s", pid, what);
	DIR *d = opendir(p);
	if (!d) {
		printf("ls %s -> %s\n", what, ename(errno));
		return;
	}
	int fds[64], n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && n < 64)
			fds[n++] = atoi(de->d_name);
	closedir(d);
	for (int i = 0; i < n; i++) /* sort */
		for (int j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	for (int i = 0; i < n; i++)
		sprintf(names + strlen(names), " %d", fds[i]);
	printf("ls %s:%s\n", what, names);
}

/* child: in /tmp, fd 5 /etc/passwd, fd 6-7 a pipe, fd 9 /dev/null
 * O_WRONLY|O_APPEND with FD_CLOEXEC, then tells the parent on fd 3. */
static int child(int nodump)
{
	if (chdir("/tmp") < 0)
		return 1;
	int p[2];
	pipe(p);
	dup2(p[0], 20);
	dup2(p[1], 21);
	close(p[0]);
	close(p[1]);
	int f = open("/etc/passwd", O_RDONLY);
	dup2(f, 5);
	close(f);
	lseek(5, 3, SEEK_SET);
	dup2(20, 6);
	dup2(21, 7);
	close(20);
	close(21);
	f = open("/dev/null", O_WRONLY | O_APPEND);
	dup2(f, 9);
	close(f);
	fcntl(9, F_SETFD, FD_CLOEXEC);
	if (nodump) {
		prctl(PR_SET_DUMPABLE, 0);
		printf("child: dumpable %d\n", prctl(PR_GET_DUMPABLE));
		fflush(stdout);
	}
	write(3, "r", 1);
	for (;;)
		pause();
}

/* spawn starts this program again as a child with its own environment. */
static pid_t spawn(const char *mode)
{
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (p[1] != 3) {
			dup2(p[1], 3);
			close(p[1]);
		}
		char *argv[] = {"proc_other", (char *)mode, 0};
		char *envp[] = {"GREETING=hello there", "EMPTY=", "LAST=1", 0};
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(p[1]);
	char c;
	read(p[0], &c, 1);
	close(p[0]);
	return pid;
}

static void look(pid_t pid)
{
	char a[512], b[512], buf[8192];
	rl(pid, "exe", a, sizeof a);
	rl(getpid(), "exe", b, sizeof b);
	printf("exe is mine: %s\n", yes(!strcmp(a, b)));
	rl(pid, "cwd", a, sizeof a);
	printf("cwd: %s\n", a);
	rl(pid, "root", a, sizeof a);
	printf("root: %s\n", a);
	listdir(pid, "fd");
	listdir(pid, "fdinfo");
	rl(pid, "fd/5", a, sizeof a);
	printf("fd/5: %s\n", a);
	rl(pid, "fd/6", a, sizeof a);
	printf("fd/6 is a pipe: %s\n", yes(!strncmp(a, "pipe:[", 6)));
	rl(pid, "fd/7", b, sizeof b);
	printf("fd/7 the same pipe: %s\n", yes(!strcmp(a, b)));
	rl(pid, "fd/9", a, sizeof a);
	printf("fd/9: %s\n", a);
	rl(pid, "fd/42", a, sizeof a);
	printf("fd/42: %s\n", a);
	struct stat st;
	char p[128];
	snprintf(p, sizeof p, "/proc/%d/fd/5", pid);
	if (lstat(p, &st) == 0)
		printf("lstat fd/5: mode %o\n", st.st_mode & 07777);
	snprintf(p, sizeof p, "/proc/%d/fd/9", pid);
	if (lstat(p, &st) == 0)
		printf("lstat fd/9: mode %o\n", st.st_mode & 07777);
	/* Following the links: the same files, opened anew. */
	snprintf(p, sizeof p, "/proc/%d/fd/5", pid);
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("open fd/5 -> %s\n", ename(errno));
	} else {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		int e = open("/etc/passwd", O_RDONLY);
		char buf2[8192];
		ssize_t m = read(e, buf2, sizeof buf2 - 1);
		printf("fd/5 opened anew reads /etc/passwd from 0: %s\n", yes(n == m && !memcmp(buf, buf2, n)));
		close(e);
		close(fd);
	}
	snprintf(p, sizeof p, "/proc/%d/cwd", pid);
	struct stat s2;
	printf("stat cwd is /tmp: %s\n", yes(stat(p, &st) == 0 && stat("/tmp", &s2) == 0 && st.st_ino == s2.st_ino && st.st_dev == s2.st_dev));
	snprintf(p, sizeof p, "/proc/%d/root/etc/passwd", pid);
	printf("stat root/etc/passwd is /etc/passwd: %s\n", yes(stat(p, &st) == 0 && stat("/etc/passwd", &s2) == 0 && st.st_ino == s2.st_ino));
	snprintf(p, sizeof p, "/proc/%d/cwd/..", pid);
	printf("cwd/.. is /: %s\n", yes(stat(p, &st) == 0 && stat("/", &s2) == 0 && st.st_ino == s2.st_ino));
	/* fdinfo: the offset, flags, the mount and inode as stat gives them. */
	for (int i = 5; i <= 9; i += 4) {
		char w[32];
		snprintf(w, sizeof w, "fdinfo/%d", i);
		ssize_t n = slurp(pid, w, buf, sizeof buf);
		if (n < 0) {
			printf("%s -> %s\n", w, ename(errno));
			continue;
		}
		long pos = -1;
		unsigned flags = 0;
		char *f = strstr(buf, "pos:");
		if (f)
			sscanf(f, "pos: %ld", &pos);
		f = strstr(buf, "flags:");
		if (f)
			sscanf(f, "flags: %o", &flags);
		printf("%s: pos %ld flags 0%o, has mnt_id and ino: %s\n", w, pos, flags,
		       yes(strstr(buf, "\nmnt_id:\t") && strstr(buf, "\nino:\t")));
	}
	ssize_t n = slurp(pid, "environ", buf, sizeof buf);
	if (n < 0) {
		printf("environ -> %s\n", ename(errno));
	} else {
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = '|';
		printf("environ: %s\n", buf);
	}
	n = slurp(pid, "maps", buf, sizeof buf);
	if (n < 0)
		printf("maps -> %s\n", ename(errno));
	else
		printf("maps: has [stack] %s, names the program %s\n", yes(strstr(buf, "[stack]") != 0),
		       yes(strstr(buf, "proc_other\n") != 0));
	n = slurp(pid, "status", buf, sizeof buf);
	printf("status readable: %s\n", yes(n > 0));
	n = slurp(pid, "cmdline", buf, sizeof buf);
	printf("cmdline: %s\n", n > 0 ? buf : "(empty)");
	snprintf(p, sizeof p, "/proc/%d/environ", pid);
	if (stat(p, &st) == 0)
		printf("environ: owner is me %s, root %s, mode %o\n", yes(st.st_uid == getuid()), yes(st.st_uid == 0), st.st_mode & 07777);
	snprintf(p, sizeof p, "/proc/%d/fd", pid);
	if (stat(p, &st) == 0)
		printf("fd/: owner root %s, mode %o\n", yes(st.st_uid == 0), st.st_mode & 07777);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, 0, _IONBF, 0);
	if (argc == 1)
		close_range(3, ~0u, 0); /* what the caller left open is not ours */
	if (argc > 1 && !strcmp(argv[1], "child"))
		return child(0);
	if (argc > 1 && !strcmp(argv[1], "nodump"))
		return child(1);

	printf("-- own: self\n");
	printf("dumpable %d\n", prctl(PR_GET_DUMPABLE));
	show("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
	listdir(getpid(), "fdinfo");

	printf("-- another process\n");
	pid_t a = spawn("child");
	look(a);

	printf("-- a process that is not dumpable\n");
	pid_t b = spawn("nodump");
	look(b);

	printf("-- a zombie\n");
	kill(a, SIGKILL);
	siginfo_t si;
	waitid(P_PID, a, &si, WEXITED | WNOWAIT);
	look(a);
	waitpid(a, 0, 0);
	kill(b, SIGKILL);
	waitpid(b, 0, 0);
	char x[64];
	rl(a, "exe", x, sizeof x);
	printf("reaped: exe %s\n", x);
	return 0;
}
