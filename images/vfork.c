//go:build ignore

/* vfork: a vfork or CLONE_VM child runs on its parent's memory (Linux
 * shares the address space until the child execs or exits), with its own
 * pid, fd table and signal dispositions, while the parent's calling thread
 * waits (CLONE_VFORK). Each case prints what the parent sees afterwards, so
 * a child served by a copy-on-write copy shows different values.
 *
 *   vfork            every case below
 *   vfork child ...  (exec'd by the cases) prints its argv and exits 9 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

static volatile int shared_var = 1;
static volatile int handled;
static volatile char *child_map;

static void on_usr1(int s)
{
	(void)s;
	handled = 42;
}

/* The child returns from this function (undefined in POSIX: the parent's
 * frame is the child's) and exits from the caller. */
static pid_t __attribute__((noinline)) vfork_and_return(void)
{
	return vfork();
}

static int clone_fn(void *arg)
{
	*(volatile int *)arg = 77;
	shared_var = 78;
	return 6;
}

/* kill_vfork_parent: a child vforks a grandchild that waits forever;
 * sig, sent to the child while it waits for the grandchild, must end it
 * (a wait that sig cannot end would hang: the alarm ends the test). */
static int kill_vfork_parent(int sig, const char *label)
{
	int pids[2], st;
	if (pipe(pids) < 0)
		return -1;
	pid_t par = fork();
	if (par == 0) {
		if (vfork() == 0) {
			pid_t me2 = getpid();
			write(pids[1], &me2, sizeof me2);
			for (;;)
				pause();
		}
		_exit(3); /* not reached: killed while waiting */
	}
	pid_t vchild;
	if (read(pids[0], &vchild, sizeof vchild) != sizeof vchild)
		return -1;
	kill(par, sig);
	alarm(10);
	waitpid(par, &st, 0);
	alarm(0);
	wait_status(label, st);
	printf("vfork child still there: %d\n", kill(vchild, 0) == 0);
	kill(vchild, SIGKILL);
	close(pids[0]);
	close(pids[1]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("exec'd child: argc=%d arg2=%s\n", argc, argc > 2 ? argv[2] : "-");
		return 9;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t me = getpid(), c;
	int st;

	/* 1. vfork + _exit: the child's stores are the parent's memory. */
	char *heap = malloc(64);
	strcpy(heap, "parent");
	volatile int ppid_ok = 0, pid_differs = 0;
	if ((c = vfork()) == 0) {
		shared_var = 2;
		strcpy(heap, "child");
		ppid_ok = getppid() == me;
		pid_differs = getpid() != me;
		_exit(5);
	}
	waitpid(c, &st, 0);
	wait_status("vfork _exit", st);
	printf("after _exit: shared_var=%d heap=%s ppid_ok=%d pid_differs=%d\n", shared_var, heap,
	       ppid_ok, pid_differs);

	/* 2. vfork + exec: the parent resumes once the child has exec'd; what
	 * the child wrote before is there. */
	if ((c = vfork()) == 0) {
		shared_var = 3;
		execl("/proc/self/exe", "vfork", "child", "two", (char *)NULL);
		_exit(99);
	}
	int seen = shared_var; /* printed after the child's own output */
	waitpid(c, &st, 0);
	wait_status("vfork exec", st);
	printf("after exec: shared_var=%d\n", seen);

	/* 3. A failed exec reported through memory (as posix_spawn does). */
	volatile int child_errno = 0;
	if ((c = vfork()) == 0) {
		execl("/nonexistent/program", "x", (char *)NULL);
		child_errno = errno;
		_exit(127);
	}
	waitpid(c, &st, 0);
	wait_status("vfork failed exec", st);
	printf("child errno: %s\n", strerrorname_np(child_errno));

	/* 4. The fd table is the child's own: its close leaves the parent's. */
	int fds[2];
	if (pipe(fds) < 0)
		return 1;
	if ((c = vfork()) == 0) {
		close(fds[1]);
		_exit(write(fds[1], "x", 1) < 0 && errno == EBADF ? 0 : 1);
	}
	waitpid(c, &st, 0);
	wait_status("vfork close", st);
	printf("parent write after child's close: %zd\n", write(fds[1], "y", 1));
	close(fds[0]);
	close(fds[1]);

	/* 5. The child's dispositions are its own; its handler runs on the
	 * shared stack and its store is seen. */
	if ((c = vfork()) == 0) {
		signal(SIGUSR1, on_usr1);
		raise(SIGUSR1);
		_exit(handled == 42 ? 0 : 1);
	}
	waitpid(c, &st, 0);
	wait_status("vfork handler", st);
	struct sigaction cur;
	sigaction(SIGUSR1, NULL, &cur);
	printf("parent's SIGUSR1 default=%d handled=%d\n", cur.sa_handler == SIG_DFL, handled);

	/* 6. Memory the child maps is the parent's. */
	if ((c = vfork()) == 0) {
		char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		strcpy(m + 4096, "mapped by the child");
		child_map = m;
		_exit(0);
	}
	waitpid(c, &st, 0);
	wait_status("vfork mmap", st);
	printf("parent reads: %s\n", child_map ? (char *)child_map + 4096 : "(nothing)");
	munmap((void *)child_map, 8192);

	/* 7. A child killed by a signal: the parent goes on. */
	if ((c = vfork()) == 0) {
		shared_var = 7;
		raise(SIGTERM);
		_exit(1);
	}
	waitpid(c, &st, 0);
	wait_status("vfork killed", st);
	printf("shared_var=%d\n", shared_var);

	/* 8. posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)); a missing
	 * program is the call's error, which the child reports through the
	 * shared memory. */
	char *sargv[] = {"vfork", "child", "spawned", NULL};
	int err = posix_spawn(&c, "/proc/self/exe", NULL, NULL, sargv, environ);
	if (!err)
		waitpid(c, &st, 0);
	printf("posix_spawn: %s\n", err ? strerrorname_np(err) : "ok");
	if (!err)
		wait_status("spawned", st);
	err = posix_spawn(&c, "/nonexistent/program", NULL, NULL, sargv, environ);
	printf("posix_spawn missing: %s\n", err ? strerrorname_np(err) : "ok");
	if (!err)
		waitpid(c, &st, 0);
	err = posix_spawnp(&c, "no-such-program-kshim", NULL, NULL, sargv, environ);
	printf("posix_spawnp missing: %s\n", err ? strerrorname_np(err) : "ok");
	if (!err)
		waitpid(c, &st, 0);

	/* 9. clone(CLONE_VM) without CLONE_VFORK: the parent runs on while
	 * the child shares its memory. */
	static volatile int target;
	size_t ssz = 64 << 10;
	char *stack = mmap(NULL, ssz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = clone(clone_fn, stack + ssz, CLONE_VM | SIGCHLD, (void *)&target);
	if (c < 0) {
		printf("clone: %s\n", strerrorname_np(errno));
	} else {
		waitpid(c, &st, 0);
		wait_status("clone vm", st);
		printf("after clone: target=%d shared_var=%d\n", target, shared_var);
	}
	munmap(stack, ssz);

	/* 10. The child returns from the function that called vfork, then
	 * exits without touching the stack (a call would overwrite the
	 * return address the parent still has to use); the parent returns
	 * from it after. */
	shared_var = 10;
	if ((c = vfork_and_return()) == 0) {
		shared_var = 11;
		__asm__ volatile("syscall" : : "a"(SYS_exit), "D"(4) : "rcx", "r11", "memory");
	}
	waitpid(c, &st, 0);
	wait_status("vfork returned", st);
	printf("shared_var=%d\n", shared_var);

	/* 11. The vfork wait ends with a SIGKILL of the parent (Linux's wait is
	 * killable): the parent dies while its child still runs on its
	 * memory, then the child is killed too. 11b: so does any signal that
	 * ends the parent (SIGTERM, default action): Linux makes it a SIGKILL
	 * of the group as it is sent. */
	if (kill_vfork_parent(SIGKILL, "killed vfork parent") < 0 ||
	    kill_vfork_parent(SIGTERM, "SIGTERM'd vfork parent") < 0)
		return 1;

	/* 12. Many in a row (subprocess's failed Popens). */
	int ok = 0;
	for (int i = 0; i < 200; i++) {
		err = posix_spawn(&c, "/nonexistent/program", NULL, NULL, sargv, environ);
		ok += err == ENOENT;
	}
	printf("200 failed spawns: %d ENOENT\n", ok);
	return 0;
}
