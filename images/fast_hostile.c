//go:build ignore
/* fast_hostile: kshim only (natively these addresses are kernel memory).
 * Scribbles over the vCPU's fast syscall area (boot.FastArea), which user
 * code can write, and checks that its syscalls still give the right
 * answers; with "hang ADDR", jumps into the fast stub's wait at ADDR
 * (boot.FastPosted) with a request nobody posted and a budget that never
 * runs out, so only a kill ends it (the test gives --timeout). With
 * "leak ADDR": a child makes a fast call with a marked argument and exits;
 * the next child, which takes over its vCPU (and so its fast area), must
 * find none of it there, and a jump to the stub's exit at ADDR
 * (boot.FastDone) with the request number left there must be the fault a
 * jump into kernel memory is, not the return of the other process's call. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAST_AREA 0xffffffff80068000UL
#define FA_SEQ 0x00
#define FA_BUDGET 0x58
#define FA_AWAKE 0xc0
#define FA_SPINS 0xc8
#define SECRET 0x5ec2e75ec2e7ULL

static void on_segv(int sig)
{
	(void)sig;
	static const char m[] = "replay: SIGSEGV\n";
	write(1, m, sizeof m - 1);
	_exit(0);
}

/* leak: see the head comment. */
static int leak(void *done)
{
	volatile uint64_t *fa = (volatile uint64_t *)FAST_AREA;
	pid_t a = fork();
	if (a == 0) {
		for (int i = 0; i < 20000; i++)
			syscall(SYS_getppid);
		syscall(SYS_lseek, 12345, SECRET, SEEK_SET); /* EBADF; its arguments stay */
		_exit(0);
	}
	waitpid(a, NULL, 0);
	usleep(20000); /* its vCPU back in the pool */
	fflush(stdout);
	pid_t b = fork();
	if (b == 0) {
		int seen = 0;
		for (int i = 0; i < 512; i++)
			if (fa[i] == SECRET)
				seen = 1;
		printf("another process's arguments: %s\n", seen ? "seen" : "not seen");
		if (((volatile uint8_t *)fa)[FA_AWAKE] && fa[FA_SPINS / 8] == 0)
			printf("awake with no budget\n");
		fflush(stdout);
		signal(SIGSEGV, on_segv);
		uint64_t seq = fa[FA_SEQ / 8];
		/* The return, if the VMM makes one, is to the other call's RIP
		 * (libc's syscall(), which returns to the label pushed here). */
		__asm__ volatile("sub $256, %%rsp\n\t"
				 "lea 1f(%%rip), %%rcx\n\t"
				 "push %%rcx\n\t"
				 "mov %0, %%rax\n\t"
				 "jmp *%1\n"
				 "1:\n\t"
				 "add $256, %%rsp\n\t"
				 :
				 : "r"(seq), "r"(done)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
		printf("replay: returned\n");
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(b, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

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
	if (argc == 3 && strcmp(argv[1], "leak") == 0)
		return leak((void *)strtoull(argv[2], NULL, 0));
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
