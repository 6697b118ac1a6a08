//go:build ignore

/* abort: dies of SIGABRT via abort().  kshim: exit status 134.
 * abort() raises SIGABRT with tgkill, then (if that returns) resets the
 * disposition and raises again. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	printf("calling abort\n");
	fflush(stdout);
	abort();
}
