//go:build ignore

/* exec_dyn: a static program that runs other programs (dynamically
 * linked ones in images/dyn_test.go) with fork and execve, as busybox
 * running gzip or gcc running cc1 do, and reports how each ended, or
 * execve's errno.
 *
 * "exec_dyn PROG ARGS..." runs PROG once; with "-e" first it only tries
 * execve in a child and prints the errno name (for interpreters that
 * fail). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int errOnly = argc > 1 && strcmp(argv[1], "-e") == 0;
	char **args = argv + 1 + errOnly;
	if (!args[0]) {
		fprintf(stderr, "usage: exec_dyn [-e] PROG ARGS...\n");
		return 2;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execve(args[0], args, environ);
		printf("execve %s -> %s\n", errOnly ? "" : args[0], strerrorname_np(errno));
		fflush(stdout);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	if (WIFEXITED(st))
		printf("exit status %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("killed by signal %d\n", WTERMSIG(st));
	return 0;
}
