//go:build ignore

/* fs_mount_race: renames and symlink swaps race with lookups through
 * mounts, for images/mount_test.go (TestMountsRace), run under kshim with
 *   /mnt/rw  a writable bind mount (host dir H, beside it H/../secret.txt)
 *   /mnt/ro  a read-only bind mount holding "data"
 * One thread keeps moving /mnt/rw/a/b to /mnt/rw/b and back and turning
 * /mnt/rw/p from a directory (with a file "data") into a symlink to
 * /mnt/ro and back; the main
 * thread keeps opening paths that climb with ".." from inside the moving
 * directory and writing through /mnt/rw/p. It prints how many opens read
 * the secret beside the bound directory on the host, and how many writes reached the
 * read-only mount (both must be 0), and how many of each ran. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;

static void *mover(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		rename("/mnt/rw/a/b", "/mnt/rw/b");
		rename("/mnt/rw/b", "/mnt/rw/a/b");
		unlink("/mnt/rw/p/data");
		unlink("/mnt/rw/p/new");
		rmdir("/mnt/rw/p");
		symlink("/mnt/ro", "/mnt/rw/p");
		unlink("/mnt/rw/p");
		mkdir("/mnt/rw/p", 0755);
		close(open("/mnt/rw/p/data", O_WRONLY | O_CREAT, 0644));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	mkdir("/mnt/rw/a", 0755);
	mkdir("/mnt/rw/a/b", 0755);
	mkdir("/mnt/rw/a/b/c", 0755);
	mkdir("/mnt/rw/p", 0755);
	pthread_t t;
	if (pthread_create(&t, NULL, mover, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	const char *climbs[] = {
		"/mnt/rw/a/b/c/../../../../secret.txt", "/mnt/rw/a/b/c/../../../../../secret.txt",
		"/mnt/rw/b/c/../../../secret.txt", "/mnt/rw/a/b/c/../../../../../../../../../etc/passwd",
	};
	long opens = 0, bad = 0, writes = 0, written = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int dfd = -1;
	do {
		for (unsigned i = 0; i < sizeof climbs / sizeof *climbs; i++) {
			int fd = open(climbs[i], O_RDONLY);
			opens++;
			if (fd >= 0) {
				char buf[64] = {0};
				if (read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "SECRET", 6) == 0)
					bad++;
				close(fd);
			}
		}
		/* Relative to a directory fd that moves. */
		if (dfd < 0)
			dfd = open("/mnt/rw/a/b/c", O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			int fd = openat(dfd, "../../../../secret.txt", O_RDONLY);
			opens++;
			if (fd >= 0) {
				char buf[64] = {0};
				if (read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "SECRET", 6) == 0)
					bad++;
				close(fd);
			}
		}
		int fd = open("/mnt/rw/p/data", O_WRONLY | O_TRUNC);
		writes++;
		if (fd >= 0) {
			/* Only a file made in the directory /mnt/rw/p may open. */
			struct stat st, ro;
			if (fstat(fd, &st) == 0 && stat("/mnt/ro/data", &ro) == 0 && st.st_ino == ro.st_ino)
				written++;
			close(fd);
		}
		fd = open("/mnt/rw/p/new", O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("escapes %ld of %ld opens, read-only writes %ld of %ld\n", bad, opens, written, writes);
	return 0;
}
