//go:build ignore
/* fast_vfork [N]: a vfork child, alone to run on its parent's memory while
 * the parent waits, makes N cheap calls (getppid, rt_sigaction: kshim's
 * fast syscall path may answer them without an exit, as it does for
 * posix_spawn's children) and changes pages the parent has used (its
 * translations cached): it replaces one by MAP_FIXED, makes another
 * read-only and unmaps a third. The parent then reads the new page,
 * faults on the read-only one and on the unmapped one, and prints what it
 * saw and what the child counted. N defaults to 2000. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static sigjmp_buf jb;

static void on_segv(int s)
{
	(void)s;
	siglongjmp(jb, 1);
}

/* Whether a store to p faults. */
static int store_faults(volatile char *p)
{
	if (sigsetjmp(jb, 1) == 0) {
		*p = 'x';
		return 0;
	}
	return 1;
}

/* Whether a load from p faults. */
static int load_faults(volatile char *p)
{
	if (sigsetjmp(jb, 1) == 0) {
		(void)*p;
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	setvbuf(stdout, NULL, _IONBF, 0);
	char *pg = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		return 1;
	strcpy(pg, "old");
	strcpy(pg + 4096, "rw");
	strcpy(pg + 8192, "there");
	pid_t me = getpid();
	volatile long ppid_ok = 0, act_ok = 0;
	volatile int step = 0;
	pid_t c = vfork();
	if (c == 0) {
		for (long i = 0; i < n; i++) {
			ppid_ok += syscall(SYS_getppid) == me;
			struct sigaction sa;
			act_ok += sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
		}
		char *m = mmap(pg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (m != pg)
			_exit(1);
		strcpy(m, "new");
		step = 1;
		if (mprotect(pg + 4096, 4096, PROT_READ) != 0)
			_exit(2);
		step = 2;
		if (munmap(pg + 8192, 4096) != 0)
			_exit(3);
		step = 3;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	wait_status("vfork child", st);
	printf("child: %ld of %ld getppid, %ld of %ld sigaction, step %d\n", ppid_ok, n, act_ok, n, step);
	signal(SIGSEGV, on_segv);
	printf("replaced page: %s\n", pg);
	printf("read-only page: %s, store faults: %d\n", pg + 4096, store_faults(pg + 4096));
	printf("unmapped page: load faults: %d\n", load_faults(pg + 8192));
	return 0;
}
