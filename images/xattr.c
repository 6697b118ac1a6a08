//go:build ignore

/* xattr: extended attributes on the root's files (a fresh directory under
 * /tmp; kshim needs --rw), through paths (following the last symlink or
 * not) and fds, with Linux's argument errors in Linux's order (flags, name,
 * value, then the file), the namespaces' rules for an unprivileged process,
 * and what /proc and the host devices answer. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common.h"

/* Prints a listxattr result: its names, sorted order as the fs gives. */
static void list(const char *what, long n, const char *buf)
{
	if (n < 0) {
		printf("%s -> %s\n", what, ename(errno));
		return;
	}
	printf("%s -> %ld:", what, n);
	for (long i = 0; i < n; i += strlen(buf + i) + 1)
		printf(" %s", buf + i);
	printf("\n");
}

int main(void)
{
	char dir[] = "/tmp/kshim-xattr-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	if (chdir(dir) != 0)
		return 1;
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	mkdir("d", 0755);
	symlink("f", "l");
	mkfifo("p", 0644);
	char buf[512];
	char *volatile bad = (char *)8; /* volatile: an address gcc cannot see through */
	static char big[65537];

	rc("fsetxattr user.a", fsetxattr(fd, "user.a", "xyz", 3, 0));
	rc("fgetxattr size 0", fgetxattr(fd, "user.a", NULL, 0));
	memset(buf, 0, sizeof buf);
	rc("fgetxattr", fgetxattr(fd, "user.a", buf, sizeof buf));
	printf("  value \"%s\"\n", buf);
	rc("fgetxattr 1-byte buffer", fgetxattr(fd, "user.a", buf, 1));
	rc("getxattr f", getxattr("f", "user.a", buf, sizeof buf));
	rc("getxattr l (follows)", getxattr("l", "user.a", buf, sizeof buf));
	rc("lgetxattr l", lgetxattr("l", "user.a", buf, sizeof buf));
	rc("setxattr user.b empty value", setxattr("f", "user.b", "", 0, 0));
	rc("getxattr user.b", getxattr("f", "user.b", buf, sizeof buf));
	list("listxattr f", listxattr("f", buf, sizeof buf), buf);
	list("llistxattr l", llistxattr("l", buf, sizeof buf), buf);
	list("flistxattr", flistxattr(fd, buf, sizeof buf), buf);
	rc("listxattr size 0", listxattr("f", NULL, 0));
	rc("listxattr 3-byte buffer", listxattr("f", buf, 3));
	rc("setxattr d user.x", setxattr("d", "user.x", "1", 1, 0));
	list("listxattr d", listxattr("d", buf, sizeof buf), buf);

	rc("setxattr CREATE existing", setxattr("f", "user.a", "q", 1, XATTR_CREATE));
	rc("setxattr REPLACE missing", setxattr("f", "user.zz", "q", 1, XATTR_REPLACE));
	rc("setxattr REPLACE existing", setxattr("f", "user.a", "qq", 2, XATTR_REPLACE));
	rc("setxattr flags 4", setxattr("f", "user.a", "q", 1, 4));
	rc("setxattr flags 4, bad name", setxattr("f", bad, "q", 1, 4));
	rc("setxattr empty name", setxattr("f", "", "q", 1, 0));
	char longname[300];
	memset(longname, 'n', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[256] = 0;
	rc("setxattr 256-byte name", setxattr("f", longname, "q", 1, 0));
	longname[255] = 0;
	rc("getxattr 255-byte name", getxattr("f", longname, buf, sizeof buf));
	rc("setxattr bad name", setxattr("f", bad, "q", 1, 0));
	rc("setxattr bad value", setxattr("f", "user.c", bad, 1, 0));
	rc("setxattr 64 KiB + 1", setxattr("f", "user.c", big, sizeof big, 0));
	rc("setxattr bad value, missing file", setxattr("nofile", "user.c", bad, 1, 0));
	rc("setxattr empty name, missing file", setxattr("nofile", "", "q", 1, 0));
	rc("getxattr missing file", getxattr("nofile", "user.a", buf, sizeof buf));
	rc("getxattr bad buffer", getxattr("f", "user.a", bad, 16));
	rc("getxattr bad path", getxattr(bad, "user.a", buf, sizeof buf));
	rc("getxattr empty path", getxattr("", "user.a", buf, sizeof buf));
	rc("listxattr bad buffer", listxattr("f", bad, 16));
	rc("getxattr missing name", getxattr("f", "user.nope", buf, sizeof buf));
	rc("getxattr foo.bar", getxattr("f", "foo.bar", buf, sizeof buf));
	rc("setxattr foo.bar", setxattr("f", "foo.bar", "q", 1, 0));
	rc("getxattr trusted.a", getxattr("f", "trusted.a", buf, sizeof buf));
	rc("setxattr trusted.a", setxattr("f", "trusted.a", "q", 1, 0));
	rc("setxattr security.a", setxattr("f", "security.a", "q", 1, 0));
	rc("lsetxattr l user.a", lsetxattr("l", "user.a", "q", 1, 0));
	rc("setxattr fifo user.a", setxattr("p", "user.a", "q", 1, 0));
	rc("getxattr fifo user.a", getxattr("p", "user.a", buf, sizeof buf));
	rc("removexattr user.a", removexattr("f", "user.a"));
	rc("removexattr user.a again", removexattr("f", "user.a"));
	rc("fremovexattr user.b", fremovexattr(fd, "user.b"));
	rc("lremovexattr l user.a", lremovexattr("l", "user.a"));
	list("listxattr f after", listxattr("f", buf, sizeof buf), buf);

	int pfd = open("f", O_PATH);
	rc("fgetxattr O_PATH fd", fgetxattr(pfd, "user.a", buf, sizeof buf));
	rc("flistxattr O_PATH fd", flistxattr(pfd, buf, sizeof buf));
	rc("fsetxattr O_PATH fd", fsetxattr(pfd, "user.a", "q", 1, 0));
	rc("fgetxattr bad fd", fgetxattr(999, "user.a", buf, sizeof buf));
	rc("fgetxattr bad fd, empty name", fgetxattr(999, "", buf, sizeof buf));
	int rfd = open("f", O_RDONLY);
	rc("fsetxattr read-only fd", fsetxattr(rfd, "user.r", "q", 1, 0));
	rc("fremovexattr read-only fd", fremovexattr(rfd, "user.r"));

	/* What is not the root's: /proc and the host's devices. */
	list("listxattr /proc/self/status", listxattr("/proc/self/status", buf, sizeof buf), buf);
	rc("getxattr /proc/self/status user.a", getxattr("/proc/self/status", "user.a", buf, sizeof buf));
	rc("getxattr /proc/self/status trusted.a", getxattr("/proc/self/status", "trusted.a", buf, sizeof buf));
	rc("getxattr /proc/self/status foo.a", getxattr("/proc/self/status", "foo.a", buf, sizeof buf));
	rc("lgetxattr /proc/self user.a", lgetxattr("/proc/self", "user.a", buf, sizeof buf));
	rc("getxattr /proc/self/fd user.a", getxattr("/proc/self/fd", "user.a", buf, sizeof buf));
	rc("setxattr /proc/self/status user.a", setxattr("/proc/self/status", "user.a", "q", 1, 0));
	rc("setxattr /proc/self/status trusted.a", setxattr("/proc/self/status", "trusted.a", "q", 1, 0));
	rc("lsetxattr /proc/self user.a", lsetxattr("/proc/self", "user.a", "q", 1, 0));
	rc("removexattr /proc/self/status user.a", removexattr("/proc/self/status", "user.a"));
	int sfd = open("/proc/self/status", O_RDONLY);
	rc("fgetxattr /proc/self/status", fgetxattr(sfd, "user.a", buf, sizeof buf));
	list("flistxattr /proc/self/status", flistxattr(sfd, buf, sizeof buf), buf);
	rc("getxattr /dev/null user.a", getxattr("/dev/null", "user.a", buf, sizeof buf));
	list("listxattr /dev/null", listxattr("/dev/null", buf, sizeof buf), buf);
	rc("setxattr /dev/null user.a", setxattr("/dev/null", "user.a", "q", 1, 0));

	unlink("f");
	unlink("l");
	unlink("p");
	rmdir("d");
	chdir("/");
	rmdir(dir);
	return 0;
}
