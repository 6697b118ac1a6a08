//go:build ignore
/* fast_hostile: kshim only (natively these addresses are kernel memory).
 * Scribbles over the vCPU's fast syscall area (boot.FastArea), which user
 * code can write, and checks that its syscalls still give the right
 * answers; with "hang ADDR", jumps into the fast stub's wait at ADDR
 * (boot.FastPosted) with a request nobody posted and a budget that never
 * runs out, so only a kill ends it (the test gives --timeout). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAST_AREA 0xffffffff80068000UL
#define FA_BUDGET 0x58
#define FA_SPINS 0xc8

static uint64_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

int main(int argc, char **argv)
{
	volatile uint64_t *fa = (volatile uint64_t *)FAST_AREA;
	if (argc == 3 && strcmp(argv[1], "hang") == 0) {
		void *wait = (void *)strtoull(argv[2], NULL, 0);
		printf("spinning\n");
		fflush(stdout);
		fa[FA_BUDGET / 8] = ~0ULL;
		__asm__ volatile("mov $0x123456789, %%rax\n\tjmp *%0" : : "r"(wait) : "rax", "memory");
		return 1;
	}
	pid_t pid = getpid();
	struct stat want;
	if (stat("/", &want) != 0)
		return 1;
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 512; i++)
			fa[i] = rnd();
		fa[FA_SPINS / 8] = 1 + rnd() % 2000; /* a bounded wait of its own choosing */
		struct stat st;
		if (syscall(SYS_getpid) != pid || stat("/", &st) != 0 || st.st_ino != want.st_ino) {
			printf("round %d: wrong answer\n", round);
			return 1;
		}
	}
	printf("ok\n");
	return 0;
}
