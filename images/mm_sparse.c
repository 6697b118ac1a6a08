//go:build ignore

/* mm_sparse: a program touching one page in every MiB of a large heap
 * (a hash table, a sparse array) uses one page per touch on Linux, which
 * maps nothing ahead for anonymous memory. kshim maps zero pages ahead of
 * a demand-zero fault (guestmm/around.go), 16 per lone fault: run with
 * --mem 64M, this program then held 16 times what it used and the OOM
 * killer ended it, where Linux runs it in a few MiB. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define MIB (1L << 20)
#define SPAN (1536 * MIB)

int main(void)
{
	char *p = mmap(NULL, SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap -> %s\n", ename(errno));
		return 1;
	}
	long sum = 0;
	for (long off = 0; off < SPAN; off += MIB)
		p[off] = 1;
	for (long off = 0; off < SPAN; off += MIB)
		sum += p[off];
	printf("touched %ld pages, one per MiB\n", sum);
	/* The brk heap the same way, grown a MiB at a time. */
	sum = 0;
	for (int i = 0; i < 256; i++) {
		char *b = sbrk(MIB);
		if (b == (void *)-1) {
			printf("sbrk -> %s\n", ename(errno));
			return 1;
		}
		b[0] = 1;
		b[MIB - 1] = 1;
		sum += b[0] + b[MIB - 1];
	}
	printf("touched %ld heap pages, two per MiB\n", sum);
	return 0;
}
