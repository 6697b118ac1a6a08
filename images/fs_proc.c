//go:build ignore

/* fs_proc: the /proc a program expects and /dev/std*: /proc/self/exe
 * (readlink and open), /proc/self/maps (every line well-formed, sorted,
 * and a mapping made here listed with the right permissions, then split by
 * mprotect), /proc/self/status fields that must match the process,
 * /proc/meminfo and /proc/cpuinfo shapes, /proc/self/fd (listing and
 * readlink), cwd and root links, /dev/stdout and /dev/fd/N. Prints facts
 * only: never addresses, sizes or ids. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

/* Reads a whole file with small reads (generated files come in pieces). */
static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1024 >= cap)
			buf = realloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, 1000);
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

struct vma {
	unsigned long start, end, off, ino;
	char perm[5];
	int namecol; /* column of the name, -1 when none */
	int trailing_space;
};

static int parse_line(const char *line, struct vma *v)
{
	unsigned maj, min;
	int n = 0;
	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &v->start, &v->end, v->perm, &v->off, &maj, &min, &v->ino, &n) < 7)
		return 0;
	/* the address columns are at least 8 hex digits, lower case */
	const char *dash = strchr(line, '-');
	if (dash - line < 8 || strspn(line, "0123456789abcdef") != (size_t)(dash - line))
		return 0;
	if (strlen(v->perm) != 4 || !strchr("r-", v->perm[0]) || !strchr("w-", v->perm[1]) || !strchr("x-", v->perm[2]) ||
	    !strchr("ps", v->perm[3]))
		return 0;
	v->namecol = line[n] ? n : -1;
	v->trailing_space = line[strlen(line) - 1] == ' ';
	return v->start < v->end && v->start % 4096 == 0 && v->end % 4096 == 0;
}

/* Checks every line of maps; returns the number of lines, -1 if bad. */
static int check_maps(const char *maps, char *mine, char *out, size_t outlen)
{
	char *copy = strdup(maps), *save = NULL;
	unsigned long prev_end = 0;
	int lines = 0, ok = 1;
	out[0] = 0;
	int stack = 0, heap = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vma v;
		if (!parse_line(line, &v)) {
			printf("  bad line: %s\n", line);
			ok = 0;
			continue;
		}
		lines++;
		if (v.start < prev_end)
			ok = 0;
		prev_end = v.end;
		if (v.namecol >= 0 && v.namecol != 73 && v.namecol < 73) {
			printf("  name not at column 73\n");
			ok = 0;
		}
		if (v.namecol < 0 && !v.trailing_space) {
			printf("  nameless line without the trailing space\n");
			ok = 0;
		}
		if (v.namecol >= 0 && strcmp(line + v.namecol, "[stack]") == 0)
			stack = strcmp(v.perm, "rw-p") == 0;
		if (v.namecol >= 0 && strcmp(line + v.namecol, "[heap]") == 0)
			heap = strcmp(v.perm, "rw-p") == 0;
		if (v.start >= (unsigned long)mine && v.end <= (unsigned long)mine + 3 * PG) {
			char piece[64];
			snprintf(piece, sizeof piece, "%s%s:%lu%s", out[0] ? " " : "", v.perm, (v.end - v.start) / PG,
				 v.namecol < 0 && v.off == 0 && v.ino == 0 ? "" : "(odd)");
			strncat(out, piece, outlen - strlen(out) - 1);
		}
	}
	free(copy);
	printf("  stack rw-p: %d, heap rw-p: %d\n", stack, heap);
	return ok ? lines : -1;
}

/* The maps line holding addr: its permissions, and whether it names the
 * file path (the program's own file, as execve maps it). */
static void maps_of(const char *maps, const void *addr, const char *path, const char *what)
{
	char *copy = strdup(maps), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vma v;
		if (parse_line(line, &v) && v.start <= (unsigned long)addr && (unsigned long)addr < v.end) {
			printf("  %s: %s, names the program's file: %d\n", what, v.perm,
			       v.namecol >= 0 && strcmp(line + v.namecol, path) == 0);
			free(copy);
			return;
		}
	}
	printf("  %s: not in maps\n", what);
	free(copy);
}

static int data_word = 42; /* initialised: in the file-backed data segment */
/* Zero: the bss, whose pages past the data segment's last file page are
 * anonymous memory that maps names no file. */
static char bss_tail[4 * 4096];

static int has_line_prefix(const char *text, const char *prefix)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

static const char *field(const char *text, const char *name)
{
	static char val[256];
	size_t n = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			size_t len = strcspn(v, "\n");
			snprintf(val, sizeof val, "%.*s", (int)len, v);
			return val;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	(void)argc;
	char exe[PATH_MAX] = {0}, real[PATH_MAX] = {0};
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	printf("readlink(/proc/self/exe) is realpath(argv[0]): %d\n", n > 0 && realpath(argv[0], real) && strcmp(exe, real) == 0);
	int fd = open("/proc/self/exe", O_RDONLY);
	char magic[4];
	printf("open(/proc/self/exe) reads ELF: %d\n", fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0);
	struct stat a, b;
	printf("  same file as argv[0]: %d\n", fstat(fd, &a) == 0 && stat(argv[0], &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	rc("open(/proc/self/exe, O_WRONLY)", open("/proc/self/exe", O_WRONLY));
	rc("open(/proc/self/exe/x)", open("/proc/self/exe/x", O_RDONLY));

	/* /proc/self/maps */
	char *mine = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	free(malloc(100)); /* a heap */
	char seen[256];
	char *maps = slurp("/proc/self/maps");
	printf("maps readable: %d\n", maps != NULL);
	int lines = check_maps(maps, mine, seen, sizeof seen);
	printf("  well-formed: %d, my mapping: %s\n", lines > 0, seen);
	free(maps);
	mprotect(mine + PG, PG, PROT_READ | PROT_WRITE);
	maps = slurp("/proc/self/maps");
	lines = check_maps(maps, mine, seen, sizeof seen);
	printf("  after mprotect: well-formed: %d, my mapping: %s\n", lines > 0, seen);
	free(maps);
	munmap(mine, 3 * PG);
	maps = slurp("/proc/self/maps");
	lines = check_maps(maps, mine, seen, sizeof seen);
	printf("  after munmap: my mapping: \"%s\"\n", seen);
	/* The program's segments are mappings of its file (load_elf_binary). */
	maps_of(maps, (void *)main, real, "main's code");
	maps_of(maps, &data_word, real, "initialised data");
	maps_of(maps, &bss_tail[sizeof bss_tail - 1], real, "the bss's last page");

	fd = open("/proc/self/maps", O_RDONLY);
	char first[128] = {0}, again[128] = {0};
	rc("read(maps)", read(fd, first, sizeof first - 1) > 0);
	rc("lseek(maps, 0)", lseek(fd, 0, SEEK_SET));
	rc("read(maps) again", read(fd, again, sizeof again - 1) > 0);
	printf("  same first bytes: %d\n", strcmp(first, again) == 0);
	rc("write(maps fd)", write(fd, "x", 1));
	struct stat st;
	rc("fstat(maps) regular", fstat(fd, &st) == 0 ? S_ISREG(st.st_mode) : -1);
	printf("  mode %o\n", st.st_mode & 0777);
	close(fd);
	rc("stat(/proc/self/maps) size", stat("/proc/self/maps", &st) == 0 ? st.st_size : -1);

	/* status */
	char *status = slurp("/proc/self/status");
	const char *v;
	char want[32];
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	printf("status Name matches: %d\n", (v = field(status, "Name")) && strncmp(v, base, 15) == 0);
	snprintf(want, sizeof want, "%d", getpid());
	printf("status Pid matches: %d\n", (v = field(status, "Pid")) && strcmp(v, want) == 0);
	printf("status Tgid matches: %d\n", (v = field(status, "Tgid")) && strcmp(v, want) == 0);
	snprintf(want, sizeof want, "%d", getppid());
	printf("status PPid matches: %d\n", (v = field(status, "PPid")) && strcmp(v, want) == 0);
	printf("status Uid starts with uid: %d\n", (v = field(status, "Uid")) && atoi(v) == (int)getuid());
	printf("status Threads: %s\n", (v = field(status, "Threads")) ? v : "(none)");
	printf("status VmSize in kB: %d\n", (v = field(status, "VmSize")) && atol(v) > 0 && strstr(v, " kB"));
	printf("status VmRSS in kB: %d\n", (v = field(status, "VmRSS")) && atol(v) > 0 && strstr(v, " kB"));
	mode_t old = umask(0027);
	free(status);
	status = slurp("/proc/self/status");
	printf("status Umask: %s\n", (v = field(status, "Umask")) ? v : "(none)");
	umask(old);
	free(status);

	/* meminfo, cpuinfo */
	char *mem = slurp("/proc/meminfo");
	long total = (v = field(mem, "MemTotal")) ? atol(v) : -1;
	long freekb = (v = field(mem, "MemFree")) ? atol(v) : -1;
	printf("meminfo MemTotal > 0: %d, MemFree <= MemTotal: %d, kB: %d\n", total > 0, freekb >= 0 && freekb <= total,
	       strstr(mem, "MemTotal:") && strstr(strstr(mem, "MemTotal:"), " kB\n") != NULL);
	free(mem);
	char *cpu = slurp("/proc/cpuinfo");
	printf("cpuinfo has a processor line: %d\n", cpu && has_line_prefix(cpu, "processor"));
	free(cpu);

	/* /proc/self, fd, cwd, root */
	char buf[PATH_MAX];
	n = readlink("/proc/self", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink(/proc/self) is the pid: %d\n", atoi(buf) == getpid());
	rc("lstat(/proc/self) is a link", lstat("/proc/self", &st) == 0 ? S_ISLNK(st.st_mode) : -1);
	rc("stat(/proc/self) is a dir", stat("/proc/self", &st) == 0 ? S_ISDIR(st.st_mode) : -1);
	n = readlink("/proc/self/root", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink(/proc/self/root): %s\n", buf);
	char cwd[PATH_MAX];
	n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink(/proc/self/cwd) is getcwd: %d\n", getcwd(cwd, sizeof cwd) && strcmp(cwd, buf) == 0);

	int p[2];
	pipe(p);
	int nul = open("/dev/null", O_RDONLY);
	int self = open(argv[0], O_RDONLY);
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
	n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("fd link of a pipe starts pipe:[ : %d\n", strncmp(buf, "pipe:[", 6) == 0);
	snprintf(link, sizeof link, "/proc/self/fd/%d", nul);
	n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("fd link of /dev/null: %s\n", buf);
	snprintf(link, sizeof link, "/proc/self/fd/%d", self);
	n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("fd link of the program is its path: %d\n", strcmp(buf, real) == 0);
	rc("readlink(/proc/self/fd/99)", readlink("/proc/self/fd/99", buf, sizeof buf));
	/* reopening through the link is a new open file description */
	snprintf(link, sizeof link, "/proc/self/fd/%d", self);
	lseek(self, 100, SEEK_SET);
	int re = open(link, O_RDONLY);
	rc("reopen via /proc/self/fd: own offset", re >= 0 ? lseek(re, 0, SEEK_CUR) : -1);
	close(re);

	DIR *d = opendir("/proc/self/fd");
	int fds[64], nfds = 0, dirfd_seen = 0, dots = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.') {
			dots++;
			continue;
		}
		if (atoi(e->d_name) == dirfd(d))
			dirfd_seen = 1;
		else if (nfds < 64)
			fds[nfds++] = atoi(e->d_name);
		if (e->d_type != DT_LNK)
			printf("  %s is not DT_LNK\n", e->d_name);
	}
	printf("/proc/self/fd lists:");
	for (int i = 0; i < nfds; i++)
		for (int j = i + 1; j < nfds; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j], fds[j] = t;
			}
	for (int i = 0; i < nfds; i++)
		printf(" %d", fds[i]);
	printf(" (+ its own fd: %d, dots: %d)\n", dirfd_seen, dots);
	if (d)
		closedir(d);
	rc("chdir(/proc/self/fd)", chdir("/proc/self/fd"));
	snprintf(want, sizeof want, "/proc/%d/fd", getpid());
	printf("  getcwd is /proc/<pid>/fd: %d\n", getcwd(buf, sizeof buf) && strcmp(buf, want) == 0);
	rc("  readlink(0) relative", readlink("0", buf, sizeof buf) > 0);
	rc("  stat(../maps) relative", stat("../maps", &st));
	rc("chdir back", chdir(cwd));
	rc("open(/proc/self/fd, O_WRONLY)", open("/proc/self/fd", O_WRONLY));
	rc("open(/proc/self/status, O_RDWR)", (fd = open("/proc/self/status", O_RDWR)) >= 0 ? 0 : -1);
	rc("  write(status)", write(fd, "x", 1));
	rc("  F_GETFL accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	rc("open(/proc/self/nonexistent)", open("/proc/self/nonexistent", O_RDONLY));
	rc("stat(/proc/1999999999)", stat("/proc/1999999999", &st));
	rc("open(/proc/self/maps/)", open("/proc/self/maps/", O_RDONLY));
	rc("mkdir(/proc/self/x)", mkdir("/proc/self/x", 0755));
	rc("unlink(/proc/self/maps)", unlink("/proc/self/maps"));
	rc("readlink(/proc/self/maps)", readlink("/proc/self/maps", buf, sizeof buf));

	/* /dev/stdout and /dev/fd/N reopen the guest's own fds */
	fflush(stdout);
	fd = open("/dev/stdout", O_WRONLY);
	rc("write(/dev/stdout)", write(fd, "  (via /dev/stdout)\n", 20));
	close(fd);
	fd = open("/dev/fd/1", O_WRONLY);
	rc("write(/dev/fd/1)", write(fd, "  (via /dev/fd/1)\n", 18));
	close(fd);
	fd = open("/dev/stdin", O_RDONLY);
	rc("read(/dev/stdin)", read(fd, buf, 10));
	close(fd);
	return 0;
}
