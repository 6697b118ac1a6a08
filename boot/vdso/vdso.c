//go:build ignore

/*
 * kshim's vDSO: clock_gettime, gettimeofday and time without an exit to
 * the VMM. The VMM maps this image (built by `go generate ./boot`) into
 * every guest right after a data page (vvar) it fills: a seqlock, the TSC
 * reading and CLOCK_MONOTONIC at one moment, and the scale from TSC ticks
 * to nanoseconds. The guest reads the TSC (rdtsc does not exit) and
 * extrapolates. Clocks it cannot serve go to the real syscall.
 *
 * Invariant (with vmm/vdso.go): the vvar page is the page just below the
 * image, read-only to the guest; seq is odd while the VMM updates it.
 */
#include <stdint.h>

struct vvar {
	volatile uint32_t seq;
	uint32_t shift;
	uint64_t mult;         /* ns = (tsc - base_tsc) * mult >> shift */
	uint64_t base_tsc;
	int64_t base_mono_ns;  /* CLOCK_MONOTONIC at base_tsc */
	int64_t real_off_ns;   /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	int64_t boot_off_ns;   /* CLOCK_BOOTTIME - CLOCK_MONOTONIC */
	uint32_t enabled;
};

extern struct vvar vvar_page __attribute__((visibility("hidden")));

struct kts {
	int64_t tv_sec;
	int64_t tv_nsec;
};
struct ktv {
	int64_t tv_sec;
	int64_t tv_usec;
};

#define NSEC 1000000000LL

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static long sys(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

/* mono returns CLOCK_MONOTONIC in ns and the two offsets, consistently. */
static int mono(int64_t *ns, int64_t *real, int64_t *boot)
{
	struct vvar *v = &vvar_page;
	uint32_t s;
	do {
		s = v->seq;
		__asm__ volatile("" ::: "memory");
		if (!v->enabled)
			return 0;
		uint64_t d = rdtsc() - v->base_tsc;
		*ns = v->base_mono_ns + (int64_t)(((unsigned __int128)d * v->mult) >> v->shift);
		*real = v->real_off_ns;
		*boot = v->boot_off_ns;
		__asm__ volatile("" ::: "memory");
	} while ((s & 1) || s != v->seq);
	return 1;
}

int __vdso_clock_gettime(int clk, struct kts *ts)
{
	int64_t ns, real, boot;
	switch (clk) {
	case 0: /* CLOCK_REALTIME */
	case 5: /* CLOCK_REALTIME_COARSE */
	case 1: /* CLOCK_MONOTONIC */
	case 6: /* CLOCK_MONOTONIC_COARSE */
	case 7: /* CLOCK_BOOTTIME */
		if (!mono(&ns, &real, &boot))
			break;
		if (clk == 0 || clk == 5)
			ns += real;
		else if (clk == 7)
			ns += boot;
		ts->tv_sec = ns / NSEC;
		ts->tv_nsec = ns % NSEC;
		return 0;
	}
	return (int)sys(228, clk, (long)ts); /* SYS_clock_gettime */
}

int __vdso_gettimeofday(struct ktv *tv, void *tz)
{
	int64_t ns, real, boot;
	if (tz || !mono(&ns, &real, &boot))
		return (int)sys(96, (long)tv, (long)tz); /* SYS_gettimeofday */
	if (tv) {
		ns += real;
		tv->tv_sec = ns / NSEC;
		tv->tv_usec = ns % NSEC / 1000;
	}
	return 0;
}

long __vdso_time(long *t)
{
	int64_t ns, real, boot;
	if (!mono(&ns, &real, &boot))
		return sys(201, (long)t, 0); /* SYS_time */
	long s = (ns + real) / NSEC;
	if (t)
		*t = s;
	return s;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	(void)unused;
	return (int)sys(309, (long)cpu, (long)node); /* SYS_getcpu */
}

int clock_gettime(int, struct kts *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct ktv *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
