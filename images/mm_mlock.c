//go:build ignore

/* mm_mlock: mlock/munlock/mlock2/mlockall/munlockall return values.
 * Amounts stay small (16 KiB) so the default RLIMIT_MEMLOCK suffices. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

#include "common.h"

int main(void)
{
	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'm', 4 * PG);

	errno = 0;
	show("mlock(4 pages)", mlock(p, 4 * PG));
	unsigned char vec[4];
	mincore(p, 4 * PG, vec);
	printf("locked_resident=%d\n", (vec[0] & vec[1] & vec[2] & vec[3] & 1) == 1);
	printf("content_intact=%d\n", p[0] == 'm' && p[4 * PG - 1] == 'm');
	errno = 0;
	show("mlock(again)", mlock(p, 4 * PG));
	errno = 0;
	show("munlock(4 pages)", munlock(p, 4 * PG));
	errno = 0;
	show("munlock(not locked)", munlock(p, 4 * PG));
	errno = 0;
	show("mlock(unaligned addr)", mlock(p + 10, 100));
	munlock(p, PG);
	errno = 0;
	show("mlock(len 0)", mlock(p, 0));

	char *gone = free_range(1);
	errno = 0;
	show("mlock(unmapped)", mlock(gone, PG));
	errno = 0;
	show("munlock(unmapped)", munlock(gone, PG));

	errno = 0;
	show("mlock2(MLOCK_ONFAULT)", syscall(SYS_mlock2, p, 2 * PG, MLOCK_ONFAULT));
	munlock(p, 2 * PG);
	errno = 0;
	show("mlock2(invalid flags)", syscall(SYS_mlock2, p, PG, 0x10));

	errno = 0;
	show("mlockall(0)", mlockall(0));
	errno = 0;
	show("mlockall(MCL_ONFAULT alone)", mlockall(MCL_ONFAULT));
	errno = 0;
	show("mlockall(MCL_FUTURE)", mlockall(MCL_FUTURE));
	/* With MCL_FUTURE, new mappings are locked (populated). */
	char *f = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("future_map_ok=%d\n", f != MAP_FAILED);
	if (f != MAP_FAILED) {
		mincore(f, 2 * PG, vec);
		printf("future_map_resident=%d\n", (vec[0] & vec[1] & 1) == 1);
		munmap(f, 2 * PG);
	}
	errno = 0;
	show("munlockall()", munlockall());
	errno = 0;
	show("munlockall(again)", munlockall());
	munmap(p, 4 * PG);
	printf("done\n");
	return 0;
}
