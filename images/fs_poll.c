//go:build ignore

/* fs_poll: waiting on pipes in one process: poll/ppoll (POLLIN, POLLOUT,
 * POLLHUP, POLLNVAL, negative fds, timeouts), select/pselect6 (sets in and
 * out, EBADF, the timeval written back), epoll (create1, ctl add/mod/del
 * with the guest's own 64-bit data, level and edge triggering, EPOLLONESHOT,
 * every ctl/wait errno). Short timeouts only; prints facts. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char *rev(short r)
{
	static char bufs[4][64];
	static int next;
	char *b = bufs[next++ % 4];
	b[0] = 0;
	if (r & POLLIN) strcat(b, "IN ");
	if (r & POLLOUT) strcat(b, "OUT ");
	if (r & POLLHUP) strcat(b, "HUP ");
	if (r & POLLERR) strcat(b, "ERR ");
	if (r & POLLNVAL) strcat(b, "NVAL ");
	if (!b[0]) strcat(b, "- ");
	b[strlen(b) - 1] = 0;
	return b;
}

static long ms_since(struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
	/* Only the standard fds, natively too (a test runner may leak more). */
	syscall(SYS_close_range, 3, ~0U, 0);
	int p[2];
	pipe(p);
	struct pollfd pf[4] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}, {99, POLLIN, 0}};

	/* poll */
	rc("poll(empty pipe, 0 ms)", poll(pf, 2, 0));
	printf("  read end: %s, write end: %s\n", rev(pf[0].revents), rev(pf[1].revents));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc("poll(read end only, 30 ms)", poll(pf, 1, 30));
	printf("  waited >= 30 ms: %d\n", ms_since(&t0) >= 30);
	write(p[1], "x", 1);
	rc("poll(after a write)", poll(pf, 2, -1));
	printf("  read end: %s, write end: %s\n", rev(pf[0].revents), rev(pf[1].revents));
	rc("poll(with fd -1 and closed fd 99)", poll(pf, 4, -1));
	printf("  revents: %s | %s | %s | %s\n", rev(pf[0].revents), rev(pf[1].revents), rev(pf[2].revents), rev(pf[3].revents));
	pf[0].revents = 0x7777;
	rc("poll(only fd -1)", poll(&pf[2], 1, 0));
	struct timespec ts = {0, 20 * 1000000};
	sigset_t mask;
	sigemptyset(&mask);
	char c;
	read(p[0], &c, 1);
	rc("ppoll(empty, 20 ms, mask)", syscall(SYS_ppoll, pf, 1, &ts, &mask, 8));
	printf("  timespec written back to 0: %d\n", ts.tv_sec == 0 && ts.tv_nsec == 0);
	rc("ppoll(bad sigsetsize)", syscall(SYS_ppoll, pf, 1, &ts, &mask, 4));
	struct timespec badts = {0, 1000000000};
	rc("ppoll(bad timespec)", syscall(SYS_ppoll, pf, 1, &badts, NULL, 8));
	close(p[1]);
	rc("poll(writer closed)", poll(pf, 1, -1));
	printf("  read end: %s\n", rev(pf[0].revents));
	close(p[0]);

	/* select */
	pipe(p);
	fd_set r, w, e;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	FD_SET(p[0], &e);
	struct timeval tv = {0, 0};
	rc("select(r: read end, w: write end, e: read end)", select(p[1] + 1, &r, &w, &e, &tv));
	printf("  r %d w %d e %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w), FD_ISSET(p[0], &e));
	write(p[1], "y", 1);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	rc("select(after a write, no timeout)", select(p[1] + 1, &r, &w, NULL, NULL));
	printf("  r %d w %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	read(p[0], &c, 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_sec = 0, tv.tv_usec = 25000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc("select(empty, 25 ms)", select(p[0] + 1, &r, NULL, NULL, &tv));
	printf("  waited >= 25 ms: %d, timeval now 0: %d, set cleared: %d\n", ms_since(&t0) >= 25, tv.tv_sec == 0 && tv.tv_usec == 0,
	       !FD_ISSET(p[0], &r));
	FD_ZERO(&r);
	FD_SET(50, &r);
	tv.tv_sec = 0, tv.tv_usec = 0;
	rc("select(closed fd 50)", select(51, &r, NULL, NULL, &tv));
	tv.tv_sec = -1;
	rc("select(negative timeout)", select(1, NULL, NULL, NULL, &tv));
	rc("select(nfds -1)", select(-1, NULL, NULL, NULL, NULL));
	tv.tv_sec = 0, tv.tv_usec = 2500000; /* normalised: 2.5 s, but the fd is ready */
	FD_ZERO(&w);
	FD_SET(p[1], &w);
	rc("select(usec 2500000, ready)", select(p[1] + 1, NULL, &w, NULL, &tv));
	printf("  time left > 2 s: %d\n", tv.tv_sec == 2);
	FD_ZERO(&w);
	FD_SET(p[1], &w);
	struct timespec pts = {0, 1000000};
	rc("pselect(w: write end, 1 ms, mask)", pselect(p[1] + 1, NULL, &w, NULL, &pts, &mask));
	close(p[0]), close(p[1]);

	/* epoll */
	pipe(p);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	rc("epoll_create1(EPOLL_CLOEXEC)", ep >= 0 ? fcntl(ep, F_GETFD) : -1);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
	rc("epoll_ctl(ADD read end)", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	rc("epoll_ctl(ADD again)", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	rc("epoll_ctl(MOD write end, not added)", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
	rc("epoll_ctl(DEL write end, not added)", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
	rc("epoll_ctl(ADD itself)", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	rc("epoll_ctl(ADD closed fd)", epoll_ctl(ep, EPOLL_CTL_ADD, 77, &ev));
	rc("epoll_ctl(on a pipe, not epoll)", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
	int self = open("/proc/self/exe", O_RDONLY);
	rc("epoll_ctl(ADD a regular file)", epoll_ctl(ep, EPOLL_CTL_ADD, self, &ev));
	rc("epoll_ctl(bad op)", epoll_ctl(ep, 99, p[0], &ev));
	struct epoll_event out[4];
	rc("epoll_wait(nothing ready, 0 ms)", epoll_wait(ep, out, 4, 0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc("epoll_wait(nothing ready, 20 ms)", epoll_wait(ep, out, 4, 20));
	printf("  waited >= 20 ms: %d\n", ms_since(&t0) >= 20);
	write(p[1], "zz", 2);
	memset(out, 0, sizeof out);
	rc("epoll_wait(after a write)", epoll_wait(ep, out, 4, -1));
	printf("  events %s data %llx\n", out[0].events == EPOLLIN ? "IN" : "?", (unsigned long long)out[0].data.u64);
	rc("epoll_wait(level-triggered, again)", epoll_wait(ep, out, 4, 0));
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 42;
	rc("epoll_ctl(MOD edge-triggered)", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	rc("epoll_wait(ET: pending data counts once)", epoll_wait(ep, out, 4, 0));
	printf("  data %llu\n", (unsigned long long)out[0].data.u64);
	rc("epoll_wait(ET again: nothing new)", epoll_wait(ep, out, 4, 0));
	ev.events = EPOLLOUT | EPOLLONESHOT;
	ev.data.u64 = 7;
	rc("epoll_ctl(ADD write end, ONESHOT)", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	rc("epoll_wait(ONESHOT fires)", epoll_wait(ep, out, 4, 0));
	printf("  data %llu\n", (unsigned long long)out[0].data.u64);
	rc("epoll_wait(ONESHOT disarmed)", epoll_wait(ep, out, 4, 0));
	int dup_ep = dup(ep);
	rc("epoll_wait via a dup of the epoll fd", epoll_wait(dup_ep, out, 4, 0));
	rc("epoll_ctl(DEL read end)", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	rc("epoll_wait(maxevents 0)", epoll_wait(ep, out, 0, 0));
	rc("epoll_wait(on a pipe)", epoll_wait(p[0], out, 4, 0));
	rc("epoll_wait(closed fd)", epoll_wait(77, out, 4, 0));
	rc("epoll_pwait(bad sigsetsize)", syscall(SYS_epoll_pwait, ep, out, 4, 0, &mask, 4));
	rc("epoll_pwait(mask)", epoll_pwait(ep, out, 4, 0, &mask));
	/* a guest fd closed while registered: its interest goes with it */
	int q[2];
	pipe(q);
	ev.events = EPOLLIN;
	ev.data.u64 = 99;
	epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
	write(q[1], "q", 1);
	close(q[0]);
	rc("epoll_wait(registered fd closed)", epoll_wait(ep, out, 4, 0));
	close(q[1]);
	rc("epoll_create(1)", epoll_create(1) >= 0 ? 0 : -1);
	return 0;
}
