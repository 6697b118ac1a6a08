//go:build ignore

/* proc_fresh: an open /proc file shows the state of now when it is read
 * again from the start, as Linux's seq_file generates its text on read:
 * lseek(fd, 0) + read and pread(fd, .., 0) of /proc/self/status, stat,
 * comm, task/TID/comm, maps and /proc/uptime kept open (procps's free,
 * uptime, vmstat and top, htop, monitoring agents keep them so) see a new
 * name (prctl, pthread_setname_np, a comm write on the same fd), a new
 * mapping, a blocked signal, a new thread, the clock. A read where the
 * last one ended continues in the text it came from; a read elsewhere,
 * readv, preadv, sendfile and splice generate anew; cmdline and environ
 * (no seq_file) at every read. lseek follows seq_lseek (SEEK_END EINVAL)
 * or, for cmdline, a file of size 0; mmap is ENODEV. A child reads its
 * parent's open /proc/self file as its parent's; once a process is
 * reaped its files read as Linux's do (ESRCH, or empty for environ).
 * kshim once kept each fd's text of its open. Only facts are printed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static char buf[65536];

/* reread reads fd from 0 by lseek + read (how 0) or pread (how 1) into
 * buf, NUL-terminated, and returns the length or -1. */
static long reread(int fd, int how)
{
	long n;
	if (how == 0) {
		if (lseek(fd, 0, SEEK_SET) != 0)
			return -1;
		n = read(fd, buf, sizeof buf - 1);
	} else {
		n = pread(fd, buf, sizeof buf - 1, 0);
	}
	buf[n > 0 ? n : 0] = 0;
	return n;
}

static const char *how_name[] = {"lseek+read", "pread"};

/* field copies the text after "\nname:\t" (or at the start) in buf, to
 * the line's end, into out. */
static const char *field(const char *name, char *out, size_t size)
{
	char key[64];
	snprintf(key, sizeof key, "\n%s:\t", name);
	const char *at = strstr(buf, key);
	if (at)
		at += strlen(key);
	else if (strncmp(buf, key + 1, strlen(key + 1)) == 0)
		at = buf + strlen(key + 1);
	else
		return "(none)";
	size_t n = strcspn(at, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, at, n);
	out[n] = 0;
	return out;
}

/* statname is the name between the parentheses of a stat line in buf. */
static const char *statname(char *out, size_t size)
{
	const char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (!l || !r || r <= l || (size_t)(r - l) > size)
		return "(none)";
	memcpy(out, l + 1, r - l - 1);
	out[r - l - 1] = 0;
	return out;
}

/* statfield is field i (1-based) of a stat line in buf, counting from
 * the state (field 3) after the name. */
static long statfield(int i)
{
	const char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;
	for (int f = 3; f < i; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return strtol(p, NULL, 10);
}

/* mapped says whether a line of the maps text in buf covers addr. */
static int mapped(uintptr_t addr)
{
	for (const char *l = buf; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && lo <= addr && addr < hi)
			return 1;
	}
	return 0;
}

static sem_t named, go_on;
static pid_t worker_tid;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = syscall(SYS_gettid);
	sem_post(&named);
	sem_wait(&go_on);
	prctl(PR_SET_NAME, "selfnamed");
	sem_post(&named);
	sem_wait(&go_on);
	return NULL;
}

/* names: status, stat and comm of the process and of a thread, renamed
 * by prctl, by pthread_setname_np and by a comm write on the same fd. */
static void names(void)
{
	char a[64], b[64];
	prctl(PR_SET_NAME, "first");
	int status = open("/proc/self/status", O_RDONLY);
	int stat = open("/proc/self/stat", O_RDONLY);
	int comm = open("/proc/self/comm", O_RDWR);
	if (status < 0 || stat < 0 || comm < 0) {
		printf("open: %s\n", ename(errno));
		return;
	}
	reread(stat, 0);
	long threads = statfield(20);
	for (int how = 0; how < 2; how++) {
		prctl(PR_SET_NAME, how ? "second" : "third");
		reread(status, how);
		printf("%s status Name: %s\n", how_name[how], field("Name", a, sizeof a));
		reread(stat, how);
		printf("%s stat name: %s\n", how_name[how], statname(b, sizeof b));
		reread(comm, how);
		printf("%s comm: %s", how_name[how], buf);
	}
	/* A comm write, then a read of the same fd. */
	rc("write comm", write(comm, "written", 7));
	reread(comm, 1);
	printf("comm after its write: %s", buf);

	/* A thread's comm and status, renamed by the process and itself. */
	pthread_t t;
	sem_init(&named, 0, 0);
	sem_init(&go_on, 0, 0);
	pthread_create(&t, NULL, worker, NULL);
	sem_wait(&named);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", worker_tid);
	int tcomm = open(path, O_RDONLY);
	snprintf(path, sizeof path, "/proc/self/task/%d/status", worker_tid);
	int tstatus = open(path, O_RDONLY);
	reread(stat, 1);
	printf("stat threads %ld -> %ld\n", threads, statfield(20));
	reread(status, 0);
	printf("status Threads: %s\n", field("Threads", a, sizeof a));
	printf("pthread_setname_np -> %d\n", pthread_setname_np(t, "fromparent"));
	reread(tcomm, 0);
	printf("thread comm: %s", buf);
	sem_post(&go_on);
	sem_wait(&named);
	reread(tcomm, 1);
	printf("thread comm: %s", buf);
	reread(tstatus, 0);
	printf("thread status Name: %s\n", field("Name", a, sizeof a));
	sem_post(&go_on);
	pthread_join(t, NULL);
	/* The join returns once the thread cleared its tid, before Linux
	 * releases it from the group: wait for its /proc entry to go (a slow
	 * machine showed it, and its files, still there). */
	snprintf(path, sizeof path, "/proc/self/task/%d", worker_tid);
	for (int i = 0; i < 5000 && access(path, F_OK) == 0; i++)
		usleep(1000);
	rc("ended thread's comm", reread(tcomm, 1));
	rc("ended thread's status", reread(tstatus, 0));
	reread(status, 1);
	printf("status Threads: %s\n", field("Threads", a, sizeof a));
	close(tcomm);
	close(tstatus);
	close(status);
	close(stat);
	close(comm);
}

/* sigblk: status's SigBlk after sigprocmask. */
static void sigblk(void)
{
	char a[64], b[64];
	int status = open("/proc/self/status", O_RDONLY);
	reread(status, 0);
	field("SigBlk", a, sizeof a);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);
	reread(status, 1);
	field("SigBlk", b, sizeof b);
	unsigned long before = strtoul(a, NULL, 16), after = strtoul(b, NULL, 16);
	printf("SigBlk gained SIGUSR1: %s, only it: %s\n", after & (1ul << (SIGUSR1 - 1)) ? "yes" : "no",
	       (after & ~before) == 1ul << (SIGUSR1 - 1) ? "yes" : "no");
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	reread(status, 0);
	printf("SigBlk back: %s\n", strcmp(field("SigBlk", b, sizeof b), a) == 0 ? "yes" : "no");
	close(status);
}

/* maps: a new mapping shows, then its unmapping. */
static void maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	char *m = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m, 3 * PG); /* an address that was free */
	reread(fd, 0);
	printf("maps before: %s\n", mapped((uintptr_t)m + PG) ? "mapped" : "not mapped");
	if (mmap(m, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != m)
		printf("mmap again: %s\n", ename(errno));
	reread(fd, 1);
	printf("maps after mmap (pread): %s\n", mapped((uintptr_t)m + PG) ? "mapped" : "not mapped");
	munmap(m, 3 * PG);
	reread(fd, 0);
	printf("maps after munmap (lseek+read): %s\n", mapped((uintptr_t)m + PG) ? "mapped" : "not mapped");
	rc("mmap of maps", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
}

/* uptime: re-read after a sleep, it has advanced. */
static void uptime(void)
{
	int fd = open("/proc/uptime", O_RDONLY);
	reread(fd, 0);
	double a = strtod(buf, NULL);
	struct timespec ts = {0, 60 * 1000 * 1000};
	nanosleep(&ts, NULL);
	reread(fd, 1);
	double b = strtod(buf, NULL);
	nanosleep(&ts, NULL);
	reread(fd, 0);
	double c = strtod(buf, NULL);
	printf("uptime advanced: %s, %s\n", b > a ? "yes" : "no", c > b ? "yes" : "no");
	/* sendfile and splice read it too (seq_read_iter's splice_read). */
	int p[2];
	pipe(p);
	nanosleep(&ts, NULL);
	off_t off = 0;
	long n = sendfile(p[1], fd, &off, sizeof buf);
	rc("sendfile from uptime", n > 0 ? 0 : -1);
	n = read(p[0], buf, n > 0 ? n : 0);
	buf[n > 0 ? n : 0] = 0;
	double d = strtod(buf, NULL);
	nanosleep(&ts, NULL);
	loff_t lo = 0;
	n = splice(fd, &lo, p[1], NULL, sizeof buf, 0);
	rc("splice from uptime", n > 0 ? 0 : -1);
	n = read(p[0], buf, n > 0 ? n : 0);
	buf[n > 0 ? n : 0] = 0;
	double e = strtod(buf, NULL);
	printf("uptime advanced: %s, %s\n", d > c ? "yes" : "no", e > d ? "yes" : "no");
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* pieces: a read in pieces continues in its text; elsewhere, readv,
 * preadv, sendfile, splice and a dup read anew; lseek as seq_lseek. */
static void pieces(void)
{
	char a[64];
	prctl(PR_SET_NAME, "piece1");
	int fd = open("/proc/self/status", O_RDONLY);
	char head[8];
	rc("read 6", read(fd, head, 6)); /* "Name:\t" */
	prctl(PR_SET_NAME, "piece2");
	long n = read(fd, buf, 6);
	buf[n > 0 ? n : 0] = 0;
	printf("continued read: %s\n", strncmp(buf, "piece1", 6) == 0 ? "the text of its start" : "new text");
	int d = dup(fd);
	n = read(d, buf, 4);
	buf[n > 0 ? n : 0] = 0;
	printf("dup continues: %s\n", strcmp(buf, "\nUma") == 0 ? "yes" : buf);
	rc("lseek CUR", lseek(fd, 0, SEEK_CUR));
	n = pread(fd, buf, 6, 6);
	buf[n > 0 ? n : 0] = 0;
	printf("pread elsewhere: %s\n", buf);
	prctl(PR_SET_NAME, "p3");
	/* f_pos (16) is not where the pread ended (12): generated anew. */
	char at16[32];
	n = read(fd, at16, 16);
	at16[n > 0 ? n : 0] = 0;
	reread(fd, 1);
	printf("read after a pread elsewhere: %s\n", strlen(buf) > 16 && strcmp(at16, "") && strncmp(buf + 16, at16, strlen(at16)) == 0 ? "the new text's" : "another text");
	lseek(fd, 32, SEEK_SET);
	prctl(PR_SET_NAME, "piece4");
	rc("lseek 6", lseek(fd, 6, SEEK_SET));
	prctl(PR_SET_NAME, "piece5");
	n = read(fd, buf, 6);
	buf[n > 0 ? n : 0] = 0;
	printf("read after lseek 6: %s\n", buf);
	rc("lseek SEEK_END", lseek(fd, 0, SEEK_END));
	rc("lseek SEEK_DATA", lseek(fd, 0, SEEK_DATA));
	rc("lseek -1", lseek(fd, -1, SEEK_SET));
	rc("lseek 1000000", lseek(fd, 1000000, SEEK_SET));
	rc("read past the end", read(fd, buf, 10));
	errno = 0;
	rc("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	rc("F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));

	prctl(PR_SET_NAME, "viareadv");
	lseek(fd, 0, SEEK_SET);
	struct iovec iov[2] = {{buf, 3}, {buf + 3, sizeof buf - 4}};
	n = readv(fd, iov, 2);
	buf[n > 0 ? n : 0] = 0;
	printf("readv Name: %s\n", field("Name", a, sizeof a));
	prctl(PR_SET_NAME, "viapreadv");
	n = preadv(fd, iov, 2, 0);
	buf[n > 0 ? n : 0] = 0;
	printf("preadv Name: %s\n", field("Name", a, sizeof a));

	/* /proc/PID's files have no splice_read. */
	int p[2];
	pipe(p);
	off_t off = 0;
	rc("sendfile from status", sendfile(p[1], fd, &off, 64));
	rc("sendfile from status at its position", sendfile(p[1], fd, NULL, 64));
	loff_t lo = 0;
	rc("splice from status", splice(fd, &lo, p[1], NULL, 64, 0));
	close(p[0]);
	close(p[1]);
	close(d);
	close(fd);
}

/* direct: cmdline and environ have no seq_file: generated at each read,
 * lseek as generic_file_llseek of a file of size 0. */
static void direct(void)
{
	int fd = open("/proc/self/cmdline", O_RDONLY);
	rc("cmdline SEEK_END", lseek(fd, 0, SEEK_END));
	rc("cmdline SEEK_END+3", lseek(fd, 3, SEEK_END));
	rc("cmdline SEEK_DATA", lseek(fd, 0, SEEK_DATA));
	rc("cmdline mmap", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	fd = open("/proc/self/environ", O_RDONLY);
	rc("environ SEEK_END", lseek(fd, 0, SEEK_END));
	close(fd);

	/* An O_PATH fd has no position, mapping or text. */
	fd = open("/proc/self/status", O_PATH);
	rc("O_PATH lseek", lseek(fd, 0, SEEK_SET));
	rc("O_PATH mmap", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	rc("O_PATH pread", pread(fd, buf, 8, 0));
	close(fd);

	/* fdinfo/N of an fd closed since: ENOENT at the next read. */
	int victim = dup(1);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", victim);
	fd = open(path, O_RDONLY);
	rc("fdinfo read", reread(fd, 1) > 0 ? 0 : -1);
	close(victim);
	rc("fdinfo read after close", reread(fd, 0));
	close(fd);
}

/* inherited: a child reads its parent's open /proc/self files as its
 * parent's; a reaped process's files read as Linux's. */
static void inherited(void)
{
	char a[64];
	prctl(PR_SET_NAME, "theparent");
	int status = open("/proc/self/status", O_RDONLY);
	int stat = open("/proc/self/stat", O_RDONLY);
	int fdinfo = open("/proc/self/fdinfo/0", O_RDONLY);
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "thechild");
		reread(status, 1);
		printf("child reads status: Name %s, Pid %s\n", field("Name", a, sizeof a),
		       atoi(field("Pid", a, sizeof a)) == getppid() ? "its parent's" : "another's");
		reread(stat, 0);
		printf("child reads stat: %s's\n", atoi(buf) == getppid() ? "its parent" : "another");
		rc("child reads fdinfo", reread(fdinfo, 1) > 0 ? 0 : -1);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	close(status);
	close(stat);
	close(fdinfo);

	int pp[2];
	pipe(pp);
	c = fork();
	if (c == 0) {
		close(pp[0]);
		write(pp[1], "x", 1);
		pause();
		_exit(0);
	}
	close(pp[1]);
	read(pp[0], buf, 1);
	close(pp[0]);
	static const char *files[] = {"status", "stat", "comm", "cmdline", "environ", "maps", "limits", NULL};
	int fds[8];
	for (int i = 0; files[i]; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/%s", c, files[i]);
		fds[i] = open(path, O_RDONLY);
	}
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	reread(fds[0], 1);
	printf("zombie State: %s\n", field("State", a, sizeof a));
	for (int i = 3; i < 6; i++)
		rc(files[i], reread(fds[i], i & 1));
	waitpid(c, NULL, 0);
	for (int i = 0; files[i]; i++) {
		char what[64];
		snprintf(what, sizeof what, "reaped %s: pread", files[i]);
		rc(what, reread(fds[i], 1));
		snprintf(what, sizeof what, "reaped %s: lseek 5", files[i]);
		rc(what, lseek(fds[i], 5, SEEK_SET));
		snprintf(what, sizeof what, "reaped %s: read", files[i]);
		rc(what, read(fds[i], buf, 10));
		close(fds[i]);
	}
}

/* many: many re-reads of one fd read the same. */
static void many(void)
{
	prctl(PR_SET_NAME, "many");
	int fd = open("/proc/self/comm", O_RDONLY);
	int same = 1;
	for (int i = 0; i < 5000; i++)
		if (reread(fd, i & 1) != 5 || strcmp(buf, "many\n"))
			same = 0;
	printf("5000 re-reads: %s\n", same ? "the same" : "changed");
	close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	names();
	sigblk();
	maps();
	uptime();
	pieces();
	direct();
	inherited();
	many();
	return 0;
}
