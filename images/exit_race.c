//go:build ignore

/* exit_race: many tasks ending at once, for the stress test
 * (images/stress_test.go, `make stress-long`). Not a differential program:
 * its output is only a fixed line per mode, and what is checked is that
 * kshim itself survives (no Go panic, no VMM error, no hang) and reports
 * the status the guest chose.
 *
 *   exit_race forkexit NCHILD MIB THREADS [SPIN]
 *       The first process forks NCHILD children and returns from main
 *       without waiting for them. Each child touches MIB MiB, starts
 *       THREADS threads that keep touching memory, and then either exits
 *       at once (even children) or spins until the machine is torn down
 *       (odd children), or SPIN seconds (default 20) have passed. Exit
 *       status 0.
 *   exit_race groupexit NPROC NTHREADS
 *       NPROC children each start NTHREADS threads that all call
 *       exit_group(7) at the same moment as the child's main thread; the
 *       parent waits for each child and requires status 7. Exit status 0,
 *       or 1 with a message naming the child's status.
 *   exit_race execthreads NTHREADS
 *       Starts NTHREADS busy threads, then execve()s itself ("exec_done"),
 *       which prints "exec ok" and exits 0: exec must stop every thread
 *       first.
 *   exit_race forkthreads NCHILD NTHREADS
 *       Forks NCHILD children while NTHREADS threads of the parent touch
 *       memory (fork of a multi-threaded address space), each child exits
 *       at once; the parent reaps them and exits 0 (status 1 on a wrong
 *       child status).
 *
 * Programs print facts, never pids or addresses. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int go_flag;

/* Tasks that "spin until the machine is torn down" give up after this
 * many seconds (forkexit's SPIN argument), so a native run, kshim
 * --orphans=wait or a kshim that failed to kill them does not keep them
 * forever. */
static int spin_limit_s = 20;

static int expired(void)
{
	static __thread time_t start;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (start == 0)
		start = ts.tv_sec;
	return ts.tv_sec - start >= spin_limit_s;
}

/* touch writes one byte per page of n bytes at p, v times over. */
static void touch(volatile char *p, size_t n, int v)
{
	for (int r = 0; r < v; r++)
		for (size_t i = 0; i < n; i += 4096)
			p[i] = (char)(i + r);
}

static void *spinner(void *arg)
{
	size_t n = 256 << 10;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)arg;
	while (!expired()) {
		if (p != MAP_FAILED)
			touch(p, n, 1);
		sched_yield();
	}
	syscall(SYS_exit_group, 0);
	return NULL;
}

static void start_threads(int n, void *(*fn)(void *))
{
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 << 10);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, &at, fn, NULL) != 0) {
			fprintf(stderr, "exit_race: pthread_create failed\n");
			_exit(2);
		}
	}
	pthread_attr_destroy(&at);
}

static int forkexit(int nchild, int mib, int threads)
{
	for (int i = 0; i < nchild; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			/* Running out of guest memory is the guest's problem,
			 * not a failure of the test's subject: stop forking. */
			break;
		}
		if (pid == 0) {
			size_t n = (size_t)mib << 20;
			char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				touch(p, n, 1);
			start_threads(threads, spinner);
			if (i % 2 == 0)
				_exit(0);
			while (!expired())
				if (p != MAP_FAILED)
					touch(p, n, 1);
			_exit(0);
		}
	}
	printf("forkexit done\n");
	return 0; /* without waiting: the children die with the machine */
}

static void *group_exiter(void *arg)
{
	(void)arg;
	while (!atomic_load(&go_flag))
		;
	syscall(SYS_exit_group, 7);
	return NULL;
}

static int groupexit(int nproc, int nthreads)
{
	int bad = 0;
	for (int i = 0; i < nproc; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "exit_race: fork failed\n");
			return 2;
		}
		if (pid == 0) {
			start_threads(nthreads, group_exiter);
			atomic_store(&go_flag, 1);
			syscall(SYS_exit_group, 7);
		}
	}
	for (int i = 0; i < nproc; i++) {
		int st;
		if (wait(&st) < 0) {
			fprintf(stderr, "exit_race: wait failed\n");
			return 2;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) {
			fprintf(stderr, "exit_race: child status %#x, want exit 7\n", st);
			bad = 1;
		}
	}
	printf("groupexit done\n");
	return bad;
}

static void *busy(void *arg)
{
	volatile unsigned long n = 0;
	(void)arg;
	while (!expired())
		for (int i = 0; i < 1000000; i++)
			n++;
	syscall(SYS_exit_group, 0);
	return NULL;
}

static int execthreads(int nthreads, char *self)
{
	start_threads(nthreads, busy);
	char *argv[] = {self, "exec_done", NULL};
	execv("/proc/self/exe", argv);
	fprintf(stderr, "exit_race: execv failed\n");
	return 2;
}

static int forkthreads(int nchild, int nthreads)
{
	int bad = 0;
	start_threads(nthreads, spinner);
	for (int i = 0; i < nchild; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "exit_race: fork failed\n");
			return 2;
		}
		if (pid == 0)
			_exit(3);
	}
	for (int i = 0; i < nchild; i++) {
		int st;
		if (wait(&st) < 0) {
			fprintf(stderr, "exit_race: wait failed\n");
			return 2;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 3) {
			fprintf(stderr, "exit_race: child status %#x, want exit 3\n", st);
			bad = 1;
		}
	}
	printf("forkthreads done\n");
	fflush(stdout);
	_exit(bad); /* the spinning threads end with the group */
}

static int arg(char **argv, int argc, int i, int def)
{
	return i < argc ? atoi(argv[i]) : def;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* nothing buffered when forking */
	if (argc < 2) {
		fprintf(stderr, "usage: exit_race forkexit|groupexit|execthreads|forkthreads ARGS...\n");
		return 2;
	}
	const char *m = argv[1];
	if (!strcmp(m, "exec_done")) {
		printf("exec ok\n");
		return 0;
	}
	if (!strcmp(m, "forkexit")) {
		spin_limit_s = arg(argv, argc, 5, 20);
		return forkexit(arg(argv, argc, 2, 200), arg(argv, argc, 3, 4), arg(argv, argc, 4, 1));
	}
	if (!strcmp(m, "groupexit"))
		return groupexit(arg(argv, argc, 2, 20), arg(argv, argc, 3, 8));
	if (!strcmp(m, "execthreads"))
		return execthreads(arg(argv, argc, 2, 100), argv[0]);
	if (!strcmp(m, "forkthreads"))
		return forkthreads(arg(argv, argc, 2, 50), arg(argv, argc, 3, 4));
	fprintf(stderr, "exit_race: unknown mode %s\n", m);
	return 2;
}
