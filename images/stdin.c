//go:build ignore

/* stdin: reads all of standard input with read(2) in odd-sized chunks and
 * prints byte/line counts, a checksum, and the first line.  Exercises
 * read on a pipe (the harness feeds stdin) and EOF handling. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static char data[1 << 20];
	size_t n = 0;
	int reads = 0;
	for (;;) {
		size_t want = sizeof data - n;
		if (want > 777)
			want = 777;
		if (want == 0)
			break;
		ssize_t r = read(0, data + n, want);
		if (r < 0) {
			perror("read");
			return 1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		reads++;
	}
	size_t lines = 0;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		lines += data[i] == '\n';
		h = (h ^ (unsigned char)data[i]) * 16777619u;
	}
	printf("bytes=%zu lines=%zu fnv=%08x read_calls_positive=%d\n", n, lines, h, reads > 0 || n == 0);
	char *nl = memchr(data, '\n', n);
	size_t first = nl ? (size_t)(nl - data) : n;
	printf("first_line=%.*s\n", (int)first, data);
	/* A read at EOF keeps returning 0. */
	char c;
	printf("read_at_eof=%zd\n", read(0, &c, 1));
	return 0;
}
