//go:build ignore

/* auxv: the auxiliary vector and initial stack layout the loader builds.
 * Prints facts (relations), never raw addresses. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern const ElfW(Ehdr) __ehdr_start;
extern void _start(void);
extern char **environ;

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled = 1;
}

static const ElfW(Phdr) *iter_phdr;
static int iter_phnum = -1;

static int cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	iter_phdr = info->dlpi_phdr;
	iter_phnum = info->dlpi_phnum;
	return 1; /* first object only: the executable */
}

int main(int argc, char **argv)
{
	/* Capture the original envp before anything can change environ. */
	char **envp = environ;
	int fail = 0;

	printf("argv_null_terminated=%d\n", argv[argc] == NULL);
	printf("envp_follows_argv=%d\n", envp == &argv[argc + 1]);

	/* Walk to the auxv that follows envp's NULL terminator. */
	char **e = envp;
	while (*e)
		e++;
	ElfW(auxv_t) *av = (ElfW(auxv_t) *)(e + 1);
	int n = 0, walk_ok = 1;
	unsigned long raw_hwcap = 0, required = 0;
	for (; av[n].a_type != AT_NULL && n < 256; n++) {
		unsigned long t = av[n].a_type;
		if (t < 64)
			required |= 1ul << t;
		/* Static glibc replaces AT_HWCAP (getauxval returns its own
		 * HWCAP_X86_64 bits), so compare everything else. */
		if (t == AT_HWCAP) {
			raw_hwcap = av[n].a_un.a_val;
			continue;
		}
		if (t == AT_HWCAP2)
			continue;
		if (getauxval(t) != av[n].a_un.a_val)
			walk_ok = 0;
	}
	printf("auxv_terminated=%d\n", n < 256);
	printf("auxv_walk_matches_getauxval=%d\n", walk_ok);
	/* The entries a static glibc program needs, each present. */
	static const int need[] = {AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY,
				   AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE,
				   AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_HWCAP, AT_CLKTCK};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!(required & (1ul << need[i])))
			printf("missing auxv entry type %d\n", need[i]);
	printf("auxv_aligned8=%d\n", ((uintptr_t)av & 7) == 0);

	unsigned long pagesz = getauxval(AT_PAGESZ);
	printf("AT_PAGESZ=%lu\n", pagesz);
	printf("AT_PAGESZ_eq_sysconf=%d\n", (long)pagesz == sysconf(_SC_PAGESIZE));

	const ElfW(Phdr) *want_phdr =
		(const ElfW(Phdr) *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
	unsigned long phdr = getauxval(AT_PHDR);
	printf("AT_PHDR_eq_ehdr_phoff=%d\n", phdr == (uintptr_t)want_phdr);
	dl_iterate_phdr(cb, NULL);
	printf("AT_PHDR_eq_dl_iterate_phdr=%d\n", phdr == (uintptr_t)iter_phdr);
	printf("AT_PHNUM_eq_e_phnum=%d\n", getauxval(AT_PHNUM) == __ehdr_start.e_phnum);
	printf("dl_iterate_phnum_eq_e_phnum=%d\n", iter_phnum == __ehdr_start.e_phnum);
	printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
	printf("AT_ENTRY_eq__start=%d\n", getauxval(AT_ENTRY) == (uintptr_t)&_start);
	printf("AT_ENTRY_eq_e_entry=%d\n", getauxval(AT_ENTRY) == __ehdr_start.e_entry);
	printf("AT_BASE=%lu\n", getauxval(AT_BASE)); /* 0: no interpreter */

	unsigned long rnd = getauxval(AT_RANDOM);
	printf("AT_RANDOM_nonnull=%d\n", rnd != 0);
	if (rnd) {
		/* Must be readable; the 16 bytes should not all be zero. */
		const unsigned char *r = (const unsigned char *)rnd;
		int nz = 0;
		for (int i = 0; i < 16; i++)
			nz |= r[i];
		printf("AT_RANDOM_readable=1\n");
		printf("AT_RANDOM_not_all_zero=%d\n", nz != 0);
	}

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN_eq_argv0=%d\n", execfn && strcmp(execfn, argv[0]) == 0);
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	printf("AT_PLATFORM=%s\n", plat ? plat : "(null)");

	printf("AT_UID_eq_getuid=%d\n", getauxval(AT_UID) == getuid());
	printf("AT_EUID_eq_geteuid=%d\n", getauxval(AT_EUID) == geteuid());
	printf("AT_GID_eq_getgid=%d\n", getauxval(AT_GID) == getgid());
	printf("AT_EGID_eq_getegid=%d\n", getauxval(AT_EGID) == getegid());
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
	printf("AT_HWCAP_nonzero=%d\n", raw_hwcap != 0);
	printf("AT_HWCAP_has_fpu_tsc_sse2=%d\n", (raw_hwcap & 0x04000011ul) == 0x04000011ul);
	/* Linux passes CPUID leaf 1's EDX, as the program's own CPUID finds
	 * it (on PVM that is the host's, HTT included, not the vCPU's table). */
	unsigned ca, cb, cc, cd;
	__cpuid(1, ca, cb, cc, cd);
	printf("AT_HWCAP_eq_cpuid1_edx=%d\n", raw_hwcap == cd);

	/* AT_EXECFN and AT_PLATFORM strings live on the stack above the
	 * vectors (the kernel copies them there). */
	printf("AT_EXECFN_above_auxv=%d\n", (uintptr_t)execfn > (uintptr_t)&av[n]);
	printf("AT_RANDOM_above_auxv=%d\n", rnd > (uintptr_t)&av[n]);

	/* AT_MINSIGSTKSZ (ARCH_DLINFO: first, or after the vDSO's entry): an
	 * alternate stack that size holds a signal frame (the figure is the
	 * kernel's own: not compared). */
	unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
	printf("AT_MINSIGSTKSZ_at_least_2048=%d\n", minsig >= 2048);
	int ms = av[0].a_type == AT_SYSINFO_EHDR ? 1 : 0;
	printf("AT_MINSIGSTKSZ_first_after_vdso=%d\n", n > ms && av[ms].a_type == AT_MINSIGSTKSZ);
	if (minsig >= 2048) {
		stack_t ss = {.ss_sp = malloc(minsig), .ss_size = minsig};
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
		sigaction(SIGUSR1, &sa, NULL);
		printf("sigaltstack_of_AT_MINSIGSTKSZ=%d\n", sigaltstack(&ss, NULL));
		raise(SIGUSR1); /* a frame that did not fit: SIGSEGV */
		printf("frame_fits_AT_MINSIGSTKSZ=%d\n", (int)handled);
	}

	if (pagesz != 4096)
		fail = 1;
	return fail;
}
