//go:build ignore

/* net_fuzz.c - hostile arguments for every socket syscall: random (seeded)
 * fds (sockets of each kind, a file, a pipe, bad numbers), pointers (NULL,
 * unmapped, a valid buffer, the last bytes of a mapping, kernel
 * addresses), lengths (0, small, sockaddr_storage +- 1, huge, negative)
 * and flags. Every socket is non-blocking, so nothing waits. The program
 * checks only that each call returns (a value or an errno); images/
 * net_test.go runs it under kshim and requires a clean exit: no VMM
 * error, no panic, no hang.
 *
 * Usage: net_fuzz [ITERATIONS [SEED]] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
#define PICK(a) (a[next() % (sizeof a / sizeof *a)])

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0) | 1;
	char *page = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + PG, PG); /* page + PG is unmapped */
	static char buf[4096];
	int fds[16], n = 0;
	static const int kinds[][3] = {
		{AF_UNIX, SOCK_STREAM, 0}, {AF_UNIX, SOCK_DGRAM, 0}, {AF_UNIX, SOCK_SEQPACKET, 0},
		{AF_INET, SOCK_STREAM, 0}, {AF_INET, SOCK_DGRAM, 0}, {AF_INET6, SOCK_STREAM, 0},
		{AF_INET6, SOCK_DGRAM, 0}, {AF_NETLINK, SOCK_RAW, 0},
	};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		fds[n++] = socket(kinds[i][0], kinds[i][1] | SOCK_NONBLOCK, kinds[i][2]);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	fds[n++] = sv[0];
	fds[n++] = sv[1];
	fds[n++] = open("/dev/null", O_RDWR);
	int p[2];
	pipe2(p, O_NONBLOCK);
	fds[n++] = p[0];
	fds[n++] = -1;
	fds[n++] = 999;
	fds[n++] = 0x7fffffff;
	const uintptr_t ptrs[] = {0, 8, (uintptr_t)buf, (uintptr_t)buf + 100, (uintptr_t)page + PG - 1,
				  (uintptr_t)page + PG - 16, (uintptr_t)page + PG, 0xffff888000000000ul,
				  0x7ffffffff000ul, (uintptr_t)-1};
	const uint64_t lens[] = {0, 1, 2, 3, 4, 8, 12, 16, 28, 110, 111, 127, 128, 129, 4096, 1ul << 20,
				 1ul << 31, 0xffffffffu, (uint64_t)-1, 0x80000000u};
	const long nrs[] = {SYS_socket, SYS_connect, SYS_accept, SYS_sendto, SYS_recvfrom, SYS_sendmsg,
			    SYS_recvmsg, SYS_shutdown, SYS_bind, SYS_listen, SYS_getsockname, SYS_getpeername,
			    SYS_socketpair, SYS_setsockopt, SYS_getsockopt, SYS_accept4, SYS_recvmmsg, SYS_sendmmsg};
	long ok = 0, failed = 0;
	for (long i = 0; i < iters; i++) {
		/* Sometimes fill the buffer with plausible structures. */
		if (next() % 4 == 0)
			for (size_t j = 0; j < sizeof buf; j += 8)
				*(uint64_t *)(buf + j) = next() % 3 == 0 ? PICK(ptrs) : next() % 3 == 0 ? PICK(lens) : next();
		if (next() % 8 == 0) { /* a msghdr pointing at things */
			uint64_t *m = (uint64_t *)buf;
			m[0] = PICK(ptrs), m[1] = PICK(lens), m[2] = PICK(ptrs), m[3] = next() % 4;
			m[4] = PICK(ptrs), m[5] = PICK(lens), m[6] = 0;
		}
		long nr = PICK(nrs);
		uint64_t a[6];
		a[0] = nr == SYS_socket || nr == SYS_socketpair ? next() % 48 : (uint64_t)fds[next() % n];
		a[1] = nr == SYS_socket || nr == SYS_socketpair ? (next() % 12) | (next() % 2 ? SOCK_NONBLOCK : 0) : PICK(ptrs);
		if (nr == SYS_setsockopt || nr == SYS_getsockopt || nr == SYS_shutdown || nr == SYS_listen)
			a[1] = next() % 3 == 0 ? SOL_SOCKET : next() % 300;
		a[2] = next() % 2 ? PICK(lens) : PICK(ptrs);
		if (nr == SYS_setsockopt || nr == SYS_getsockopt)
			a[2] = next() % 80;
		a[3] = next() % 2 ? (PICK(lens) & 0xffff) | MSG_DONTWAIT : PICK(ptrs);
		a[4] = PICK(ptrs);
		a[5] = PICK(lens);
		if (nr == SYS_sendto || nr == SYS_recvfrom || nr == SYS_sendmsg || nr == SYS_recvmsg ||
		    nr == SYS_recvmmsg || nr == SYS_sendmmsg)
			a[3] |= MSG_DONTWAIT;
		if (nr == SYS_sendmsg || nr == SYS_recvmsg)
			a[2] |= MSG_DONTWAIT;
		if (nr == SYS_accept4)
			a[3] = next() % 2 ? SOCK_NONBLOCK : next();
		if (nr == SYS_recvmmsg)
			a[4] = next() % 2 ? 0 : a[4];
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r >= 0) {
			ok++;
			/* Keep the table small: close what was made, but not ours. */
			if ((nr == SYS_socket || nr == SYS_accept || nr == SYS_accept4) && r > 40)
				close(r);
		} else
			failed++;
		if (i % 512 == 0) /* fds received in SCM_RIGHTS, sockets made */
			for (int fd = 41; fd < 1024; fd++)
				close(fd);
	}
	printf("%ld calls returned\n", ok + failed);
	return 0;
}
