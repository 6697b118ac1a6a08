//go:build ignore

/* pidfd: pidfd_open's checks, a pidfd that turns readable when its process
 * ends, pidfd_send_signal (plain and with a siginfo, whose si_code rules
 * are rt_sigqueueinfo's), waitid(P_PIDFD) blocking and not, read on a
 * pidfd, and clone(CLONE_PIDFD). Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int send_sig(int fd, int sig, siginfo_t *si, unsigned flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, si, flags);
}

static int ready(int fd, int timeout)
{
	struct pollfd p = {fd, POLLIN, 0};
	int n = poll(&p, 1, timeout);
	return n < 0 ? -1 : n == 0 ? 0 : p.revents;
}

static pid_t sleeper(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	return c;
}

static void waited(const char *what, int fd, int opts)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = waitid(P_PIDFD, fd, &si, opts);
	if (r < 0) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	printf("%s -> 0, code %s, status %d\n", what,
	       si.si_code == CLD_EXITED ? "CLD_EXITED" : si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", si.si_status);
}

int main(void)
{
	int self = pidfd_open(getpid(), 0);
	rc("pidfd_open(self)", self < 0 ? -1 : 0);
	printf("  FD_CLOEXEC %d\n", fcntl(self, F_GETFD) & FD_CLOEXEC);
	printf("  readable %d\n", ready(self, 0));
	rc("pidfd_open(0)", pidfd_open(0, 0));
	rc("pidfd_open(-1)", pidfd_open(-1, 0));
	rc("pidfd_open(self, 1)", pidfd_open(getpid(), 1));
	rc("pidfd_open(3999999)", pidfd_open(3999999, 0));
	char b[8];
	rc("read(pidfd)", read(self, b, sizeof b));
	rc("write(pidfd)", write(self, b, sizeof b));
	waited("waitid(P_PIDFD, self)", self, WEXITED | WNOHANG);
	rc("pidfd_send_signal flags 1", send_sig(self, 0, NULL, 1));
	rc("pidfd_send_signal on stdin", send_sig(0, 0, NULL, 0));
	rc("pidfd_send_signal on fd 99", send_sig(99, 0, NULL, 0));
	rc("pidfd_send_signal(self, 0)", send_sig(self, 0, NULL, 0));
	int procdir = open("/proc/self", O_RDONLY | O_DIRECTORY);
	rc("pidfd_send_signal(/proc/self fd, 0)", send_sig(procdir, 0, NULL, 0));
	int fddir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	rc("pidfd_send_signal(/proc/self/fd fd, 0)", send_sig(fddir, 0, NULL, 0));
	int etc = open("/etc", O_RDONLY | O_DIRECTORY);
	rc("pidfd_send_signal(/etc fd, 0)", send_sig(etc, 0, NULL, 0));
	close(procdir), close(fddir), close(etc);

	pid_t c = sleeper();
	int fd = pidfd_open(c, 0);
	rc("pidfd_open(child)", fd < 0 ? -1 : 0);
	int nb = pidfd_open(c, PIDFD_NONBLOCK);
	printf("  nonblocking O_NONBLOCK %d\n", !!(fcntl(nb, F_GETFL) & O_NONBLOCK));
	printf("  readable before %d\n", ready(fd, 0));
	waited("waitid(P_PIDFD, nonblocking, running child)", nb, WEXITED);
	waited("waitid(P_PIDFD, WNOHANG, running child)", fd, WEXITED | WNOHANG);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGTERM;
	si.si_code = SI_USER;
	rc("pidfd_send_signal(child, info SI_USER)", send_sig(fd, SIGTERM, &si, 0));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	rc("pidfd_send_signal(child, info for another signal)", send_sig(fd, SIGTERM, &si, 0));
	rc("pidfd_send_signal(child, bad info)", send_sig(fd, SIGTERM, (siginfo_t *)8, 0));
	rc("pidfd_send_signal(child, SIGTERM)", send_sig(fd, SIGTERM, NULL, 0));
	printf("  readable after %s\n", ready(fd, 10000) & POLLIN ? "POLLIN" : "no");
	waited("waitid(P_PIDFD, WEXITED)", fd, WEXITED);
	rc("pidfd_send_signal(reaped child, 0)", send_sig(fd, 0, NULL, 0));
	waited("waitid(P_PIDFD, reaped)", fd, WEXITED);
	rc("pidfd_open(reaped child)", pidfd_open(c, 0));

	int cfd = -1;
	long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &cfd, 0, 0);
	if (r == 0)
		_exit(3);
	rc("clone(CLONE_PIDFD)", r < 0 ? -1 : 0);
	printf("  pidfd FD_CLOEXEC %d\n", fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	printf("  readable %s\n", ready(cfd, 10000) & POLLIN ? "POLLIN" : "no");
	waited("waitid(P_PIDFD, clone's pidfd)", cfd, WEXITED);
	rc("clone(CLONE_PIDFD|CLONE_PARENT_SETTID)", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &cfd, 0, 0));

	c = sleeper();
	fd = pidfd_open(c, 0);
	kill(c, SIGKILL);
	printf("killed: readable %s\n", ready(fd, 10000) & POLLIN ? "POLLIN" : "no");
	int late = pidfd_open(c, 0);
	printf("pidfd_open(zombie) -> %s, readable %s\n", late >= 0 ? "fd" : ename(errno), ready(late, 0) & POLLIN ? "POLLIN" : "no");
	waited("waitid(P_PIDFD, killed)", late, WEXITED);
	return 0;
}
