//go:build ignore

/* sig_shimrip: user code never runs above the user half, nor at CPL 0.
 *  - rt_sigreturn to an address in the top 2 GiB (where kshim keeps its
 *    stubs: 0xffffffff80000000 up), in the direct map, at the top page, or
 *    non-canonical: natively the return faults (kernel half: SIGSEGV
 *    SEGV_MAPERR at that address; non-canonical: SIGSEGV SI_KERNEL), with
 *    forged RCX/R11 that would make kshim's flush stubs jump on;
 *  - a handler whose address is in the kernel half faults the same way;
 *  - a #UD (ud2: SIGILL) taken on the alternate stack while a second thread
 *    shares the address space and the frame lands on a copy-on-write page:
 *    the handler and the code after it run with a user CS (RPL 3). Under
 *    kshim this makes the VMM apply page-table writes (a drain) in the
 *    middle of the #UD; that used to overwrite the #UD's frame with the
 *    drain's kernel CS;
 *  - a plain jump there (kshim's user stub page: its syscall stub, its
 *    flush stubs, which jump to RCX or to the VMM's last target): natively
 *    SIGSEGV SEGV_MAPERR at the address, nothing run;
 *  - the same with RCX pointing there too (kshim's uflush would spin
 *    through ud2 and jmp rcx for ever, never leaving the shim): a process
 *    that catches the SIGSEGV and waits still dies of the SIGTERM or
 *    SIGKILL it is sent.
 * Prints facts, never addresses. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static char altstack[64 << 10] __attribute__((aligned(4096)));
static char landing_stack[16 << 10] __attribute__((aligned(16)));
static volatile int got_sig, got_code, got_cs_rpl, handler_cs_rpl, landed;
static volatile uint64_t got_addr, got_trapno;

static int cs_rpl(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = (uint64_t)si->si_addr;
	got_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	got_cs_rpl = uc->uc_mcontext.gregs[REG_CSGSFS] & 3;
	handler_cs_rpl = cs_rpl();
	siglongjmp(env, 1);
}

static void landing(void)
{
	landed = 1;
	siglongjmp(env, 2);
}

static ucontext_t frame __attribute__((aligned(64)));

/* rt_sigreturn to rip, with RCX pointing at landing (kshim's uflush stub
 * ends in jmp rcx) and R11 holding IOPL 3, NT and RF (what its syscall
 * stub would take as RFLAGS). */
static void sigreturn_to(const char *what, uint64_t rip)
{
	memset(&frame, 0, sizeof frame);
	frame.uc_stack.ss_sp = altstack;
	frame.uc_stack.ss_size = sizeof altstack;
	frame.uc_mcontext.gregs[REG_RIP] = rip;
	frame.uc_mcontext.gregs[REG_RSP] = (greg_t)(landing_stack + sizeof landing_stack - 8 - 64);
	frame.uc_mcontext.gregs[REG_RCX] = (greg_t)landing;
	frame.uc_mcontext.gregs[REG_R11] = 0x17202;
	frame.uc_mcontext.gregs[REG_RAX] = 39; /* getpid, should the stub's out be reached */
	frame.uc_mcontext.gregs[REG_EFL] = 0x202;
	frame.uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bl << 48);
	sigemptyset(&frame.uc_sigmask);
	got_sig = got_code = landed = 0;
	got_addr = got_trapno = 0;
	int r = sigsetjmp(env, 1);
	if (r == 0)
		__asm__ volatile("mov %0, %%rsp; mov $15, %%eax; syscall; ud2" ::"r"(&frame) : "memory");
	printf("sigreturn to %s: landed=%d sig=%d code=%d addr_is_rip=%d addr_zero=%d trapno=%d cs_rpl=%d handler_cs_rpl=%d\n",
	       what, landed, got_sig, got_code, got_addr == rip, got_addr == 0, (int)got_trapno, got_cs_rpl, handler_cs_rpl);
}

/* A plain jump to rip, with RCX = landing and RAX = getpid (kshim's
 * syscall stub would run the call and return to RCX). */
static void jump_to(const char *what, uint64_t rip)
{
	got_sig = got_code = landed = 0;
	got_addr = got_trapno = 0;
	if (sigsetjmp(env, 1) == 0)
		__asm__ volatile("mov %1, %%rcx; mov $39, %%eax; jmp *%0" ::"r"(rip), "r"((uint64_t)landing)
				 : "rax", "rcx", "memory");
	printf("jump to %s: landed=%d sig=%d code=%d addr_is_rip=%d trapno=%d handler_cs_rpl=%d\n", what, landed,
	       got_sig, got_code, got_addr == rip, (int)got_trapno, handler_cs_rpl);
}

static void handler_at(const char *what, uint64_t addr)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = (void (*)(int))addr;
	sigaction(SIGUSR1, &sa, NULL);
	got_sig = got_code = 0;
	got_addr = got_trapno = 0;
	if (sigsetjmp(env, 1) == 0)
		raise(SIGUSR1);
	printf("handler at %s: sig=%d code=%d addr_is_handler=%d trapno=%d handler_cs_rpl=%d\n", what, got_sig, got_code,
	       got_addr == addr, (int)got_trapno, handler_cs_rpl);
}

static void wait_forever(int sig)
{
	(void)sig;
	for (;;)
		pause();
}

/* A child jumps to addr with RCX = addr and catches the SIGSEGV; the
 * parent sends sig after a while. */
static void spin_in(const char *what, uint64_t addr, int sig)
{
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, wait_forever);
		__asm__ volatile("mov %0, %%rcx; jmp *%%rcx" ::"r"(addr) : "rcx", "memory");
		_exit(1);
	}
	usleep(100000);
	kill(pid, sig);
	int st = 0;
	waitpid(pid, &st, 0);
	printf("jump to %s, then signal %d: signaled=%d termsig=%d\n", what, sig, WIFSIGNALED(st),
	       WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

static int pipefd[2];

static void *idle(void *arg)
{
	char c;
	(void)arg;
	while (read(pipefd[0], &c, 1) < 0)
		;
	return NULL;
}

int main(void)
{
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	if (sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGILL, &sa, NULL)) {
		perror("setup");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	/* #UD with a second thread; each round makes the alternate stack
	 * copy-on-write again (fork), so writing the SIGILL frame changes a
	 * present page-table entry while the thread shares the tables. */
	if (pipe(pipefd)) {
		perror("pipe");
		return 1;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, idle, NULL)) {
		perror("pthread_create");
		return 1;
	}
	enum { rounds = 40 };
	int sigill = 0, ok_handler = 0, ok_frame = 0, ok_after = 0;
	for (int i = 0; i < rounds; i++) {
		altstack[sizeof altstack - 4096 * (1 + i % 8)] = (char)i; /* present, then COW after the fork */
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
		got_sig = 0;
		if (sigsetjmp(env, 1) == 0)
			__asm__ volatile("ud2");
		sigill += got_sig == SIGILL && got_code == ILL_ILLOPN;
		ok_handler += handler_cs_rpl == 3;
		ok_frame += got_cs_rpl == 3;
		/* Code after the handler: a fault on a fresh page and a syscall. */
		char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[100] = 1;
		ok_after += cs_rpl() == 3 && p[100] == 1 && getpid() > 0;
		munmap(p, 4096);
	}
	write(pipefd[1], "x", 1);
	pthread_join(th, NULL);
	printf("ud2 with a second thread: rounds=%d sigill=%d handler_cs_rpl3=%d frame_cs_rpl3=%d after_cs_rpl3=%d\n",
	       rounds, sigill, ok_handler, ok_frame, ok_after);

	sigreturn_to("top 2 GiB", 0xffffffff80000000ul);
	sigreturn_to("top 2 GiB + 0x1000", 0xffffffff80001000ul);
	sigreturn_to("top 2 GiB + 0x1010", 0xffffffff80001010ul);
	sigreturn_to("top 2 GiB + 0x1030", 0xffffffff80001030ul);
	sigreturn_to("top 2 GiB + 0x1032", 0xffffffff80001032ul);
	sigreturn_to("top 2 GiB + 0x1040", 0xffffffff80001040ul);
	sigreturn_to("top 2 GiB + 0x7000", 0xffffffff80007000ul);
	sigreturn_to("the direct map", 0xffff888000000000ul);
	sigreturn_to("the top page", 0xfffffffffffff000ul);
	sigreturn_to("non-canonical 1<<47", 0x0000800000000000ul);
	sigreturn_to("non-canonical 1<<63", 0x8000000000000000ul);
	sigreturn_to("landing", (uint64_t)landing);

	handler_at("top 2 GiB + 0x1010", 0xffffffff80001010ul);
	handler_at("top 2 GiB + 0x1040", 0xffffffff80001040ul);

	jump_to("top 2 GiB + 0x1000", 0xffffffff80001000ul);
	jump_to("top 2 GiB + 0x1010", 0xffffffff80001010ul);
	jump_to("top 2 GiB + 0x1020", 0xffffffff80001020ul);
	jump_to("top 2 GiB + 0x1030", 0xffffffff80001030ul);
	jump_to("top 2 GiB + 0x1040", 0xffffffff80001040ul);
	jump_to("top 2 GiB + 0x1042", 0xffffffff80001042ul);
	spin_in("top 2 GiB + 0x1010", 0xffffffff80001010ul, SIGKILL);
	spin_in("top 2 GiB + 0x1010", 0xffffffff80001010ul, SIGTERM);
	spin_in("top 2 GiB", 0xffffffff80001000ul, SIGTERM);
	spin_in("top 2 GiB + 0x1030", 0xffffffff80001030ul, SIGTERM);
	spin_in("top 2 GiB + 0x1040", 0xffffffff80001040ul, SIGTERM);

	return 0;
}
