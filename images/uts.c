//go:build ignore

/* uts: the host and domain names as uname and gethostname report them, and
 * sethostname/setdomainname with Linux's errors (EINVAL past 64 bytes or a
 * negative length, EFAULT for a bad buffer). Run as root in a UTS
 * namespace of its own (natively `unshare -u`, under kshim always), so the
 * changes are the guest's alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void names(const char *when)
{
	struct utsname u;
	char h[128] = "", d[128] = "";
	uname(&u);
	gethostname(h, sizeof h);
	getdomainname(d, sizeof d);
	printf("%s: sysname=%s nodename=%s machine=%s domainname=%s gethostname=%s getdomainname=%s\n",
	       when, u.sysname, u.nodename, u.machine, u.domainname, h, d);
}

static void try(const char *what, long r)
{
	printf("%s -> %s\n", what, r == 0 ? "0" : strerrorname_np(errno));
}

int main(void)
{
	char long_name[80];
	memset(long_name, 'a', sizeof long_name);
	names("start");
	try("sethostname renamed", sethostname("renamed", 7));
	names("after");
	try("sethostname 65 bytes", sethostname(long_name, 65));
	try("sethostname 64 bytes", sethostname(long_name, 64));
	names("64");
	try("sethostname len -1", syscall(SYS_sethostname, "x", -1));
	try("sethostname bad pointer", syscall(SYS_sethostname, 8, 4));
	try("sethostname embedded NUL", sethostname("ab\0cd", 5));
	names("nul");
	try("sethostname empty", sethostname("", 0));
	names("empty");
	try("setdomainname example", setdomainname("example", 7));
	names("domain");
	return 0;
}
