//go:build ignore

/* net_probe.c - one socket operation per argument pair, for the spec tests
 * of images/net_test.go (what the guest can reach, and where its unix
 * sockets land):
 *
 *   bind PATH        bind a unix stream socket to PATH
 *   connect PATH     connect a unix stream socket to PATH
 *   abstract NAME    connect to the abstract unix name NAME
 *   tcp PORT         connect to 127.0.0.1:PORT over TCP
 *   tcp6 PORT        connect to [::1]:PORT over TCP
 *   inet             create an AF_INET socket
 *   netlink          create a NETLINK_ROUTE socket
 *   hold NAME        listen on the abstract unix name NAME and on
 *                    127.0.0.1:0, print "ready", then wait for stdin to close
 *
 * Each prints "OP ARG -> 0" or "OP ARG -> ERRNO". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

static int unix_op(const char *path, int abstract, int do_bind)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	if (n + 2 > sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a.sun_path + abstract, path, n);
	socklen_t l = offsetof(struct sockaddr_un, sun_path) + abstract + n + !abstract;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (do_bind)
		return bind(s, (struct sockaddr *)&a, l);
	return connect(s, (struct sockaddr *)&a, l);
}

static int tcp(int port, int v6)
{
	int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	if (v6) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_loopback};
		return connect(s, (struct sockaddr *)&a, sizeof a);
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return connect(s, (struct sockaddr *)&a, sizeof a);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *op = argv[i], *arg = i + 1 < argc ? argv[i + 1] : "";
		int rc;
		if (!strcmp(op, "bind"))
			rc = unix_op(arg, 0, 1), i++;
		else if (!strcmp(op, "connect"))
			rc = unix_op(arg, 0, 0), i++;
		else if (!strcmp(op, "abstract"))
			rc = unix_op(arg, 1, 0), i++;
		else if (!strcmp(op, "tcp"))
			rc = tcp(atoi(arg), 0), i++;
		else if (!strcmp(op, "tcp6"))
			rc = tcp(atoi(arg), 1), i++;
		else if (!strcmp(op, "inet"))
			rc = socket(AF_INET, SOCK_STREAM, 0), arg = "";
		else if (!strcmp(op, "hold")) {
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			size_t n = strlen(arg) < sizeof a.sun_path - 1 ? strlen(arg) : sizeof a.sun_path - 1;
			memcpy(a.sun_path + 1, arg, n);
			int s = socket(AF_UNIX, SOCK_STREAM, 0);
			rc = bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + n);
			if (rc == 0)
				rc = listen(s, 1);
			int t = socket(AF_INET, SOCK_STREAM, 0);
			struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			socklen_t il = sizeof in;
			if (rc == 0 && (bind(t, (struct sockaddr *)&in, il) < 0 || listen(t, 1) < 0 ||
					getsockname(t, (struct sockaddr *)&in, &il) < 0))
				rc = -1;
			printf("port %d\n", ntohs(in.sin_port));
			printf("ready\n");
			fflush(stdout);
			char b;
			while (read(0, &b, 1) > 0)
				;
			i++;
		} else if (!strcmp(op, "netlink"))
			rc = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), arg = "";
		else {
			fprintf(stderr, "unknown op %s\n", op);
			return 2;
		}
		printf("%s%s%s -> %s\n", op, *arg ? " " : "", arg, rc < 0 ? ename(errno) : "0");
	}
	return 0;
}
