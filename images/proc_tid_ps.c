//go:build ignore

/* proc_tid_ps: busybox's `ps -T` and `top -H` (Debian's busybox-static,
 * run by this program) list this process's threads from
 * /proc/PID/task/TID: each with its own name and state. kshim's task
 * directories once showed the process's name for every thread. Rows are
 * picked by this process's ids and printed without them. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#define NT 2

static pid_t tids[NT + 1]; /* [0] the leader */
static int gate[2];
static int started[2];

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = syscall(SYS_gettid);
	char c = 0;
	if (write(started[1], &c, 1) != 1)
		return NULL;
	while (read(gate[0], &c, 1) > 0)
		;
	return NULL;
}

/* blocked waits (bounded) until thread tid shows state S. */
static void blocked(pid_t tid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	for (int i = 0; i < 20000; i++) {
		if (read_whole(path, buf, sizeof buf) < 0)
			return;
		char *close = strrchr(buf, ')');
		if (close && close[2] == 'S')
			return;
		usleep(500);
	}
}

/* field is column n (from 0) of line, copied into out. */
static const char *field(const char *line, int n, char *out, size_t size)
{
	const char *p = line;
	for (int f = 0; f < n && *p; f++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	size_t l = strcspn(p, " ");
	if (l >= size)
		l = size - 1;
	memcpy(out, p, l);
	out[l] = 0;
	return p;
}

/* run runs busybox with argv and prints the rows whose first field is
 * one of this process's ids, as "what thread N: STAT the rest": the state
 * in column statecol (but the leader's: it may be running), the text
 * from column restcol on. */
static void run(const char *what, char *const argv[], int statecol, int restcol)
{
	int out[2];
	if (pipe(out))
		return;
	pid_t c = fork();
	if (c == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv("/bin/busybox", argv);
		_exit(127);
	}
	close(out[1]);
	static char buf[1 << 20];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(out[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(out[0]);
	int st;
	waitpid(c, &st, 0);
	wait_status(what, st);
	/* In thread order: top sorts by %CPU, which varies from run to run. */
	char rows[NT + 1][256] = {{0}};
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		long id = strtol(line, NULL, 10);
		for (int i = 0; i <= NT; i++) {
			if (id != tids[i])
				continue;
			char state[16], tmp[8];
			field(line, statecol, state, sizeof state);
			snprintf(rows[i], sizeof rows[i], "%s thread %d: %s %s\n", what, i, i == 0 ? "-" : state,
				 field(line, restcol, tmp, sizeof tmp));
		}
	}
	for (int i = 0; i <= NT; i++)
		fputs(rows[i], stdout);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	tids[0] = getpid();
	if (pipe(gate) || pipe(started))
		return 1;
	pthread_t th[NT];
	for (int i = 1; i <= NT; i++) {
		if (pthread_create(&th[i - 1], NULL, worker, (void *)(long)i) != 0)
			return 1;
		char c;
		if (read(started[0], &c, 1) != 1)
			return 1;
		char name[16];
		snprintf(name, sizeof name, "named-%d", i);
		pthread_setname_np(th[i - 1], name);
		blocked(tids[i]);
	}
	pthread_setname_np(pthread_self(), "leader");
	/* ps: pid (the tid with -T), stat, comm, args ("{comm} args" for a
	 * thread named apart from its program). */
	char *ps[] = {"busybox", "ps", "-T", "-o", "pid,stat,comm,args", NULL};
	run("ps -T", ps, 1, 2);
	/* top: PID PPID USER STAT VSZ %VSZ %CPU COMMAND. */
	char *top[] = {"busybox", "top", "-H", "-b", "-n", "1", NULL};
	run("top -H", top, 3, 7);
	close(gate[1]);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	return 0;
}
