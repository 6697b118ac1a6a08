//go:build ignore

/* proc_threadself: /proc/self from a thread other than the main one is
 * the thread group's directory, and /proc/thread-self the calling
 * thread's task directory. kshim once answered /proc/self/status and
 * cmdline with ESRCH from any thread but the leader (Go programs read
 * them from whichever thread runs the goroutine), and had no
 * /proc/thread-self. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

/* field returns the number after "name:" in /proc file path, or -1. */
static long field(const char *path, const char *name)
{
	static char buf[8192];
	if (read_whole(path, buf, sizeof buf) < 0) {
		printf("read %s -> %s\n", path, ename(errno));
		return -1;
	}
	char key[64];
	snprintf(key, sizeof key, "\n%s:", name);
	char *at = strstr(buf, key);
	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

static void check(const char *who)
{
	pid_t pid = getpid(), tid = syscall(SYS_gettid);
	printf("%s: self status Tgid is getpid: %d\n", who, field("/proc/self/status", "Tgid") == pid);
	printf("%s: self status Pid is getpid: %d\n", who, field("/proc/self/status", "Pid") == pid);
	printf("%s: thread-self status Tgid is getpid: %d\n", who, field("/proc/thread-self/status", "Tgid") == pid);
	printf("%s: thread-self status Pid is gettid: %d\n", who, field("/proc/thread-self/status", "Pid") == tid);
	static char buf[4096];
	ssize_t n = read_whole("/proc/self/cmdline", buf, sizeof buf);
	printf("%s: self cmdline: %s\n", who, n < 0 ? ename(errno) : buf);
	char link[64], want[64];
	ssize_t l = readlink("/proc/thread-self", link, sizeof link - 1);
	link[l < 0 ? 0 : l] = 0;
	snprintf(want, sizeof want, "%d/task/%d", pid, tid);
	printf("%s: thread-self links to PID/task/TID: %d\n", who, strcmp(link, want) == 0);
}

static void *thread(void *arg)
{
	(void)arg;
	check("thread");
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	check("main");
	pthread_t t;
	if (pthread_create(&t, NULL, thread, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 0;
}
