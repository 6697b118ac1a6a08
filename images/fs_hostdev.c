//go:build ignore

/* fs_hostdev: tries to change the attributes of the host devices a guest
 * reaches (/dev/null, /dev/zero, /dev/full, /dev/urandom), by path and
 * through an open fd, and prints one line per attempt. Under kshim these
 * are the host's own device nodes, opened by exact path: whatever rights
 * the guest has, they must not change (images/sandbox_test.go). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	static const char *devs[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom"};
	for (unsigned i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		const char *d = devs[i];
		char what[96];
		snprintf(what, sizeof what, "chmod(%s, 0600)", d);
		show(what, chmod(d, 0600));
		snprintf(what, sizeof what, "chown(%s, 4095, 7)", d);
		show(what, chown(d, 4095, 7));
		snprintf(what, sizeof what, "utimensat(%s, NULL)", d);
		show(what, utimensat(AT_FDCWD, d, NULL, 0));
		int fd = open(d, O_RDONLY);
		if (fd < 0) {
			printf("open(%s) -> %s\n", d, ename(errno));
			continue;
		}
		snprintf(what, sizeof what, "fchmod(open(%s), 0)", d);
		show(what, fchmod(fd, 0));
		snprintf(what, sizeof what, "fchown(open(%s), 4095, 7)", d);
		show(what, fchown(fd, 4095, 7));
		snprintf(what, sizeof what, "futimens(open(%s), NULL)", d);
		show(what, futimens(fd, NULL));
		close(fd);
	}
	return 0;
}
