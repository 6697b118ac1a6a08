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
 *   unlink:PATH    (need --rw)
 *   rmdir:PATH, append:PATH (write "more" at the end), truncate:PATH,
 *   access:PATH (W_OK), statfs:PATH (type and rdonly/nosuid/nodev/noexec),
 *   fill:PATH (create, write 64 KiB blocks until an error: KiB and errno),
 *   copy:SRC:DST (a file, with mode 0755), exec:PATH (fork, execve PATH
 *   with no arguments, report the errno or the exit status), mmapx:PATH
 *   (map the file PROT_READ|PROT_EXEC), map:PATH (map it PROT_READ and
 *   keep the mapping), names:- (the /proc/self/maps name of each kept
 *   mapping), mprotx:PATH (map it PROT_READ, then mprotect it to
 *   PROT_READ|PROT_EXEC), memfree:- (/proc/meminfo's MemFree line),
 *   fifo:PATH (open a FIFO for reading, then for writing, both
 *   non-blocking, and pass a byte through), chmod:PATH (to 0600),
 *   kind:PATH (file type, and a device's numbers), otrunc:PATH
 *   (open O_WRONLY|O_TRUNC), mmapw:PATH (open O_RDWR, map it shared
 *   and writable, write a byte through the mapping), cat:PATH (the
 *   whole file as it is, after the line "cat:PATH ->"), umount:PATH
 *   (umount2 with MNT_DETACH)
 * images/mount_test.go runs it natively (in a mount namespace) and under
 * kshim with the same mounts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common.h"

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

/* The name /proc/self/maps gives the mapping at addr. */
static void maps_name(const char *op, void *addr)
{
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0) {
		printf("%s -> maps: %s\n", op, ename(errno));
		return;
	}
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	for (char *line = buf; *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = 0;
		if (strtoul(line, NULL, 16) == (unsigned long)addr) {
			/* The name follows the fifth field and its padding. */
			char *p = line;
			for (int f = 0; f < 5 && p; f++) {
				p = strchr(p, ' ');
				if (p)
					p++;
			}
			while (p && *p == ' ')
				p++;
			printf("%s -> \"%s\"\n", op, p ? p : "");
			return;
		}
		if (!end)
			break;
		line = end + 1;
	}
	printf("%s -> not in maps\n", op);
}

static void *kept[16];
static int nkept;

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
			okay(what, fd < 0 ? -1 : write(fd, "guest\n", 6));
			close(fd);
		} else if (strcmp(op, "mkdir") == 0) {
			okay(what, mkdir(arg, 0755));
		} else if (strcmp(op, "symlink") == 0 && arg2) {
			okay(what, symlink(arg, arg2));
		} else if (strcmp(op, "link") == 0 && arg2) {
			okay(what, link(arg, arg2));
		} else if (strcmp(op, "rename") == 0 && arg2) {
			okay(what, rename(arg, arg2));
		} else if (strcmp(op, "unlink") == 0) {
			okay(what, unlink(arg));
		} else if (strcmp(op, "rmdir") == 0) {
			okay(what, rmdir(arg));
		} else if (strcmp(op, "append") == 0) {
			int fd = open(arg, O_WRONLY | O_APPEND);
			okay(what, fd < 0 ? -1 : write(fd, "more\n", 5));
			close(fd);
		} else if (strcmp(op, "copy") == 0 && arg2) {
			int in = open(arg, O_RDONLY), out = in < 0 ? -1 : open(arg2, O_CREAT | O_WRONLY | O_TRUNC, 0755);
			char buf[65536];
			ssize_t n = 0;
			while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
				if (write(out, buf, n) != n) {
					n = -1;
					break;
				}
			okay(what, in < 0 || out < 0 || n < 0 ? -1 : 0);
			close(in);
			close(out);
		} else if (strcmp(op, "exec") == 0) {
			int pfd[2];
			if (pipe2(pfd, O_CLOEXEC) < 0) {
				okay(what, -1);
				continue;
			}
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				char *av[] = {arg, NULL};
				execve(arg, av, environ);
				int e = errno;
				if (write(pfd[1], &e, sizeof e) < 0)
					_exit(126);
				_exit(127);
			}
			close(pfd[1]);
			int e = 0, st = 0;
			ssize_t got = read(pfd[0], &e, sizeof e);
			close(pfd[0]);
			waitpid(pid, &st, 0);
			if (got == sizeof e)
				printf("%s -> %s\n", what, ename(e));
			else
				printf("%s -> ran, status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		} else if (strcmp(op, "mmapx") == 0) {
			int fd = open(arg, O_RDONLY);
			void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
			okay(what, m == MAP_FAILED ? -1 : 0);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "map") == 0) {
			int fd = open(arg, O_RDONLY);
			void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
			okay(what, m == MAP_FAILED ? -1 : 0);
			if (fd >= 0)
				close(fd);
			if (m != MAP_FAILED && nkept < 16)
				kept[nkept++] = m;
		} else if (strcmp(op, "names") == 0) {
			for (int k = 0; k < nkept; k++) {
				char name[32];
				snprintf(name, sizeof name, "%s %d", what, k);
				maps_name(name, kept[k]);
			}
		} else if (strcmp(op, "fifo") == 0) {
			int r = open(arg, O_RDONLY | O_NONBLOCK);
			int w = open(arg, O_WRONLY | O_NONBLOCK);
			char c = 0;
			if (r < 0 || w < 0)
				printf("%s -> %s %s\n", what, r < 0 ? ename(errno) : "reader ok", w < 0 ? ename(errno) : "");
			else if (write(w, "f", 1) != 1 || read(r, &c, 1) != 1)
				printf("%s -> transfer: %s\n", what, ename(errno));
			else
				printf("%s -> passed '%c'\n", what, c);
			if (r >= 0)
				close(r);
			if (w >= 0)
				close(w);
		} else if (strcmp(op, "memfree") == 0) {
			FILE *f = fopen("/proc/meminfo", "r");
			char line[128];
			while (f && fgets(line, sizeof line, f))
				if (strncmp(line, "MemFree:", 8) == 0)
					printf("%s -> %s", what, line);
			if (f)
				fclose(f);
		} else if (strcmp(op, "mprotx") == 0) {
			int fd = open(arg, O_RDONLY);
			void *m = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
			if (m == MAP_FAILED) {
				printf("%s -> mmap: %s\n", what, ename(errno));
			} else {
				okay(what, mprotect(m, 4096, PROT_READ | PROT_EXEC));
				munmap(m, 4096);
			}
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "fill") == 0) {
			static char block[65536];
			int fd = open(arg, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (fd < 0) {
				printf("%s -> %s\n", what, ename(errno));
				continue;
			}
			long total = 0;
			ssize_t n;
			while ((n = write(fd, block, sizeof block)) > 0 && total < (64L << 20))
				total += n;
			printf("%s -> %ld KiB, %s\n", what, total >> 10, n < 0 ? ename(errno) : "no error");
			close(fd);
		} else if (strcmp(op, "truncate") == 0) {
			okay(what, truncate(arg, 1));
		} else if (strcmp(op, "cat") == 0) {
			int fd = open(arg, O_RDONLY);
			if (fd < 0) {
				printf("%s -> %s\n", what, ename(errno));
				continue;
			}
			printf("%s ->\n", what);
			fflush(stdout);
			char buf[4096];
			ssize_t n;
			while ((n = read(fd, buf, sizeof buf)) > 0)
				fwrite(buf, 1, n, stdout);
			close(fd);
		} else if (strcmp(op, "umount") == 0) {
			okay(what, umount2(arg, MNT_DETACH));
		} else if (strcmp(op, "chmod") == 0) {
			okay(what, chmod(arg, 0600));
		} else if (strcmp(op, "kind") == 0) {
			struct stat st;
			if (lstat(arg, &st) < 0)
				printf("%s -> %s\n", what, ename(errno));
			else if (S_ISCHR(st.st_mode))
				printf("%s -> chr %u:%u\n", what, major(st.st_rdev), minor(st.st_rdev));
			else
				printf("%s -> %s size %ld\n", what, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "reg" : S_ISLNK(st.st_mode) ? "lnk" : "other",
				       S_ISDIR(st.st_mode) ? 0L : (long)st.st_size);
		} else if (strcmp(op, "otrunc") == 0) {
			int fd = open(arg, O_WRONLY | O_TRUNC);
			okay(what, fd);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(op, "mmapw") == 0) {
			int fd = open(arg, O_RDWR);
			if (fd < 0) {
				printf("%s -> %s\n", what, ename(errno));
				continue;
			}
			char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				printf("%s -> mmap: %s\n", what, ename(errno));
			} else {
				m[0] = 'X';
				munmap(m, 4096);
				printf("%s -> ok\n", what);
			}
			close(fd);
		} else if (strcmp(op, "access") == 0) {
			okay(what, access(arg, W_OK));
		} else if (strcmp(op, "statfs") == 0) {
			struct statfs sf;
			if (statfs(arg, &sf) < 0) {
				printf("%s -> %s\n", what, ename(errno));
				continue;
			}
			printf("%s -> type %#lx%s%s%s%s\n", what, (unsigned long)sf.f_type,
			       sf.f_flags & ST_RDONLY ? " rdonly" : "", sf.f_flags & ST_NOSUID ? " nosuid" : "",
			       sf.f_flags & ST_NODEV ? " nodev" : "", sf.f_flags & ST_NOEXEC ? " noexec" : "");
		} else {
			printf("%s -> bad operation\n", what);
		}
		free(op);
	}
	return 0;
}
