//go:build ignore

/* fs_splice: copy_file_range, splice and tee between files and pipes in a
 * fresh directory under /tmp (kshim needs --rw): whole and partial copies,
 * offsets read and advanced, and the errors for bad fds, flags, offsets
 * on pipes and bad offset pointers; a blocking splice a signal interrupts.
 * Prints facts only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static void show_file(const char *path)
{
	char buf[128];
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("  %s: \"", path);
	for (ssize_t i = 0; i < n; i++)
		putchar(buf[i] >= ' ' && buf[i] < 127 ? buf[i] : '.');
	printf("\"\n");
}

int main(void)
{
	char dir[] = "/tmp/kshim-splice-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) != 0)
		return 1;
	int a = open("a", O_CREAT | O_RDWR, 0644);
	write(a, "0123456789abcdef", 16);
	int b = open("b", O_CREAT | O_RDWR, 0644);
	loff_t oi = 4, oo = 2;
	loff_t *volatile bad = (loff_t *)8;

	rc("copy_file_range 5 at 4 -> 2", copy_file_range(a, &oi, b, &oo, 5, 0));
	printf("  offsets %lld %lld, a's position %ld\n", (long long)oi, (long long)oo, (long)lseek(a, 0, SEEK_CUR));
	show_file("b");
	lseek(a, 10, SEEK_SET);
	rc("copy_file_range from the position", copy_file_range(a, NULL, b, NULL, 100, 0));
	printf("  positions %ld %ld\n", (long)lseek(a, 0, SEEK_CUR), (long)lseek(b, 0, SEEK_CUR));
	show_file("b");
	rc("copy_file_range flags 1", copy_file_range(a, &oi, b, &oo, 1, 1));
	rc("copy_file_range bad fd", copy_file_range(99, NULL, b, NULL, 1, 0));
	rc("copy_file_range bad offset", copy_file_range(a, bad, b, NULL, 1, 0));
	int ro = open("a", O_RDONLY);
	rc("copy_file_range to a read-only fd", copy_file_range(a, &oi, ro, NULL, 1, 0));
	rc("copy_file_range from /proc/self/status", copy_file_range(open("/proc/self/status", O_RDONLY), NULL, b, NULL, 4, 0));

	int p[2], q[2];
	pipe(p);
	pipe(q);
	oi = 3;
	rc("splice file at 3 -> pipe", splice(a, &oi, p[1], NULL, 6, 0));
	printf("  offset %lld\n", (long long)oi);
	rc("tee pipe -> pipe", tee(p[0], q[1], 100, 0));
	oo = 0;
	int c = open("c", O_CREAT | O_RDWR, 0644);
	rc("splice pipe -> file at 0", splice(p[0], NULL, c, &oo, 100, 0));
	printf("  offset %lld\n", (long long)oo);
	show_file("c");
	char buf[16] = {0};
	rc("read the tee'd copy", read(q[0], buf, sizeof buf - 1));
	printf("  \"%s\"\n", buf);
	rc("splice with an offset on a pipe", splice(p[0], &oi, c, NULL, 1, 0));
	rc("splice with a bad offset on a pipe", splice(p[0], bad, c, NULL, 1, 0));
	rc("splice bad offset", splice(a, bad, p[1], NULL, 1, 0));
	rc("splice file -> file", splice(a, NULL, c, NULL, 1, 0));
	rc("splice empty pipe, nonblocking", splice(p[0], NULL, c, NULL, 1, SPLICE_F_NONBLOCK));
	rc("splice bad fd", splice(a, NULL, 99, NULL, 1, 0));
	rc("tee file -> pipe", tee(a, q[1], 1, 0));
	rc("tee empty pipe, nonblocking", tee(p[0], q[1], 1, SPLICE_F_NONBLOCK));
	/* A blocking splice from an empty pipe, ended by a signal from another
	 * process (a handler without SA_RESTART): EINTR. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	pid_t parent = getpid();
	pid_t kid = fork();
	if (kid == 0) {
		usleep(200000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	rc("splice from an empty pipe, interrupted", splice(p[0], NULL, c, NULL, 1, 0));
	printf("  handler ran %d\n", handled);
	waitpid(kid, NULL, 0);
	close(q[0]);
	signal(SIGPIPE, SIG_IGN);
	rc("splice to a pipe with no reader", splice(a, &oi, q[1], NULL, 1, 0));

	unlink("a");
	unlink("b");
	unlink("c");
	chdir("/");
	rmdir(dir);
	return 0;
}
