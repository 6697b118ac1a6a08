//go:build ignore

/* pipe_partial: writes and reads on a pipe that has room for part of a
 * write, or no data, in the cases where the result depends on how the
 * call waits (kshim first tries a pipe's read or write without waiting,
 * then waits where a signal can end it: syscalls/io.go).
 *   1. A blocking write larger than the room left is interrupted by a
 *      signal (handler without SA_RESTART) after filling the room: it
 *      returns the part written, and the reader gets exactly that part.
 *   2. The same with SA_RESTART: also the part written (a partial write
 *      is never restarted).
 *   3. A blocking write larger than the room, with a reader draining the
 *      pipe later: all of it is written, in order.
 *   4. O_NONBLOCK: a large write takes the room and returns its size, then
 *      EAGAIN; a write of PIPE_BUF or less with less room is EAGAIN (never
 *      split); a read of an empty pipe is EAGAIN; after F_SETFL clears
 *      O_NONBLOCK a read waits for a writer.
 *   5. A blocking read of an empty pipe interrupted by a signal: EINTR.
 *   6. With no reader: EPIPE (SIGPIPE ignored), before and after a write
 *      that would not fit.
 *   7. readv and writev wait as read and write do: a readv of an empty
 *      pipe and a writev past the room are interrupted by a signal (EINTR,
 *      the part written), and a writev with room is whole.
 * Uses: pipe, read, write, readv, writev, fcntl, fork, setitimer,
 * rt_sigaction.
 * Prints the counts, which are the same on any x86-64 Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG 200000
static char out[BIG], in[BIG];
static volatile sig_atomic_t hits;
static void on_alrm(int sig) { (void)sig; hits++; }

static void handler(int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, 0);
}

/* in 20 ms, once */
static void arm(void)
{
	struct itimerval it = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, 0);
}

/* a pipe of 64 KiB with 3 pages of room left */
static void nearly_full(int p[2])
{
	if (pipe(p) != 0 || fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536)
		exit(2);
	for (int i = 0; i < 13; i++)
		if (write(p[1], out, 4096) != 4096)
			exit(3);
}

static long drain(int fd)
{
	long got = 0;
	ssize_t r;
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while ((r = read(fd, in, sizeof in)) > 0)
		got += r;
	fcntl(fd, F_SETFL, fl);
	return got;
}

static void interrupted_write(int restart)
{
	int p[2];
	nearly_full(p);
	handler(restart);
	hits = 0;
	arm();
	ssize_t w = write(p[1], out, BIG);
	int e = errno;
	printf("write %s: %zd (%s), hits %d, pipe holds %ld\n", restart ? "SA_RESTART" : "no restart",
	       w, w < 0 ? strerror(e) : "ok", (int)hits, drain(p[0]));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	int p[2];
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 0; i < BIG; i++)
		out[i] = (char)(i * 7 + i / 251);

	interrupted_write(0);
	interrupted_write(1);

	/* 3: the whole write, read back in order by a child that starts late */
	nearly_full(p);
	pid_t c = fork();
	if (c == 0) {
		close(p[1]);
		usleep(20000);
		long got = 0, bad = 0;
		ssize_t r;
		while ((r = read(p[0], in, sizeof in)) > 0) {
			for (ssize_t i = 0; i < r; i++, got++)
				if (got >= 13 * 4096 && in[i] != out[got - 13 * 4096])
					bad++;
		}
		printf("reader: %ld bytes, %ld out of order\n", got, bad);
		_exit(0);
	}
	close(p[0]);
	ssize_t w = write(p[1], out, BIG);
	printf("blocking write with a late reader: %zd\n", w);
	close(p[1]);
	waitpid(c, 0, 0);

	/* 4: O_NONBLOCK */
	nearly_full(p);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	w = write(p[1], out, BIG);
	printf("nonblocking large write: %zd\n", w);
	w = write(p[1], out, BIG);
	printf("then: %zd %s\n", w, w < 0 ? strerror(errno) : "");
	drain(p[0]);
	for (int i = 0; i < 15; i++)
		if (write(p[1], out, 4096) != 4096)
			exit(4);
	if (write(p[1], out, 4000) != 4000) /* the last page, 96 bytes free */
		exit(5);
	w = write(p[1], out, PIPE_BUF);
	printf("atomic write with 96 bytes of room: %zd %s\n", w, w < 0 ? strerror(errno) : "");
	w = write(p[1], out, 96);
	printf("96-byte write: %zd\n", w);
	drain(p[0]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	w = read(p[0], in, 10);
	printf("nonblocking read of an empty pipe: %zd %s\n", w, w < 0 ? strerror(errno) : "");
	fcntl(p[0], F_SETFL, 0);
	c = fork();
	if (c == 0) {
		usleep(20000);
		_exit(write(p[1], "late", 4) != 4);
	}
	w = read(p[0], in, 10);
	printf("blocking read after F_SETFL: %zd %.4s\n", w, in);
	waitpid(c, 0, 0);

	/* 5: a blocking read interrupted */
	handler(0);
	hits = 0;
	arm();
	w = read(p[0], in, 10);
	printf("interrupted read: %zd %s, hits %d\n", w, w < 0 ? strerror(errno) : "", (int)hits);

	/* 7: readv, writev */
	{
		int q[2];
		struct iovec v[2] = {{in, 5}, {in + 5, 5}};
		if (pipe(q) != 0)
			return 6;
		handler(0);
		hits = 0;
		arm();
		w = readv(q[0], v, 2);
		printf("interrupted readv: %zd %s, hits %d\n", w, w < 0 ? strerror(errno) : "", (int)hits);
		struct iovec o[2] = {{out, 7}, {out + 7, 9}};
		w = writev(q[1], o, 2);
		printf("writev with room: %zd, readv: %zd\n", w, readv(q[0], v, 2));
		close(q[0]);
		close(q[1]);
		nearly_full(q);
		struct iovec ob[2] = {{out, BIG / 2}, {out + BIG / 2, BIG / 2}};
		hits = 0;
		arm();
		w = writev(q[1], ob, 2);
		printf("interrupted writev: %zd (%s), hits %d, pipe holds %ld\n", w, w < 0 ? strerror(errno) : "ok",
		       (int)hits, drain(q[0]));
		close(q[0]);
		close(q[1]);
	}

	/* 6: EPIPE */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	fcntl(p[1], F_SETFL, 0);
	w = write(p[1], out, 10);
	printf("no reader: %zd %s\n", w, w < 0 ? strerror(errno) : "");
	w = write(p[1], out, BIG);
	printf("no reader, large: %zd %s\n", w, w < 0 ? strerror(errno) : "");
	return 0;
}
