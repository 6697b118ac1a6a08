//go:build ignore
// caps.c: capget(2) as a program sees it: version negotiation (an unknown
// version is EINVAL with the preferred one written back), a NULL data
// pointer (a version query), the three versions' data sizes, pid 0, its
// own pid and another's, and the errors. The sets are the process's
// identity's (all zero for an unprivileged one).
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int capget(struct __user_cap_header_struct *h, struct __user_cap_data_struct *d) {
	return syscall(SYS_capget, h, d);
}

static void show(const char *what, int r, struct __user_cap_header_struct *h, struct __user_cap_data_struct *d, int n) {
	printf("%s: %d %s version %#x", what, r, r < 0 ? strerror(errno) : "ok", h->version);
	for (int i = 0; i < n; i++)
		printf(" [%x %x %x]", d[i].effective, d[i].permitted, d[i].inheritable);
	printf("\n");
}

int main(void) {
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
	unsigned versions[] = {_LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2, _LINUX_CAPABILITY_VERSION_3};
	for (int i = 0; i < 3; i++) {
		memset(d, 0xa5, sizeof d);
		h.version = versions[i], h.pid = 0;
		int r = capget(&h, d);
		show(i == 0 ? "v1" : i == 1 ? "v2" : "v3", r, &h, d, 2); // v1 leaves d[1] untouched
	}
	h.version = 0x12345678, h.pid = 0;
	show("bad version", capget(&h, d), &h, d, 0);
	h.version = 0, h.pid = 0;
	show("version 0, NULL data", capget(&h, NULL), &h, d, 0);
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = 0;
	show("v3, NULL data", capget(&h, NULL), &h, d, 0);
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = getpid();
	memset(d, 0, sizeof d);
	show("own pid", capget(&h, d), &h, d, 2);
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = -1;
	show("pid -1", capget(&h, d), &h, d, 0);
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = 4000000;
	show("no such pid", capget(&h, d), &h, d, 0);
	h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = 0;
	show("bad data", capget(&h, (void *)8), &h, d, 0);
	show("bad header", capget((void *)8, d), &h, d, 0);
	return 0;
}
