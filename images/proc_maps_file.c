//go:build ignore

/* proc_maps_file: what /proc/self/maps shows of a mapping's file, as
 * Linux's show_map_vma: the offset column is the file offset the mapping
 * (or the part of it a split left) starts at, device and inode are the
 * file's (as fstat gives them), for the program's own segments (kshim
 * copies .data at load), a private mapping of the program file at a
 * non-zero offset split by mprotect and moved by mremap, a memfd mapped
 * at an offset, shared anonymous memory (Linux's "/dev/zero (deleted)",
 * a shmem file), a private mapping of /dev/zero (Linux keeps the file:
 * its name, device, inode and offset) and private anonymous memory
 * (offset 0, 00:00 0); a fork child's view; /proc/self/task/TID/maps the
 * same text. Prints facts only (no addresses, no device or inode
 * numbers): offsets, permissions, names and whether dev:inode equal the
 * file's fstat. With "dump", prints /proc/self/maps as it is. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static char maps[1 << 16];

struct line {
	unsigned long start, end, off, ino;
	unsigned maj, min;
	char perm[5];
	char name[512];
};

static void load(void)
{
	if (read_whole("/proc/self/maps", maps, sizeof maps) < 0) {
		printf("read maps: %s\n", ename(errno));
		exit(1);
	}
}

/* parse reads one maps line at s into l; the next line, or NULL. */
static const char *parse(const char *s, struct line *l)
{
	int n = 0;
	l->name[0] = 0;
	if (sscanf(s, "%lx-%lx %4s %lx %x:%x %lu%n", &l->start, &l->end, l->perm, &l->off,
		   &l->maj, &l->min, &l->ino, &n) < 7)
		return NULL;
	while (s[n] == ' ') /* %n after a space would skip the newline too */
		n++;
	const char *nl = strchr(s, '\n');
	size_t len = (nl ? (size_t)(nl - s) : strlen(s)) - n;
	if (len >= sizeof l->name)
		len = sizeof l->name - 1;
	memcpy(l->name, s + n, len);
	l->name[len] = 0;
	return nl ? nl + 1 : NULL;
}

/* at finds the line of the mapping starting at p. */
static int at(void *p, struct line *l)
{
	for (const char *s = maps; s && *s;) {
		s = parse(s, l);
		if (l->start == (unsigned long)p)
			return 1;
	}
	return 0;
}

static const char *devino(const struct line *l, const struct stat *st)
{
	if (l->maj == 0 && l->min == 0 && l->ino == 0)
		return "00:00 0";
	if (st && makedev(l->maj, l->min) == st->st_dev && l->ino == st->st_ino)
		return "the file's";
	return "other";
}

static void show_at(const char *what, void *p, const struct stat *st)
{
	struct line l;
	if (!at(p, &l)) {
		printf("%s: no maps line\n", what);
		return;
	}
	printf("%s: %s %08lx %s [%s]\n", what, l.perm, l.off, devino(&l, st), l.name);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "dump") == 0) {
		/* procmaps_test.go's TestProcMapsHidden: the text as it is. */
		load();
		fputs(maps, stdout);
		return 0;
	}
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0) {
		printf("readlink exe: %s\n", ename(errno));
		return 1;
	}
	exe[n] = 0;
	int efd = open(exe, O_RDONLY);
	struct stat est, mst;
	if (efd < 0 || fstat(efd, &est) < 0) {
		printf("open exe: %s\n", ename(errno));
		return 1;
	}

	/* The program file at page 1, three pages: split by mprotect, the
	 * last page moved by mremap; the offsets follow the file. */
	char *f = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, efd, PG);
	rc("mmap exe at offset 4096", f == MAP_FAILED ? -1 : 0);
	rc("mprotect middle page", mprotect(f + PG, PG, PROT_READ | PROT_WRITE));
	char *dst = free_range(PG);
	char *moved = mremap(f + 2 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	rc("mremap last page", moved == MAP_FAILED ? -1 : 0);

	int mfd = memfd_create("maps-test", 0);
	rc("memfd_create", mfd < 0 ? -1 : 0);
	rc("ftruncate", ftruncate(mfd, 4 * PG));
	fstat(mfd, &mst);
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 2 * PG);
	rc("mmap memfd at offset 8192", m == MAP_FAILED ? -1 : 0);

	char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rc("mmap shared anonymous", sh == MAP_FAILED ? -1 : 0);
	rc("mprotect its second page", mprotect(sh + PG, PG, PROT_READ));
	struct stat zst;
	int zfd = open("/dev/zero", O_RDWR);
	rc("open /dev/zero", zfd < 0 || fstat(zfd, &zst) < 0 ? -1 : 0);
	char *z = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 2 * PG);
	rc("mmap /dev/zero private at offset 8192", z == MAP_FAILED ? -1 : 0);
	char *an = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rc("mmap private anonymous", an == MAP_FAILED ? -1 : 0);
	an[0] = 1;

	load();
	/* The program's own segments, in order. */
	int i = 0;
	struct line l;
	for (const char *s = maps; s && *s;) {
		s = parse(s, &l);
		if (s && strcmp(l.name, exe) == 0 && l.start != (unsigned long)f &&
		    l.start != (unsigned long)f + PG && l.start != (unsigned long)moved)
			printf("segment %d: %s %08lx %s\n", i++, l.perm, l.off, devino(&l, &est));
	}
	printf("segments named by the program: %d\n", i);
	show_at("exe page 1", f, &est);
	show_at("exe page 2 (mprotect)", f + PG, &est);
	show_at("exe page 3 (mremap)", moved, &est);
	show_at("memfd page 2", m, &mst);
	show_at("shared anon", sh, NULL);
	show_at("shared anon page 2", sh + PG, NULL);
	show_at("private /dev/zero", z, &zst);
	show_at("private anon", an, NULL);
	struct line a, b;
	if (at(sh, &a) && at(sh + PG, &b))
		printf("shared anon: inode set %d, same inode %d, memfd's device %d\n", a.ino != 0,
		       a.ino == b.ino, makedev(a.maj, a.min) == mst.st_dev);

	char path[64], task[sizeof maps];
	snprintf(path, sizeof path, "/proc/self/task/%d/maps", gettid());
	if (read_whole(path, task, sizeof task) < 0)
		printf("read %s: %s\n", "task maps", ename(errno));
	else
		printf("task/TID/maps same as maps: %d\n", strcmp(task, maps) == 0);

	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		load();
		show_at("child: exe page 2", f + PG, &est);
		show_at("child: memfd page 2", m, &mst);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	wait_status("child", st);
	return 0;
}
