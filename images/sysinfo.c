//go:build ignore

/* sysinfo: the everyday "what is my environment" syscalls a libc makes.
 * Prints facts, never raw ids or times. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static void usr1(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	(void)argc;
	struct utsname u;
	int r = uname(&u);
	printf("uname=%d sysname=%s machine=%s\n", r, u.sysname, u.machine);

	char exe[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	int exe_ok = 0;
	if (n > 0) {
		exe[n] = 0;
		exe_ok = realpath(argv[0], real) && strcmp(exe, real) == 0;
	}
	printf("exe_ok=%d\n", exe_ok);

	unsigned char buf[32];
	ssize_t g = getrandom(buf, sizeof buf, 0);
	printf("getrandom=%zd\n", g);
	unsigned char buf2[32];
	g = getrandom(buf2, sizeof buf2, GRND_NONBLOCK);
	printf("getrandom_nonblock=%zd differs=%d\n", g, memcmp(buf, buf2, 32) != 0);

	struct timespec t1, t2, rt;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	int mono = t2.tv_sec > t1.tv_sec || (t2.tv_sec == t1.tv_sec && t2.tv_nsec >= t1.tv_nsec);
	printf("monotonic=%d\n", mono);
	printf("nsec_in_range=%d\n", t1.tv_nsec >= 0 && t1.tv_nsec < 1000000000);
	clock_gettime(CLOCK_REALTIME, &rt);
	time_t now = time(NULL);
	long diff = (long)(rt.tv_sec - now);
	printf("realtime_near_time=%d\n", diff > -86400 && diff < 86400);
	printf("realtime_after_2020=%d\n", rt.tv_sec > 1577836800);
	struct timespec res;
	printf("clock_getres_monotonic=%d\n", clock_getres(CLOCK_MONOTONIC, &res));

	pid_t pid = getpid();
	printf("pid_positive=%d\n", pid > 0);
	printf("ppid_positive=%d\n", getppid() > 0);
	printf("tid_eq_pid=%d\n", gettid() == pid);
	printf("raw_gettid_eq_pid=%d\n", (pid_t)syscall(SYS_gettid) == pid);

	struct termios tio;
	errno = 0;
	r = ioctl(1, TCGETS, &tio);
	printf("ioctl(1, TCGETS) -> %s\n", r == 0 ? "ok" : ename(errno));
	printf("isatty(1)=%d\n", isatty(1));

	struct stat st;
	r = fstat(1, &st);
	printf("fstat(1)=%d is_fifo=%d\n", r, S_ISFIFO(st.st_mode));
	errno = 0;
	r = fstat(12345, &st);
	printf("fstat(12345) -> %s\n", r == 0 ? "ok" : ename(errno));

	struct rlimit rl;
	r = prlimit(0, RLIMIT_STACK, NULL, &rl);
	printf("prlimit_stack_get=%d cur_le_max=%d\n", r, rl.rlim_cur <= rl.rlim_max);
	r = getrlimit(RLIMIT_NOFILE, &rl);
	printf("getrlimit_nofile=%d\n", r);

	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = usr1;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = SA_RESTART;
	r = sigaction(SIGUSR1, &sa, NULL);
	memset(&old, 0, sizeof old);
	int r2 = sigaction(SIGUSR1, NULL, &old);
	printf("sigaction_install=%d readback=%d handler_eq=%d mask_has_usr2=%d restart=%d\n", r, r2,
	       old.sa_handler == usr1, sigismember(&old.sa_mask, SIGUSR2) == 1,
	       (old.sa_flags & SA_RESTART) != 0);
	errno = 0;
	r = sigaction(SIGKILL, &sa, NULL);
	printf("sigaction(SIGKILL) -> %s\n", r == 0 ? "ok" : ename(errno));

	sigset_t set, cur;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	r = sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("block=%d usr1_blocked=%d\n", r, sigismember(&cur, SIGUSR1));
	r = sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("unblock=%d usr1_blocked=%d\n", r, sigismember(&cur, SIGUSR1));
	return 0;
}
