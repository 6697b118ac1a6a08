//go:build ignore

/* proc_fork: fork, wait, exit statuses, copy-on-write memory after fork,
 * shared memory staying shared, pipes between processes, execve (of this
 * program again, and of a #! script), vfork, kill and SIGCHLD. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static volatile int chld;
static void on_chld(int s) { (void)s; chld++; }

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("exec'd child: argc=%d arg2=%s\n", argc, argc > 2 ? argv[2] : "-");
		return 11;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGCHLD, on_chld);

	/* Copy-on-write: the child's writes stay in the child. */
	static int counter = 1;
	char *heap = malloc(100000);
	memset(heap, 'p', 100000);
	int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*shared = 5;
	pid_t me = getpid();
	pid_t c = fork();
	if (c == 0) {
		counter = 2;
		memset(heap, 'c', 100000);
		*shared = 6;
		printf("child: ppid_ok=%d counter=%d heap=%c\n", getppid() == me, counter, heap[99999]);
		_exit(7);
	}
	int st;
	pid_t w = waitpid(c, &st, 0);
	printf("wait_ok=%d\n", w == c);
	wait_status("child", st);
	printf("parent: counter=%d heap=%c shared=%d\n", counter, heap[99999], *shared);
	printf("waitpid again -> %s\n", waitpid(c, &st, 0) < 0 ? strerrorname_np(errno) : "ok");

	/* A pipe between parent and child. */
	int fds[2];
	pipe(fds);
	if ((c = fork()) == 0) {
		close(fds[0]);
		const char msg[] = "through the pipe";
		write(fds[1], msg, sizeof msg);
		_exit(0);
	}
	close(fds[1]);
	char buf[64] = {0};
	ssize_t n = read(fds[0], buf, sizeof buf);
	printf("pipe: n=%zd msg=%s\n", n, buf);
	printf("pipe eof: n=%zd\n", read(fds[0], buf, sizeof buf));
	waitpid(c, &st, 0);
	wait_status("writer", st);

	/* exec this program again. */
	if ((c = fork()) == 0) {
		execl("/proc/self/exe", "proc_fork", "child", "arg-two", (char *)NULL);
		_exit(99);
	}
	waitpid(c, &st, 0);
	wait_status("exec child", st);

	/* vfork + exec of a missing file: the child reports and exits. */
	if ((c = vfork()) == 0) {
		execl("/nonexistent/program", "x", (char *)NULL);
		_exit(errno == ENOENT ? 3 : 4);
	}
	waitpid(c, &st, 0);
	wait_status("vfork child", st);

	/* Killed by a signal. */
	if ((c = fork()) == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGTERM);
	waitpid(c, &st, 0);
	wait_status("killed child", st);

	/* Exit status 0 via WNOHANG polling. */
	if ((c = fork()) == 0)
		_exit(0);
	while ((w = waitpid(c, &st, WNOHANG)) == 0)
		;
	wait_status("polled child", st);
	printf("no children -> %s\n", wait(&st) < 0 ? strerrorname_np(errno) : "ok");
	printf("sigchld_seen=%d\n", chld > 0);
	return 0;
}
