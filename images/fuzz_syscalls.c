//go:build ignore

/* fuzz_syscalls: random syscalls, for kshim's fuzz test (images/fuzz_test.go,
 * `make fuzz-long`). NOT a differential program, and NEVER to be run
 * natively: it calls anything with anything (as root it could unlink
 * /dev/null or worse), so it refuses to start unless it can read the
 * kshim shim's user stub page (boot.UserText, 0xffffffff80001000), which
 * on Linux is kernel memory.
 *
 *   fuzz_syscalls SEED CALLS SECONDS [CANARY [EXCLUDE]]
 *
 * Three tasks fuzz at once: the main thread, a second thread, and a forked
 * child, each with its own random stream derived from SEED, so a run's
 * call sequences are fixed by the seed (their interleaving is not). Each
 * task makes CALLS calls or stops after SECONDS; a watchdog thread ends
 * the process with status 3 if the tasks are still running 5 s later
 * (a call that should not have blocked did). CANARY is a host path
 * outside the guest's root that the fuzzer aims paths at. EXCLUDE lists
 * operations to leave out (see excluded()). Each task keeps its last
 * operations in a ring, written to stderr when the self-check (status 4)
 * or the watchdog (status 3) ends the run; with FUZZ_TRACE=1 in the
 * environment every operation is logged to stderr before it runs.
 *
 * A call is a random number (mostly 0..463, sometimes huge or with the
 * x32 bit) with arguments drawn per type from interesting values: 0, -1,
 * small numbers, open fds, pointers into its own scratch memory (also
 * unaligned, and ending just before a PROT_NONE or unmapped page), into
 * read-only memory, into a playground mapping the fuzzer lets itself
 * unmap and remap, wild and non-canonical pointers, the shim's pages at
 * 0xffffffff80000000.., the kernel half, huge and negative lengths, and
 * path strings (the canary, /proc, "..", long names, unterminated).
 * Besides syscalls it also executes rt_sigreturn with random frames
 * (random RIP including the shim's stub page, random CS/SS/EFLAGS/fpstate)
 * and privileged or odd instructions (hlt, in/out, int N, the shim's
 * port 0xE0 outside the stub, vmcall, ...). And it builds what random
 * numbers rarely make: sockets of each family bound and connected to
 * each other, sendmsg/recvmsg with control messages (SCM_RIGHTS,
 * SCM_CREDENTIALS, malformed ones), POSIX and interval timers, job
 * control against the forked child, and execve of hostile ELF images and
 * #! scripts in a grandchild (see fuzz_net and what follows).
 *
 * What it must not do is end itself trivially, so calls are neutered
 * where they would (each rule below says why): exit/exit_group, pause and
 * sigsuspend are not made; signals sent are harmless ones; the handlers
 * of the fault signals are kept (a fault inside a fuzzed call, or a
 * wild rt_sigreturn, siglongjmps back on an alternate stack); memory
 * calls never touch the fuzzer's own mappings (only the playground or
 * ranges holding nothing of its own); every fd it gets is made
 * O_NONBLOCK and blocking calls get short timeouts or WNOHANG; clone,
 * fork and vfork children exit at once; execve only of a missing path.
 *
 * Exit status: 0 when done, 3 from the watchdog, 4 if its own memory
 * changed under it (see check_guards), 5 if it read a masked path's
 * secret (see leak_check), 100 if setup failed, 101 if run natively. A
 * task may also die of a signal the fuzzing caused (a fault that cannot
 * be caught), which is fine: the test only
 * judges kshim. Nothing is printed after setup: fds 0-2 become pipes so
 * fuzzed writes go nowhere. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PG 4096ul
#define SCRATCH_LEN (256ul << 10)
#define PLAY_LEN (8ul << 20)
#define SHIM_BASE 0xffffffff80000000ul
#define SHIM_USER_TEXT 0xffffffff80001000ul
#define NR_MAX 464
#define SA_RESTORER 0x04000000
#define RING 48 /* lines of each task's trace ring */
#define RING_LINE 200

typedef unsigned long u64;

/* --- random numbers ------------------------------------------------------ */

struct rng {
	u64 s;
};

static u64 rnd(struct rng *r)
{
	/* splitmix64 */
	u64 z = (r->s += 0x9e3779b97f4a7c15ul);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
	return z ^ (z >> 31);
}

static u64 below(struct rng *r, u64 n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, int pct)
{
	return (int)below(r, 100) < pct;
}

/* --- raw calls ----------------------------------------------------------- */

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define raw1(n, a) raw6(n, (long)(a), 0, 0, 0, 0, 0)
#define raw2(n, a, b) raw6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define raw3(n, a, b, c) raw6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw4(n, a, b, c, d) raw6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* A clone-like call whose child exits at once without touching memory
 * (its stack pointer may be anything): only registers are used after the
 * syscall in the child. */
static long raw_clone_exit(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The signal return trampoline handlers installed by the fuzzer use
 * (SA_RESTORER is mandatory on x86-64). */
extern void fz_restore_rt(void);
__asm__(".text\n"
	"fz_restore_rt:\n\t"
	"mov $15, %eax\n\t"
	"syscall\n\t"
	"ud2\n");

/* --- the fuzzer's own memory ---------------------------------------------- */

/* Ranges the fuzzer depends on (its image, stacks, heap, scratch areas):
 * no fuzzed memory call may touch them. Filled from /proc/self/maps once
 * every long-lived mapping exists. */
static struct {
	u64 lo, hi;
} prot[256];
static int nprot;

static char *play;     /* PLAY_LEN bytes the fuzzer may unmap, remap, protect */
static char *rodata;   /* one read-only page of random bytes */
static char *edge;     /* one page followed by an unmapped hole */
static char *jit;      /* executable page for the instruction snippets */
static u64 text_lo, text_hi, vdso_lo;

struct task {
	const char *name;
	struct rng r;
	pid_t tid;
	u64 fsbase;
	char *scratch;  /* SCRATCH_LEN bytes, then a PROT_NONE page */
	char *altstack; /* for the fault handlers */
	char *landing;  /* a small stack for rt_sigreturn frames that land */
	sigjmp_buf env;
	volatile int armed;
	long calls, faults, skipped;
	int fds[64];
	int nfds;
	unsigned long ring_n; /* lines written to ring (see trace) */
	char (*ring)[RING_LINE]; /* RING lines, mapped apart from .bss: what hits the task hits them less */
};

static struct task tasks[4];
static atomic_int ntasks;
static atomic_int start_flag, stop_flag;
static atomic_int thread_done;
static struct timespec t0;
static long budget_s;
static const char *canary = "/nonexistent-canary";
static int child_pid;

/* Operations left out (argv[5], comma-separated): "nr:N" a syscall
 * number, "insn:NAME" an instruction snippet, "sigreturn:shim" frames
 * whose RIP is in the shim's pages, "sigreturn" all frames, "path:magic"
 * paths through /proc/self/{exe,fd,cwd,root} and /dev/std*, "path:dev"
 * the host devices (/dev/null, ...: also kept out of its fds), "task:main",
 * "task:thread", "task:child" a task's whole fuzzing (to narrow a failure
 * down), "net", "timer", "jobctl", "exec" the structured operations. Lets
 * a test
 * run the rest while a kshim bug one of them hits is open. */
static char exclude[1024] = ",";

static int excluded(const char *what)
{
	char key[64];
	snprintf(key, sizeof key, ",%s,", what);
	return strstr(exclude, key) != NULL;
}

static int excluded_nr(u64 nr)
{
	char key[32];
	snprintf(key, sizeof key, "nr:%lu", nr);
	return excluded(key);
}

/* Every operation is described before it runs, into a ring of the last
 * RING lines per task kept in the fuzzer's memory; when the run fails its
 * own checks (status 4) or its watchdog fires (status 3) the rings are
 * written to fd TRACE_FD (kshim's stderr), to find what a run died of.
 * With FUZZ_TRACE set each line also goes there at once. */
#define TRACE_FD 1000
static int tracing;

static void trace(struct task *t, const char *fmt, ...)
{
	static char spare[RING_LINE];
	char *b = t->ring ? t->ring[t->ring_n++ % RING] : spare;
	int n = snprintf(b, RING_LINE, "%s %ld: ", t->name, t->calls + t->faults + t->skipped);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(b + n, RING_LINE - n, fmt, ap);
	va_end(ap);
	if (n > RING_LINE - 2)
		n = RING_LINE - 2;
	b[n++] = '\n';
	b[n] = 0;
	if (tracing)
		raw3(SYS_write, TRACE_FD, b, n);
}

static void say(const char *s)
{
	raw3(SYS_write, TRACE_FD, s, strlen(s));
}

/* Writes the guest's /proc/self/maps (kshim's view of its mappings). */
static void dump_maps(void)
{
	char b[4096];
	long fd = raw3(SYS_open, "/proc/self/maps", O_RDONLY, 0), n;
	if (fd < 0)
		return;
	say("fuzz_syscalls: /proc/self/maps:\n");
	while ((n = raw3(SYS_read, fd, b, sizeof b)) > 0)
		raw3(SYS_write, TRACE_FD, b, n);
	raw1(SYS_close, fd);
}

/* Writes t's ring, oldest line first. */
static void dump_ring(struct task *t)
{
	char head[96];
	snprintf(head, sizeof head, "fuzz_syscalls: last operations of %s (pid %ld):\n", t->name,
		 raw1(SYS_getpid, 0));
	say(head);
	unsigned long i = t->ring_n > RING ? t->ring_n - RING : 0;
	if (!t->ring)
		return;
	if (t->ring_n == 0 || t->ring_n > (1ul << 40)) /* the count itself was hit: every line kept */
		i = 0, t->ring_n = RING;
	for (; i < t->ring_n; i++)
		if (t->ring[i % RING][0])
			say(t->ring[i % RING]);
}

static long elapsed_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - t0.tv_sec) * 1000 + (ts.tv_nsec - t0.tv_nsec) / 1000000;
}

static int overlaps_prot(u64 lo, u64 len)
{
	u64 hi = lo + len;
	if (len == 0)
		return 0;
	if (hi < lo) /* wraps: Linux rejects the range without touching it */
		return 0;
	/* Page-rounding can widen the range by one page on each side. */
	lo &= ~(PG - 1);
	hi = (hi + PG - 1) & ~(PG - 1);
	if (hi == 0)
		return 0;
	for (int i = 0; i < nprot; i++)
		if (lo < prot[i].hi && prot[i].lo < hi)
			return 1;
	return 0;
}

static void add_prot(u64 lo, u64 hi)
{
	if (nprot < (int)(sizeof prot / sizeof prot[0]))
		prot[nprot].lo = lo, prot[nprot].hi = hi, nprot++;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_syscalls: setup: %s: %s\n", what, strerror(errno));
	exit(100);
}

/* Protects every mapping that exists now except the playground, plus room
 * for the main stack to grow. */
static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	if (!f)
		die("/proc/self/maps");
	while (fgets(line, sizeof line, f)) {
		u64 lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (lo >= (u64)play && hi <= (u64)play + PLAY_LEN)
			continue;
		if (strstr(line, "[stack]"))
			lo = lo > (64ul << 20) ? lo - (64ul << 20) : 0;
		if (strstr(line, "[vdso]"))
			vdso_lo = lo;
		add_prot(lo, hi);
	}
	fclose(f);
}

/* --- task lookup, fault recovery ------------------------------------------ */

static struct task *self_task(void)
{
	pid_t tid = (pid_t)raw1(SYS_gettid, 0);
	int n = atomic_load(&ntasks);
	for (int i = 0; i < n; i++)
		if (tasks[i].tid == tid)
			return &tasks[i];
	return NULL;
}

/* Fault signals (SIGSEGV, SIGBUS, ...) raised inside a fuzzed call or a
 * wild rt_sigreturn come here, on the task's alternate stack: restore the
 * thread pointer (an instruction snippet may have changed it; siglongjmp
 * needs it) and go back to the fuzz loop. Elsewhere the fault is real:
 * take the default action. Uses no thread-local storage. */
void fz_on_fault(int sig, siginfo_t *si, void *uc)
{
	struct task *t = self_task();
	(void)si;
	(void)uc;
	if (t && t->armed) {
		raw2(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, t->fsbase);
		t->armed = 0;
		siglongjmp(t->env, sig);
	}
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigaction(sig, &sa, NULL);
}

/* The handler's entry: an rt_sigreturn frame may have set AC (alignment
 * checks: any misaligned access would fault again, recursively) or DF,
 * and signal delivery keeps AC, as on Linux; clear both first. */
void fz_fault_entry(int sig, siginfo_t *si, void *uc);
__asm__(".text\n"
	"fz_fault_entry:\n\t"
	"pushfq\n\t"
	"andq $~0x40400, (%rsp)\n\t"
	"popfq\n\t"
	"jmp fz_on_fault\n");

static void on_ignore(int sig)
{
	(void)sig;
}

/* Signals whose disposition the fuzzer keeps: fault signals recover,
 * the rest (which would end the process by default and can be raised by
 * what it fuzzes: SIGPIPE by a write to a closed pipe, timers, ...) do
 * nothing. rt_sigaction never changes them, rt_sigprocmask never blocks
 * them. */
static const int fault_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
static const int quiet_sigs[] = {SIGPIPE, SIGXFSZ, SIGXCPU, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGUSR1, SIGUSR2};

static int is_kept_sig(u64 s)
{
	for (unsigned i = 0; i < sizeof fault_sigs / sizeof fault_sigs[0]; i++)
		if ((int)s == fault_sigs[i])
			return 1;
	for (unsigned i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++)
		if ((int)s == quiet_sigs[i])
			return 1;
	return 0;
}

static u64 kept_mask(void)
{
	u64 m = 0;
	for (unsigned i = 0; i < sizeof fault_sigs / sizeof fault_sigs[0]; i++)
		m |= 1ul << (fault_sigs[i] - 1);
	for (unsigned i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++)
		m |= 1ul << (quiet_sigs[i] - 1);
	return m;
}

static void install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fz_fault_entry;
	/* SA_NODEFER: a siglongjmp out of the handler then leaves nothing
	 * blocked, so no sigsetjmp needs to save the mask (a syscall). */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	for (unsigned i = 0; i < sizeof fault_sigs / sizeof fault_sigs[0]; i++)
		if (sigaction(fault_sigs[i], &sa, NULL))
			die("sigaction");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_ignore;
	sa.sa_flags = SA_RESTART;
	for (unsigned i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++)
		if (sigaction(quiet_sigs[i], &sa, NULL))
			die("sigaction");
}

static char *map(size_t len, int prot_)
{
	char *p = mmap(NULL, len, prot_, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void init_task(struct task *t, const char *name, u64 seed, int role)
{
	t->name = name;
	t->r.s = seed * 0x100000001b3ul + (u64)role * 0x51ed270b27ul + 1;
	rnd(&t->r);
	t->scratch = map(SCRATCH_LEN + PG, PROT_READ | PROT_WRITE);
	if (mprotect(t->scratch + SCRATCH_LEN, PG, PROT_NONE))
		die("mprotect");
	t->altstack = map(64 << 10, PROT_READ | PROT_WRITE);
	t->landing = map(16 << 10, PROT_READ | PROT_WRITE);
	t->ring = (char (*)[RING_LINE])map(RING * RING_LINE, PROT_READ | PROT_WRITE);
}

/* Makes the calling thread the task t (after fork: the child's own). */
static void enter_task(struct task *t)
{
	stack_t ss = {.ss_sp = t->altstack, .ss_size = 64 << 10};
	t->tid = (pid_t)raw1(SYS_gettid, 0);
	raw2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &t->fsbase);
	if (sigaltstack(&ss, NULL))
		die("sigaltstack");
}

/* --- argument generators ------------------------------------------------- */

static const u64 interesting[] = {
	0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 63, 64, 100, 127, 128, 255, 256, 511, 512, 1000, 1023, 1024,
	4095, 4096, 4097, 8192, 65535, 65536, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000, 0x7ffffffffffful, 0x800000000000ul, 0x7fffffffffffffff,
	0x8000000000000000, 0xfffffffffffff000, 0xffffffffffffffff, 0xfffffffffffffffe,
	0xffffffff80000000, 0xffff800000000000, -100ul /* AT_FDCWD */, -4096ul,
};

static u64 gen_int(struct rng *r)
{
	switch (below(r, 6)) {
	case 0:
		return interesting[below(r, sizeof interesting / sizeof interesting[0])];
	case 1:
		return below(r, 16);
	case 2:
		return 1ul << below(r, 64);
	case 3:
		return (u64)(uint32_t)rnd(r);
	case 4:
		return -(below(r, 16));
	default:
		return rnd(r);
	}
}

static u64 gen_len(struct rng *r)
{
	switch (below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return 1 + below(r, 64);
	case 2:
		return PG * (1 + below(r, 4)) + (below(r, 3) - 1);
	case 3:
		return below(r, SCRATCH_LEN + 2 * PG);
	case 4:
		return 1ul << below(r, 64);
	case 5:
		return -(1 + below(r, 4096)); /* negative */
	case 6:
		return (u64)(uint32_t)rnd(r);
	default:
		return interesting[below(r, sizeof interesting / sizeof interesting[0])];
	}
}

/* Pointer kinds: whether the memory behind it may be written by the
 * fuzzer before the call (only its own scratch area), and whether it is
 * valid at all. */
enum { PK_BAD, PK_SCRATCH, PK_OTHER };

/* A pointer the kernel (kshim) may read and write: never into the
 * fuzzer's stacks, data or heap. */
static u64 gen_ptr1(struct task *t, int *kind)
{
	struct rng *r = &t->r;
	u64 off;
	*kind = PK_BAD;
	switch (below(r, 20)) {
	case 0: case 1: case 2: case 3: case 4: case 5: /* scratch, aligned or not */
		*kind = PK_SCRATCH;
		off = chance(r, 50) ? below(r, 64) * 8 : below(r, SCRATCH_LEN);
		return (u64)t->scratch + off;
	case 6: /* the end of scratch: whatever is read or written runs into PROT_NONE */
		*kind = PK_SCRATCH;
		return (u64)t->scratch + SCRATCH_LEN - below(r, 64);
	case 7: /* just past the end of a mapping, at an unmapped hole */
		*kind = PK_OTHER;
		return (u64)edge + PG - below(r, 32);
	case 8: case 9: /* the playground (maybe unmapped by now) */
		*kind = PK_OTHER;
		return (u64)play + below(r, PLAY_LEN + PG);
	case 10: /* read-only memory */
		*kind = PK_OTHER;
		return chance(r, 50) ? (u64)rodata + below(r, PG) : text_lo + below(r, text_hi - text_lo);
	case 11: /* the vDSO and vvar pages */
		*kind = PK_OTHER;
		return vdso_lo ? vdso_lo - PG + below(r, 3 * PG) : 0;
	case 12: /* the shim's pages */
		return SHIM_BASE + below(r, 0x70000);
	case 13: /* kernel half, direct map */
		return chance(r, 50) ? 0xffff888000000000ul + below(r, 1ul << 30) : 0xffff800000000000ul + rnd(r) % (1ul << 46);
	case 14: /* non-canonical */
		return 0x0000800000000000ul + below(r, 1ul << 40) * 8;
	case 15: /* the last page of the user half (the stack ends below it) */
		return 0x800000000000ul - 1 - below(r, PG);
	case 16:
		return below(r, 2 * PG); /* NULL page */
	case 17:
		return (u64)-1 - below(r, 4096);
	default:
		return rnd(r);
	}
}

/* Whether p is memory of the fuzzer's that a call may be given: its
 * scratch areas (and their guard pages), the read-only page, its text,
 * the vDSO; not its stacks, data or heap. Outside its mappings, anything. */
static int ptr_ok(u64 p)
{
	for (int i = 0; i < 3; i++)
		if (p - (u64)tasks[i].scratch < SCRATCH_LEN + PG)
			return 1;
	if (p - (u64)rodata < PG || p - (u64)edge < PG || p - text_lo < text_hi - text_lo ||
	    (vdso_lo && p - (vdso_lo - PG) < 3 * PG))
		return 1;
	for (int i = 0; i < nprot; i++)
		if (p >= prot[i].lo && p < prot[i].hi)
			return 0;
	return 1;
}

static u64 gen_ptr(struct task *t, int *kind)
{
	u64 p = gen_ptr1(t, kind);
	if (!ptr_ok(p)) {
		*kind = PK_BAD;
		p = 0x0000800000000000ul | p; /* the same, non-canonical */
	}
	return p;
}

/* A pointer whose memory may be anything but a non-scratch valid one:
 * for structures the fuzzer must sanitize (sigaction, signal sets). */
static u64 gen_ptr_sanitizable(struct task *t, int *kind)
{
	u64 p = gen_ptr(t, kind);
	if (*kind == PK_OTHER) {
		*kind = PK_SCRATCH;
		p = (u64)t->scratch + below(&t->r, 128) * 8;
	}
	return p;
}

static void fill(struct rng *r, char *p, size_t n)
{
	/* Words that look like the things structures hold. */
	for (size_t i = 0; i + 8 <= n; i += 8) {
		u64 v = chance(r, 60) ? gen_int(r) : rnd(r);
		memcpy(p + i, &v, 8);
	}
}

/* Fills the scratch area around a pointer about to be passed. */
static void fill_at(struct task *t, u64 p, size_t n)
{
	u64 lo = (u64)t->scratch, hi = lo + SCRATCH_LEN;
	if (p < lo || p >= hi)
		return;
	if (n > hi - p)
		n = hi - p;
	fill(&t->r, (char *)p, n);
}

static const char *const fixed_paths[] = {
	"", ".", "..", "/", "//", "/.", "/..", "/../../..", "a", "a/", "a/b", "dir", "dir/file", "dir/..",
	"file", "file/", "link_out", "link_up", "link_loop", "link_out/x", "link_up/..", "empty", "big",
	"/proc", "/proc/self", "/proc/self/maps", "/proc/self/fd", "/proc/1/status", "/proc/self/status",
	"/proc/cpuinfo", "/proc/meminfo", "/proc/self/mem", "/proc/sys/kernel",
	"/dev", "/dev/sda", "/dev/kvm", "/etc/passwd", "../../../../etc/passwd", "/tmp", "new", "new2", "dir/new", "x/../../y", "./././.",
	/* The masked and read-only paths the test sets (see leak_check). */
	"masked", "mdir", "mdir/secret", "mdir/..", "mdir/../masked", "/mdir/./secret", "//mdir//secret", "ro", "ro/",
	"rodir", "rodir/f", "rodir/new", "rodir/../ro", "/proc/self/root/mdir/secret", "/proc/self/cwd/masked",
	"/proc/self/root/rodir/f", "link_mdir/secret", "link_ro",
};

/* The host devices kshim opens by exact path whatever the root holds:
 * "path:dev". */
static const char *const dev_paths[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random", "/dev/tty",
};

/* Paths that name host files outside the root through the guest's own
 * exe and fds (kshim's /proc magic links, /dev/std*): "path:magic". */
static const char *const magic_paths[] = {
	"/proc/self/exe", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "/proc/self/fd/3",
	"/proc/self/cwd", "/proc/self/root", "/proc/self/root/..", "/proc/self/cwd/..", "/dev/stdin",
	"/dev/stdout", "/dev/stderr", "/dev/fd/1", "/proc/self/exe/", "/proc/self/fd/0/..",
};

/* A path string in scratch (or a bad pointer to one). */
static u64 gen_path(struct task *t, int *kind)
{
	struct rng *r = &t->r;
	char *s;
	size_t n;
	if (chance(r, 10))
		return gen_ptr(t, kind);
	*kind = PK_SCRATCH;
	s = t->scratch + below(r, 8) * 512;
	switch (below(r, 10)) {
	case 0: /* the canary, by its host path, or climbing to it */
		snprintf(s, 512, "%s%s", chance(r, 50) ? "" : "../../../../../..", canary);
		break;
	case 1: /* long: a component over NAME_MAX or a path over PATH_MAX */
		n = chance(r, 50) ? 256 : 4096 + below(r, 3) - 1;
		s = t->scratch + SCRATCH_LEN - 8192;
		memset(s, chance(r, 50) ? 'a' : '/', n);
		s[n] = 0;
		if (chance(r, 50))
			s[0] = '/', s[n / 2] = '/';
		return (u64)s;
	case 2: /* unterminated: runs into the PROT_NONE page */
		n = 1 + below(r, 300);
		s = t->scratch + SCRATCH_LEN - n;
		memset(s, 'b', n);
		return (u64)s;
	case 3: /* random bytes */
		n = below(r, 32);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)rnd(r);
		s[n] = 0;
		break;
	case 4: case 5:
		if (!excluded("path:magic")) {
			snprintf(s, 512, "%s", magic_paths[below(r, sizeof magic_paths / sizeof magic_paths[0])]);
			break;
		}
		/* fall through */
	case 6:
		if (!excluded("path:dev")) {
			snprintf(s, 512, "%s", dev_paths[below(r, sizeof dev_paths / sizeof dev_paths[0])]);
			break;
		}
		/* fall through */
	default:
		snprintf(s, 512, "%s", fixed_paths[below(r, sizeof fixed_paths / sizeof fixed_paths[0])]);
	}
	return (u64)s;
}

static u64 gen_fd(struct task *t)
{
	struct rng *r = &t->r;
	switch (below(r, 10)) {
	case 0:
		return gen_int(r);
	case 1:
		return below(r, 3);
	case 2:
		return (1ul << 32) | below(r, 8); /* an int: high bits ignored */
	case 3:
		return -100ul; /* AT_FDCWD */
	default:
		return t->nfds ? (u64)t->fds[below(r, t->nfds)] : below(r, 16);
	}
}

static void remember_fd(struct task *t, long fd)
{
	if (fd < 0 || fd > 1 << 20)
		return;
	/* Every fd the fuzzer holds is non-blocking, so no read or write on
	 * it can block forever. */
	int fl = (int)raw3(SYS_fcntl, fd, F_GETFL, 0);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		raw3(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK);
	if (t->nfds < 64)
		t->fds[t->nfds++] = (int)fd;
	else
		t->fds[below(&t->r, 64)] = (int)fd;
}

/* A timeout that ends soon: a pointer to {0, < 2 ms}, a bad pointer, or
 * an invalid time (EINVAL); never NULL (forever). */
static u64 gen_timeout(struct task *t)
{
	struct rng *r = &t->r;
	long *ts = (long *)(t->scratch + SCRATCH_LEN - 64 - 16 * below(r, 4));
	switch (below(r, 6)) {
	case 0: {
		int k;
		u64 p = gen_ptr(t, &k);
		if (k == PK_BAD)
			return p;
	}
		/* fall through */
	default:
		ts[0] = 0;
		ts[1] = (long)below(r, 2000000);
		return (u64)ts;
	case 1:
		ts[0] = chance(r, 50) ? -1 : 0;
		ts[1] = chance(r, 50) ? 1000000000 : -1;
		return (u64)ts;
	}
}

/* --- the syscall table ----------------------------------------------------
 *
 * One string per number: a letter per argument. f fd, p buffer pointer,
 * l length, P path, i integer/flags, d pid, S signal, v iovec array,
 * t timeout pointer, a address of a memory range (followed by its
 * length). Numbers without an entry get random arguments of any kind. */
static const char *const sig[NR_MAX] = {
	[SYS_read] = "fpl", [SYS_write] = "fpl", [SYS_open] = "Pii", [SYS_close] = "f",
	[SYS_stat] = "Pp", [SYS_fstat] = "fp", [SYS_lstat] = "Pp", [SYS_poll] = "pli",
	[SYS_lseek] = "fii", [SYS_mmap] = "alii" "fi", [SYS_mprotect] = "ali", [SYS_munmap] = "al",
	[SYS_brk] = "a", [SYS_rt_sigaction] = "Sppl", [SYS_rt_sigprocmask] = "ippl",
	[SYS_ioctl] = "fip", [SYS_pread64] = "fpli", [SYS_pwrite64] = "fpli", [SYS_readv] = "fvl",
	[SYS_writev] = "fvl", [SYS_access] = "Pi", [SYS_pipe] = "p", [SYS_select] = "ipppt",
	[SYS_sched_yield] = "", [SYS_mremap] = "allia", [SYS_msync] = "ali", [SYS_mincore] = "alp",
	[SYS_madvise] = "ali", [SYS_dup] = "f", [SYS_dup2] = "ff", [SYS_nanosleep] = "tp",
	[SYS_getpid] = "", [SYS_sendfile] = "ffpl", [SYS_socket] = "iii", [SYS_clone] = "ipppp",
	[SYS_fork] = "", [SYS_vfork] = "", [SYS_execve] = "Ppp", [SYS_wait4] = "dpip",
	[SYS_kill] = "dS", [SYS_uname] = "p", [SYS_fcntl] = "fii", [SYS_flock] = "fi",
	[SYS_fsync] = "f", [SYS_fdatasync] = "f", [SYS_truncate] = "Pi", [SYS_ftruncate] = "fi",
	[SYS_getdents] = "fpl", [SYS_getcwd] = "pl", [SYS_chdir] = "P", [SYS_fchdir] = "f",
	[SYS_rename] = "PP", [SYS_mkdir] = "Pi", [SYS_rmdir] = "P", [SYS_creat] = "Pi",
	[SYS_link] = "PP", [SYS_unlink] = "P", [SYS_symlink] = "PP", [SYS_readlink] = "Ppl",
	[SYS_chmod] = "Pi", [SYS_fchmod] = "fi", [SYS_chown] = "Pii", [SYS_fchown] = "fii",
	[SYS_lchown] = "Pii", [SYS_umask] = "i", [SYS_gettimeofday] = "pp", [SYS_getrlimit] = "ip",
	[SYS_getrusage] = "ip", [SYS_sysinfo] = "p", [SYS_times] = "p", [SYS_getuid] = "",
	[SYS_setpgid] = "dd", [SYS_getppid] = "", [SYS_getpgrp] = "", [SYS_setsid] = "",
	[SYS_getgroups] = "ip", [SYS_getpgid] = "d", [SYS_getsid] = "d", [SYS_rt_sigpending] = "pl",
	[SYS_rt_sigtimedwait] = "pptl", [SYS_rt_sigqueueinfo] = "dSp", [SYS_sigaltstack] = "pp",
	[SYS_utime] = "Pp", [SYS_mknod] = "Pii", [SYS_personality] = "i", [SYS_statfs] = "Pp",
	[SYS_fstatfs] = "fp", [SYS_getpriority] = "id", [SYS_setpriority] = "idi",
	[SYS_sched_getaffinity] = "dlp", [SYS_sched_setaffinity] = "dlp", [SYS_mlock] = "al",
	[SYS_munlock] = "al", [SYS_mlockall] = "i", [SYS_munlockall] = "", [SYS_prctl] = "iiiii",
	[SYS_arch_prctl] = "ip", [SYS_setrlimit] = "ip", [SYS_sync] = "", [SYS_gettid] = "",
	[SYS_readahead] = "fil", [SYS_tkill] = "dS", [SYS_time] = "p", [SYS_futex] = "piitpi",
	[SYS_set_tid_address] = "p", [SYS_getdents64] = "fpl", [SYS_fadvise64] = "fili",
	[SYS_clock_gettime] = "ip", [SYS_clock_getres] = "ip", [SYS_clock_nanosleep] = "iitp",
	[SYS_exit_group] = "i", [SYS_epoll_wait] = "fpii", [SYS_epoll_ctl] = "fifp", [SYS_tgkill] = "ddS",
	[SYS_utimes] = "Pp", [SYS_waitid] = "idpip", [SYS_openat] = "fPii", [SYS_mkdirat] = "fPi",
	[SYS_mknodat] = "fPii", [SYS_fchownat] = "fPiii", [SYS_newfstatat] = "fPpi", [SYS_unlinkat] = "fPi",
	[SYS_renameat] = "fPfP", [SYS_linkat] = "fPfPi", [SYS_symlinkat] = "PfP", [SYS_readlinkat] = "fPpl",
	[SYS_fchmodat] = "fPi", [SYS_faccessat] = "fPi", [SYS_pselect6] = "ippptp", [SYS_ppoll] = "pltpl",
	[SYS_set_robust_list] = "pl", [SYS_get_robust_list] = "dpp", [SYS_splice] = "fpfpli",
	[SYS_tee] = "ffli", [SYS_vmsplice] = "fvli", [SYS_utimensat] = "fPpi", [SYS_epoll_pwait] = "fpiipl",
	[SYS_eventfd] = "i", [SYS_fallocate] = "fiil", [SYS_eventfd2] = "ii", [SYS_epoll_create1] = "i",
	[SYS_epoll_create] = "i", [SYS_dup3] = "ffi", [SYS_pipe2] = "pi", [SYS_preadv] = "fvlii",
	[SYS_pwritev] = "fvlii", [SYS_rt_tgsigqueueinfo] = "ddSp", [SYS_prlimit64] = "dipp",
	[SYS_syncfs] = "f", [SYS_getcpu] = "ppp", [SYS_sched_getattr] = "dpii",
	[SYS_renameat2] = "fPfPi", [SYS_getrandom] = "pli", [SYS_memfd_create] = "Pi", [SYS_execveat] = "fPppi",
	[SYS_membarrier] = "iii", [SYS_mlock2] = "ali", [SYS_copy_file_range] = "fpfpli",
	[SYS_preadv2] = "fvliii", [SYS_pwritev2] = "fvliii", [SYS_statx] = "fPiip", [SYS_rseq] = "plii",
	[SYS_pidfd_send_signal] = "fSpi", [SYS_pidfd_open] = "di", [SYS_clone3] = "pl",
	[SYS_close_range] = "ffi", [SYS_openat2] = "fPpl", [SYS_faccessat2] = "fPii",
	[SYS_epoll_pwait2] = "fpitpl", [SYS_process_mrelease] = "fi", [SYS_futex_waitv] = "piiti",
	[SYS_sched_getparam] = "dp", [SYS_sched_getscheduler] = "d",
	[SYS_getitimer] = "ip", [SYS_setitimer] = "ipp", [SYS_alarm] = "i", [SYS_inotify_init1] = "i",
	[SYS_timerfd_create] = "ii", [SYS_signalfd4] = "fpli", [SYS_sendmsg] = "fpi", [SYS_recvmsg] = "fpi",
	[SYS_socketpair] = "iiip", [SYS_shutdown] = "fi", [SYS_getsockopt] = "fiipp",
	[SYS_sched_rr_get_interval] = "dp", [SYS_setuid] = "i", [SYS_setgid] = "i", [SYS_getxattr] = "PPpl",
	[SYS_fgetxattr] = "fPpl", [SYS_listxattr] = "Ppl", [SYS_setxattr] = "PPpli", [SYS_fsetxattr] = "fPpli",
	[SYS_removexattr] = "PP", [SYS_chroot] = "P", [SYS_acct] = "P", [SYS_io_setup] = "ip",
	[SYS_capget] = "pp", [SYS_capset] = "pp", [SYS_kcmp] = "ddiii", [SYS_name_to_handle_at] = "fPppi",
	[452 /* fchmodat2 */] = "fPii", [451 /* cachestat */] = "fppi", [462 /* mseal */] = "ali",
	[453 /* map_shadow_stack */] = "ali",
};

/* Calls never made: they end the fuzzer, wait forever, or (through a
 * kshim that passed them on) would change the host. rt_sigreturn is made
 * by the frame fuzzer instead. */
static int never(long nr)
{
	switch (nr) {
	case SYS_exit: case SYS_exit_group: case SYS_rt_sigreturn: case SYS_pause: case SYS_rt_sigsuspend:
	case SYS_ptrace: case SYS_reboot: case SYS_kexec_load: case SYS_kexec_file_load: case SYS_init_module:
	case SYS_finit_module: case SYS_delete_module: case SYS_swapon: case SYS_swapoff: case SYS_mount:
	case SYS_umount2: case SYS_pivot_root: case SYS_sethostname: case SYS_setdomainname:
	case SYS_settimeofday: case SYS_clock_settime: case SYS_adjtimex: case SYS_clock_adjtime:
	case SYS_iopl: case SYS_ioperm: case SYS_acct: case SYS_quotactl: case SYS_syslog: case SYS_keyctl:
	case SYS_add_key: case SYS_request_key: case SYS_process_vm_writev: case SYS_perf_event_open:
	case SYS_bpf: case SYS_setns: case SYS_unshare: case SYS_open_by_handle_at: case SYS_seccomp:
	case SYS_userfaultfd: case SYS_vhangup: case SYS_mount_setattr: case SYS_fsopen: case SYS_fsconfig:
	case SYS_fsmount: case SYS_move_mount: case SYS_open_tree: case SYS_fspick: case SYS_process_madvise:
	case SYS_semop: case SYS_msgrcv: case SYS_timer_create: case SYS_mq_timedreceive:
	case SYS_mq_timedsend: case SYS_io_getevents: case SYS_io_pgetevents: case SYS_recvmmsg:
	case SYS_semtimedop: case SYS_shmat: case SYS_remap_file_pages: case SYS_accept: case SYS_inotify_init:
	case SYS_signalfd: case SYS_sched_setscheduler: case SYS_sched_setattr: case SYS_sched_setparam:
	case SYS_nfsservctl: case SYS_uselib: case SYS_lookup_dcookie: case SYS_fanotify_init:
	case 455: /* futex_wait: blocks without a timeout */
	case 456: /* futex_requeue */
		return 1;
	}
	return 0;
}

static u64 safe_signal(struct rng *r)
{
	static const int s[] = {0, SIGCHLD, SIGURG, SIGWINCH, SIGCONT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE};
	if (chance(r, 10))
		return chance(r, 50) ? 65 + below(r, 100) : -below(r, 3); /* invalid: EINVAL */
	return s[below(r, sizeof s / sizeof s[0])];
}

/* Picks a syscall number: mostly one with a known signature, sometimes any
 * number, sometimes a huge one (only the low 32 bits select a call on
 * Linux, so those are chosen to be no call; the x32 bit makes a number
 * ENOSYS on a kernel without x32). */
static long gen_nr(struct rng *r)
{
	for (;;) {
		u64 n;
		switch (below(r, 10)) {
		case 0:
			n = below(r, NR_MAX + 40);
			break;
		case 1:
			switch (below(r, 4)) {
			case 0:
				n = (rnd(r) << 32) | (NR_MAX + below(r, 1u << 20));
				break;
			case 1:
				n = 0x40000000ul | below(r, 600);
				break;
			case 2:
				n = chance(r, 50) ? 0xfffffffful : 0xffffffffffffffff;
				break;
			default:
				n = 0x7fffffff + below(r, 3);
			}
			/* Never a dangerous call in disguise. */
			if (never((long)((uint32_t)n & ~0x40000000u)) || (uint32_t)n < NR_MAX)
				continue;
			return (long)n;
		default:
			n = below(r, NR_MAX);
			if (!sig[n])
				continue;
		}
		if (n < NR_MAX && never((long)n))
			continue;
		return (long)n;
	}
}

static void gen_iovec(struct task *t, u64 *arr, int *kind, u64 cnt)
{
	struct rng *r = &t->r;
	*arr = gen_ptr(t, kind);
	if (*kind != PK_SCRATCH)
		return;
	u64 *v = (u64 *)(t->scratch + 64 * 1024 + below(r, 64) * 16);
	u64 room = ((u64)t->scratch + SCRATCH_LEN - (u64)v) / 16;
	if (cnt > room)
		cnt = room;
	for (u64 i = 0; i < cnt; i++) {
		int k;
		v[2 * i] = gen_ptr(t, &k);
		v[2 * i + 1] = gen_len(r);
		/* Many big valid buffers would write gigabytes to the root. */
		if (cnt > 4 && v[2 * i + 1] > PG && k != PK_BAD)
			v[2 * i + 1] = below(r, PG);
	}
	*arr = (u64)v;
}

/* Ranges a memory call would change must miss the fuzzer's own: returns 0
 * to skip the call. */
static int memory_ok(long nr, u64 *a)
{
	switch (nr) {
	case SYS_munmap: case SYS_mprotect: case SYS_madvise: case SYS_pkey_mprotect: case 462 /* mseal */:
		return !overlaps_prot(a[0], a[1]);
	case SYS_mmap:
		if (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE))
			return !overlaps_prot(a[0], a[1]);
		return 1;
	case SYS_mremap:
		if (overlaps_prot(a[0], a[1]))
			return 0;
		if (a[3] & (MREMAP_FIXED | MREMAP_DONTUNMAP))
			return !overlaps_prot(a[4], a[2]);
		return 1;
	case SYS_brk: {
		/* Never below the break the fuzzer started with (its heap,
		 * the main thread's TLS). */
		for (int i = 0; i < nprot; i++)
			if (a[0] >= prot[i].lo && a[0] < prot[i].hi)
				return 0;
		return 1;
	}
	}
	return 1;
}

/* Prepares the arguments of call nr; returns 0 to skip it. */
static int sanitize(struct task *t, long nr, u64 *a, int *kinds)
{
	struct rng *r = &t->r;
	switch (nr) {
	case SYS_kill: case SYS_tkill:
		a[1] = safe_signal(r);
		break;
	case SYS_tgkill: case SYS_rt_sigqueueinfo:
		a[nr == SYS_tgkill ? 2 : 1] = safe_signal(r);
		break;
	case SYS_rt_tgsigqueueinfo:
		a[2] = safe_signal(r);
		break;
	case SYS_pidfd_send_signal:
		a[1] = safe_signal(r);
		break;
	case SYS_rt_sigaction:
		if (is_kept_sig((int)a[0]))
			a[1] = 0;
		else if (a[1]) {
			a[1] = gen_ptr_sanitizable(t, &kinds[1]);
			if (kinds[1] == PK_SCRATCH && a[1] + 32 <= (u64)t->scratch + SCRATCH_LEN) {
				u64 *sa = (u64 *)a[1];
				static const u64 h[] = {(u64)SIG_DFL, (u64)SIG_IGN, (u64)on_ignore};
				sa[0] = h[below(r, 3)];
				sa[1] |= SA_RESTORER;
				sa[2] = (u64)fz_restore_rt;
			}
		}
		break;
	case SYS_rt_sigprocmask:
		if (a[1]) {
			a[1] = gen_ptr_sanitizable(t, &kinds[1]);
			if (kinds[1] == PK_SCRATCH && a[1] + 8 <= (u64)t->scratch + SCRATCH_LEN)
				*(u64 *)a[1] &= ~kept_mask();
		}
		break;
	case SYS_sigaltstack:
		if (a[0]) {
			a[0] = gen_ptr(t, &kinds[0]);
			if (kinds[0] != PK_BAD)
				a[0] = 0;
		}
		break;
	case SYS_rt_sigtimedwait:
		a[2] = gen_timeout(t);
		break;
	case SYS_nanosleep:
		a[0] = gen_timeout(t);
		break;
	case SYS_clock_nanosleep:
		a[2] = gen_timeout(t);
		break;
	case SYS_select:
		/* A timeval; Linux folds tv_usec into tv_sec, so {-1, 10^9}
		 * is 999 s: only {0, < 2 ms} or a bad pointer. */
		a[4] = gen_timeout(t);
		if (a[4] >= (u64)t->scratch && a[4] < (u64)t->scratch + SCRATCH_LEN)
			((u64 *)a[4])[0] = 0, ((u64 *)a[4])[1] = below(r, 2000);
		break;
	case SYS_pselect6:
		a[4] = gen_timeout(t);
		break;
	case SYS_poll:
		a[2] = below(r, 3);
		break;
	case SYS_ppoll:
		a[2] = gen_timeout(t);
		break;
	case SYS_epoll_wait: case SYS_epoll_pwait:
		a[3] = below(r, 3);
		break;
	case SYS_epoll_pwait2:
		a[3] = gen_timeout(t);
		break;
	case SYS_futex:
		switch (a[1] & 0x7f) {
		case 0: case 9: case 6: case 11: case 13: /* WAIT, WAIT_BITSET, LOCK_PI, WAIT_REQUEUE_PI, LOCK_PI2 */
			a[3] = gen_timeout(t);
		}
		break;
	case SYS_futex_waitv:
		a[3] = gen_timeout(t);
		break;
	case SYS_wait4:
		a[2] |= 1; /* WNOHANG */
		break;
	case SYS_waitid:
		a[3] |= 1;
		break;
	case SYS_open:
		a[1] |= O_NONBLOCK;
		break;
	case SYS_openat:
		a[2] |= O_NONBLOCK;
		break;
	case SYS_openat2:
		a[2] = gen_ptr_sanitizable(t, &kinds[2]);
		if (kinds[2] == PK_SCRATCH && a[2] + 8 <= (u64)t->scratch + SCRATCH_LEN)
			*(u64 *)a[2] |= O_NONBLOCK;
		break;
	case SYS_flock:
		a[1] |= LOCK_NB;
		break;
	case SYS_fcntl:
		switch ((int)a[1]) {
		case F_SETLKW:
			a[1] = F_SETLK;
			break;
		case F_OFD_SETLKW:
			a[1] = F_OFD_SETLK;
			break;
		case F_SETFL:
			a[2] |= O_NONBLOCK;
			break;
		}
		break;
	case SYS_ioctl:
		if ((uint32_t)a[1] == 0x5421 /* FIONBIO */)
			return 0;
		break;
	case SYS_mknod:
		if ((a[1] & 0170000) == 0010000) /* S_IFIFO: opening it would block */
			a[1] = (a[1] & ~0170000ul) | 0100000;
		break;
	case SYS_mknodat:
		if ((a[2] & 0170000) == 0010000)
			a[2] = (a[2] & ~0170000ul) | 0100000;
		break;
	case SYS_socket: case SYS_socketpair:
		a[1] |= SOCK_NONBLOCK;
		break;
	case SYS_accept4:
		a[3] |= SOCK_NONBLOCK;
		break;
	case SYS_inotify_init1: case SYS_timerfd_create:
		a[nr == SYS_timerfd_create ? 1 : 0] |= O_NONBLOCK;
		break;
	case SYS_signalfd4:
		a[3] |= O_NONBLOCK;
		break;
	case SYS_eventfd2:
		a[1] |= O_NONBLOCK;
		break;
	case SYS_pipe2:
		a[1] |= O_NONBLOCK;
		break;
	case SYS_pipe:
		/* Its fds must be seen to be made non-blocking: into scratch
		 * (or a bad pointer). */
		if (kinds[0] == PK_OTHER)
			a[0] = (u64)t->scratch + below(r, 64) * 8, kinds[0] = PK_SCRATCH;
		break;
	case SYS_execve:
		if (kinds[0] != PK_BAD)
			a[0] = (u64)strcpy(t->scratch + 8192, "/nonexistent-fuzz/prog");
		break;
	case SYS_execveat:
		a[4] &= ~0x1000ul; /* AT_EMPTY_PATH would run the fd */
		if (kinds[1] != PK_BAD)
			a[1] = (u64)strcpy(t->scratch + 8192, "/nonexistent-fuzz/prog");
		break;
	case SYS_arch_prctl:
		switch (a[0]) {
		case 0x1002: /* ARCH_SET_FS: the fuzzer's TLS */
		case 0x2001: case 0x2002: case 0x2003: /* ARCH_MAP_VDSO_*: maps at an address */
		case 0x5001: case 0x5002: case 0x5003: case 0x5004: case 0x5005: /* shadow stack */
			return 0;
		}
		break;
	case SYS_prctl:
		switch ((int)a[0]) {
		case 22: /* PR_SET_SECCOMP */
		case 26: /* PR_SET_TSC: rdtsc would fault (vDSO clocks) */
		case 35: /* PR_SET_MM */
		case 59: /* PR_SET_SYSCALL_USER_DISPATCH */
		case 75: /* PR_SET_SHADOW_STACK_STATUS */
			return 0;
		}
		break;
	case SYS_setrlimit: case SYS_prlimit64: {
		/* CPU and RTTIME limits end the process, FSIZE raises SIGXFSZ,
		 * a small STACK makes the fuzzer's own stack fault. */
		u64 res = nr == SYS_setrlimit ? a[0] : a[1];
		u64 *newp = nr == SYS_setrlimit ? &a[1] : &a[2];
		if ((res == 0 || res == 1 || res == 3 || res == 15) && *newp) {
			int k;
			u64 p = gen_ptr(t, &k);
			*newp = k == PK_BAD ? p : 0;
		}
		break;
	}
	case SYS_fallocate:
		/* Big allocations would fill the host's disk: keep offset+len
		 * small unless Linux refuses it outright. */
		if ((int64_t)a[2] >= 0 && (int64_t)a[3] > 0 && a[2] + a[3] > (64ul << 20) &&
		    a[2] + a[3] < (1ul << 62))
			a[3] = below(r, 1 << 20) + 1, a[2] %= (16ul << 20);
		break;
	case SYS_copy_file_range: case SYS_sendfile: case SYS_splice:
		/* Lengths are bounded by what exists, but keep copies small. */
		a[nr == SYS_sendfile ? 3 : 4] %= (4ul << 20);
		break;
	case SYS_clone3:
		if (kinds[0] == PK_SCRATCH && a[0] + 40 <= (u64)t->scratch + SCRATCH_LEN) {
			u64 *ca = (u64 *)a[0];
			ca[4] = chance(r, 80) ? SIGCHLD : (chance(r, 50) ? 0 : 65 + below(r, 64)); /* exit_signal */
		}
		break;
	case SYS_clone:
		/* The low byte is the signal sent to the parent at exit. */
		a[0] = (a[0] & ~0xfful) | (chance(r, 80) ? SIGCHLD : 0);
		break;
	}
	return memory_ok(nr, a);
}

/* Remembers fds the call made; each is made non-blocking. */
static void after(struct task *t, long nr, u64 *a, int *kinds, long ret)
{
	if (ret < 0)
		return;
	switch (nr) {
	case SYS_open: case SYS_openat: case SYS_openat2: case SYS_creat: case SYS_dup: case SYS_dup2:
	case SYS_dup3: case SYS_eventfd: case SYS_eventfd2: case SYS_epoll_create: case SYS_epoll_create1:
	case SYS_memfd_create: case SYS_socket: case SYS_accept4: case SYS_inotify_init1: case SYS_signalfd4:
	case SYS_timerfd_create: case SYS_pidfd_open: case SYS_pidfd_getfd: case SYS_memfd_secret:
		remember_fd(t, ret);
		break;
	case SYS_fcntl:
		if ((int)a[1] == F_DUPFD || (int)a[1] == F_DUPFD_CLOEXEC)
			remember_fd(t, ret);
		break;
	case SYS_pipe: case SYS_pipe2: case SYS_socketpair: {
		u64 p = nr == SYS_socketpair ? a[3] : a[0];
		int k = nr == SYS_socketpair ? kinds[3] : kinds[0];
		if (k == PK_SCRATCH && p + 8 <= (u64)t->scratch + SCRATCH_LEN) {
			remember_fd(t, ((int *)p)[0]);
			remember_fd(t, ((int *)p)[1]);
		}
		break;
	}
	case SYS_clone: case SYS_clone3: case SYS_fork: case SYS_vfork:
		/* Reap now and then; our own child fuzzer may be reaped too. */
		break;
	}
}

/* --- special operations: rt_sigreturn frames, odd instructions ------------ */

/* Clears AC and DF, which an rt_sigreturn frame or iretq may have set: with
 * AC any misaligned access of the fuzzer's own would fault. */
static inline void clear_flags(void)
{
	__asm__ volatile("pushfq\n\tandq $~0x40400, (%%rsp)\n\tpopfq" ::: "memory", "cc");
}

static void landing(void)
{
	struct task *t = self_task();
	clear_flags();
	if (t && t->armed) {
		raw2(SYS_arch_prctl, 0x1002, t->fsbase);
		t->armed = 0;
		siglongjmp(t->env, 99);
	}
	raw1(SYS_exit_group, 98);
}

/* rt_sigreturn with a random frame: the ucontext at RSP. Registers come
 * back random; RIP is somewhere interesting (the shim's stub page, the
 * kernel half, non-canonical, a landing function that jumps back). The
 * signal mask never blocks the fault signals. */
static void fuzz_sigreturn(struct task *t)
{
	struct rng *r = &t->r;
	u64 *uc = (u64 *)(t->scratch + 32768);
	fill(r, (char *)uc, 1024);
	u64 *mc = uc + 5; /* uc_flags, uc_link, uc_stack (3 words) */
	/* sigcontext: r8..r15 (0-7), rdi 8, rsi 9, rbp 10, rbx 11, rdx 12,
	 * rax 13, rcx 14, rsp 15, rip 16, eflags 17, cs/gs/fs/ss 18, err 19,
	 * trapno 20, oldmask 21, cr2 22, fpstate 23, reserved 24-31, then
	 * uc_sigmask. */
	switch (below(r, 8)) {
	case 0: case 1: case 2:
		mc[16] = (u64)landing;
		mc[15] = (u64)t->landing + (16 << 10) - 8 - 64;
		break;
	case 3: case 4:
		mc[16] = SHIM_USER_TEXT + (chance(r, 50) ? below(r, 64) : below(r, PG));
		break;
	case 5:
		mc[16] = SHIM_BASE + below(r, 0x10000);
		break;
	default:
		mc[16] = chance(r, 50) ? 0x0000800000000000ul + below(r, 4096) : gen_int(r);
	}
	if (chance(r, 70))
		mc[17] = 0x202 | (chance(r, 20) ? (1ul << below(r, 22)) : 0);
	if (chance(r, 70)) {
		static const u64 cs[] = {0x33, 0x2b, 0x23, 0x10, 0x08, 0x00, 0x3b, 0xffff};
		mc[18] = cs[below(r, 8)] | (chance(r, 70) ? 0x2bul << 48 : gen_int(r) << 48);
	}
	switch (below(r, 4)) {
	case 0:
		mc[23] = 0;
		break;
	case 1:
		mc[23] = (u64)t->scratch + 65536 + below(r, 64) * 64; /* random xsave data */
		break;
	default: {
		int k;
		mc[23] = gen_ptr(t, &k);
	}
	}
	uc[5 + 32] &= ~kept_mask(); /* uc_sigmask */
	/* uc_stack: Linux applies it as a sigaltstack call; keep ours. */
	uc[2] = (u64)t->altstack, uc[3] = 0, uc[4] = 64 << 10;
	if (excluded("sigreturn") || (mc[16] >= SHIM_BASE && mc[16] < SHIM_BASE + (1ul << 24) && excluded("sigreturn:shim"))) {
		t->skipped++;
		return;
	}
	trace(t, "rt_sigreturn rip=%#lx rsp=%#lx eflags=%#lx cs..ss=%#lx fpstate=%#lx", mc[16], mc[15], mc[17],
		      mc[18], mc[23]);
	if (sigsetjmp(t->env, 0) == 0) {
		t->armed = 1;
		__asm__ volatile("mov %0, %%rsp\n\t"
				 "mov $15, %%eax\n\t"
				 "syscall\n\t"
				 "ud2" ::"r"(uc)
				 : "memory");
		__builtin_unreachable();
	}
	clear_flags();
	t->faults++;
}

/* Instruction snippets, each ending in ret, run from the jit page with
 * random general registers: privileged or odd instructions a program may
 * execute anyway. */
static const struct {
	unsigned char n, b[8];
	const char *name;
} snippets[] = {
	{1, {0xf4}, "hlt"},
	{1, {0xfa}, "cli"},
	{1, {0xfb}, "sti"},
	{2, {0xe6, 0xe0}, "out_e0"}, /* out %al, $0xe0: the shim's syscall port, off the stub */
	{2, {0xe6, 0xe1}, "out_e1"}, /* out %al, $0xe1: the exception port */
	{2, {0xe4, 0xe0}, "in_e0"}, /* in $0xe0, %al */
	{1, {0xee}, "out_dx"}, /* out %al, (%dx) */
	{1, {0xec}, "in_dx"}, /* in (%dx), %al */
	{1, {0xcc}, "int3"},
	{2, {0xcd, 0x80}, "int_0x80"}, /* int $0x80 (eax set safe below) */
	{2, {0xcd, 0x00}, "int_n"}, /* int $N, patched */
	{1, {0xf1}, "int1"},
	{2, {0x0f, 0x0b}, "ud2"},
	{2, {0x0f, 0x32}, "rdmsr"},
	{2, {0x0f, 0x30}, "wrmsr"},
	{3, {0x0f, 0x01, 0xc1}, "vmcall"},
	{3, {0x0f, 0x01, 0xd9}, "vmmcall"},
	{3, {0x0f, 0x01, 0xf8}, "swapgs"},
	{2, {0x0f, 0x09}, "wbinvd"},
	{2, {0x0f, 0x06}, "clts"},
	{3, {0x0f, 0x20, 0xd8}, "read_cr3"}, /* mov %cr3, %rax */
	{3, {0x0f, 0x22, 0xd8}, "write_cr3"}, /* mov %rax, %cr3 */
	{3, {0x0f, 0x01, 0x38}, "invlpg"}, /* invlpg (%rax) */
	{2, {0x0f, 0x34}, "sysenter"},
	{2, {0x0f, 0x07}, "sysret"},
	{2, {0x48, 0xcf}, "iretq"}, /* iretq with whatever is on the stack */
	{3, {0x0f, 0x01, 0xd0}, "xgetbv"},
	{2, {0x0f, 0xa2}, "cpuid"},
	{3, {0x0f, 0x01, 0xf9}, "rdtscp"},
	{2, {0x0f, 0x31}, "rdtsc"},
	{3, {0x0f, 0x00, 0xd8}, "ltr"}, /* ltr %ax */
	{3, {0x0f, 0x01, 0x10}, "lgdt"}, /* lgdt (%rax) */
	{2, {0x8e, 0xd8}, "mov_ds"}, /* mov %eax, %ds */
	{2, {0x8e, 0xe0}, "mov_fs"}, /* mov %eax, %fs: clears the TLS base */
	{3, {0x0f, 0x01, 0xca}, "clac"},
	{3, {0x0f, 0x01, 0xcb}, "stac"},
	{2, {0x0f, 0x05}, "syscall"}, /* syscall with random registers (eax set safe below) */
};

static void fuzz_insn(struct task *t)
{
	struct rng *r = &t->r;
	unsigned i = below(r, sizeof snippets / sizeof snippets[0]);
	unsigned char *code = (unsigned char *)jit + 64 * (t - tasks);
	memcpy(code, snippets[i].b, snippets[i].n);
	if (snippets[i].b[0] == 0xcd && snippets[i].b[1] == 0x00)
		code[1] = (unsigned char)below(r, 256);
	code[snippets[i].n] = 0xc3;
	char key[48];
	snprintf(key, sizeof key, "insn:%s", snippets[i].name);
	if (excluded(key)) {
		t->skipped++;
		return;
	}
	u64 rax = gen_int(r), rcx = gen_int(r), rdx = gen_int(r);
	if (snippets[i].b[0] == 0xcd || snippets[i].b[0] == 0x0f) {
		/* int $0x80 and the like take eax as a call number (the i386
		 * one for int $0x80): a harmless one. */
		static const u64 safe[] = {20 /* getpid32 */, 39 /* getpid */, 0xffff, 0x7fffffff, 1000};
		rax = safe[below(r, 5)];
	}
	if (rax == 0) /* rax is also the lgdt/invlpg pointer: keep it off the fuzzer */
		rax = 1;
	trace(t, "insn %s byte1=%#x rax=%#lx rcx=%#lx rdx=%#lx", snippets[i].name, code[1], rax, rcx, rdx);
	if (sigsetjmp(t->env, 0) == 0) {
		t->armed = 1;
		__asm__ volatile("call *%3" : "+a"(rax), "+c"(rcx), "+d"(rdx) : "r"(code) : "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
		/* mov to %fs may have cleared the thread pointer. */
		raw2(SYS_arch_prctl, 0x1002, t->fsbase);
		clear_flags();
		t->armed = 0;
		return;
	}
	clear_flags();
	t->faults++;
}

/* --- structured operations: sockets, timers, job control, exec ---------------
 *
 * Random numbers rarely make a well-formed msghdr, sigevent or ELF file,
 * so these build them on purpose (and then spoil some of them): sockets
 * of every family the guest may have, bound and connected to each other,
 * sendmsg/recvmsg with control messages (SCM_RIGHTS with our fds and
 * others, SCM_CREDENTIALS true and false, malformed headers); POSIX and
 * interval timers firing the quiet signals; job control against the
 * forked child (stopped and at once continued); execve of hostile ELF
 * images and #! scripts, in a grandchild killed after a few milliseconds
 * whatever it runs. */

/* A socket address: unix paths in the root and abstract names, loopback
 * IPv4/IPv6 with a few ports, netlink, or random bytes. Returns its
 * length. */
static unsigned gen_sockaddr(struct task *t, char *buf)
{
	struct rng *r = &t->r;
	memset(buf, 0, 128);
	switch (below(r, 7)) {
	case 0: case 1: {
		struct sockaddr_un *u = (struct sockaddr_un *)buf;
		static const char *const names[] = {"s0", "s1", "dir/s2", "/s3", "file", "/proc/self/fd/3", "../../s4",
						    "link_out", "link_up/s5", ""};
		u->sun_family = AF_UNIX;
		snprintf(u->sun_path, sizeof u->sun_path, "%s", names[below(r, 10)]);
		return chance(r, 90) ? (unsigned)(offsetof(struct sockaddr_un, sun_path) + strlen(u->sun_path) + 1)
				     : (unsigned)below(r, sizeof *u + 2);
	}
	case 2: {
		struct sockaddr_un *u = (struct sockaddr_un *)buf;
		u->sun_family = AF_UNIX;
		u->sun_path[0] = 0;
		int n = snprintf(u->sun_path + 1, sizeof u->sun_path - 1, "fz%u", (unsigned)below(r, 4));
		return (unsigned)offsetof(struct sockaddr_un, sun_path) + 1 + n;
	}
	case 3: {
		struct sockaddr_in *in = (struct sockaddr_in *)buf;
		static const uint16_t ports[] = {0, 7, 80, 1023, 1024, 4242, 4243, 65535};
		in->sin_family = AF_INET;
		in->sin_port = htons(ports[below(r, 8)]);
		in->sin_addr.s_addr = chance(r, 80) ? htonl(0x7f000001) : (uint32_t)gen_int(r);
		return sizeof *in;
	}
	case 4: {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)buf;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(4242 + (uint16_t)below(r, 2));
		in6->sin6_addr.s6_addr[15] = chance(r, 80);
		return sizeof *in6;
	}
	case 5: {
		struct sockaddr_nl *nl = (struct sockaddr_nl *)buf;
		nl->nl_family = AF_NETLINK;
		nl->nl_pid = chance(r, 80) ? 0 : (uint32_t)gen_int(r);
		nl->nl_groups = chance(r, 80) ? 0 : (uint32_t)gen_int(r);
		return sizeof *nl;
	}
	default:
		fill(r, buf, 112);
		((uint16_t *)buf)[0] = (uint16_t)below(r, 48);
		return (unsigned)below(r, 120);
	}
}

/* Control messages for sendmsg at buf (room for 256 bytes): rights with
 * our fds, pipes' ends, stdio and bad numbers; credentials, ours or
 * others'; unknown levels and types; lengths that lie. */
static unsigned gen_cmsgs(struct task *t, char *buf)
{
	struct rng *r = &t->r;
	unsigned off = 0, n = 1 + (unsigned)below(r, 3);
	memset(buf, 0, 256);
	for (unsigned i = 0; i < n && off + CMSG_SPACE(16) <= 256; i++) {
		struct cmsghdr *h = (struct cmsghdr *)(buf + off);
		unsigned len;
		switch (below(r, 4)) {
		case 0: case 1: {
			unsigned k = 1 + (unsigned)below(r, 4);
			int *fds = (int *)CMSG_DATA(h);
			for (unsigned j = 0; j < k; j++)
				fds[j] = chance(r, 80) ? (int)gen_fd(t) : (int)gen_int(r);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			len = CMSG_LEN(k * sizeof(int));
			break;
		}
		case 2: {
			struct ucred *u = (struct ucred *)CMSG_DATA(h);
			u->pid = chance(r, 70) ? (pid_t)raw1(SYS_getpid, 0) : (pid_t)gen_int(r);
			u->uid = chance(r, 70) ? getuid() : (uid_t)gen_int(r);
			u->gid = chance(r, 70) ? getgid() : (gid_t)gen_int(r);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_CREDENTIALS;
			len = CMSG_LEN(sizeof *u);
			break;
		}
		default:
			fill(r, (char *)CMSG_DATA(h), 16);
			h->cmsg_level = chance(r, 50) ? SOL_SOCKET : (int)gen_int(r);
			h->cmsg_type = (int)below(r, 8);
			len = CMSG_LEN(below(r, 17));
		}
		h->cmsg_len = chance(r, 90) ? len : gen_len(r);
		off += CMSG_SPACE(len - CMSG_LEN(0));
	}
	return chance(r, 90) ? off : (unsigned)below(r, 300);
}

/* Remembers the fds an SCM_RIGHTS brought in (they are ours to use). */
static void take_rights(struct task *t, struct msghdr *m)
{
	if (m->msg_controllen > 256)
		return;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(0))
			for (unsigned i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int) && i < 16; i++)
				remember_fd(t, ((int *)CMSG_DATA(h))[i]);
}

static void fuzz_net(struct task *t)
{
	struct rng *r = &t->r;
	char *sa = t->scratch + 16384, *ctl = t->scratch + 16384 + 256, *data = t->scratch + 16384 + 512;
	struct msghdr *m = (struct msghdr *)(t->scratch + 16384 + 4096);
	struct iovec *iov = (struct iovec *)(t->scratch + 16384 + 4096 + 128);
	long ret = 0, fd = (long)gen_fd(t);
	unsigned sl;
	static const int fams[] = {AF_UNIX, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNSPEC, 99};
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_RDM, 11};
	unsigned what = (unsigned)below(r, 14);
	if (excluded("net")) {
		t->skipped++;
		return;
	}
	trace(t, "net %u fd=%ld", what, fd);
	if (sigsetjmp(t->env, 0) != 0) {
		t->faults++;
		return;
	}
	t->armed = 1;
	switch (what) {
	case 0: { /* a socket */
		int fam = fams[below(r, 8)], typ = types[below(r, 6)];
		int proto = chance(r, 80) ? 0 : (fam == AF_NETLINK ? (int)below(r, 24) : (int)below(r, 300));
		ret = raw3(SYS_socket, fam, typ | SOCK_NONBLOCK | (chance(r, 30) ? SOCK_CLOEXEC : 0), proto);
		remember_fd(t, ret);
		break;
	}
	case 1: { /* a pair */
		int *sv = (int *)sa;
		ret = raw6(SYS_socketpair, AF_UNIX, types[below(r, 3)] | SOCK_NONBLOCK, 0, (long)sv, 0, 0);
		if (ret == 0)
			remember_fd(t, sv[0]), remember_fd(t, sv[1]);
		break;
	}
	case 2:
		sl = gen_sockaddr(t, sa);
		ret = raw3(SYS_bind, fd, sa, sl);
		break;
	case 3:
		ret = raw2(SYS_listen, fd, chance(r, 80) ? (long)below(r, 8) : (long)gen_int(r));
		break;
	case 4:
		sl = gen_sockaddr(t, sa);
		ret = raw3(SYS_connect, fd, sa, sl);
		break;
	case 5: {
		unsigned *l = (unsigned *)(sa + 200);
		*l = chance(r, 80) ? 128 : (unsigned)gen_int(r);
		ret = raw6(SYS_accept4, fd, chance(r, 70) ? (long)sa : 0, (long)l, SOCK_NONBLOCK | (chance(r, 50) ? SOCK_CLOEXEC : 0),
			   0, 0);
		remember_fd(t, ret);
		break;
	}
	case 6: case 7: { /* sendmsg */
		memset(m, 0, sizeof *m);
		fill(r, data, 256);
		if (chance(r, 40)) {
			m->msg_name = sa;
			m->msg_namelen = gen_sockaddr(t, sa);
		}
		iov[0].iov_base = data;
		iov[0].iov_len = below(r, 256);
		iov[1].iov_base = chance(r, 90) ? data : (void *)gen_ptr(t, &(int){0});
		iov[1].iov_len = chance(r, 90) ? below(r, 64) : gen_len(r);
		m->msg_iov = iov;
		m->msg_iovlen = chance(r, 90) ? 1 + below(r, 2) : gen_int(r);
		if (chance(r, 70)) {
			m->msg_control = ctl;
			m->msg_controllen = gen_cmsgs(t, ctl);
		}
		/* A netlink request of the kinds `ip` sends, now and then. */
		if (chance(r, 20)) {
			struct nlmsghdr *nh = (struct nlmsghdr *)data;
			nh->nlmsg_len = chance(r, 90) ? 32 : (uint32_t)gen_int(r);
			static const uint16_t nt[] = {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_NEWLINK, RTM_DELADDR,
						      RTM_NEWROUTE, NLMSG_DONE, 0};
			nh->nlmsg_type = nt[below(r, 8)];
			nh->nlmsg_flags = NLM_F_REQUEST | (chance(r, 60) ? NLM_F_DUMP : 0);
			iov[0].iov_len = 32;
		}
		ret = raw3(SYS_sendmsg, fd, m, (long)(MSG_DONTWAIT | MSG_NOSIGNAL | (chance(r, 20) ? gen_int(r) & ~0x40ul : 0)));
		break;
	}
	case 8: case 9: { /* recvmsg */
		memset(m, 0, sizeof *m);
		m->msg_name = chance(r, 50) ? sa : NULL;
		m->msg_namelen = chance(r, 90) ? 128 : (unsigned)gen_int(r);
		iov[0].iov_base = data;
		iov[0].iov_len = chance(r, 90) ? below(r, 512) : gen_len(r);
		m->msg_iov = iov;
		m->msg_iovlen = 1;
		static const unsigned cl[] = {0, 1, 16, 20, 24, 32, 64, 256};
		m->msg_control = chance(r, 80) ? ctl : NULL;
		m->msg_controllen = cl[below(r, 8)];
		int fl = MSG_DONTWAIT | (chance(r, 20) ? MSG_PEEK : 0) | (chance(r, 20) ? MSG_TRUNC : 0) |
			 (chance(r, 30) ? MSG_CMSG_CLOEXEC : 0) | (chance(r, 10) ? MSG_ERRQUEUE : 0) |
			 (chance(r, 10) ? MSG_WAITALL : 0);
		ret = raw3(SYS_recvmsg, fd, m, fl);
		if (ret >= 0 && m->msg_control == ctl)
			take_rights(t, m);
		break;
	}
	case 10: { /* socket options, including ones holding pointers */
		static const int so[] = {SO_PASSCRED, SO_RCVBUF, SO_SNDBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_REUSEADDR,
					 SO_LINGER, SO_ATTACH_FILTER, SO_PEERCRED, SO_TYPE, SO_ERROR, SO_PEEK_OFF};
		int opt = so[below(r, 12)], level = chance(r, 85) ? SOL_SOCKET : (int)below(r, 300);
		long *v = (long *)sa;
		fill(r, sa, 64);
		if (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO)
			v[0] = 0, v[1] = (long)below(r, 3000);
		if (opt == SO_ATTACH_FILTER && chance(r, 70)) {
			/* struct sock_fprog: a length and a pointer to the program */
			v[0] = (long)below(r, 8);
			v[1] = chance(r, 80) ? (long)(sa + 32) : (long)gen_ptr(t, &(int){0});
		}
		unsigned *l = (unsigned *)(sa + 200);
		*l = chance(r, 80) ? 16 : (unsigned)gen_int(r);
		if (chance(r, 50))
			ret = raw6(SYS_setsockopt, fd, level, opt, (long)sa, chance(r, 80) ? (long)*l : (long)gen_int(r), 0);
		else
			ret = raw6(SYS_getsockopt, fd, level, opt, (long)sa, (long)l, 0);
		break;
	}
	case 11: /* datagrams by address */
		sl = gen_sockaddr(t, sa);
		if (chance(r, 50))
			ret = raw6(SYS_sendto, fd, (long)data, (long)below(r, 300), MSG_DONTWAIT | MSG_NOSIGNAL, (long)sa, sl);
		else {
			unsigned *l = (unsigned *)(sa + 200);
			*l = 128;
			ret = raw6(SYS_recvfrom, fd, (long)data, (long)below(r, 300), MSG_DONTWAIT, (long)sa, (long)l);
		}
		break;
	case 12: { /* names and shutdown */
		unsigned *l = (unsigned *)(sa + 200);
		*l = chance(r, 80) ? 128 : (unsigned)gen_int(r);
		static const long nrs[] = {SYS_getsockname, SYS_getpeername};
		ret = chance(r, 70) ? raw3(nrs[below(r, 2)], fd, sa, l) : raw2(SYS_shutdown, fd, (long)below(r, 4));
		break;
	}
	default: { /* several messages at once */
		struct mmsghdr *mm = (struct mmsghdr *)(t->scratch + 16384 + 8192);
		unsigned n = 1 + (unsigned)below(r, 4);
		memset(mm, 0, n * sizeof *mm);
		for (unsigned i = 0; i < n; i++) {
			iov[i].iov_base = data + 64 * i;
			iov[i].iov_len = below(r, 64);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		if (chance(r, 50))
			ret = raw6(SYS_sendmmsg, fd, (long)mm, n, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
		else
			ret = raw6(SYS_recvmmsg, fd, (long)mm, n, MSG_DONTWAIT, 0, 0);
	}
	}
	t->armed = 0;
	t->calls++;
	(void)ret;
}

/* Timers: at most 8 POSIX timers per task, firing quiet signals. */
static void fuzz_timer(struct task *t)
{
	struct rng *r = &t->r;
	int *ids = (int *)(t->scratch + 32768 + 2048); /* the task's timer ids, 8 slots */
	struct itimerspec *its = (struct itimerspec *)(t->scratch + 32768 + 2048 + 64);
	struct sigevent *ev = (struct sigevent *)(t->scratch + 32768 + 2048 + 128);
	int id = chance(r, 85) ? ids[below(r, 8)] : (int)gen_int(r);
	long ret = 0;
	unsigned what = (unsigned)below(r, 9);
	if (excluded("timer")) {
		t->skipped++;
		return;
	}
	/* Short times only: value up to 5 ms, an interval of at least 100 us
	 * or none (a storm of signals would only slow the fuzzing). */
	its->it_value.tv_sec = 0;
	its->it_value.tv_nsec = chance(r, 90) ? (long)below(r, 5000000) : (long)gen_int(r);
	its->it_interval.tv_sec = 0;
	its->it_interval.tv_nsec = chance(r, 50) ? 0 : 100000 + (long)below(r, 5000000);
	trace(t, "timer %u id=%d value=%ld interval=%ld", what, id, its->it_value.tv_nsec, its->it_interval.tv_nsec);
	if (sigsetjmp(t->env, 0) != 0) {
		t->faults++;
		return;
	}
	t->armed = 1;
	switch (what) {
	case 0: case 1: {
		static const int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID,
					     CLOCK_THREAD_CPUTIME_ID, CLOCK_REALTIME_ALARM, 77};
		static const int sigs[] = {SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGIO, 0};
		memset(ev, 0, sizeof *ev);
		ev->sigev_signo = chance(r, 90) ? sigs[below(r, 6)] : (int)gen_int(r);
		int quiet = 0;
		for (unsigned i = 0; i < sizeof quiet_sigs / sizeof quiet_sigs[0]; i++)
			quiet |= ev->sigev_signo == quiet_sigs[i];
		if (!quiet && ev->sigev_signo > 0 && ev->sigev_signo < 65)
			ev->sigev_signo = SIGALRM; /* never one that ends, stops or faults us */
		static const int notify[] = {SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID, SIGEV_THREAD_ID, 2, 99};
		ev->sigev_notify = notify[below(r, 6)];
		ev->_sigev_un._tid = chance(r, 80) ? (int)raw1(SYS_gettid, 0) : (int)gen_int(r);
		ret = raw3(SYS_timer_create, clocks[below(r, 7)], chance(r, 90) ? (long)ev : 0, (long)&ids[below(r, 8)]);
		break;
	}
	case 2: case 3:
		ret = raw6(SYS_timer_settime, id, chance(r, 80) ? 0 : TIMER_ABSTIME, (long)its,
			   chance(r, 50) ? (long)(its + 1) : 0, 0, 0);
		break;
	case 4:
		ret = chance(r, 50) ? raw2(SYS_timer_gettime, id, its + 1) : raw1(SYS_timer_getoverrun, id);
		break;
	case 5:
		ret = raw1(SYS_timer_delete, id);
		break;
	case 6: { /* interval timers: the two firing quiet signals, and PROF */
		struct { struct timeval it_interval, it_value; } *itv = (void *)(its + 2);
		itv->it_value.tv_sec = 0;
		itv->it_value.tv_usec = (long)below(r, 5000);
		itv->it_interval.tv_sec = 0;
		itv->it_interval.tv_usec = chance(r, 50) ? 0 : 100 + (long)below(r, 5000);
		ret = raw3(SYS_setitimer, (long)below(r, 4), itv, chance(r, 50) ? (long)(itv + 1) : 0);
		break;
	}
	case 7:
		ret = raw1(SYS_alarm, chance(r, 80) ? 0 : 1);
		break;
	default: { /* timerfds */
		int tfd = (int)raw2(SYS_timerfd_create, chance(r, 50) ? CLOCK_MONOTONIC : CLOCK_REALTIME, O_NONBLOCK);
		remember_fd(t, tfd);
		ret = raw6(SYS_timerfd_settime, chance(r, 70) ? tfd : (long)gen_fd(t), chance(r, 80) ? 0 : 1, (long)its,
			   (long)(its + 1), 0, 0);
	}
	}
	t->armed = 0;
	t->calls++;
	(void)ret;
}

/* Job control: sessions and groups, and stopping the forked child (the
 * main task only), which is continued at once. */
static void fuzz_jobctl(struct task *t)
{
	struct rng *r = &t->r;
	long ret = 0;
	unsigned what = (unsigned)below(r, 6);
	if (excluded("jobctl")) {
		t->skipped++;
		return;
	}
	trace(t, "jobctl %u child=%d", what, child_pid);
	if (sigsetjmp(t->env, 0) != 0) {
		t->faults++;
		return;
	}
	t->armed = 1;
	switch (what) {
	case 0:
		ret = raw1(SYS_setsid, 0);
		break;
	case 1: {
		long pid = chance(r, 50) ? 0 : (t == &tasks[0] ? child_pid : (long)gen_int(r));
		long pg = chance(r, 50) ? 0 : (chance(r, 50) ? raw1(SYS_getpid, 0) : (long)gen_int(r));
		ret = raw2(SYS_setpgid, pid, pg);
		break;
	}
	case 2: case 3:
		if (t == &tasks[0] && child_pid > 0) {
			static const int stops[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
			long target = chance(r, 70) ? child_pid : -raw1(SYS_getpgid, child_pid);
			if (target == -raw1(SYS_getpgid, 0))
				target = child_pid; /* not our own group */
			ret = raw2(SYS_kill, target, stops[below(r, 4)]);
			struct timespec ts = {0, (long)below(r, 2000000)};
			raw2(SYS_nanosleep, &ts, NULL);
			int *st = (int *)(t->scratch + 32768 + 3072);
			raw6(SYS_wait4, child_pid, (long)st, 1 | 2 | 8 /* WNOHANG|WUNTRACED|WCONTINUED */, 0, 0, 0);
			raw2(SYS_kill, child_pid, SIGCONT);
			raw6(SYS_wait4, child_pid, (long)st, 1 | 8, 0, 0, 0);
		} else {
			ret = raw2(SYS_kill, raw1(SYS_getpid, 0), SIGCONT);
		}
		break;
	case 4: { /* the terminal calls on stdio (pipes) and /dev/tty */
		static const unsigned long req[] = {0x540f /* TIOCGPGRP */, 0x5410 /* TIOCSPGRP */, 0x540e /* TIOCSCTTY */,
						    0x5422 /* TIOCNOTTY */, 0x5429 /* TIOCGSID */};
		int *pg = (int *)(t->scratch + 32768 + 3072);
		*pg = chance(r, 50) ? (int)raw1(SYS_getpgid, 0) : (int)gen_int(r);
		ret = raw3(SYS_ioctl, chance(r, 80) ? (long)below(r, 3) : (long)gen_fd(t), req[below(r, 5)], pg);
		break;
	}
	default:
		ret = raw1(chance(r, 50) ? SYS_getsid : SYS_getpgid, chance(r, 50) ? 0 : (long)gen_int(r));
	}
	t->armed = 0;
	t->calls++;
	(void)ret;
}

/* A hostile program image: a spoilt ELF or a #! script, into buf
 * (returns its length). A well-formed ELF's code exits at once. */
static size_t gen_image(struct task *t, unsigned char *buf, size_t room)
{
	struct rng *r = &t->r;
	static const char *const interps[] = {"/x0", "/x1", "/proc/self/exe", "/proc/self/fd/3", "/dev/zero", "/",
					      "", "/nonexistent", "dir", "/x0/", "/proc/self/fd/0"};
	memset(buf, 0, room);
	if (chance(r, 30)) {
		int n = snprintf((char *)buf, room, "#!%s%s%s\n", chance(r, 20) ? " " : "", interps[below(r, 11)],
				 chance(r, 30) ? " -x arg" : "");
		if (chance(r, 10)) { /* a line longer than BINPRM_BUF_SIZE, or none */
			memset(buf + 2, chance(r, 50) ? 'a' : '/', 300);
			n = chance(r, 50) ? 302 : 2;
		}
		return (size_t)n;
	}
	Elf64_Ehdr *e = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + 64);
	static const unsigned char code[] = {0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05}; /* exit(0) */
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = chance(r, 95) ? ELFCLASS64 : (unsigned char)below(r, 4);
	e->e_ident[EI_DATA] = chance(r, 95) ? ELFDATA2LSB : 2;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = chance(r, 90) ? (chance(r, 50) ? ET_EXEC : ET_DYN) : (uint16_t)below(r, 6);
	e->e_machine = chance(r, 95) ? EM_X86_64 : (uint16_t)gen_int(r);
	e->e_version = EV_CURRENT;
	e->e_phoff = chance(r, 90) ? 64 : gen_len(r);
	e->e_ehsize = 64;
	e->e_phentsize = chance(r, 95) ? sizeof *ph : (uint16_t)gen_int(r);
	unsigned nph = chance(r, 90) ? 1 + (unsigned)below(r, 3) : (unsigned)below(r, 0x10000);
	e->e_phnum = (uint16_t)nph;
	static const uint64_t vaddrs[] = {0x400000, 0x10000, 0, 0x7ffffffff000, 0xffffffff80000000,
					  0x800000000000, 0x7fffffffe000, 0x1000};
	uint64_t base = chance(r, 70) ? 0x400000 : vaddrs[below(r, 8)];
	size_t len = 64 + 3 * sizeof *ph + 64;
	for (unsigned i = 0; i < 3; i++) {
		ph[i].p_type = PT_LOAD;
		ph[i].p_flags = PF_R | PF_X | (i ? PF_W : 0);
		ph[i].p_offset = 0;
		ph[i].p_vaddr = ph[i].p_paddr = base + i * 0x200000;
		ph[i].p_filesz = len;
		ph[i].p_memsz = chance(r, 80) ? 0x1000 : gen_len(r);
		ph[i].p_align = chance(r, 80) ? 0x1000 : gen_int(r);
		switch (below(r, 12)) {
		case 0: ph[i].p_offset = gen_len(r); break;
		case 1: ph[i].p_filesz = gen_len(r); break;
		case 2: ph[i].p_vaddr = gen_int(r); break;
		case 3: ph[i].p_type = PT_INTERP, ph[i].p_offset = 64 + 3 * sizeof *ph + 16, ph[i].p_filesz = 16; break;
		case 4: ph[i].p_type = (uint32_t)below(r, 8) | (chance(r, 50) ? 0x6474e550 : 0); break;
		case 5: ph[i].p_vaddr = base; break; /* overlapping */
		}
	}
	char *interp = (char *)(buf + 64 + 3 * sizeof *ph + 16);
	snprintf(interp, 16, "%s", interps[below(r, 11)]);
	if (chance(r, 20))
		memset(interp, 'i', 16); /* unterminated */
	e->e_entry = chance(r, 85) ? base + 64 + 3 * sizeof *ph : vaddrs[below(r, 8)] + below(r, 64);
	memcpy(buf + 64 + 3 * sizeof *ph, code, sizeof code);
	if (chance(r, 10))
		return (size_t)below(r, len); /* cut short */
	return len;
}

/* execve of a hostile image, in a grandchild that is killed after a few
 * milliseconds whatever it became: written to a memfd (run by
 * execveat(AT_EMPTY_PATH), as fexecve does) or, when the root is
 * writable, to /x0 or /x1, which images may name as their interpreter. */
static void fuzz_exec(struct task *t)
{
	struct rng *r = &t->r;
	unsigned char *img = (unsigned char *)t->scratch + 32768 + 4096;
	if (excluded("exec")) {
		t->skipped++;
		return;
	}
	size_t n = gen_image(t, img, 1024);
	int viamem = chance(r, 50);
	const char *path = chance(r, 50) ? "/x0" : "/x1";
	trace(t, "exec %s %zu bytes %.2s", viamem ? "memfd" : path, n, img);
	int fd;
	if (viamem)
		fd = (int)raw2(SYS_memfd_create, "fz", 0);
	else
		fd = (int)raw3(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0755);
	if (fd < 0) {
		t->calls++;
		return;
	}
	raw3(SYS_write, fd, img, n);
	raw2(SYS_fchmod, fd, 0755);
	if (!viamem) {
		raw1(SYS_close, fd);
		fd = -1;
	}
	u64 all = ~0ul, old = 0;
	raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
	long pid = raw1(SYS_fork, 0);
	if (pid == 0) {
		/* The grandchild: registers and its own stack only. */
		static const char *const argv[] = {"fz", "-x", NULL};
		static const char *const envp[] = {"A=1", NULL};
		static const u64 none = 0;
		raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
		long e = fd >= 0 ? raw6(SYS_execveat, fd, (long)"", (long)argv, (long)envp, 0x1000 /* AT_EMPTY_PATH */, 0)
				 : raw3(SYS_execve, path, argv, envp);
		raw1(SYS_exit_group, (int)-e & 0x7f);
	}
	raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
	if (pid > 0) {
		int *st = (int *)(t->scratch + 32768 + 3072);
		for (int i = 0; i < 3; i++) {
			struct timespec ts = {0, 1000000};
			if (raw6(SYS_wait4, pid, (long)st, 1 | 0x40000000, 0, 0, 0) != 0)
				break;
			raw2(SYS_nanosleep, &ts, NULL);
		}
		raw2(SYS_kill, pid, SIGKILL);
		raw6(SYS_wait4, pid, (long)st, 0x40000000, 0, 0, 0);
	}
	if (fd >= 0)
		raw1(SYS_close, fd);
	t->calls++;
}

/* --- self-check ----------------------------------------------------------
 *
 * The fuzzer's own memory is never handed to a call, so it must not
 * change: a few guard words in .data and .bss and the tasks' pointers are
 * checked after every operation. A change means a call wrote or unmapped
 * memory it was not given (a kshim bug, or a hole in the rules above):
 * exit status 4, after a trace line naming the operation. */
static volatile u64 guard_data[4] = {0x6b7368696d2d6675, 0x7a7a2d6775617264, 1, 2};
static volatile u64 guard_bss[4];
static struct {
	char *scratch, *altstack;
} task_copy[3];
static char (*ring_copy[3])[RING_LINE];

static void arm_guards(void)
{
	for (int i = 0; i < 4; i++)
		guard_bss[i] = ~guard_data[i];
	for (int i = 0; i < 3; i++)
		task_copy[i].scratch = tasks[i].scratch, task_copy[i].altstack = tasks[i].altstack,
		ring_copy[i] = tasks[i].ring;
}

static void check_guards(struct task *t, const char *after)
{
	int bad = 0;
	for (int i = 0; i < 4; i++)
		bad |= guard_bss[i] != ~guard_data[i] || guard_data[0] != 0x6b7368696d2d6675;
	for (int i = 0; i < 3; i++)
		bad |= task_copy[i].scratch != tasks[i].scratch || task_copy[i].altstack != tasks[i].altstack;
	if (!bad)
		return;
	static atomic_int reporting;
	static const struct timespec second = {1, 0};
	if (atomic_exchange(&reporting, 1)) /* another task reports (and ends the run) */
		for (;;)
			raw2(SYS_nanosleep, &second, NULL);
	char b[512];
	int n = snprintf(b, sizeof b, "fuzz_syscalls: %s's own memory changed after %s: guard_data@%p", t->name, after,
			 (void *)guard_data);
	for (int i = 0; i < 4; i++)
		n += snprintf(b + n, sizeof b - n, " %#lx", guard_data[i]);
	n += snprintf(b + n, sizeof b - n, " guard_bss@%p", (void *)guard_bss);
	for (int i = 0; i < 4 && n < (int)sizeof b; i++)
		n += snprintf(b + n, sizeof b - n, " %#lx", guard_bss[i]);
	for (int i = 0; i < 3 && n < (int)sizeof b; i++)
		n += snprintf(b + n, sizeof b - n, " task%d=%p/%p", i, (void *)tasks[i].scratch, (void *)tasks[i].altstack);
	if (n < (int)sizeof b - 1)
		b[n++] = '\n', b[n] = 0;
	say(b);
	/* The thread shares this memory: its operations are suspects too.
	 * The task structs themselves may be what changed: the rings are
	 * found through the copies. */
	for (int i = 0; i < 3; i++)
		if ((t == &tasks[2]) == (i == 2)) {
			if (!tasks[i].ring)
				tasks[i].ring = ring_copy[i], tasks[i].ring_n = 0;
			dump_ring(&tasks[i]);
		}
	dump_maps();
	raw1(SYS_exit_group, 4);
}

/* The test fills its masked paths (kshim run --masked-path) with a
 * secret that begins with the bytes of leak_needle (each stored plus one,
 * so that the program's own file, which the fuzzer may read through
 * /proc/self/exe, does not hold them). After a call that returned
 * something, the task's scratch memory, where its buffers point, must not
 * hold it: exit status 5, after a line naming the call and the ring. */
static const char leak_needle_enc[] = {'G', 'V', '[', '[', 'T', 'F', 'D', 'S', 'F', 'U', '.', 'y', 0};
static char leak_needle[sizeof leak_needle_enc];

static void leak_check(struct task *t, long nr)
{
	if (!leak_needle[0])
		for (size_t i = 0; i + 1 < sizeof leak_needle_enc; i++)
			leak_needle[i] = leak_needle_enc[i] - 1;
	if (!memmem(t->scratch, SCRATCH_LEN, leak_needle, sizeof leak_needle_enc - 1))
		return;
	char b[160];
	snprintf(b, sizeof b, "fuzz_syscalls: %s read a masked path's secret (syscall %ld)\n", t->name, nr);
	say(b);
	dump_ring(t);
	raw1(SYS_exit_group, 5);
}

/* Paths at and around the masked and read-only paths, for fuzz_guarded. */
static const char *const guarded_paths[] = {
	"masked", "/masked", "mdir", "mdir/secret", "/mdir/./secret", "mdir/../masked", "/proc/self/root/mdir/secret",
	"/proc/self/cwd/masked", "link_mdir/secret", "mdir/", "ro", "/ro", "rodir", "rodir/f", "rodir/new",
	"rodir/../ro", "/proc/self/root/rodir/f", "link_ro", "rodir/f/", "//rodir//f", "file", "dir", "new",
};

/* fuzz_guarded: what random numbers rarely make against the masked and
 * read-only paths: open one with random flags, then read it into scratch
 * (leak_check), list it, write, truncate, allocate, change its mode,
 * times or xattrs, copy into it, map it shared and writable, reopen it
 * through /proc/self/fd; or rename, link, unlink, symlink between two. */
static void fuzz_guarded(struct task *t)
{
	struct rng *r = &t->r;
	const unsigned np = sizeof guarded_paths / sizeof guarded_paths[0];
	const char *p = guarded_paths[below(r, np)], *q = guarded_paths[below(r, np)];
	static const int accs[] = {O_RDONLY, O_WRONLY, O_RDWR, O_PATH, O_RDONLY | O_DIRECTORY, O_WRONLY | O_TRUNC,
				   O_RDWR | O_APPEND, O_WRONLY | O_CREAT, O_RDWR | O_TMPFILE, O_RDONLY | O_NOFOLLOW};
	long ret;
	if (chance(r, 25)) {
		int k = (int)below(r, 6);
		trace(t, "guarded %d %s %s", k, p, q);
		switch (k) {
		case 0:
			ret = raw6(SYS_renameat2, AT_FDCWD, (long)p, AT_FDCWD, (long)q, below(r, 3), 0);
			break;
		case 1:
			ret = raw6(SYS_linkat, AT_FDCWD, (long)p, AT_FDCWD, (long)q, chance(r, 50) ? AT_SYMLINK_FOLLOW : 0, 0);
			break;
		case 2:
			ret = raw3(SYS_unlinkat, AT_FDCWD, p, chance(r, 30) ? AT_REMOVEDIR : 0);
			break;
		case 3:
			ret = raw3(SYS_symlinkat, q, AT_FDCWD, p);
			break;
		case 4:
			ret = raw3(SYS_fchmodat, AT_FDCWD, p, 0777);
			break;
		default:
			ret = raw6(SYS_utimensat, AT_FDCWD, (long)p, 0, 0, 0, 0);
		}
		(void)ret;
		return;
	}
	int acc = accs[below(r, sizeof accs / sizeof accs[0])];
	int k = (int)below(r, 12);
	trace(t, "guarded open %s %#x, %d", p, acc, k);
	long fd = raw4(SYS_openat, AT_FDCWD, p, acc | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char *buf = t->scratch + below(r, 64) * 1024;
	switch (k) {
	case 0:
	case 1:
		ret = raw3(SYS_read, fd, buf, 4096);
		break;
	case 2:
		ret = raw4(SYS_pread64, fd, buf, 4096, below(r, 8));
		break;
	case 3:
		ret = raw3(SYS_getdents64, fd, buf, 4096);
		break;
	case 4:
		ret = raw3(SYS_write, fd, "written\n", 8);
		break;
	case 5:
		ret = raw2(SYS_ftruncate, fd, below(r, 3) * 4096);
		break;
	case 6:
		ret = raw4(SYS_fallocate, fd, 0, 0, 8192);
		break;
	case 7:
		ret = raw2(SYS_fchmod, fd, 0777);
		if (ret < 0)
			ret = raw6(SYS_fsetxattr, fd, (long)"user.k", (long)"v", 1, 0, 0);
		break;
	case 8: {
		long in = t->nfds ? t->fds[below(r, t->nfds)] : 0;
		ret = raw6(chance(r, 50) ? SYS_copy_file_range : SYS_sendfile, chance(r, 50) ? in : fd,
			   chance(r, 50) ? fd : in, 0, 4096, 0, 0);
		if (ret > 0 && chance(r, 50))
			ret = raw4(SYS_pread64, fd, buf, 4096, 0);
		break;
	}
	case 9: {
		long m = raw6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m >= 0 && (u64)m < (1ul << 47))
			raw2(SYS_munmap, m, 4096);
		ret = 0;
		break;
	}
	default: {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%ld%s", fd, chance(r, 50) ? "" : "/secret");
		long fd2 = raw4(SYS_openat, AT_FDCWD, path, (chance(r, 50) ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC, 0);
		ret = fd2 < 0 ? fd2 : raw3(SYS_read, fd2, buf, 4096);
		if (fd2 >= 0)
			raw1(SYS_close, fd2);
	}
	}
	raw1(SYS_close, fd);
	if (ret > 0)
		leak_check(t, SYS_read);
}

/* --- the loop ------------------------------------------------------------ */

static void fuzz_loop(struct task *t, long calls)
{
	struct rng *r = &t->r;
	for (long i = 0; i < calls && !atomic_load(&stop_flag); i++) {
		if ((i & 15) == 0 && elapsed_ms() > budget_s * 1000)
			break;
		if ((i & 63) == 63) /* reap what clone children exited */
			while (raw6(SYS_wait4, -1, 0, 1 /* WNOHANG */ | 0x40000000 /* __WALL */, 0, 0, 0) > 0)
				;
		int op = (int)below(r, 100);
		if (op < 2) {
			fuzz_sigreturn(t);
			check_guards(t, "rt_sigreturn");
			continue;
		}
		if (op < 4) {
			fuzz_insn(t);
			check_guards(t, "an instruction");
			continue;
		}
		if (op < 20) {
			if (op >= 18)
				fuzz_guarded(t);
			else if (op < 12)
				fuzz_net(t);
			else if (op < 16)
				fuzz_timer(t);
			else if (below(r, 2))
				fuzz_jobctl(t);
			else
				fuzz_exec(t);
			check_guards(t, "a structured operation");
			continue;
		}
		long nr = gen_nr(r);
		const char *s = (nr >= 0 && nr < NR_MAX && sig[nr]) ? sig[nr] : "------";
		u64 a[6];
		int kinds[6] = {PK_BAD, PK_BAD, PK_BAD, PK_BAD, PK_BAD, PK_BAD};
		for (int j = 0; j < 6; j++) {
			char c = j < (int)strlen(s) ? s[j] : '-';
			if (c != '-' && chance(r, 5))
				c = '-'; /* sometimes anything, whatever the type */
			switch (c) {
			case 'f':
				a[j] = gen_fd(t);
				break;
			case 'p':
				a[j] = gen_ptr(t, &kinds[j]);
				if (kinds[j] == PK_SCRATCH)
					fill_at(t, a[j], 256);
				break;
			case 'l':
				a[j] = gen_len(r);
				break;
			case 'P':
				a[j] = gen_path(t, &kinds[j]);
				break;
			case 'd': {
				u64 pids[5] = {0, -1ul, (u64)raw1(SYS_getpid, 0), (u64)child_pid, (u64)raw1(SYS_getppid, 0)};
				a[j] = chance(r, 70) ? pids[below(r, 5)] : gen_int(r);
				break;
			}
			case 'S':
				a[j] = safe_signal(r);
				break;
			case 'v':
				gen_iovec(t, &a[j], &kinds[j], 1 + below(r, chance(r, 90) ? 8 : 1100));
				break;
			case 't':
				a[j] = gen_timeout(t);
				break;
			case 'a':
				a[j] = chance(r, 60) ? (u64)play + below(r, PLAY_LEN / PG) * PG + (chance(r, 10) ? below(r, PG) : 0)
						     : gen_ptr(t, &kinds[j]);
				break;
			case 'i':
				a[j] = gen_int(r);
				break;
			default:
				a[j] = chance(r, 50) ? gen_ptr(t, &kinds[j]) : gen_int(r);
			}
		}
		/* The length after a memory range's address stays mostly in the
		 * playground. */
		for (int j = 0; j + 1 < 6 && j < (int)strlen(s); j++)
			if (s[j] == 'a' && s[j + 1] == 'l' && chance(r, 60))
				a[j + 1] = PG * (1 + below(r, 64));
		if (((nr == SYS_close && (int)a[0] == TRACE_FD) ||
				((nr == SYS_dup2 || nr == SYS_dup3) && (int)a[1] == TRACE_FD) ||
				(nr == SYS_close_range && (uint32_t)a[0] <= TRACE_FD && (uint32_t)a[1] >= TRACE_FD))) {
			t->skipped++;
			continue;
		}
		if (excluded_nr((u64)nr) || !sanitize(t, nr, a, kinds)) {
			t->skipped++;
			continue;
		}
		long ret;
		trace(t, "syscall %ld (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx)", nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (sigsetjmp(t->env, 0) == 0) {
			t->armed = 1;
			if (nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork) {
				/* The child starts with every signal blocked and
				 * exits at once: a handler run by a CLONE_VM child
				 * on the fuzzer's own stack (or a siglongjmp from
				 * it into the parent's loop) would wreck the parent. */
				u64 all = ~0ul, old = 0;
				raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
				ret = raw_clone_exit(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
				raw6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
			} else
				ret = raw6(nr, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
			t->armed = 0;
			t->calls++;
			after(t, nr, a, kinds, ret);
			if (ret > 0)
				leak_check(t, nr);
		} else {
			t->faults++;
		}
		check_guards(t, "a syscall");
	}
}

/* --- set-up -------------------------------------------------------------- */

static long calls_per_task;

static void *thread_main(void *arg)
{
	struct task *t = arg;
	enter_task(t);
	while (!atomic_load(&start_flag))
		sched_yield();
	if (!excluded("task:thread"))
		fuzz_loop(t, calls_per_task);
	atomic_store(&thread_done, 1);
	return NULL;
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (elapsed_ms() > (budget_s + 5) * 1000) {
			say("fuzz_syscalls: watchdog: a call blocked\n");
			for (int i = 0; i < 2; i++)
				dump_ring(&tasks[i]);
			raw1(SYS_exit_group, 3);
		}
	}
	return NULL;
}

/* Reading the shim's user stub page works only under kshim; natively it is
 * kernel memory and the read faults. */
static sigjmp_buf probe_env;
static void probe_fault(int sig)
{
	siglongjmp(probe_env, sig);
}

static void refuse_native(void)
{
	struct sigaction sa = {.sa_handler = probe_fault}, old;
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(probe_env, 1) == 0) {
		volatile unsigned char b = *(volatile unsigned char *)SHIM_USER_TEXT;
		(void)b;
		sigaction(SIGSEGV, &old, NULL);
		return;
	}
	fprintf(stderr, "fuzz_syscalls: refusing to run natively: it makes random syscalls and must run only "
			"under kshim (it found no kshim stub page at %#lx)\n", SHIM_USER_TEXT);
	exit(101);
}

static void setup_fds(struct task *t)
{
	static const char *const opens[] = {"/", ".", "/proc/self/maps", "file", "dir", "big", "/proc/self/status", "masked",
					    "mdir", "ro", "rodir", "rodir/f", "/dev/null", "/dev/zero", "/dev/urandom"};
	int p[2];
	/* The host's devices only when paths at them are fuzzed too. */
	unsigned n = sizeof opens / sizeof opens[0] - (excluded("path:dev") ? 3 : 0);
	for (unsigned i = 0; i < n; i++) {
		int fd = open(opens[i], O_RDONLY | O_NONBLOCK);
		if (fd >= 0)
			remember_fd(t, fd);
	}
	int fd = open("rw", O_RDWR | O_CREAT | O_NONBLOCK, 0644);
	if (fd >= 0)
		remember_fd(t, fd);
	if (pipe2(p, O_NONBLOCK) == 0)
		remember_fd(t, p[0]), remember_fd(t, p[1]);
	fd = (int)raw2(SYS_eventfd2, 0, O_NONBLOCK);
	if (fd >= 0)
		remember_fd(t, fd);
	fd = (int)raw1(SYS_epoll_create1, 0);
	if (fd >= 0)
		remember_fd(t, fd);
	fd = open("/", O_PATH);
	if (fd >= 0)
		remember_fd(t, fd);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: fuzz_syscalls SEED CALLS SECONDS [CANARY [EXCLUDE]]\n");
		return 2;
	}
	refuse_native();
	u64 seed = strtoul(argv[1], NULL, 0);
	calls_per_task = strtol(argv[2], NULL, 0);
	budget_s = strtol(argv[3], NULL, 0);
	if (argc > 4 && argv[4][0])
		canary = argv[4];
	if (argc > 5)
		snprintf(exclude, sizeof exclude, ",%s,", argv[5]);
	tracing = getenv("FUZZ_TRACE") != NULL;
	if (dup2(2, TRACE_FD) != TRACE_FD)
		die("dup2 trace fd");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("fuzz_syscalls seed=%lu calls=%ld seconds=%ld\n", seed, calls_per_task, budget_s);
	fflush(stdout);

	/* Memory: the per-task areas, the playground and special pages. */
	play = map(PLAY_LEN, PROT_READ | PROT_WRITE);
	rodata = map(PG, PROT_READ | PROT_WRITE);
	edge = map(2 * PG, PROT_READ | PROT_WRITE);
	jit = map(PG, PROT_READ | PROT_WRITE | PROT_EXEC);
	munmap(edge + PG, PG);
	init_task(&tasks[0], "main", seed, 0);
	init_task(&tasks[1], "thread", seed, 1);
	init_task(&tasks[2], "child", seed, 2);
	fill(&tasks[0].r, rodata, PG);
	mprotect(rodata, PG, PROT_READ);
	extern char __executable_start[], etext[];
	text_lo = (u64)__executable_start, text_hi = (u64)etext;
	install_handlers();
	atomic_store(&ntasks, 3);
	enter_task(&tasks[0]);
	setup_fds(&tasks[0]);
	tasks[1].nfds = tasks[2].nfds = tasks[0].nfds;
	memcpy(tasks[1].fds, tasks[0].fds, sizeof tasks[0].fds);
	memcpy(tasks[2].fds, tasks[0].fds, sizeof tasks[0].fds);

	/* The threads exist (and their stacks are mapped) before the maps
	 * are read, so they are protected; they wait for start_flag. */
	pthread_t th, wd;
	if (pthread_create(&wd, NULL, watchdog, NULL) || pthread_create(&th, NULL, thread_main, &tasks[1]))
		die("pthread_create");
	read_maps();
	arm_guards();

	/* From here on nothing is printed: fds 0-2 (host files outside the
	 * root, kshim's own) become pipes, so fuzzed writes go nowhere and
	 * fd-based calls (fchmod, ftruncate, ...) on them change nothing on
	 * the host: stdin a pipe with no writer, stdout and stderr a
	 * non-blocking pipe nobody reads. */
	int in[2], out[2];
	if (pipe2(in, O_NONBLOCK) || pipe2(out, O_NONBLOCK))
		die("pipe2");
	close(in[1]);
	dup2(in[0], 0), dup2(out[1], 1), dup2(out[1], 2);
	close(in[0]), close(out[1]);

	child_pid = fork();
	if (child_pid < 0)
		die("fork");
	if (child_pid == 0) {
		enter_task(&tasks[2]);
		if (!excluded("task:child"))
			fuzz_loop(&tasks[2], calls_per_task);
		raw1(SYS_exit_group, 0);
	}
	atomic_store(&start_flag, 1);
	if (!excluded("task:main"))
		fuzz_loop(&tasks[0], calls_per_task);

	/* Done: wait (bounded by the watchdog) for the thread and the child. */
	atomic_store(&stop_flag, 1);
	int child_done = 0;
	while (!atomic_load(&thread_done) || !child_done) {
		long w = raw6(SYS_wait4, child_pid, 0, 1 | 0x40000000, 0, 0, 0);
		if (w == child_pid || w == -ECHILD)
			child_done = 1;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	raw1(SYS_exit_group, 0);
	return 0;
}
