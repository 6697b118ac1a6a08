//go:build ignore

/* hang: never ends on its own: a child sleeps, a thread of the parent
 * blocks in a pipe read, the parent spins. For `kshim run --timeout`. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int p[2];

static void *reader(void *arg)
{
	char c;
	(void)arg;
	while (read(p[0], &c, 1) != 0)
		;
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pipe(p))
		return 1;
	if (fork() == 0) {
		for (;;)
			sleep(100);
	}
	pthread_create(&t, NULL, reader, NULL);
	printf("started\n");
	fflush(stdout);
	for (volatile unsigned long i = 0;; i++)
		;
}
