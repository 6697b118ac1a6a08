//go:build ignore

/* oom_pick [read]: run under `kshim run --mem 64M`. Three processes hold
 * memory: "big" 36 MiB, "medium" 6 MiB, and "small", which then touches 24
 * MiB (with "read": fills it with read(2) from /dev/zero, so the syscall's
 * copy is what runs out) and so runs guest memory out. The OOM killer must end the largest (big),
 * not small, the one that faults: small finishes and prints, medium exits
 * normally when told, big is reported killed by SIGKILL. Prints big's pid
 * so the test can check kshim's log names it. */
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

#define MiB (1ul << 20)

static void touch(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		_exit(3);
	}
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
}

/* A child that holds n bytes, says so on ready, and waits for go to close. */
static pid_t holder(size_t n, int ready, int go, int gow)
{
	pid_t pid = fork();
	if (pid == 0) {
		char c = 'r';
		close(gow);
		touch(n);
		if (write(ready, &c, 1) != 1)
			_exit(4);
		while (read(go, &c, 1) != 0)
			;
		_exit(0);
	}
	return pid;
}

static void report(const char *who, pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		printf("%s: waitpid: %s\n", who, strerror(errno));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", who, WTERMSIG(st));
	else
		printf("%s: exit %d\n", who, WEXITSTATUS(st));
}

/* Fills n fresh bytes by reading /dev/zero into them, 1 MiB a call. */
static void fill_by_read(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);
	if (p == MAP_FAILED || fd < 0)
		_exit(3);
	for (size_t i = 0; i < n; i += MiB)
		if (read(fd, p + i, MiB) != (ssize_t)MiB) {
			printf("small: read: %s\n", strerror(errno));
			_exit(5);
		}
}

int main(int argc, char **argv)
{
	int by_read = argc > 1 && strcmp(argv[1], "read") == 0;
	int ready[2], go[2];
	char c;
	if (pipe(ready) || pipe(go))
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t big = holder(36 * MiB, ready[1], go[0], go[1]);
	if (read(ready[0], &c, 1) != 1)
		return 2;
	pid_t medium = holder(6 * MiB, ready[1], go[0], go[1]);
	if (read(ready[0], &c, 1) != 1)
		return 2;
	printf("big pid %d holds 36 MiB, medium holds 6 MiB\n", (int)big);
	pid_t small = fork();
	if (small == 0) {
		if (by_read)
			fill_by_read(24 * MiB);
		else
			touch(24 * MiB);
		printf("small: %s 24 MiB\n", by_read ? "read" : "touched");
		_exit(0);
	}
	report("small", small);
	close(go[1]);
	report("big", big);
	report("medium", medium);
	return 0;
}
