package vmm

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
)

// testMachine boots a machine with code at 0x400000 (user RX) and one data
// page at 0x600000 (user RW), stack at 0x7ff000.
func testMachine(t *testing.T, code []byte) (*VCPU, *ept.PageTable, uint64) {
	t.Helper()
	mach, err := NewMachine(64 << 20)
	if errors.Is(err, ErrNoKVM) {
		t.Fatalf("KVM unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mach.Close)
	m, err := mach.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	pt, err := m.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	codePA, _ := m.m.Mem.Alloc()
	copy(m.m.Mem.Page(codePA), code)
	if err := pt.Map(0x400000, codePA, ept.PTEUser); err != nil {
		t.Fatal(err)
	}
	dataPA, _ := m.m.Mem.Alloc()
	if err := pt.Map(0x600000, dataPA, ept.PTEUser|ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
		t.Fatal(err)
	}
	stackPA, _ := m.m.Mem.Alloc()
	if err := pt.Map(0x7fe000, stackPA, ept.PTEUser|ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
		t.Fatal(err)
	}
	if err := m.Boot(pt, 0x400000, 0x7ff000); err != nil {
		t.Fatal(err)
	}
	return m, pt, dataPA
}

func TestProbeAndSyscall(t *testing.T) {
	// mov eax, 110; syscall; mov ebx, eax; mov eax, 60; syscall
	code := []byte{0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc3, 0xb8, 60, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b}
	m, _, _ := testMachine(t, code)
	t.Logf("path: %s", m.m.Path())
	var nrs []uint64
	for i := 0; i < 2; i++ {
		if err := m.CPU.Run(); err != nil {
			t.Fatal(err)
		}
		if m.CPU.ExitReason() != exitIO {
			t.Fatalf("exit %d: %s", m.CPU.ExitReason(), m.CPU.Describe())
		}
		_, _, port := m.CPU.IO()
		r, _ := m.CPU.Regs()
		if port != boot.PortSyscall {
			t.Fatalf("port %#x: %s", port, m.CPU.Describe())
		}
		nrs = append(nrs, r.RAX)
		if i == 1 && r.RBX != 4242 {
			t.Fatalf("rbx=%d, want the getppid result 4242", r.RBX)
		}
		r.RAX = 4242
		r.RIP, r.RFLAGS = r.RCX, r.R11
		m.m.path.resume(m, r, false)
		m.CPU.MarkDirty()
	}
	if nrs[0] != 110 || nrs[1] != 60 {
		t.Fatalf("syscall numbers %v", nrs)
	}
}

// runToException runs until an exception exit and returns vector, error
// code, CR2 and the faulting RIP.
func runToException(t *testing.T, m *VCPU) (vec, code, cr2, rip uint64) {
	t.Helper()
	if err := m.CPU.Run(); err != nil {
		t.Fatal(err)
	}
	if m.CPU.ExitReason() != exitIO {
		t.Fatalf("exit %d: %s", m.CPU.ExitReason(), m.CPU.Describe())
	}
	if _, _, port := m.CPU.IO(); port != boot.PortException {
		t.Fatalf("port %#x, want exception: %s", port, m.CPU.Describe())
	}
	r, _ := m.CPU.Regs()
	f := m.ist1[r.RSP-boot.IST1Bottom:]
	return getU64(f[16:]), getU64(f[24:]), getU64(f[0:]), getU64(f[32:])
}

func TestIOBitmapClosesOtherPorts(t *testing.T) {
	// out 0xe1, al from user mode must fault (#GP), not reach the VMM.
	m, _, _ := testMachine(t, []byte{0xe6, 0xe1, 0x0f, 0x0b})
	vec, _, _, rip := runToException(t, m)
	if vec != 13 || rip != 0x400000 {
		t.Fatalf("vector %d at %#x, want #GP at 0x400000", vec, rip)
	}
}

// protocols runs body once per page-table protocol the host supports: the
// one the start-up probe picked and, where that is frame invalidation, the
// guest-write protocol too (correct everywhere, and the fallback). body
// calls pick on its machine's vCPU before it changes entries.
func protocols(t *testing.T, body func(t *testing.T, pick func(*VCPU))) {
	t.Run("probed", func(t *testing.T) {
		body(t, func(m *VCPU) {
			if m.m.invalidate {
				// Every change by invalidation, whatever the
				// measured limit (past it: records, as below).
				m.Flush.SetInvalidate(m.m.Mem, 512)
			}
		})
	})
	t.Run("invalidate-past-limit", func(t *testing.T) {
		body(t, func(m *VCPU) {
			if !m.m.invalidate {
				t.Skip("no frame invalidation here")
			}
			// Two frames at most: a third change turns the first two
			// into guest writes, joined by the rest.
			m.Flush.SetInvalidate(m.m.Mem, 2)
		})
	})
	t.Run("guest-writes", func(t *testing.T) {
		body(t, func(m *VCPU) {
			if !m.m.invalidate {
				t.Skip("the probed protocol")
			}
			m.m.invalidate = false
			m.Flush.SetInvalidate(nil, 0)
		})
	})
}

// invalidateNow does what runGuest does before KVM_RUN: with frame
// invalidation, the changed frames' translations go.
func invalidateNow(t *testing.T, m *VCPU) {
	t.Helper()
	if err := m.Flush.Invalidate(); err != nil {
		t.Fatal(err)
	}
}

// runToSyscall runs m's test program to its next syscall exit and
// returns the RDI it passed.
func runToSyscall(t *testing.T, m *VCPU) uint64 {
	t.Helper()
	if err := m.CPU.Run(); err != nil {
		t.Fatal(err)
	}
	if _, _, port := m.CPU.IO(); m.CPU.ExitReason() != exitIO || port != boot.PortSyscall {
		t.Fatalf("want syscall exit: %s", m.CPU.Describe())
	}
	r, _ := m.CPU.Regs()
	return r.RDI
}

// resumeSyscall returns from that syscall to user mode, through the flush
// when one is queued (and with the frames to invalidate invalidated).
func resumeSyscall(t *testing.T, m *VCPU) {
	t.Helper()
	r, _ := m.CPU.Regs()
	r.RIP, r.RFLAGS = r.RCX, r.R11
	m.m.path.resume(m, r, m.Flush.Pending())
	m.CPU.MarkDirty()
	invalidateNow(t, m)
}

func TestPageFaultAndPresentPTEChange(t *testing.T) { protocols(t, testPageFaultAndPresentPTEChange) }

func testPageFaultAndPresentPTEChange(t *testing.T, pick func(*VCPU)) {
	// loop: mov rax, [0x600000]; out via syscall(rax) ; jmp loop
	// 48 8b 04 25 00 00 60 00   mov rax, [0x600000]
	// 48 89 c7                  mov rdi, rax
	// b8 27 00 00 00            mov eax, 39
	// 0f 05                     syscall
	// eb ec                     jmp back to start
	code := []byte{0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x48, 0x89, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xec}
	m, pt, dataPA := testMachine(t, code)
	pick(m)
	putU64(m.m.Mem.Page(dataPA), 111)
	other, _ := m.m.Mem.Alloc()
	putU64(m.m.Mem.Page(other), 222)
	syscallExit := func() uint64 { return runToSyscall(t, m) }
	resume := func() { resumeSyscall(t, m) }
	if got := syscallExit(); got != 111 {
		t.Fatalf("guest read %d, want 111", got)
	}
	// Remap the present page to another frame: must be seen by the guest.
	if err := pt.Map(0x600000, other, ept.PTEUser|ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
		t.Fatal(err)
	}
	if !m.Flush.Pending() && m.Flush.Invalidations() == 0 {
		t.Fatal("remap of a present PTE was not queued")
	}
	resume()
	if got := syscallExit(); got != 222 {
		t.Fatalf("after remap guest read %d, want 222", got)
	}
	m.Flush.Applied()
	// Unmap: the next read must fault with CR2 = 0x600000.
	if _, ok, err := pt.Unmap(0x600000); !ok || err != nil {
		t.Fatal(ok, err)
	}
	resume()
	vec, code2, cr2, rip := runToException(t, m)
	if vec != 14 || cr2 != 0x600000 || rip != 0x400000 || code2&1 != 0 {
		t.Fatalf("got vector %d code %#x cr2 %#x rip %#x; want #PF not-present at 0x600000", vec, code2, cr2, rip)
	}
	// Map it back (non-present -> present, host write) and resume via iretq.
	m.Flush.Applied()
	if err := pt.Map(0x600000, dataPA, ept.PTEUser|ept.PTENoExec); err != nil {
		t.Fatal(err)
	}
	if got := syscallExit(); got != 111 {
		t.Fatalf("after fault guest read %d, want 111", got)
	}
}

// TestNeverUsedEntryChangesDirectly checks, from the guest's view, the rule
// that lets the VMM change a present entry whose accessed bit is clear
// without the guest's help: no TLB or shadow entry exists for it, even
// after the guest used a neighbour in the same page table.
func TestNeverUsedEntryChangesDirectly(t *testing.T) {
	block := func(addrHi byte) []byte {
		// mov rax, [0x60XX00]; mov rdi, rax; mov eax, 39; syscall
		return []byte{0x48, 0x8b, 0x04, 0x25, 0x00, addrHi, 0x60, 0x00, 0x48, 0x89, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}
	}
	code := append(block(0x00), block(0x10)...)
	code = append(code, 0xeb, byte(-(len(code) + 2)))
	m, pt, dataPA := testMachine(t, code)
	putU64(m.m.Mem.Page(dataPA), 111)
	x, _ := m.m.Mem.Alloc()
	y, _ := m.m.Mem.Alloc()
	putU64(m.m.Mem.Page(x), 333)
	putU64(m.m.Mem.Page(y), 444)
	// Mapped ahead, never used: no accessed bit.
	if err := pt.Map(0x601000, x, ept.PTEUser|ept.PTENoExec); err != nil {
		t.Fatal(err)
	}
	step := func() uint64 {
		t.Helper()
		v := runToSyscall(t, m)
		r, _ := m.CPU.Regs()
		r.RIP, r.RFLAGS = r.RCX, r.R11
		m.Flush.Applied()
		m.m.path.resume(m, r, m.Flush.Pending())
		m.CPU.MarkDirty()
		return v
	}
	if got := step(); got != 111 {
		t.Fatalf("neighbour read %d", got)
	}
	if pte, _ := pt.Lookup(0x601000); pte&ept.PTEAccessed != 0 {
		t.Fatalf("entry %#x gained the accessed bit without being used", pte)
	}
	// Remap it from the host: direct, not queued.
	if err := pt.Map(0x601000, y, ept.PTEUser|ept.PTENoExec); err != nil || m.Flush.Pending() || m.Flush.Invalidations() != 0 {
		t.Fatalf("remap: %v, queued %v, frames to invalidate %d", err, m.Flush.Pending(), m.Flush.Invalidations())
	}
	if got := step(); got != 444 {
		t.Fatalf("guest read %d after a direct remap of a never-used entry, want 444", got)
	}
	if pte, _ := pt.Lookup(0x601000); pte&ept.PTEAccessed == 0 {
		t.Fatalf("entry %#x has no accessed bit after the guest used it", pte)
	}
}

// TestRunOfPresentChanges checks from the guest's view that a run record
// (consecutive queued writes applied with one rep movsq, ept/flush.go)
// changes every entry of the run: a remap of four used pages, then their
// unmap (with the host-writes protocol: four invlpgs, the same view).
func TestRunOfPresentChanges(t *testing.T) { protocols(t, testRunOfPresentChanges) }

func testRunOfPresentChanges(t *testing.T, pick func(*VCPU)) {
	// start: mov rax, [0x600000]; add rax, [0x601000]; add rax, [0x602000];
	// add rax, [0x603000]; mov rdi, rax; mov eax, 39; syscall; jmp start
	var code []byte
	for i := byte(0); i < 4; i++ {
		op := byte(0x03)
		if i == 0 {
			op = 0x8b
		}
		code = append(code, 0x48, op, 0x04, 0x25, 0x00, i<<4, 0x60, 0x00)
	}
	code = append(code, 0x48, 0x89, 0xc7, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05)
	code = append(code, 0xeb, byte(-(len(code) + 2)))
	m, pt, dataPA := testMachine(t, code)
	pick(m)
	mem := m.m.Mem
	putU64(mem.Page(dataPA), 1)
	const flags = ept.PTEUser | ept.PTENoExec
	for i := uint64(1); i < 4; i++ {
		pa, _ := mem.Alloc()
		putU64(mem.Page(pa), 1<<(4*i))
		if err := pt.Map(0x600000+i*ept.PageSize, pa, flags); err != nil {
			t.Fatal(err)
		}
	}
	step := func() uint64 {
		t.Helper()
		rdi := runToSyscall(t, m)
		m.Flush.Applied()
		return rdi
	}
	resume := func() { resumeSyscall(t, m) }
	if got := step(); got != 0x1111 {
		t.Fatalf("guest read %#x, want 0x1111", got)
	}
	// Remap the four used pages: one run (a record and its four values).
	for i := uint64(0); i < 4; i++ {
		pa, _ := mem.Alloc()
		putU64(mem.Page(pa), 2<<(4*i))
		if err := pt.Map(0x600000+i*ept.PageSize, pa, flags); err != nil {
			t.Fatal(err)
		}
	}
	// With guest writes, one run record (three slots and four values);
	// where the probe picked host writes (pteprobe.go), four invlpg-alone
	// records of three slots each.
	// With frame invalidation, no slot: the four old frames wait to be
	// invalidated.
	slots, form := 7, "one run"
	if m.m.HostWrites() {
		slots, form = 12, "four invlpgs"
	}
	if m.Flush.Invalidating() {
		want := 4
		if m.Flush.InvalidateLimit() >= 4 {
			slots, form = 0, "none"
		} else {
			want = 0 // past the limit: all four are guest writes, one run
		}
		if n := m.Flush.Invalidations(); n != want {
			t.Fatalf("remap of four used entries left %d frames to invalidate, want %d", n, want)
		}
	}
	if n := m.Flush.Len(); n != slots {
		t.Fatalf("remap of four consecutive used entries took %d slots, want %s (%d)", n, form, slots)
	}
	resume()
	if got := step(); got != 0x2222 {
		t.Fatalf("after the run of remaps the guest read %#x, want 0x2222", got)
	}
	// Unmap them all: the next read faults at the first.
	if err := pt.UnmapRange(0x600000, 0x604000); err != nil {
		t.Fatal(err)
	}
	if n := m.Flush.Len(); n != slots {
		t.Fatalf("unmap of four used entries took %d slots, want %s (%d)", n, form, slots)
	}
	resume()
	vec, _, cr2, _ := runToException(t, m)
	if vec != 14 || cr2 != 0x600000 {
		t.Fatalf("got vector %d cr2 %#x; want #PF at 0x600000 after the run of unmaps", vec, cr2)
	}
}

// TestLocalAPIC: the vCPUs get KVM's local APIC where KVM offers the
// split irqchip (kvm.go's splitIRQChip) and RAM ends below the APIC's
// page, and then a vCPU other than the first runs too (KVM starts it
// waiting for INIT/SIPI; NewCPU makes it runnable); with RAM over the
// page they get none.
func TestLocalAPIC(t *testing.T) {
	mach, err := NewMachine(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mach.Close()
	offered, err := kvm.CheckExtension(mach.vm.fd, capSplitIRQChip)
	if err != nil {
		t.Fatal(err)
	}
	if mach.vm.lapic != (offered > 0) {
		t.Fatalf("local APIC %v, KVM offers the split irqchip: %v", mach.vm.lapic, offered > 0)
	}
	var cs []*VCPU
	for i := 0; i < 2; i++ {
		c, err := mach.NewVCPU()
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	// KVM_GET_MP_STATE (_IOR(KVMIO, 0x98, struct kvm_mp_state)): the
	// second vCPU is runnable, and the probe runs on it.
	var st uint32 = 99
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, cs[1].CPU.fd, 0x8004ae98, uintptr(unsafe.Pointer(&st))); e != 0 {
		t.Fatal(e)
	}
	if st != mpStateRunnable {
		t.Fatalf("second vCPU's MP state %d, want runnable (%d)", st, mpStateRunnable)
	}
	pt, err := cs[1].NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs[1].ensureProbed(pt); err != nil {
		t.Fatalf("second vCPU: %v", err)
	}
	big, err := NewMachine(ept.APICPage + 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	if big.vm.lapic {
		t.Errorf("local APIC with RAM over its page")
	}
}
