//go:build ignore

/* open_flags: the status flags an open leaves (F_GETFL) and the FIFO
 * rendezvous, for the opens kshim first makes with O_NONBLOCK added
 * (syscalls/fs/fsfifo.go openNonblock): files, a directory, a device, a
 * pipe reopened through /proc/self/fd and FIFOs with and without the
 * other end, O_NONBLOCK asked for or not. The last part checks that a
 * reader waiting in open meets a writer that opens without blocking, and
 * reads everything the writer wrote before EOF, also when the writer
 * opens, writes and closes at once. In a fresh directory
 * under /tmp (kshim needs --rw). Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* Opens path with flags and prints its F_GETFL, then closes it. */
static void flags_of(const char *what, const char *path, int flags)
{
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	printf("%s -> F_GETFL %#x\n", what, fcntl(fd, F_GETFL));
	close(fd);
}

int main(void)
{
	char dir[] = "/tmp/kshim-oflags-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0 || mkfifo("fifo", 0600) != 0)
		return 1;
	flags_of("file O_CREAT|O_WRONLY", "file", O_CREAT | O_WRONLY);
	flags_of("file O_RDONLY", "file", O_RDONLY);
	flags_of("file O_WRONLY|O_APPEND", "file", O_WRONLY | O_APPEND);
	flags_of("file O_WRONLY|O_APPEND|O_ASYNC", "file", O_WRONLY | O_APPEND | O_ASYNC);
	flags_of("file O_RDONLY|O_NONBLOCK", "file", O_RDONLY | O_NONBLOCK);
	flags_of("file O_RDONLY|O_NOATIME", "file", O_RDONLY | O_NOATIME);
	flags_of("file O_WRONLY|O_TRUNC", "file", O_WRONLY | O_TRUNC);
	flags_of("missing O_RDONLY", "missing", O_RDONLY);
	flags_of("missing/x O_RDONLY", "file/x", O_RDONLY);
	flags_of("dir O_RDONLY|O_DIRECTORY", ".", O_RDONLY | O_DIRECTORY);
	flags_of("file O_RDONLY|O_DIRECTORY", "file", O_RDONLY | O_DIRECTORY);
	flags_of("/dev/null O_RDONLY", "/dev/null", O_RDONLY);
	flags_of("/dev/null O_WRONLY|O_APPEND", "/dev/null", O_WRONLY | O_APPEND);

	/* FIFOs: no other end. */
	flags_of("fifo O_RDONLY|O_NONBLOCK", "fifo", O_RDONLY | O_NONBLOCK);
	flags_of("fifo O_WRONLY|O_NONBLOCK, no reader", "fifo", O_WRONLY | O_NONBLOCK);
	flags_of("fifo O_RDWR", "fifo", O_RDWR);
	/* With both ends held by an O_RDWR fd, neither open waits. */
	int both = open("fifo", O_RDWR);
	flags_of("fifo O_WRONLY, a reader there", "fifo", O_WRONLY);
	flags_of("fifo O_RDONLY, a writer there", "fifo", O_RDONLY);
	flags_of("fifo O_WRONLY|O_APPEND, a reader there", "fifo", O_WRONLY | O_APPEND);
	close(both);

	/* A pipe's read end opened anew through /proc/self/fd: a FIFO with
	 * a writer there. */
	int p[2];
	if (pipe(p) == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
		flags_of("pipe read end reopened O_RDONLY", path, O_RDONLY);
		snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
		flags_of("pipe write end reopened O_WRONLY", path, O_WRONLY);
		close(p[0]);
		close(p[1]);
	}

	/* A reader waiting in open counts as a reader: a writer opening
	 * without O_NONBLOCK, or with it, meets it at once; the reader
	 * reads all the writer wrote, then EOF. */
	for (int nonblock = 0; nonblock < 2; nonblock++) {
		int sync[2];
		if (pipe(sync) != 0)
			return 1;
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			close(sync[0]);
			write(sync[1], "r", 1); /* about to open */
			int fd = open("fifo", O_RDONLY);
			if (fd < 0)
				_exit(2);
			char buf[64];
			size_t got = 0;
			ssize_t n;
			while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
				got += n;
			buf[got] = 0;
			printf("reader read \"%s\", then %s\n", buf, n == 0 ? "EOF" : ename(errno));
			fflush(stdout);
			_exit(0);
		}
		close(sync[1]);
		char b;
		read(sync[0], &b, 1);
		close(sync[0]);
		usleep(100000); /* the reader is waiting in open */
		int fd = open("fifo", O_WRONLY | (nonblock ? O_NONBLOCK : 0));
		printf("writer open%s with a reader waiting -> %s\n", nonblock ? " O_NONBLOCK" : "", fd >= 0 ? "fd" : ename(errno));
		if (fd >= 0) {
			usleep(100000);
			write(fd, "hello", 5);
			usleep(100000);
			write(fd, " again", 6);
			close(fd);
		}
		int st;
		waitpid(c, &st, 0);
		wait_status("reader", st);
	}
	/* A writer that opens, writes and closes at once, racing the
	 * reader's open: whichever comes first, the reader reads it. */
	int ok = 0;
	for (int i = 0; i < 100; i++) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			int fd = open("fifo", O_WRONLY);
			_exit(fd >= 0 && write(fd, "w", 1) == 1 ? 0 : 1);
		}
		int fd = open("fifo", O_RDONLY);
		char b = 0;
		if (fd >= 0 && read(fd, &b, 1) == 1 && b == 'w')
			ok++;
		close(fd);
		waitpid(c, NULL, 0);
	}
	printf("racing writer read %d of 100 times\n", ok);
	unlink("fifo");
	unlink("file");
	chdir("/");
	rmdir(dir);
	return 0;
}
