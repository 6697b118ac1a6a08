//go:build ignore
/* fast_jumps: kshim only (natively the stub page is kernel memory, and
 * every jump there is a SIGSEGV). Jumps, in a child each, to every byte
 * of the user stub page's code (ufast and the stubs before it), with RAX
 * a harmless syscall number (getpid), the request number last posted in
 * the fast area and the next one, RCX a label that exits, the other
 * argument registers 0 and R11 0x202 or 0x246 (one of the six in turn
 * per byte). Whatever each child does
 * (a fault, a syscall, a return to the label), kshim must go on: the
 * parent reaps them all and prints "done" (an error of the VMM's would end
 * the whole run). A child stuck in the wait is ended by its alarm. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fast_area.h"

static void jump(uint64_t target, uint64_t rax, uint64_t r11)
{
	register uint64_t t __asm__("rbx") = target;
	register uint64_t f __asm__("r12") = r11;
	__asm__ volatile("lea 1f(%%rip), %%rcx\n\t"
			 "mov %%r12, %%r11\n\t"
			 "xor %%edi, %%edi\n\t"
			 "xor %%esi, %%esi\n\t"
			 "xor %%edx, %%edx\n\t"
			 "xor %%r10d, %%r10d\n\t"
			 "xor %%r8d, %%r8d\n\t"
			 "xor %%r9d, %%r9d\n\t"
			 "jmp *%%rbx\n"
			 "1:\n\t"
			 "mov $231, %%eax\n\t" /* exit_group(0) */
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "ud2"
			 :
			 : "r"(t), "a"(rax), "r"(f)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	uint64_t base = strtoull(argv[1], NULL, 0), end = strtoull(argv[2], NULL, 0);
	volatile uint64_t *fa = (volatile uint64_t *)FAST_AREA;
	int n = 0, exited = 0, sigs[65] = {0};
	for (uint64_t at = base; at < end; at++) {
		{
			int v = (at - base) % 6; /* one of the six per byte */
			for (int i = 0; i < 200; i++)
				getppid(); /* the fast path awake, a request number posted */
			uint64_t seq = fa[FA_SEQ / 8];
			uint64_t rax = v % 3 == 0 ? 39 : v % 3 == 1 ? seq : seq + 1;
			pid_t c = fork();
			if (c == 0) {
				alarm(2);
				fa[FA_BUDGET / 8] = 1000;
				jump(at, rax, v < 3 ? 0x202 : 0x246);
				_exit(3);
			}
			int st;
			if (waitpid(c, &st, 0) != c) {
				printf("waitpid failed at %#lx\n", (unsigned long)at);
				return 1;
			}
			n++;
			if (WIFEXITED(st))
				exited++;
			else if (WIFSIGNALED(st))
				sigs[WTERMSIG(st) & 63]++;
		}
	}
	printf("done: %d jumps\n", n);
	fprintf(stderr, "exited %d", exited);
	for (int i = 1; i < 65; i++)
		if (sigs[i])
			fprintf(stderr, ", signal %d: %d", i, sigs[i]);
	fprintf(stderr, "\n");
	return 0;
}
