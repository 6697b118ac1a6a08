//go:build ignore

/* sched_policy: each task's scheduling policy and priority with Linux's
 * rules for a process without CAP_SYS_NICE: sched_getscheduler,
 * sched_setscheduler, sched_getparam, sched_setparam (SCHED_OTHER, BATCH
 * and IDLE allowed, FIFO and RR EPERM without RLIMIT_RTPRIO, leaving IDLE
 * EPERM without RLIMIT_NICE), reset-on-fork (not to be cleared), what
 * fork, threads and other tasks see, sched_rr_get_interval by policy,
 * posix_spawn's scheduler attributes, sched_getattr and sched_setattr
 * (nice, flags, sizes, deadline), and the argument errors. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
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

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t prio;
	uint64_t runtime, deadline, period;
	uint32_t umin, umax;
	uint64_t extra[2];
};

static void getattr(const char *what, pid_t pid)
{
	struct attr a;
	memset(&a, 0xee, sizeof a);
	long r = syscall(SYS_sched_getattr, pid, &a, 56, 0);
	if (r) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	printf("%s -> size %u, %s, flags %#lx, nice %d, priority %u, dl %lu/%lu/%lu, util %u..%u\n", what, a.size,
	       pol(a.policy), (unsigned long)a.flags, a.nice, a.prio, (unsigned long)a.runtime, (unsigned long)a.deadline,
	       (unsigned long)a.period, a.umin, a.umax);
}

static long setattr(pid_t pid, uint32_t size, uint32_t policy, uint64_t flags, int nice, uint32_t prio)
{
	struct attr a = {0};
	a.size = size;
	a.policy = policy;
	a.flags = flags;
	a.nice = nice;
	a.prio = prio;
	return syscall(SYS_sched_setattr, pid, &a, 0);
}

/* sched_getattr and sched_setattr, in a child (nice values only go up). */
static void attrs(void)
{
	fflush(stdout);
	pid_t c = fork();
	if (c) {
		waitpid(c, NULL, 0);
		return;
	}
	rc("sched_setscheduler(0, SCHED_OTHER, 0)", set(0, SCHED_OTHER, 0));
	getattr("sched_getattr(0)", 0);
	rc("sched_setattr(SCHED_OTHER, nice 5)", setattr(0, 56, SCHED_OTHER, 0, 5, 0));
	getattr("  now", 0);
	errno = 0;
	printf("  getpriority -> %d\n", getpriority(PRIO_PROCESS, 0));
	rc("sched_setattr(SCHED_OTHER, nice 2) (lower)", setattr(0, 56, SCHED_OTHER, 0, 2, 0));
	struct attr sl = {.size = 56, .policy = SCHED_OTHER, .nice = 5, .runtime = 5000000};
	rc("sched_setattr(SCHED_OTHER, runtime 5 ms: a custom slice)", syscall(SYS_sched_setattr, 0, &sl, 0));
	getattr("  now", 0);
	sl.runtime = 50;
	rc("sched_setattr(SCHED_OTHER, runtime 50 ns)", syscall(SYS_sched_setattr, 0, &sl, 0));
	getattr("  now", 0);
	rc("sched_setscheduler(0, SCHED_OTHER, 0) (the slice back to the base)", set(0, SCHED_OTHER, 0));
	getattr("  now", 0);
	rc("sched_setattr(SCHED_BATCH, nice 30 (clamped))", setattr(0, 48, SCHED_BATCH, 0, 30, 0));
	getattr("  now", 0);
	rc("sched_setattr(KEEP_POLICY|KEEP_PARAMS|RESET_ON_FORK)", setattr(0, 56, 99, 0x18 | 1, 0, 0));
	getattr("  now", 0);
	rc("sched_setattr(KEEP_POLICY, SCHED_IDLE... nice 19)", setattr(0, 56, SCHED_IDLE, 0x08 | 1, 19, 0));
	getattr("  now", 0);
	rc("sched_setattr(size 0: the first version)", setattr(0, 0, SCHED_BATCH, 1, 19, 0));
	struct attr a = {0};
	a.size = 47;
	rc("sched_setattr(size 47)", syscall(SYS_sched_setattr, 0, &a, 0));
	printf("  size written back: %u\n", a.size);
	a = (struct attr){.size = 72, .policy = SCHED_BATCH, .flags = 1, .nice = 19};
	rc("sched_setattr(size 72, zero tail)", syscall(SYS_sched_setattr, 0, &a, 0));
	a.extra[1] = 1;
	rc("sched_setattr(size 72, tail not zero)", syscall(SYS_sched_setattr, 0, &a, 0));
	printf("  size written back: %u\n", a.size);
	rc("sched_setattr(flags 0x80)", setattr(0, 56, SCHED_BATCH, 0x81, 19, 0));
	rc("sched_setattr(util clamp, size 48)", setattr(0, 48, SCHED_BATCH, 0x21, 19, 0));
	rc("sched_setattr(util clamp)", setattr(0, 56, SCHED_BATCH, 0x21, 19, 0));
	rc("sched_setattr(SCHED_FIFO 1)", setattr(0, 56, SCHED_FIFO, 1, 0, 1));
	rc("sched_setattr(SCHED_DEADLINE, no parameters)", setattr(0, 56, 6, 1, 0, 0));
	a = (struct attr){.size = 56, .policy = 6, .flags = 1, .runtime = 10000000, .deadline = 30000000, .period = 100000000};
	rc("sched_setattr(SCHED_DEADLINE 10/30/100 ms)", syscall(SYS_sched_setattr, 0, &a, 0));
	rc("sched_setattr(policy -1)", setattr(0, 56, (uint32_t)-1, 1, 19, 0));
	rc("sched_setattr(pid -1)", setattr(-1, 56, SCHED_BATCH, 1, 19, 0));
	rc("sched_setattr(3999999)", setattr(3999999, 56, SCHED_BATCH, 1, 19, 0));
	rc("sched_setattr(NULL)", syscall(SYS_sched_setattr, 0, NULL, 0));
	rc("sched_setattr(bad)", syscall(SYS_sched_setattr, 0, (void *)8, 0));
	rc("sched_setattr(flags arg 1)", syscall(SYS_sched_setattr, 0, &a, 1));
	getattr("  finally", 0);
	struct attr g;
	memset(&g, 0xee, sizeof g);
	rc("sched_getattr(usize 48)", syscall(SYS_sched_getattr, 0, &g, 48, 0));
	printf("  size %u, next word %s\n", g.size, g.umin == 0xeeeeeeee ? "untouched" : "written");
	rc("sched_getattr(usize 80)", syscall(SYS_sched_getattr, 0, &g, 80, 0));
	printf("  size %u\n", g.size);
	rc("sched_getattr(usize 47)", syscall(SYS_sched_getattr, 0, &g, 47, 0));
	rc("sched_getattr(usize 4097)", syscall(SYS_sched_getattr, 0, &g, 4097, 0));
	rc("sched_getattr(flags 1)", syscall(SYS_sched_getattr, 0, &g, 56, 1));
	rc("sched_getattr(NULL)", syscall(SYS_sched_getattr, 0, NULL, 56, 0));
	rc("sched_getattr(bad)", syscall(SYS_sched_getattr, 0, (void *)8, 56, 0));
	rc("sched_getattr(-1)", syscall(SYS_sched_getattr, -1, &g, 56, 0));
	rc("sched_getattr(3999999)", syscall(SYS_sched_getattr, 3999999, &g, 56, 0));
	fflush(stdout);
	_exit(0);
}

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
	attrs();
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
