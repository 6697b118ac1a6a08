//go:build ignore

/* bigbss: a 64 MiB zero-initialised global (in .bss, not in the file).
 * The loader must map it zeroed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BIG (64u << 20)
static unsigned char big[BIG];
static int small_data = 1234; /* .data next to it */

int main(void)
{
	const uint64_t *w = (const uint64_t *)big;
	uint64_t nz = 0;
	for (size_t i = 0; i < BIG / 8; i++)
		nz |= w[i];
	printf("size=%u\n", BIG);
	printf("all_zero=%d\n", nz == 0);
	printf("data_value=%d\n", small_data);

	big[BIG - 1] = 0xff;
	big[0] = 1;
	big[BIG / 2] = 7;
	uint64_t sum = 0;
	for (size_t i = 0; i < BIG; i += 4096)
		big[i] += (unsigned char)(i >> 12);
	for (size_t i = 0; i < BIG; i++)
		sum += big[i];
	printf("end_byte=%u\n", big[BIG - 1]);
	printf("sum=%llu\n", (unsigned long long)sum);
	return 0;
}
