//go:build ignore

/* args: argv and environment pass-through.  Exits with status 3. */
#include <stdio.h>
#include <stdlib.h>

static void show_env(const char *name)
{
	const char *v = getenv(name);
	if (v)
		printf("%s=%s\n", name, v);
	else
		printf("%s=(unset)\n", name);
}

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	printf("argv[argc]_is_null=%d\n", argv[argc] == NULL);
	show_env("KSHIM_TEST_A");
	show_env("KSHIM_TEST_B");
	return 3;
}
