//go:build ignore

/* hello: the smallest guest program and the default for `make run`.
 * Uses: write (via stdio), exit_group, plus glibc's static startup. */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argv;
	printf("Hello from kshim guest!\n");
	printf("argc=%d\n", argc);
	return 0;
}
