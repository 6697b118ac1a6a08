//go:build ignore

/* pipe_fill [hold]: run under `kshim run --mem 64M`. Pipe buffers are host memory
 * held for the guest, charged to --mem: F_SETPIPE_SZ follows Linux's rules
 * for an unprivileged user (pipe-max-size: EPERM above it), and creating
 * pipes and filling each to its capacity must stop (ENFILE) with no more
 * than the guest's memory in buffers. Prints how many pipes of each size
 * it made and the bytes they hold; with "hold", then waits for stdin to
 * close with the pipes full, so the test can measure kshim meanwhile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAXP 20000
static int fds[MAXP][2];

int main(int argc, char **argv)
{
	char c;
	static char buf[4096];
	struct rlimit rl;
	int p[2];
	long r;
	setvbuf(stdout, NULL, _IONBF, 0);
	memset(fds, 0xff, sizeof fds); /* touched now, not when memory is short */
	memset(buf, 'x', sizeof buf);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	if (pipe(p))
		return 1;
	printf("default size %d\n", fcntl(p[0], F_GETPIPE_SZ));
	r = fcntl(p[0], F_SETPIPE_SZ, 2 << 20);
	printf("F_SETPIPE_SZ 2 MiB -> %s\n", r < 0 ? strerrorname_np(errno) : "ok");
	r = fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	printf("F_SETPIPE_SZ 1 MiB -> %ld\n", r);
	r = fcntl(p[0], F_SETPIPE_SZ, 3000);
	printf("F_SETPIPE_SZ 3000 -> %ld\n", r);
	r = fcntl(p[0], F_SETPIPE_SZ, 0);
	printf("F_SETPIPE_SZ 0 -> %ld\n", r);
	r = fcntl(p[0], F_SETPIPE_SZ, 0x80000001u);
	printf("F_SETPIPE_SZ 2 GiB+1 -> %s\n", r < 0 ? strerrorname_np(errno) : "ok");
	close(p[0]);
	close(p[1]);

	int n = 0, err = 0, big = 0, other = 0;
	long long held = 0;
	while (n < MAXP) {
		if (pipe2(fds[n], O_NONBLOCK)) {
			err = errno;
			break;
		}
		if (fcntl(fds[n][0], F_GETPIPE_SZ) == 65536)
			big++;
		else
			other++;
		while ((r = write(fds[n][1], buf, sizeof buf)) > 0)
			held += r;
		n++;
	}
	printf("pipes %d (%d of 64 KiB, %d smaller), then pipe2: %s\n", n, big, other, strerrorname_np(err));
	printf("held %lld KiB\n", held >> 10);
	if (argc > 1 && strcmp(argv[1], "hold") == 0) {
		printf("holding\n");
		while (read(0, &c, 1) > 0)
			;
	}
	for (int i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	if (pipe(p))
		printf("pipe after closing all: %s\n", strerrorname_np(errno));
	else
		printf("pipe after closing all: size %d\n", fcntl(p[0], F_GETPIPE_SZ));
	return 0;
}
