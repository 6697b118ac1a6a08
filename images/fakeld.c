//go:build ignore

/* fakeld: a minimal program interpreter (no libc; images.mk builds it as a
 * static-pie with -nostdlib). It prints facts about what the kernel handed
 * it, never addresses: argc, whether AT_BASE is its own load address,
 * whether AT_ENTRY is the program's entry point and AT_PHDR its program
 * headers, AT_PHENT, whether AT_EXECFN is argv[0], and exits 0.
 * images/dyn_test.go makes it the PT_INTERP of a patched program. */
#include <elf.h>
#include <stddef.h>

extern const Elf64_Ehdr __ehdr_start __attribute__((visibility("hidden")));

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void put(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	sys3(1, 1, (long)s, (long)n);
}

static void putnum(const char *key, unsigned long v)
{
	char buf[24];
	int i = sizeof buf;
	buf[--i] = 0;
	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(key);
	put(buf + i);
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void cstart(unsigned long *sp)
{
	long argc = (long)sp[0];
	char **argv = (char **)(sp + 1);
	char **e = argv + argc + 1;
	while (*e)
		e++;
	unsigned long base = 0, entry = 0, phdr = 0, phnum = 0, phent = 0, execfn = 0;
	for (Elf64_auxv_t *av = (Elf64_auxv_t *)(e + 1); av->a_type != AT_NULL; av++) {
		unsigned long v = av->a_un.a_val;
		if (av->a_type == AT_BASE)
			base = v;
		else if (av->a_type == AT_ENTRY)
			entry = v;
		else if (av->a_type == AT_PHDR)
			phdr = v;
		else if (av->a_type == AT_PHNUM)
			phnum = v;
		else if (av->a_type == AT_PHENT)
			phent = v;
		else if (av->a_type == AT_EXECFN)
			execfn = v;
	}
	putnum("argc=", (unsigned long)argc);
	putnum("AT_BASE_is_interpreter=", base == (unsigned long)&__ehdr_start);
	putnum("AT_PHENT=", phent);
	/* The program's load bias from its PT_PHDR, then its ELF header. */
	const Elf64_Phdr *ph = (const Elf64_Phdr *)phdr;
	unsigned long bias = 0, found = 0, hdr = 0;
	for (unsigned long i = 0; ph && i < phnum; i++)
		if (ph[i].p_type == PT_PHDR)
			bias = phdr - ph[i].p_vaddr, found = 1;
	for (unsigned long i = 0; found && i < phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			hdr = bias + ph[i].p_vaddr;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)hdr;
	putnum("AT_PHDR_is_program=", hdr && eh->e_ident[1] == 'E' && hdr + eh->e_phoff == phdr);
	putnum("AT_ENTRY_is_program=", hdr && entry == bias + eh->e_entry);
	putnum("AT_EXECFN_is_argv0=", execfn && same((const char *)execfn, argv[0]));
	sys3(231, 0, 0, 0); /* exit_group */
}

__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall cstart\n\thlt\n");
