//go:build ignore

/* oom_vfork: run under `kshim run --mem 64M`. A process vforks a child that
 * touches memory until guest memory runs out. The child is the largest (its
 * memory is its parent's too: a vfork child shares the address space), and
 * the OOM killer kills every process on that memory, as Linux's
 * oom_kill_process does: the vfork parent dies of SIGKILL with it, which
 * the first process reports. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t p = fork();
	if (p == 0) {
		pid_t c = vfork();
		if (c == 0) {
			for (;;) {
				char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (m == MAP_FAILED)
					_exit(3);
				memset(m, 1, 1 << 20);
			}
		}
		int st;
		waitpid(c, &st, 0);
		printf("vfork parent survived the child's end (status %#x)\n", st);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st))
		printf("vfork parent: killed by signal %d\n", WTERMSIG(st));
	else
		printf("vfork parent: exit %d\n", WEXITSTATUS(st));
	return 0;
}
