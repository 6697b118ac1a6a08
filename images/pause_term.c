//go:build ignore

/* pause_term: prints "ready", then waits in pause() with nothing else
 * that could end the wait (no timer, no host call): only a signal from
 * outside does. SIGTERM's handler prints "handled TERM" and exits 3.
 * images/relay_test.go sends it to kshim, which must pass it on rather
 * than end (the Go runtime's deadlock check once ended kshim here, on
 * hosts where no kshim goroutine had a timer). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

static void on_term(int s)
{
	(void)s;
	static const char msg[] = "handled TERM\n";
	if (write(1, msg, sizeof msg - 1) < 0)
		_exit(1);
	_exit(3);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	static const char ready[] = "ready\n";
	if (write(1, ready, sizeof ready - 1) < 0)
		return 1;
	for (;;)
		pause();
}
