// Package boot builds what a guest needs before its first instruction: the
// guest-virtual layout of the shim's own pages, the GDT, IDT and TSS, the
// trap stubs (stubs.S), the ELF loader and the initial process stack.
//
// Invariants:
//   - Everything the shim owns lives in the top 2 GiB of the address space
//     (sign-extended 32-bit addresses, so stubs.S can use short immediates)
//     or in the direct map; both are above the user half, so a program can
//     never map over them.
//   - Only the user stub page (read and execute) and the fast area (read
//     and write, per vCPU: the fast syscall path's requests, nothing the
//     VMM trusts) are reachable from CPL 3 (U bit). Tables, stacks and
//     the flush area are supervisor-only.
//   - Pages that differ between vCPUs (GDT, TSS, flush area, IST1 and
//     IST2 stacks) sit at the same addresses in every address space, each
//     vCPU's page tables mapping its own frames; the stub pages and the IDT
//     are shared.
//   - The numbers here, stubs.S and vmm/ must agree; tests check the ones
//     that can drift (FLUSH_AREA, ports, the fast area's fields, also in
//     images/fast_area.h: TestLayoutMirrors).
package boot

// Guest-virtual addresses of the shim's pages.
const (
	KernelText = 0xffffffff80000000 // supervisor stubs (one page)
	UserText   = 0xffffffff80001000 // user-reachable stubs (one page)
	GDTAddr    = 0xffffffff80002000
	IDTAddr    = 0xffffffff80003000
	TSSAddr    = 0xffffffff80004000 // TSS, then its I/O permission bitmap
	TSSPages   = 3

	// FlushArea holds the page-table writes the VMM queues for the guest
	// to apply (stubs.S kflush; ept.FlushQueue).
	FlushArea     = 0xffffffff80010000
	FlushAreaSize = 0x40000

	// Interrupt stack for every exception (IST1), so an exception taken at
	// CPL 0 on the user's stack (VMX/SVM syscall stub) never touches the
	// user's red zone.
	IST1Bottom = 0xffffffff80060000
	IST1Top    = 0xffffffff80064000
	// IST2 takes #UD alone (the flush requests; boot/tables.go), right
	// above IST1 so both are one area for the VMM.
	IST2Bottom = IST1Top
	IST2Top    = 0xffffffff80068000
	// FlushToken is a per-vCPU word at the bottom of IST2 (the #UD
	// handler uses a few hundred bytes at its top): while the VMM has
	// sent the vCPU to a flush stub, where the vCPU goes on after the
	// flush (the user's RIP, or the stub's next instruction); else 0.
	// kud takes it (xchg) before it treats a #UD on a flush stub as a
	// request; a program that jumps into the stub page finds none and
	// gets a fault.
	FlushToken = IST2Bottom

	// FastArea is a per-vCPU page user code may read and write (U bit,
	// no execute): the fast syscall path's request and reply (FastSeq
	// and below; vmm/fast.go). Only the ufast stub means to use it, but
	// a program can touch it too, so nothing in it is trusted: it moves
	// syscall arguments, which are the program's anyway.
	FastArea = IST2Top

	// DirectMap maps all guest-physical memory, supervisor-only, NX, so
	// guest code can write page-table pages by physical address.
	DirectMap = 0xffff888000000000

	// UserTop is the end of the user half (Linux's TASK_SIZE on x86-64).
	UserTop = 0x7ffffffff000
)

// Segment selectors. The order is fixed by syscall/sysret: STAR[47:32]
// gives kernel CS (SS = CS+8); STAR[63:48] gives user SS = base+8 and user
// CS = base+16.
const (
	KernelCS = 0x08
	KernelDS = 0x10
	UserDS   = 0x18 | 3
	UserCS   = 0x20 | 3
	TSSSel   = 0x28
	STAR     = uint64(KernelCS)<<32 | uint64(KernelDS|3)<<48
)

// I/O ports the stubs use to exit to the VMM.
const (
	PortSyscall   = 0xE0
	PortException = 0xE1
	PortBoot      = 0xE2
)

// Entry points inside the stub pages.
const (
	SyscallEntry    = UserText + stubUsyscall
	UserFlush       = UserText + stubUflush
	UserFlushSysret = UserText + stubUflushsysret
	ProbeEntry      = UserText + stubUprobehw
	BootEntry       = KernelText + stubKboot
	vectorsEntry    = KernelText + stubKvectors
	UserDrain       = UserText + stubUdrain
	// FastEntry is LSTAR where the fast syscall path is on (vmm/fast.go);
	// FastWait and FastDone are its two exits (`out` to PortSyscall):
	// the guest stopped waiting for the reply, or the reply asks for the
	// VMM's return (a signal, a flush, a changed register, or a call the
	// server left to the VMM). FastPosted is the first instruction after
	// the request is posted; FastEnd ends the stub.
	FastEntry  = UserText + stubUfast
	FastPosted = UserText + stubUfastposted
	FastWait   = UserText + stubUfastwait
	FastDone   = UserText + stubUfastdone
	FastEnd    = UserText + stubUfastend
	// ExceptionResume is the instruction after the exception stub's exit
	// (`out`), where it goes on once the VMM has handled the exception.
	ExceptionResume = KernelText + stubKexcresume
	// KernelReturn is the common tail of every return to interrupted
	// code (kflush, then iretq at KernelReturnIret).
	KernelReturn     = KernelText + stubKret
	KernelReturnIret = KernelText + stubKretiret
	// KernelFlushCheck..KernelFlushRet is kflush's last look at the flush
	// area (its entry, also the fast exit), made with the caller's stack:
	// a vCPU stopped past KernelFlushCheck and at or before KernelFlushRet
	// goes back to KernelFlushCheck (vmm/space.go ensureFlush).
	KernelFlushCheck = KernelText + stubKflushcheck
	KernelFlushRet   = KernelText + stubKflushret
	// KernelFlushOne and KernelFlushOneReload: kret for a flush area of
	// one record (FlushQueue.Single), without or with a CR3 reload.
	KernelFlushOne       = KernelText + stubKflush1
	KernelFlushOneReload = KernelText + stubKflush1r
	exceptionVectors     = 32
	// FlushVector is the reserved exception vector the VMM injects to
	// have the guest apply its flush queue on the way back to user code
	// (vmm/platform.go): its gate leads to kret. No instruction raises it.
	FlushVector = 22
	// FlushVectorOne and FlushVectorOneReload lead to kflush1 and
	// kflush1r: the same for a flush area of one record (invlpg of its
	// pages, or a CR3 reload), in fewer instructions.
	FlushVectorOne       = 23
	FlushVectorOneReload = 24
	exceptionStubSize    = 16
)

// Stubs returns copies of the kernel and user stub pages' code.
func Stubs() (kernel, user []byte) {
	return append([]byte(nil), kernelStubs[:]...), append([]byte(nil), userStubs[:]...)
}

// The fast area's fields (byte offsets). The guest writes the first cache
// lines, the VMM the later ones, so neither side's stores bounce the
// other's line while it waits.
const (
	FastSeq    = 0x00  // guest: request number, incremented to post
	FastNR     = 0x08  // guest: RAX at the syscall
	FastArgs   = 0x10  // guest: RDI, RSI, RDX, R10, R8, R9
	FastRCX    = 0x40  // guest: the user's RIP (RCX)
	FastR11    = 0x48  // guest: the user's RFLAGS (R11)
	FastRSP    = 0x50  // guest: RSP
	FastBudget = 0x58  // guest: spins left before it gives up
	FastVia    = 0x60  // guest: 1 when ufast goes on to usyscall's exit
	FastDoneAt = 0x80  // VMM: the request number answered
	FastResult = 0x88  // VMM: RAX to return
	FastFlag   = 0x90  // VMM: 0 return, else exit at FastDone
	FastAwake  = 0xc0  // VMM: nonzero while a server takes requests
	FastSpins  = 0xc8  // VMM: the spin budget the guest starts from
	FastBitmap = 0x100 // VMM: bit n set: syscall n may be posted (n < FastCalls)
	FastCalls  = 512
)

// VDSO returns a copy of kshim's vDSO image (vdso/vdso.c): a shared object
// the guest finds through AT_SYSINFO_EHDR. Its data page (vvar) must be
// mapped right below it.
func VDSO() []byte { return append([]byte(nil), vdsoImage...) }

// VvarLayout: offsets of the vvar page's fields (vdso/vdso.c struct vvar).
const (
	VvarSeq      = 0
	VvarShift    = 4
	VvarMult     = 8
	VvarBaseTSC  = 16
	VvarBaseMono = 24
	VvarRealOff  = 32
	VvarBootOff  = 40
	VvarEnabled  = 48
)
