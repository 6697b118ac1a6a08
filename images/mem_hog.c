//go:build ignore

/* mem_hog: a child touches anonymous memory 1 MiB at a time until it is
 * killed (by the OOM killer under `kshim run --mem`); the parent reports
 * how it ended, then waits for stdin to close, so the test can read
 * kshim's own peak resident set meanwhile. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	char c;
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
			char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				_exit(2);
			for (int i = 0; i < 1 << 20; i += 4096)
				m[i] = 1;
		}
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("hog: killed by signal %d\n", WTERMSIG(st));
	else
		printf("hog: exit %d\n", WEXITSTATUS(st));
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
