//go:build ignore
// prctl.c: the prctl options ordinary programs use, and capset, as an
// unprivileged process sees them: the parent-death signal (set, get, its
// errors, cleared in a child, sent when the parent ends), the child
// subreaper (an orphan and an orphaned zombie adopted: getppid, SIGCHLD,
// wait), dumpable (reset by execve), no_new_privs (sticky, inherited), the
// timer slack (a child's default is its parent's slack), the capability
// prctls (bounding set, ambient set, securebits) and capset (restating the
// sets succeeds, any raise is EPERM).
#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static int capset_(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d)
{
	return syscall(SYS_capset, h, d);
}

static void pdeath(void)
{
	int v = -1;
	show("PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
	show("PDEATHSIG USR2", prctl(PR_SET_PDEATHSIG, SIGUSR2));
	rc("GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &v));
	printf("  = %d\n", v);
	show("GET_PDEATHSIG bad pointer", prctl(PR_GET_PDEATHSIG, (void *)8));
	pid_t c = fork();
	if (c == 0) {
		v = -1;
		prctl(PR_GET_PDEATHSIG, &v);
		_exit(v == 0 ? 0 : 1); // cleared in the child
	}
	int st;
	waitpid(c, &st, 0);
	printf("child's pdeathsig cleared: %s\n", WEXITSTATUS(st) == 0 ? "yes" : "no");
	prctl(PR_SET_PDEATHSIG, 0);
}

// orphans: this process is the subreaper; A forks B (parent-death signal
// SIGUSR1) and a zombie Z, then ends: B gets SIGUSR1 and this process as
// its parent, and this process reaps A, Z and B.
static void orphans(void)
{
	int v = -1;
	rc("GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v));
	printf("  = %d\n", v);
	show("SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1));
	prctl(PR_GET_CHILD_SUBREAPER, &v);
	printf("  now %d\n", v);
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	pid_t me = getpid();
	int ready[2], report[2];
	if (pipe(ready) < 0 || pipe(report) < 0)
		return;
	pid_t a = fork();
	if (a == 0) {
		pid_t z = fork();
		if (z == 0)
			_exit(5);
		siginfo_t si;
		waitid(P_PID, z, &si, WEXITED | WNOWAIT); // z is a zombie now
		pid_t b = fork();
		if (b == 0) {
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			if (write(ready[1], "r", 1) != 1)
				_exit(2);
			sigset_t none;
			sigemptyset(&none);
			while (!got)
				sigsuspend(&none);
			char line[128];
			int n = snprintf(line, sizeof line, "B: signal %s, parent is the subreaper: %s\n",
					 got == SIGUSR1 ? "SIGUSR1" : "other", getppid() == me ? "yes" : "no");
			if (write(report[1], line, n) != n)
				_exit(2);
			_exit(7);
		}
		char c;
		if (read(ready[0], &c, 1) != 1)
			_exit(2);
		// Z's and B's pids, for the subreaper's waits.
		pid_t pids[2] = {z, b};
		if (write(report[1], pids, sizeof pids) != sizeof pids)
			_exit(2);
		_exit(3);
	}
	pid_t pids[2];
	if (read(report[0], pids, sizeof pids) != sizeof pids)
		return;
	int st;
	pid_t r = waitpid(a, &st, 0);
	printf("reaped A: %s, status %d\n", r == a ? "yes" : "no", WEXITSTATUS(st));
	r = waitpid(pids[0], &st, 0);
	printf("reaped the adopted zombie: %s, status %d\n", r == pids[0] ? "yes" : "no", WEXITSTATUS(st));
	char line[128];
	int n = read(report[0], line, sizeof line - 1);
	if (n > 0)
		printf("%.*s", n, line);
	r = waitpid(pids[1], &st, 0);
	printf("reaped the adopted B: %s, status %d\n", r == pids[1] ? "yes" : "no", WEXITSTATUS(st));
	r = waitpid(-1, &st, WNOHANG);
	printf("no more children: %s\n", r < 0 && errno == ECHILD ? "yes" : "no");
	sigprocmask(SIG_SETMASK, &old, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void flags(const char *self)
{
	rc("GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
	show("SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
	show("SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0));
	rc("GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
	pid_t c = fork();
	if (c == 0) {
		execl(self, self, "dumpable", (char *)NULL);
		_exit(9);
	}
	int st;
	waitpid(c, &st, 0);
	prctl(PR_SET_DUMPABLE, 1);

	rc("GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	rc("GET_NO_NEW_PRIVS junk", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
	show("SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
	show("SET_NO_NEW_PRIVS 1 junk", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));

	rc("GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));
	show("SET_TIMERSLACK 1000", prctl(PR_SET_TIMERSLACK, 1000));
	rc("GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));
	c = fork();
	if (c == 0) {
		long a = prctl(PR_GET_TIMERSLACK);
		prctl(PR_SET_TIMERSLACK, 77);
		prctl(PR_SET_TIMERSLACK, 0);
		long b = prctl(PR_GET_TIMERSLACK);
		printf("child: slack %ld, back to default %ld\n", a, b);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, &st, 0);
	show("SET_TIMERSLACK 0", prctl(PR_SET_TIMERSLACK, 0));
	rc("GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));

	show("SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	rc("GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	c = fork();
	if (c == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	waitpid(c, &st, 0);
	printf("child's no_new_privs: %d\n", WEXITSTATUS(st));
}

static void capabilities(void)
{
	int last = 0;
	while (prctl(PR_CAPBSET_READ, last + 1) >= 0)
		last++;
	printf("last capability: %d\n", last);
	rc("CAPBSET_READ past the last", prctl(PR_CAPBSET_READ, last + 1));
	show("CAPBSET_DROP 0", prctl(PR_CAPBSET_DROP, 0));
	show("CAPBSET_DROP 1000", prctl(PR_CAPBSET_DROP, 1000));
	rc("AMBIENT IS_SET 0", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0, 0, 0));
	rc("AMBIENT IS_SET 1000", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 1000, 0, 0));
	show("AMBIENT RAISE 0", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 0, 0, 0));
	show("AMBIENT LOWER 0", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, 0, 0, 0));
	show("AMBIENT CLEAR_ALL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	show("AMBIENT CLEAR_ALL junk", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
	show("AMBIENT 99", prctl(PR_CAP_AMBIENT, 99, 0, 0, 0));
	rc("GET_SECUREBITS", prctl(PR_GET_SECUREBITS));
	show("SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1));
	rc("GET_SECUREBITS", prctl(PR_GET_SECUREBITS));
	prctl(PR_SET_KEEPCAPS, 0);
	show("SET_SECUREBITS 0", prctl(PR_SET_SECUREBITS, 0));

	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	syscall(SYS_capget, &h, d);
	show("capset, the same sets", capset_(&h, d));
	d[0].effective |= 1 << CAP_CHOWN;
	show("capset, effective beyond permitted", capset_(&h, d));
	d[0].permitted |= 1 << CAP_CHOWN;
	show("capset, raising permitted", capset_(&h, d));
	memset(d, 0, sizeof d);
	syscall(SYS_capget, &h, d);
	h.pid = 1;
	show("capset, another pid", capset_(&h, d));
	h.pid = 0;
	show("capset, bad data", capset_(&h, (void *)8));
	h.version = 0x1234;
	show("capset, bad version", capset_(&h, d));
	printf("  version written back: %#x\n", h.version);
	show("capset, bad header", capset_((void *)8, d));
	show("unknown option", prctl(0x7fffffff, 0, 0, 0, 0));
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		rc("after execve, GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	pdeath();
	orphans();
	flags(argv[0]);
	capabilities();
	return 0;
}
