//go:build ignore

/* fuzz_regress: calls the syscall fuzzer (fuzz_syscalls.c) found to crash
 * or mislead kshim, each checked against Linux as a differential test.
 *  - rt_sigqueueinfo(pid, 0, info) to a process with several threads
 *    (signal 0 only checks: kshim once picked a thread for signal 0 and
 *    panicked on a negative shift).
 * Prints facts, never ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void show(const char *what, long r)
{
	printf("%s -> %ld (%s)\n", what, r, r < 0 ? strerrorname_np(errno) : "ok");
}

int main(void)
{
	pthread_t t;
	siginfo_t si;
	if (pthread_create(&t, NULL, idle, NULL)) {
		printf("pthread_create failed\n");
		return 1;
	}
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	show("rt_sigqueueinfo(self, 0, SI_QUEUE info)", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
	show("rt_sigqueueinfo(self, 0, NULL)", syscall(SYS_rt_sigqueueinfo, getpid(), 0, NULL));
	show("rt_tgsigqueueinfo(self, self, 0, info)",
	     syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), 0, &si));
	return 0;
}
