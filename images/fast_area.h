/* fast_area.h: kshim's fast syscall area as user code sees it (a per-vCPU
 * page at a kernel-half address; boot/layout.go FastArea and its fields,
 * vmm/fast.go), for the programs that write it by hand. Natively the
 * address is kernel memory: these programs run under kshim only. */
#ifndef KSHIM_FAST_AREA_H
#define KSHIM_FAST_AREA_H

#include <stdint.h>

#define FAST_AREA 0xffffffff80068000UL
#define FA_SEQ 0x00    /* request number, incremented to post */
#define FA_NR 0x08     /* RAX */
#define FA_ARGS 0x10   /* RDI, RSI, RDX, R10, R8, R9 */
#define FA_RCX 0x40    /* the user's RIP */
#define FA_R11 0x48    /* the user's RFLAGS */
#define FA_RSP 0x50
#define FA_BUDGET 0x58 /* spins left in the stub's wait */
#define FA_DONE 0x80   /* the request number answered */
#define FA_RESULT 0x88
#define FA_AWAKE 0xc0  /* a byte: a server takes requests */
#define FA_SPINS 0xc8  /* the wait's budget */

/* fast_post posts request seq by hand: call nr with args a, answered as
 * if made at rip with RSP rsp and RFLAGS 0x202; the number goes last, as
 * the stub writes it. */
static inline void fast_post(volatile uint64_t *fa, uint64_t seq, uint64_t nr, const uint64_t a[6],
			     uint64_t rip, uint64_t rsp)
{
	fa[FA_NR / 8] = nr;
	for (int i = 0; i < 6; i++)
		fa[FA_ARGS / 8 + i] = a[i];
	fa[FA_RCX / 8] = rip;
	fa[FA_R11 / 8] = 0x202;
	fa[FA_RSP / 8] = rsp;
	fa[FA_SEQ / 8] = seq;
}

#endif
