//go:build ignore

/* sysv_sem.c - System V semaphores (kshim's syscalls/ipc/sem.go): semget's
 * errors, semctl's values, pids and counts, semop's atomicity, IPC_NOWAIT,
 * timeouts, a waiter in another process woken by semop, by IPC_RMID
 * (EIDRM) and by a signal (EINTR), SEM_UNDO at exit, /proc/sysvipc/sem.
 * Ids and pids vary between runs: only their relations are printed. */
#define _GNU_SOURCE
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include "common.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static int op(int id, unsigned short num, short o, short flg)
{
	struct sembuf b = {num, o, flg};
	return semop(id, &b, 1);
}

static void vals(const char *what, int id, int n)
{
	unsigned short a[8];
	union semun u = {.array = a};
	if (semctl(id, 0, GETALL, u) < 0) {
		printf("%s: GETALL -> %s\n", what, ename(errno));
		return;
	}
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" %u", a[i]);
	printf("\n");
}

/* wait_count waits until semaphore num of id has n waiters (cmd GETNCNT
 * or GETZCNT), for at most ~10 s. */
static int wait_count(int id, int num, int cmd, int n)
{
	for (int i = 0; i < 10000; i++) {
		if (semctl(id, num, cmd) == n)
			return 1;
		usleep(1000);
	}
	return 0;
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rc("semget(PRIVATE, 0)", semget(IPC_PRIVATE, 0, 0600));
	rc("semget(PRIVATE, -1)", semget(IPC_PRIVATE, -1, 0600));
	rc("semget(PRIVATE, 32001)", semget(IPC_PRIVATE, 32001, 0600));
	int id = semget(IPC_PRIVATE, 3, 0600);
	printf("semget(PRIVATE, 3) -> %s\n", id >= 0 ? "id" : ename(errno));

	key_t key = 0x5b000000 | (getpid() & 0xffffff);
	int k1 = semget(key, 2, IPC_CREAT | 0600);
	printf("semget(key, 2, CREAT) -> %s\n", k1 >= 0 ? "id" : ename(errno));
	rc("semget(key, EXCL)", semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
	printf("semget(key, 0) same: %d\n", semget(key, 0, 0) == k1);
	rc("semget(key, 3)", semget(key, 3, 0));
	rc("semget(key+1) absent", semget(key + 1, 1, 0));

	/* semctl values. */
	rc("GETVAL", semctl(id, 0, GETVAL));
	union semun u = {.val = 5};
	rc("SETVAL 5", semctl(id, 1, SETVAL, u));
	rc("GETVAL 1", semctl(id, 1, GETVAL));
	printf("GETPID is self: %d\n", semctl(id, 1, GETPID) == getpid());
	rc("GETPID untouched", semctl(id, 0, GETPID));
	u.val = -1;
	rc("SETVAL -1", semctl(id, 1, SETVAL, u));
	u.val = 32768;
	rc("SETVAL 32768", semctl(id, 1, SETVAL, u));
	u.val = 1;
	rc("SETVAL num 3", semctl(id, 3, SETVAL, u));
	rc("GETVAL num 3", semctl(id, 3, GETVAL));
	rc("GETVAL num -1", semctl(id, -1, GETVAL));
	rc("GETVAL bad id", semctl(id + 1000000, 0, GETVAL));
	rc("semctl(99)", semctl(id, 0, 99));
	unsigned short set[3] = {1, 2, 3};
	u.array = set;
	rc("SETALL", semctl(id, 0, SETALL, u));
	vals("after SETALL", id, 3);
	u.array = (void *)16;
	rc("SETALL bad pointer", semctl(id, 0, SETALL, u));
	rc("GETALL bad pointer", semctl(id, 0, GETALL, u));

	/* semop. */
	struct sembuf many[501];
	memset(many, 0, sizeof many);
	rc("semop(0 ops)", semop(id, many, 0));
	rc("semop(501 ops)", semop(id, many, 501));
	rc("semop(num 3)", op(id, 3, 1, 0));
	rc("semop(bad pointer)", semop(id, (void *)16, 1));
	rc("semop(-2 NOWAIT on 1)", op(id, 0, -2, IPC_NOWAIT));
	rc("semop(+32767)", op(id, 0, 32767, 0));
	struct sembuf two[2] = {{0, -1, 0}, {1, -100, IPC_NOWAIT}};
	rc("semop(atomic, second blocks)", semop(id, two, 2));
	vals("unchanged", id, 3);
	struct sembuf seq[3] = {{2, -3, 0}, {2, 5, 0}, {2, -4, 0}};
	rc("semop(sequence on one)", semop(id, seq, 3));
	vals("after sequence", id, 3);
	rc("semop(zero on 0 NOWAIT)", op(id, 0, 0, IPC_NOWAIT));
	struct timespec ts = {0, 20 * 1000 * 1000};
	struct sembuf dec = {0, -5, 0};
	rc("semtimedop(times out)", semtimedop(id, &dec, 1, &ts));
	ts.tv_nsec = 1000000000;
	rc("semtimedop(bad timeout)", semtimedop(id, &dec, 1, &ts));
	rc("semtimedop(timeout pointer)", semtimedop(id, &dec, 1, (void *)16));

	/* A waiter in a child, woken by an increment. */
	u.val = 0;
	semctl(id, 0, SETVAL, u);
	pid_t c = fork();
	if (c == 0) {
		rc("child: semop(-1) waits, then", op(id, 0, -1, 0));
		_exit(0);
	}
	printf("GETNCNT reaches 1: %d\n", wait_count(id, 0, GETNCNT, 1));
	rc("GETZCNT", semctl(id, 0, GETZCNT));
	int r = op(id, 0, 1, 0); /* printed once the child has: its line first */
	waitpid(c, NULL, 0);
	rc("semop(+1)", r);
	rc("GETVAL after", semctl(id, 0, GETVAL));
	printf("GETPID is the child: %d\n", semctl(id, 0, GETPID) == c);
	rc("GETNCNT after", semctl(id, 0, GETNCNT));

	/* A wait-for-zero woken by a decrement. */
	u.val = 2;
	semctl(id, 2, SETVAL, u);
	c = fork();
	if (c == 0) {
		rc("child: semop(0) waits, then", op(id, 2, 0, 0));
		_exit(0);
	}
	printf("GETZCNT reaches 1: %d\n", wait_count(id, 2, GETZCNT, 1));
	r = op(id, 2, -2, 0);
	waitpid(c, NULL, 0);
	rc("semop(-2)", r);

	/* SEM_UNDO: a child's changes undone when it exits. */
	u.val = 4;
	semctl(id, 1, SETVAL, u);
	c = fork();
	if (c == 0) {
		op(id, 1, 3, SEM_UNDO);
		op(id, 1, -5, SEM_UNDO);
		op(id, 1, 1, 0); /* not undone */
		printf("child: value %d\n", semctl(id, 1, GETVAL));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	rc("after child's SEM_UNDO exit", semctl(id, 1, GETVAL));
	printf("GETPID is the child: %d\n", semctl(id, 1, GETPID) == c);
	/* SETVAL clears a pending adjustment. */
	c = fork();
	if (c == 0) {
		op(id, 1, 2, SEM_UNDO);
		union semun v = {.val = 10};
		semctl(id, 1, SETVAL, v);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	rc("SETVAL cleared the undo", semctl(id, 1, GETVAL));

	/* A signal interrupts a waiter: EINTR, even with SA_RESTART. */
	u.val = 0;
	semctl(id, 0, SETVAL, u);
	c = fork();
	if (c == 0) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		rc("child: semop interrupted", op(id, 0, -1, 0));
		_exit(0);
	}
	printf("GETNCNT reaches 1: %d\n", wait_count(id, 0, GETNCNT, 1));
	kill(c, SIGUSR1);
	waitpid(c, NULL, 0);
	rc("GETNCNT after EINTR", semctl(id, 0, GETNCNT));

	/* stat, set, info. */
	struct semid_ds ds;
	u.buf = &ds;
	rc("IPC_STAT", semctl(id, 0, IPC_STAT, u));
	printf("nsems=%lu mode=%o otime=%s ctime=%s uid_self=%d\n", (unsigned long)ds.sem_nsems,
	       ds.sem_perm.mode, ds.sem_otime ? "set" : "0", ds.sem_ctime ? "set" : "0", ds.sem_perm.uid == geteuid());
	ds.sem_perm.mode = 0640;
	rc("IPC_SET", semctl(id, 0, IPC_SET, u));
	semctl(id, 0, IPC_STAT, u);
	printf("mode now %o\n", ds.sem_perm.mode);
	struct semid_ds kds;
	u.buf = &kds;
	semctl(k1, 0, IPC_STAT, u);
	printf("unused keyed: otime=%s\n", kds.sem_otime ? "set" : "0");
	struct seminfo si;
	u.__buf = &si;
	int mi = semctl(0, 0, IPC_INFO, u);
	printf("IPC_INFO -> %s semmsl=%d semopm=%d semvmx=%d\n", mi >= 0 ? "index" : ename(errno), si.semmsl, si.semopm, si.semvmx);
	mi = semctl(0, 0, SEM_INFO, u);
	printf("SEM_INFO -> %s used>=2 %d\n", mi >= 0 ? "index" : ename(errno), si.semusz >= 2);
	int found = 0;
	u.buf = &ds;
	for (int i = 0; i <= mi && !found; i++)
		if (semctl(i, 0, SEM_STAT, u) == id)
			found = 1;
	printf("SEM_STAT finds it: %d\n", found);
	static char buf[1 << 16];
	if (read_whole("/proc/sysvipc/sem", buf, sizeof buf) >= 0) {
		printf("header %.45s\n", buf);
		for (char *l = strchr(buf, '\n'); l && *l; l = strchr(l, '\n')) {
			int k, sid;
			unsigned mode, ns;
			if (sscanf(++l, "%d %d %o %u", &k, &sid, &mode, &ns) == 4 && sid == id)
				printf("sysvipc: key=%d perms=%o nsems=%u\n", k, mode, ns);
		}
	}

	/* IPC_RMID wakes a waiter with EIDRM. */
	c = fork();
	if (c == 0) {
		rc("child: semop on removed", op(id, 0, -1, 0));
		_exit(0);
	}
	printf("GETNCNT reaches 1: %d\n", wait_count(id, 0, GETNCNT, 1));
	r = semctl(id, 0, IPC_RMID); /* printed after the child's line */
	waitpid(c, NULL, 0);
	rc("IPC_RMID", r);
	rc("GETVAL removed", semctl(id, 0, GETVAL));
	rc("semop removed", op(id, 0, 1, 0));

	/* A read-only set. */
	int ro = semget(key + 2, 1, IPC_CREAT | 0400);
	rc("semop(alter, 0400)", op(ro, 0, 1, IPC_NOWAIT));
	rc("semop(zero, 0400)", op(ro, 0, 0, IPC_NOWAIT));
	rc("IPC_RMID keyed", semctl(k1, 0, IPC_RMID));
	rc("IPC_RMID 0400", semctl(ro, 0, IPC_RMID));
	rc("IPC_RMID again", semctl(ro, 0, IPC_RMID));
	return 0;
}
