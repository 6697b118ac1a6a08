//go:build ignore

/* tty_pgrp: the terminal's foreground process group (tcgetpgrp/tcsetpgrp)
 * as a job-control shell uses it.  Run on a pty that is the controlling
 * terminal of its session (images/tty_test.go).  Prints relations, never
 * pids. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common.h"

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	signal(SIGTTOU, SIG_IGN);
	printf("foreground is my group: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
	show("tcsetpgrp(-1)", tcsetpgrp(0, -1));
	show("tcsetpgrp(no such group)", tcsetpgrp(0, 0x3ffffff0));
	int p[2];
	if (pipe(p))
		return 1;
	pid_t c = fork();
	if (c == 0) {
		char x;
		setpgid(0, 0);
		read(p[0], &x, 1);
		_exit(0);
	}
	setpgid(c, c);
	show("tcsetpgrp(child's group)", tcsetpgrp(0, c));
	printf("foreground is the child's group: %s\n", tcgetpgrp(0) == c ? "yes" : "no");
	show("tcsetpgrp(my group)", tcsetpgrp(0, getpgrp()));
	printf("foreground is my group: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
	write(p[1], "x", 1);
	waitpid(c, 0, 0);
	show("tcsetpgrp(reaped group)", tcsetpgrp(0, c));
	return 0;
}
