//go:build ignore

/* net_lowport: an unprivileged server binds ports below 1024 on loopback
 * (TCP and UDP, IPv4 and IPv6), listens and is reached: in kshim's private
 * network namespace, as in a namespace whose ip_unprivileged_port_start is
 * 0 (net_test.go's native side). Prints facts only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static void try(const char *what, int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof *a;
	}
	int s = socket(family, type, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (void *)&ss, len) != 0) {
		printf("%s bind -> %s\n", what, ename(errno));
		close(s);
		return;
	}
	printf("%s bind -> 0\n", what);
	int c = socket(family, type, 0);
	if (type == SOCK_STREAM) {
		listen(s, 1);
		show("  connect", connect(c, (void *)&ss, len));
		int a = accept(s, NULL, NULL);
		printf("  accept -> %s\n", a >= 0 ? "fd" : ename(errno));
		show("  send", send(c, "x", 1, 0) == 1 ? 0 : -1);
		char b;
		show("  recv", recv(a, &b, 1, 0) == 1 ? 0 : -1);
		close(a);
	} else {
		show("  sendto", sendto(c, "x", 1, 0, (void *)&ss, len) == 1 ? 0 : -1);
		char b;
		show("  recv", recv(s, &b, 1, 0) == 1 ? 0 : -1);
	}
	close(c);
	close(s);
}

int main(void)
{
	try("tcp 127.0.0.1:80", AF_INET, SOCK_STREAM, 80);
	try("tcp [::1]:443", AF_INET6, SOCK_STREAM, 443);
	try("udp 127.0.0.1:53", AF_INET, SOCK_DGRAM, 53);
	try("udp [::1]:1", AF_INET6, SOCK_DGRAM, 1);
	try("tcp 127.0.0.1:1023", AF_INET, SOCK_STREAM, 1023);
	return 0;
}
