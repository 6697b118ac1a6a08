//go:build ignore

/* sig_rw_ready: a read or write that does not have to wait is not
 * interrupted by a signal, even by a handler without SA_RESTART: Linux
 * looks for signals in a pipe call only when it has to wait (the pipe
 * full, or empty). An interval timer fires every 100 us while the program
 * writes a byte to a pipe with room and reads it back; no call may fail.
 * Uses: pipe, read, write, setitimer, rt_sigaction. Prints counts of
 * failures only (never timings). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_alrm(int sig) { (void)sig; hits++; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm; /* no SA_RESTART: an interrupted call fails with EINTR */
	sigaction(SIGALRM, &sa, 0);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	struct itimerval it = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &it, 0);
	int werr = 0, rerr = 0, other = 0;
	char c = 'x';
	for (int i = 0; i < 20000 && hits < 1000; i++) {
		if (write(p[1], &c, 1) != 1) {
			if (errno == EINTR)
				werr++;
			else
				other++;
			continue;
		}
		if (read(p[0], &c, 1) != 1) {
			if (errno == EINTR)
				rerr++;
			else
				other++;
		}
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, 0);
	printf("signals taken during the loop: %s\n", hits >= 10 ? "yes" : "no");
	printf("write EINTR %d, read EINTR %d, other errors %d\n", werr, rerr, other);
	return 0;
}
