//go:build ignore

/* timeset: setting the time as an unprivileged process (clock_settime,
 * settimeofday: the arguments are checked, then EPERM), and the scheduler's
 * fixed answers (sched_get_priority_min/max, sched_rr_get_interval).
 * Prints facts only. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define CPU_CLOCK(pid, which) ((clockid_t)((~(unsigned)(pid)) << 3) | (which))

int main(void)
{
	struct timespec now, bad = {0, 1000000000}, huge = {8277292037, 0};
	clock_gettime(CLOCK_REALTIME, &now);
	rc("clock_settime(REALTIME, now)", syscall(SYS_clock_settime, CLOCK_REALTIME, &now));
	rc("clock_settime(REALTIME, nsec 1e9)", syscall(SYS_clock_settime, CLOCK_REALTIME, &bad));
	rc("clock_settime(REALTIME, past TIME_SETTOD_SEC_MAX)", syscall(SYS_clock_settime, CLOCK_REALTIME, &huge));
	rc("clock_settime(REALTIME, bad pointer)", syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8));
	rc("clock_settime(MONOTONIC, now)", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now));
	rc("clock_settime(MONOTONIC, bad pointer)", syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8));
	rc("clock_settime(BOOTTIME)", syscall(SYS_clock_settime, CLOCK_BOOTTIME, &now));
	rc("clock_settime(TAI)", syscall(SYS_clock_settime, CLOCK_TAI, &now));
	rc("clock_settime(99)", syscall(SYS_clock_settime, 99, &now));
	rc("clock_settime(PROCESS_CPUTIME_ID)", syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &now));
	rc("clock_settime(own process CPU clock)", syscall(SYS_clock_settime, CPU_CLOCK(0, 2), &now));
	rc("clock_settime(own CPU clock, bad pointer)", syscall(SYS_clock_settime, CPU_CLOCK(0, 2), (void *)8));
	rc("clock_settime(CPU clock of no process)", syscall(SYS_clock_settime, CPU_CLOCK(3999999, 2), &now));
	struct timeval tv = {now.tv_sec, 0}, badtv = {0, 1000000};
	struct timezone tz = {0, 0}, badtz = {24 * 60, 0};
	rc("settimeofday(now, NULL)", syscall(SYS_settimeofday, &tv, NULL));
	rc("settimeofday(NULL, NULL)", syscall(SYS_settimeofday, NULL, NULL));
	rc("settimeofday(usec 1e6, NULL)", syscall(SYS_settimeofday, &badtv, NULL));
	rc("settimeofday(NULL, tz)", syscall(SYS_settimeofday, NULL, &tz));
	rc("settimeofday(NULL, tz 24 h)", syscall(SYS_settimeofday, NULL, &badtz));
	rc("settimeofday(bad pointer, NULL)", syscall(SYS_settimeofday, (void *)8, NULL));
	for (int pol = -1; pol <= 7; pol++) {
		char what[64];
		snprintf(what, sizeof what, "sched_get_priority_max(%d)", pol);
		rc(what, sched_get_priority_max(pol));
		snprintf(what, sizeof what, "sched_get_priority_min(%d)", pol);
		rc(what, sched_get_priority_min(pol));
	}
	struct timespec iv;
	rc("sched_rr_get_interval(0)", sched_rr_get_interval(0, &iv));
	rc("sched_rr_get_interval(getpid())", sched_rr_get_interval(getpid(), &iv));
	rc("sched_rr_get_interval(-1)", sched_rr_get_interval(-1, &iv));
	rc("sched_rr_get_interval(3999999)", sched_rr_get_interval(3999999, &iv));
	rc("sched_rr_get_interval(0, bad pointer)", syscall(SYS_sched_rr_get_interval, 0, (void *)8));
	return 0;
}
