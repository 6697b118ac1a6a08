//go:build ignore

/* net_unix.c - unix sockets: socketpair (stream, dgram, seqpacket), a
 * path server and client across fork, abstract names, SCM_RIGHTS (a pipe
 * and a file; MSG_CMSG_CLOEXEC; MSG_CTRUNC when the buffer is short),
 * SO_PEERCRED and SCM_CREDENTIALS (compared with the pids the program
 * knows, never printed), shutdown, SIGPIPE, and errno cases.
 *
 * Needs a writable /tmp (kshim --rw). Prints facts only: no pids, paths
 * relative to its own temporary directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static char dir[64];
static char *volatile bad = (char *)8; /* unmapped: EFAULT where it is read */

static void r(const char *what, long v)
{
	if (v < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %ld\n", what, v);
}

static socklen_t mkaddr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
	return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static void pairs(void)
{
	int sv[2];
	char buf[64];
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	static const char *names[] = {"stream", "dgram", "seqpacket"};
	for (int i = 0; i < 3; i++) {
		printf("-- socketpair %s\n", names[i]);
		r("socketpair", socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sv));
		printf("cloexec %d\n", fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
		r("write hello", write(sv[0], "hello", 5));
		r("send world", send(sv[0], "world!", 6, 0));
		r("recv 3", recv(sv[1], buf, 3, 0));
		r("recv MSG_PEEK", recv(sv[1], buf, sizeof buf, MSG_PEEK));
		r("read", read(sv[1], buf, sizeof buf));
		r("recv DONTWAIT", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
		int t = 0;
		socklen_t tl = sizeof t;
		r("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &tl));
		printf("type %d len %d\n", t, (int)tl);
		r("shutdown WR", shutdown(sv[0], SHUT_WR));
		r("recv after peer shutdown", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
		r("send after shutdown", send(sv[0], "x", 1, MSG_NOSIGNAL));
		struct pollfd pf = {sv[1], POLLIN | POLLOUT, 0};
		r("poll", poll(&pf, 1, 0));
		printf("revents %#x\n", pf.revents);
		close(sv[0]);
		close(sv[1]);
	}
	/* Zero lengths: write sends an empty datagram, writev of nothing
	 * does not; read of nothing returns at once, recv of nothing takes
	 * a datagram. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	r("write 0", write(sv[0], buf, 0));
	r("recv the empty datagram", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
	r("writev nothing", writev(sv[0], NULL, 0));
	r("recv nothing there", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
	send(sv[0], "abc", 3, 0);
	r("read 0", read(sv[1], buf, 0));
	r("readv nothing", readv(sv[1], NULL, 0));
	r("recv 0 takes it", recv(sv[1], buf, 0, 0));
	r("recv nothing left", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	r("stream read 0, no data, blocking", read(sv[1], buf, 0));
	r("write, kernel address", write(sv[0], (void *)0xffff888000000000ul, 4));
	r("read, kernel address", read(sv[1], (void *)0xffff888000000000ul, 4));
	close(sv[0]);
	close(sv[1]);
	/* MSG_TRUNC on a datagram */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	send(sv[0], "0123456789", 10, 0);
	r("recv MSG_TRUNC", recv(sv[1], buf, 4, MSG_TRUNC));
	send(sv[0], "0123456789", 10, 0);
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	r("recvmsg short", recvmsg(sv[1], &m, 0));
	printf("msg_flags MSG_TRUNC %d\n", !!(m.msg_flags & MSG_TRUNC));
	close(sv[0]);
	close(sv[1]);
}

static volatile int pipes;
static void on_pipe(int s) { (void)s; pipes++; }

static void sigpipe(void)
{
	printf("-- SIGPIPE\n");
	signal(SIGPIPE, on_pipe);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	r("send to closed", send(sv[0], "x", 1, 0));
	r("send NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
	r("write to closed", write(sv[0], "x", 1));
	r("write to closed, bad buffer", write(sv[0], bad, 1));
	struct iovec biov = {(void *)8, 4};
	struct msghdr bm = {.msg_iov = &biov, .msg_iovlen = 1};
	r("sendmsg to closed, bad buffer", sendmsg(sv[0], &bm, 0));
	printf("SIGPIPEs %d\n", pipes);
	close(sv[0]);
	/* Only stream sockets raise it. */
	static const int quiet[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 2; i++) {
		socketpair(AF_UNIX, quiet[i], 0, sv);
		shutdown(sv[0], SHUT_WR);
		r("send after shutdown", send(sv[0], "x", 1, 0));
		r("write after shutdown", write(sv[0], "x", 1));
		r("sendto bad buffer after shutdown", sendto(sv[0], bad, 1, 0, NULL, 0));
		close(sv[0]);
		close(sv[1]);
		socketpair(AF_UNIX, quiet[i], 0, sv);
		close(sv[1]);
		r("send, peer closed", send(sv[0], "x", 1, 0));
		r("write, peer closed", write(sv[0], "x", 1));
		close(sv[0]);
		printf("SIGPIPEs %d\n", pipes);
	}
	signal(SIGPIPE, SIG_DFL);
}

static void server_client(int type, const char *tname)
{
	printf("-- path %s\n", tname);
	struct sockaddr_un a, got;
	socklen_t al = mkaddr(&a, "srv"), gl;
	int s = socket(AF_UNIX, type, 0);
	r("bind", bind(s, (struct sockaddr *)&a, al));
	r("bind again", bind(s, (struct sockaddr *)&a, al));
	int s2 = socket(AF_UNIX, type, 0);
	r("bind taken", bind(s2, (struct sockaddr *)&a, al));
	close(s2);
	struct stat st;
	r("stat", stat(a.sun_path, &st));
	printf("is socket %d\n", S_ISSOCK(st.st_mode));
	r("listen", listen(s, 8));
	gl = sizeof got;
	r("getsockname", getsockname(s, (struct sockaddr *)&got, &gl));
	printf("name matches %d len %d\n", strcmp(got.sun_path, a.sun_path) == 0, gl == al);
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		int k = socket(AF_UNIX, type, 0);
		if (connect(k, (struct sockaddr *)&a, al) < 0)
			_exit(10);
		struct ucred cr;
		socklen_t cl = sizeof cr;
		getsockopt(k, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
		char msg[32];
		snprintf(msg, sizeof msg, "peer-is-parent=%d", cr.pid == parent);
		send(k, msg, strlen(msg), 0);
		char b[8];
		recv(k, b, sizeof b, 0);
		_exit(0);
	}
	gl = sizeof got;
	int k = accept4(s, (struct sockaddr *)&got, &gl, SOCK_CLOEXEC);
	r("accept4", k >= 0 ? 0 : -1);
	printf("accepted addr len %d family %d\n", (int)gl, got.sun_family);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	r("SO_PEERCRED", getsockopt(k, SOL_SOCKET, SO_PEERCRED, &cr, &cl));
	printf("peer is child %d uid ok %d len %d\n", cr.pid == c, cr.uid == getuid(), (int)cl);
	gl = sizeof got;
	r("getpeername (client unbound)", getpeername(k, (struct sockaddr *)&got, &gl));
	printf("len %d\n", (int)gl);
	char b[64] = {0};
	r("recv", recv(k, b, sizeof b - 1, 0));
	printf("got \"%s\"\n", b);
	send(k, "bye", 3, 0);
	int status;
	waitpid(c, &status, 0);
	printf("child status %d\n", WEXITSTATUS(status));
	close(k);
	close(s);
	r("unlink", unlink(a.sun_path));
	k = socket(AF_UNIX, type, 0);
	r("connect after unlink", connect(k, (struct sockaddr *)&a, al));
	close(k);
}

static void dgram_path(void)
{
	printf("-- dgram by path\n");
	struct sockaddr_un a, b, from;
	socklen_t al = mkaddr(&a, "dg-a"), bl = mkaddr(&b, "dg-b"), fl;
	int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
	r("bind a", bind(sa, (struct sockaddr *)&a, al));
	r("bind b", bind(sb, (struct sockaddr *)&b, bl));
	r("sendto b", sendto(sa, "ping", 4, 0, (struct sockaddr *)&b, bl));
	char buf[16];
	fl = sizeof from;
	r("recvfrom", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	printf("from a %d\n", strcmp(from.sun_path, a.sun_path) == 0);
	r("connect b", connect(sa, (struct sockaddr *)&b, bl));
	r("send connected", send(sa, "pong", 4, 0));
	fl = 4; /* short: the full length comes back */
	r("recvfrom short addr", recvfrom(sb, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	printf("addrlen %d\n", (int)fl);
	struct sockaddr_un n;
	socklen_t nl = mkaddr(&n, "nothing");
	r("sendto missing", sendto(sa, "x", 1, 0, (struct sockaddr *)&n, nl));
	nl = mkaddr(&n, "file");
	close(open(n.sun_path, O_CREAT | O_WRONLY, 0600));
	r("sendto a file", sendto(sb, "x", 1, 0, (struct sockaddr *)&n, nl));
	unlink(n.sun_path);
	close(sa);
	close(sb);
	unlink(a.sun_path);
	unlink(b.sun_path);
}

static void abstract(void)
{
	printf("-- abstract\n");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int len = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "kshim-net-unix-%d", getpid());
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 + len;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	r("bind abstract", bind(s, (struct sockaddr *)&a, al));
	r("listen", listen(s, 1));
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	r("connect abstract", connect(c, (struct sockaddr *)&a, al));
	struct sockaddr_un g;
	socklen_t gl = sizeof g;
	int k = accept(s, NULL, NULL);
	r("getpeername", getpeername(c, (struct sockaddr *)&g, &gl));
	printf("same name %d\n", gl == al && memcmp(&g, &a, al) == 0);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
	printf("peer is self %d\n", cr.pid == getpid());
	close(k);
	close(c);
	close(s);
	/* autobind */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	r("autobind", bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path)));
	gl = sizeof g;
	getsockname(s, (struct sockaddr *)&g, &gl);
	printf("autobind len %d abstract %d\n", (int)gl, g.sun_path[0] == 0);
	close(s);
}

static int send_fds(int s, int *fds, int n)
{
	char c[CMSG_SPACE(sizeof(int) * 8)];
	memset(c, 0, sizeof c);
	struct iovec iov = {"F", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

static void rights(void)
{
	printf("-- SCM_RIGHTS\n");
	int sv[2], p[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	char path[96];
	snprintf(path, sizeof path, "%s/passed.txt", dir);
	int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	write(f, "file content", 12);
	lseek(f, 0, SEEK_SET);
	int fds[2] = {p[0], f};
	r("sendmsg 2 fds", send_fds(sv[0], fds, 2));
	write(p[1], "through the pipe", 16);
	close(p[0]);
	close(f);
	char c[CMSG_SPACE(sizeof(int) * 8)], d[4];
	struct iovec iov = {d, sizeof d};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
	int before = count_fds();
	r("recvmsg CMSG_CLOEXEC", recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC));
	printf("fds received %d controllen %d flags %#x\n", count_fds() - before, (int)m.msg_controllen, m.msg_flags);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	printf("level %d type %d len %d\n", h->cmsg_level, h->cmsg_type, (int)h->cmsg_len);
	int got[2];
	memcpy(got, CMSG_DATA(h), sizeof got);
	printf("cloexec %d %d\n", fcntl(got[0], F_GETFD), fcntl(got[1], F_GETFD));
	char buf[32] = {0};
	r("read pipe", read(got[0], buf, sizeof buf - 1));
	printf("\"%s\"\n", buf);
	memset(buf, 0, sizeof buf);
	r("read file", read(got[1], buf, sizeof buf - 1));
	printf("\"%s\"\n", buf);
	close(got[0]);
	close(got[1]);

	/* A buffer with room for one fd: the rest are closed, MSG_CTRUNC. */
	pipe(p);
	int three[3] = {p[0], p[0], p[1]};
	send_fds(sv[0], three, 3);
	close(p[0]);
	close(p[1]);
	char small[CMSG_SPACE(sizeof(int))];
	m.msg_control = small;
	m.msg_controllen = sizeof small;
	before = count_fds();
	r("recvmsg short control", recvmsg(sv[1], &m, 0));
	printf("fds received %d controllen %d ctrunc %d\n", count_fds() - before, (int)m.msg_controllen, !!(m.msg_flags & MSG_CTRUNC));
	h = CMSG_FIRSTHDR(&m);
	int one;
	memcpy(&one, CMSG_DATA(h), sizeof one);
	printf("cloexec %d\n", fcntl(one, F_GETFD));
	/* the write end was closed with the control data: EOF */
	r("read (writer gone)", read(one, buf, sizeof buf));
	close(one);

	/* No control buffer at all: every fd is closed. */
	send_fds(sv[0], fds, 1); /* fds[0] is closed now: EBADF */
	int fresh[1] = {sv[0]};
	r("sendmsg own socket", send_fds(sv[0], fresh, 1));
	m.msg_control = NULL;
	m.msg_controllen = 0;
	before = count_fds();
	r("recvmsg no control", recvmsg(sv[1], &m, 0));
	printf("fds received %d ctrunc %d\n", count_fds() - before, !!(m.msg_flags & MSG_CTRUNC));
	unlink(path);

	/* Bad control data */
	char bad[CMSG_SPACE(sizeof(int))];
	memset(bad, 0, sizeof bad);
	struct msghdr bm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = bad, .msg_controllen = sizeof bad};
	h = CMSG_FIRSTHDR(&bm);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	int badfd = 999;
	memcpy(CMSG_DATA(h), &badfd, sizeof badfd);
	r("SCM_RIGHTS bad fd", sendmsg(sv[0], &bm, 0));
	/* 200 + 200 fds in two messages: over SCM_MAX_FD (253) together */
	{
		static char big[2 * CMSG_SPACE(200 * sizeof(int))];
		struct msghdr mm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = big, .msg_controllen = sizeof big};
		struct cmsghdr *c1 = CMSG_FIRSTHDR(&mm);
		for (int k = 0; k < 2; k++) {
			c1->cmsg_level = SOL_SOCKET;
			c1->cmsg_type = SCM_RIGHTS;
			c1->cmsg_len = CMSG_LEN(200 * sizeof(int));
			for (int j = 0; j < 200; j++)
				((int *)CMSG_DATA(c1))[j] = sv[0];
			c1 = CMSG_NXTHDR(&mm, c1);
		}
		r("SCM_RIGHTS 2 x 200 fds", sendmsg(sv[0], &mm, 0));
		mm.msg_controllen = CMSG_SPACE(200 * sizeof(int));
		r("SCM_RIGHTS 200 fds", sendmsg(sv[0], &mm, 0));
		char d2[8];
		struct iovec i2 = {d2, sizeof d2};
		static char rc[CMSG_SPACE(253 * sizeof(int))];
		struct msghdr rm = {.msg_iov = &i2, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc};
		int before2 = count_fds();
		r("recvmsg 200 fds", recvmsg(sv[1], &rm, 0));
		printf("fds received %d\n", count_fds() - before2);
		for (struct cmsghdr *c2 = CMSG_FIRSTHDR(&rm); c2; c2 = CMSG_NXTHDR(&rm, c2))
			for (size_t j = 0; j < (c2->cmsg_len - CMSG_LEN(0)) / sizeof(int); j++)
				close(((int *)CMSG_DATA(c2))[j]);
	}
	h->cmsg_len = 1000;
	r("cmsg_len too long", sendmsg(sv[0], &bm, 0));
	h->cmsg_len = 4;
	r("cmsg_len too short", sendmsg(sv[0], &bm, 0));
	bm.msg_controllen = 1 << 30;
	r("controllen huge", sendmsg(sv[0], &bm, 0));
	bm.msg_controllen = sizeof bad;
	bm.msg_iovlen = 2000;
	r("iovlen 2000", sendmsg(sv[0], &bm, 0));
	bm.msg_iovlen = 1;
	bm.msg_namelen = -1;
	bm.msg_name = bad;
	r("namelen -1", sendmsg(sv[0], &bm, 0));
	r("msghdr unmapped", sendmsg(sv[0], (struct msghdr *)8, 0));
	r("recvmsg msghdr unmapped", recvmsg(sv[1], (struct msghdr *)8, MSG_DONTWAIT));
	close(sv[0]);
	close(sv[1]);
}

static void creds(void)
{
	printf("-- SCM_CREDENTIALS\n");
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int on = 1;
	r("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	pid_t c = fork();
	if (c == 0) {
		send(sv[0], "c", 1, 0);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	char cbuf[CMSG_SPACE(sizeof(struct ucred))], d[4];
	struct iovec iov = {d, sizeof d};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	r("recvmsg", recvmsg(sv[1], &m, 0));
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	struct ucred u;
	memcpy(&u, CMSG_DATA(h), sizeof u);
	printf("type %d sender is child %d uid ok %d\n", h->cmsg_type, u.pid == c, u.uid == getuid());
	/* explicit credentials */
	struct ucred mine = {getpid(), getuid(), getgid()};
	struct msghdr sm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	h = CMSG_FIRSTHDR(&sm);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_CREDENTIALS;
	h->cmsg_len = CMSG_LEN(sizeof mine);
	memcpy(CMSG_DATA(h), &mine, sizeof mine);
	r("sendmsg own creds", sendmsg(sv[0], &sm, 0));
	m.msg_controllen = sizeof cbuf;
	r("recvmsg", recvmsg(sv[1], &m, 0));
	memcpy(&u, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof u);
	printf("sender is self %d\n", u.pid == getpid());
	close(sv[0]);
	close(sv[1]);

	/* unconnected datagrams between bound sockets */
	struct sockaddr_un ra, sa;
	socklen_t ral = mkaddr(&ra, "cr-r"), sal = mkaddr(&sa, "cr-s");
	int rs = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(rs, (struct sockaddr *)&ra, ral);
	setsockopt(rs, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	if ((c = fork()) == 0) {
		int ss = socket(AF_UNIX, SOCK_DGRAM, 0);
		bind(ss, (struct sockaddr *)&sa, sal);
		sendto(ss, "d", 1, 0, (struct sockaddr *)&ra, ral);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	m.msg_controllen = sizeof cbuf;
	r("recvmsg unconnected", recvmsg(rs, &m, 0));
	memcpy(&u, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof u);
	printf("sender is child %d\n", u.pid == c);
	close(rs);
	unlink(ra.sun_path);
	unlink(sa.sun_path);
}

static void on_usr1(int s) { (void)s; }

/* A listener whose backlog is full: non-blocking connects are EAGAIN, a
 * blocking one waits until its timeout (EAGAIN), a signal (EINTR) or an
 * accept. */
static void backlog(void)
{
	printf("-- full backlog\n");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "bl");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&a, al);
	listen(s, 0);
	int c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		long v = connect(c[i], (struct sockaddr *)&a, al);
		printf("non-blocking connect %d -> %s\n", i, v < 0 ? ename(errno) : "0");
	}
	int b = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = {0, 100000};
	setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	r("blocking connect, SO_SNDTIMEO", connect(b, (struct sockaddr *)&a, al));
	close(b);
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid(), ch = fork();
	if (ch == 0) {
		usleep(100000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	b = socket(AF_UNIX, SOCK_STREAM, 0);
	r("blocking connect, signal", connect(b, (struct sockaddr *)&a, al));
	waitpid(ch, NULL, 0);
	close(b);
	if ((ch = fork()) == 0) {
		usleep(100000);
		close(accept(s, NULL, NULL));
		_exit(0);
	}
	b = socket(AF_UNIX, SOCK_STREAM, 0);
	r("blocking connect, then an accept", connect(b, (struct sockaddr *)&a, al));
	waitpid(ch, NULL, 0);
	close(b);
	for (int i = 0; i < 4; i++)
		close(c[i]);
	close(s);
	unlink(a.sun_path);
	signal(SIGUSR1, SIG_DFL);
}

static void errnos(void)
{
	printf("-- errno\n");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "e");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	r("bind len 1", bind(s, (struct sockaddr *)&a, 1));
	r("bind len 200", bind(s, (struct sockaddr *)&a, 200));
	r("bind len -1", bind(s, (struct sockaddr *)&a, -1));
	r("bind unmapped", bind(s, (struct sockaddr *)8, al));
	struct sockaddr_un in = a;
	in.sun_family = AF_INET;
	r("bind AF_INET addr", bind(s, (struct sockaddr *)&in, al));
	struct sockaddr_un deep;
	socklen_t dl = mkaddr(&deep, "no/such/dir");
	r("bind missing dir", bind(s, (struct sockaddr *)&deep, dl));
	r("connect missing", connect(s, (struct sockaddr *)&deep, dl));
	r("connect len 1", connect(s, (struct sockaddr *)&a, 1));
	r("listen unbound", listen(s, 1));
	r("accept unbound", accept(s, NULL, NULL));
	r("accept4 bad flags", accept4(s, NULL, NULL, 0x40));
	r("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
	r("recv unconnected", recv(s, &a, 1, 0));
	r("read unconnected, bad buffer", read(s, bad, 1));
	struct iovec biov = {(void *)8, 4};
	struct msghdr bm = {.msg_iov = &biov, .msg_iovlen = 1};
	r("recvmsg unconnected, bad buffer", recvmsg(s, &bm, 0));
	r("sendmsg unconnected, bad buffer", sendmsg(s, &bm, MSG_NOSIGNAL));
	r("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &al));
	r("shutdown unconnected", shutdown(s, SHUT_RDWR));
	r("shutdown bad how", shutdown(s, 7));
	int v = 1;
	r("setsockopt bad level", setsockopt(s, 12345, 1, &v, sizeof v));
	r("setsockopt short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	r("setsockopt unmapped", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, 4));
	socklen_t vl = 4;
	r("getsockopt unknown", getsockopt(s, SOL_SOCKET, 9999, &v, &vl));
	vl = -1;
	r("getsockopt len -1", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	r("getsockopt len unmapped", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8));
	int *volatile bad_sv = (int *)8;
	r("socketpair unmapped", socketpair(AF_UNIX, SOCK_STREAM, 0, bad_sv));
	r("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}));
	r("socket bad type", socket(AF_UNIX, 99, 0));
	r("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x40, 0));
	r("socket family 46", socket(46, SOCK_STREAM, 0));
	r("socket family -1", socket(-1, SOCK_STREAM, 0));
	r("socket unix bad proto", socket(AF_UNIX, SOCK_STREAM, 5));
	close(s);
	int f = open("/dev/null", O_RDONLY);
	r("bind on a file", bind(f, (struct sockaddr *)&a, al));
	r("connect on a file", connect(f, (struct sockaddr *)&a, al));
	r("listen on a file", listen(f, 1));
	r("accept on a file", accept(f, NULL, NULL));
	r("send on a file", send(f, "x", 1, 0));
	r("getsockopt on a file", getsockopt(f, SOL_SOCKET, SO_TYPE, &v, &vl));
	close(f);
	r("bind bad fd", bind(999, (struct sockaddr *)&a, al));
	r("sendmsg bad fd", sendmsg(999, NULL, 0));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	strcpy(dir, "/tmp/kshim-net-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	pairs();
	sigpipe();
	server_client(SOCK_STREAM, "stream");
	server_client(SOCK_SEQPACKET, "seqpacket");
	dgram_path();
	abstract();
	rights();
	creds();
	backlog();
	errnos();
	rmdir(dir);
	return 0;
}
