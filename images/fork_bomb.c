//go:build ignore

/* fork_bomb: run under `kshim run --max-tasks 16`. Forks until fork fails
 * (EAGAIN once the guest has 16 tasks), lets the children go and reaps
 * them, forks again (the limit counts live tasks), then creates threads
 * until pthread_create fails (EAGAIN at the same limit). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int go[2];

static void *idle(void *arg)
{
	char c;
	(void)arg;
	while (read(go[0], &c, 1) != 0)
		;
	return NULL;
}

int main(void)
{
	char c;
	int n = 0, err = 0;
	if (pipe(go))
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	for (;;) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			close(go[1]);
			while (read(go[0], &c, 1) != 0)
				;
			_exit(0);
		}
		if (++n > 10000)
			break;
	}
	printf("forked %d children, then fork: %s\n", n, strerrorname_np(err));
	close(go[1]);
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("reaped %d\n", reaped);
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		printf("fork after reaping failed\n");
	else
		printf("fork after reaping: ok\n");

	if (pipe(go))
		return 1;
	pthread_t t[64];
	int nt = 0, e = 0;
	while (nt < 64 && (e = pthread_create(&t[nt], NULL, idle, NULL)) == 0)
		nt++;
	printf("created %d threads, then pthread_create: %s\n", nt, strerrorname_np(e));
	close(go[1]);
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	printf("joined %d\n", nt);
	return 0;
}
