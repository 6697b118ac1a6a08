//go:build ignore

/* sys_cpu: what programs learn of the CPUs from /sys and the C library:
 * sysconf and get_nprocs (glibc reads /sys/devices/system/cpu/online and
 * possible, musl counts cpuN directories), sched_getaffinity, the cpu
 * directory's lists and entries, their modes and owner, writing one
 * (EACCES), /sys's file system type, and /proc/cpuinfo's processors. images/sysfs_test.go compares it
 * native vs kshim where the host's lists agree with its affinity. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common.h"

#define CPU "/sys/devices/system/cpu/"

int main(void)
{
	printf("sysconf conf %ld onln %ld\n", sysconf(_SC_NPROCESSORS_CONF), sysconf(_SC_NPROCESSORS_ONLN));
	printf("get_nprocs_conf %d get_nprocs %d\n", get_nprocs_conf(), get_nprocs());
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		printf("affinity %d\n", CPU_COUNT(&set));
	else
		printf("affinity -> %s\n", ename(errno));
	const char *files[] = {"online", "possible", "present", "offline"};
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[128], buf[64] = {0};
		snprintf(path, sizeof path, CPU "%s", files[i]);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			printf("%s -> %s\n", files[i], ename(errno));
			continue;
		}
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		struct stat st;
		stat(path, &st);
		printf("%s \"%s\" mode %o uid %d size %ld\n", files[i], buf, st.st_mode, (int)st.st_uid, (long)st.st_size);
		int w = open(path, O_WRONLY);
		printf("%s for writing -> %s\n", files[i], w < 0 ? ename(errno) : "ok");
		if (w >= 0)
			close(w);
	}
	DIR *d = opendir(CPU);
	int cpus = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "cpu", 3) == 0 && isdigit((unsigned char)e->d_name[3]) && e->d_type == DT_DIR)
			cpus++;
	if (d)
		closedir(d);
	printf("cpuN directories %d\n", cpus);
	struct stat st;
	if (stat("/sys", &st) == 0)
		printf("/sys mode %o uid %d\n", st.st_mode, (int)st.st_uid);
	struct statfs sf;
	if (statfs(CPU, &sf) == 0)
		printf("statfs type %#lx\n", (unsigned long)sf.f_type);
	/* Linux sets ST_VALID in every statfs (the other flags are the
	 * mount's, which differ between the host's mounts and kshim's). */
	const char *fsys[] = {"/", "/proc", "/proc/self", "/sys", CPU};
	for (unsigned i = 0; i < sizeof fsys / sizeof *fsys; i++)
		if (statfs(fsys[i], &sf) == 0)
			printf("statfs %s: ST_VALID %s\n", fsys[i], sf.f_flags & 0x20 /* ST_VALID */ ? "yes" : "no");
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[256];
	int procs = 0;
	while (ci && fgets(line, sizeof line, ci))
		if (strncmp(line, "processor", 9) == 0)
			procs++;
	if (ci)
		fclose(ci);
	printf("cpuinfo processors %d\n", procs);
	printf("cpu9999 -> %s\n", access(CPU "cpu9999", F_OK) < 0 ? ename(errno) : "ok");
	return 0;
}
