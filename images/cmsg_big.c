//go:build ignore

// cmsg_big: sendmsg with a large control buffer holding one cmsg of a
// level __scm_send skips (not SOL_SOCKET) on a unix socketpair. The kernel
// copies the control data into an optmem buffer first, so a buffer within
// net.core.optmem_max goes through and a larger one fails with ENOBUFS;
// kshim checks the same limit (syscalls/net ControlIn, the host's
// optmem_max read as it starts), so its answers must match Linux's for
// every size here (16 KiB is within even the old default of 20480).

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

static void try(int fd, size_t len)
{
	char *ctl = calloc(1, len);
	if (!ctl) {
		perror("calloc");
		exit(1);
	}
	struct cmsghdr *c = (struct cmsghdr *)ctl;
	c->cmsg_len = len;
	c->cmsg_level = IPPROTO_IP; /* not SOL_SOCKET: skipped, as Linux does */
	c->cmsg_type = 0;
	char byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = len};
	ssize_t n = sendmsg(fd, &m, 0);
	printf("controllen %zu: %s\n", len, n == 1 ? "sent" : strerror(errno));
	free(ctl);
}

int main(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	size_t sizes[] = {64, 16 << 10, 64 << 10, 120 << 10, 4 << 20};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		try(sv[0], sizes[i]);
		char b;
		recv(sv[1], &b, 1, MSG_DONTWAIT);
	}
	return 0;
}
