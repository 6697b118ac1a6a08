//go:build ignore

/* creds: the set*id family, getres*id, setgroups and PR_SET_KEEPCAPS for
 * an unprivileged process (the identity kshim gives its guest, and the one
 * the native side runs as): an id may be "changed" to its own value, any
 * other is EPERM, (uid_t)-1 where an id is required is EINVAL, setgroups is
 * EPERM, the keep-caps flag reads back, is inherited by fork and cleared by
 * execve. Raw syscalls, so glibc's checks and thread broadcast stay out. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static void r(const char *what, long ret)
{
	if (ret < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %ld\n", what, ret);
}

#define S(nr, ...) syscall(nr, __VA_ARGS__)

int main(int argc, char **argv)
{
	if (argc > 1) { /* after execve */
		r("exec: PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
		return 0;
	}
	long u = getuid(), g = getgid();
	unsigned ru, eu, su, rg, eg, sg;
	r("getresuid", S(SYS_getresuid, &ru, &eu, &su));
	printf("ids equal uid: %d %d %d\n", ru == u, eu == u, su == u);
	r("getresgid", S(SYS_getresgid, &rg, &eg, &sg));
	printf("ids equal gid: %d %d %d\n", rg == g, eg == g, sg == g);
	r("getresuid(bad)", S(SYS_getresuid, (void *)8, &eu, &su));
	r("getresgid(ok, ok, bad)", S(SYS_getresgid, &rg, &eg, (void *)8));

	r("setuid(uid)", S(SYS_setuid, u));
	r("setuid(uid, high bits set)", S(SYS_setuid, 0xffffffff00000000ul | (unsigned long)u));
	r("setuid(uid+1)", S(SYS_setuid, u + 1));
	r("setuid(0)", S(SYS_setuid, 0));
	r("setuid(-1)", S(SYS_setuid, -1));
	r("setgid(gid)", S(SYS_setgid, g));
	r("setgid(gid+1)", S(SYS_setgid, g + 1));
	r("setgid(-1)", S(SYS_setgid, -1));

	r("setreuid(-1,-1)", S(SYS_setreuid, -1, -1));
	r("setreuid(uid,uid)", S(SYS_setreuid, u, u));
	r("setreuid(uid+1,-1)", S(SYS_setreuid, u + 1, -1));
	r("setreuid(-1,uid+1)", S(SYS_setreuid, -1, u + 1));
	r("setregid(-1,-1)", S(SYS_setregid, -1, -1));
	r("setregid(gid,-1)", S(SYS_setregid, g, -1));
	r("setregid(-1,0)", S(SYS_setregid, -1, 0));

	r("setresuid(-1,-1,-1)", S(SYS_setresuid, -1, -1, -1));
	r("setresuid(uid,uid,uid)", S(SYS_setresuid, u, u, u));
	r("setresuid(-1,-1,uid+1)", S(SYS_setresuid, -1, -1, u + 1));
	r("setresgid(gid,-1,gid)", S(SYS_setresgid, g, -1, g));
	r("setresgid(gid+1,-1,-1)", S(SYS_setresgid, g + 1, -1, -1));

	printf("setfsuid(uid+1) old==uid: %d\n", S(SYS_setfsuid, u + 1) == u);
	printf("setfsuid(-1) old==uid: %d\n", S(SYS_setfsuid, -1) == u);
	printf("setfsgid(0) old==gid: %d\n", S(SYS_setfsgid, 0) == g);

	gid_t one = g;
	r("setgroups(0,NULL)", S(SYS_setgroups, 0, NULL));
	r("setgroups(1,{gid})", S(SYS_setgroups, 1, &one));
	r("setgroups(1,bad)", S(SYS_setgroups, 1, (void *)8));
	r("setgroups(-1,NULL)", S(SYS_setgroups, -1, NULL));
	printf("after: uid %d gid %d\n", getuid() == u, getgid() == g);

	r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	r("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
	r("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		r("child: PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(99);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child status %d\n", WEXITSTATUS(st));
	r("PR_SET_KEEPCAPS 0", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
	r("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	return 0;
}
