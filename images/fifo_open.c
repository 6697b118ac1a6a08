//go:build ignore

/* fifo_open: a blocking open of a FIFO (for reading, for writing) that a
 * signal from another process interrupts: EINTR without SA_RESTART; with
 * SA_RESTART the open goes on waiting and succeeds when the other end
 * opens. In a fresh directory under /tmp (kshim needs --rw). The child
 * signals, waits, then opens the other end: a wrong answer shows as
 * output, not a hang. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static volatile int handled;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	handled++;
}

/* Opens fifo with mode while a child sends SIGUSR1 and, a while later,
 * opens the other end (O_RDWR, which never blocks). */
static void attempt(const char *what, int mode, int restart)
{
	set_handler(SIGUSR1, on_usr1, restart ? SA_RESTART : 0);
	handled = 0;
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		usleep(200000);
		kill(parent, SIGUSR1);
		usleep(restart ? 300000 : 1500000);
		int fd = open("fifo", O_RDWR);
		usleep(300000);
		close(fd);
		_exit(0);
	}
	int fd = open("fifo", mode);
	printf("%s -> %s, handler ran %d\n", what, fd >= 0 ? "fd" : ename(errno), handled);
	if (fd >= 0)
		close(fd);
	waitpid(c, NULL, 0);
}

int main(void)
{
	char dir[] = "/tmp/kshim-fifo-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0 || mkfifo("fifo", 0600) != 0)
		return 1;
	attempt("open O_RDONLY, no SA_RESTART", O_RDONLY, 0);
	attempt("open O_WRONLY, no SA_RESTART", O_WRONLY, 0);
	attempt("open O_RDONLY, SA_RESTART", O_RDONLY, 1);
	attempt("open O_WRONLY, SA_RESTART", O_WRONLY, 1);
	int fd = open("fifo", O_RDONLY | O_NONBLOCK);
	printf("open O_RDONLY|O_NONBLOCK -> %s\n", fd >= 0 ? "fd" : ename(errno));
	close(fd);
	fd = open("fifo", O_WRONLY | O_NONBLOCK);
	printf("open O_WRONLY|O_NONBLOCK, no reader -> %s\n", fd >= 0 ? "fd" : ename(errno));
	unlink("fifo");
	chdir("/");
	rmdir(dir);
	return 0;
}
