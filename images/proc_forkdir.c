//go:build ignore

/* proc_forkdir: a /proc directory opened through /proc/self is the
 * opener's, whoever reads it later, as Linux resolves /proc/self at the
 * open: a child that inherits the parent's open /proc/self/fd,
 * /proc/self/task and /proc/self fds by fork lists the parent's fds and
 * threads, and openat under the /proc/self fd reaches the parent's files.
 * The child first closes an fd the parent keeps and the parent has a
 * second thread the child lacks, so reading its own would show. The
 * /proc/vmstat counters procps reads are there too (their values are the
 * machine's, so only their presence and sign are printed). Only facts are
 * printed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

/* list reads dir fd d from its start into out (names but . and ..,
 * joined by ','), leaving its offset at 0 again; returns the count. */
static int list(int d, char *out, size_t size)
{
	char buf[4096];
	int n = 0;
	out[0] = 0;
	if (lseek(d, 0, SEEK_SET) != 0)
		return -1;
	for (;;) {
		long got = syscall(SYS_getdents64, d, buf, sizeof buf);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		for (long off = 0; off < got;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			off += e->d_reclen;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			strncat(out, e->d_name, size - strlen(out) - 2);
			strcat(out, ",");
			n++;
		}
	}
	lseek(d, 0, SEEK_SET);
	return n;
}

static int hold[2];

static void *sleeper(void *arg)
{
	(void)arg;
	char c;
	while (read(hold[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* pidOf returns the Pid: line of the status file at dir fd d. */
static long pidOf(int d)
{
	char buf[4096];
	int f = openat(d, "status", O_RDONLY);
	if (f < 0)
		return -errno;
	long n = read(f, buf, sizeof buf - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	const char *at = strstr(buf, "\nPid:");
	return at ? strtol(at + 5, NULL, 10) : -1;
}

static void vmstat(void)
{
	static const char *names[] = {"nr_free_pages", "pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault"};
	char buf[16384];
	int f = open("/proc/vmstat", O_RDONLY);
	if (f < 0) {
		printf("/proc/vmstat: %s\n", ename(errno));
		return;
	}
	buf[0] = '\n'; /* so every name follows a newline */
	long n = read(f, buf + 1, sizeof buf - 2);
	close(f);
	buf[n > 0 ? n + 1 : 1] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char key[64];
		snprintf(key, sizeof key, "\n%s ", names[i]);
		const char *at = strstr(buf, key);
		if (!at) {
			printf("vmstat %s: missing\n", names[i]);
			continue;
		}
		at += strlen(key);
		char *end;
		long long v = strtoll(at, &end, 10);
		printf("vmstat %s: present, %s\n", names[i], end != at && *end == '\n' && v >= 0 ? "a non-negative number" : "malformed");
	}
}

int main(void)
{
	static char pfd[4096], ptask[4096], cfd[4096], ctask[4096];
	pthread_t t;
	if (pipe(hold) != 0 || pthread_create(&t, NULL, sleeper, NULL) != 0)
		return 1;
	int fdd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	int taskd = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
	int selfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	int extra = open("/dev/null", O_RDONLY);
	if (fdd < 0 || taskd < 0 || selfd < 0 || extra < 0)
		return 1;
	int nfd = list(fdd, pfd, sizeof pfd), ntask = list(taskd, ptask, sizeof ptask);
	printf("parent: %d threads\n", ntask);
	(void)nfd;
	fflush(stdout);
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		close(extra);
		int n = list(fdd, cfd, sizeof cfd);
		printf("child: inherited self/fd lists the parent's set: %s\n", strcmp(cfd, pfd) ? "no" : "yes");
		n = list(taskd, ctask, sizeof ctask);
		printf("child: inherited self/task lists %d, the parent's threads: %s\n", n, strcmp(ctask, ptask) ? "no" : "yes");
		long pid = pidOf(selfd);
		printf("child: status under inherited self is the parent's: %s\n", pid == parent ? "yes" : "no");
		/* Its own /proc/self is its own. */
		int own = open("/proc/self/task", O_RDONLY | O_DIRECTORY);
		printf("child: own self/task lists %d\n", list(own, ctask, sizeof ctask));
		int ownself = open("/proc/self", O_RDONLY | O_DIRECTORY);
		printf("child: status under own self is its own: %s\n", pidOf(ownself) == getpid() ? "yes" : "no");
		vmstat();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	write(hold[1], "x", 1);
	pthread_join(t, NULL);
	return 0;
}
