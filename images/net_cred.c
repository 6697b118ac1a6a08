//go:build ignore

/* net_cred.c - whose pid unix socket credentials name, message by
 * message: SCM_CREDENTIALS on datagram, seqpacket and stream sockets when
 * a parent and its forked children take turns sending on one socket (a
 * shared socketpair end, a shared connected socket, separate sockets
 * sending to one bound receiver), with MSG_PEEK, a stream read that
 * stops where the writer changes (SO_PASSCRED), explicit credentials, and
 * SO_PEERCRED after the sockets changed hands (it names who made the
 * connection, never who sent last).
 *
 * Pids are never printed: each is named by the role the program knows
 * (parent, child1, child2). Needs a writable /tmp (kshim --rw). */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static char dir[64];
static pid_t parent, kids[2];

static const char *who(pid_t p)
{
	if (p == parent)
		return "parent";
	if (p == kids[0])
		return "child1";
	if (p == kids[1])
		return "child2";
	return p == 0 ? "none" : "other";
}

static socklen_t mkaddr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
	return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

/* Runs fn(arg) in a child (kids[i]) and waits for it, so sends happen in
 * a known order. */
static void in_child(int i, void (*fn)(int), int arg)
{
	pid_t c = fork();
	if (c == 0) {
		fn(arg);
		_exit(0);
	}
	kids[i] = c;
	waitpid(c, NULL, 0);
}

static void send_c(int fd) { send(fd, "cc", 2, 0); }
static void send_d(int fd) { send(fd, "ddd", 3, 0); }

/* Receives one message (or what a stream read returns) and says whose
 * credentials it carries. */
static void recv_one(int fd, int flags, const char *what)
{
	char buf[64], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	long n = recvmsg(fd, &m, flags | MSG_DONTWAIT);
	if (n < 0) {
		printf("%s: recvmsg -> %s\n", what, ename(errno));
		return;
	}
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_CREDENTIALS) {
		printf("%s: %ld bytes \"%.*s\", no credentials\n", what, n, (int)n, buf);
		return;
	}
	struct ucred u;
	memcpy(&u, CMSG_DATA(h), sizeof u);
	printf("%s: %ld bytes \"%.*s\" from %s uid_ok=%d\n", what, n, (int)n, buf, who(u.pid), u.uid == getuid());
}

/* Parent, child1, parent, child2 send on one end of a socketpair; the
 * other end reads each message. */
static void shared_pair(int type, const char *name)
{
	printf("-- socketpair %s, senders take turns\n", name);
	int sv[2], on = 1;
	socketpair(AF_UNIX, type, 0, sv);
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	send(sv[0], "p", 1, 0);
	in_child(0, send_c, sv[0]);
	send(sv[0], "pp", 2, 0);
	in_child(1, send_d, sv[0]);
	recv_one(sv[1], MSG_PEEK, "peek");
	for (int i = 0; i < 5; i++)
		recv_one(sv[1], 0, "recv");
	/* SO_PEERCRED names the pair's creator, whoever asks or sent. */
	struct ucred u;
	socklen_t ul = sizeof u;
	getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &u, &ul);
	printf("SO_PEERCRED: %s\n", who(u.pid));
	close(sv[0]);
	close(sv[1]);
}

/* Two children and the parent, each with its own bound socket, send to
 * one bound receiver. */
static void bound_senders(void)
{
	printf("-- datagrams from three bound sockets to one\n");
	struct sockaddr_un ra;
	socklen_t ral = mkaddr(&ra, "recv");
	int rs = socket(AF_UNIX, SOCK_DGRAM, 0), on = 1;
	bind(rs, (struct sockaddr *)&ra, ral);
	setsockopt(rs, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	for (int i = 0; i < 3; i++) {
		char nm[16];
		snprintf(nm, sizeof nm, "send%d", i);
		struct sockaddr_un sa;
		socklen_t sal = mkaddr(&sa, nm);
		pid_t c = i < 2 ? fork() : 0;
		if (c > 0) {
			kids[i] = c;
			waitpid(c, NULL, 0);
			continue;
		}
		int ss = socket(AF_UNIX, SOCK_DGRAM, 0);
		bind(ss, (struct sockaddr *)&sa, sal);
		sendto(ss, nm, strlen(nm), 0, (struct sockaddr *)&ra, ral);
		close(ss);
		unlink(sa.sun_path);
		if (i < 2)
			_exit(0);
	}
	for (int i = 0; i < 4; i++)
		recv_one(rs, 0, "recv");
	close(rs);
	unlink(ra.sun_path);
}

/* A stream server; the client connects in the parent, and children it
 * forks write on the connection too. SO_PEERCRED: the server's end names
 * the connecting process, the client's the listening one. */
static void stream_server(void)
{
	printf("-- stream connection written by parent and children\n");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "srv");
	int l = socket(AF_UNIX, SOCK_STREAM, 0), on = 1;
	bind(l, (struct sockaddr *)&a, al);
	listen(l, 4);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, al);
	int s = accept(l, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	in_child(0, send_c, c);
	send(c, "pp", 2, 0);
	in_child(1, send_d, c);
	send(c, "p", 1, 0);
	/* A stream read with SO_PASSCRED stops where the writer changes. */
	for (int i = 0; i < 5; i++)
		recv_one(s, 0, "read");
	struct ucred u;
	socklen_t ul = sizeof u;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &ul);
	printf("server end SO_PEERCRED: %s\n", who(u.pid));
	getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &ul);
	printf("client end SO_PEERCRED: %s\n", who(u.pid));
	close(c);
	close(s);
	close(l);
	unlink(a.sun_path);
}

/* A child connects to the parent's listener, sends (a message sent
 * before the accept carries credentials whatever SO_PASSCRED says) and
 * exits before the parent accepts: the accepted end still names the
 * child, and so do its messages. */
static void child_connects(void)
{
	printf("-- a child connects\n");
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, "srv2");
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0), on = 1;
	bind(l, (struct sockaddr *)&a, al);
	listen(l, 4);
	pid_t ch = fork();
	if (ch == 0) {
		int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		connect(c, (struct sockaddr *)&a, al);
		struct ucred u;
		socklen_t ul = sizeof u;
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &ul);
		char msg[2] = {u.pid == getppid() ? 'L' : '?', 0};
		send(c, msg, 1, 0); /* "L": the client's end names the listener */
		struct ucred mine = {getpid(), getuid(), getgid()};
		char cbuf[CMSG_SPACE(sizeof mine)];
		struct iovec iov = {"e", 1};
		struct msghdr sm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
		struct cmsghdr *h = CMSG_FIRSTHDR(&sm);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_CREDENTIALS;
		h->cmsg_len = CMSG_LEN(sizeof mine);
		memcpy(CMSG_DATA(h), &mine, sizeof mine);
		sendmsg(c, &sm, 0);
		_exit(0);
	}
	kids[0] = ch;
	waitpid(ch, NULL, 0);
	int s = accept(l, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	struct ucred u;
	socklen_t ul = sizeof u;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, &ul);
	printf("accepted end SO_PEERCRED: %s\n", who(u.pid));
	recv_one(s, 0, "recv");
	recv_one(s, 0, "recv explicit");
	send(s, "x", 1, MSG_NOSIGNAL);
	close(s);
	close(l);
	unlink(a.sun_path);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	parent = getpid();
	strcpy(dir, "/tmp/kshim-cred-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	shared_pair(SOCK_DGRAM, "dgram");
	shared_pair(SOCK_SEQPACKET, "seqpacket");
	shared_pair(SOCK_STREAM, "stream");
	bound_senders();
	stream_server();
	child_connects();
	rmdir(dir);
	return 0;
}
