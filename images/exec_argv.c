//go:build ignore

/* exec_argv: how execve reads argv (and envp) arrays that sit at the edge
 * of mapped memory: an array whose NULL is the last slot of a page before
 * an unmapped one, an unaligned array whose NULL straddles two pages, an
 * unterminated array running into unmapped memory (EFAULT), a NULL argv
 * pointer to an unmapped page (EFAULT), and a long argv. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void try(const char *what, char **argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		printf("%s: exec -> %s\n", what, strerrorname_np(errno));
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("%s: child status %#x\n", what, st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("child: argc=%d last=%s\n", argc, argv[argc - 1]);
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	const long pg = 4096;
	char *m = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 1;
	munmap(m + pg, pg);
	munmap(m + 4 * pg, pg);

	/* Unterminated, unaligned, running into the unmapped page 1. */
	char *u = m + pg - 3 - 8 * 3;
	char *uv[] = {argv[0], "child", "u"};
	memcpy(u, uv, sizeof uv);
	try("unterminated", (char **)u);

	/* Unaligned, its NULL straddling pages 2 and 3 (both mapped). */
	char *s = m + 3 * pg - 3 - 8 * 3;
	char *sv[] = {argv[0], "child", "straddle", NULL};
	memcpy(s, sv, sizeof sv);
	try("straddling", (char **)s);

	/* Aligned, its NULL the last slot before the unmapped page 4. */
	char **e = (char **)(m + 4 * pg) - 4;
	e[0] = argv[0], e[1] = "child", e[2] = "page-end", e[3] = NULL;
	try("page end", e);

	/* argv itself unmapped. */
	try("unmapped argv", (char **)(m + pg));

	/* Many arguments spread over several pages of pointers. */
	int n = 5000;
	char **many = calloc(n + 1, sizeof *many);
	many[0] = argv[0], many[1] = "child";
	for (int i = 2; i < n; i++)
		many[i] = i == n - 1 ? "many-last" : "a";
	try("many", many);
	return 0;
}
