//go:build ignore

/* fuzz_regress: calls the syscall fuzzer (fuzz_syscalls.c) found to crash
 * or mislead kshim, each checked against Linux as a differential test.
 *  - rt_sigqueueinfo(pid, 0, info) to a process with several threads
 *    (signal 0 only checks: kshim once picked a thread for signal 0 and
 *    panicked on a negative shift);
 *  - the high 32 bits of a syscall number and of an ioctl request are
 *    ignored (Linux takes ints), the x32 bit makes ENOSYS;
 *  - threads reading and setting resource limits at once (kshim's limits
 *    map, shared by the threads, was read and written unlocked: Go's
 *    "concurrent map read and map write" ended kshim);
 *  - clone with CLONE_SETTLS and a base beyond the user half is EPERM
 *    (kshim started the child with it: a kernel-half %fs base pointed at
 *    the shim, a non-canonical one was silently dropped).
 * Prints facts, never ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static volatile int stop;

static void *set_limits(void *arg)
{
	struct rlimit rl;
	(void)arg;
	getrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < 8000 && !stop; i++)
		setrlimit(RLIMIT_NOFILE, &rl);
	stop = 1;
	return NULL;
}

/* clone(flags, NULL stack, ...) whose child exits at once, using only
 * registers. */
static long clone_exit(unsigned long flags, unsigned long tls)
{
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = (long)tls;
	__asm__ volatile("syscall\n\ttest %%rax, %%rax\n\tjnz 1f\n\tmov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall\n1:"
			 : "=a"(r)
			 : "a"(SYS_clone), "D"(flags), "S"(0), "d"(0), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
}

static void show(const char *what, long r)
{
	printf("%s -> %ld (%s)\n", what, r, r < 0 ? strerrorname_np(errno) : "ok");
}

int main(void)
{
	pthread_t t;
	siginfo_t si;
	if (pthread_create(&t, NULL, idle, NULL)) {
		printf("pthread_create failed\n");
		return 1;
	}
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	/* renameat2 with a /proc file as both paths' directory: kshim
	 * panicked on the file's missing child lookup. */
	show("renameat2(/proc/self/status/x, /proc/self/maps/y)",
	     syscall(SYS_renameat2, AT_FDCWD, "/proc/self/status/x", AT_FDCWD, "/proc/self/maps/y", 0));
	show("rt_sigqueueinfo(self, 0, SI_QUEUE info)", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
	show("rt_sigqueueinfo(self, 0, NULL)", syscall(SYS_rt_sigqueueinfo, getpid(), 0, NULL));
	show("rt_tgsigqueueinfo(self, self, 0, info)",
	     syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), 0, &si));

	printf("syscall (1<<32 | getpid) is getpid: %d\n", syscall((1l << 32) | SYS_getpid) == getpid());
	show("syscall (0x40000000 | getpid)", syscall(0x40000000 | SYS_getpid));
	show("syscall (-1)", syscall(-1l));
	struct termios tio;
	int p[2];
	if (pipe(p))
		return 1;
	show("ioctl(pipe, 1<<32 | TCGETS)", syscall(SYS_ioctl, p[0], (1l << 32) | TCGETS, &tio));
	int n = 0;
	show("ioctl(pipe, 1<<32 | FIONREAD)", syscall(SYS_ioctl, p[0], (1l << 32) | FIONREAD, &n));

	static const unsigned long bases[] = {0x7fffffffe000, 0x7ffffffff000, 0x800000000000, 0xffff888000000000,
					      0xffffffff80000000, ~0ul};
	for (int i = 0; i < 6; i++) {
		long r = clone_exit(SIGCHLD | CLONE_SETTLS, bases[i]);
		if (r > 0)
			waitpid(r, NULL, 0);
		printf("clone(CLONE_SETTLS, %#lx) -> %s\n", bases[i], r < 0 ? strerrorname_np((int)-r) : "ok");
	}

	pthread_t setter;
	struct rlimit rl;
	long same = 1;
	pid_t child = fork();
	if (child == 0) { /* a forked child setting its limits meanwhile */
		stop = 0;
		set_limits(NULL);
		_exit(0);
	}
	pthread_create(&setter, NULL, set_limits, NULL);
	while (!stop) {
		struct rlimit now;
		getrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_STACK, &now);
		same &= rl.rlim_cur > 0;
	}
	pthread_join(setter, NULL);
	waitpid(child, NULL, 0);
	printf("limits read while a thread and a child set theirs: %ld\n", same);
	return 0;
}
