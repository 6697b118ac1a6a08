//go:build ignore
/* fast_threads [N]: the fast syscall path serves a process's threads too
 * (vmm/fast.go): calls of one thread change pages another has in use,
 * and the other must see each change at once, as on Linux, where the
 * call returns only after the other CPUs' TLBs dropped the old
 * translation.
 *
 *   1. Three threads make N rounds each of cheap calls and memory calls
 *      (getppid, open/fstat/close, mmap, a write, mprotect, a read,
 *      munmap) side by side; each counts the rounds whose results were
 *      right.
 *   2. The main thread changes a page a worker has just used (its
 *      translation cached): replaced by MAP_FIXED (the worker reads the
 *      new page), made read-only (the worker's store faults), unmapped
 *      (the worker's load faults). The steps take turns through a
 *      barrier; a fault ends in the worker's own handler. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long rounds;
static pid_t parent;
static pthread_barrier_t bar;
static char *volatile page;
static __thread sigjmp_buf jb;

static void on_segv(int s)
{
	(void)s;
	siglongjmp(jb, 1);
}

static void *churn(void *arg)
{
	long ok = 0;
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		int good = syscall(SYS_getppid) == parent;
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		struct stat st;
		good &= fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		if (fd >= 0)
			close(fd);
		char *m = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			continue;
		for (int p = 0; p < 16; p++)
			m[p * 4096] = (char)(i + p);
		good &= mprotect(m, 16 * 4096, PROT_READ) == 0;
		for (int p = 0; p < 16; p++)
			good &= m[p * 4096] == (char)(i + p);
		good &= munmap(m, 16 * 4096) == 0;
		ok += good;
	}
	return (void *)ok;
}

/* What a load from p gives: its byte, or -1 when it faults. */
static int load(volatile char *p)
{
	if (sigsetjmp(jb, 1) != 0)
		return -1;
	return *p;
}

/* Whether a store to p faults. */
static int store_faults(volatile char *p)
{
	if (sigsetjmp(jb, 1) != 0)
		return 1;
	*p = 'w';
	return 0;
}

static void *watcher(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar); /* the page is there */
	printf("worker reads '%c'\n", load(page));
	pthread_barrier_wait(&bar); /* main replaces it */
	pthread_barrier_wait(&bar);
	printf("after MAP_FIXED: worker reads '%c'\n", load(page));
	pthread_barrier_wait(&bar); /* main makes it read-only */
	pthread_barrier_wait(&bar);
	printf("after mprotect: worker's store faults: %d\n", store_faults(page));
	pthread_barrier_wait(&bar); /* main unmaps it */
	pthread_barrier_wait(&bar);
	printf("after munmap: worker's load gives %d\n", load(page));
	return NULL;
}

int main(int argc, char **argv)
{
	rounds = argc > 1 ? atol(argv[1]) : 300;
	parent = getppid();
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGSEGV, on_segv);

	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int i = 0; i < 3; i++) {
		void *ok;
		pthread_join(t[i], &ok);
		printf("thread %d: %ld of %ld rounds right\n", i, (long)ok, rounds);
	}

	pthread_barrier_init(&bar, NULL, 2);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page[0] = 'a';
	pthread_t w;
	pthread_create(&w, NULL, watcher, NULL);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar); /* the worker has read it */
	char *m = mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	m[0] = 'b';
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	mprotect(page, 4096, PROT_READ);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	munmap(page, 4096);
	pthread_barrier_wait(&bar);
	pthread_join(w, NULL);
	printf("after munmap: main's load gives %d\n", load(page));
	return 0;
}
