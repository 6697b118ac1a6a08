//go:build ignore

/* chroot: what an unprivileged process gets (no CAP_SYS_CHROOT, as every
 * kshim guest): the path's errors first (missing, not a directory, no
 * search permission, bad pointer), then EPERM; the root does not change.
 * Prints facts only. */
#define _GNU_SOURCE
#include <unistd.h>

#include "common.h"

static void try(const char *what, const char *path)
{
	int r = chroot(path);
	printf("chroot(%s) -> %s\n", what, r == 0 ? "0" : ename(errno));
}

int main(void)
{
	try("/", "/");
	try("/tmp", "/tmp");
	try("/nonexistent", "/nonexistent");
	try("/etc/passwd", "/etc/passwd");
	try("/etc/passwd/x", "/etc/passwd/x");
	try("\"\"", "");
	try("bad pointer", (char *)8);
	try("/root", "/root");
	try("/proc/self", "/proc/self");
	try("/proc/self/status", "/proc/self/status");
	try(".", ".");
	printf("/etc/hostname still there: %s\n", access("/etc/hostname", F_OK) == 0 ? "yes" : ename(errno));
	return 0;
}
