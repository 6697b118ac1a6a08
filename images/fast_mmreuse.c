//go:build ignore
/* fast_mmreuse: kshim only (natively these addresses are kernel memory).
 * A process posts a memory call that frees 1 MiB of its pages (munmap,
 * madvise MADV_DONTNEED, a brk shrink, mmap MAP_FIXED over them: argv[1])
 * to its vCPU's fast area by hand and never waits in the stub, so it never
 * exits to apply the call's page-table changes; then, running user code
 * only, it lets a second process take fresh memory and fill it with 'B',
 * and reads the pages it freed. The frames its stale translations still
 * map must not have been handed to the other process meanwhile: the call
 * has its effect before the reply (SIGSEGV reading unmapped pages, zeros
 * after MADV_DONTNEED or MAP_FIXED), never 'B'. With "mprotect" (to
 * PROT_READ), its first write after the reply must fault. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fast_area.h"

#define N 256

static volatile int seen;
static volatile int *shared;

static void report(void)
{
	char m[64];
	int n = snprintf(m, sizeof m, "other process's pages seen %d\n", seen);
	write(1, m, n);
}

static void on_segv(int sig)
{
	(void)sig;
	shared[2] = 1;
	static const char m[] = "SIGSEGV\n";
	write(1, m, sizeof m - 1);
	report();
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *how = argv[1];
	volatile uint64_t *fa = (volatile uint64_t *)FAST_AREA;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		while (shared[0] == 0)
			usleep(100);
		/* Fresh memory, several times what the other freed: its
		 * frames and its page tables come from the free frames. */
		size_t len = 16 * N * 4096;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		memset(m, 'B', len);
		shared[1] = 1;
		while (shared[2] == 0)
			usleep(100);
		_exit(0);
	}
	uint64_t nr, a1 = N * 4096, a2 = 0, a3 = 0, a4 = (uint64_t)-1;
	int isbrk = strcmp(how, "brk") == 0;
	if (isbrk)
		nr = SYS_brk;
	else if (strcmp(how, "munmap") == 0)
		nr = SYS_munmap;
	else if (strcmp(how, "dontneed") == 0)
		nr = SYS_madvise, a2 = MADV_DONTNEED;
	else if (strcmp(how, "mprotect") == 0)
		nr = SYS_mprotect, a2 = PROT_READ;
	else if (strcmp(how, "fixed") == 0)
		nr = SYS_mmap, a2 = PROT_READ | PROT_WRITE, a3 = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	else
		return 2;
	char *buf = NULL;
	if (isbrk) {
		char *b = sbrk(0);
		buf = (char *)(((uintptr_t)b + 4095) & ~4095UL);
	}
	signal(SIGSEGV, on_segv);
	/* Until the reply comes while the program spins for it: one that
	 * came during the burst of calls after (exits, which wake a server
	 * gone to sleep; a call of the burst the stub posted takes the area
	 * over) is not the case tested, so the pages are made again. */
	uint64_t seq = 0;
	for (int tries = 0; tries < 200; tries++) {
		if (isbrk) {
			if (brk(buf + N * 4096) != 0)
				return 1;
		} else {
			if (buf != NULL)
				munmap(buf, N * 4096);
			buf = mmap(NULL, N * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (buf == MAP_FAILED)
				return 1;
		}
		memset(buf, 'A', N * 4096);
		for (int i = 0; i < 2000; i++)
			syscall(SYS_getppid); /* the server awake */
		shared[3] = 1; /* mapped here: no fault (an exit) after the post */
		seq = fa[FA_SEQ / 8] + 1;
		const uint64_t args[6] = {(uint64_t)buf, a1, a2, a3, a4, 0};
		fast_post(fa, seq, nr, args, (uint64_t)&&posted, (uint64_t)__builtin_frame_address(0));
	posted:
		for (long i = 0; i < 1000000 && fa[FA_DONE / 8] != seq; i++)
			__asm__ volatile("pause");
		if (fa[FA_DONE / 8] == seq)
			break;
		/* Taken back (the server takes no number it served), so it
		 * cannot act on the next try's pages; unless it was being
		 * served, without an exit since: then it counts. */
		fa[FA_SEQ / 8] = seq - 1;
		for (long i = 0; i < 1000000 && fa[FA_DONE / 8] != seq; i++)
			__asm__ volatile("pause");
		if (fa[FA_DONE / 8] == seq)
			break;
	}
	if (fa[FA_DONE / 8] != seq) {
		printf("not served\n");
		shared[2] = 1;
		return 1;
	}
	/* From here no syscall until the pages are read. */
	shared[0] = 1;
	while (shared[1] == 0)
		__asm__ volatile("pause");
	for (int i = 0; i < N * 4096; i += 64) {
		seen += ((volatile char *)buf)[i] == 'B';
		if (nr == SYS_mprotect)
			((volatile char *)buf)[i] = 'C'; /* read-only now */
	}
	shared[2] = 1;
	report();
	int st;
	waitpid(c, &st, 0);
	return 0;
}
