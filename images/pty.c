//go:build ignore

/* pty: pseudo-terminals (kshim's syscalls/fs/pty.go, kernel/tty.go).
 * posix_openpt/grantpt/unlockpt/ptsname and the ioctls under them
 * (TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER), openpty, the slave's
 * node and names, termios and echo across the pair, window size, poll,
 * hangup both ways (EIO), and forkpty: the child as a session leader with
 * the slave as its controlling terminal (/dev/tty, TIOCSCTTY rules,
 * tcsetpgrp, TIOCGSID, SIGWINCH to the foreground group).  Prints facts,
 * never pty numbers (the host's other ptys decide them natively). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common.h"

/* esc prints buf's n bytes with \r, \n and controls escaped. */
static void esc(const char *what, const char *buf, ssize_t n)
{
	printf("%s: \"", what);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c < 32 || c >= 127)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

static const char *yes(int c) { return c ? "yes" : "no"; }

/* readsome reads what fd has within 2 s, and what follows within 100 ms
 * (a line may reach the master in pieces on a loaded machine). */
static ssize_t readsome(int fd, char *buf, size_t n)
{
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, 2000) <= 0)
		return -2;
	ssize_t got = read(fd, buf, n);
	while (got > 0 && (size_t)got < n && poll(&p, 1, 100) > 0 && (p.revents & POLLIN)) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

static void linkname(int fd, char *out, size_t n)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t r = readlink(p, out, n - 1);
	out[r < 0 ? 0 : r] = 0;
}

static int pollrev(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	poll(&p, 1, 0);
	return p.revents;
}

static void basics(void)
{
	printf("-- posix_openpt\n");
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0) {
		printf("posix_openpt -> %s\n", ename(errno));
		exit(1);
	}
	printf("isatty(master): %d\n", isatty(m));
	int lck = -1;
	show("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lck));
	printf("locked before unlockpt: %d\n", lck);
	show("grantpt", grantpt(m));
	show("unlockpt", unlockpt(m));
	ioctl(m, TIOCGPTLCK, &lck);
	printf("locked after: %d\n", lck);
	unsigned n = 0;
	show("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
	char want[64], name[64], got[64];
	snprintf(want, sizeof want, "/dev/pts/%u", n);
	const char *pn = ptsname(m);
	printf("ptsname is /dev/pts/<TIOCGPTN>: %s\n", yes(pn && !strcmp(pn, want)));
	strcpy(name, want);
	linkname(m, got, sizeof got);
	printf("master fd link: %s\n", got);
	struct stat st;
	fstat(m, &st);
	printf("master: chr %s, rdev %u:%u\n", yes(S_ISCHR(st.st_mode)), major(st.st_rdev), minor(st.st_rdev));

	/* The slave by name. */
	int s = open(name, O_RDWR | O_NOCTTY);
	if (s < 0) {
		printf("open slave -> %s\n", ename(errno));
		exit(1);
	}
	stat(name, &st);
	printf("slave: chr %s, major 136..143 %s, owner is me %s, mode %o\n", yes(S_ISCHR(st.st_mode)),
	       yes(major(st.st_rdev) >= 136 && major(st.st_rdev) < 144), yes(st.st_uid == getuid()),
	       st.st_mode & 07777);
	struct stat fst;
	fstat(s, &fst);
	printf("stat by name is fstat: %s\n", yes(fst.st_rdev == st.st_rdev && fst.st_ino == st.st_ino && fst.st_dev == st.st_dev));
	linkname(s, got, sizeof got);
	printf("slave fd link is its name: %s\n", yes(!strcmp(got, name)));
	char *tn = ttyname(s);
	printf("ttyname(slave) is its name: %s\n", yes(tn && !strcmp(tn, name)));
	show("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n));
	show("TIOCSCTTY on slave (not a session leader)", ioctl(s, TIOCSCTTY, 0));
	pid_t pg;
	show("TIOCGPGRP on slave (not my terminal)", ioctl(s, TIOCGPGRP, &pg));
	show("TIOCGSID on slave (not my terminal)", ioctl(s, TIOCGSID, &pg));
	show("TIOCNOTTY on slave (not my terminal)", ioctl(s, TIOCNOTTY));

	/* The listing holds it. */
	DIR *d = opendir("/dev/pts");
	int found = 0, ptmx = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, name + 9))
			found = 1;
		if (!strcmp(de->d_name, "ptmx"))
			ptmx = 1;
	}
	if (d)
		closedir(d);
	printf("/dev/pts lists it: %s, and ptmx: %s\n", yes(found), yes(ptmx));

	/* termios and the line discipline. */
	struct termios t;
	show("tcgetattr(slave)", tcgetattr(s, &t));
	printf("ICANON %s ECHO %s ONLCR %s ICRNL %s\n", yes(t.c_lflag & ICANON), yes(t.c_lflag & ECHO),
	       yes(t.c_oflag & ONLCR), yes(t.c_iflag & ICRNL));
	char buf[256];
	printf("master poll before: %s\n", yes(pollrev(m, POLLIN) & POLLIN));
	write(m, "abc\r", 4);
	ssize_t r = readsome(s, buf, sizeof buf);
	esc("slave read (canonical)", buf, r);
	r = readsome(m, buf, sizeof buf);
	esc("master read (echo)", buf, r);
	write(s, "out\n", 4);
	printf("master poll after a write: %s\n", yes(pollrev(m, POLLIN) & POLLIN));
	r = readsome(m, buf, sizeof buf);
	esc("master read", buf, r);
	cfmakeraw(&t);
	show("tcsetattr(slave, raw)", tcsetattr(s, TCSANOW, &t));
	struct termios t2;
	tcgetattr(m, &t2);
	printf("master sees raw: %s\n", yes(!(t2.c_lflag & ICANON)));
	write(m, "xy\r", 3);
	r = readsome(s, buf, sizeof buf);
	esc("slave read (raw)", buf, r);
	write(s, "z\n", 2);
	r = readsome(m, buf, sizeof buf);
	esc("master read (raw)", buf, r);
	show("tcflush(slave, TCIOFLUSH)", tcflush(s, TCIOFLUSH));
	show("tcdrain(slave)", tcdrain(s));

	/* Window size. */
	struct winsize ws = {.ws_row = 33, .ws_col = 101};
	show("TIOCSWINSZ on master", ioctl(m, TIOCSWINSZ, &ws));
	memset(&ws, 0, sizeof ws);
	show("TIOCGWINSZ on slave", ioctl(s, TIOCGWINSZ, &ws));
	printf("slave size: %ux%u\n", ws.ws_row, ws.ws_col);

	/* The peer, and packet mode. */
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	printf("TIOCGPTPEER -> %s\n", peer >= 0 ? "fd" : ename(errno));
	if (peer >= 0) {
		linkname(peer, got, sizeof got);
		printf("peer link is the slave's name: %s, cloexec %s\n", yes(!strcmp(got, name)),
		       yes(fcntl(peer, F_GETFD) & FD_CLOEXEC));
		close(peer);
	}
	show("TIOCGPTPEER on slave", ioctl(s, TIOCGPTPEER, O_RDWR));
	int one = 1;
	show("TIOCPKT on", ioctl(m, TIOCPKT, &one));
	int pk = 0;
	show("TIOCGPKT", ioctl(m, TIOCGPKT, &pk));
	printf("packet mode: %d\n", pk);

	/* Hangup: the master's last close. */
	close(m);
	printf("slave poll after master close: POLLHUP %s\n", yes(pollrev(s, POLLIN) & POLLHUP));
	r = read(s, buf, sizeof buf);
	printf("slave read after master close -> %s\n", r < 0 ? ename(errno) : r == 0 ? "EOF" : "data");
	close(s);
	printf("reopen the gone slave -> %s\n", open(name, O_RDWR | O_NOCTTY) < 0 ? ename(errno) : "fd");

	/* The other way: openpty, then the slave's close. */
	int m2, s2;
	char n2[64];
	show("openpty", openpty(&m2, &s2, n2, NULL, NULL));
	snprintf(want, sizeof want, "/dev/pts/");
	printf("openpty name under /dev/pts: %s\n", yes(!strncmp(n2, want, 9)));
	close(s2);
	r = read(m2, buf, sizeof buf);
	printf("master read after slave close -> %s\n", r < 0 ? ename(errno) : "data");
	close(m2);

	printf("open /dev/pts/ptmx -> %s\n", (r = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY)) >= 0 ? "fd" : ename(errno));
	if (r >= 0)
		close(r);
	printf("open /dev/pts/999 -> %s\n", open("/dev/pts/999", O_RDWR | O_NOCTTY) < 0 ? ename(errno) : "fd");
	printf("mkdir /dev/pts/x -> %s\n", mkdir("/dev/pts/x", 0700) < 0 ? ename(errno) : "ok");
}

static volatile sig_atomic_t winch, gotint;
static void onwinch(int sig) { (void)sig; winch = 1; }
static void onint(int sig) { (void)sig; gotint = 1; }

/* bg starts a process in a background group of the child's terminal:
 * 0 reads (SIGTTIN), 1 reads with SIGTTIN ignored (EIO), 2 writes,
 * 3 changes the terminal's settings (SIGTTOU). */
static pid_t bg(int mode)
{
	pid_t g = fork();
	if (g == 0) {
		setpgid(0, 0);
		signal(SIGTTOU, SIG_DFL);
		char c;
		struct termios t;
		switch (mode) {
		case 0:
			read(0, &c, 1);
			_exit(0);
		case 1:
			signal(SIGTTIN, SIG_IGN);
			_exit(read(0, &c, 1) < 0 && errno == EIO ? 5 : 6);
		case 2:
			write(1, "background write\n", 17);
			_exit(7);
		case 3:
			tcgetattr(0, &t);
			tcsetattr(0, TCSANOW, &t);
			_exit(8);
		}
		_exit(9);
	}
	setpgid(g, g);
	return g;
}

static void report(const char *what, pid_t g)
{
	int st;
	waitpid(g, &st, WUNTRACED);
	if (WIFSTOPPED(st)) {
		printf("%s: stopped by %s\n", what, WSTOPSIG(st) == SIGTTIN ? "SIGTTIN" : WSTOPSIG(st) == SIGTTOU ? "SIGTTOU" : "another");
		kill(g, SIGKILL);
		waitpid(g, &st, 0);
	} else {
		printf("%s: exit %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
}

/* child runs in forkpty's child: fd 0-2 are the slave. */
static void child(void)
{
	signal(SIGTTOU, SIG_IGN);
	alarm(10);
	printf("isatty 0 1 2: %d %d %d\n", isatty(0), isatty(1), isatty(2));
	printf("session leader: %s\n", yes(getsid(0) == getpid()));
	printf("foreground is my group: %s\n", yes(tcgetpgrp(0) == getpgrp()));
	pid_t sid = 0;
	show("TIOCGSID", ioctl(0, TIOCGSID, &sid));
	printf("TIOCGSID is mine: %s\n", yes(sid == getsid(0)));
	{
		/* /proc/self/stat's tty_nr and tpgid (fields 7 and 8). */
		char b[512] = {0};
		int f = open("/proc/self/stat", O_RDONLY);
		read(f, b, sizeof b - 1);
		close(f);
		char *p = strrchr(b, ')');
		int ttynr = 0, tpgid = 0;
		sscanf(p + 2, "%*c %*d %*d %*d %d %d", &ttynr, &tpgid);
		struct stat st;
		fstat(0, &st);
		unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
		int want = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
		printf("stat tty_nr is fd 0's: %s, tpgid is my group: %s\n", yes(ttynr == want), yes(tpgid == getpgrp()));
	}
	show("setsid again", setsid() < 0 ? -1 : 0);
	show("TIOCSCTTY again", ioctl(0, TIOCSCTTY, 0));
	int t = open("/dev/tty", O_RDWR);
	printf("open /dev/tty -> %s\n", t >= 0 ? "fd" : ename(errno));
	if (t >= 0) {
		char l[64];
		linkname(t, l, sizeof l);
		printf("/dev/tty link %s\n", l);
		fflush(stdout);
		write(t, "written to /dev/tty\n", 20);
		close(t);
	}
	/* Another pty: no second controlling terminal. */
	int m2, s2;
	if (openpty(&m2, &s2, NULL, NULL, NULL) == 0) {
		show("TIOCSCTTY on a second pty", ioctl(s2, TIOCSCTTY, 0));
		close(m2);
		close(s2);
	}
	/* A new group in the foreground, then back. */
	pid_t g = fork();
	if (g == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(g, g);
	show("tcsetpgrp(other group)", tcsetpgrp(0, g));
	printf("foreground is the other group: %s\n", yes(tcgetpgrp(0) == g));
	show("tcsetpgrp(no such group)", tcsetpgrp(0, 999999));
	show("tcsetpgrp(back)", tcsetpgrp(0, getpgrp()));
	kill(g, SIGKILL);
	waitpid(g, 0, 0);
	/* Background groups and the terminal (job control). */
	report("background read", bg(0));
	report("background read, SIGTTIN ignored", bg(1));
	report("background write", bg(2));
	struct termios tt;
	tcgetattr(0, &tt);
	tt.c_lflag |= TOSTOP;
	tcsetattr(0, TCSANOW, &tt);
	report("background write with TOSTOP", bg(2));
	tt.c_lflag &= ~TOSTOP;
	tcsetattr(0, TCSANOW, &tt);
	report("background tcsetattr", bg(3));
	/* SIGWINCH when the parent resizes. */
	struct sigaction sa = {.sa_handler = onwinch};
	sigaction(SIGWINCH, &sa, 0);
	printf("ready\n");
	fflush(stdout);
	while (!winch)
		pause();
	struct winsize ws;
	ioctl(0, TIOCGWINSZ, &ws);
	printf("SIGWINCH, size %ux%u\n", ws.ws_row, ws.ws_col);
	/* ^C typed on the master: SIGINT for the foreground group. */
	struct sigaction si = {.sa_handler = onint};
	sigaction(SIGINT, &si, 0);
	printf("ready2\n");
	while (!gotint)
		pause();
	printf("SIGINT from the keyboard\n");
	fflush(stdout);
	_exit(4);
}

static void forked(void)
{
	printf("-- forkpty\n");
	fflush(stdout);
	int m;
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid < 0) {
		printf("forkpty -> %s\n", ename(errno));
		return;
	}
	if (pid == 0)
		child();
	char all[4096];
	size_t n = 0;
	int resized = 0, typed = 0;
	for (;;) {
		ssize_t r = readsome(m, all + n, sizeof all - 1 - n);
		if (r <= 0) {
			printf("master read at the end -> %s\n", r == 0 ? "EOF" : r == -2 ? "timeout" : ename(errno));
			break;
		}
		n += r;
		all[n] = 0;
		if (!resized && strstr(all, "ready\r\n")) {
			resized = 1;
			pid_t pg = 0;
			ioctl(m, TIOCGPGRP, &pg);
			printf("master's TIOCGPGRP is the child: %s\n", yes(pg == pid));
			struct winsize ws = {.ws_row = 40, .ws_col = 120};
			ioctl(m, TIOCSWINSZ, &ws);
		}
		if (!typed && strstr(all, "ready2\r\n")) {
			typed = 1;
			write(m, "\x03", 1);
		}
	}
	int st;
	waitpid(pid, &st, 0);
	/* The child's lines, \r\n as the terminal wrote them. */
	char *line = all, *e;
	while ((e = strstr(line, "^C"))) /* the echo's place is a race */
		memmove(e, e + 2, strlen(e + 2) + 1);
	while ((e = strstr(line, "\r\n"))) {
		*e = 0;
		printf("child: %s\n", line);
		line = e + 2;
	}
	printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	close(m);
}

/* sessions: TIOCSCTTY's rules from a new session leader, through the
 * master and a write-only slave, and TIOCNOTTY. */
static void sessions(void)
{
	printf("-- sessions\n");
	int m, s;
	if (openpty(&m, &s, NULL, NULL, NULL) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		setsid();
		char *name = ptsname(m);
		int w = open(name, O_WRONLY | O_NOCTTY);
		show("TIOCSCTTY on a write-only slave", ioctl(w, TIOCSCTTY, 0));
		show("TIOCSCTTY on the master", ioctl(m, TIOCSCTTY, 0));
		printf("the slave is my terminal: %s\n", yes(tcgetpgrp(s) == getpgrp()));
		pid_t sid = 0;
		show("TIOCGSID on the master", ioctl(m, TIOCGSID, &sid));
		printf("its session is mine: %s\n", yes(sid == getsid(0)));
		show("TIOCNOTTY on the master", ioctl(m, TIOCNOTTY));
		show("TIOCNOTTY on the slave", ioctl(s, TIOCNOTTY));
		show("tcgetpgrp after", tcgetpgrp(s) < 0 ? -1 : 0);
		int t = open("/dev/tty", O_RDWR);
		printf("open /dev/tty after -> %s\n", t >= 0 ? "fd" : ename(errno));
		_exit(0);
	}
	waitpid(pid, 0, 0);
	pid_t pg = 5;
	show("master's TIOCGPGRP with no session", ioctl(m, TIOCGPGRP, &pg));
	printf("pgrp: %d\n", pg);
	close(m);
	close(s);
}

static void onhup(int sig)
{
	(void)sig;
	write(1, "foreground: SIGHUP\n", 19);
	_exit(0);
}

static void onalrm(int sig)
{
	(void)sig;
	write(1, "foreground: no SIGHUP\n", 22);
	_exit(1);
}

/* leaderexit: when the session leader whose terminal a pty slave is
 * exits, the terminal's foreground group gets SIGHUP. */
static void leaderexit(void)
{
	printf("-- the session leader exits\n");
	int m;
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid < 0)
		return;
	if (pid == 0) {
		int p[2];
		pipe(p);
		if (fork() == 0) {
			signal(SIGHUP, onhup);
			signal(SIGALRM, onalrm);
			alarm(5);
			write(p[1], "a", 1);
			for (;;)
				pause();
		}
		char c;
		read(p[0], &c, 1);
		_exit(0);
	}
	char all[1024];
	size_t n = 0;
	for (;;) {
		ssize_t r = readsome(m, all + n, sizeof all - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	all[n] = 0;
	esc("master read", all, n);
	waitpid(pid, 0, 0);
	close(m);
}

static int hup[2];
static void onhup2(int sig)
{
	(void)sig;
	write(hup[1], "H", 1);
	_exit(0);
}
static void onalrm2(int sig)
{
	(void)sig;
	write(hup[1], "T", 1);
	_exit(1);
}

/* masterclose: the master's last close hangs the slave up; the session
 * leader whose terminal it was gets SIGHUP. */
static void masterclose(void)
{
	printf("-- the master closes\n");
	pipe(hup);
	int m;
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid < 0)
		return;
	if (pid == 0) {
		signal(SIGHUP, onhup2);
		signal(SIGALRM, onalrm2);
		alarm(5);
		write(1, "ready\n", 6);
		for (;;)
			pause();
	}
	char buf[64];
	readsome(m, buf, sizeof buf);
	close(m);
	char c = '?';
	read(hup[0], &c, 1);
	printf("leader: %s\n", c == 'H' ? "SIGHUP" : c == 'T' ? "no SIGHUP" : "?");
	waitpid(pid, 0, 0);
}

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	basics();
	forked();
	sessions();
	leaderexit();
	masterclose();
	return 0;
}
