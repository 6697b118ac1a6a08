//go:build ignore

/* jobctl: job-control stops.  SIGSTOP/SIGTSTP stop every thread of a
 * process until SIGCONT; the parent sees the stop and the continue in
 * wait4 (WUNTRACED, WCONTINUED), waitid (WSTOPPED, WCONTINUED) and SIGCHLD
 * (CLD_STOPPED, CLD_CONTINUED, none with SA_NOCLDSTOP); SIGKILL ends a
 * stopped process; SIGTSTP is discarded in an orphaned process group.
 * Prints facts, never pids. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static volatile sig_atomic_t chld_code, chld_status, chld_count;
static atomic_long *counter; /* shared with the child */

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_count++;
}

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		atomic_fetch_add(counter, 1);
	return 0;
}

static void msleep(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Linux sends CLD_CONTINUED when the continued child next runs, which
 * may be after the parent's wait returned: wait (2 s at most) for the
 * n-th SIGCHLD. */
static void wait_chld(int n)
{
	for (int i = 0; i < 2000 && chld_count < n; i++)
		msleep(1);
}

static const char *code_name(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	}
	return "?";
}

static void describe(const char *what, int st)
{
	if (WIFSTOPPED(st))
		printf("%s: stopped by %s\n", what, sigabbrev_np(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		printf("%s: continued\n", what);
	else if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
	else
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

static pid_t spawn(int threads, int self_stop)
{
	pid_t c = fork();
	if (c == 0) {
		/* A group of its own whose parent is in another group of the
		 * session: not orphaned, so SIGTSTP stops it (Linux discards
		 * it in an orphaned group, as the test runner's may be). */
		setpgid(0, 0);
		for (int i = 0; i < threads; i++) {
			pthread_t t;
			pthread_create(&t, 0, spin, 0);
		}
		if (self_stop)
			raise(SIGTSTP);
		spin(0);
	}
	setpgid(c, c);
	return c;
}

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	counter = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);
	int st;

	/* A process with three threads, stopped and continued from outside. */
	pid_t c = spawn(3, 0);
	msleep(20);
	kill(c, SIGSTOP);
	pid_t w = waitpid(c, &st, WUNTRACED);
	describe(w == c ? "wait4(WUNTRACED)" : "wait4 wrong pid", st);
	wait_chld(1);
	printf("SIGCHLD: %s %s (%d)\n", code_name(chld_code), sigabbrev_np(chld_status), (int)chld_count);
	long a = atomic_load(counter);
	msleep(50);
	printf("threads run while stopped: %s\n", atomic_load(counter) != a ? "yes" : "no");
	printf("waitpid(WNOHANG|WUNTRACED) again: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	show("waitid(WSTOPPED|WNOHANG), reported already", waitid(P_PID, c, &si, WSTOPPED | WNOHANG));
	printf("  si_pid set: %s\n", si.si_pid ? "yes" : "no");
	kill(c, SIGCONT);
	w = waitpid(c, &st, WCONTINUED);
	describe(w == c ? "wait4(WCONTINUED)" : "wait4 wrong pid", st);
	wait_chld(2);
	printf("SIGCHLD: %s %s (%d)\n", code_name(chld_code), sigabbrev_np(chld_status), (int)chld_count);
	a = atomic_load(counter);
	msleep(50);
	printf("threads run after SIGCONT: %s\n", atomic_load(counter) != a ? "yes" : "no");

	/* waitid sees a second stop (SIGTSTP, default action) with WNOWAIT
	 * first, then for good. */
	kill(c, SIGTSTP);
	memset(&si, 0, sizeof si);
	show("waitid(WSTOPPED|WNOWAIT)", waitid(P_PID, c, &si, WSTOPPED | WNOWAIT));
	printf("  %s %s\n", code_name(si.si_code), sigabbrev_np(si.si_status));
	memset(&si, 0, sizeof si);
	show("waitid(WSTOPPED)", waitid(P_PID, c, &si, WSTOPPED));
	printf("  %s %s\n", code_name(si.si_code), sigabbrev_np(si.si_status));
	/* SIGKILL ends a stopped process. */
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	describe("after SIGKILL", st);

	/* A child that stops itself; SA_NOCLDSTOP: no SIGCHLD for it. */
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, 0);
	chld_count = 0;
	c = spawn(1, 1);
	w = waitpid(c, &st, WUNTRACED);
	describe("self-stop", st);
	msleep(10);
	printf("SIGCHLDs with SA_NOCLDSTOP: %d\n", (int)chld_count);
	/* A stop signal discards a pending SIGCONT and vice versa: block
	 * nothing, just continue and check it runs. */
	kill(c, SIGCONT);
	w = waitpid(c, &st, WCONTINUED);
	describe("continued", st);
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	describe("after SIGTERM", st);

	/* SIGTSTP to an orphaned group is discarded: the grandchild's group
	 * has no member whose parent is in another group of the session once
	 * its parent (the child) is gone. */
	int pfd[2];
	pipe(pfd);
	c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			setpgid(0, 0);
			char x;
			read(pfd[0], &x, 1); /* parent gone: now orphaned */
			raise(SIGTSTP);
			printf("orphaned group: SIGTSTP discarded\n");
			_exit(3);
		}
		setpgid(g, g);
		printf("child exits, leaving its child's group orphaned\n");
		_exit(0);
	}
	waitpid(c, &st, 0);
	write(pfd[1], "x", 1);
	msleep(100);
	close(pfd[0]);
	close(pfd[1]);

	/* wait4 without WUNTRACED does not report stops. */
	c = spawn(0, 0);
	kill(c, SIGSTOP);
	msleep(20);
	printf("waitpid(WNOHANG) on a stopped child: %d\n", waitpid(c, &st, WNOHANG));
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	describe("stopped child killed", st);
	return 0;
}
