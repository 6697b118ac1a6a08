//go:build ignore

/* sighup_handler: the guest of TestRunRelaysSignals (images/relay_test.go)
 * for a program started with SIGHUP ignored (nohup) that handles it
 * itself, as a daemon that reloads on SIGHUP: it sets a handler, prints
 * "ready", then waits up to ten seconds for the signal and prints whether
 * its handler ran. Not a differential row: the signal comes from outside. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include "common.h"

static volatile sig_atomic_t got;

static void on_hup(int s)
{
	(void)s;
	got = 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = {.sa_handler = on_hup};
	sigaction(SIGHUP, &sa, NULL);
	printf("ready\n");
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int i = 0; i < 1000 && !got; i++)
		nanosleep(&ts, NULL);
	printf(got ? "handled SIGHUP\n" : "no SIGHUP\n");
	return 0;
}
