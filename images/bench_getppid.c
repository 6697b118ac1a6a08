//go:build ignore
/* bench_getppid: N raw getppid syscalls; prints the median of 5 rounds in
 * ns per call. Not in the differential table: its output is a timing. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	double r[5];
	for (int k = 0; k < 5; k++) {
		double t0 = now();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		r[k] = (now() - t0) / n;
	}
	qsort(r, 5, sizeof r[0], cmp);
	printf("getppid_ns=%.0f\n", r[2]);
	return 0;
}
