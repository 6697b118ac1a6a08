//go:build ignore

/* umip: sgdt, sidt, smsw, sldt and str from user mode.  With UMIP Linux
 * (6.x) answers each with a fixed dummy value, whatever the addressing
 * form; kshim must answer the same and never show the shim's own tables.  (images/umip_test.go runs it only
 * on hosts whose CPU has UMIP, where native Linux is the oracle.) */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "common.h"

struct __attribute__((packed)) desc {
	uint16_t limit;
	uint64_t base;
};

static struct desc g_global;
static sigjmp_buf env;
static volatile int got_sig, got_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	siglongjmp(env, 1);
}

static void pd(const char *what, struct desc *d)
{
	printf("%s: limit %#x base %#lx\n", what, d->limit, (unsigned long)d->base);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);

	struct desc d[4];
	memset(d, 0x5a, sizeof d);
	__asm__ volatile("sgdt %0" : "=m"(g_global)); /* RIP-relative */
	pd("sgdt rip-relative", &g_global);
	__asm__ volatile("sidt (%0)" ::"r"(&d[0]) : "memory");
	pd("sidt (reg)", &d[0]);
	__asm__ volatile("sgdt 10(%0)" ::"r"(&d[0]) : "memory"); /* disp8 */
	pd("sgdt disp8", &d[1]);
	long idx = 2;
	__asm__ volatile("sidt (%0,%1,8)" ::"r"((char *)&d[0] + 4), "r"(idx) : "memory"); /* SIB */
	pd("sidt sib", (struct desc *)((char *)&d[0] + 20));
	__asm__ volatile("sgdt %%fs:0(%0)" ::"r"((char *)&d[3] - (char *)__builtin_thread_pointer()) : "memory");
	pd("sgdt fs-relative", &d[3]);

	uint64_t r64 = ~0ul;
	uint32_t r32 = ~0u;
	uint16_t m16 = 0;
	uint64_t r16 = ~0ul;
	__asm__ volatile("smsw %0" : "+r"(r64));
	__asm__ volatile("smsw %0" : "+r"(r32));
	__asm__ volatile("smsw %w0" : "+r"(r16));
	__asm__ volatile("smsw %0" : "=m"(m16));
	printf("smsw: r64 %#lx r32 %#x r16 %#lx m16 %#x\n", (unsigned long)r64, r32, (unsigned long)r16, m16);

	if (sigsetjmp(env, 1) == 0) {
		__asm__ volatile("sgdt (%0)" ::"r"(8ul) : "memory");
		printf("sgdt to an unmapped address: no fault\n");
	} else
		printf("sgdt to an unmapped address: signal %d code %d\n", got_sig, got_code);
	uint16_t l16 = 0x5a5a, t16 = 0x5a5a;
	uint64_t l64 = ~0ul, t64 = ~0ul, t32 = ~0ul;
	__asm__ volatile("sldt %0" : "=m"(l16));
	__asm__ volatile("str %0" : "=m"(t16));
	__asm__ volatile("sldt %0" : "+r"(l64));
	__asm__ volatile("str %k0" : "+r"(t32));
	__asm__ volatile("str %q0" : "+r"(t64));
	printf("sldt m16 %#x r %#lx; str m16 %#x r32 %#lx r64 %#lx\n", l16, (unsigned long)l64, t16,
	       (unsigned long)t32, (unsigned long)t64);
	return 0;
}
