//go:build ignore
/* bench_wakelat: wake-up latency between guest tasks.
 *
 *   bench_wakelat [N [SPIN [BUSY]]]
 *
 * futex: two threads ping-pong N times through a shared word (FUTEX_WAIT /
 * FUTEX_WAKE, private); pipe: two processes ping-pong one byte N times
 * through two pipes. With SPIN=1 a third thread spins in user mode for the
 * whole run, so a wake-up cannot count on an idle CPU (under kshim: every
 * Go P may be held by a thread in KVM_RUN). With BUSY (us), the futex
 * side's main thread spins that long in user mode after each wake, so the
 * woken thread cannot be started by its waker's next exit (under kshim
 * the waker stays in KVM_RUN meanwhile). Prints the median of 5 rounds
 * in ns per round trip, and rounds_ok=1 when every round trip went both
 * ways in order (the differential row checks that with "check", which
 * prints only the facts).
 *
 * The word's value (or the pipe's byte) says whose turn it is; without
 * BUSY a round trip is two wake-ups and two sleeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void die(const char *what)
{
	fprintf(stderr, "bench_wakelat: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static _Atomic int turn; /* 0: main's turn, 1: peer's */
static long n;
static _Atomic int stop;
static long peer_seen;
static double busy_ns; /* main's user-mode spin after each wake (argv[3], us) */

static void busy(void)
{
	if (busy_ns <= 0)
		return;
	double t = now();
	while (now() - t < busy_ns)
		;
}

static void fwait(_Atomic int *w, int v)
{
	while (atomic_load(w) == v)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void fwake(_Atomic int *w, int v)
{
	atomic_store(w, v);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		fwait(&turn, 0); /* wait while it is main's turn */
		peer_seen++;
		fwake(&turn, 0);
	}
	return NULL;
}

static void *spinner(void *arg)
{
	volatile unsigned long x = 0;
	(void)arg;
	while (!atomic_load(&stop))
		x++;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* futex_round runs n round trips; returns ns per round trip, or -1 when
 * the peer did not see each one. */
static double futex_round(void)
{
	pthread_t t;
	atomic_store(&turn, 0);
	peer_seen = 0;
	if (pthread_create(&t, NULL, peer, NULL) != 0)
		die("pthread_create");
	double t0 = now();
	for (long i = 0; i < n; i++) {
		fwake(&turn, 1);
		busy();
		fwait(&turn, 1);
	}
	double d = now() - t0;
	pthread_join(t, NULL);
	return peer_seen == n ? d / n : -1;
}

static double pipe_round(void)
{
	int a[2], b[2];
	if (pipe(a) || pipe(b))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		for (long i = 0; i < n; i++) {
			if (read(a[0], &c, 1) != 1)
				_exit(2);
			c++;
			if (write(b[1], &c, 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	int ok = 1;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		char c = (char)i, r;
		if (write(a[1], &c, 1) != 1 || read(b[0], &r, 1) != 1 || r != (char)(c + 1)) {
			ok = 0;
			break;
		}
	}
	double d = now() - t0;
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ok = 0;
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	return ok ? d / n : -1;
}

int main(int argc, char **argv)
{
	int check = argc > 1 && strcmp(argv[1], "check") == 0;
	n = check ? 200 : argc > 1 ? atol(argv[1]) : 2000;
	int spin = argc > 2 && atoi(argv[2]) > 0;
	busy_ns = argc > 3 ? atof(argv[3]) * 1000 : 0;
	if (n <= 0)
		n = 1;
	pthread_t s;
	if (spin && pthread_create(&s, NULL, spinner, NULL) != 0)
		die("pthread_create");
	double f[5], p[5];
	int ok = 1;
	for (int k = 0; k < 5; k++) {
		f[k] = futex_round();
		p[k] = pipe_round();
		ok &= f[k] >= 0 && p[k] >= 0;
	}
	atomic_store(&stop, 1);
	if (spin)
		pthread_join(s, NULL);
	qsort(f, 5, sizeof f[0], cmp);
	qsort(p, 5, sizeof p[0], cmp);
	if (!check)
		printf("futex_rt_ns=%.0f pipe_rt_ns=%.0f ", f[2], p[2]);
	printf("rounds_ok=%d\n", ok);
	return 0;
}
