//go:build ignore

/* dyn_dlopen: a dynamically linked program (built by images.mk against
 * build/images/lib/libkshimdyn.so, found at run time through
 * LD_LIBRARY_PATH, no rpath) that dlopen()s libm and prints facts about
 * its loading: the interpreter's auxv entries and what dl_iterate_phdr
 * sees. Output is the same every run (no addresses). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int kshimdyn_square(int);
const char *kshimdyn_name(void);

static int objects;

static int count(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	(void)data;
	objects++;
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s: square(7)=%d\n", kshimdyn_name(), kshimdyn_square(7));

	void *h = dlopen("libm.so.6", RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	double (*cosp)(double) = (double (*)(double))dlsym(h, "cos");
	double (*sqrtp)(double) = (double (*)(double))dlsym(h, "sqrt");
	if (!cosp || !sqrtp) {
		printf("dlsym: %s\n", dlerror());
		return 1;
	}
	printf("cos(0)=%.3f sqrt(2)=%.6f\n", cosp(0.0), sqrtp(2.0));
	Dl_info di;
	if (dladdr((void *)cosp, &di) && di.dli_fname)
		printf("cos is in %s\n", strstr(di.dli_fname, "libm.so.6") ? "libm.so.6" : di.dli_fname);

	unsigned long base = getauxval(AT_BASE), entry = getauxval(AT_ENTRY);
	extern void _start(void);
	printf("AT_BASE_set=%d\n", base != 0);
	printf("AT_ENTRY_is_start=%d\n", entry == (unsigned long)&_start);
	printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
	printf("AT_EXECFN_set=%d\n", getauxval(AT_EXECFN) != 0);
	dl_iterate_phdr(count, NULL);
	printf("objects>=5=%d\n", objects >= 5); /* exe, vdso, libkshimdyn, libc, ld.so, libm */
	dlclose(h);
	return 0;
}
