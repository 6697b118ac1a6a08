//go:build ignore

/* net_inet.c - TCP and UDP on 127.0.0.1 and ::1 inside one program: a
 * forked server and client, 100 connections, non-blocking connect with
 * poll, epoll readiness, shutdown, options, sendmmsg/recvmmsg, timeouts,
 * signals interrupting blocking calls (SA_RESTART or EINTR), and errno
 * cases. Ports come from bind(0) and are never printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static void r(const char *what, long v)
{
	if (v < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %ld\n", what, v);
}

static int v6;

static socklen_t loop_addr(struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof *ss);
	if (v6) {
		struct sockaddr_in6 *a = (void *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		return sizeof *a;
	}
	struct sockaddr_in *a = (void *)ss;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	return sizeof *a;
}

static int port_of(int s)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof ss;
	getsockname(s, (struct sockaddr *)&ss, &l);
	return v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int fam(void) { return v6 ? AF_INET6 : AF_INET; }

/* A listening TCP socket on the loopback, port from bind(0). */
static int listener(int flags, int *port)
{
	int s = socket(fam(), SOCK_STREAM | flags, 0);
	int on = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	struct sockaddr_storage ss;
	socklen_t l = loop_addr(&ss, 0);
	if (bind(s, (struct sockaddr *)&ss, l) < 0 || listen(s, 128) < 0) {
		perror("listener");
		exit(1);
	}
	*port = port_of(s);
	return s;
}

static int connect_to(int port, int flags)
{
	int c = socket(fam(), SOCK_STREAM | flags, 0);
	struct sockaddr_storage ss;
	socklen_t l = loop_addr(&ss, port);
	if (connect(c, (struct sockaddr *)&ss, l) < 0 && errno != EINPROGRESS)
		return -1;
	return c;
}

static void tcp_basic(void)
{
	printf("-- tcp %s\n", v6 ? "::1" : "127.0.0.1");
	int port, s = listener(SOCK_CLOEXEC, &port);
	printf("port nonzero %d\n", port != 0);
	pid_t c = fork();
	if (c == 0) {
		int k = connect_to(port, 0);
		if (k < 0)
			_exit(10);
		int on = 1;
		setsockopt(k, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
		char big[100000];
		for (size_t i = 0; i < sizeof big; i++)
			big[i] = i * 7;
		if (send(k, big, sizeof big, 0) != sizeof big)
			_exit(11);
		shutdown(k, SHUT_WR);
		char b[16];
		ssize_t n = recv(k, b, sizeof b, MSG_WAITALL);
		_exit(n == 5 && memcmp(b, "thank", 5) == 0 ? 0 : 12);
	}
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	int k = accept(s, (struct sockaddr *)&peer, &pl);
	r("accept", k >= 0 ? 0 : -1);
	printf("peer family ok %d len %d\n", peer.ss_family == fam(), (int)pl);
	printf("accepted cloexec %d\n", fcntl(k, F_GETFD));
	static char got[100000];
	size_t total = 0;
	ssize_t n;
	while ((n = recv(k, got + total, sizeof got - total, 0)) > 0)
		total += n;
	r("recv EOF", n);
	int ok = total == sizeof got;
	for (size_t i = 0; ok && i < sizeof got; i++)
		ok = got[i] == (char)(i * 7);
	printf("got all %d\n", ok);
	r("send", send(k, "thank", 5, 0));
	r("shutdown WR", shutdown(k, SHUT_WR));
	int st;
	waitpid(c, &st, 0);
	printf("client status %d\n", WEXITSTATUS(st));
	int v;
	socklen_t vl = sizeof v;
	r("SO_ACCEPTCONN", getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	printf("acceptconn %d\n", v);
	r("SO_ERROR", getsockopt(k, SOL_SOCKET, SO_ERROR, &v, &vl));
	printf("so_error %d\n", v);
	close(k);
	close(s);
}

static void tcp_many(void)
{
	printf("-- 100 connections\n");
	int port, s = listener(0, &port);
	pid_t c = fork();
	if (c == 0) {
		int ks[100];
		for (int i = 0; i < 100; i++) {
			ks[i] = connect_to(port, 0);
			if (ks[i] < 0)
				_exit(20);
			char b = i;
			if (send(ks[i], &b, 1, 0) != 1)
				_exit(21);
		}
		for (int i = 0; i < 100; i++) {
			char b;
			if (recv(ks[i], &b, 1, 0) != 1 || b != (char)(i + 1))
				_exit(22);
			close(ks[i]);
		}
		_exit(0);
	}
	int sum = 0;
	for (int i = 0; i < 100; i++) {
		int k = accept(s, NULL, NULL);
		char b;
		if (k < 0 || recv(k, &b, 1, 0) != 1) {
			printf("accept/recv %d failed\n", i);
			break;
		}
		sum += b;
		b++;
		send(k, &b, 1, 0);
		close(k);
	}
	printf("sum %d\n", sum);
	int st;
	waitpid(c, &st, 0);
	printf("client status %d\n", WEXITSTATUS(st));
	close(s);
}

static void nonblocking(void)
{
	printf("-- non-blocking, poll, epoll\n");
	int port, s = listener(SOCK_NONBLOCK, &port);
	r("accept none yet", accept(s, NULL, NULL));
	int c = connect_to(port, SOCK_NONBLOCK);
	struct pollfd pf = {c, POLLOUT, 0};
	r("poll connect", poll(&pf, 1, 5000));
	printf("revents out %d\n", !!(pf.revents & POLLOUT));
	int e;
	socklen_t el = sizeof e;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	printf("so_error %d\n", e);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234567890ull};
	r("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	struct epoll_event out[4];
	r("epoll_wait listener", epoll_wait(ep, out, 4, 5000));
	printf("data ok %d in %d\n", out[0].data.u64 == 0x1234567890ull, !!(out[0].events & EPOLLIN));
	int k = accept4(s, NULL, NULL, SOCK_NONBLOCK);
	r("accept4", k >= 0 ? 0 : -1);
	printf("accepted nonblock %d\n", !!(fcntl(k, F_GETFL) & O_NONBLOCK));
	char b[8];
	r("recv empty", recv(k, b, sizeof b, 0));
	ev.data.u64 = 7;
	epoll_ctl(ep, EPOLL_CTL_ADD, k, &ev);
	r("epoll_wait none", epoll_wait(ep, out, 4, 0));
	send(c, "abc", 3, 0);
	r("epoll_wait data", epoll_wait(ep, out, 4, 5000));
	printf("data %d\n", (int)out[0].data.u64);
	r("recv", recv(k, b, sizeof b, 0));
	shutdown(c, SHUT_WR);
	pf = (struct pollfd){k, POLLIN | POLLRDHUP, 0};
	r("poll after shutdown", poll(&pf, 1, 5000));
	printf("rdhup %d\n", !!(pf.revents & POLLRDHUP));
	r("recv EOF", recv(k, b, sizeof b, 0));
	/* fill the socket buffer: send stops with EAGAIN */
	int small = 4096;
	setsockopt(k, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	static char junk[1 << 16];
	long sent = 0;
	ssize_t n;
	while ((n = send(k, junk, sizeof junk, 0)) > 0)
		sent += n;
	r("send until full", n);
	/* Not writable once full; but until the peer's receive buffer is
	 * full too, loopback may still move data out of the send buffer
	 * between the EAGAIN and the select (a slow machine's gap is long
	 * enough), so fill again while select finds room. */
	int sel = -1;
	for (int i = 0; i < 50; i++) {
		fd_set wf;
		FD_ZERO(&wf);
		FD_SET(k, &wf);
		struct timeval tv = {0, 0};
		if ((sel = select(k + 1, NULL, &wf, NULL, &tv)) != 1)
			break;
		while (send(k, junk, sizeof junk, 0) > 0)
			;
	}
	r("select full", sel);
	close(ep);
	close(k);
	close(c);
	close(s);
}

static void udp(void)
{
	printf("-- udp %s\n", v6 ? "::1" : "127.0.0.1");
	int a = socket(fam(), SOCK_DGRAM, 0), b = socket(fam(), SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage sa, sb, from;
	socklen_t la = loop_addr(&sa, 0), lb = loop_addr(&sb, 0), lf;
	bind(a, (struct sockaddr *)&sa, la);
	bind(b, (struct sockaddr *)&sb, lb);
	lb = loop_addr(&sb, port_of(b));
	la = loop_addr(&sa, port_of(a));
	r("sendto", sendto(a, "datagram", 8, 0, (struct sockaddr *)&sb, lb));
	/* Loopback delivers in the sender's softirq, which a slow host
	 * (QEMU TCG) may defer: wait for the datagram, as for recvmmsg. */
	struct pollfd pf = {b, POLLIN, 0};
	poll(&pf, 1, 5000);
	char buf[64];
	lf = sizeof from;
	r("recvfrom", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &lf));
	printf("from a %d\n", lf == la && memcmp(&from, &sa, la) == 0);
	r("recvfrom empty", recvfrom(b, buf, sizeof buf, 0, NULL, NULL));
	struct mmsghdr mm[3];
	struct iovec iov[3] = {{"one", 3}, {"two", 3}, {"three", 5}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &sb;
		mm[i].msg_hdr.msg_namelen = lb;
	}
	r("sendmmsg", sendmmsg(a, mm, 3, 0));
	printf("msg_len %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	char rb[4][8];
	struct iovec riov[4];
	struct mmsghdr rm[4];
	memset(rm, 0, sizeof rm);
	for (int i = 0; i < 4; i++) {
		riov[i] = (struct iovec){rb[i], 8};
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	poll(&pf, 1, 5000);
	usleep(20000);
	r("recvmmsg", recvmmsg(b, rm, 4, MSG_WAITFORONE, NULL));
	printf("lens %u %u %u \"%.5s\"\n", rm[0].msg_len, rm[1].msg_len, rm[2].msg_len, rb[2]);
	r("connect", connect(a, (struct sockaddr *)&sb, lb));
	r("send connected", send(a, "c", 1, 0));
	struct msghdr m = {0};
	struct iovec one = {buf, 1};
	m.msg_iov = &one;
	m.msg_iovlen = 1;
	poll(&pf, 1, 5000);
	r("recvmsg", recvmsg(b, &m, 0));
	close(a);
	close(b);
}

/* SO_REUSEPORT: two sockets share a port; without it, EADDRINUSE. A v6
 * socket without IPV6_V6ONLY accepts a v4 client (a mapped address). */
static void sharing(void)
{
	printf("-- SO_REUSEPORT, dual stack\n");
	int on = 1, a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
	setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
	struct sockaddr_storage ss;
	v6 = 0;
	socklen_t l = loop_addr(&ss, 0);
	r("bind a", bind(a, (struct sockaddr *)&ss, l));
	l = loop_addr(&ss, port_of(a));
	r("bind b, same port", bind(b, (struct sockaddr *)&ss, l));
	r("listen a", listen(a, 4));
	r("listen b", listen(b, 4));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	r("bind c, same port, no SO_REUSEPORT", bind(c, (struct sockaddr *)&ss, l));
	close(a);
	close(b);
	close(c);
	int s6 = socket(AF_INET6, SOCK_STREAM, 0), off = 0;
	r("IPV6_V6ONLY off", setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off));
	struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	r("bind [::]:0", bind(s6, (struct sockaddr *)&any, sizeof any));
	listen(s6, 4);
	socklen_t al = sizeof any;
	getsockname(s6, (struct sockaddr *)&any, &al);
	int k4 = connect_to(ntohs(any.sin6_port), 0); /* v6 == 0: over 127.0.0.1 */
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof peer;
	int k = accept(s6, (struct sockaddr *)&peer, &pl);
	r("accept v4 on v6", k >= 0 ? 0 : -1);
	printf("peer v4-mapped %d len %d\n", IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr), (int)pl);
	close(k);
	close(k4);
	close(s6);
}

static void on_usr1(int s) { (void)s; }

/* The child sends SIGUSR1 after 100 ms, data after 400 ms. */
static void interrupted(const char *what, int restart, int timeout_ms, int use_accept)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
	sigaction(SIGUSR1, &sa, NULL);
	int port, s = listener(0, &port);
	int k = -1, c = -1;
	if (!use_accept) {
		c = connect_to(port, 0);
		k = accept(s, NULL, NULL);
	}
	if (timeout_ms) {
		struct timeval tv = {0, timeout_ms * 1000};
		setsockopt(use_accept ? s : k, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	pid_t parent = getpid();
	pid_t ch = fork();
	if (ch == 0) {
		usleep(100000);
		kill(parent, SIGUSR1);
		usleep(300000);
		if (use_accept)
			c = connect_to(port, 0);
		else
			send(c, "late", 4, 0);
		usleep(100000);
		_exit(0);
	}
	char b[8];
	long n = use_accept ? accept(s, NULL, NULL) : recv(k, b, sizeof b, 0);
	if (use_accept && n >= 0) {
		close(n);
		n = 0;
	}
	r(what, n);
	waitpid(ch, NULL, 0);
	if (k >= 0)
		close(k);
	if (c >= 0)
		close(c);
	close(s);
	signal(SIGUSR1, SIG_DFL);
}

static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }

/* Pre-forked workers all block in accept on one listener: each connection
 * is accepted once, and a signal ends every blocked accept (EINTR). */
static void prefork(void)
{
	printf("-- pre-forked acceptors\n");
	int port, s = listener(0, &port);
	pid_t w[4];
	for (int i = 0; i < 4; i++) {
		if ((w[i] = fork()) == 0) {
			struct sigaction sa = {.sa_handler = on_term};
			sigaction(SIGTERM, &sa, NULL);
			int n = 0;
			for (;;) {
				int k = accept(s, NULL, NULL);
				if (k < 0)
					_exit(errno == EINTR ? n : 100);
				char b;
				if (recv(k, &b, 1, 0) == 1)
					send(k, &b, 1, 0);
				close(k);
				n++;
			}
		}
	}
	for (int i = 0; i < 20; i++) {
		int c = connect_to(port, 0);
		char b = 'a' + i;
		send(c, &b, 1, 0);
		if (recv(c, &b, 1, 0) != 1 || b != 'a' + i)
			printf("connection %d: no echo\n", i);
		close(c);
	}
	usleep(200000); /* let every worker block in accept again */
	int total = 0;
	for (int i = 0; i < 4; i++)
		kill(w[i], SIGTERM);
	for (int i = 0; i < 4; i++) {
		int st;
		waitpid(w[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) >= 100)
			printf("worker %d: status %#x\n", i, st);
		else
			total += WEXITSTATUS(st);
	}
	printf("accepted %d\n", total);
	close(s);
}

static void timeouts(void)
{
	printf("-- timeouts and signals\n");
	int port, s = listener(0, &port);
	int c = connect_to(port, 0), k = accept(s, NULL, NULL);
	struct timeval tv = {0, 50000};
	r("SO_RCVTIMEO", setsockopt(k, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	struct timeval back;
	socklen_t bl = sizeof back;
	getsockopt(k, SOL_SOCKET, SO_RCVTIMEO, &back, &bl);
	printf("rcvtimeo %ld.%06ld\n", (long)back.tv_sec, (long)back.tv_usec);
	char b[4];
	r("recv times out", recv(k, b, sizeof b, 0));
	r("read times out", read(k, b, sizeof b));
	r("accept times out", (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), accept(s, NULL, NULL)));
	r("SO_SNDTIMEO", setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	static char big[4 << 20];
	ssize_t n1 = send(c, big, sizeof big, 0);
	printf("blocking send, full: partial %d\n", n1 > 0 && n1 < (ssize_t)sizeof big);
	close(c);
	close(k);
	close(s);
	interrupted("recv, SA_RESTART", 1, 0, 0);
	interrupted("recv, no SA_RESTART", 0, 0, 0);
	interrupted("recv, SA_RESTART, timeout", 1, 900, 0);
	interrupted("accept, SA_RESTART", 1, 0, 1);
	interrupted("accept, no SA_RESTART", 0, 0, 1);
}

static void options(void)
{
	printf("-- options\n");
	int s = socket(fam(), SOCK_STREAM, 0), v;
	socklen_t vl = sizeof v;
	static const struct { int level, opt; const char *name; } opts[] = {
		{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"}, {SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"},
		{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"}, {IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"},
		{SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST"}, {SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE"},
	};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
		v = 1;
		r(opts[i].name, setsockopt(s, opts[i].level, opts[i].opt, &v, sizeof v));
		v = 0;
		vl = sizeof v;
		getsockopt(s, opts[i].level, opts[i].opt, &v, &vl);
		printf("  now %d len %d\n", v, (int)vl);
	}
	v = 65536;
	r("SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
	vl = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &vl);
	printf("  rcvbuf doubled %d\n", v == 2 * 65536);
	struct linger lg = {1, 3};
	r("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	vl = sizeof lg;
	memset(&lg, 0, sizeof lg);
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &vl);
	printf("  linger %d %d\n", lg.l_onoff, lg.l_linger);
	vl = sizeof v;
	r("SO_DOMAIN", getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &vl));
	printf("  domain ok %d\n", v == fam());
	vl = 2;
	r("getsockopt short buffer", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	printf("  len %d\n", (int)vl);
	if (v6) {
		v = 1;
		r("IPV6_V6ONLY", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v));
	} else {
		v = 64;
		r("IP_TTL", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v));
	}
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	r("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &ifr));
	printf("  index %d\n", ifr.ifr_ifindex);
	r("SIOCGIFFLAGS lo", ioctl(s, SIOCGIFFLAGS, &ifr));
	printf("  up %d loopback %d\n", !!(ifr.ifr_flags & IFF_UP), !!(ifr.ifr_flags & IFF_LOOPBACK));
	ifr.ifr_ifindex = 1;
	r("SIOCGIFNAME 1", ioctl(s, SIOCGIFNAME, &ifr));
	printf("  name %s\n", ifr.ifr_name);
	strcpy(ifr.ifr_name, "nosuch0");
	r("SIOCGIFINDEX nosuch0", ioctl(s, SIOCGIFINDEX, &ifr));
	r("SIOCGIFINDEX unmapped", ioctl(s, SIOCGIFINDEX, (void *)8));
	struct ifconf ic = {.ifc_len = 0, .ifc_buf = NULL};
	r("SIOCGIFCONF size", ioctl(s, SIOCGIFCONF, &ic));
	printf("  multiple of ifreq %d\n", ic.ifc_len > 0 && ic.ifc_len % (int)sizeof(struct ifreq) == 0);
	int q = -1;
	r("SIOCOUTQ", ioctl(s, TIOCOUTQ, &q));
	printf("  outq %d\n", q);
	int f = open("/dev/null", O_RDONLY);
	r("SIOCGIFINDEX on a file", ioctl(f, SIOCGIFINDEX, &ifr));
	close(f);
	close(s);
}

static void errnos(void)
{
	printf("-- errno\n");
	struct sockaddr_storage ss;
	/* a bound, not listening port: connect is refused */
	int b = socket(fam(), SOCK_STREAM, 0);
	socklen_t l = loop_addr(&ss, 0);
	bind(b, (struct sockaddr *)&ss, l);
	int port = port_of(b);
	int c = socket(fam(), SOCK_STREAM, 0);
	l = loop_addr(&ss, port);
	r("connect refused", connect(c, (struct sockaddr *)&ss, l));
	close(c);
	c = socket(fam(), SOCK_STREAM | SOCK_NONBLOCK, 0);
	r("connect refused, non-blocking", connect(c, (struct sockaddr *)&ss, l));
	struct pollfd pf = {c, POLLOUT, 0};
	poll(&pf, 1, 5000);
	int e;
	socklen_t el = sizeof e;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	printf("so_error %s\n", ename(e));
	close(c);
	int port2, s = listener(0, &port2);
	int d = socket(fam(), SOCK_STREAM, 0);
	l = loop_addr(&ss, port2);
	r("bind in use", bind(d, (struct sockaddr *)&ss, l));
	r("bind len 3", bind(d, (struct sockaddr *)&ss, 3));
	r("bind len 129", bind(d, (struct sockaddr *)&ss, 129));
	r("connect len 3", connect(d, (struct sockaddr *)&ss, 3));
	struct sockaddr_storage un = ss;
	un.ss_family = AF_UNIX;
	r("bind AF_UNIX address", bind(d, (struct sockaddr *)&un, l));
	r("connect AF_UNIX address", connect(d, (struct sockaddr *)&un, l));
	r("listen twice", listen(s, 5));
	c = connect_to(port2, 0);
	r("connect twice", connect(c, (struct sockaddr *)&ss, l));
	r("sendto on connected TCP", sendto(c, "x", 1, 0, (struct sockaddr *)&ss, l));
	r("shutdown RDWR", shutdown(c, SHUT_RDWR));
	r("send after shutdown", send(c, "x", 1, MSG_NOSIGNAL));
	r("recv after shutdown", recv(c, &e, 1, 0));
	r("recv bad buffer", recv(d, (void *)8, 10, MSG_DONTWAIT));
	r("sendto bad buffer, shut down", sendto(c, (void *)8, 10, MSG_NOSIGNAL, NULL, 0));
	close(c);
	close(d);
	close(s);
	close(b);
	r("socket AF_INET SOCK_SEQPACKET", socket(fam(), SOCK_SEQPACKET, 0));
	r("socket AF_INET bad proto", socket(fam(), SOCK_STREAM, IPPROTO_UDP));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (v6 = 0; v6 < 2; v6++) {
		tcp_basic();
		tcp_many();
		nonblocking();
		udp();
		options();
		errnos();
	}
	v6 = 0;
	sharing();
	prefork();
	timeouts();
	return 0;
}
