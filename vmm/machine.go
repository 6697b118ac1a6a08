// machine.go: one guest machine: memory, one vCPU, the shim's pages and the
// processor state it starts in.
//
// Invariants:
//   - The shim's pages (boot/layout.go) are allocated once per machine and
//     mapped at the same addresses in every guest address space.
//   - The vCPU starts at CPL 0 in boot.BootEntry and enters user mode with
//     iretq (PVM cannot start in user mode); after that it stays in user
//     mode except inside the stubs.
package vmm

import (
	"fmt"

	"github.com/bobuhiro11/gokvm/kvm"

	"kshim/boot"
	"kshim/ept"
)

const (
	msrSTAR         = 0xc0000081
	msrLSTAR        = 0xc0000082
	msrCSTAR        = 0xc0000083
	msrSFMASK       = 0xc0000084
	msrFSBase       = 0xc0000100
	msrGSBase       = 0xc0000101
	msrKernelGSBase = 0xc0000102

	cr0PE = 1 << 0
	cr0MP = 1 << 1
	cr0ET = 1 << 4
	cr0NE = 1 << 5
	cr0WP = 1 << 16
	cr0AM = 1 << 18
	cr0PG = 1 << 31

	cr4PAE        = 1 << 5
	cr4OSFXSR     = 1 << 9
	cr4OSXMMEXCPT = 1 << 10

	eferSCE = 1 << 0
	eferLME = 1 << 8
	eferLMA = 1 << 10
	eferNXE = 1 << 11

	// syscall masks these flags, as Linux does.
	sfmask = 0x100 | 0x200 | 0x400 | 0x4000 | 0x40000 // TF IF DF NT AC

	// UserFlags is RFLAGS for fresh user code: IF and the reserved bit.
	UserFlags = 0x202
)

// shimPage describes one of the shim's pages: where it lives and how the
// guest may use it.
type shimPage struct {
	va    uint64
	pages int
	flags uint64
}

var shimPages = []shimPage{
	{boot.KernelText, 1, 0},
	{boot.UserText, 1, ept.PTEUser},
	{boot.GDTAddr, 1, ept.PTENoExec | ept.PTEWritable},
	{boot.IDTAddr, 1, ept.PTENoExec},
	{boot.TSSAddr, boot.TSSPages, ept.PTENoExec},
	{boot.UserData, 1, ept.PTENoExec | ept.PTEUser},
	{boot.FlushArea, boot.FlushAreaSize / ept.PageSize, ept.PTENoExec | ept.PTEWritable},
	{boot.IST1Bottom, (boot.IST1Top - boot.IST1Bottom) / ept.PageSize, ept.PTENoExec | ept.PTEWritable},
}

// Machine is a VM with one vCPU and its guest-physical memory.
type Machine struct {
	h     *Hypervisor
	vm    *VM
	CPU   *CPU
	Mem   *ept.Memory
	Flush *ept.FlushQueue
	// shim maps each shim page's virtual address to its frame.
	shim map[uint64]uint64
	// ist1 is the VMM's view of the exception stack.
	ist1 []byte
	path entryPath
	// inSyscall is set while a syscall handler runs, when drain may run
	// the vCPU.
	inSyscall bool
}

// NewMachine creates a VM with memSize bytes of guest-physical memory.
func NewMachine(memSize uint64) (*Machine, error) {
	h, err := Open()
	if err != nil {
		return nil, err
	}
	m := &Machine{h: h, shim: map[uint64]uint64{}}
	if err := m.init(memSize); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Machine) init(memSize uint64) error {
	var err error
	if m.vm, err = m.h.NewVM(); err != nil {
		return err
	}
	if m.Mem, err = ept.NewMemory(memSize); err != nil {
		return err
	}
	if err := m.vm.SetMemory(0, 0, m.Mem.Size(), m.Mem.HostAddr()); err != nil {
		return err
	}
	m.Mem.SetSlotFunc(m.vm.SetSlot)
	// Shim frames come first and contiguous, so each multi-page area has
	// one VMM-side slice.
	for _, p := range shimPages {
		for i := 0; i < p.pages; i++ {
			pa, err := m.Mem.Alloc()
			if err != nil {
				return err
			}
			m.shim[p.va+uint64(i)*ept.PageSize] = pa
		}
	}
	kernel, user := boot.Stubs()
	copy(m.page(boot.KernelText), kernel)
	copy(m.page(boot.UserText), user)
	copy(m.page(boot.GDTAddr), boot.GDT())
	copy(m.page(boot.IDTAddr), boot.IDT())
	copy(m.area(boot.TSSAddr, boot.TSSPages*ept.PageSize), boot.TSS())
	m.Flush = ept.NewFlushQueue(m.area(boot.FlushArea, boot.FlushAreaSize))
	m.Flush.Drain = m.drain
	m.ist1 = m.area(boot.IST1Bottom, boot.IST1Top-boot.IST1Bottom)
	if m.CPU, err = m.vm.NewCPU(0); err != nil {
		return err
	}
	return nil
}

func (m *Machine) page(va uint64) []byte { return m.Mem.Page(m.shim[va]) }

func (m *Machine) area(va, size uint64) []byte { return m.Mem.Slice(m.shim[va], size) }

// Close releases the VM and its memory.
func (m *Machine) Close() {
	if m.CPU != nil {
		m.CPU.Close()
	}
	if m.vm != nil {
		m.vm.Close()
	}
	if m.Mem != nil {
		m.Mem.Close()
	}
	m.h.Close()
}

// NewAddressSpace returns page tables with the shim's pages and the direct
// map in place; the guest memory manager adds the user half.
func (m *Machine) NewAddressSpace() (*ept.PageTable, error) {
	pt, err := ept.NewPageTable(m.Mem, m.Flush, boot.DirectMap)
	if err != nil {
		return nil, err
	}
	for _, p := range shimPages {
		for i := 0; i < p.pages; i++ {
			va := p.va + uint64(i)*ept.PageSize
			if err := pt.Map(va, m.shim[va], p.flags|ept.PTEAccessed); err != nil {
				return nil, err
			}
		}
	}
	for pa := uint64(0); pa < m.Mem.Size(); pa += ept.HugePageSize {
		if err := pt.MapHuge(boot.DirectMap+pa, pa, ept.PTEWritable|ept.PTENoExec|ept.PTEDirty); err != nil {
			return nil, err
		}
	}
	return pt, nil
}

func segment(sel uint16, code bool) kvm.Segment {
	s := kvm.Segment{Selector: sel, Limit: 0xffffffff, Present: 1, S: 1, G: 1, DPL: uint8(sel & 3)}
	if code {
		s.Typ, s.L = 11, 1
	} else {
		s.Typ, s.DB = 3, 1
	}
	return s
}

// Start loads the processor state: long mode with the given page tables,
// CPL 0 at the boot stub, whose iretq enters user mode at rip with rsp.
func (m *Machine) Start(pt PageTables, rip, rsp uint64) error {
	s, err := m.CPU.Sregs()
	if err != nil {
		return fmt.Errorf("KVM_GET_SREGS: %w", err)
	}
	s.CS = segment(boot.KernelCS, true)
	s.DS = segment(boot.KernelDS, false)
	s.ES, s.SS = s.DS, s.DS
	s.FS, s.GS = s.DS, s.DS
	s.FS.Selector, s.GS.Selector = 0, 0
	s.TR = kvm.Segment{Base: boot.TSSAddr, Limit: boot.TSSLimit, Selector: boot.TSSSel, Typ: 11, Present: 1}
	s.LDT = kvm.Segment{Limit: 0xffff, Typ: 2, Present: 1}
	s.GDT = kvm.Descriptor{Base: boot.GDTAddr, Limit: boot.GDTLimit}
	s.IDT = kvm.Descriptor{Base: boot.IDTAddr, Limit: boot.IDTLimit}
	s.CR0 = cr0PE | cr0MP | cr0ET | cr0NE | cr0WP | cr0AM | cr0PG
	s.CR4 = cr4PAE | cr4OSFXSR | cr4OSXMMEXCPT
	s.CR3 = pt.Root()
	s.EFER = eferSCE | eferLME | eferLMA | eferNXE
	if err := m.CPU.SetSregs(s); err != nil {
		return fmt.Errorf("KVM_SET_SREGS (entering long mode): %w", err)
	}
	if err := m.CPU.SetMSRs(map[uint32]uint64{
		msrSTAR:         boot.STAR,
		msrLSTAR:        boot.SyscallEntry,
		msrCSTAR:        0,
		msrSFMASK:       sfmask,
		msrFSBase:       0,
		msrGSBase:       0,
		msrKernelGSBase: 0,
	}); err != nil {
		return err
	}
	r, err := m.CPU.Regs()
	if err != nil {
		return err
	}
	*r = kvm.Regs{RIP: rip, RSP: rsp, RFLAGS: UserFlags}
	m.iretTo(r)
	m.CPU.MarkDirty()
	return nil
}

// SetFSBase sets the user's FS base (arch_prctl). An MSR write, not
// KVM_SET_SREGS, which would reset the shadow MMU.
func (m *Machine) SetFSBase(v uint64) error { return m.CPU.SetMSRs(map[uint32]uint64{msrFSBase: v}) }

// SetGSBase sets the user's GS base.
func (m *Machine) SetGSBase(v uint64) error { return m.CPU.SetMSRs(map[uint32]uint64{msrGSBase: v}) }

// PageTables is what the machine needs of an address space.
type PageTables interface{ Root() uint64 }
