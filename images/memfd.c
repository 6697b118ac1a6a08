//go:build ignore

/* memfd: memfd_create's name and flag checks, then the file: write, read
 * back, a shared mapping coherent with write, seals (F_ADD_SEALS,
 * F_GET_SEALS, a sealed write EPERM), ftruncate, MFD_CLOEXEC across exec
 * (FD_CLOEXEC) and the /proc/self/fd link's text. Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	char longname[300];
	memset(longname, 'm', sizeof longname);
	longname[249] = 0;
	int fd = memfd_create(longname, 0);
	rc("memfd_create 249-byte name", fd < 0 ? -1 : 0);
	close(fd);
	longname[249] = 'm';
	longname[250] = 0;
	rc("memfd_create 250-byte name", memfd_create(longname, 0));
	rc("memfd_create bad name", memfd_create((char *volatile)8, 0));
	rc("memfd_create bad flags", memfd_create("x", 0x100));

	fd = memfd_create("kshim-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc("memfd_create", fd < 0 ? -1 : 0);
	printf("FD_CLOEXEC %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	char link[64], target[128];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	target[n < 0 ? 0 : n] = 0;
	printf("link %s\n", target);
	rc("write", write(fd, "hello memfd", 11));
	struct stat st;
	fstat(fd, &st);
	printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 07777);
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mapped: %.11s\n", m);
	m[0] = 'J';
	char buf[16] = {0};
	pread(fd, buf, 11, 0);
	printf("read after the mapping's store: %s\n", buf);
	munmap(m, 4096);
	rc("ftruncate 3", ftruncate(fd, 3));
	rc("F_ADD_SEALS write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
	rc("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	rc("write after the seal", write(fd, "x", 1));
	rc("ftruncate after the seal", ftruncate(fd, 1));
	rc("pread", pread(fd, buf, sizeof buf, 0));
	int plain = memfd_create("plain", 0);
	rc("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
	printf("plain FD_CLOEXEC %d\n", fcntl(plain, F_GETFD) & FD_CLOEXEC);
	return 0;
}
