//go:build ignore

/* sig_autodisarm: sigaltstack's SS_AUTODISARM (Linux 4.7): a handler
 * entered on the alternate stack finds it disarmed (SS_DISABLE) and may
 * set another, a signal nested in it runs on the stack it interrupted,
 * the frame's uc_stack holds the stack with the flag, and sigreturn puts
 * it back; without the flag the handler sees SS_ONSTACK and a change is
 * EPERM; a frame's uc_stack holds the flags as they were set, wherever
 * the interrupted code ran. Prints flags and yes/no facts, never
 * addresses. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include "common.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char alt[64 * 1024] __attribute__((aligned(16)));
static char other[64 * 1024] __attribute__((aligned(16)));

static int on(const void *p, const char *base)
{
	return (const char *)p >= base && (const char *)p < base + sizeof alt;
}

static const char *flagname(int f)
{
	static char b[64];
	b[0] = 0;
	if (f & SS_ONSTACK)
		strcat(b, "SS_ONSTACK|");
	if (f & SS_DISABLE)
		strcat(b, "SS_DISABLE|");
	if (f & (int)SS_AUTODISARM)
		strcat(b, "SS_AUTODISARM|");
	if (!b[0])
		return "0";
	b[strlen(b) - 1] = 0;
	return b;
}

static void query(const char *what)
{
	stack_t cur;
	if (sigaltstack(NULL, &cur) < 0) {
		printf("%s: sigaltstack -> %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: flags %s, size %s\n", what, flagname(cur.ss_flags),
	       cur.ss_size == sizeof alt ? "the alt stack's" : cur.ss_size == 0 ? "0" : "other");
}

static void nested(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	int here;
	(void)sig;
	(void)si;
	printf("  nested handler: on the alt stack's memory %s, uc_stack flags %s\n", on(&here, alt) ? "yes" : "no",
	       flagname(uc->uc_stack.ss_flags));
	query("  nested handler");
}

static void handler(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	int here;
	(void)sig;
	(void)si;
	printf(" handler: on the alt stack %s, uc_stack flags %s\n", on(&here, alt) ? "yes" : "no",
	       flagname(uc->uc_stack.ss_flags));
	query(" handler");
	raise(SIGUSR2);
	stack_t s = {.ss_sp = other, .ss_size = sizeof other};
	int r = sigaltstack(&s, NULL);
	printf(" handler: set another -> %s\n", r == 0 ? "0" : strerrorname_np(errno));
	query(" handler after the set");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigaction(SIGUSR1, &sa, NULL);
	struct sigaction sn = {.sa_sigaction = nested, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER};
	sigaction(SIGUSR2, &sn, NULL);

	/* The modes: SS_AUTODISARM, none, and SS_ONSTACK (taken as none). */
	static const int modes[] = {(int)SS_AUTODISARM, 0, SS_ONSTACK};
	for (int m = 0; m < 3; m++) {
		printf("%s:\n", flagname(modes[m]));
		stack_t s = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = modes[m]};
		int r = sigaltstack(&s, NULL);
		printf(" set -> %s\n", r == 0 ? "0" : strerrorname_np(errno));
		query(" before");
		raise(SIGUSR1);
		query(" after sigreturn");
	}
	/* SS_DISABLE with the modifier: kept in the flags. */
	stack_t d = {.ss_flags = SS_DISABLE | (int)SS_AUTODISARM};
	printf("disable with SS_AUTODISARM -> %s\n", sigaltstack(&d, NULL) == 0 ? "0" : strerrorname_np(errno));
	query("after");
	stack_t bad = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 4 | (int)SS_AUTODISARM};
	printf("unknown mode with SS_AUTODISARM -> %s\n", sigaltstack(&bad, NULL) == 0 ? "0" : strerrorname_np(errno));
	return 0;
}
