//go:build ignore
// shm_posix.c: POSIX shared memory and named semaphores, which live in
// /dev/shm (a tmpfs on Linux; kshim run gives the guest its own): shm_open,
// ftruncate, a shared mapping a child writes and the parent reads, exclusive
// creation, sem_open/post/wait across fork, unlink, and the errors after it;
// and a process-shared semaphore in MAP_SHARED|MAP_ANONYMOUS memory.
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
	char name[64], sname[64];
	snprintf(name, sizeof name, "/kshim-shm-%d", (int)getpid());
	snprintf(sname, sizeof sname, "/kshim-sem-%d", (int)getpid());
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	rc("shm_open O_CREAT|O_EXCL", fd < 0 ? -1 : 0);
	rc("shm_open again O_EXCL", shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600));
	show("ftruncate 2 pages", ftruncate(fd, 2 * PG));
	struct stat st;
	fstat(fd, &st);
	printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 0777);
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	sem_t *s = sem_open(sname, O_CREAT | O_EXCL, 0600, 0);
	printf("sem_open: %s\n", s == SEM_FAILED ? ename(errno) : "ok");
	if (s == SEM_FAILED)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		int cfd = shm_open(name, O_RDWR, 0);
		char *q = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
		strcpy(q + PG, "written by the child");
		usleep(20000); // the parent is asleep in sem_wait by now
		sem_post(s);
		_exit(0);
	}
	sem_wait(s);
	printf("parent reads: %s\n", p + PG);
	waitpid(c, NULL, 0);
	int v = -1;
	sem_getvalue(s, &v);
	printf("semaphore value %d\n", v);
	show("sem_unlink", sem_unlink(sname));
	show("sem_unlink again", sem_unlink(sname));
	show("shm_unlink", shm_unlink(name));
	rc("shm_open after unlink", shm_open(name, O_RDWR, 0));
	printf("mapping still reads: %s\n", p + PG);

	// A process-shared semaphore in shared anonymous memory: its futex is
	// named by the memory, not the address space.
	sem_t *as = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	show("sem_init pshared", sem_init(as, 1, 0));
	c = fork();
	if (c == 0) {
		usleep(20000);
		sem_post(as);
		_exit(0);
	}
	show("sem_wait (shared anonymous)", sem_wait(as));
	waitpid(c, NULL, 0);
	return 0;
}
