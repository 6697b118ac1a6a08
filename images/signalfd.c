//go:build ignore

/* signalfd: signalfd/signalfd4 as Linux has them: the usual pattern (block,
 * then read), several records in one read, sigqueue values, realtime order,
 * non-blocking EAGAIN, poll/select/epoll readiness (immediate and while
 * waiting), mask update, short reads, bad arguments, a thread-directed
 * signal read by its thread and not another, blocking reads interrupted by
 * a handled signal (EINTR, SA_RESTART), and fork. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static const char *signame(int s)
{
	static char b[16];
	if (s >= SIGRTMIN) {
		snprintf(b, sizeof b, "RTMIN+%d", s - SIGRTMIN);
		return b;
	}
	return sigabbrev_np(s);
}

static void res(const char *what, long r)
{
	if (r < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %ld\n", what, r);
}

/* Reads one record from fd and prints what it holds. */
static void read1(const char *what, int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof si);
	if (n < 0) {
		printf("%s: read -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: read %zd: %s code=%d pid_self=%d uid_self=%d\n", what, n, signame(si.ssi_signo),
	       si.ssi_code, si.ssi_pid == (unsigned)getpid(), si.ssi_uid == getuid());
}

static int pollin(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, ms);
	return r <= 0 ? r : p.revents;
}

static pid_t gettid_(void) { return syscall(SYS_gettid); }

static volatile int go, reading, done, alarms;
static pid_t main_tid;

static void on_alrm(int s) { (void)s; alarms++; }

/* A thread that waits for main to start reading, then sends SIGALRM to it
 * every 20 ms until done; with then_usr1, after three it sends SIGUSR1. */
static void *alarmer(void *arg)
{
	int then_usr1 = (long)arg;
	while (!reading)
		usleep(1000);
	for (int i = 0; !done; i++) {
		usleep(20000);
		if (then_usr1 && i == 3) {
			kill(getpid(), SIGUSR1);
			break;
		}
		syscall(SYS_tgkill, getpid(), main_tid, SIGALRM);
	}
	return NULL;
}

static void *late_kill(void *arg)
{
	usleep(50000);
	kill(getpid(), (int)(long)arg);
	return NULL;
}

static pid_t thread_tid;
static int thread_fd;
static void *directed(void *arg)
{
	(void)arg;
	thread_tid = gettid_();
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&go, __ATOMIC_SEQ_CST) != 2)
		usleep(1000);
	read1("thread reads its tgkill", thread_fd);
	return NULL;
}

/* After execve: the signalfd (not close-on-exec) and the pending,
 * blocked signal are still there. */
static int after_exec(int fd, int ce)
{
	res("after exec: fcntl of the close-on-exec one", fcntl(ce, F_GETFD));
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof si);
	if (n < 0)
		printf("after exec: read -> %s\n", ename(errno));
	else
		printf("after exec: read %zd: %s\n", n, signame(si.ssi_signo));
	read1("after exec again", fd);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 4 && strcmp(argv[1], "exec") == 0)
		return after_exec(atoi(argv[2]), atoi(argv[3]));
	main_tid = gettid_();
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN);
	sigaddset(&m, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &m, NULL);

	/* The usual pattern. */
	int fd = signalfd(-1, &m, SFD_CLOEXEC);
	res("signalfd", fd >= 0 ? 0 : -1);
	printf("cloexec %d nonblock %d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	kill(getpid(), SIGUSR1);
	read1("kill USR1", fd);

	/* Several in one read, lowest first. */
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	struct signalfd_siginfo three[3];
	ssize_t n = read(fd, three, sizeof three);
	printf("read 3 records -> %zd:", n);
	for (int i = 0; i < n / (ssize_t)sizeof three[0]; i++)
		printf(" %s", signame(three[i].ssi_signo));
	printf("\n");

	/* sigqueue values. */
	union sigval v = {.sival_ptr = (void *)0x1234567890ul};
	sigqueue(getpid(), SIGUSR2, v);
	struct signalfd_siginfo si;
	n = read(fd, &si, sizeof si);
	printf("sigqueue: %zd %s code=%s int=%#x ptr=%#llx pid_self=%d\n", n, signame(si.ssi_signo),
	       si.ssi_code == SI_QUEUE ? "SI_QUEUE" : "?", si.ssi_int, (unsigned long long)si.ssi_ptr,
	       si.ssi_pid == (unsigned)getpid());

	/* Realtime signals: lowest number first, each with its value. */
	v.sival_int = 1;
	sigqueue(getpid(), SIGRTMIN + 1, v);
	v.sival_int = 2;
	sigqueue(getpid(), SIGRTMIN, v);
	for (int i = 0; i < 2; i++) {
		n = read(fd, &si, sizeof si);
		printf("rt: %zd %s int=%d\n", n, signame(si.ssi_signo), si.ssi_int);
	}

	/* Non-blocking: EAGAIN, and the same with a short read pending. */
	int nb = signalfd(-1, &m, SFD_NONBLOCK);
	printf("nb: cloexec %d nonblock %d\n", (fcntl(nb, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0);
	read1("nothing pending", nb);
	kill(getpid(), SIGUSR1);
	char small[200];
	res("read 127 bytes", read(nb, small, 127));
	res("read 0 bytes", read(nb, small, 0));
	res("read 200 bytes", read(nb, small, 200));
	read1("after", nb);

	/* poll, select and epoll readiness. */
	printf("poll empty -> %d\n", pollin(nb, 0));
	kill(getpid(), SIGUSR2);
	printf("poll pending -> %#x\n", pollin(nb, 0));
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(nb, &rs);
	struct timeval tv = {0, 0};
	res("select pending", select(nb + 1, &rs, NULL, NULL, &tv));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
	res("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, nb, &ev));
	struct epoll_event out[2];
	n = epoll_wait(ep, out, 2, 0);
	printf("epoll pending -> %zd data=%llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ull);
	read1("drain", nb);
	printf("poll after read -> %d\n", pollin(nb, 0));
	res("epoll after read", epoll_wait(ep, out, 2, 0));
	FD_SET(nb, &rs);
	res("select after read", select(nb + 1, &rs, NULL, NULL, &tv));
	/* Waiting: a signal sent while poll/epoll wait wakes them. */
	pthread_t t;
	pthread_create(&t, NULL, late_kill, (void *)(long)SIGUSR1);
	printf("poll waiting -> %#x\n", pollin(nb, -1));
	pthread_join(t, NULL);
	read1("drain", nb);
	pthread_create(&t, NULL, late_kill, (void *)(long)SIGUSR2);
	n = epoll_wait(ep, out, 2, -1);
	printf("epoll waiting -> %zd\n", n);
	pthread_join(t, NULL);
	read1("drain", nb);
	/* A blocking read waits for the signal. */
	pthread_create(&t, NULL, late_kill, (void *)(long)SIGUSR2);
	read1("blocking read", fd);
	pthread_join(t, NULL);

	/* Mask update on the existing fd; SIGKILL and SIGSTOP are dropped. */
	sigset_t m2;
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	sigaddset(&m2, SIGKILL);
	sigaddset(&m2, SIGSTOP);
	res("update mask", signalfd(nb, &m2, 0) == nb ? 0 : -1);
	kill(getpid(), SIGUSR1);
	read1("USR1 not in mask", nb);
	printf("poll USR1 only -> %d\n", pollin(nb, 0));
	kill(getpid(), SIGUSR2);
	read1("USR2 in mask", nb);
	read1("USR1 via other fd", fd);

	/* Bad arguments. */
	res("sizemask 7", syscall(SYS_signalfd4, -1, &m, 7, 0));
	res("sizemask 16", syscall(SYS_signalfd4, -1, &m, 16, 0));
	res("flags 1", syscall(SYS_signalfd4, -1, &m, 8, 1));
	res("flags O_RDWR", syscall(SYS_signalfd4, -1, &m, 8, O_RDWR));
	res("mask NULL", syscall(SYS_signalfd4, -1, NULL, 8, 0));
	int pp[2];
	pipe(pp);
	res("pipe fd", syscall(SYS_signalfd4, pp[0], &m, 8, 0));
	res("closed fd", syscall(SYS_signalfd4, 999, &m, 8, 0));
	res("fd -5", syscall(SYS_signalfd4, -5, &m, 8, 0));
	res("signalfd syscall sizemask 4", syscall(SYS_signalfd, -1, &m, 4));
	res("write", write(nb, "12345678", 8));
	res("pread", pread(nb, small, 128, 0));
	char *volatile nowhere = NULL;
	res("bad buffer", read(nb, nowhere, 128)); /* nothing pending: EAGAIN first */
	kill(getpid(), SIGUSR2);
	res("bad buffer pending", read(nb, nowhere, 128));
	read1("after bad buffer", nb);

	/* A thread-directed signal: only its thread reads it. */
	thread_fd = nb;
	res("mask USR1", signalfd(nb, &m, 0) == nb ? 0 : -1);
	pthread_create(&t, NULL, directed, NULL);
	while (__atomic_load_n(&go, __ATOMIC_SEQ_CST) != 1)
		usleep(1000);
	res("tgkill", syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR1));
	read1("main reads", nb);
	__atomic_store_n(&go, 2, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);

	/* Blocking reads and handled signals: EINTR without SA_RESTART,
	 * restarted with it. */
	struct sigaction sa = {.sa_handler = on_alrm};
	sigaction(SIGALRM, &sa, NULL);
	reading = 0, done = 0;
	pthread_create(&t, NULL, alarmer, (void *)0l);
	reading = 1;
	read1("read, SIGALRM no SA_RESTART", fd);
	done = 1;
	pthread_join(t, NULL);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	reading = 0, done = 0, alarms = 0;
	pthread_create(&t, NULL, alarmer, (void *)1l);
	reading = 1;
	read1("read, SIGALRM SA_RESTART", fd);
	done = 1;
	pthread_join(t, NULL);
	printf("alarms handled: %s\n", alarms > 0 ? "some" : "none");

	/* fork: the child reads its own pending signals, not the parent's. */
	kill(getpid(), SIGUSR1);
	pid_t c = fork();
	if (c == 0) {
		read1("child, parent's USR1", nb);
		printf("child poll -> %d\n", pollin(nb, 0));
		kill(getpid(), SIGUSR2);
		printf("child poll pending -> %#x\n", pollin(nb, 0));
		read1("child own USR2", nb);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	printf("parent poll -> %#x\n", pollin(nb, 0));
	read1("parent USR1", nb);
	read1("parent again", nb);
	close(fd);

	/* Many made and closed: none refused. */
	int made = 0;
	for (int i = 0; i < 5000; i++) {
		int f = signalfd(-1, &m, SFD_NONBLOCK);
		if (f < 0) {
			printf("signalfd %d -> %s\n", i, ename(errno));
			break;
		}
		made++;
		close(f);
	}
	printf("made and closed %d\n", made);

	/* execve keeps it (a close-on-exec one goes). */
	kill(getpid(), SIGUSR2);
	char num[16], cnum[16];
	snprintf(num, sizeof num, "%d", nb);
	snprintf(cnum, sizeof cnum, "%d", signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK));
	execl("/proc/self/exe", argv[0], "exec", num, cnum, (char *)NULL);
	res("execl", -1);
	return 1;
}
