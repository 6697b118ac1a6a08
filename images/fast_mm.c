//go:build ignore
/* fast_mm: the memory calls the fast path's server runs (munmap,
 * mprotect, madvise, brk, mmap MAP_FIXED; syscalls/fast.go, up to 1 MiB)
 * made the ordinary way, through libc, each followed at once by user code
 * that must see its effect: SIGSEGV on unmapped pages and on a write
 * after mprotect to read-only, zeros after MADV_DONTNEED and MAP_FIXED,
 * mincore's view; many calls in a row with no fault between (each
 * reply's changes seen before the next); and after fork, a child
 * unmapping and writing copy-on-write pages while its parent writes its
 * own. Output compared with native. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 256
#define LEN (N * 4096)

static sigjmp_buf jb;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* probe reports what a read (or write) of p does. */
static const char *probe(volatile char *p, int write)
{
	if (sigsetjmp(jb, 1))
		return "SIGSEGV";
	if (write) {
		*p = 'W';
		return "written";
	}
	static char b[8];
	snprintf(b, sizeof b, "%d", *p);
	return b;
}

static int resident(void *p, size_t len)
{
	unsigned char v[N];
	if (mincore(p, len, v) != 0)
		return -1;
	int n = 0;
	for (size_t i = 0; i < len / 4096; i++)
		n += v[i] & 1;
	return n;
}

static char *fresh(char c)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, c, LEN);
	return p;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_segv};
	sigaction(SIGSEGV, &sa, NULL);

	char *p = fresh('A');
	printf("resident %d\n", resident(p, LEN));
	int r = munmap(p, LEN);
	printf("munmap %d: first %s,", r, probe(p, 0));
	printf(" last %s, mincore %d\n", probe(p + LEN - 1, 0), resident(p, LEN));

	p = fresh('A');
	r = mprotect(p, LEN, PROT_READ);
	printf("mprotect ro %d: read %s,", r, probe(p + 4096, 0));
	printf(" write %s\n", probe(p + 4096, 1));
	r = mprotect(p, LEN, PROT_READ | PROT_WRITE);
	printf("mprotect rw %d: write %s,", r, probe(p + 4096, 1));
	printf(" read %s\n", probe(p + 4096, 0));
	r = mprotect(p + LEN / 2, LEN / 2, PROT_NONE);
	printf("mprotect none %d: read %s\n", r, probe(p + LEN - 1, 0));
	munmap(p, LEN);

	p = fresh('A');
	r = madvise(p, LEN, MADV_DONTNEED);
	printf("dontneed %d: first %s,", r, probe(p, 0));
	printf(" last %s\n", probe(p + LEN - 1, 0));
	memset(p, 'B', LEN);
	char *q = mmap(p, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("fixed %s: read %s,", q == p ? "same" : "moved", probe(p + 8192, 0));
	printf(" write %s\n", probe(p + 8192, 1));
	munmap(p, LEN);

	char *b = sbrk(0);
	char *top = (char *)(((unsigned long)b + 4095) & ~4095UL);
	if (brk(top + LEN) != 0)
		return 1;
	memset(top, 'C', LEN);
	r = brk(top);
	printf("brk shrink %d: read %s\n", r, probe(top + 4096, 0));

	/* Many calls in a row: each one's effect is there for the next. */
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		char *r = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r[0] = r[4096] = r[8192] = (char)i;
		if (mprotect(r + 4096, 4096, PROT_READ) != 0 || r[4096] != (char)i)
			bad++;
		if (madvise(r, 4096, MADV_DONTNEED) != 0 || r[0] != 0)
			bad++;
		if (munmap(r + 8192, 4096) != 0 || strcmp(probe(r + 8192, 0), "SIGSEGV") != 0)
			bad++;
		if (strcmp(probe(r + 4096, 1), "SIGSEGV") != 0)
			bad++;
		munmap(r, 2 * 4096);
	}
	printf("rounds: %d bad\n", bad);

	/* fork: the child unmaps half of the shared pages and writes the
	 * rest while the parent writes its own copy. */
	p = fresh('P');
	int go[2], back[2];
	if (pipe(go) != 0 || pipe(back) != 0)
		return 1;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char x;
		munmap(p, LEN / 2);
		memset(p + LEN / 2, 'C', LEN / 2);
		write(back[1], "r", 1);
		read(go[0], &x, 1);
		int mine = 0;
		for (int i = LEN / 2; i < LEN; i += 4096)
			mine += p[i] == 'C';
		printf("child: unmapped half %s, own pages %d of %d\n", probe(p, 0), mine, N / 2);
		fflush(stdout);
		_exit(0);
	}
	char x;
	read(back[0], &x, 1);
	memset(p, 'Q', LEN);
	write(go[1], "g", 1);
	int st;
	waitpid(c, &st, 0);
	int own = 0;
	for (int i = 0; i < LEN; i += 4096)
		own += p[i] == 'Q';
	printf("parent: own pages %d of %d, child exit %d\n", own, N, WEXITSTATUS(st));
	return 0;
}
