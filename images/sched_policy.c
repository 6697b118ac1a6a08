//go:build ignore

/* sched_policy: each task's scheduling policy and priority with Linux's
 * rules for a process without CAP_SYS_NICE: sched_getscheduler,
 * sched_setscheduler, sched_getparam, sched_setparam (SCHED_OTHER, BATCH
 * and IDLE allowed, FIFO and RR EPERM without RLIMIT_RTPRIO, leaving IDLE
 * EPERM without RLIMIT_NICE), reset-on-fork (not to be cleared), what
 * fork, threads and other tasks see, sched_rr_get_interval by policy,
 * posix_spawn's scheduler attributes, and the argument errors. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static const char *pol(long p)
{
	static char buf[64];
	const char *n = "?";
	switch (p & ~SCHED_RESET_ON_FORK) {
	case SCHED_OTHER: n = "SCHED_OTHER"; break;
	case SCHED_FIFO: n = "SCHED_FIFO"; break;
	case SCHED_RR: n = "SCHED_RR"; break;
	case SCHED_BATCH: n = "SCHED_BATCH"; break;
	case SCHED_IDLE: n = "SCHED_IDLE"; break;
	}
	snprintf(buf, sizeof buf, "%s%s", n, p & SCHED_RESET_ON_FORK ? "|SCHED_RESET_ON_FORK" : "");
	return buf;
}

static void get(const char *what, pid_t pid)
{
	long r = syscall(SYS_sched_getscheduler, pid);
	if (r < 0) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	struct sched_param sp = {-1};
	long q = syscall(SYS_sched_getparam, pid, &sp);
	printf("%s -> %s, priority %d%s\n", what, pol(r), sp.sched_priority, q ? " (getparam failed)" : "");
}

static long set(pid_t pid, int policy, int prio)
{
	struct sched_param sp = {prio};
	return syscall(SYS_sched_setscheduler, pid, policy, &sp);
}

static const char *nsl(int r) { return r ? ename(r) : "0"; }

static volatile pid_t thread_tid;
static volatile int done;

static void *thread(void *a)
{
	(void)a;
	rc("thread: sched_setscheduler(0, SCHED_BATCH)", set(0, SCHED_BATCH, 0));
	get("thread: its own", 0);
	thread_tid = gettid();
	while (!done)
		usleep(1000);
	return NULL;
}

int main(void)
{
	get("sched_getscheduler(0)", 0);
	get("sched_getscheduler(getpid())", getpid());

	/* The policies an unprivileged task may take. */
	rc("sched_setscheduler(0, SCHED_OTHER, 0)", set(0, SCHED_OTHER, 0));
	rc("sched_setscheduler(0, SCHED_BATCH, 0)", set(0, SCHED_BATCH, 0));
	get("  now", 0);
	rc("sched_setscheduler(0, SCHED_FIFO, 1)", set(0, SCHED_FIFO, 1));
	rc("sched_setscheduler(0, SCHED_RR, 50)", set(0, SCHED_RR, 50));
	get("  still", 0);
	rc("sched_setscheduler(0, SCHED_OTHER, 0)", set(0, SCHED_OTHER, 0));
	struct sched_param sp = {0};
	rc("sched_setparam(0, 0)", syscall(SYS_sched_setparam, 0, &sp));
	sp.sched_priority = 5;
	rc("sched_setparam(0, 5) on SCHED_OTHER", syscall(SYS_sched_setparam, 0, &sp));

	/* Argument errors, in Linux's order. */
	rc("sched_setscheduler(0, SCHED_OTHER, 1)", set(0, SCHED_OTHER, 1));
	rc("sched_setscheduler(0, SCHED_FIFO, 0)", set(0, SCHED_FIFO, 0));
	rc("sched_setscheduler(0, SCHED_FIFO, 100)", set(0, SCHED_FIFO, 100));
	rc("sched_setscheduler(0, SCHED_OTHER, -1)", set(0, SCHED_OTHER, -1));
	rc("sched_setscheduler(0, 4, 0)", set(0, 4, 0));
	rc("sched_setscheduler(0, 99, 0)", set(0, 99, 0));
	rc("sched_setscheduler(0, -1, 0)", set(0, -1, 0));
	rc("sched_setscheduler(0, SCHED_DEADLINE, 0)", set(0, 6, 0));
	rc("sched_setscheduler(-1, SCHED_OTHER, 0)", set(-1, SCHED_OTHER, 0));
	rc("sched_setscheduler(3999999, SCHED_OTHER, 0)", set(3999999, SCHED_OTHER, 0));
	rc("sched_setscheduler(0, SCHED_OTHER, NULL)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
	rc("sched_setscheduler(0, SCHED_OTHER, bad)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
	rc("sched_setscheduler(3999999, SCHED_OTHER, bad)", syscall(SYS_sched_setscheduler, 3999999, SCHED_OTHER, (void *)8));
	rc("sched_setscheduler(0, 99, bad)", syscall(SYS_sched_setscheduler, 0, 99, (void *)8));
	rc("sched_getscheduler(-1)", syscall(SYS_sched_getscheduler, -1));
	rc("sched_getscheduler(3999999)", syscall(SYS_sched_getscheduler, 3999999));
	rc("sched_getparam(-1, p)", syscall(SYS_sched_getparam, -1, &sp));
	rc("sched_getparam(0, NULL)", syscall(SYS_sched_getparam, 0, NULL));
	rc("sched_getparam(0, bad)", syscall(SYS_sched_getparam, 0, (void *)8));
	rc("sched_getparam(3999999, bad)", syscall(SYS_sched_getparam, 3999999, (void *)8));
	rc("sched_setparam(0, NULL)", syscall(SYS_sched_setparam, 0, NULL));
	rc("sched_setparam(-1, p)", syscall(SYS_sched_setparam, -1, &sp));

	/* Reset-on-fork: a plain user may set it, not clear it. */
	rc("sched_setscheduler(0, SCHED_BATCH|SCHED_RESET_ON_FORK, 0)", set(0, SCHED_BATCH | SCHED_RESET_ON_FORK, 0));
	get("  now", 0);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		get("child (reset-on-fork, not realtime: keeps BATCH)", 0);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	rc("sched_setscheduler(0, SCHED_BATCH, 0) (clears the flag)", set(0, SCHED_BATCH, 0));
	rc("sched_setparam(0, 0) (keeps it)", syscall(SYS_sched_setparam, 0, &(struct sched_param){0}));
	get("  still", 0);

	/* Another task's policy; a thread's is its own; fork inherits. */
	fflush(stdout);
	c = fork();
	if (c == 0) {
		get("child: inherited", 0);
		fflush(stdout);
		pause();
		_exit(0);
	}
	usleep(100000); /* its line first */
	rc("sched_setscheduler(child, SCHED_IDLE, 0)", set(c, SCHED_IDLE, 0));
	get("child's, from the parent", c);
	rc("sched_setscheduler(child, SCHED_OTHER, 0) (leaving SCHED_IDLE)", set(c, SCHED_OTHER, 0));
	rc("sched_setscheduler(child, SCHED_IDLE|SCHED_RESET_ON_FORK, 0)", set(c, SCHED_IDLE | SCHED_RESET_ON_FORK, 0));
	get("child's", c);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	get("reaped child's", c);

	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	while (!thread_tid)
		usleep(1000);
	get("the thread's, by tid", thread_tid);
	get("main's", 0);
	done = 1;
	pthread_join(t, NULL);

	/* sched_rr_get_interval by policy. */
	struct timespec ts;
	rc("sched_rr_get_interval(-1)", syscall(SYS_sched_rr_get_interval, -1, &ts));
	rc("sched_rr_get_interval(3999999)", syscall(SYS_sched_rr_get_interval, 3999999, &ts));
	rc("sched_rr_get_interval(0, bad)", syscall(SYS_sched_rr_get_interval, 0, (void *)8));

	/* RLIMIT_RTPRIO 0 (as here) keeps realtime policies out. */
	struct rlimit rl;
	getrlimit(RLIMIT_RTPRIO, &rl);
	printf("RLIMIT_RTPRIO soft %s\n", rl.rlim_cur == 0 ? "0" : "not 0");

	/* posix_spawn with scheduler attributes (Python's test_posix cases). */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSCHEDULER);
	printf("posix_spawnattr_setschedpolicy(SCHED_BATCH) -> %s\n", nsl(posix_spawnattr_setschedpolicy(&at, SCHED_BATCH)));
	posix_spawnattr_setschedpolicy(&at, SCHED_OTHER);
	struct sched_param zero = {0};
	posix_spawnattr_setschedparam(&at, &zero);
	char *argv[] = {"/proc/self/exe", "child", NULL};
	pid_t sp_pid;
	int r = posix_spawn(&sp_pid, "/proc/self/exe", NULL, &at, argv, NULL);
	printf("posix_spawn(SETSCHEDULER SCHED_OTHER) -> %s\n", r ? ename(r) : "0");
	if (!r) {
		int st;
		waitpid(sp_pid, &st, 0);
		printf("  child saw policy %d\n", WEXITSTATUS(st));
	}
	/* (A refused policy, SCHED_FIFO here, fails in the spawned child; glibc
	 * reports it through memory the vfork child shares with its parent,
	 * which kshim's copy-on-write vfork does not share yet.) */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSCHEDPARAM);
	zero.sched_priority = 0;
	posix_spawnattr_setschedparam(&at, &zero);
	r = posix_spawn(&sp_pid, "/proc/self/exe", NULL, &at, argv, NULL);
	printf("posix_spawn(SETSCHEDPARAM 0) -> %s\n", r ? ename(r) : "0");
	if (!r) {
		int st;
		waitpid(sp_pid, &st, 0);
		printf("  child saw policy %d\n", WEXITSTATUS(st));
	}
	return 0;
}

/* The spawned child reports its policy as its exit status. */
__attribute__((constructor)) static void spawned(void)
{
	char buf[64] = {0};
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	size_t l = strlen(buf);
	if (l + 1 < n && !strcmp(buf + l + 1, "child"))
		_exit(sched_getscheduler(0));
}
