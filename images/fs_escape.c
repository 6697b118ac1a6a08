//go:build ignore

/* fs_escape: tries the path operations named on the command line and
 * prints one line per operation, for images/root_test.go, which runs it
 * under `kshim run --root DIR` and checks nothing outside DIR is reached.
 *
 *   read:PATH      open and print the first line of the file
 *   readat:DIR:REL openat(open(DIR), REL) and print the first line
 *   stat:PATH      print the inode number
 *   readlink:PATH  print the link text
 *   list:PATH      print the sorted names in a directory
 *   cd:PATH        chdir and print getcwd
 *   create:PATH    create the file with "guest" in it (needs --rw)
 *   mkdir:PATH, symlink:TARGET:PATH, link:OLD:NEW, rename:OLD:NEW,
 *   unlink:PATH    (need --rw) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void result(const char *op, long r)
{
	if (r < 0)
		printf("%s -> %s\n", op, ename(errno));
	else
		printf("%s -> ok\n", op);
}

static void first_line(const char *op, int fd)
{
	if (fd < 0) {
		printf("%s -> %s\n", op, ename(errno));
		return;
	}
	char buf[128] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		printf("%s -> read: %s\n", op, ename(errno));
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("%s -> \"%s\"\n", op, buf);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *op = strdup(argv[i]);
		char *arg = strchr(op, ':');
		if (!arg) {
			printf("%s -> bad operation\n", op);
			continue;
		}
		*arg++ = 0;
		char *arg2 = strchr(arg, ':');
		if (arg2)
			*arg2++ = 0;
		const char *what = argv[i];
		if (strcmp(op, "read") == 0) {
			first_line(what, open(arg, O_RDONLY));
		} else if (strcmp(op, "readat") == 0 && arg2) {
			int d = open(arg, O_RDONLY | O_DIRECTORY);
			first_line(what, d < 0 ? d : openat(d, arg2, O_RDONLY));
		} else if (strcmp(op, "stat") == 0) {
			struct stat st;
			if (stat(arg, &st) < 0)
				printf("%s -> %s\n", what, ename(errno));
			else
				printf("%s -> ino %lu\n", what, (unsigned long)st.st_ino);
		} else if (strcmp(op, "readlink") == 0) {
			char buf[PATH_MAX];
			ssize_t n = readlink(arg, buf, sizeof buf - 1);
			if (n < 0)
				printf("%s -> %s\n", what, ename(errno));
			else
				printf("%s -> \"%.*s\"\n", what, (int)n, buf);
		} else if (strcmp(op, "list") == 0) {
			DIR *d = opendir(arg);
			if (!d) {
				printf("%s -> %s\n", what, ename(errno));
				continue;
			}
			char *names[256];
			int n = 0;
			struct dirent *e;
			while ((e = readdir(d)) && n < 256)
				names[n++] = strdup(e->d_name);
			closedir(d);
			qsort(names, n, sizeof *names, cmp);
			printf("%s ->", what);
			for (int j = 0; j < n; j++)
				printf(" %s", names[j]);
			printf("\n");
		} else if (strcmp(op, "cd") == 0) {
			char buf[PATH_MAX];
			if (chdir(arg) < 0)
				printf("%s -> %s\n", what, ename(errno));
			else
				printf("%s -> cwd %s\n", what, getcwd(buf, sizeof buf) ? buf : ename(errno));
		} else if (strcmp(op, "create") == 0) {
			int fd = open(arg, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			result(what, fd < 0 ? -1 : write(fd, "guest\n", 6));
			close(fd);
		} else if (strcmp(op, "mkdir") == 0) {
			result(what, mkdir(arg, 0755));
		} else if (strcmp(op, "symlink") == 0 && arg2) {
			result(what, symlink(arg, arg2));
		} else if (strcmp(op, "link") == 0 && arg2) {
			result(what, link(arg, arg2));
		} else if (strcmp(op, "rename") == 0 && arg2) {
			result(what, rename(arg, arg2));
		} else if (strcmp(op, "unlink") == 0) {
			result(what, unlink(arg));
		} else {
			printf("%s -> bad operation\n", what);
		}
		free(op);
	}
	return 0;
}
