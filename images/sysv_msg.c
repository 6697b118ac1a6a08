//go:build ignore

/* sysv_msg.c - System V message queues (kshim's syscalls/ipc/msg.go):
 * msgget's errors, msgsnd and msgrcv by type (0, >0, <0, MSG_EXCEPT),
 * MSG_NOERROR and E2BIG, MSG_COPY, IPC_NOWAIT, a full queue, a receiver
 * and a sender in a child that block and are woken by a send, a receive,
 * IPC_RMID (EIDRM) and a signal (EINTR), msgctl, /proc/sysvipc/msg.
 * Ids and pids vary between runs: only their relations are printed. */
#define _GNU_SOURCE
#include <sys/ipc.h>
#include <sys/msg.h>
#include "common.h"

struct mbuf {
	long type;
	char text[64];
};

static int snd(int id, long type, const char *s, int flg)
{
	struct mbuf m = {.type = type};
	snprintf(m.text, sizeof m.text, "%s", s);
	return msgsnd(id, &m, strlen(s), flg);
}

static void rcv(const char *what, int id, size_t size, long type, int flg)
{
	struct mbuf m;
	memset(&m, 0, sizeof m);
	ssize_t n = msgrcv(id, &m, size, type, flg);
	if (n < 0)
		printf("%s -> %s\n", what, ename(errno));
	else
		printf("%s -> %zd type=%ld text=%.*s\n", what, n, m.type, (int)n, m.text);
}

static void qstat(const char *what, int id)
{
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) < 0) {
		printf("%s: IPC_STAT -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: qnum=%lu cbytes=%lu qbytes=%lu mode=%o lspid=%s lrpid=%s stime=%s rtime=%s\n", what,
	       (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes,
	       ds.msg_perm.mode, ds.msg_lspid == 0 ? "0" : ds.msg_lspid == getpid() ? "self" : "other",
	       ds.msg_lrpid == 0 ? "0" : ds.msg_lrpid == getpid() ? "self" : "other",
	       ds.msg_stime ? "set" : "0", ds.msg_rtime ? "set" : "0");
}

static void on_usr1(int sig) { (void)sig; }

/* wait_sleeping waits (at most ~10 s) until process c sleeps, which is
 * in its blocking msgsnd or msgrcv: message queues have no waiter count
 * to watch. */
static void wait_sleeping(pid_t c)
{
	char path[64], st[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)c);
	for (int i = 0; i < 10000; i++) {
		if (read_whole(path, st, sizeof st) > 0) {
			char *r = strrchr(st, ')');
			if (r && r[1] == ' ' && r[2] == 'S')
				return;
		}
		usleep(1000);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int id = msgget(IPC_PRIVATE, 0600);
	printf("msgget(PRIVATE) -> %s\n", id >= 0 ? "id" : ename(errno));
	key_t key = 0x5c000000 | (getpid() & 0xffffff);
	int k1 = msgget(key, IPC_CREAT | 0600);
	printf("msgget(key, CREAT) -> %s\n", k1 >= 0 ? "id" : ename(errno));
	rc("msgget(key, EXCL)", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
	printf("msgget(key) same: %d\n", msgget(key, 0) == k1);
	rc("msgget(key+1) absent", msgget(key + 1, 0));
	qstat("new", id);

	/* msgsnd's errors. */
	rc("msgsnd(type 0)", snd(id, 0, "x", 0));
	rc("msgsnd(type -1)", snd(id, -1, "x", 0));
	rc("msgsnd(bad pointer)", msgsnd(id, (void *)16, 1, 0));
	static char big[8300];
	*(long *)big = 1;
	rc("msgsnd(8193 bytes)", msgsnd(id, big, 8193, 0));
	rc("msgsnd(bad id)", snd(id + 1000000, 1, "x", 0));
	rc("msgsnd(-1)", snd(-1, 1, "x", 0));

	/* Types. */
	rc("send 3 c1", snd(id, 3, "c1", 0));
	rc("send 1 a1", snd(id, 1, "a1", 0));
	rc("send 2 b1", snd(id, 2, "b1", 0));
	rc("send 1 a2", snd(id, 1, "a2", 0));
	rc("send 5 e1", snd(id, 5, "e1", 0));
	rc("send empty", snd(id, 4, "", 0));
	qstat("six", id);
	rcv("MSG_COPY 2", id, 64, 2, MSG_COPY | IPC_NOWAIT);
	rcv("MSG_COPY 9", id, 64, 9, MSG_COPY | IPC_NOWAIT);
	rcv("MSG_COPY without NOWAIT", id, 64, 0, MSG_COPY);
	rcv("type 2", id, 64, 2, 0);
	rcv("type -4", id, 64, -4, 0);
	rcv("type -4 again", id, 64, -4, 0);
	rcv("except 1", id, 64, 1, MSG_EXCEPT);
	rcv("small buffer", id, 1, 0, 0);
	rcv("small buffer NOERROR", id, 1, 0, MSG_NOERROR);
	rcv("type 9 NOWAIT", id, 64, 9, IPC_NOWAIT);
	rcv("type 0", id, 64, 0, 0);
	rcv("empty NOWAIT", id, 64, 0, IPC_NOWAIT);
	rcv("negative size", id, -1, 0, IPC_NOWAIT);
	rcv("bad id", id + 1000000, 64, 0, IPC_NOWAIT);
	snd(id, 7, "lost", 0);
	rcv("bad buffer", id, 64, 0, 0);
	{
		ssize_t n = msgrcv(id, (void *)16, 64, 0, IPC_NOWAIT);
		printf("msgrcv(bad buffer) -> %s\n", n < 0 ? ename(errno) : "?");
	}
	qstat("drained", id);

	/* A full queue. */
	struct msqid_ds ds;
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 10;
	rc("IPC_SET qbytes 10", msgctl(id, IPC_SET, &ds));
	rc("send 6 bytes", snd(id, 1, "123456", 0));
	rc("send 6 more NOWAIT", snd(id, 1, "abcdef", IPC_NOWAIT));
	pid_t c = fork();
	if (c == 0) {
		rc("child: send waits for room, then", snd(id, 1, "abcdef", 0));
		_exit(0);
	}
	wait_sleeping(c);
	struct mbuf got;
	ssize_t n = msgrcv(id, &got, 64, 0, 0); /* printed after the child's line */
	waitpid(c, NULL, 0);
	printf("receive makes room -> %zd %.*s\n", n, (int)(n > 0 ? n : 0), got.text);
	rcv("the child's", id, 64, 0, 0);
	qstat("after", id);
	ds.msg_qbytes = 16385;
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 16384;
	ds.msg_perm.mode = 0640;
	rc("IPC_SET back", msgctl(id, IPC_SET, &ds));

	/* A receiver in a child woken by a send of its type. */
	c = fork();
	if (c == 0) {
		rcv("child: receive type 8 waits, then", id, 64, 8, 0);
		_exit(0);
	}
	wait_sleeping(c);
	snd(id, 2, "other", 0);
	snd(id, 8, "eight", 0);
	waitpid(c, NULL, 0);
	qstat("one left", id);
	rcv("the other", id, 64, 0, 0);

	/* A signal interrupts a receiver; IPC_RMID ends one with EIDRM. */
	c = fork();
	if (c == 0) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		rcv("child: receive interrupted", id, 64, 0, 0);
		_exit(0);
	}
	wait_sleeping(c);
	kill(c, SIGUSR1);
	waitpid(c, NULL, 0);

	struct msginfo mi;
	int idx = msgctl(0, IPC_INFO, (void *)&mi);
	printf("IPC_INFO -> %s msgmax=%d msgmnb=%d msgssz=%d msgseg=%u\n", idx >= 0 ? "index" : ename(errno),
	       mi.msgmax, mi.msgmnb, mi.msgssz, mi.msgseg);
	snd(id, 1, "abc", 0);
	idx = msgctl(0, MSG_INFO, (void *)&mi);
	printf("MSG_INFO -> %s queues>=2 %d\n", idx >= 0 ? "index" : ename(errno), mi.msgpool >= 2);
	int found = 0;
	for (int i = 0; i <= idx && !found; i++)
		if (msgctl(i, MSG_STAT, &ds) == id)
			found = 1;
	printf("MSG_STAT finds it: %d\n", found);
	rc("msgctl(99)", msgctl(id, 99, &ds));
	rc("IPC_STAT bad pointer", msgctl(id, IPC_STAT, (void *)16));
	static char buf[1 << 16];
	if (read_whole("/proc/sysvipc/msg", buf, sizeof buf) >= 0) {
		printf("header %.45s\n", buf);
		for (char *l = strchr(buf, '\n'); l && *l; l = strchr(l, '\n')) {
			int k, sid;
			unsigned mode;
			unsigned long cb, qn;
			if (sscanf(++l, "%d %d %o %lu %lu", &k, &sid, &mode, &cb, &qn) == 5 && sid == id)
				printf("sysvipc: key=%d perms=%o cbytes=%lu qnum=%lu\n", k, mode, cb, qn);
		}
	}

	c = fork();
	if (c == 0) {
		rcv("child: receive on removed", id, 64, 99, 0);
		_exit(0);
	}
	wait_sleeping(c);
	int r = msgctl(id, IPC_RMID, NULL); /* printed after the child's line */
	waitpid(c, NULL, 0);
	rc("IPC_RMID", r);
	qstat("removed", id);
	rc("IPC_RMID keyed", msgctl(k1, IPC_RMID, NULL));
	rc("IPC_RMID again", msgctl(k1, IPC_RMID, NULL));
	int ro = msgget(key + 2, IPC_CREAT | 0400);
	rc("send to 0400", snd(ro, 1, "x", IPC_NOWAIT));
	rcv("receive from 0400", ro, 64, 0, IPC_NOWAIT);
	msgctl(ro, IPC_RMID, NULL);
	return 0;
}
