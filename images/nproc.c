//go:build ignore

/* nproc: RLIMIT_NPROC at 0 makes fork, vfork-style clone and thread
 * creation fail with EAGAIN for an unprivileged user (copy_process), and
 * raising it again lets fork work. Prints facts only. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static void *nothing(void *a) { return a; }

int main(void)
{
	struct rlimit old, zero;
	getrlimit(RLIMIT_NPROC, &old);
	zero = old;
	zero.rlim_cur = 0;
	show("setrlimit(RLIMIT_NPROC, 0)", setrlimit(RLIMIT_NPROC, &zero));
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	printf("fork -> %s\n", c > 0 ? "child" : ename(errno));
	if (c > 0)
		waitpid(c, NULL, 0);
	pthread_t t;
	int r = pthread_create(&t, NULL, nothing, NULL);
	printf("pthread_create -> %s\n", r == 0 ? "0" : ename(r));
	if (r == 0)
		pthread_join(t, NULL);
	show("setrlimit(RLIMIT_NPROC, old)", setrlimit(RLIMIT_NPROC, &old));
	fflush(stdout);
	c = fork();
	if (c == 0)
		_exit(3);
	int st = 0;
	waitpid(c, &st, 0);
	printf("fork again -> %s, status %d\n", c > 0 ? "child" : ename(errno), WEXITSTATUS(st));
	return 0;
}
