//go:build ignore
// proc_limits.c: /proc/PID/limits, the reader's own and a child's, after
// setrlimit changed some of them (the open-files soft limit first: kshim's
// own is raised by the Go runtime, a native process's is its parent's).
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void cat(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("open %s -> %s\n", path, ename(errno));
		return;
	}
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
}

int main(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 512;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = 0;
	setrlimit(RLIMIT_CORE, &rl);
	setvbuf(stdout, NULL, _IONBF, 0);
	cat("/proc/self/limits");
	int p[2];
	if (pipe(p) < 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		struct rlimit s;
		getrlimit(RLIMIT_STACK, &s);
		s.rlim_cur = 1 << 20;
		setrlimit(RLIMIT_STACK, &s);
		getrlimit(RLIMIT_MSGQUEUE, &s);
		s.rlim_cur = 4096;
		setrlimit(RLIMIT_MSGQUEUE, &s);
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char r;
	if (read(p[0], &r, 1) != 1)
		return 1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/limits", (int)c);
	printf("--- child\n");
	cat(path);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	rc("open after the child is gone", open(path, O_RDONLY));
	return 0;
}
