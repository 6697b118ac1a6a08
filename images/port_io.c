//go:build ignore

/* port_io: user-mode port I/O, including on the ports kshim's own stubs
 * use (0xE0 syscalls, 0xE1 exceptions), is a #GP on Linux without ioperm:
 * SIGSEGV with si_code SI_KERNEL, si_addr 0, and the saved RIP at the
 * instruction.  kshim must give the program the same, never end itself. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include "common.h"

static sigjmp_buf env;
static volatile uintptr_t expect_rip;
static volatile int rip_ok, code, signo;
static volatile void *addr;

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	signo = sig;
	code = si->si_code;
	addr = si->si_addr;
	rip_ok = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] == expect_rip;
	siglongjmp(env, 1);
}

/* Each probe is an asm block whose first instruction is the port access;
 * its address is taken from a local label. */
#define PROBE(name, insn, ...)                                                  \
	static void name(void)                                                  \
	{                                                                       \
		uintptr_t at;                                                   \
		__asm__ volatile("lea 1f(%%rip), %0" : "=r"(at));               \
		expect_rip = at;                                                \
		__asm__ volatile("1: " insn ::__VA_ARGS__ : "memory");          \
	}

PROBE(out_e0, "out %%al, $0xe0", "a"(60))
PROBE(out_e1, "out %%al, $0xe1", "a"(0))
PROBE(in_e0, "in $0xe0, %%al", "a"(0))
PROBE(in_e1, "in $0xe1, %%al", "a"(0))
PROBE(out_dx_e0, "out %%al, %%dx", "a"(60), "d"(0xe0))
PROBE(outw_dx_e0, "out %%ax, %%dx", "a"(60), "d"(0xe0))
PROBE(outl_e0, "out %%eax, $0xe0", "a"(60))
PROBE(in_dx_e1, "in %%dx, %%al", "a"(0), "d"(0xe1))
PROBE(out_80, "out %%al, $0x80", "a"(0))
PROBE(in_3f8, "in %%dx, %%al", "a"(0), "d"(0x3f8))
PROBE(outsb_e0, "rep outsb", "S"("xyz"), "c"(3), "d"(0xe0))

static void run(const char *what, void (*f)(void))
{
	signo = 0;
	if (sigsetjmp(env, 1) == 0) {
		f();
		printf("%s: no fault\n", what);
		return;
	}
	printf("%s: signal %s code %d addr %p rip %s\n", what, strsignal(signo),
	       code, (void *)addr, rip_ok ? "at the instruction" : "elsewhere");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);
	run("out 0xe0", out_e0);
	run("out 0xe1", out_e1);
	run("in 0xe0", in_e0);
	run("in 0xe1", in_e1);
	run("out dx=0xe0", out_dx_e0);
	run("outw dx=0xe0", outw_dx_e0);
	run("outl 0xe0", outl_e0);
	run("in dx=0xe1", in_dx_e1);
	run("out 0x80", out_80);
	run("in dx=0x3f8", in_3f8);
	run("rep outsb dx=0xe0", outsb_e0);
	/* Without a handler the program dies of it. */
	signal(SIGSEGV, SIG_DFL);
	printf("and now unhandled\n");
	fflush(stdout);
	out_e0();
	printf("unreachable\n");
	return 0;
}
