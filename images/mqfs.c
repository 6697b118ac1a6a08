//go:build ignore

/* mqfs.c DIR [mount UID GID] - the mqueue file system mounted at DIR (kshim's
 * syscalls/ipc/mqfs.go): queues as files (listing, stat, the QSIZE line),
 * open(2) of a queue file as a queue descriptor, O_CREAT making a queue,
 * unlink as mq_unlink, what the directory refuses, and its mountinfo line.
 * Natively (images/mqueue_test.go) it starts as root in private IPC and
 * mount namespaces, mounts an mqueue file system at DIR itself ("mount")
 * and becomes UID:GID, the guest's identity; ids are printed as
 * relations. */
#define _GNU_SOURCE
#include <dirent.h>
#include <mqueue.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "common.h"

static const char *dir;

static char *at(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static void list(const char *what)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s: opendir -> %s\n", what, ename(errno));
		return;
	}
	char names[64][64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(names[n++], 64, "%.50s%s", e->d_name, e->d_type == DT_REG ? "(reg)" : "(?)");
	closedir(d);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void st(const char *what, const char *path)
{
	struct stat s;
	if (stat(path, &s) < 0) {
		printf("stat %s -> %s\n", what, ename(errno));
		return;
	}
	printf("stat %s: mode %o nlink %lu size %ld uid %s gid %s blksize %ld\n", what, s.st_mode, (unsigned long)s.st_nlink,
	       (long)s.st_size, s.st_uid == 0 ? "root" : s.st_uid == getuid() ? "mine" : "other",
	       s.st_gid == 0 ? "root" : s.st_gid == getgid() ? "mine" : "other", (long)s.st_blksize);
}

static void fst(const char *what, int fd)
{
	struct stat s;
	if (fstat(fd, &s) < 0) {
		printf("fstat %s -> %s\n", what, ename(errno));
		return;
	}
	printf("fstat %s: mode %o nlink %lu size %ld\n", what, s.st_mode, (unsigned long)s.st_nlink, (long)s.st_size);
}

static void line(const char *what, int fd)
{
	char buf[128] = "";
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0)
		printf("%s: read -> %s\n", what, ename(errno));
	else
		printf("%s: %s", what, buf);
}

static void getattr(const char *what, mqd_t q)
{
	struct mq_attr a;
	if (mq_getattr(q, &a) < 0) {
		printf("%s: getattr -> %s\n", what, ename(errno));
		return;
	}
	printf("%s: maxmsg=%ld msgsize=%ld curmsgs=%ld\n", what, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs);
}

/* count_queues makes tiny queues until the namespace refuses one, prints
 * how many and why, and removes them. */
static void count_queues(const char *what, struct mq_attr *a)
{
	char nm[32];
	int n = 0;
	for (; n < 2000; n++) {
		snprintf(nm, sizeof nm, "/f%d", n);
		mqd_t q = mq_open(nm, O_RDONLY | O_CREAT | O_EXCL, 0600, a);
		if (q < 0) {
			printf("%s: %d, then %s\n", what, n, ename(errno));
			break;
		}
		mq_close(q);
	}
	for (int i = 0; i < n; i++) {
		snprintf(nm, sizeof nm, "/f%d", i);
		mq_unlink(nm);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc != 2 && (argc != 5 || strcmp(argv[2], "mount")))
		return 2;
	dir = argv[1];
	if (argc == 5) {
		gid_t g = atoi(argv[4]);
		if (mount("mqueue", dir, "mqueue", 0, NULL) < 0 || setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 ||
		    setresuid(atoi(argv[3]), atoi(argv[3]), atoi(argv[3])) < 0) {
			perror("mount and drop");
			return 2;
		}
	}
	list("empty");
	st("dir", dir);
	struct mq_attr a = {.mq_maxmsg = 3, .mq_msgsize = 64};
	mqd_t qa = mq_open("/a", O_RDWR | O_CREAT, 0640, &a);
	mqd_t qb = mq_open("/b", O_RDWR | O_CREAT, 0600, &a);
	okay("mq_open /a", qa);
	okay("mq_open /b", qb);
	list("two queues");
	st("dir", dir);
	st("a", at("a"));
	mq_send(qa, "hello", 5, 1);
	mq_send(qa, "queue file", 10, 2);
	int fd = open(at("a"), O_RDONLY);
	okay("open a O_RDONLY", fd);
	line("a's file", fd);
	getattr("a's file as a queue", fd);
	char buf[64] = "";
	unsigned prio;
	ssize_t n = mq_receive(fd, buf, sizeof buf, &prio);
	printf("mq_receive on it -> %zd prio %u \"%.*s\"\n", n, prio, (int)(n > 0 ? n : 0), buf);
	show("mq_send on it (O_RDONLY)", mq_send(fd, "x", 1, 0));
	printf("FD_CLOEXEC %s\n", fcntl(fd, F_GETFD) & FD_CLOEXEC ? "set" : "not set");
	fst("a's file", fd);
	fst("mq_open's /a", qa);
	rc("write(2) to a O_RDWR", write(qa, "x", 1));
	close(fd);
	fd = open(at("c"), O_RDWR | O_CREAT, 0644);
	okay("open c O_CREAT", fd);
	getattr("c", fd);
	st("c", at("c"));
	mqd_t qc = mq_open("/c", O_RDWR);
	okay("mq_open /c", qc);
	close(fd);
	mq_close(qc);
	rc("open c O_CREAT|O_EXCL", open(at("c"), O_RDWR | O_CREAT | O_EXCL, 0644));
	rc("open nothere", open(at("nothere"), O_RDONLY));
	rc("open dir O_WRONLY", open(dir, O_WRONLY));
	rc("open a/x", open(at("a/x"), O_RDONLY));
	rc("open a/", open(at("a/"), O_RDONLY));
	mqd_t qp = mq_open("/p", O_RDWR | O_CREAT, 0200, &a);
	rc("open p (0200) O_RDONLY", open(at("p"), O_RDONLY));
	fd = open(at("p"), O_WRONLY);
	okay("open p O_WRONLY", fd);
	close(fd);
	mq_close(qp);
	show("unlink b", unlink(at("b")));
	rc("mq_open /b", mq_open("/b", O_RDWR));
	fst("b after unlink", qb);
	show("mq_send to unlinked b", mq_send(qb, "x", 1, 0));
	show("unlink b again", unlink(at("b")));
	show("rmdir a", rmdir(at("a")));
	show("mkdir d", mkdir(at("d"), 0755));
	show("symlink", symlink("a", at("l")));
	show("rename a", rename(at("a"), at("z")));
	show("mq_unlink /c", mq_unlink("/c"));
	list("after unlinks");
	st("dir", dir);
	struct statfs sf;
	if (statfs(dir, &sf) == 0)
		printf("statfs dir: type %lx bsize %ld namelen %ld flags %lx\n", (long)sf.f_type, (long)sf.f_bsize,
		       (long)sf.f_namelen, (long)sf.f_flags);
	if (fstatfs(qa, &sf) == 0)
		printf("fstatfs /a: type %lx\n", (long)sf.f_type);
	/* The mount as /proc/self/mountinfo lists it. */
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char l[1024];
	while (f && fgets(l, sizeof l, f)) {
		char mp[512], opts[256];
		if (sscanf(l, "%*d %*d %*s %*s %511s %255s", mp, opts) == 2 && !strcmp(mp, dir)) {
			char *tail = strstr(l, " - ");
			printf("mountinfo: %s%s", opts, tail ? tail : "\n");
		}
	}
	if (f)
		fclose(f);
	/* An open(2) of a queue file with no fd free (EMFILE) leaves no
	 * description behind: once unlinked, the queue is gone and no longer
	 * counts against queues_max (as many queues can be made after as
	 * before). */
	struct mq_attr tiny = {.mq_maxmsg = 1, .mq_msgsize = 1};
	count_queues("queues made before", &tiny);
	mqd_t qm = mq_open("/m", O_RDONLY | O_CREAT | O_EXCL, 0600, &tiny);
	okay("mq_open /m", qm);
	mq_close(qm);
	struct rlimit nofile;
	getrlimit(RLIMIT_NOFILE, &nofile);
	int next = open("/dev/null", O_RDONLY);
	close(next);
	struct rlimit none = {.rlim_cur = next, .rlim_max = nofile.rlim_max};
	setrlimit(RLIMIT_NOFILE, &none);
	show("open m with no fd free", open(at("m"), O_RDONLY));
	setrlimit(RLIMIT_NOFILE, &nofile);
	show("unlink m", unlink(at("m")));
	count_queues("queues made after", &tiny);
	mq_unlink("/a");
	mq_unlink("/p");
	list("at the end");
	return 0;
}
