//go:build ignore

/* environ: prints the whole environment in order, one entry a line (what
 * `kshim run --env/--clear-env` must build as env(1) would). */
#include <stdio.h>

extern char **environ;

int main(void)
{
	int n = 0;
	for (char **e = environ; *e; e++, n++)
		printf("%s\n", *e);
	printf("%d entries\n", n);
	return 0;
}
