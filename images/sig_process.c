//go:build ignore

/* sig_process: kill(getpid()) from a thread that blocks the signal is
 * process-directed: with every thread blocking it, the main thread's
 * sigwait takes it (CPython's test_sigwait_thread); with another thread
 * not blocking it, that thread's handler runs. Prints facts only. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "common.h"

static pid_t handled_tid;

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	handled_tid = gettid();
}

static void *killer(void *a)
{
	(void)a;
	usleep(100000);
	kill(getpid(), SIGUSR1);
	return NULL;
}

static volatile int stop;
static pid_t open_tid;

static void *unblocked(void *a)
{
	(void)a;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	open_tid = gettid();
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);

	pthread_t t;
	pthread_create(&t, NULL, killer, NULL);
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR1);
	int sig = 0;
	int r = sigwait(&w, &sig);
	printf("sigwait -> %d, %s\n", r, sig == SIGUSR1 ? "SIGUSR1" : "other");
	pthread_join(t, NULL);

	set_handler(SIGUSR2, on_usr2, 0);
	pthread_create(&t, NULL, unblocked, NULL);
	while (!open_tid)
		usleep(1000);
	kill(getpid(), SIGUSR2); /* this thread blocks it */
	for (int i = 0; i < 5000 && !handled_tid; i++)
		usleep(1000);
	printf("SIGUSR2 handled by the thread that does not block it: %s\n",
	       handled_tid == open_tid ? "yes" : handled_tid ? "another" : "none");
	stop = 1;
	pthread_join(t, NULL);
	return 0;
}
