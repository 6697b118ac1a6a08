//go:build ignore

/* thread_basic: POSIX threads on several vCPUs: mutex-protected counting,
 * thread-local storage, condition variables, barriers, join values,
 * pthread_kill to one thread, memory mapped and unmapped while other
 * threads run, and exit() from a thread ending the whole process. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NT 4
#define ITERS 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static __thread int tls_value;
static pthread_barrier_t bar;
static volatile pid_t sig_tid;

static void *count(void *arg)
{
	long id = (long)arg;
	tls_value = (int)id * 10;
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	pthread_barrier_wait(&bar);
	return (void *)(long)(tls_value + 1);
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return (void *)42;
}

static void on_usr1(int s)
{
	(void)s;
	sig_tid = (pid_t)syscall(SYS_gettid);
}

static volatile int stop;
static void *toucher(void *arg)
{
	char *p = arg;
	long sum = 0;
	do
		for (int i = 0; i < 64; i++)
			sum += p[i * 4096];
	while (!stop);
	return (void *)sum;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pid_t *out = arg;
	*out = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void *exiter(void *arg)
{
	(void)arg;
	printf("exit from a thread\n");
	fflush(stdout);
	exit(5);
}

int main(void)
{
	pthread_t t[NT];
	pthread_barrier_init(&bar, NULL, NT);
	for (long i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, count, (void *)i);
	long rets = 0;
	for (int i = 0; i < NT; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		rets += (long)rv;
	}
	printf("counter=%ld want=%d join_sum=%ld tls_main=%d\n", counter, NT * ITERS, rets, tls_value);

	pthread_t w;
	pthread_create(&w, NULL, waiter, NULL);
	usleep(1000);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	void *wv;
	pthread_join(w, &wv);
	printf("cond waiter returned %ld\n", (long)wv);

	printf("tid_differs=%d\n", (pid_t)syscall(SYS_gettid) == getpid());

	/* A signal for one thread runs in that thread. */
	signal(SIGUSR1, on_usr1);
	pid_t target = 0;
	pthread_t s;
	pthread_create(&s, NULL, sleeper, &target);
	while (!__atomic_load_n(&target, __ATOMIC_SEQ_CST))
		usleep(100);
	pthread_kill(s, SIGUSR1);
	while (!sig_tid)
		usleep(100);
	printf("signal ran in the target thread=%d\n", sig_tid == target);

	/* Unmap memory another thread is not using while it reads other memory. */
	char *keep = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(keep, 1, 64 * 4096);
	pthread_t tt;
	pthread_create(&tt, NULL, toucher, keep);
	int ok = 1;
	for (int r = 0; r < 50; r++) {
		char *q = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(q, r, 16 * 4096);
		ok &= q[5 * 4096] == (char)r;
		mprotect(q, 16 * 4096, PROT_READ);
		munmap(q, 16 * 4096);
	}
	stop = 1;
	void *sum;
	pthread_join(tt, &sum);
	printf("mmap churn ok=%d toucher_sum_positive=%d\n", ok, (long)sum > 0);

	pthread_t e;
	pthread_create(&e, NULL, exiter, NULL);
	for (;;)
		pause();
}
