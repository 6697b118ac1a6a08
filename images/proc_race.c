//go:build ignore

/* proc_race: another process's /proc/PID/fd, fdinfo and cwd read while
 * that process opens, closes, dup2s and chdirs as fast as it can (kshim's
 * Peek and FDTable.GetDup: a host fd the owner closes is never read under
 * a number the host has reused for one of kshim's own files). Every link
 * read must name one of the files the child uses, or be ENOENT; prints
 * the count of anything else (0), never pids or counts that vary. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static const char *const files[] = {"/dev/null", "/dev/zero", "/etc/passwd", "/etc/hostname"};
static const char *const dirs[] = {"/", "/tmp", "/etc", "/dev"};

static void churn(void)
{
	for (unsigned i = 0;; i++) {
		int fd = open(files[i % 4], O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 10 + i % 7);
			close(fd);
		}
		if (i % 5 == 0)
			close(10 + (i / 5) % 7);
		if (i % 3 == 0) {
			int p[2];
			if (pipe(p) == 0) {
				dup2(p[0], 20);
				close(p[0]);
				close(p[1]);
			}
		}
		chdir(dirs[i % 4]);
	}
}

static int expected(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, files[i]) || !strcmp(s, dirs[i]))
			return 1;
	return !strncmp(s, "pipe:[", 6);
}

int main(void)
{
	setvbuf(stdout, 0, _IONBF, 0);
	close_range(3, ~0u, 0);
	if (chdir("/") < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		churn();
		_exit(0);
	}
	char dir[64], p[512], l[512];
	int bad = 0, seen = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			int fd = atoi(de->d_name);
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			ssize_t n = readlink(p, l, sizeof l - 1);
			if (n < 0) {
				if (errno != ENOENT) {
					bad++;
					if (bad < 5)
						printf("readlink -> %s\n", ename(errno));
				}
				continue;
			}
			l[n] = 0;
			seen++;
			if (fd > 2 && !expected(l)) {
				bad++;
				if (bad < 5)
					printf("unexpected fd link: %s\n", l);
			}
			/* fdinfo: read it; it may be gone. */
			snprintf(p, sizeof p, "/proc/%d/fdinfo/%s", pid, de->d_name);
			int f = open(p, O_RDONLY);
			if (f >= 0) {
				char b[256];
				if (read(f, b, sizeof b) <= 0 && errno != ENOENT) { /* closed meanwhile */
					bad++;
					if (bad < 5)
						printf("fdinfo read -> %s\n", ename(errno));
				}
				close(f);
			} else if (errno != ENOENT) {
				bad++;
				if (bad < 5)
					printf("fdinfo open -> %s\n", ename(errno));
			}
			/* Following it opens the same file anew, or it is gone
			 * (not 0-2: kshim's handed files reopen only as handed). */
			if (fd <= 2)
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			f = open(p, O_RDONLY | O_NONBLOCK);
			if (f >= 0)
				close(f);
			else if (errno != ENOENT && errno != ENXIO) {
				bad++;
				if (bad < 5)
					printf("open -> %s\n", ename(errno));
			}
		}
		if (d)
			closedir(d);
		snprintf(p, sizeof p, "/proc/%d/cwd", pid);
		ssize_t n = readlink(p, l, sizeof l - 1);
		if (n >= 0) {
			l[n] = 0;
			if (!expected(l)) {
				bad++;
				printf("unexpected cwd: %s\n", l);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		/* 2 s, or until over 100 links were read (a slow emulated
		 * machine under load read fewer in 2 s), at most 60 s. */
	} while (t.tv_sec - t0.tv_sec < 2 || (seen <= 100 && t.tv_sec - t0.tv_sec < 60));
	kill(pid, SIGKILL);
	waitpid(pid, 0, 0);
	printf("links read: %s, unexpected: %d\n", seen > 100 ? "many" : "few", bad);
	return 0;
}
