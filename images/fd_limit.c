//go:build ignore

/* fd_limit: run under `kshim run --max-fds 64`. The limit is for all the
 * guest's processes together, as Linux's file-max is system-wide: opening
 * past it is ENFILE, another fd for an open file (dup) EMFILE, a fork whose
 * copies would not fit EMFILE; a child's fds count against the same limit;
 * closing makes room again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fill(void)
{
	int n = 0;
	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	return n;
}

int main(void)
{
	int fds[3], st;
	setvbuf(stdout, NULL, _IONBF, 0);
	int n = fill();
	printf("opened %d, then open: %s\n", n, strerrorname_np(errno));
	printf("dup: %s\n", dup(0) < 0 ? strerrorname_np(errno) : "ok");
	printf("pipe: %s\n", pipe(fds) < 0 ? strerrorname_np(errno) : "ok");
	printf("fork: %s\n", fork() < 0 ? strerrorname_np(errno) : "ok");
	/* Keep 3 + 13 = 16 fds: a child copies 16, and has 64 - 32 left. */
	for (int fd = 16; fd < 3 + n; fd++)
		close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		int m = fill();
		printf("child: opened %d, then open: %s\n", m, strerrorname_np(errno));
		_exit(0);
	}
	if (pid < 0) {
		printf("fork after closing: %s\n", strerrorname_np(errno));
		return 1;
	}
	waitpid(pid, &st, 0);
	n = fill();
	printf("after the child: opened %d more\n", n);
	return 0;
}
