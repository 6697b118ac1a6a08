//go:build ignore

/* proc_tid: the /proc views of threads. /proc/PID/task/TID/{stat,status,
 * comm} show the thread (its id, name, state, own pending and blocked
 * signals, its own CPU time), /proc/TID of a thread that is not the
 * leader is found by lookup (the thread's view of its process: Pid: TID,
 * the process's times) though /proc does not list it, and a thread's comm
 * is writable by its own process (glibc's pthread_setname_np for another
 * thread writes /proc/self/task/TID/comm; Linux's comm_write takes at most
 * 15 bytes and refuses another process's thread with EINVAL). kshim once
 * showed the process's files in every task directory and had no
 * /proc/TID. Only relations are printed (ids relative to getpid/gettid,
 * times compared), never an id or a time. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define NT 3

static pid_t pid;
static pid_t tids[NT];
static sem_t ready;
static int gate[2]; /* the workers block reading it until main closes it */

static pid_t gettid_(void) { return syscall(SYS_gettid); }

/* esc prints s with newlines and other bytes below space escaped. */
static void esc(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			printf("\\n");
		else if ((unsigned char)*s < ' ')
			printf("\\x%02x", (unsigned char)*s);
		else
			putchar(*s);
	}
}

/* field is the text after "name:\t" in a status file, up to the line's
 * end (in one of 8 static buffers, used in turn), or NULL. */
static const char *field(const char *buf, const char *name)
{
	static char outs[8][256];
	static int next;
	char *out = outs[next++ % 8];
	char key[64];
	snprintf(key, sizeof key, "\n%s:\t", name);
	const char *at = strstr(buf, key);
	if (!at && strncmp(buf, key + 1, strlen(key + 1)) == 0)
		at = buf - 1;
	if (!at)
		return NULL;
	at += strlen(key);
	size_t n = strcspn(at, "\n");
	if (n >= sizeof outs[0])
		n = sizeof outs[0] - 1;
	memcpy(out, at, n);
	out[n] = 0;
	return out;
}

static long numfield(const char *buf, const char *name)
{
	const char *f = field(buf, name);
	return f ? strtol(f, NULL, 10) : -1;
}

/* statln is what parse_stat takes of a stat line: its id, comm, state,
 * ppid, thread count, user plus system ticks, pending and blocked. */
struct statln {
	long id;
	char comm[64];
	char state;
	long ppid, threads;
	unsigned long ticks, sigpnd, sigblk;
};

/* parse_stat splits stat line buf into s; 0 on success. */
static int parse_stat(const char *buf, struct statln *s)
{
	memset(s, 0, sizeof *s);
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || close - open - 1 >= (long)sizeof s->comm)
		return -1;
	s->id = strtol(buf, NULL, 10);
	memcpy(s->comm, open + 1, close - open - 1);
	s->comm[close - open - 1] = 0;
	/* Fields from 3 on, numbered as proc(5) does. */
	unsigned long f[60] = {0};
	const char *p = close + 2;
	s->state = *p;
	p += 1;
	for (int i = 4; i < 60 && *p; i++) {
		while (*p == ' ')
			p++;
		f[i] = strtoul(p, (char **)&p, 10);
	}
	s->ppid = f[4];
	s->threads = f[20];
	s->ticks = f[14] + f[15];
	s->sigpnd = f[31];
	s->sigblk = f[32];
	return 0;
}

static int readf(const char *path, char *buf, size_t size)
{
	if (read_whole(path, buf, size) < 0) {
		printf("read %s -> %s\n", path[6] == 's' ? path + 6 : "file", ename(errno));
		return -1;
	}
	return 0;
}

/* spin burns ms of this thread's CPU time. */
static void spin(long ms)
{
	struct timespec t;
	do {
		for (volatile int i = 0; i < 100000; i++)
			;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	} while (t.tv_sec * 1000 + t.tv_nsec / 1000000 < ms);
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	tids[i] = gettid_();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + i);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	if (i == 0)
		spin(300);
	/* Its own view through /proc/thread-self. */
	char buf[4096], want[64], link[64];
	ssize_t l = readlink("/proc/thread-self", link, sizeof link - 1);
	link[l < 0 ? 0 : l] = 0;
	snprintf(want, sizeof want, "%d/task/%d", pid, tids[i]);
	int ok = strcmp(link, want) == 0;
	if (read_whole("/proc/thread-self/status", buf, sizeof buf) >= 0)
		ok = ok && numfield(buf, "Pid") == tids[i] && numfield(buf, "Tgid") == pid;
	else
		ok = 0;
	struct statln st;
	if (read_whole("/proc/thread-self/stat", buf, sizeof buf) >= 0 && parse_stat(buf, &st) == 0)
		ok = ok && st.id == tids[i] && st.state == 'R';
	else
		ok = 0;
	if (!ok)
		printf("worker %d: thread-self wrong\n", i);
	sem_post(&ready);
	char c;
	while (read(gate[0], &c, 1) > 0)
		;
	return NULL;
}

/* wait_sleeping waits (bounded) until thread tid shows state S, as it
 * will once it blocks in read. */
static char wait_sleeping(pid_t tid)
{
	char path[64], buf[4096];
	struct statln st = {0};
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	for (int i = 0; i < 20000; i++) {
		if (read_whole(path, buf, sizeof buf) < 0 || parse_stat(buf, &st) < 0)
			return '?';
		if (st.state == 'S')
			break;
		usleep(500);
	}
	return st.state;
}

static unsigned long ticks_of(const char *path)
{
	char buf[4096];
	struct statln st;
	if (read_whole(path, buf, sizeof buf) < 0 || parse_stat(buf, &st) < 0)
		return 0;
	return st.ticks;
}

static void show_task(int i)
{
	char path[128], buf[8192];
	pid_t tid = tids[i];
	struct statln st;

	printf("thread %d:\n", i);
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	if (readf(path, buf, sizeof buf) == 0 && parse_stat(buf, &st) == 0)
		printf("  task stat: id is tid %d, comm (%s), state %c, ppid is getppid %d, threads %ld, sigpnd %#lx, sigblk %#lx\n",
		       st.id == tid, st.comm, st.state, st.ppid == getppid(), st.threads, st.sigpnd, st.sigblk);
	snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
	if (readf(path, buf, sizeof buf) == 0) {
		printf("  task status: Name %s, Pid is tid %d, Tgid is getpid %d, PPid is getppid %d, Threads %ld\n",
		       field(buf, "Name"), numfield(buf, "Pid") == tid, numfield(buf, "Tgid") == pid,
		       numfield(buf, "PPid") == getppid(), numfield(buf, "Threads"));
		printf("  task status: State %s\n", field(buf, "State"));
		printf("  task status: SigPnd %s", field(buf, "SigPnd"));
		printf(" ShdPnd %s", field(buf, "ShdPnd"));
		printf(" SigBlk %s\n", field(buf, "SigBlk"));
	}
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
	if (readf(path, buf, sizeof buf) == 0) {
		printf("  task comm: ");
		esc(buf);
		printf("\n");
	}

	/* /proc/TID: the thread's view of its process. */
	snprintf(path, sizeof path, "/proc/%d/status", tid);
	if (readf(path, buf, sizeof buf) == 0)
		printf("  /proc/TID status: Name %s, Pid is tid %d, Tgid is getpid %d, State %s\n",
		       field(buf, "Name"), numfield(buf, "Pid") == tid, numfield(buf, "Tgid") == pid, field(buf, "State"));
	snprintf(path, sizeof path, "/proc/%d/stat", tid);
	if (readf(path, buf, sizeof buf) == 0 && parse_stat(buf, &st) == 0)
		printf("  /proc/TID stat: id is tid %d, comm (%s), state %c\n", st.id == tid, st.comm, st.state);
	snprintf(path, sizeof path, "/proc/%d/comm", tid);
	if (readf(path, buf, sizeof buf) == 0) {
		printf("  /proc/TID comm: ");
		esc(buf);
		printf("\n");
	}
	char a[4096], b[4096];
	snprintf(path, sizeof path, "/proc/%d/cmdline", tid);
	ssize_t na = read_whole(path, a, sizeof a), nb = read_whole("/proc/self/cmdline", b, sizeof b);
	printf("  /proc/TID cmdline same as process's: %d\n", na >= 0 && na == nb && memcmp(a, b, na) == 0);
	snprintf(path, sizeof path, "/proc/%d/exe", tid);
	ssize_t la = readlink(path, a, sizeof a), lb = readlink("/proc/self/exe", b, sizeof b);
	printf("  /proc/TID/exe same as process's: %d\n", la > 0 && la == lb && memcmp(a, b, la) == 0);
	struct stat sb;
	snprintf(path, sizeof path, "/proc/%d", tid);
	show("  stat /proc/TID", stat(path, &sb));
	printf("  /proc/TID is a directory: %d\n", S_ISDIR(sb.st_mode));
	/* Its task/ is the process's: every thread, the others' too. */
	int n = 0, leader = 0;
	snprintf(path, sizeof path, "/proc/%d/task", tid);
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			n++;
			leader |= atoi(de->d_name) == pid;
		}
		closedir(d);
	}
	printf("  /proc/TID/task: %d entries, the leader's among them %d\n", n, leader);
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", tid, tids[(i + 1) % NT]);
	if (readf(path, buf, sizeof buf) == 0)
		printf("  /proc/TID/task/OTHER status: Pid is other's %d, Name %s\n",
		       numfield(buf, "Pid") == tids[(i + 1) % NT], field(buf, "Name"));
	snprintf(path, sizeof path, "/proc/%d/task/%d/task", tid, tid);
	show("  /proc/TID/task/TID/task", stat(path, &sb));
	/* No names but decimal ids: a leading zero, a sign. */
	snprintf(path, sizeof path, "/proc/0%d", tid);
	show("  stat /proc/0TID", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/+%d", tid);
	show("  stat /proc/+TID", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/self/task/0%d", tid);
	show("  stat /proc/self/task/0TID", stat(path, &sb));
}

/* listed says whether /proc's getdents lists name. */
static int listed(pid_t id)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	char want[32];
	snprintf(want, sizeof want, "%d", id);
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		found |= strcmp(de->d_name, want) == 0;
	closedir(d);
	return found;
}

/* comm_write writes n bytes of s to path (opened with flags) and prints
 * what it returned and the comm read back from check. */
static void comm_write(const char *what, const char *path, int flags, const char *s, size_t n, const char *check)
{
	int fd = open(path, flags);
	if (fd < 0) {
		printf("%s: open -> %s\n", what, ename(errno));
		return;
	}
	ssize_t r = write(fd, s, n);
	int e = errno;
	close(fd);
	char buf[64];
	printf("%s: write -> ", what);
	if (r < 0)
		printf("%s", ename(e));
	else
		printf("%zd", r);
	if (check && read_whole(check, buf, sizeof buf) >= 0) {
		printf(", comm ");
		esc(buf);
	}
	printf("\n");
}

static void comm_writes(void)
{
	char path[128], check[128];
	pid_t t = tids[2];
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", t);
	snprintf(check, sizeof check, "/proc/%d/comm", t);
	comm_write("long name", path, O_WRONLY, "abcdefghijklmnopqrstuvwxyz", 26, check);
	comm_write("newline", path, O_WRONLY, "nl\n", 3, check);
	comm_write("NUL inside", path, O_WRONLY, "ab\0cd", 5, check);
	comm_write("empty", path, O_WRONLY, "", 0, check);
	comm_write("read-only fd", path, O_RDONLY, "ro", 2, check);
	comm_write("bad buffer", path, O_WRONLY, (const char *)8, 4, check);
	comm_write("through /proc/TID", check, O_RDWR, "via-tid", 7, path);
	int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		/* /proc's files take no positional writes (FMODE_PWRITE). */
		rc("pwrite at 0", pwrite(fd, "pw", 2, 0));
		rc("pwrite at 100", pwrite(fd, "pw", 2, 100));
		struct iovec iov[2] = {{"first", 5}, {"second", 6}};
		rc("writev", writev(fd, iov, 2));
		close(fd);
		char buf[64];
		if (read_whole(check, buf, sizeof buf) >= 0) {
			printf("after writev: ");
			esc(buf);
			printf("\n");
		}
	}
	/* /proc/self/comm is the leader's, whoever writes it. */
	comm_write("self comm", "/proc/self/comm", O_WRONLY, "leader-new", 10, "/proc/self/comm");
	char buf[64];
	snprintf(check, sizeof check, "/proc/self/task/%d/comm", pid);
	if (read_whole(check, buf, sizeof buf) >= 0) {
		printf("leader's task comm: ");
		esc(buf);
		printf("\n");
	}
	struct stat sb;
	if (stat(path, &sb) == 0)
		printf("task comm mode %o\n", sb.st_mode & 07777);
	snprintf(check, sizeof check, "/proc/self/task/%d/status", t);
	if (stat(check, &sb) == 0)
		printf("task status mode %o\n", sb.st_mode & 07777);
}

static void *nothing(void *arg) { return arg; }

/* stay is the child's thread: it names itself, reports its tid on fd
 * fds[0], then waits on fds[1] ("u": make the process not dumpable). */
static void *stay(void *arg)
{
	int *fds = arg;
	prctl(PR_SET_NAME, "child-worker");
	pid_t me = gettid_();
	if (write(fds[0], &me, sizeof me) != sizeof me)
		_exit(2);
	char c;
	while (read(fds[1], &c, 1) > 0)
		if (c == 'u')
			prctl(PR_SET_DUMPABLE, 0);
	return NULL;
}

/* other_process: a child with a named thread; this process may read its
 * thread's files but not rename it. */
static void other_process(void)
{
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return;
	pid_t child = fork();
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		pthread_t t;
		/* One thread that ends first, then one that stays. */
		if (pthread_create(&t, NULL, nothing, NULL) != 0)
			_exit(1);
		pthread_join(t, NULL);
		int fds[2] = {up[1], down[0]};
		if (pthread_create(&t, NULL, stay, fds) != 0)
			_exit(1);
		pthread_join(t, NULL);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	pid_t ct = 0;
	if (read(up[0], &ct, sizeof ct) != sizeof ct) {
		printf("child: no thread\n");
		return;
	}
	char path[128], buf[4096];
	struct stat sb;
	snprintf(path, sizeof path, "/proc/%d/status", ct);
	if (readf(path, buf, sizeof buf) == 0)
		printf("child thread /proc/TID status: Name %s, Pid is its tid %d, Tgid is child %d\n",
		       field(buf, "Name"), numfield(buf, "Pid") == ct, numfield(buf, "Tgid") == child);
	printf("child thread listed in /proc: %d, child listed: %d\n", listed(ct), listed(child));
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", child, ct);
	if (readf(path, buf, sizeof buf) == 0) {
		printf("child task comm: ");
		esc(buf);
		printf("\n");
	}
	comm_write("child task comm", path, O_WRONLY, "hijack", 6, path);
	snprintf(path, sizeof path, "/proc/%d/comm", ct);
	comm_write("child /proc/TID comm", path, O_WRONLY, "hijack", 6, path);
	/* Another process's thread is no task of this one. */
	snprintf(path, sizeof path, "/proc/self/task/%d", ct);
	show("stat /proc/self/task/CHILDTID", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/%d/task/%d", ct, tids[0]);
	show("stat /proc/CHILDTID/task/OURTID", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/%d/task/%d", tids[0], ct);
	show("stat /proc/OURTID/task/CHILDTID", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/self/task/%d", child);
	show("stat /proc/self/task/CHILD", stat(path, &sb));
	/* Not dumpable: its files are root's, so no open for writing. */
	if (write(down[1], "u", 1) != 1)
		return;
	for (int i = 0; i < 20000; i++) {
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", child, ct);
		if (stat(path, &sb) == 0 && sb.st_uid == 0)
			break;
		usleep(500);
	}
	comm_write("undumpable child task comm", path, O_WRONLY, "hijack", 6, NULL);
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", child, ct);
	if (readf(path, buf, sizeof buf) == 0)
		printf("undumpable child task status: Name %s\n", field(buf, "Name"));
	close(down[1]);
	int st;
	waitpid(child, &st, 0);
	wait_status("child", st);
	/* Its threads are gone with it. */
	snprintf(path, sizeof path, "/proc/%d", ct);
	show("stat /proc/CHILDTID after its exit", stat(path, &sb));
}

/* leader_gone: a child whose main thread ends (pthread_exit) before its
 * other thread: Linux keeps the leader as a zombie task, counted, listed
 * and with no memory of its own. */
static void leader_gone(void)
{
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return;
	pid_t child = fork();
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		static int fds[2];
		fds[0] = up[1];
		fds[1] = down[0];
		pthread_t t;
		if (pthread_create(&t, NULL, stay, fds) != 0)
			_exit(1);
		pthread_exit(NULL);
	}
	close(up[1]);
	close(down[0]);
	pid_t ct = 0;
	if (read(up[0], &ct, sizeof ct) != sizeof ct) {
		printf("leader gone: no thread\n");
		return;
	}
	char path[128], buf[4096];
	const char *state = "?";
	snprintf(path, sizeof path, "/proc/%d/status", child);
	for (int i = 0; i < 20000; i++) {
		if (read_whole(path, buf, sizeof buf) < 0)
			break;
		if ((state = field(buf, "State")) && state[0] == 'Z')
			break;
		usleep(500);
	}
	printf("leader gone: status State %s, Threads %ld, VmSize shown %d, Umask shown %d, FDSize %s\n", state,
	       numfield(buf, "Threads"), field(buf, "VmSize") != NULL, field(buf, "Umask") != NULL, field(buf, "FDSize"));
	struct statln st;
	snprintf(path, sizeof path, "/proc/%d/stat", child);
	if (readf(path, buf, sizeof buf) == 0 && parse_stat(buf, &st) == 0)
		printf("leader gone: stat state %c, threads %ld\n", st.state, st.threads);
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", child, child);
	if (readf(path, buf, sizeof buf) == 0)
		printf("leader gone: task/PID State %s\n", field(buf, "State"));
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", child, ct);
	for (int i = 0; i < 20000; i++) { /* until it blocks in its read */
		if (read_whole(path, buf, sizeof buf) < 0 || ((state = field(buf, "State")) && state[0] == 'S'))
			break;
		usleep(500);
	}
	if (readf(path, buf, sizeof buf) == 0)
		printf("leader gone: task/TID Name %s, State %s\n", field(buf, "Name"), field(buf, "State"));
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", child);
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
	}
	printf("leader gone: task entries %d\n", n);
	snprintf(path, sizeof path, "/proc/%d/cmdline", child);
	rc("leader gone: cmdline length", read_whole(path, buf, sizeof buf));
	snprintf(path, sizeof path, "/proc/%d/cmdline", ct);
	printf("leader gone: /proc/TID cmdline shown %d\n", read_whole(path, buf, sizeof buf) > 0);
	close(down[1]);
	int wst;
	waitpid(child, &wst, 0);
	wait_status("leader gone: child", wst);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pid = getpid();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, NULL);
	if (pipe(gate) || sem_init(&ready, 0, 0))
		return 1;
	pthread_t th[NT];
	for (int i = 0; i < NT; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 1;
	for (int i = 0; i < NT; i++)
		sem_wait(&ready);
	/* Names: main's own by prctl, the others' through /proc (glibc). */
	printf("setname main -> %s\n", ename(pthread_setname_np(pthread_self(), "main-thread")) );
	for (int i = 0; i < NT; i++) {
		char name[16];
		snprintf(name, sizeof name, "worker-%d", i);
		int e = pthread_setname_np(th[i], name);
		printf("setname worker %d -> %s", i, e ? ename(e) : "0");
		char back[16] = "";
		e = pthread_getname_np(th[i], back, sizeof back);
		printf(", getname -> %s %s\n", e ? ename(e) : "0", back);
	}
	printf("setname too long -> %s\n", ename(pthread_setname_np(th[0], "0123456789abcdefg")));
	for (int i = 0; i < NT; i++)
		printf("thread %d state once blocked: %c\n", i, wait_sleeping(tids[i]));
	/* Signals: SIGUSR1 for the process (every thread blocks it), SIGUSR2
	 * for thread 1 alone. */
	kill(pid, SIGUSR1);
	syscall(SYS_tgkill, pid, tids[1], SIGUSR2);
	for (int i = 0; i < NT; i++)
		show_task(i);

	char buf[8192], path[128];
	if (readf("/proc/self/status", buf, sizeof buf) == 0) {
		printf("self status: Name %s, Pid is getpid %d, SigPnd %s", field(buf, "Name"),
		       numfield(buf, "Pid") == pid, field(buf, "SigPnd"));
		printf(" ShdPnd %s\n", field(buf, "ShdPnd"));
	}
	struct statln st;
	if (readf("/proc/self/stat", buf, sizeof buf) == 0 && parse_stat(buf, &st) == 0)
		printf("self stat: id is getpid %d, comm (%s), sigpnd %#lx, sigblk %#lx\n", st.id == pid, st.comm, st.sigpnd, st.sigblk);
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", pid);
	if (readf(path, buf, sizeof buf) == 0 && parse_stat(buf, &st) == 0)
		printf("leader task stat: id is getpid %d, comm (%s), state %c\n", st.id == pid, st.comm, st.state);

	/* CPU time: thread 0 spun 300 ms, the others next to nothing. */
	char p0[64], p1[64], q1[64];
	snprintf(p0, sizeof p0, "/proc/self/task/%d/stat", tids[0]);
	snprintf(p1, sizeof p1, "/proc/self/task/%d/stat", tids[1]);
	snprintf(q1, sizeof q1, "/proc/%d/stat", tids[1]);
	unsigned long spun = ticks_of(p0), idle = ticks_of(p1), whole = ticks_of("/proc/self/stat"), viatid = ticks_of(q1);
	printf("spinner's task ticks >= 20: %d\n", spun >= 20);
	printf("idle thread's task ticks < spinner's: %d\n", idle < spun);
	/* (Linux scales a thread's and a process's user/system split apart
	 * and rounds each to ticks: a tick or two either way.) */
	printf("process ticks >= spinner's: %d\n", whole + 2 >= spun);
	printf("idle thread's /proc/TID ticks (the process's) >= spinner's: %d\n", viatid + 2 >= spun);

	printf("leader listed in /proc: %d\n", listed(pid));
	int any = 0;
	for (int i = 0; i < NT; i++)
		any |= listed(tids[i]);
	printf("a thread listed in /proc: %d\n", any);

	comm_writes();
	other_process();
	leader_gone();

	/* Ended threads are found no more. */
	close(gate[1]);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	struct stat sb;
	/* The join returns once the thread cleared its tid, before it is
	 * released: give a slow machine up to 5 s to let it go (emulated SVM
	 * showed it there just after the join). */
	snprintf(path, sizeof path, "/proc/%d", tids[0]);
	for (int i = 0; i < 5000 && stat(path, &sb) == 0; i++)
		usleep(1000);
	show("stat /proc/TID of an ended thread", stat(path, &sb));
	snprintf(path, sizeof path, "/proc/self/task/%d", tids[0]);
	show("stat /proc/self/task/TID of an ended thread", stat(path, &sb));
	show("stat /proc/99999999999999999999", stat("/proc/99999999999999999999", &sb));
	show("stat /proc/4294967297", stat("/proc/4294967297", &sb));
	show("stat /proc/self/task/4294967297", stat("/proc/self/task/4294967297", &sb));
	show("stat /proc/self/task/-1", stat("/proc/self/task/-1", &sb));
	return 0;
}
