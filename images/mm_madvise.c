//go:build ignore

/* mm_madvise: the advice values whose effect the program can observe
 * (MADV_DONTNEED zeroing, MADV_REMOVE on shared memory, DONTNEED on a
 * private file mapping) and return values/errors for the rest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'x', 8 * PG);

	/* MADV_DONTNEED on private anonymous memory: the pages read as zero
	 * afterwards, neighbours untouched. */
	errno = 0;
	show("MADV_DONTNEED(pages 2-3)", madvise(p + 2 * PG, 2 * PG, MADV_DONTNEED));
	printf("dontneed zeroed=%d neighbours_intact=%d\n", all_is(p + 2 * PG, 2 * PG, 0),
	       all_is(p, 2 * PG, 'x') && all_is(p + 4 * PG, 4 * PG, 'x'));
	p[2 * PG] = 'y';
	printf("dontneed writable_after=%d\n", p[2 * PG] == 'y');

	/* MADV_FREE: contents may or may not survive, so only the return value
	 * and that new writes stick are facts. */
	errno = 0;
	show("MADV_FREE(pages 4-5)", madvise(p + 4 * PG, 2 * PG, MADV_FREE));
	memset(p + 4 * PG, 'f', 2 * PG);
	printf("free rewritten_ok=%d\n", all_is(p + 4 * PG, 2 * PG, 'f'));

	/* Pure hints: return 0 and change nothing visible. */
	static const struct {
		const char *name;
		int advice;
	} hints[] = {
		{"MADV_NORMAL", MADV_NORMAL},
		{"MADV_RANDOM", MADV_RANDOM},
		{"MADV_SEQUENTIAL", MADV_SEQUENTIAL},
		{"MADV_WILLNEED", MADV_WILLNEED},
		{"MADV_DONTFORK", MADV_DONTFORK},
		{"MADV_DOFORK", MADV_DOFORK},
		{"MADV_DONTDUMP", MADV_DONTDUMP},
		{"MADV_DODUMP", MADV_DODUMP},
	};
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "%s(pages 6-7)", hints[i].name);
		errno = 0;
		show(what, madvise(p + 6 * PG, 2 * PG, hints[i].advice));
	}
	printf("hints content_intact=%d\n", all_is(p + 6 * PG, 2 * PG, 'x'));

	/* MADV_REMOVE frees the backing store of shared memory: reads zero.
	 * On private anonymous memory it is EINVAL. */
	char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(s, 's', 4 * PG);
	errno = 0;
	show("MADV_REMOVE(shared anon, page 1)", madvise(s + PG, PG, MADV_REMOVE));
	printf("remove zeroed=%d neighbours_intact=%d\n", all_is(s + PG, PG, 0),
	       all_is(s, PG, 's') && all_is(s + 2 * PG, 2 * PG, 's'));
	errno = 0;
	show("MADV_REMOVE(private anon)", madvise(p, PG, MADV_REMOVE));
	/* MADV_DONTNEED on shared memory does not lose the data. */
	errno = 0;
	show("MADV_DONTNEED(shared anon)", madvise(s, PG, MADV_DONTNEED));
	printf("shared dontneed kept=%d\n", all_is(s, PG, 's'));

	/* MADV_DONTNEED on a private file mapping: written (copied) pages
	 * revert to the file's contents. */
	char path[] = "/tmp/kshim-madv-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	char fbuf[2 * PG];
	memset(fbuf, 'F', sizeof fbuf);
	if (write(fd, fbuf, sizeof fbuf) != (ssize_t)sizeof fbuf)
		return 2;
	char *fp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	memset(fp, 'w', 2 * PG);
	errno = 0;
	show("MADV_DONTNEED(private file)", madvise(fp, 2 * PG, MADV_DONTNEED));
	printf("private_file reverted=%d\n", all_is(fp, 2 * PG, 'F'));
	munmap(fp, 2 * PG);
	close(fd);

	/* Errors. */
	errno = 0;
	show("madvise(invalid advice 12345)", madvise(p, PG, 12345));
	errno = 0;
	show("madvise(unaligned addr)", madvise(p + 1, PG, MADV_NORMAL));
	errno = 0;
	show("madvise(len 0)", madvise(p, 0, MADV_DONTNEED));
	char *gone = free_range(1);
	errno = 0;
	show("madvise(unmapped, WILLNEED)", madvise(gone, PG, MADV_WILLNEED));
	errno = 0;
	show("madvise(unmapped, DONTNEED)", madvise(gone, PG, MADV_DONTNEED));
	munmap(p, 8 * PG);
	munmap(s, 4 * PG);
	printf("done\n");
	return 0;
}
