//go:build ignore
/* fast_fifo: a FIFO's reader opens it (blocking, right after a burst of
 * cheap calls that keeps kshim's fast syscall path awake) while a writer
 * waits in its own open; the writer writes at once when its open returns.
 * On Linux the waiting reader counts as a reader all along, so the write
 * always finds one: no EPIPE. Prints the count of writers that failed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	char dir[] = "/tmp/fast_fifoXXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char path[64];
	snprintf(path, sizeof path, "%s/f", dir);
	signal(SIGPIPE, SIG_IGN);
	int failed = 0, short_reads = 0;
	for (int round = 0; round < rounds; round++) {
		if (mkfifo(path, 0600)) {
			perror("mkfifo");
			return 1;
		}
		pid_t w = fork();
		if (w == 0) {
			int fd = open(path, O_WRONLY);
			if (fd < 0)
				_exit(2);
			_exit(write(fd, "hello", 5) == 5 ? 0 : 1);
		}
		usleep(5000); /* the writer waits in its open */
		for (int i = 0; i < 2000; i++)
			syscall(SYS_getppid);
		int fd = open(path, O_RDONLY);
		char b[8];
		ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b);
		int st;
		waitpid(w, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		else if (n != 5)
			short_reads++;
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	rmdir(dir);
	printf("%d rounds: %d writers failed, %d reads short\n", rounds, failed, short_reads);
	return 0;
}
