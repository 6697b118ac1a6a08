/* proc_fd_escape: as proc_exe_escape.c, through /proc/self/fd/1: the
 * guest's stdout is kshim's, a host file outside the root, and chmod and
 * truncate of "/proc/self/fd/1" change it. Not built by make:
 *
 *   gcc -static -O2 -o /tmp/pf proc_fd_escape.c; echo keep > /tmp/log
 *   mkdir -p /tmp/r && bin/kshim run --root /tmp/r /tmp/pf >> /tmp/log
 *   ls -l /tmp/log   # mode 0600, empty
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
	int r = chmod("/proc/self/fd/1", 0600);
	fprintf(stderr, "chmod(/proc/self/fd/1) -> %d %s\n", r, r ? strerrorname_np(errno) : "");
	r = truncate("/proc/self/fd/1", 0);
	fprintf(stderr, "truncate(/proc/self/fd/1) -> %d %s\n", r, r ? strerrorname_np(errno) : "");
	return 0;
}
