//go:build ignore
/* fast_stress: what kshim's fast syscall path (vmm/fast.go) must get as
 * Linux does, each case right after a burst of cheap calls that keeps the
 * path awake: reads and fstats into copy-on-write pages after fork (up to
 * 1 MiB at once), the child's and the parent's copies; signals around
 * fast calls (a pending one unblocked by rt_sigprocmask, SIGPIPE of a
 * write to a pipe with no reader, an interval timer while calls run, a
 * blocking read of an empty pipe ended by SIGALRM with and without
 * SA_RESTART, a FIFO open with no partner); a group stop and continue of
 * a child making fast calls; vfork and posix_spawn children. Deterministic
 * output. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void burst(void)
{
	for (int i = 0; i < 3000; i++)
		syscall(SYS_getppid);
}

static volatile sig_atomic_t got;
static void on_sig(int sig) { (void)sig; got++; }

#define BIG (1 << 20)
static char big[BIG] __attribute__((aligned(4096)));

static int check_pattern(const char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != (char)(i * 7 + seed))
			return 0;
	return 1;
}

static void cow(void)
{
	/* A file of a known pattern. */
	char path[] = "/tmp/fast_stressXXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		printf("mkstemp: %s\n", strerror(errno));
		return;
	}
	unlink(path);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 + 1);
	if (write(fd, big, BIG) != BIG)
		printf("write: short\n");
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 + 2); /* the parent's own copy */
	struct stat want;
	fstat(fd, &want);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		burst();
		struct stat st; /* on the stack: copy-on-write after fork */
		memset(&st, 0, sizeof st);
		int ok = fstat(fd, &st) == 0 && st.st_size == want.st_size && st.st_ino == want.st_ino;
		/* Read into the shared buffer, in pieces and whole. */
		ssize_t n1 = pread(fd, big, 4096, 0);
		int ok1 = n1 == 4096 && check_pattern(big, 4096, 1) && check_pattern(big + 4096, BIG - 4096, 2);
		burst();
		ssize_t n2 = pread(fd, big, BIG, 0);
		int ok2 = n2 == BIG && check_pattern(big, BIG, 1);
		lseek(fd, 0, SEEK_SET);
		burst();
		ssize_t n3 = read(fd, big + 4096, BIG - 8192);
		printf("child: fstat %s, pread page %s, pread 1MiB %s, read %s\n", ok ? "ok" : "wrong",
		       ok1 ? "ok" : "wrong", ok2 ? "ok" : "wrong", n3 == BIG - 8192 ? "ok" : "wrong");
		unsigned char vec[BIG / 4096];
		int all = mincore(big, BIG, vec) == 0;
		for (int i = 0; i < BIG / 4096; i++)
			all &= vec[i] & 1;
		printf("child: pages resident %s\n", all ? "all" : "not all");
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("parent: its copy %s\n", check_pattern(big, BIG, 2) ? "untouched" : "changed");
	close(fd);
}

static void sigs(void)
{
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t m, old;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigprocmask(SIG_BLOCK, &m, &old);
	got = 0;
	raise(SIGUSR1);
	burst();
	int before = got;
	sigprocmask(SIG_SETMASK, &old, NULL);
	int after = got;
	printf("unblock: handler ran %d before, %d by the unblock's return\n", before, after);

	int p[2];
	pipe(p);
	close(p[0]);
	got = 0;
	burst();
	ssize_t w = write(p[1], "x", 1);
	printf("write to a pipe with no reader: %zd %s, SIGPIPE %d\n", w, w < 0 ? strerror(errno) : "", got);
	close(p[1]);

	/* An interval timer while fast calls run: every answer right. */
	got = 0;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 2000}, {0, 2000}};
	setitimer(ITIMER_REAL, &it, NULL);
	pid_t pp = getppid();
	int wrong = 0;
	while (got < 50)
		if (syscall(SYS_getppid) != pp)
			wrong++;
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("interval timer: 50 ticks, %d wrong answers\n", wrong);

	/* A read of an empty pipe, ended by SIGALRM. */
	for (int restart = 0; restart < 2; restart++) {
		struct sigaction sb = {.sa_handler = on_sig, .sa_flags = restart ? SA_RESTART : 0};
		sigaction(SIGALRM, &sb, NULL);
		int go[2];
		pipe(p);
		pipe(go);
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			/* With SA_RESTART the read goes on: the writer ends it,
			 * 300 ms after the parent's timer is set. */
			char g;
			read(go[0], &g, 1);
			usleep(300000);
			write(p[1], "y", 1);
			_exit(0);
		}
		got = 0;
		char b;
		struct itimerval one = {{0, 0}, {0, 100000}};
		burst(); /* before the timer: kshim's slow path takes ~30 µs a call */
		write(go[1], "g", 1);
		close(go[0]);
		close(go[1]);
		setitimer(ITIMER_REAL, &one, NULL);
		for (int i = 0; i < 100; i++)
			syscall(SYS_getppid);
		ssize_t r = read(p[0], &b, 1);
		printf("empty pipe read, %s: %zd %s, SIGALRM %d\n", restart ? "SA_RESTART" : "no restart", r,
		       r < 0 ? strerror(errno) : "", got);
		waitpid(c, NULL, 0);
		close(p[0]);
		close(p[1]);
	}

	/* A FIFO with no writer: open waits, SIGALRM ends it. */
	char fifo[] = "/tmp/fast_stress_fifoXXXXXX";
	int tfd = mkstemp(fifo);
	close(tfd);
	unlink(fifo);
	if (mkfifo(fifo, 0600) == 0) {
		struct sigaction sb = {.sa_handler = on_sig};
		sigaction(SIGALRM, &sb, NULL);
		got = 0;
		burst();
		alarm(1);
		for (int i = 0; i < 100; i++)
			syscall(SYS_getppid);
		int f = open(fifo, O_RDONLY);
		printf("FIFO open with no writer: %d %s, SIGALRM %d\n", f, f < 0 ? strerror(errno) : "", got);
		int fw = open(fifo, O_WRONLY | O_NONBLOCK);
		printf("FIFO open for writing, no reader, O_NONBLOCK: %s\n", fw < 0 ? strerror(errno) : "opened");
		unlink(fifo);
	}
}

static void stop(void)
{
	int p[2];
	pipe(p);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		pid_t pp = getppid();
		long n = 0, wrong = 0;
		write(p[1], "s", 1);
		for (;;) {
			if (syscall(SYS_getppid) != pp)
				wrong++;
			struct stat st;
			if (stat("/", &st) != 0)
				wrong++;
			if (++n % 4096 == 0 && wrong)
				_exit(1);
		}
	}
	close(p[1]);
	char b;
	read(p[0], &b, 1);
	usleep(20000);
	kill(c, SIGSTOP);
	int st;
	waitpid(c, &st, WUNTRACED);
	printf("child stopped: %s\n", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP ? "yes" : "no");
	kill(c, SIGCONT);
	waitpid(c, &st, WCONTINUED);
	printf("child continued: %s\n", WIFCONTINUED(st) ? "yes" : "no");
	usleep(20000);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	printf("child killed: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "yes" : "no");
}

static void children(void)
{
	burst();
	pid_t me = getpid();
	fflush(stdout);
	pid_t c = vfork();
	if (c == 0) {
		for (int i = 0; i < 1000; i++)
			if (syscall(SYS_getppid) != me)
				_exit(2);
		_exit(getpid() == me ? 3 : 0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("vfork child: status %d\n", WEXITSTATUS(st));
	char *argv[] = {"/bin/true", NULL};
	pid_t s;
	burst();
	int e = posix_spawn(&s, "/bin/true", NULL, NULL, argv, environ);
	if (e == 0)
		waitpid(s, &st, 0);
	printf("posix_spawn: %s, status %d\n", e ? strerror(e) : "ok", e ? -1 : WEXITSTATUS(st));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	cow();
	sigs();
	stop();
	children();
	return 0;
}
