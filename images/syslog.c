//go:build ignore

/* syslog: what klogctl/syslog(2) gives an unprivileged process on a kernel
 * with kernel.dmesg_restrict=1 (the only setting diff_test.go compares
 * under): every action needs CAP_SYSLOG, before its arguments are looked
 * at. Prints facts only. */
#define _GNU_SOURCE
#include <sys/klog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	char buf[256];
	for (int type = -1; type <= 11; type++) {
		long r = syscall(SYS_syslog, type, buf, (int)sizeof buf);
		printf("syslog(%d, buf, 256) -> %s\n", type, r < 0 ? ename(errno) : "ok");
	}
	long r = syscall(SYS_syslog, 3, NULL, -1);
	printf("syslog(3, NULL, -1) -> %s\n", r < 0 ? ename(errno) : "ok");
	r = syscall(SYS_syslog, 10, NULL, 0);
	printf("syslog(10, NULL, 0) -> %s\n", r < 0 ? ename(errno) : "ok");
	r = syscall(SYS_syslog, 99, NULL, 0);
	printf("syslog(99, NULL, 0) -> %s\n", r < 0 ? ename(errno) : "ok");
	return 0;
}
