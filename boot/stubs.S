/*
 * Guest-side trap stubs of kshim. The VMM loads two pages of this code into
 * every guest: .text.kernel (supervisor only) and .text.user (U bit set,
 * read+exec), at the addresses in layout.go. Run `go generate ./boot` after
 * editing; stubs_gen.go holds the assembled bytes and the label offsets.
 *
 * Conventions the VMM relies on (keep layout.go and vmm/ in step):
 *  - Every exception vector enters on the IST1 stack and pushes, below the
 *    CPU's iret frame: error code (0 when the CPU pushes none), vector, the
 *    interrupted RAX, then CR2. It then exits with `out` to PORT_EXCEPTION;
 *    RSP at that exit points at CR2.
 *  - Before returning with iretq, every path runs kflush, which applies the
 *    page-table writes the VMM queued in the flush area (see ept/flush.go);
 *    the user flush stubs reach it with a deliberate #UD.
 *    Guest-side writes are how present PTEs change: a shadow MMU only sees
 *    changes the guest itself makes to its page tables.
 *  - The syscall entry is one `out` to PORT_SYSCALL. Where `syscall` arrives
 *    at CPL 3 (PVM), the VMM resumes the user directly at RCX/R11 and the
 *    sysretq after it is never reached; at CPL 0 (VMX/SVM) the VMM lets the
 *    stub run on to sysretq.
 */
#define PORT_SYSCALL   0xE0
#define PORT_EXCEPTION 0xE1
#define PORT_BOOT      0xE2

#define FLUSH_AREA 0xffffffff80010000 /* layout.go: FlushArea */
#define UFLUSH_FIRST 0xffffffff80001010 /* layout.go: UserText + 0x10 */
#define FLUSH_TOKEN 0xffffffff80064000 /* layout.go: FlushToken */
#define FAST_AREA 0xffffffff80068000 /* layout.go: FastArea and its fields */
#define FA_SEQ    FAST_AREA+0x00
#define FA_NR     FAST_AREA+0x08
#define FA_ARGS   FAST_AREA+0x10
#define FA_RCX    FAST_AREA+0x40
#define FA_R11    FAST_AREA+0x48
#define FA_RSP    FAST_AREA+0x50
#define FA_BUDGET FAST_AREA+0x58
#define FA_VIA    FAST_AREA+0x60
#define FA_DONE   FAST_AREA+0x80
#define FA_RESULT FAST_AREA+0x88
#define FA_FLAG   FAST_AREA+0x90
#define FA_AWAKE  FAST_AREA+0xc0
#define FA_SPINS  FAST_AREA+0xc8
#define FA_BITMAP FAST_AREA+0x100
/* RFLAGS bits ufast cannot give back at CPL 3 without a stack (popfq):
 * TF, DF, NT, AC. A syscall made with any of them set takes the exit. */
#define FAST_SLOWFLAGS 0x44500

	.intel_syntax noprefix
	.code64

	.section .text.kernel, "ax"
	.globl kbase
kbase:

/* Exception vectors: 32 entries of 16 bytes each. Each pushes the error
 * code (0 when the CPU pushes none), the vector, RAX and CR2 and exits
 * itself: on PVM every instruction here is emulated (~1 µs each), so no
 * shared tail. The VMM resumes the vCPU at kretiret or kret with RSP at
 * the iret frame (vmm/run.go); the jmp after the out is never reached
 * from there. #UD goes to kud first: it may be a flush request. */
.macro VEC n, haserr
	.balign 16
	.if \n == 6
	push 0
	push \n
	jmp kud
	.else
	.if \haserr == 0
	push 0
	.endif
	push \n
	push rax
	mov rax, cr2
	push rax
	out PORT_EXCEPTION, al
	jmp kexcresume
	.endif
.endm
	.globl kvectors
kvectors:
	VEC 0,0
	VEC 1,0
	VEC 2,0
	VEC 3,0
	VEC 4,0
	VEC 5,0
	VEC 6,0
	VEC 7,0
	VEC 8,1
	VEC 9,0
	VEC 10,1
	VEC 11,1
	VEC 12,1
	VEC 13,1
	VEC 14,1
	VEC 15,0
	VEC 16,0
	VEC 17,1
	VEC 18,0
	VEC 19,0
	VEC 20,0
	VEC 21,1
	VEC 22,0
	VEC 23,0
	VEC 24,0
	VEC 25,0
	VEC 26,0
	VEC 27,0
	VEC 28,0
	VEC 29,1
	VEC 30,1
	VEC 31,0

	.balign 16
kud:
	/* #UD on one of the flush stubs is a request, not a fault: apply the
	 * flush area and return where the request says. No VMM exit. Only
	 * the VMM sends a vCPU there, and first it stores in this vCPU's
	 * token where the vCPU goes on (the user's RIP, or the instruction
	 * after the stub's ud2); the request takes it. Without one, a program
	 * jumped into the stub page itself: an exception like any other (the
	 * VMM makes it the fault a jump to kernel memory gives). */
	push rax
	mov rax, [rsp+24]
	sub rax, UFLUSH_FIRST
	cmp rax, 0x30
	jae 1f
	test al, 0xf
	jnz 1f
	xor eax, eax
	xchg rax, [FLUSH_TOKEN]
	test rax, rax
	jz 1f
	mov [rsp+24], rax
	pop rax
	add rsp, 16
	jmp kret
1:
	mov rax, cr2
	push rax
	out PORT_EXCEPTION, al
	.globl kexcresume
kexcresume:
	add rsp, 8          /* drop CR2 */
	pop rax
	add rsp, 16         /* drop vector and error code */
	jmp kret

/* FLUSH1_VALUES: kflush1's and kflush1r's first half, the one record's
 * values written with one rep movsq (rsi, rdi and rcx saved). */
.macro FLUSH1_VALUES
	push rsi
	push rdi
	push rcx
	cld
	mov rdi, [FLUSH_AREA+16]
	mov rcx, [FLUSH_AREA+24]
	mov rsi, FLUSH_AREA+40
	rep movsq
.endm

/* kflush1 and kflush1r: the same as kret when the flush area holds one
 * record and nothing else (the VMM checks: ept.FlushQueue.Single), in
 * about half the instructions, each emulated on PVM: the record's values
 * with one rep movsq, then invlpg of its pages (kflush1) or a CR3 reload
 * (kflush1r, which takes the full-flush flag), the count cleared, and
 * then kret, whose kflush finds nothing left unless the flag was set
 * while this vCPU was stopped here (a kick), which it then applies. With
 * nothing but the iret frame on the stack.
 * Clearing the count with a plain store is right because records are
 * queued only by this vCPU's own VMM thread, at an exit from user code or
 * from a stub's `out`, never while the vCPU is in here (a kick exit in the
 * shim queues nothing): what another vCPU's thread adds while this one is
 * stopped is the full-flush flag alone (ept.FlushQueue.FlushAll). kflush1
 * leaves the flag to kret's kflush. kflush1r's reload comes after its
 * store to the flag in program order, so a flag set while it was stopped
 * anywhere before the reload is covered by that reload (the world stop
 * that set it has ended, the other vCPU's writes are done), and one set
 * after the store is still there for kret's kflush. Either way kret's
 * kflush ends in kflushcheck, which the VMM watches (below). */
	.balign 16
	.globl kflush1
kflush1:
	FLUSH1_VALUES
	mov rcx, [FLUSH_AREA+24]
	mov rsi, [FLUSH_AREA+32]
1:
	invlpg [rsi]
	add rsi, 4096
	dec rcx
	jnz 1b
	mov qword ptr [FLUSH_AREA], 0
	pop rcx
	pop rdi
	pop rsi
	jmp kret

	.balign 16
	.globl kflush1r
kflush1r:
	FLUSH1_VALUES
	mov qword ptr [FLUSH_AREA], 0
	mov qword ptr [FLUSH_AREA+8], 0
	mov rcx, cr3
	mov cr3, rcx
	pop rcx
	pop rdi
	pop rsi
	jmp kret

/* kret is every return to the interrupted code: with nothing but the
 * iret frame on the stack, apply the flush area, then iretq. The VMM
 * relies on this shape: a vCPU stopped at the iretq is sent back to kret,
 * so records queued while it was stopped are applied (vmm/space.go). */
	.balign 16
	.globl kret
kret:
	call kflush
	.globl kretiret
kretiret:
	iretq

/* kflush applies the flush area: a count of 8-byte slots, a full-flush
 * flag, then records of {pte address (direct map), n, first linear
 * address} each followed by its n values, for n consecutive entries of one
 * table: one `rep movsq` writes them all, which a shadow MMU that traps
 * stores to page tables emulates in one trap (KVM restarts a string
 * instruction in-kernel), where separate stores would trap once each.
 * Then invlpg of each of the n pages, unless the full-flush flag is set
 * (CR3 is reloaded at the end instead). A record with n = 0, {0, 0,
 * linear address}, is an invlpg alone: the rep movsq writes nothing and
 * the loop's jg makes it one invlpg (hosts where the VMM's own writes are
 * seen after one: ept/flush.go, vmm/pteprobe.go). Preserves every
 * register but RFLAGS.
 * On PVM every instruction here is emulated by the hypervisor (~1 µs
 * each): so a fast exit when nothing is queued, and few instructions per
 * record (the VMM lays records out so that rsi runs straight through them).
 * The VMM may set the flag (and, by the rules of ept/flush.go, append
 * records) while this vCPU is stopped, which can be in the middle of
 * kflush (a kick): so the count is re-read after each record, cleared
 * only by a compare-and-exchange against the count applied, and the flag
 * is taken with an exchange. The VMM never extends a record once the vCPU
 * has run (FlushQueue.Seal), and a run stopped half-way resumes its rep
 * movsq where it was.
 * What the VMM queues after the exchange (this vCPU stopped between it
 * and the ret) is caught by the last look at count and flag, made with
 * the registers back and the caller's stack: that look is kflush's entry
 * itself (kflushcheck, the fast exit), which the work below falls through
 * to, so it costs nothing more. The VMM sends a vCPU it finds past
 * kflushcheck and at or before kflushret back to kflushcheck
 * (vmm/space.go ensureFlush): there the stack is as the caller left it. */
	.balign 16
kflushwork:
	push rax
	push rcx
	push rdx
	push rsi
	push rdi
	cld
	mov rsi, FLUSH_AREA+16
2:
	mov rax, [FLUSH_AREA]
	lea rdx, [FLUSH_AREA+16 + rax*8]
	cmp rsi, rdx
	jae 3f
	mov rdi, [rsi]
	mov rcx, [rsi+8]
	mov rdx, [rsi+16]
	mov rax, rcx
	add rsi, 24
	rep movsq
	cmp qword ptr [FLUSH_AREA+8], 0
	jne 2b
5:
	invlpg [rdx]
	add rdx, 4096
	dec rax
	jg 5b
	jmp 2b
3:
	xor ecx, ecx
	lock cmpxchg [FLUSH_AREA], rcx
	jne 2b
	xchg rcx, [FLUSH_AREA+8]
	test rcx, rcx
	jz 4f
	mov rax, cr3
	mov cr3, rax
4:
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rax
	/* on to the last look */
	.globl kflushcheck
kflushcheck:
kflush:
	cmp qword ptr [FLUSH_AREA], 0
	jne kflushwork
	cmp qword ptr [FLUSH_AREA+8], 0
	jne kflushwork
	.globl kflushret
kflushret:
	ret

/* Boot and full return: the VMM starts the vCPU here at CPL 0 with RSP
 * pointing at an iret frame for user mode (a DPL 3 first state does not
 * work on PVM). On VMX/SVM it also returns here when every register must
 * be restored (rt_sigreturn), which sysretq cannot do. */
	.balign 16
	.globl kboot
kboot:
	jmp kret

	.section .text.user, "ax"
	.globl ubase
ubase:
/* LSTAR points here. */
	.globl usyscall
usyscall:
	out PORT_SYSCALL, al
	sysretq

/* Flush stubs, three of them 16 bytes apart from UFLUSH_FIRST (kud
 * relies on it). The VMM sends the vCPU to one of them when page-table
 * writes are queued, with the token (FLUSH_TOKEN) holding where it goes
 * on: the ud2 takes the vCPU to CPL 0 (PVM turns `int n` from user mode
 * into #UD, so a deliberate #UD is the portable way in), kud applies the
 * flush area and returns there. What follows each ud2 runs only where the
 * token says so; a program that jumps past a ud2 finds another one.
 * uflush: PVM path, to the user's code (the token is its RIP). */
	.balign 16
	.globl uflush
uflush:
	ud2
	ud2

/* uflushsysret: the same at CPL 0 (VMX/SVM), token uflushsysret+2. IST1
 * keeps the user's red zone untouched; then sysretq as usual. */
	.balign 16
	.globl uflushsysret
uflushsysret:
	ud2
	sysretq

/* udrain: flush, then exit to the VMM (token udrain+2); used when the
 * queue fills up in the middle of an operation. */
	.balign 16
	.globl udrain
udrain:
	ud2
	out PORT_SYSCALL, al

/* Start-up probe, entered at uprobehw: CPUID leaf 1 as user code sees it
 * (EDX is AT_HWCAP: on PVM user-mode CPUID is not the vCPU's table but
 * the host's), then one syscall, so the VMM can see at which CPL it
 * arrives; EDX reaches the VMM in the exit's registers. The syscall comes
 * first at the 16-byte boundary: a program's jump there meets it at once
 * (the VMM then faults the jump at its target, as natively). */
	.balign 16
	.globl uprobe
uprobe:
	syscall
	ud2
	.globl uprobehw
uprobehw:
	mov eax, 1
	cpuid
	jmp uprobe

/* ufast: LSTAR where the fast syscall path is on (PVM, where an exit costs
 * tens of µs and this stub runs at CPL 3; vmm/fast.go). A syscall the
 * VMM's server may take is posted in this vCPU's fast area and the stub
 * waits for the reply without leaving the guest; anything else, or no
 * server awake, goes to usyscall's exit as before. Registers as Linux
 * leaves them: RAX the result, RCX and R11 as `syscall` set them, the
 * arithmetic flags given back from R11 with sahf and OF by hand (IF
 * cannot be set at CPL 3; the VMM treats user code as running with it).
 * The reply is read after FA_DONE matches: x86 keeps loads in order, and
 * the VMM writes FA_RESULT and FA_FLAG before FA_DONE. Nothing here is
 * trusted by the VMM: a program can jump anywhere in it, and its two
 * exits are checked against what the server recorded. */
	.balign 16
	.globl ufast
ufast:
	cmp byte ptr [FA_AWAKE], 0
	je ufastslow
	bt rcx, 63		/* a syscall instruction in the shim's pages */
	jc ufastslow
	cmp rax, 511
	ja ufastslow
	bt qword ptr [FA_BITMAP], rax
	jnc ufastslow
	test r11d, FAST_SLOWFLAGS
	jnz ufastslow
	mov [FA_NR], rax
	mov [FA_ARGS], rdi
	mov [FA_ARGS+8], rsi
	mov [FA_ARGS+16], rdx
	mov [FA_ARGS+24], r10
	mov [FA_ARGS+32], r8
	mov [FA_ARGS+40], r9
	mov [FA_RCX], rcx
	mov [FA_R11], r11
	mov [FA_RSP], rsp
	mov rax, [FA_SPINS]
	mov [FA_BUDGET], rax
	mov rax, [FA_SEQ]
	inc rax
	mov [FA_SEQ], rax
	.globl ufastposted
ufastposted:
1:
	pause
	cmp [FA_DONE], rax
	je 2f
	dec qword ptr [FA_BUDGET]
	jnz 1b
	/* No reply in time: the VMM takes over (RAX is the request). */
	.globl ufastwait
ufastwait:
	out PORT_SYSCALL, al
	ud2
2:
	cmp qword ptr [FA_FLAG], 0
	jne ufastdone
	mov eax, r11d
	shl eax, 8		/* AH: the user's SF ZF AF PF CF */
	test r11d, 0x800
	jz 3f
	mov al, 0x7f
	add al, 1		/* OF set, AH untouched */
	jmp 4f
3:
	test eax, eax		/* OF clear */
4:
	sahf
	mov rax, [FA_RESULT]
	jmp rcx
	/* The reply asks for the VMM's return (RAX is the request). */
	.globl ufastdone
ufastdone:
	out PORT_SYSCALL, al
	ud2
	/* The exit as before, marked as reached from here: user code the
	 * fast path returned to runs with IF clear, so the VMM cannot tell a
	 * jump to usyscall from a syscall by IF alone (vmm/run.go). */
ufastslow:
	mov byte ptr [FA_VIA], 1
	jmp usyscall
	.globl ufastend
ufastend:

