//go:build ignore
/* fast_linger: close() of a TCP socket with SO_LINGER whose data the peer
 * never reads waits (up to the linger time) in the host's close; a signal
 * ends that wait on Linux. The close comes right after a burst of cheap
 * syscalls, so that kshim's fast syscall path is awake and may take it:
 * its server thread must not wait in the host's close, where no signal to
 * the task reaches it. Prints whether the close ended soon after SIGALRM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void on_alarm(int sig) { (void)sig; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int dup_over = argc > 1 && strcmp(argv[1], "dup2") == 0;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		perror("listen");
		return 1;
	}
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	if (connect(c, (struct sockaddr *)&a, sizeof a)) {
		perror("connect");
		return 1;
	}
	int s = accept(l, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	/* Fill the connection: the peer (s) never reads. */
	fcntl(c, F_SETFL, O_NONBLOCK);
	static char buf[65536];
	long sent = 0;
	for (;;) {
		ssize_t n = write(c, buf, sizeof buf);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			perror("write");
			return 1;
		}
		sent += n;
	}
	fcntl(c, F_SETFL, 0);
	struct linger lg = {.l_onoff = 1, .l_linger = 20};
	if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)) {
		perror("SO_LINGER");
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	int null = open("/dev/null", O_RDONLY);
	/* The burst wakes kshim's server; the alarm is set after it (a slow
	 * burst must not see it go off first), with a few more calls on. */
	for (int i = 0; i < 20000; i++)
		syscall(SYS_getppid);
	alarm(1);
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getppid);
	double t = now();
	int r = dup_over ? dup2(null, c) : close(c);
	double d = now() - t;
	printf("%s: %d, ended %s\n", dup_over ? "dup2" : "close", r < 0 ? -errno : r,
	       d < 5 ? "soon after the signal" : "only when the linger ran out");
	return 0;
}
