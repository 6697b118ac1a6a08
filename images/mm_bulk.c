//go:build ignore

/* mm_bulk: operations that change more present pages at once than kshim's
 * page-table flush area holds (mprotect, mremap and munmap of 96 MiB that
 * the program touched page by page), checked from the program's view. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PG 4096ul
#define LEN (96ul << 20)

static sigjmp_buf jb;
static volatile int faults;

static void on_segv(int sig)
{
	(void)sig;
	faults++;
	siglongjmp(jb, 1);
}

/* faults_on reports whether touching p (a write if w) raises SIGSEGV. */
static int faults_on(volatile char *p, int w)
{
	if (sigsetjmp(jb, 1) == 0) {
		if (w)
			*p = 1;
		else
			(void)*p;
		return 0;
	}
	return 1;
}

int main(void)
{
	signal(SIGSEGV, on_segv);
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (unsigned long i = 0; i < LEN; i += PG)
		p[i] = (char)(i / PG);
	printf("mprotect(RO) -> %d\n", mprotect(p, LEN, PROT_READ));
	int sum_ok = 1;
	for (unsigned long i = 0; i < LEN; i += PG)
		sum_ok &= p[i] == (char)(i / PG);
	printf("readable_after_ro=%d\n", sum_ok);
	printf("write_faults first=%d middle=%d last=%d\n", faults_on(p, 1), faults_on(p + LEN / 2, 1),
	       faults_on(p + LEN - 1, 1));
	printf("mprotect(RW) -> %d\n", mprotect(p, LEN, PROT_READ | PROT_WRITE));
	printf("write_faults_after_rw=%d\n", faults_on(p + LEN / 3, 1));

	char *q = mremap(p, LEN, LEN, MREMAP_MAYMOVE | MREMAP_FIXED, p - LEN);
	printf("mremap moved=%d\n", q == p - LEN);
	int moved_ok = 1;
	for (unsigned long i = 0; i < LEN; i += PG)
		moved_ok &= q[i] == (char)(i / PG) || i == LEN / 3;
	printf("moved_content_ok=%d old_faults first=%d last=%d\n", moved_ok, faults_on(p, 0),
	       faults_on(p + LEN - PG, 0));

	printf("munmap -> %d\n", munmap(q, LEN));
	printf("faults_after_munmap first=%d middle=%d last=%d\n", faults_on(q, 0), faults_on(q + LEN / 2, 0),
	       faults_on(q + LEN - 1, 0));
	printf("faults=%d\n", faults);
	return 0;
}
