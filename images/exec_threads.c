//go:build ignore

/* exec_threads: execve from a process with many running threads (busy,
 * sleeping, blocked in a pipe read, waiting on a futex), from the main
 * thread and from another thread.  Linux ends every other thread first
 * (de_thread), and an execve from a non-leader thread takes over the
 * process's pid as its tid.  The new image checks what it inherited.
 *   exec_threads [main|other] [N]     (default: other, 100 threads) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include "common.h"

static int pfd[2];
static int futex_word;
static volatile unsigned long spins;
static char pidbuf[32];
static char **saved_argv;

static void *busy(void *arg)
{
	long kind = (long)arg;
	char c;
	struct timespec ts = {1000, 0};
	switch (kind % 4) {
	case 0:
		for (;;)
			spins++;
	case 1:
		nanosleep(&ts, 0);
		break;
	case 2:
		read(pfd[0], &c, 1);
		break;
	case 3:
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
		break;
	}
	return 0;
}

static void do_exec(void)
{
	char *argv[] = {saved_argv[0], "image", pidbuf, 0};
	execv("/proc/self/exe", argv);
	perror("execv");
	exit(1);
}

static void *execer(void *arg)
{
	(void)arg;
	usleep(20000);
	do_exec();
	return 0;
}

int main(int argc, char **argv)
{
	saved_argv = argv;
	if (argc > 2 && strcmp(argv[1], "image") == 0) {
		int same = atoi(argv[2]) == getpid();
		printf("new image: pid kept %s, tid == pid %s\n", same ? "yes" : "no",
		       syscall(SYS_gettid) == getpid() ? "yes" : "no");
		/* Only this thread is left: /proc/self/status says so. */
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (f && fgets(line, sizeof line, f))
			if (strncmp(line, "Threads:", 8) == 0)
				fputs(line, stdout);
		if (f)
			fclose(f);
		return 7;
	}
	int from_main = argc > 1 && strcmp(argv[1], "main") == 0;
	int n = argc > 2 ? atoi(argv[2]) : 100;
	/* Run in a child so the parent sees the exit status of the new image. */
	pid_t pid = fork();
	if (pid == 0) {
		snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
		if (pipe(pfd))
			return 2;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 << 10);
		for (long i = 0; i < n; i++) {
			pthread_t t;
			if (pthread_create(&t, &at, busy, (void *)i) != 0) {
				printf("pthread_create failed\n");
				return 3;
			}
		}
		if (from_main) {
			usleep(20000);
			do_exec();
		}
		pthread_t t;
		pthread_create(&t, &at, execer, 0);
		for (;;)
			pause();
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child %s %d\n", WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}
