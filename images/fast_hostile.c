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
 * jump into kernel memory is, not the return of the other process's call.
 * With "cow": a fork child posts a pread of 1 MiB into pages it shares
 * copy-on-write with its parent by writing the area itself, and never
 * waits in the stub (so never exits for the copy-on-write breaks' flush):
 * its user code must still see the file's bytes, and none of what the
 * parent writes into its own copy afterwards. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fast_area.h"

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

/* cow: see the head comment. */
static int cow(void)
{
	volatile uint64_t *fa = (volatile uint64_t *)FAST_AREA;
	enum { N = 256 };
	char path[] = "/tmp/fast_hostileXXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	unlink(path);
	static char pg[4096];
	memset(pg, 'B', sizeof pg);
	for (int i = 0; i < N; i++)
		if (write(fd, pg, sizeof pg) != sizeof pg)
			return 1;
	char *buf = mmap(NULL, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile int *sync = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || sync == MAP_FAILED)
		return 1;
	memset(buf, 'A', N * 4096);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		volatile char sum = 0;
		for (int i = 0; i < N; i++)
			sum += buf[i * 4096]; /* translations of the shared pages */
		for (int i = 0; i < 5000; i++)
			syscall(SYS_getppid);
		uint64_t seq = fa[FA_SEQ / 8] + 1;
		const uint64_t args[6] = {fd, (uint64_t)buf, N * 4096, 0};
		fast_post(fa, seq, SYS_pread64, args, (uint64_t)&&posted, (uint64_t)__builtin_frame_address(0));
	posted:
		/* Wait in user code; a burst (exits while no server watches:
		 * the request stays) wakes a server gone to sleep, which may
		 * then take the request while the burst goes on: the burst's
		 * next calls, posted, answer over its reply. Requests are
		 * numbered upwards, so any answer from ours on ends the wait. */
		for (int tries = 0; fa[FA_DONE / 8] < seq && tries < 200; tries++) {
			for (long i = 0; i < 1000000 && fa[FA_DONE / 8] < seq; i++)
				__asm__ volatile("pause");
			for (int i = 0; i < 200 && fa[FA_DONE / 8] < seq; i++)
				syscall(SYS_getppid);
		}
		int a = 0, b = 0;
		for (int i = 0; i < N; i++) {
			a += buf[i * 4096] == 'A';
			b += buf[i * 4096] == 'B';
		}
		sync[0] = 1;
		while (sync[1] == 0)
			__asm__ volatile("pause");
		int seen = 0;
		for (int i = 0; i < N; i++)
			seen += buf[i * 4096] == 'P';
		/* Not answered last: the result word is a getppid's of the
		 * bursts (which posted over the request or its reply), printed
		 * as 0; the pages tell whether the request was served. */
		int served = fa[FA_DONE / 8] == seq;
		printf("served %s, result %#lx, old pages %d, file pages %d, parent's writes seen %d\n",
		       served ? "yes" : "no", served ? (unsigned long)fa[FA_RESULT / 8] : 0ul, a, b, seen);
		fflush(stdout);
		_exit(0);
	}
	while (sync[0] == 0)
		usleep(1000); /* off the CPU: the server watches only with one to spare */
	memset(buf, 'P', N * 4096);
	sync[1] = 1;
	int st;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
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
	if (argc == 2 && strcmp(argv[1], "cow") == 0)
		return cow();
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
