//go:build ignore

/* exitcode: exits with the status given in argv[1] (default 42).
 * argv[2] == "_exit" takes the _exit path (no atexit handlers, no stdio
 * flush); otherwise exit() runs the atexit handler, which prints a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void at_exit_handler(void)
{
	printf("atexit handler ran\n");
}

int main(int argc, char **argv)
{
	int status = 42;
	if (argc > 1)
		status = atoi(argv[1]);
	if (argc > 2 && strcmp(argv[2], "_exit") == 0) {
		static const char msg[] = "leaving via _exit\n";
		/* Buffered stdio output must be lost on _exit. */
		printf("this line is never flushed\n");
		if (write(1, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1))
			return 99;
		_exit(status);
	}
	atexit(at_exit_handler);
	printf("leaving via exit(%d)\n", status);
	exit(status);
}
