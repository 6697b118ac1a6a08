//go:build ignore

/* segv: dies of SIGSEGV (NULL write, no handler).  Native: killed by
 * signal 11.  kshim: exit status 139 plus a one-line message on stderr.
 * The line printed (and flushed) before the fault must reach stdout. */
#include <stdio.h>

int main(void)
{
	printf("about to write through NULL\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("unreachable\n");
	return 0;
}
