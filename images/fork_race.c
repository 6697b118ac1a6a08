//go:build ignore

/* fork_race: threads keep writing their own memory while another thread
 * forks (fork, clone with CLONE_VM alone, vfork-like clone, a child that
 * exits at once or after a while) again and again. Each writer fills its
 * block of .bss (blocks straddle pages, so two writers share a page) and
 * reads it back at once: a lost write or a page that reads as zeros is
 * memory changed under the program. kshim lost such writes (1 run in 2):
 * a vCPU stopped inside kflush after its last look at the flush queue ran
 * user code on translations other vCPUs had changed meanwhile (a fork's
 * write protection, a copy-on-write's new frame), and a fault's "refresh"
 * rewrite of an entry was applied after a newer change to it. With 300
 * rounds and 5 writers it still read zeros now and then: a copy-on-write
 * fault freed the frame it copied before the other vCPUs stopped reading
 * it, and a child exiting then zeroed it.
 *
 *   fork_race [ROUNDS [WRITERS]]   (default 300 and 3)
 *
 * Prints "fork_race ok" or the first bad word, and exits 0 or 4. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXW 8
#define WORDS 512

static struct {
	volatile unsigned long w[WORDS];
} blocks[MAXW] __attribute__((aligned(64)));
static atomic_int stop;

/* clone(flags) whose child exits at once using registers only. */
static long clone_exit(unsigned long flags)
{
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall\n\ttest %%rax, %%rax\n\tjnz 1f\n\tmov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall\n1:"
			 : "=a"(r)
			 : "a"(SYS_clone), "D"(flags), "S"(0), "d"(0), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
}

static void *writer(void *arg)
{
	long id = (long)arg;
	for (unsigned long v = 1; !atomic_load(&stop); v++) {
		for (int i = 0; i < WORDS; i++)
			blocks[id].w[i] = v * 1000 + i;
		for (int i = 0; i < WORDS; i++)
			if (blocks[id].w[i] != v * 1000 + i) {
				printf("fork_race: writer %ld word %d reads %#lx after writing %#lx\n", id, i,
				       blocks[id].w[i], v * 1000 + i);
				exit(4);
			}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 300, nw = argc > 2 ? atoi(argv[2]) : 3;
	if (nw < 1 || nw > MAXW)
		nw = 3;
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t th[MAXW];
	for (long i = 0; i < nw; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (int n = 0; n < rounds; n++) {
		long r = 0;
		switch (n % 5) {
		case 0:
			r = clone_exit(SIGCHLD | CLONE_VM);
			break;
		case 1:
			r = clone_exit(SIGCHLD);
			break;
		case 2:
			r = clone_exit(SIGCHLD | CLONE_VM | CLONE_VFORK);
			break;
		case 3:
			r = fork();
			if (r == 0)
				_exit(0);
			break;
		default:
			r = fork();
			if (r == 0) {
				struct timespec ts = {0, 1000000};
				nanosleep(&ts, NULL);
				_exit(0);
			}
		}
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < nw; i++)
		pthread_join(th[i], NULL);
	printf("fork_race ok\n");
	return 0;
}
