//go:build ignore

/* sched_affinity: sched_setaffinity's mask reads back from
 * sched_getaffinity, is inherited by fork and by a new thread, and its
 * errors (an empty mask, only CPUs the machine lacks, a missing pid, a
 * short buffer). Prints facts only (CPU counts relative to the machine's). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static int ncpu;

static void show_mask(const char *what)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	if (sched_getaffinity(0, sizeof s, &s) != 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	printf("%s: %d CPUs (all: %d), cpu0 %d\n", what, CPU_COUNT(&s), CPU_COUNT(&s) == ncpu, CPU_ISSET(0, &s));
}

static void *thread(void *a)
{
	(void)a;
	show_mask("new thread");
	return NULL;
}

int main(void)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	sched_getaffinity(0, sizeof s, &s);
	ncpu = CPU_COUNT(&s);
	show_mask("start");
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	printf("set {0} -> %s\n", sched_setaffinity(0, sizeof s, &s) == 0 ? "0" : ename(errno));
	show_mask("after");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		show_mask("child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	CPU_ZERO(&s);
	printf("set {} -> %s\n", sched_setaffinity(0, sizeof s, &s) == 0 ? "0" : ename(errno));
	CPU_SET(1000, &s);
	printf("set {1000} -> %s\n", sched_setaffinity(0, sizeof s, &s) == 0 ? "0" : ename(errno));
	CPU_ZERO(&s);
	CPU_SET(0, &s);
	printf("set pid 3999999 -> %s\n", sched_setaffinity(3999999, sizeof s, &s) == 0 ? "0" : ename(errno));
	printf("set pid -1 -> %s\n", sched_setaffinity(-1, sizeof s, &s) == 0 ? "0" : ename(errno));
	printf("get pid -1 -> %s\n", sched_getaffinity(-1, sizeof s, &s) == 0 ? "0" : ename(errno));
	printf("set bad pointer -> %s\n", syscall(SYS_sched_setaffinity, 0, sizeof s, (void *)8) == 0 ? "0" : ename(errno));
	unsigned char one = 1;
	printf("set 1-byte mask {0} -> %s\n", syscall(SYS_sched_setaffinity, 0, 1, &one) == 0 ? "0" : ename(errno));
	show_mask("after 1-byte");
	printf("get 4-byte buffer -> %s\n", syscall(SYS_sched_getaffinity, 0, 4, &s) >= 0 ? "ok" : ename(errno));
	for (int i = 0; i < ncpu; i++)
		CPU_SET(i, &s);
	printf("set all -> %s\n", sched_setaffinity(0, sizeof s, &s) == 0 ? "0" : ename(errno));
	show_mask("end");
	return 0;
}
