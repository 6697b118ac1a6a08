//go:build ignore

/* mq.c - POSIX message queues (kshim's syscalls/ipc/mqueue.go): mq_open's
 * names, flags, modes, attrs and errors, permissions, priorities, full and
 * empty queues with O_NONBLOCK and timeouts, EINTR and SA_RESTART, the
 * access mode (EBADF), EMSGSIZE, mq_notify (SIGEV_SIGNAL's siginfo,
 * SIGEV_NONE, EBUSY, one shot, only from empty), a descriptor as an fd
 * (dup, fork, FD_CLOEXEC, shared O_NONBLOCK, read/pread/lseek of its QSIZE
 * line, poll, select, epoll), RLIMIT_MSGQUEUE and queues_max, unlink of an
 * open queue, /proc/sys/fs/mqueue.  Runs in a fresh IPC namespace natively
 * (the differential row's privateIPC); pids are printed as relations. */
#define _GNU_SOURCE
#include <mqueue.h>
#include <poll.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include "common.h"

/* An address no program maps, hidden from the compiler's checks. */
static char *volatile bad = (char *)8;

static long raw_open(const char *name, int flags, int mode, struct mq_attr *a)
{
	return syscall(SYS_mq_open, name, flags, mode, a);
}

static struct mq_attr attr(long maxmsg, long msgsize)
{
	struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	return a;
}

static void getattr(const char *what, mqd_t q)
{
	struct mq_attr a;
	if (mq_getattr(q, &a) < 0) {
		printf("%s: getattr -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: flags=%s maxmsg=%ld msgsize=%ld curmsgs=%ld\n", what,
	       a.mq_flags & O_NONBLOCK ? "O_NONBLOCK" : "0", a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
}

static void recv1(const char *what, mqd_t q, size_t len)
{
	char buf[9000];
	unsigned prio = 99;
	memset(buf, 0, sizeof buf);
	ssize_t n = mq_receive(q, buf, len, &prio);
	if (n < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %zd prio %u \"%.*s\"\n", what, n, prio, (int)n, buf);
}

static struct timespec in_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += (ms % 1000) * 1000000;
	t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000;
	t.tv_nsec %= 1000000000;
	return t;
}

static void names(void)
{
	struct mq_attr a = attr(2, 16);
	char longname[300];
	memset(longname, 'n', sizeof longname);
	longname[256] = 0;
	rc("raw open \"\"", raw_open("", O_RDWR | O_CREAT, 0600, &a));
	rc("raw open \"a/b\"", raw_open("a/b", O_RDWR | O_CREAT, 0600, &a));
	rc("raw open \".\"", raw_open(".", O_RDWR | O_CREAT, 0600, &a));
	rc("raw open \"..\"", raw_open("..", O_RDWR | O_CREAT, 0600, &a));
	rc("raw open 256 chars", raw_open(longname, O_RDWR | O_CREAT, 0600, &a));
	longname[255] = 0;
	long fd = raw_open(longname, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	okay("raw open 255 chars", fd);
	show("unlink 255 chars", syscall(SYS_mq_unlink, longname));
	close(fd);
	rc("raw open bad name pointer", raw_open(bad, O_RDWR | O_CREAT, 0600, &a));
	rc("raw open bad attr pointer", raw_open("x", O_RDWR | O_CREAT, 0600, (struct mq_attr *)bad));
	rc("raw open bad attr pointer, no O_CREAT", raw_open("nothere", O_RDWR, 0600, (struct mq_attr *)bad));
	rc("raw unlink bad pointer", syscall(SYS_mq_unlink, bad));
	rc("raw unlink \"a/b\"", syscall(SYS_mq_unlink, "a/b"));
	rc("open without slash (glibc)", mq_open("noslash", O_RDWR | O_CREAT, 0600, &a));
	rc("open nonexistent", mq_open("/nothere", O_RDWR));
	show("unlink nonexistent", mq_unlink("/nothere"));
}

static void create(void)
{
	mqd_t q = mq_open("/dflt", O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
	okay("create with defaults", q);
	getattr("defaults", q);
	rc("O_CREAT|O_EXCL again", mq_open("/dflt", O_RDWR | O_CREAT | O_EXCL, 0600, NULL));
	mqd_t q2 = mq_open("/dflt", O_RDWR | O_CREAT, 0600, NULL);
	okay("O_CREAT on existing", q2);
	rc("O_RDWR|O_WRONLY on existing", mq_open("/dflt", O_RDWR | O_WRONLY));
	printf("FD_CLOEXEC %s\n", fcntl(q, F_GETFD) == FD_CLOEXEC ? "set" : "not set");
	mq_close(q2);
	mq_close(q);
	show("unlink", mq_unlink("/dflt"));
	static const long bad[][2] = {{0, 16}, {2, 0}, {-1, 16}, {11, 16}, {2, 8193}, {10, 8192}};
	for (int i = 0; i < 6; i++) {
		struct mq_attr a = attr(bad[i][0], bad[i][1]);
		char what[64];
		snprintf(what, sizeof what, "create maxmsg=%ld msgsize=%ld", bad[i][0], bad[i][1]);
		q = mq_open("/attr", O_RDWR | O_CREAT | O_EXCL, 0600, &a);
		okay(what, q);
		if (q >= 0) {
			getattr(what, q);
			mq_close(q);
			mq_unlink("/attr");
		}
	}
	/* attr is ignored when the queue exists. */
	struct mq_attr a = attr(3, 32);
	q = mq_open("/attr", O_RDWR | O_CREAT, 0600, &a);
	struct mq_attr b = attr(0, 0);
	q2 = mq_open("/attr", O_RDWR | O_CREAT, 0600, &b);
	okay("bad attr, queue exists", q2);
	getattr("existing", q2);
	mq_close(q2);
	mq_close(q);
	mq_unlink("/attr");
}

static void perms(void)
{
	struct mq_attr a = attr(2, 16);
	mqd_t q = mq_open("/perm", O_RDWR | O_CREAT, 0200, &a);
	okay("create mode 0200 O_RDWR", q);
	rc("reopen O_RDONLY", mq_open("/perm", O_RDONLY));
	mqd_t w = mq_open("/perm", O_WRONLY);
	okay("reopen O_WRONLY", w);
	rc("reopen O_RDWR", mq_open("/perm", O_RDWR));
	mq_close(w);
	mq_close(q);
	mq_unlink("/perm");
	mode_t old = umask(0277);
	q = mq_open("/umask", O_RDWR | O_CREAT, 0666, &a);
	umask(old);
	okay("create 0666 under umask 0277", q);
	rc("reopen O_WRONLY", mq_open("/umask", O_WRONLY));
	w = mq_open("/umask", O_RDONLY);
	okay("reopen O_RDONLY", w);
	mq_close(w);
	mq_close(q);
	mq_unlink("/umask");
}

static void access_mode(void)
{
	struct mq_attr a = attr(2, 16);
	mqd_t rw = mq_open("/acc", O_RDWR | O_CREAT, 0600, &a);
	mqd_t ro = mq_open("/acc", O_RDONLY);
	mqd_t wo = mq_open("/acc", O_WRONLY);
	char buf[64];
	show("send on O_RDONLY", mq_send(ro, "x", 1, 0));
	show("send on O_WRONLY", mq_send(wo, "x", 1, 0));
	rc("receive on O_WRONLY", mq_receive(wo, buf, sizeof buf, NULL));
	recv1("receive on O_RDONLY", ro, sizeof buf);
	rc("read(2) on O_WRONLY", read(wo, buf, sizeof buf));
	rc("write(2) on O_RDWR", write(rw, "x", 1));
	rc("write(2) on O_RDONLY", write(ro, "x", 1));
	show("send on fd -1", mq_send(-1, "x", 1, 0));
	show("send on stdout", mq_send(1, "x", 1, 0));
	show("send on a closed fd", mq_send(999, "x", 1, 0));
	show("getattr on stdout", mq_getattr(1, &a));
	show("notify on stdout", mq_notify(1, NULL));
	show("send 17 bytes, msgsize 16", mq_send(rw, "0123456789abcdefg", 17, 0));
	rc("receive into 15 bytes", mq_receive(rw, buf, 15, NULL));
	show("send prio 32768", mq_send(rw, "x", 1, 32768));
	show("send prio 32768 on stdout", mq_send(1, "x", 1, 32768));
	show("send from a bad pointer", mq_send(rw, bad, 4, 0));
	show("send 0 bytes", mq_send(rw, "", 0, 0));
	recv1("receive 0 bytes", rw, sizeof buf);
	show("send", mq_send(rw, "lost", 4, 3));
	unsigned prio;
	rc("receive into a bad pointer", mq_receive(rw, bad, 64, &prio));
	getattr("after it", rw);
	show("send", mq_send(rw, "prio", 4, 3));
	rc("receive, bad prio pointer", mq_receive(rw, buf, 64, (unsigned *)bad));
	getattr("after it", rw);
	mq_close(rw);
	mq_close(ro);
	mq_close(wo);
	mq_unlink("/acc");
}

static void priorities(void)
{
	struct mq_attr a = attr(8, 16);
	mqd_t q = mq_open("/prio", O_RDWR | O_CREAT, 0600, &a);
	static const struct {
		const char *s;
		unsigned p;
	} m[] = {{"a1", 1}, {"b5", 5}, {"c3", 3}, {"d5", 5}, {"e0", 0}, {"f32767", 32767}, {"g3", 3}, {"h0", 0}};
	for (int i = 0; i < 8; i++)
		mq_send(q, m[i].s, strlen(m[i].s), m[i].p);
	getattr("eight sent", q);
	for (int i = 0; i < 8; i++)
		recv1("receive", q, 16);
	mq_close(q);
	mq_unlink("/prio");
}

static void full_empty(void)
{
	struct mq_attr a = attr(3, 16);
	mqd_t q = mq_open("/full", O_RDWR | O_CREAT | O_NONBLOCK, 0600, &a);
	getattr("O_NONBLOCK open", q);
	rc("receive empty, O_NONBLOCK", mq_receive(q, (char[16]){0}, 16, NULL));
	for (int i = 0; i < 4; i++)
		show("send", mq_send(q, "m", 1, 0));
	struct mq_attr n = {.mq_flags = 0}, o;
	show("setattr flags 0", mq_setattr(q, &n, &o));
	printf("old flags %s\n", o.mq_flags & O_NONBLOCK ? "O_NONBLOCK" : "0");
	getattr("after", q);
	n.mq_flags = O_NONBLOCK | O_APPEND;
	show("setattr bad flags", mq_setattr(q, &n, NULL));
	struct timespec t = in_ms(60);
	show("timedsend full, 60 ms", mq_timedsend(q, "m", 1, 0, &t));
	t.tv_sec = 1;
	t.tv_nsec = 0;
	show("timedsend full, 1970", mq_timedsend(q, "m", 1, 0, &t));
	t.tv_nsec = 1000000000;
	show("timedsend full, bad nsec", mq_timedsend(q, "m", 1, 0, &t));
	t.tv_nsec = -1;
	rc("timedreceive non-empty, bad nsec", mq_timedreceive(q, (char[16]){0}, 16, NULL, &t));
	show("timedsend full, bad pointer", mq_timedsend(q, "m", 1, 0, (struct timespec *)bad));
	for (int i = 0; i < 3; i++)
		recv1("receive", q, 16);
	t = in_ms(60);
	rc("timedreceive empty, 60 ms", mq_timedreceive(q, (char[16]){0}, 16, NULL, &t));
	t.tv_sec = -1;
	t.tv_nsec = 0;
	rc("timedreceive empty, negative", mq_timedreceive(q, (char[16]){0}, 16, NULL, &t));
	/* fcntl's O_NONBLOCK is the description's, which mq_getattr shows. */
	fcntl(q, F_SETFL, O_NONBLOCK);
	getattr("F_SETFL O_NONBLOCK", q);
	printf("F_GETFL nonblock %s\n", fcntl(q, F_GETFL) & O_NONBLOCK ? "yes" : "no");
	rc("receive", mq_receive(q, (char[16]){0}, 16, NULL));
	mq_close(q);
	mq_unlink("/full");
}

static mqd_t sigq;
static int handled;
static void on_alarm(int s)
{
	(void)s;
	if (handled++ == 0)
		mq_send(sigq, "from handler", 12, 0);
}
static void on_alarm_quiet(int s)
{
	(void)s;
	handled++;
}

/* A blocked receive (send) ended by a signal: EINTR without SA_RESTART,
 * restarted with it (the handler sends what the receive then gets). */
static void interrupts(void)
{
	struct mq_attr a = attr(1, 16);
	sigq = mq_open("/intr", O_RDWR | O_CREAT, 0600, &a);
	struct itimerval it = {.it_interval = {0, 30000}, .it_value = {0, 30000}}, off = {0};
	struct sigaction sa = {.sa_handler = on_alarm_quiet};
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	rc("blocked receive, signal without SA_RESTART", mq_receive(sigq, (char[16]){0}, 16, NULL));
	mq_send(sigq, "x", 1, 0);
	show("blocked send, signal without SA_RESTART", mq_send(sigq, "y", 1, 0));
	struct timespec t = in_ms(10000);
	show("blocked timedsend, signal", mq_timedsend(sigq, "y", 1, 0, &t));
	setitimer(ITIMER_REAL, &off, NULL);
	recv1("receive", sigq, 16);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	handled = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	recv1("blocked receive, SA_RESTART", sigq, 16);
	setitimer(ITIMER_REAL, &off, NULL);
	printf("handler ran %s\n", handled > 0 ? "yes" : "no");
	signal(SIGALRM, SIG_DFL);
	mq_close(sigq);
	mq_unlink("/intr");
}

static void forks(void)
{
	struct mq_attr a = attr(2, 32);
	mqd_t q = mq_open("/fork", O_RDWR | O_CREAT, 0600, &a);
	pid_t c = fork();
	if (c == 0) {
		mq_send(q, "from child", 10, 7);
		/* The child's send of the third waits for the parent's receive. */
		mq_send(q, "second", 6, 1);
		mq_send(q, "third", 5, 1);
		_exit(0);
	}
	usleep(100000);
	recv1("parent receives", q, 32);
	recv1("parent receives", q, 32);
	recv1("parent receives", q, 32);
	waitpid(c, NULL, 0);
	c = fork();
	if (c == 0) {
		usleep(50000);
		mq_send(q, "late", 4, 2);
		_exit(0);
	}
	recv1("parent blocked, child sends", q, 32);
	waitpid(c, NULL, 0);
	/* dup: the same description, O_NONBLOCK shared; close of one. */
	mqd_t d = dup(q);
	struct mq_attr n = {.mq_flags = O_NONBLOCK};
	mq_setattr(q, &n, NULL);
	getattr("dup after setattr on the original", d);
	mq_close(q);
	show("send on the dup", mq_send(d, "dup", 3, 0));
	recv1("receive on the dup", d, 32);
	printf("dup's FD_CLOEXEC %s\n", fcntl(d, F_GETFD) & FD_CLOEXEC ? "set" : "not set");
	mq_close(d);
	mq_unlink("/fork");
}

static volatile int got;
static void on_usr(int s, siginfo_t *si, void *u)
{
	(void)s;
	(void)u;
	got = si->si_code;
}

static void notify(void)
{
	struct mq_attr a = attr(4, 32);
	mqd_t q = mq_open("/note", O_RDWR | O_CREAT, 0600, &a);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	ev.sigev_value.sival_int = 42;
	show("notify SIGEV_SIGNAL", mq_notify(q, &ev));
	show("notify again", mq_notify(q, &ev));
	pid_t c = fork();
	if (c == 0) {
		show("child: notify", mq_notify(q, &ev));
		show("child: unregister (not its own)", mq_notify(q, NULL));
		mq_send(q, "child", 5, 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	siginfo_t si;
	struct timespec z = {1, 0};
	int s = sigtimedwait(&set, &si, &z);
	printf("signal %s code %s value %d pid %s uid %s\n", s == SIGUSR1 ? "SIGUSR1" : "none",
	       si.si_code == SI_MESGQ ? "SI_MESGQ" : "other", si.si_value.sival_int,
	       si.si_pid == c ? "the child" : "other", si.si_uid == getuid() ? "mine" : "other");
	show("notify after it was sent (one shot)", mq_notify(q, &ev));
	show("send to a non-empty queue", mq_send(q, "more", 4, 0));
	z.tv_sec = 0;
	z.tv_nsec = 50000000;
	printf("signal while non-empty: %s\n", sigtimedwait(&set, &si, &z) < 0 ? ename(errno) : "yes");
	recv1("receive", q, 32);
	recv1("receive", q, 32);
	show("send to the empty queue", mq_send(q, "self", 4, 0));
	s = sigtimedwait(&set, &si, &z);
	printf("signal %s code %s value %d pid %s\n", s == SIGUSR1 ? "SIGUSR1" : "none",
	       si.si_code == SI_MESGQ ? "SI_MESGQ" : "other", si.si_value.sival_int,
	       si.si_pid == getpid() ? "mine" : "other");
	recv1("receive", q, 32);
	/* The queue file's line. */
	ev.sigev_signo = SIGUSR2;
	show("notify SIGUSR2", mq_notify(q, &ev));
	mq_send(q, "12345", 5, 0);
	mq_send(q, "1234567", 7, 0);
	s = sigtimedwait(&set, &si, &z);
	printf("signal %s\n", s == SIGUSR2 ? "SIGUSR2" : "other");
	char buf[128];
	memset(buf, 0, sizeof buf);
	ssize_t n = read(q, buf, sizeof buf);
	printf("read -> %zd\n", n);
	char *pid = strstr(buf, "NOTIFY_PID:");
	if (pid) {
		printf("%.*s[%s]\n", (int)(pid - buf + 11), buf, atoi(pid + 11) == getpid() ? "mine" : "other");
	}
	rc("read again (EOF)", read(q, buf, sizeof buf));
	rc("lseek 0", lseek(q, 0, SEEK_SET));
	rc("lseek SEEK_END", lseek(q, 0, SEEK_END));
	rc("lseek -1", lseek(q, -1, SEEK_SET));
	memset(buf, 0, sizeof buf);
	rc("pread at 6", pread(q, buf, 10, 6));
	printf("\"%s\"\n", buf);
	lseek(q, 0, SEEK_SET);
	rc("read 5", read(q, buf, 5));
	rc("read into a bad pointer", read(q, bad, 5));
	show("notify SIGUSR2 while non-empty", mq_notify(q, &ev));
	lseek(q, 0, SEEK_SET);
	memset(buf, 0, sizeof buf);
	read(q, buf, sizeof buf);
	pid = strstr(buf, "NOTIFY_PID:");
	if (pid)
		printf("%.*s[%s]\n", (int)(pid - buf + 11), buf, atoi(pid + 11) == getpid() ? "mine" : "other");
	show("unregister", mq_notify(q, NULL));
	lseek(q, 0, SEEK_SET);
	memset(buf, 0, sizeof buf);
	read(q, buf, sizeof buf);
	printf("%s", buf);
	/* SIGEV_NONE, and a bad sigevent. */
	struct sigevent none = {.sigev_notify = SIGEV_NONE};
	show("notify SIGEV_NONE", mq_notify(q, &none));
	lseek(q, 0, SEEK_SET);
	memset(buf, 0, sizeof buf);
	read(q, buf, sizeof buf);
	printf("%.*s\n", (int)(strstr(buf, "NOTIFY_PID") - buf), buf);
	show("unregister", mq_notify(q, NULL));
	struct sigevent wrong = {.sigev_notify = 99};
	show("notify sigev_notify 99", mq_notify(q, &wrong));
	wrong.sigev_notify = SIGEV_SIGNAL;
	wrong.sigev_signo = 65;
	show("notify signo 65", mq_notify(q, &wrong));
	wrong.sigev_signo = -1;
	show("notify signo -1", mq_notify(q, &wrong));
	wrong.sigev_signo = 0;
	show("notify signo 0", mq_notify(q, &wrong));
	show("unregister", mq_notify(q, NULL));
	show("notify bad pointer", syscall(SYS_mq_notify, q, bad));
	/* A close of any descriptor of the queue by the owner ends its
	 * registration; another process's close does not. */
	show("notify", mq_notify(q, &ev));
	c = fork();
	if (c == 0) {
		close(q);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	show("notify after a child's close", mq_notify(q, &ev));
	mqd_t d = dup(q);
	close(d);
	c = fork();
	if (c == 0) {
		show("child: notify after the owner closed a dup", mq_notify(q, &ev));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	/* A registration ends with its process. */
	c = fork();
	if (c == 0) {
		show("child: notify", mq_notify(q, &ev));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	show("notify after the child's exit", mq_notify(q, &ev));
	/* A handler gets SI_MESGQ too. */
	mq_receive(q, buf, 32, NULL);
	mq_receive(q, buf, 32, NULL);
	struct sigaction sa = {.sa_sigaction = on_usr, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t u2;
	sigemptyset(&u2);
	sigaddset(&u2, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &u2, NULL);
	mq_send(q, "h", 1, 0);
	usleep(20000);
	printf("handler got %s\n", got == SI_MESGQ ? "SI_MESGQ" : "nothing");
	signal(SIGUSR2, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	mq_close(q);
	mq_unlink("/note");
}

static void pollq(const char *what, mqd_t q)
{
	struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT};
	int n = poll(&p, 1, 0);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(q, &r);
	FD_SET(q, &w);
	struct timeval tv = {0, 0};
	select(q + 1, &r, &w, NULL, &tv);
	printf("%s: poll %d%s%s, select%s%s\n", what, n, p.revents & POLLIN ? " POLLIN" : "",
	       p.revents & POLLOUT ? " POLLOUT" : "", FD_ISSET(q, &r) ? " read" : "", FD_ISSET(q, &w) ? " write" : "");
}

static void readiness(void)
{
	struct mq_attr a = attr(2, 16);
	mqd_t q = mq_open("/poll", O_RDWR | O_CREAT, 0600, &a);
	mqd_t ro = mq_open("/poll", O_RDONLY);
	pollq("empty", q);
	mq_send(q, "1", 1, 0);
	pollq("one", q);
	mq_send(q, "2", 1, 0);
	pollq("full", q);
	pollq("full, O_RDONLY fd", ro);
	mq_receive(q, (char[16]){0}, 16, NULL);
	pollq("one again", q);
	mq_receive(q, (char[16]){0}, 16, NULL);
	pollq("empty again", q);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev);
	printf("epoll empty: %d\n", epoll_wait(ep, &out, 1, 0));
	pid_t c = fork();
	if (c == 0) {
		usleep(50000);
		mq_send(q, "e", 1, 0);
		_exit(0);
	}
	int n = epoll_wait(ep, &out, 1, 5000);
	printf("epoll after a child's send: %d%s\n", n, n == 1 && out.events & EPOLLIN ? " EPOLLIN" : "");
	waitpid(c, NULL, 0);
	struct pollfd p = {.fd = q, .events = POLLIN};
	c = fork();
	if (c == 0) {
		usleep(50000);
		mq_receive(q, (char[16]){0}, 16, NULL);
		_exit(0);
	}
	p.events = POLLOUT;
	mq_send(q, "x", 1, 0); /* full now */
	n = poll(&p, 1, 5000);
	printf("poll POLLOUT on a full queue until a child receives: %d\n", n);
	waitpid(c, NULL, 0);
	close(ep);
	mq_close(ro);
	mq_close(q);
	mq_unlink("/poll");
}

static void limits(void)
{
	/* Each queue of 1 message of 1000 bytes costs 1000 + 2 * 48. */
	struct rlimit old, rl;
	getrlimit(RLIMIT_MSGQUEUE, &old);
	rl.rlim_cur = 5000;
	rl.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	struct mq_attr a = attr(1, 1000);
	char name[32];
	int made = 0;
	mqd_t last = -1;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "/lim%d", i);
		mqd_t q = mq_open(name, O_RDWR | O_CREAT, 0600, &a);
		if (q < 0) {
			printf("queue %d -> %s\n", i, ename(errno));
			break;
		}
		made++;
		if (last >= 0)
			mq_close(last);
		last = q;
	}
	printf("made %d\n", made);
	snprintf(name, sizeof name, "/lim%d", made - 1);
	mq_unlink(name);
	rc("another while the unlinked one is open", mq_open("/limx", O_RDWR | O_CREAT, 0600, &a));
	show("send to the unlinked queue", mq_send(last, "still", 5, 0));
	recv1("receive from it", last, 1000);
	mq_close(last);
	mqd_t q = mq_open("/limx", O_RDWR | O_CREAT, 0600, &a);
	okay("another after its close", q);
	mq_close(q);
	mq_unlink("/limx");
	for (int i = 0; i < made; i++) {
		snprintf(name, sizeof name, "/lim%d", i);
		mq_unlink(name);
	}
	setrlimit(RLIMIT_MSGQUEUE, &old);
	/* queues_max (256) without CAP_SYS_RESOURCE. */
	a = attr(1, 1);
	int i;
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "/many%d", i);
		q = mq_open(name, O_RDWR | O_CREAT, 0600, &a);
		if (q < 0)
			break;
		mq_close(q);
	}
	printf("queues made %d, then %s\n", i, ename(errno));
	for (int j = 0; j < i; j++) {
		snprintf(name, sizeof name, "/many%d", j);
		mq_unlink(name);
	}
	/* Recreated under its name: a new, empty queue. */
	a = attr(2, 8);
	q = mq_open("/again", O_RDWR | O_CREAT, 0600, &a);
	mq_send(q, "old", 3, 0);
	mq_unlink("/again");
	mqd_t q2 = mq_open("/again", O_RDWR | O_CREAT, 0600, &a);
	getattr("recreated", q2);
	getattr("the unlinked one", q);
	mq_close(q);
	mq_close(q2);
	mq_unlink("/again");
}

static void procsys(void)
{
	static const char *f[] = {"msg_max", "msgsize_max", "msg_default", "msgsize_default", "queues_max"};
	for (int i = 0; i < 5; i++) {
		char path[64], buf[64] = "";
		snprintf(path, sizeof path, "/proc/sys/fs/mqueue/%s", f[i]);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			printf("%s -> %s\n", path, ename(errno));
			continue;
		}
		ssize_t n = read(fd, buf, sizeof buf - 1);
		printf("%s: %.*s", path, (int)(n > 0 ? n : 0), buf);
		close(fd);
	}
}

/* After execve: the registration made before it ended with the exec's
 * close of the (close-on-exec) descriptor. */
static int after_exec(void)
{
	mqd_t q = mq_open("/exec", O_RDWR);
	okay("after exec: open", q);
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	pid_t c = fork();
	if (c == 0) {
		show("after exec: child: notify", mq_notify(q, &ev));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	mq_close(q);
	mq_unlink("/exec");
	return 0;
}

static void exec_self(void)
{
	struct mq_attr a = attr(2, 16);
	mqd_t q = mq_open("/exec", O_RDWR | O_CREAT, 0600, &a);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	show("notify before exec", mq_notify(q, &ev));
	execl("/proc/self/exe", "mq", "after-exec", (char *)NULL);
	printf("execl -> %s\n", ename(errno));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && !strcmp(argv[1], "after-exec"))
		return after_exec();
	names();
	create();
	perms();
	access_mode();
	priorities();
	full_empty();
	interrupts();
	forks();
	notify();
	readiness();
	limits();
	procsys();
	exec_self();
	return 0;
}
