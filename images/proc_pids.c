//go:build ignore

/* proc_pids: /proc/PID for the other processes of the guest (kshim's
 * syscalls/proc/pid.go): the listing of /proc holds every child's pid;
 * stat, status, cmdline, comm and task/ of a sleeping child with two
 * threads, a stopped one, a zombie, and one that exec'd with its own argv;
 * a reaped child's directory is gone; one busy in syscalls that never wait
 * never shows sleeping (S is a wait, not a syscall: programs poll for it
 * to know a waiter waits).  Prints facts (state letters, the
 * parent relation, names, argument bytes, thread counts), never pids,
 * times or sizes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* statf returns field i (1-based, Linux's numbering) of /proc/pid/stat. */
static long long statf(pid_t pid, int i, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_whole(path, buf, sizeof buf) < 0)
		return -1;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;
	if (state)
		*state = *p;
	for (int f = 3; f < i; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return atoll(p);
}

static char stat_state(pid_t pid)
{
	char s = '?';
	statf(pid, 3, &s);
	return s;
}

/* waitstate polls until pid's state is want (a child that has just
 * written to its pipe may not be asleep yet). */
static char waitstate(pid_t pid, char want)
{
	char s = '?';
	for (int i = 0; i < 500; i++) {
		s = stat_state(pid);
		if (s == want)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, 0);
	}
	return s;
}

static void status_line(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	out[0] = 0;
	if (read_whole(path, buf, sizeof buf) < 0) {
		snprintf(out, size, "(%s)", strerrorname_np(errno));
		return;
	}
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : 0) {
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			char *v = l + kl + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t n = strcspn(v, "\n");
			snprintf(out, size, "%.*s", (int)n, v);
			return;
		}
	}
	snprintf(out, size, "(none)");
}

static void show_cmdline(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	ssize_t n = read_whole(path, buf, sizeof buf);
	if (n < 0) {
		printf("  cmdline -> %s\n", strerrorname_np(errno));
		return;
	}
	printf("  cmdline %zd bytes:", n);
	for (ssize_t i = 0; i < n; i++)
		putchar(buf[i] ? buf[i] : '|');
	putchar('\n');
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int listed(pid_t pid)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	char want[32];
	snprintf(want, sizeof want, "%d", pid);
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, want))
			found = e->d_type == DT_DIR ? 1 : 2;
	closedir(d);
	return found;
}

static void showp(const char *what, pid_t pid, char want)
{
	char s = want ? waitstate(pid, want) : stat_state(pid);
	char path[64], comm[64], buf[128];
	printf("%s:\n", what);
	printf("  listed in /proc: %s\n", listed(pid) == 1 ? "yes (dir)" : listed(pid) ? "yes (not dir)" : "no");
	printf("  stat state %c\n", s);
	printf("  stat ppid is me: %s\n", statf(pid, 4, 0) == getpid() ? "yes" : "no");
	printf("  stat pgrp is mine: %s\n", statf(pid, 5, 0) == getpgrp() ? "yes" : "no");
	printf("  stat session is mine: %s\n", statf(pid, 6, 0) == getsid(0) ? "yes" : "no");
	printf("  stat num_threads %lld\n", statf(pid, 20, 0));
	/* (rss is Linux's lazily synced counter: not comparable) */
	printf("  stat vsize>0: %s\n", statf(pid, 23, 0) > 0 ? "yes" : "no");
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if (read_whole(path, comm, sizeof comm) < 0)
		snprintf(comm, sizeof comm, "(%s)\n", strerrorname_np(errno));
	printf("  comm %s", comm);
	status_line(pid, "Name", buf, sizeof buf);
	printf("  status Name %s\n", buf);
	status_line(pid, "State", buf, sizeof buf);
	printf("  status State %s\n", buf);
	status_line(pid, "Tgid", buf, sizeof buf);
	printf("  status Tgid is pid: %s\n", atoi(buf) == pid ? "yes" : "no");
	status_line(pid, "PPid", buf, sizeof buf);
	printf("  status PPid is me: %s\n", atoi(buf) == getpid() ? "yes" : "no");
	status_line(pid, "Uid", buf, sizeof buf);
	printf("  status Uid is mine: %s\n", atoi(buf) == (int)getuid() ? "yes" : "no");
	status_line(pid, "Threads", buf, sizeof buf);
	printf("  status Threads %s\n", buf);
	status_line(pid, "VmRSS", buf, sizeof buf);
	printf("  status has VmRSS: %s\n", buf[0] == '(' ? "no" : "yes");
	if (strcmp(what, "self") && strncmp(what, "a ", 2)) /* argv[0] is the caller's path */
		show_cmdline(pid);
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	printf("  task entries %d\n", count_dir(path));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec-child")) {
		/* The exec'd child: says it is ready, then sleeps. */
		if (write(3, "x", 1) != 1)
			return 1;
		for (;;)
			pause();
	}
	int ready[2];
	if (pipe(ready) < 0)
		return 1;
	char c;

	/* A: two threads, named, asleep. */
	pid_t a = fork();
	if (a == 0) {
		prctl(PR_SET_NAME, "sleeper-a");
		pthread_t t;
		pthread_create(&t, 0, sleeper, 0);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		sleeper(0);
	}
	if (read(ready[0], &c, 1) != 1)
		return 1;

	/* B: stopped by SIGSTOP. */
	pid_t b = fork();
	if (b == 0) {
		prctl(PR_SET_NAME, "stopped-b");
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(ready[0], &c, 1) != 1)
		return 1;
	kill(b, SIGSTOP);
	int st;
	waitpid(b, &st, WUNTRACED);
	printf("b stopped: %s\n", WIFSTOPPED(st) ? "yes" : "no");

	/* C: a zombie (waited for with WNOWAIT, so not reaped). */
	pid_t z = fork();
	if (z == 0) {
		prctl(PR_SET_NAME, "zombie-c");
		_exit(7);
	}
	siginfo_t si;
	waitid(P_PID, z, &si, WEXITED | WNOWAIT);

	/* D: exec'd with an argv of its own. */
	pid_t d = fork();
	if (d == 0) {
		dup2(ready[1], 3);
		char *av[] = {"pp-exec", "exec-child", "two words", "", "last", 0};
		execv("/proc/self/exe", av);
		_exit(127);
	}
	if (read(ready[0], &c, 1) != 1)
		return 1;

	showp("self", getpid(), 0);
	showp("a (sleeping, 2 threads)", a, 'S');
	showp("b (stopped)", b, 'T');
	showp("c (zombie)", z, 'Z');
	showp("d (exec'd)", d, 'S');

	/* E: busy in calls that never wait (opens and reads of its own
	 * /proc status, which cost the most of a syscall's handling here):
	 * running, never sleeping, however often it is looked at. */
	pid_t e = fork();
	if (e == 0) {
		char sb[4096];
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			if (read_whole("/proc/self/status", sb, sizeof sb) < 0)
				_exit(1);
	}
	if (read(ready[0], &c, 1) != 1)
		return 1;
	int asleep = 0, looks = 0;
	for (; looks < 3000; looks++) {
		char s = stat_state(e);
		if (s == 'S')
			asleep++;
		else if (s != 'R')
			break;
	}
	printf("e (busy in syscalls): looked %d times, sleeping %d\n", looks, asleep);
	kill(e, SIGKILL);
	waitpid(e, &st, 0);

	/* The parent's own cmdline is what it was started with. */
	char buf[4096], path[64];
	ssize_t n = read_whole("/proc/self/cmdline", buf, sizeof buf);
	size_t want = 0;
	for (int i = 0; i < argc; i++)
		want += strlen(argv[i]) + 1;
	printf("self cmdline matches argv: %s\n", n == (ssize_t)want && !memcmp(buf, argv[0], want) ? "yes" : "no");
	/* A forked child's is its parent's (same arg area). */
	snprintf(path, sizeof path, "/proc/%d/cmdline", a);
	ssize_t m = read_whole(path, buf + 2048, 2048);
	printf("a cmdline matches argv: %s\n", m == (ssize_t)want && !memcmp(buf + 2048, argv[0], want) ? "yes" : "no");

	/* Reaped: gone. */
	waitpid(z, &st, 0);
	snprintf(path, sizeof path, "/proc/%d/stat", z);
	int fd = open(path, O_RDONLY);
	printf("reaped c: open stat -> %s, listed %s\n", fd < 0 ? strerrorname_np(errno) : "ok", listed(z) ? "yes" : "no");

	kill(a, SIGKILL);
	kill(b, SIGKILL);
	kill(d, SIGKILL);
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
	waitpid(d, &st, 0);
	printf("done\n");
	return 0;
}
