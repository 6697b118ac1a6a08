//go:build ignore

/* sysv_shm.c - System V shared memory (kshim's syscalls/ipc/shm.go):
 * shmget's keys, flags and errors, shmat at a chosen or free address,
 * read-only and remapping attachments, a fork child sharing the pages,
 * shmdt, IPC_RMID's deferred destroy, shmctl's stat/set, exec and exit
 * detaching, /proc/self/maps and /proc/sysvipc/shm.  Ids, addresses,
 * pids and times vary between runs, so only their relations are printed. */
#define _GNU_SOURCE
#include <sys/ipc.h>
#include <sys/shm.h>
#include <stdint.h>
#include "common.h"

static struct shmid_ds st;

static void stat_line(const char *what, int id)
{
	int r = shmctl(id, IPC_STAT, &st);
	if (r < 0) {
		printf("%s: IPC_STAT -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: key=%s size=%zu mode=%o nattch=%lu cpid_self=%d lpid=%s uid_self=%d cuid_self=%d atime=%s dtime=%s ctime=%s\n",
	       what, st.shm_perm.__key == IPC_PRIVATE ? "private" : "set", st.shm_segsz,
	       st.shm_perm.mode, (unsigned long)st.shm_nattch, st.shm_cpid == getpid(),
	       st.shm_lpid == 0 ? "0" : st.shm_lpid == getpid() ? "self" : "other",
	       st.shm_perm.uid == geteuid(), st.shm_perm.cuid == geteuid(),
	       st.shm_atime ? "set" : "0", st.shm_dtime ? "set" : "0", st.shm_ctime ? "set" : "0");
}

/* maps_line prints the /proc/self/maps line starting at p: its length,
 * permissions and name. */
static void maps_line(const char *what, void *p, key_t key)
{
	static char buf[1 << 16];
	if (read_whole("/proc/self/maps", buf, sizeof buf) < 0) {
		printf("%s: maps -> %s\n", what, ename(errno));
		return;
	}
	char want[32];
	snprintf(want, sizeof want, "%lx-", (unsigned long)p);
	for (char *l = buf; *l; ) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(l, want, strlen(want)) == 0) {
			unsigned long a, b;
			char perms[8];
			int off = 0;
			sscanf(l, "%lx-%lx %7s %*s %*s %*s%n", &a, &b, perms, &off);
			char *name = l + off;
			while (*name == ' ')
				name++;
			char keyed[64];
			snprintf(keyed, sizeof keyed, "/SYSV%08x (deleted)", (unsigned)key);
			printf("%s: maps len=%lu %s %s\n", what, b - a, perms,
			       strcmp(name, keyed) == 0 ? "/SYSV<key> (deleted)" : name);
			return;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	printf("%s: maps: no line\n", what);
}

/* sysvipc_line prints /proc/sysvipc/shm's columns for id that do not vary. */
static void sysvipc_line(const char *what, int id)
{
	static char buf[1 << 16];
	if (read_whole("/proc/sysvipc/shm", buf, sizeof buf) < 0) {
		printf("%s: sysvipc -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: header %.40s\n", what, buf);
	for (char *l = strchr(buf, '\n'); l && *l; l = strchr(l, '\n')) {
		l++;
		int key, sid, cpid, lpid;
		unsigned mode, uid;
		unsigned long size, nattch;
		if (sscanf(l, "%d %d %o %lu %d %d %lu %u", &key, &sid, &mode, &size, &cpid, &lpid, &nattch, &uid) != 8)
			continue;
		if (sid != id)
			continue;
		printf("%s: sysvipc key=%d perms=%o size=%lu cpid_self=%d nattch=%lu uid_self=%d\n",
		       what, key, mode, size, cpid == getpid(), nattch, uid == geteuid());
		return;
	}
	printf("%s: sysvipc: no line\n", what);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		/* After exec: the parent's attachment only. */
		int id = atoi(argv[2]);
		if (shmctl(id, IPC_STAT, &st) == 0)
			printf("exec child: nattch=%lu\n", (unsigned long)st.shm_nattch);
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	catch_faults();

	/* Creation and its errors. */
	errno = 0;
	rc("shmget(PRIVATE, 0)", shmget(IPC_PRIVATE, 0, 0600));
	rc("shmget(PRIVATE, huge)", shmget(IPC_PRIVATE, SIZE_MAX, 0600));
	int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
	printf("shmget(PRIVATE, 10000) -> %s\n", id >= 0 ? "id" : ename(errno));
	int id2 = shmget(IPC_PRIVATE, 10000, 0600);
	printf("second private segment: %s\n", id2 >= 0 && id2 != id ? "another id" : "?");
	stat_line("new", id);

	key_t key = 0x5a000000 | (getpid() & 0xffffff);
	int k1 = shmget(key, 4096, IPC_CREAT | 0600);
	printf("shmget(key, CREAT) -> %s\n", k1 >= 0 ? "id" : ename(errno));
	rc("shmget(key, CREAT|EXCL)", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
	printf("shmget(key, 0) same id: %d\n", shmget(key, 0, 0) == k1);
	printf("shmget(key, 100, CREAT) same id: %d\n", shmget(key, 100, IPC_CREAT | 0600) == k1);
	rc("shmget(key, 8192)", shmget(key, 8192, 0));
	rc("shmget(key+1, 0) absent", shmget(key + 1, 4096, 0));
	stat_line("keyed", k1);

	/* Permissions: a read-only segment. */
	int ro = shmget(key + 2, 4096, IPC_CREAT | 0400);
	printf("shmget(0400) -> %s\n", ro >= 0 ? "id" : ename(errno));
	errno = 0;
	void *rp = shmat(ro, NULL, 0);
	printf("shmat(0400 segment, rw) -> %s\n", rp == (void *)-1 ? ename(errno) : "attached");
	if (rp != (void *)-1)
		shmdt(rp);
	rc("shmget(key 0400, 0600)", shmget(key + 2, 0, 0600) == ro ? 0 : -1);
	rp = shmat(ro, NULL, SHM_RDONLY);
	printf("shmat(0400 segment, RDONLY) -> %s\n", rp == (void *)-1 ? ename(errno) : "attached");
	if (rp != (void *)-1) {
		printf("read: %s write: %s\n", probe_read(rp), probe_write(rp));
		show("mprotect(RDONLY attachment, RW)", mprotect(rp, 4096, PROT_READ | PROT_WRITE));
		maps_line("rdonly", rp, key + 2);
		show("shmdt(rdonly)", shmdt(rp));
	}

	/* Attach, write, read in a fork child. */
	char *p = shmat(id, NULL, 0);
	printf("shmat(NULL) -> %s\n", p == (void *)-1 ? ename(errno) : "attached");
	if (p == (void *)-1)
		return 1;
	printf("fresh segment zero: %d\n", all_is(p, 10000, 0));
	stat_line("attached", id);
	maps_line("attached", p, IPC_PRIVATE);
	sysvipc_line("attached", id);
	memset(p, 'a', 10000);
	pid_t c = fork();
	if (c == 0) {
		printf("child sees parent's write: %d\n", all_is(p, 10000, 'a'));
		stat_line("child", id);
		memset(p, 'b', 100);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("parent sees child's write: %d\n", all_is(p, 100, 'b'));
	stat_line("after child exit", id);

	/* exec detaches the child's inherited attachment. */
	c = fork();
	if (c == 0) {
		char ids[16];
		snprintf(ids, sizeof ids, "%d", id);
		execl("/proc/self/exe", argv[0], "exec", ids, (char *)NULL);
		_exit(127);
	}
	waitpid(c, NULL, 0);

	/* A second attachment of the same segment shares its pages. */
	char *q = shmat(id, NULL, 0);
	printf("second attachment shares: %d\n", q != (void *)-1 && q != p && q[5000] == 'a');
	stat_line("two attachments", id);
	shmdt(q);

	/* shmat at a given address, SHM_RND, SHM_REMAP. */
	char *hole = free_range(8 * PG);
	errno = 0;
	rc("shmat(unaligned)", (long)shmat(id, hole + 1, 0) == -1 ? -1 : 0);
	char *r = shmat(id, hole + 1, SHM_RND);
	printf("shmat(unaligned, RND) at rounded: %d\n", r == hole);
	rc("shmat(NULL, REMAP)", (long)shmat(id, NULL, SHM_REMAP) == -1 ? -1 : 0);
	rc("shmat(over attachment)", (long)shmat(id, hole, 0) == -1 ? -1 : 0);
	char *filler = mmap(hole + 4 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	rc("shmat(over other mapping)", (long)shmat(id, hole + 2 * PG, 0) == -1 ? -1 : 0);
	char *rm = shmat(id, hole + 2 * PG, SHM_REMAP);
	printf("shmat(REMAP) at address: %d, content %c\n", rm == hole + 2 * PG, rm != (void *)-1 ? rm[1] : '?');
	(void)filler;
	stat_line("rounded+remapped", id);
	show("shmdt(unaligned)", shmdt(r + 1));
	show("shmdt(middle)", shmdt(r + PG));
	show("shmdt(rounded)", shmdt(r));
	show("shmdt(rounded) again", shmdt(r));
	show("shmdt(remapped)", shmdt(rm));
	show("shmdt(not shm)", shmdt(hole + 6 * PG));
	show("mprotect after shmdt", mprotect(hole + 2 * PG, PG, PROT_READ));

	/* shmctl. */
	rc("shmctl(-1, IPC_STAT)", shmctl(-1, IPC_STAT, &st));
	rc("shmctl(bad id, IPC_STAT)", shmctl(id + 1000000, IPC_STAT, &st));
	rc("shmctl(id, 99)", shmctl(id, 99, &st));
	rc("shmctl(IPC_STAT, bad buf)", shmctl(id, IPC_STAT, (void *)16));
	shmctl(id, IPC_STAT, &st);
	st.shm_perm.mode = 0640;
	show("shmctl(IPC_SET 0640)", shmctl(id, IPC_SET, &st));
	stat_line("set", id);
	struct shminfo info;
	int mi = shmctl(0, IPC_INFO, (void *)&info);
	printf("IPC_INFO -> %s shmmin=%lu\n", mi >= 0 ? "index" : ename(errno), info.shmmin);
	struct shm_info sinfo;
	mi = shmctl(0, SHM_INFO, (void *)&sinfo);
	printf("SHM_INFO -> %s used>=3 %d\n", mi >= 0 ? "index" : ename(errno), sinfo.used_ids >= 3);
	/* SHM_STAT takes an index and gives the id. */
	int found = 0;
	for (int i = 0; i <= mi && !found; i++)
		if (shmctl(i, SHM_STAT, &st) == id)
			found = 1;
	printf("SHM_STAT finds the segment: %d\n", found);

	/* IPC_RMID while attached: kept until the last detach. */
	show("shmctl(IPC_RMID) attached", shmctl(id, IPC_RMID, NULL));
	stat_line("removed", id);
	sysvipc_line("removed", id);
	printf("memory still there: %d\n", p[9999] == 'a');
	rc("shmget(PRIVATE) after", (c = shmget(IPC_PRIVATE, 10, 0600)) >= 0 ? 0 : -1);
	shmctl(c, IPC_RMID, NULL);
	show("shmdt(last)", shmdt(p));
	stat_line("detached", id);
	rc("shmat(destroyed)", (long)shmat(id, NULL, 0) == -1 ? -1 : 0);

	/* IPC_RMID of an unattached segment, then the keyed ones. */
	show("IPC_RMID(second)", shmctl(id2, IPC_RMID, NULL));
	stat_line("second", id2);
	show("IPC_RMID(keyed)", shmctl(k1, IPC_RMID, NULL));
	rc("shmget(key) after remove", shmget(key, 0, 0));
	show("IPC_RMID(0400)", shmctl(ro, IPC_RMID, NULL));
	show("IPC_RMID(again)", shmctl(ro, IPC_RMID, NULL));

	/* A segment attached in a child that exits: exit detaches. */
	int id3 = shmget(IPC_PRIVATE, 4096, 0600);
	c = fork();
	if (c == 0) {
		char *x = shmat(id3, NULL, 0);
		x[0] = 'z';
		shmctl(id3, IPC_RMID, NULL);
		_exit(x == (void *)-1);
	}
	waitpid(c, NULL, 0);
	stat_line("child attached, removed, exited", id3);
	return 0;
}
