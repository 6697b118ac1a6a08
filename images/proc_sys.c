//go:build ignore

/* proc_sys: /proc/uptime, /proc/loadavg and /proc/stat as tools read them
 * (uptime, top, w): their formats and the relations that always hold (a
 * running count of at least one, the reader, and at most the tasks; the
 * last pid at least the reader's; stat's cpu lines and named counters).
 * Values change between runs, so only these facts are printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

static int slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("%s: %s\n", path, ename(errno));
		return -1;
	}
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
	return (int)got;
}

int main(void)
{
	static char buf[1 << 16];
	if (slurp("/proc/uptime", buf, sizeof buf) > 0) {
		double up, idle;
		char nl;
		int n = sscanf(buf, "%lf %lf%c", &up, &idle, &nl);
		printf("uptime: %d fields, newline %d, up > 0 %d, idle >= 0 %d, two decimals %d\n", n, n == 3 && nl == '\n',
		       up > 0, idle >= 0, strchr(buf, '.') && strchr(buf, '.')[3] == ' ');
	}
	if (slurp("/proc/loadavg", buf, sizeof buf) > 0) {
		double l1, l5, l15;
		int r, t, last;
		int n = sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &r, &t, &last);
		printf("loadavg: %d fields, loads >= 0 %d, 1 <= running <= tasks %d, last pid >= mine %d, newline %d\n", n,
		       l1 >= 0 && l5 >= 0 && l15 >= 0, r >= 1 && r <= t, last >= getpid(), buf[strlen(buf) - 1] == '\n');
	}
	if (slurp("/proc/stat", buf, sizeof buf) > 0) {
		unsigned long long v[10];
		int n = sscanf(buf, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
			       &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		printf("stat: cpu line with %d counters, cpu0 %d, intr %d, ctxt %d, btime %d, processes %d, procs_running %d, procs_blocked %d\n",
		       n, strstr(buf, "\ncpu0 ") != NULL, strstr(buf, "\nintr ") != NULL, strstr(buf, "\nctxt ") != NULL,
		       strstr(buf, "\nbtime ") != NULL, strstr(buf, "\nprocesses ") != NULL,
		       strstr(buf, "\nprocs_running ") != NULL, strstr(buf, "\nprocs_blocked ") != NULL);
	}
	int fd = open("/proc/loadavg", O_WRONLY);
	printf("open /proc/loadavg for writing -> %s\n", fd >= 0 ? "fd" : ename(errno));
	return 0;
}
