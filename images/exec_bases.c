//go:build ignore

/* exec_bases: execve starts the new program with GS.base 0 (Linux's
 * start_thread; FS.base too, which static glibc sets again before main,
 * so only GS's can be seen here). The program sets its GS.base to a page
 * it will map again after the exec, with a mark in it, and execs itself,
 * directly and from a fork child; each new image maps that page and
 * reads %gs:0, which faults with GS.base 0 and reads the mark with the
 * old base (the register itself: arch_prctl(ARCH_GET_GS) might tell
 * what a VMM remembers instead). */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARKED 0x12340000UL

static sigjmp_buf jb;

static void on_segv(int s)
{
	(void)s;
	siglongjmp(jb, 1);
}

/* What %gs:0 holds, or -1 when the load faults. */
static long gs0(void)
{
	if (sigsetjmp(jb, 1) != 0)
		return -1;
	long v;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(v));
	return v;
}

static void set_gs(void)
{
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, MARKED) != 0)
		printf("arch_prctl(ARCH_SET_GS) failed\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGSEGV, on_segv);
	long *m = mmap((void *)MARKED, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != (void *)MARKED) {
		printf("no page at %#lx\n", MARKED);
		return 1;
	}
	*m = 0x77;
	if (argc > 1) {
		long v = gs0();
		printf("%s: %%gs:0 at start %s\n", argv[1], v == -1 ? "faults (GS.base 0)" : v == 0x77 ? "reads the mark (old GS.base)" : "reads something else");
		if (strcmp(argv[1], "direct") != 0)
			return 0;
		set_gs();
		pid_t c = fork();
		if (c == 0) {
			printf("fork child: %%gs:0 %#lx\n", gs0());
			execl("/proc/self/exe", "exec_bases", "forked", (char *)NULL);
			_exit(1);
		}
		int st;
		waitpid(c, &st, 0);
		printf("fork child status %#x\n", st);
		return 0;
	}
	set_gs();
	printf("before exec: %%gs:0 %#lx\n", gs0());
	execl("/proc/self/exe", "exec_bases", "direct", (char *)NULL);
	return 1;
}
