// Package vmm runs a guest on KVM: it creates the VM and its vCPU, loads the
// shim's tables and stubs, probes how the platform delivers `syscall`, and
// runs the exit loop that hands syscalls and exceptions to the Linux
// personality (syscalls/) and memory manager (guestmm/).
//
// kvm.go is the thin layer over /dev/kvm. It uses gokvm's kvm package for
// the ioctl structures and most calls, and its own code where gokvm does
// not fit: KVM_RUN (gokvm retries on EINTR, which would swallow the signal
// that interrupts a running vCPU) and the kvm_run sync-register area (gokvm
// does not describe it).
//
// Invariants: a CPU is used by one goroutine, locked to its OS thread (KVM
// requires vCPU ioctls from the thread that runs it for good performance and
// signal delivery). The supported CPUID table is read by a goroutine Open
// starts; it is read only through Hypervisor.supported, which waits for
// it, and Close waits for it before closing /dev/kvm.
package vmm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"
)

// kvm_run layout (include/uapi/linux/kvm.h).
const (
	runExitReason = 8
	runExitData   = 32 // the exit union
	runValidRegs  = 288
	runDirtyRegs  = 296
	runSyncRegs   = 304

	syncRegs  = 1 << 0
	syncSregs = 1 << 1

	exitIO            = 2
	exitHLT           = 5
	exitMMIO          = 6
	exitShutdown      = 8
	exitFailEntry     = 9
	exitIntr          = 10
	exitInternalError = 17

	capSyncRegs      = 74
	capImmediateExit = 136

	ioctlRun = 0xae80 // _IO(KVMIO, 0x80)

	// ioctlSetCPUID2 is KVM_SET_CPUID2 (_IOW(KVMIO, 0x90, struct
	// kvm_cpuid2): 8 bytes before the entries).
	ioctlSetCPUID2 = 0x4008ae90

	// KVM_ENABLE_CAP on the VM (_IOW(KVMIO, 0xa3, struct
	// kvm_enable_cap), 104 bytes) with KVM_CAP_SPLIT_IRQCHIP, and
	// KVM_SET_MP_STATE (_IOW(KVMIO, 0x99, struct kvm_mp_state)).
	ioctlEnableCap  = 0x4068aea3
	capSplitIRQChip = 121
	ioctlSetMPState = 0x4004ae99
	mpStateRunnable = 0

	// KVM_SET_NR_MMU_PAGES on the VM (_IO(KVMIO, 0x44)), its argument
	// the number.
	ioctlSetNrMMUPages = 0xae44
)

// ErrNoKVM wraps every failure to use /dev/kvm itself, so the CLI can
// explain it in one line.
var ErrNoKVM = errors.New("/dev/kvm")

// Hypervisor is an open /dev/kvm.
type Hypervisor struct {
	fd       uintptr
	runSize  int
	syncRegs bool
	// cpuid is KVM_GET_SUPPORTED_CPUID's table, read by a goroutine Open
	// starts (on PVM each leaf is a CPUID trap to the outer hypervisor:
	// ~0.4 ms, which then overlaps the VM's and its memory's creation);
	// cpuidRaw is the same as struct kvm_cpuid2, encoded once: gokvm's
	// SetCPUID2 encodes it (with reflection) at every call, ~60 µs of
	// each new vCPU. Read them only through supported, which waits for
	// cpuidDone (closed once both, or cpuidErr, are set).
	cpuid     *kvm.CPUID
	cpuidRaw  []byte
	cpuidErr  error
	cpuidDone chan struct{}
}

// Open opens /dev/kvm and checks the API.
func Open() (*Hypervisor, error) {
	f, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return nil, fmt.Errorf("%w does not exist: this host has no KVM; load kvm_intel/kvm_amd (or enable nested virtualization)", ErrNoKVM)
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("%w: permission denied; add your user to the 'kvm' group or run as root", ErrNoKVM)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoKVM, err)
	}
	h := &Hypervisor{fd: uintptr(f)}
	if v, err := kvm.GetAPIVersion(h.fd); err != nil || v != 12 {
		h.Close()
		return nil, fmt.Errorf("%w: unsupported KVM API version %d (%v)", ErrNoKVM, v, err)
	}
	n, err := kvm.GetVCPUMMmapSize(h.fd)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("%w: KVM_GET_VCPU_MMAP_SIZE: %v", ErrNoKVM, err)
	}
	h.runSize = int(n)
	if v, err := kvm.CheckExtension(h.fd, capSyncRegs); err == nil && v&(syncRegs|syncSregs) == syncRegs|syncSregs {
		h.syncRegs = true
	}
	h.cpuidDone = make(chan struct{})
	go func() {
		defer close(h.cpuidDone)
		cpuid := &kvm.CPUID{Nent: 256, Entries: make([]kvm.CPUIDEntry2, 256)}
		if err := retryEINTR(func() error { return kvm.GetSupportedCPUID(h.fd, cpuid) }); err != nil {
			h.cpuidErr = fmt.Errorf("%w: KVM_GET_SUPPORTED_CPUID: %v", ErrNoKVM, err)
			return
		}
		raw, err := cpuid.Bytes()
		if err != nil {
			h.cpuidErr = fmt.Errorf("%w: encoding the CPUID table: %v", ErrNoKVM, err)
			return
		}
		h.cpuid, h.cpuidRaw = cpuid, raw
	}()
	return h, nil
}

// supported returns the supported CPUID table (and its kvm_cpuid2
// encoding), waiting for Open's goroutine to have read it.
func (h *Hypervisor) supported() (*kvm.CPUID, []byte, error) {
	<-h.cpuidDone
	return h.cpuid, h.cpuidRaw, h.cpuidErr
}

// Close closes /dev/kvm, once Open's goroutine is done with it (the fd
// number must not be reused under its ioctl).
func (h *Hypervisor) Close() error {
	if h.cpuidDone != nil {
		<-h.cpuidDone
	}
	return unix.Close(int(h.fd))
}

// VM is one KVM virtual machine.
type VM struct {
	h  *Hypervisor
	fd uintptr
	// lapic: its vCPUs have KVM's local APIC (splitIRQChip).
	lapic bool
}

// retryEINTR runs f again while a signal interrupts it: KVM's creation
// ioctls can return EINTR (the Go runtime's preemption signals, a vCPU
// kick), which is not a failure.
func retryEINTR(f func() error) error {
	for {
		err := f()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// NewVM creates a VM; with lapic, its vCPUs get KVM's local APIC where
// the host has it (splitIRQChip).
func (h *Hypervisor) NewVM(lapic bool) (*VM, error) {
	var fd uintptr
	err := retryEINTR(func() (err error) { fd, err = kvm.CreateVM(h.fd); return })
	if err != nil {
		return nil, fmt.Errorf("%w: KVM_CREATE_VM: %v", ErrNoKVM, err)
	}
	vm := &VM{h: h, fd: fd}
	vm.lapic = lapic && vm.splitIRQChip() == nil
	return vm, nil
}

// splitIRQChip gives the VM's vCPUs, made after it, KVM's local APIC,
// without the PIC and I/O APIC of a full in-kernel irqchip (none of it is
// used: kshim delivers nothing to its vCPUs through an APIC). What it
// saves is set-up: KVM counts the vCPUs that have no local APIC in a
// static key, whose switch (the first such vCPU on the host, and the
// last one's end) patches the kernel's code with rounds of IPIs to every
// CPU, ~0.3 ms of CPU each here; a local APIC only takes another key at
// its creation, whose release KVM defers by a second, so runs that follow
// each other within it switch no key at all. Measured with no other VM on
// the host (with one, neither key switches): the vCPU's creation and the
// VM's destruction 0.75 ms less CPU per run (perf, 20 runs each).
// With a local APIC a vCPU other than the first starts waiting for the
// INIT/SIPI a real AP gets (NewCPU makes it runnable), and KVM may keep
// a page of its own at the APIC's address (ept.APICPage; VMX's APIC
// access page, AVIC's), which no slot of kshim's may then overlap.
func (vm *VM) splitIRQChip() error {
	var c [104]byte // struct kvm_enable_cap: cap, flags, args[4], pad
	*(*uint32)(unsafe.Pointer(&c[0])) = capSplitIRQChip
	// args[0], the I/O APIC routes kept for the VMM: none.
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, vm.fd, ioctlEnableCap, uintptr(unsafe.Pointer(&c[0]))); e != 0 {
		return e
	}
	return nil
}

// Close destroys the VM.
func (vm *VM) Close() error { return unix.Close(int(vm.fd)) }

// SetShadowPages sets how many shadow page-table pages KVM may keep for
// the VM (KVM_SET_NR_MMU_PAGES; only a shadow MMU counts them: PVM, or
// VMX/SVM without EPT/NPT). A host that refuses keeps its own cap, which
// only costs speed.
func (vm *VM) SetShadowPages(n uint64) {
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, vm.fd, ioctlSetNrMMUPages, uintptr(n))
}

// SetSlot registers slot (or deletes it when size is 0); a readonly slot
// makes guest writes exit as MMIO instead of reaching the host memory.
func (vm *VM) SetSlot(slot uint32, gpa, size uint64, host uintptr, readonly bool) error {
	r := &kvm.UserspaceMemoryRegion{Slot: slot, GuestPhysAddr: gpa, MemorySize: size, UserspaceAddr: uint64(host)}
	if readonly && size != 0 {
		r.SetMemReadonly()
	}
	if err := retryEINTR(func() error { return kvm.SetUserMemoryRegion(vm.fd, r) }); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION: %w", err)
	}
	return nil
}

// CPU is one vCPU and its mapped kvm_run area.
type CPU struct {
	vm  *VM
	fd  uintptr
	run []byte
	// regs points into kvm_run's sync area when the host supports
	// KVM_CAP_SYNC_REGS; otherwise at local, moved by GET/SET_REGS.
	regs    *kvm.Regs
	local   kvm.Regs
	sync    bool
	dirty   bool // regs changed since the exit; must reach KVM before the next run
	fetched bool // without sync regs: regs are valid for this exit
	// runMu guards the kvm_run mapping against Close for writers from
	// other goroutines (a kick, even a late one, must not touch it once
	// unmapped).
	runMu  sync.RWMutex
	closed bool
	// cpuidSet: KVM_SET_CPUID2 is done (setCPUID; before its first load).
	cpuidSet bool
}

// NewCPU creates vCPU id with its CPUID table set.
func (vm *VM) NewCPU(id int) (*CPU, error) {
	c, err := vm.newCPU(id)
	if err != nil {
		return nil, err
	}
	if err := c.setCPUID(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// newCPU creates vCPU id without its CPUID table: setCPUID sets it at
// the vCPU's first load (machine.go), or for the first vCPU right before
// the sandbox's Finish (launch.go: the table's read is an ioctl the
// sandbox refuses). The first vCPU's wait for Open's goroutine
// (KVM_GET_SUPPORTED_CPUID, each leaf a CPUID trap to the outer
// hypervisor on PVM: ~1.5-2 ms of wall on a busy host, ~0.5 ms of CPU)
// is then no longer in its making, but where the read is mostly done.
func (vm *VM) newCPU(id int) (*CPU, error) {
	var fd uintptr
	err := retryEINTR(func() (err error) { fd, err = kvm.CreateVCPU(vm.fd, id); return })
	if err != nil {
		return nil, fmt.Errorf("%w: KVM_CREATE_VCPU: %v", ErrNoKVM, err)
	}
	run, err := unix.Mmap(int(fd), 0, vm.h.runSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(int(fd))
		return nil, fmt.Errorf("mapping kvm_run: %w", err)
	}
	c := &CPU{vm: vm, fd: fd, run: run, sync: vm.h.syncRegs}
	if c.sync {
		c.regs = (*kvm.Regs)(unsafe.Pointer(&run[runSyncRegs]))
		*(*uint64)(unsafe.Pointer(&run[runValidRegs])) = syncRegs
	} else {
		c.regs = &c.local
	}
	if vm.lapic && id != 0 {
		// An AP (any vCPU but the bootstrap one, id 0) with a local APIC
		// waits for INIT/SIPI in KVM_RUN until made runnable.
		st := uint32(mpStateRunnable)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, fd, ioctlSetMPState, uintptr(unsafe.Pointer(&st))); e != 0 {
			c.Close()
			return nil, fmt.Errorf("KVM_SET_MP_STATE: %w", e)
		}
	}
	return c, nil
}

// setCPUID gives the vCPU the supported CPUID table (KVM_SET_CPUID2),
// waiting for Open's goroutine to have read it; once.
func (c *CPU) setCPUID() error {
	if c.cpuidSet {
		return nil
	}
	_, raw, err := c.vm.h.supported()
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlSetCPUID2, uintptr(unsafe.Pointer(&raw[0]))); e != 0 {
		return fmt.Errorf("KVM_SET_CPUID2: %w", e)
	}
	c.cpuidSet = true
	return nil
}

// Close releases the vCPU.
func (c *CPU) Close() error {
	c.runMu.Lock()
	c.closed = true
	unix.Munmap(c.run)
	c.runMu.Unlock()
	return unix.Close(int(c.fd))
}

// Regs returns the general registers of the last exit. Changes must be
// followed by MarkDirty.
func (c *CPU) Regs() (*kvm.Regs, error) {
	if !c.sync && !c.fetched {
		r, err := kvm.GetRegs(c.fd)
		if err != nil {
			return nil, fmt.Errorf("KVM_GET_REGS: %w", err)
		}
		c.local = *r
		c.fetched = true
	}
	return c.regs, nil
}

// MarkDirty says the registers from Regs were changed.
func (c *CPU) MarkDirty() { c.dirty = true }

// Sregs reads the special registers (an ioctl: off the hot path).
func (c *CPU) Sregs() (*kvm.Sregs, error) { return kvm.GetSregs(c.fd) }

// SetSregs writes the special registers. Expensive: it resets the MMU
// context on shadow-paging hosts.
func (c *CPU) SetSregs(s *kvm.Sregs) error { return kvm.SetSregs(c.fd, s) }

// SetMSRs writes model-specific registers.
func (c *CPU) SetMSRs(msrs map[uint32]uint64) error {
	m := &kvm.MSRS{NMSRs: uint32(len(msrs))}
	for i, v := range msrs {
		m.Entries = append(m.Entries, kvm.MSREntry{Index: i, Data: v})
	}
	if err := kvm.SetMSRs(c.fd, m); err != nil {
		return fmt.Errorf("KVM_SET_MSRS: %w", err)
	}
	return nil
}

// ExitReason returns the reason of the last exit.
func (c *CPU) ExitReason() uint32 { return *(*uint32)(unsafe.Pointer(&c.run[runExitReason])) }

// IO describes an I/O exit: direction (1 = out), size, port.
func (c *CPU) IO() (out bool, size int, port uint16) {
	d := c.run[runExitData:]
	return d[0] == 1, int(d[1]), *(*uint16)(unsafe.Pointer(&d[2]))
}

// Internal describes a KVM_EXIT_INTERNAL_ERROR: its suberror (1
// emulation failure, 2 simultaneous exceptions, 3 delivery event
// failure...) and the data words KVM attached.
func (c *CPU) Internal() string {
	d := c.run[runExitData:]
	sub, n := *(*uint32)(unsafe.Pointer(&d[0])), *(*uint32)(unsafe.Pointer(&d[4]))
	s := fmt.Sprintf("suberror %d", sub)
	for i := 0; i < int(min(n, 16)); i++ {
		s += fmt.Sprintf(" %#x", *(*uint64)(unsafe.Pointer(&d[8+8*i])))
	}
	return s
}

// Run enters the guest until the next exit. It returns unix.EINTR when a
// signal interrupted the vCPU.
func (c *CPU) Run() error {
	if c.dirty {
		if c.sync {
			*(*uint64)(unsafe.Pointer(&c.run[runDirtyRegs])) = syncRegs
		} else if err := kvm.SetRegs(c.fd, &c.local); err != nil {
			return fmt.Errorf("KVM_SET_REGS: %w", err)
		}
		c.dirty = false
	}
	c.fetched = false
	_, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlRun, 0)
	if c.sync {
		*(*uint64)(unsafe.Pointer(&c.run[runDirtyRegs])) = 0
	}
	if e != 0 {
		return e
	}
	return nil
}

// ioctlGetVCPUEvents is KVM_GET_VCPU_EVENTS (_IOR(KVMIO, 0x9f, struct
// kvm_vcpu_events), 64 bytes).
const ioctlGetVCPUEvents = 0x8040ae9f

// EventPending reports whether KVM holds an exception or interrupt for the
// vCPU that it has not delivered yet (injected or pending). Registers
// changed now would have it delivered onto the new state: a fault of the
// interrupted user code landing in the shim's resume path.
func (c *CPU) EventPending() bool {
	var ev [64]byte
	_, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlGetVCPUEvents, uintptr(unsafe.Pointer(&ev[0])))
	if e != 0 {
		return false // no such ioctl: nothing known to be pending
	}
	// exception.injected, exception.pending; interrupt.injected.
	return ev[0] != 0 || ev[3] != 0 || ev[8] != 0
}

// ioctlSetVCPUEvents is KVM_SET_VCPU_EVENTS (_IOW(KVMIO, 0xa0, struct
// kvm_vcpu_events)).
const ioctlSetVCPUEvents = 0x4040aea0

// InjectException makes the vCPU take exception vector (no error code)
// before it runs anything else at its next KVM_RUN: delivered through the
// IDT as if raised by the instruction at RIP. The rest of the event state
// (NMI, interrupt shadow) is read and written back unchanged.
func (c *CPU) InjectException(vector uint8) error {
	var ev [64]byte
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlGetVCPUEvents, uintptr(unsafe.Pointer(&ev[0]))); e != 0 {
		return e
	}
	if ev[0] != 0 || ev[3] != 0 || ev[8] != 0 {
		return unix.EBUSY // an event of the guest's own comes first
	}
	ev[0], ev[1], ev[2], ev[3] = 1, vector, 0, 0 // exception: injected, nr, no error code, not pending
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, c.fd, ioctlSetVCPUEvents, uintptr(unsafe.Pointer(&ev[0]))); e != 0 {
		return e
	}
	return nil
}

// CompleteIO finishes what KVM still owes an I/O exit (an `in`'s data in
// RAX, the step past the instruction) without running the guest: KVM does
// it at the start of the next KVM_RUN, and on some hosts (PVM emulates
// user-mode port I/O) it then overwrites registers the VMM changed
// meanwhile. The caller sets the registers it wants afterwards.
func (c *CPU) CompleteIO() error {
	c.SetImmediateExit(true)
	err := c.Run()
	c.SetImmediateExit(false)
	if err != nil && err != unix.EINTR {
		return fmt.Errorf("KVM_RUN (completing I/O): %w", err)
	}
	return nil
}

// SetImmediateExit sets kvm_run.immediate_exit: while set, KVM_RUN returns
// EINTR at once instead of entering the guest. Another thread sets it
// before signalling the vCPU's thread, so a kick cannot fall between a
// check and the next KVM_RUN. (Bytes 0..3 of kvm_run are
// request_interrupt_window, which kshim keeps 0, and immediate_exit.)
func (c *CPU) SetImmediateExit(on bool) {
	v := uint32(0)
	if on {
		v = 1 << 8
	}
	c.runMu.RLock()
	if !c.closed {
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&c.run[0])), v)
	}
	c.runMu.RUnlock()
}

// Describe returns a one-line account of the vCPU state for error messages.
func (c *CPU) Describe() string {
	r, err := c.Regs()
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("rip=%#x rsp=%#x rflags=%#x", r.RIP, r.RSP, r.RFLAGS)
	if sr, err := c.Sregs(); err == nil {
		s += fmt.Sprintf(" cs=%#x cr2=%#x cr3=%#x", sr.CS.Selector, sr.CR2, sr.CR3)
	}
	return s
}

// hwcap returns AT_HWCAP for x86-64: CPUID.1:EDX as the guest sees it.
func (h *Hypervisor) hwcap() uint64 {
	cpuid, _, err := h.supported()
	if err != nil {
		return 0
	}
	for _, e := range cpuid.Entries[:cpuid.Nent] {
		if e.Function == 1 {
			return uint64(e.Edx)
		}
	}
	return 0
}
