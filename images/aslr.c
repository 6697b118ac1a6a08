//go:build ignore

/* aslr: prints the addresses address-space randomization moves, one
 * NAME=0xHEX per line, and the AT_RANDOM bytes. Unlike the other images
 * its output varies between runs on purpose: it is not a row of the
 * differential table; images/aslr_test.go compares the spread of many runs
 * natively and under kshim. images.mk also builds it as a static-pie
 * (aslr_spie) and a dynamically linked PIE (aslr_dyn).
 *
 * "aslr norandom-exec PROG ARGS..." sets personality(ADDR_NO_RANDOMIZE)
 * and execs PROG, as `setarch -R` does. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "norandom-exec") == 0) {
		if (personality(ADDR_NO_RANDOMIZE) == -1) {
			perror("personality");
			return 1;
		}
		execv(argv[2], argv + 2);
		printf("execv -> %s\n", strerrorname_np(errno));
		return 127;
	}
	int local = 0;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("stack=%#lx\n", (unsigned long)&local);
	printf("argv0=%#lx\n", (unsigned long)argv[0]);
	printf("execfn=%#lx\n", getauxval(AT_EXECFN));
	printf("random=%#lx\n", getauxval(AT_RANDOM));
	printf("mmap=%#lx\n", (unsigned long)m);
	printf("brk=%#lx\n", (unsigned long)sbrk(0));
	printf("main=%#lx\n", (unsigned long)&main);
	printf("vdso=%#lx\n", getauxval(AT_SYSINFO_EHDR));
	printf("base=%#lx\n", getauxval(AT_BASE));
	printf("persona=%#x\n", personality(0xffffffff));
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	printf("random_bytes=");
	for (int i = 0; r && i < 16; i++)
		printf("%02x", r[i]);
	printf("\n");
	return local;
}
