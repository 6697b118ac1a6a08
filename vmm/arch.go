// arch.go: the kernel.Arch the personality uses to change the vCPU.
package vmm

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

// Arch implements kernel.Arch for a vCPU.
type Arch struct {
	c *VCPU
	// fsBase and gsBase are the MSRs' values while a task runs (its
	// start writes both: loadBases; the program cannot write them
	// itself, CR4.FSGSBASE being clear), so setting one to the value it
	// has makes no host call (execve's resets, a clone's TLS when the
	// same). Until a task's state is loaded (unloaded: a new or released
	// vCPU) a set only records the value, which loadBases then writes
	// with the rest: a clone's child gets its parent's FS base that way.
	fsBase, gsBase uint64
	unloaded       bool
}

// Arch returns the vCPU's kernel.Arch.
func (c *VCPU) Arch() kernel.Arch { return c.arch }

// SetFSBase sets FS.base (an MSR write, not KVM_SET_SREGS, which would
// reset the shadow MMU).
func (a *Arch) SetFSBase(v uint64) error {
	if v == a.fsBase || a.unloaded {
		a.fsBase = v // the MSR holds it, or loadBases will write it
		return nil
	}
	if err := a.c.CPU.SetMSRs(map[uint32]uint64{msrFSBase: v}); err != nil {
		return err
	}
	a.fsBase = v
	return nil
}

// SetGSBase sets GS.base.
func (a *Arch) SetGSBase(v uint64) error {
	if v == a.gsBase || a.unloaded {
		a.gsBase = v
		return nil
	}
	if err := a.c.CPU.SetMSRs(map[uint32]uint64{msrGSBase: v}); err != nil {
		return err
	}
	a.gsBase = v
	return nil
}

// FSBase returns FS.base.
func (a *Arch) FSBase() uint64 { return a.fsBase }

// GSBase returns GS.base.
func (a *Arch) GSBase() uint64 { return a.gsBase }

// The FPU state travels as KVM's xsave image (KVM_GET/SET_XSAVE), whose
// first 512 bytes are the fxsave layout the signal frame uses. KVM_GET_FPU
// and KVM_SET_FPU would be simpler but leave MXCSR out. The guest's CR4
// has no OSXSAVE, but on PVM user code runs under the host's CR4 and has
// AVX (glibc's string functions use it): the upper halves of the ymm
// registers, and whatever else XCR0 enables, are user-visible state too.
// A new task gets its creator's whole image (SaveAllFPU, RestoreFPU);
// before, a fork child or thread kept what its vCPU's last task left
// there, another process's registers (images/fpu_fork.c). Signal frames
// carry the whole XSAVE state where user code has it (XFrame): KVM's image
// is the standard (non-compacted) format at the CPUID offsets, the layout
// Linux's frame has; elsewhere only the fxsave area.
const (
	ioctlGetXSAVE = 0x9000aea4 // _IOR(KVMIO, 0xa4, struct kvm_xsave)
	ioctlSetXSAVE = 0x5000aea5 // _IOW(KVMIO, 0xa5, struct kvm_xsave)
	xsaveSize     = 4096
	fxMXCSR       = 24
	fxMXCSRMask   = 28
	xstateBV      = 512 // XSAVE header: which components the image holds
	xfeatureFPSSE = 3
	fcwInit       = 0x037f // FNINIT's x87 control word
	mxcsrInit     = 0x1f80 // MXCSR at reset
	mxcsrMaskDflt = 0xffbf // the architectural default MXCSR_MASK
)

func (a *Arch) xsave(op uintptr, b *[xsaveSize]byte) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, a.c.CPU.fd, op, uintptr(unsafe.Pointer(b))); e != 0 {
		if op == ioctlGetXSAVE {
			return fmt.Errorf("KVM_GET_XSAVE: %w", e)
		}
		return fmt.Errorf("KVM_SET_XSAVE: %w", e)
	}
	return nil
}

// SaveFPU returns the x87/SSE state as an fxsave image.
func (a *Arch) SaveFPU() ([]byte, error) {
	x, err := a.saveFrameImage()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), x[:512]...), nil
}

// saveFrameImage reads the vCPU's xsave image with its fxsave area as a
// signal frame shows it: MXCSR_MASK filled in where KVM reads 0, and the
// software-available bytes 464..511 cleared (the frame's own, where
// Linux puts its magic only for xsave frames).
func (a *Arch) saveFrameImage() (*[xsaveSize]byte, error) {
	x := new([xsaveSize]byte)
	if err := a.xsave(ioctlGetXSAVE, x); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(x[fxMXCSRMask:]) == 0 {
		le.PutUint32(x[fxMXCSRMask:], mxcsrMaskDflt)
	}
	clear(x[464:512])
	return x, nil
}

// SaveAllFPU returns the whole xsave image (kernel.FullFPU): what a new
// task gets from the one that made it.
func (a *Arch) SaveAllFPU() ([]byte, error) {
	x := new([xsaveSize]byte)
	if err := a.xsave(ioctlGetXSAVE, x); err != nil {
		return nil, err
	}
	return x[:], nil
}

// RestoreFPU loads an fxsave image; a reserved MXCSR bit is refused as the
// CPU would (#GP), so a forged frame cannot break the vCPU. An image of
// xsaveSize bytes is a whole one SaveAllFPU made (the VMM's own, never
// the guest's: a signal frame's is 512 bytes) and is loaded as it is.
func (a *Arch) RestoreFPU(b []byte) error {
	if len(b) == xsaveSize {
		return a.xsave(ioctlSetXSAVE, (*[xsaveSize]byte)(b))
	}
	if len(b) < 512 {
		return fmt.Errorf("short FPU image")
	}
	var x [xsaveSize]byte
	if err := a.xsave(ioctlGetXSAVE, &x); err != nil {
		return err
	}
	le := binary.LittleEndian
	mask := le.Uint32(x[fxMXCSRMask:])
	if mask == 0 {
		mask = mxcsrMaskDflt
	}
	if mxcsr := le.Uint32(b[fxMXCSR:]); mxcsr&^mask != 0 {
		return fmt.Errorf("reserved MXCSR bits in %#x", mxcsr)
	}
	copy(x[:fxMXCSRMask], b[:fxMXCSRMask])
	copy(x[32:464], b[32:464])
	le.PutUint64(x[xstateBV:], le.Uint64(x[xstateBV:])|xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}

// InitFPU gives the vCPU the initial state of every FPU component, the
// AVX registers included (kernel.FullFPU), as Linux's execve does
// (fpu_flush_thread): the image names only x87 and SSE as present
// (xstate_bv), so KVM loads every other component in its initial state.
// No KVM_GET_XSAVE first: nothing of the old state is kept (XRSTOR does
// not load MXCSR_MASK, which SaveFPU fills in when it reads 0).
func (a *Arch) InitFPU() error {
	var x [xsaveSize]byte
	le := binary.LittleEndian
	le.PutUint16(x[0:], fcwInit)
	le.PutUint32(x[fxMXCSR:], mxcsrInit)
	le.PutUint64(x[xstateBV:], xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}

// ResetFPU gives the vCPU the initial FPU state (FNINIT control word,
// default MXCSR, zero registers), as Linux does before a signal handler.
// The other components (AVX) keep their state: it serves where signal
// frames carry only the fxsave area (XFrame 0), which a handler that
// started with them cleared would leave the interrupted code without.
func (a *Arch) ResetFPU() error {
	var x [xsaveSize]byte
	if err := a.xsave(ioctlGetXSAVE, &x); err != nil {
		return err
	}
	le := binary.LittleEndian
	mask := le.Uint32(x[fxMXCSRMask:])
	clear(x[:464])
	le.PutUint16(x[0:], fcwInit)
	le.PutUint32(x[fxMXCSR:], mxcsrInit)
	le.PutUint32(x[fxMXCSRMask:], mask)
	le.PutUint64(x[xstateBV:], le.Uint64(x[xstateBV:])|xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}

// XFrame returns the XSAVE components a signal frame carries and the size
// of their image (Linux's xfeatures and xstate_size: the standard format,
// header included, without FP_XSTATE_MAGIC2), or 0, 0 where user code has
// only x87 and SSE state and the frame is fxsave only. On PVM user code
// runs under the host's CR4 and XCR0, so it has every component KVM
// supports for guests (KVM_GET_SUPPORTED_CPUID leaf 0xD: a subset of the
// host's XCR0, at the host's offsets, which KVM's image uses); AMX tile
// data is left out (Linux gives it only on request, and KVM_GET_XSAVE's
// 4096 bytes cannot hold it), as is anything past those 4096 bytes. On
// VMX/SVM the guest's CR4 has no OSXSAVE: fxsave frames, as Linux's on a
// CPU without XSAVE.
func (a *Arch) XFrame() (features uint64, size int) {
	m := a.c.m
	m.xframeOnce.Do(func() { m.xfeatures, m.xsize = m.xframeLayout() })
	return m.xfeatures, m.xsize
}

func (m *Machine) xframeLayout() (uint64, int) {
	if _, pvm := m.path.(cpl3Path); !pvm {
		return 0, 0
	}
	cpuid, _, err := m.h.supported()
	if err != nil {
		return 0, 0
	}
	leaf := func(i uint32) (kvm.CPUIDEntry2, bool) {
		for _, e := range cpuid.Entries[:cpuid.Nent] {
			if e.Function == 0xd && e.Index == i {
				return e, true
			}
		}
		return kvm.CPUIDEntry2{}, false
	}
	e0, ok := leaf(0)
	if !ok {
		return 0, 0
	}
	f := (uint64(e0.Eax) | uint64(e0.Edx)<<32) &^ (1 << 18) // XTILEDATA
	if f&xfeatureFPSSE != xfeatureFPSSE || f == xfeatureFPSSE {
		return 0, 0
	}
	size := 576 // fxsave area and XSAVE header
	for i := uint32(2); i < 64; i++ {
		if f&(1<<i) == 0 {
			continue
		}
		e, ok := leaf(i)
		if end := int(e.Ebx) + int(e.Eax); !ok || e.Eax == 0 || end > xsaveSize {
			f &^= 1 << i
		} else if end > size {
			size = end
		}
	}
	return f, size
}

// SaveXFrame returns the XSAVE image of XFrame's size for a signal frame:
// xstate_bv names only XFrame's components, and always x87 and SSE (as
// Linux's frames do, so a program that edits the fxsave area alone has it
// restored). The software-reserved bytes are the caller's.
func (a *Arch) SaveXFrame() ([]byte, error) {
	features, size := a.XFrame()
	x, err := a.saveFrameImage()
	if err != nil {
		return nil, err
	}
	b := x[:size]
	le := binary.LittleEndian
	le.PutUint64(b[xstateBV:], le.Uint64(b[xstateBV:])&features|xfeatureFPSSE)
	clear(b[xstateBV+8 : 576]) // xcomp_bv and the reserved header bytes
	return b, nil
}

// RestoreXFrame loads a signal frame's XSAVE image as XRSTOR with
// requested-feature mask rfbm would, and every other component in its
// initial state (Linux's sigreturn: init_bv). What XRSTOR refuses with
// #GP is refused here too (the caller's SIGSEGV): an xstate_bv bit user
// code has not got, a compacted or nonzero reserved header, and a
// reserved MXCSR bit, which KVM_SET_XSAVE refuses itself (EINVAL) with
// the host's MXCSR mask: DAZ and AMD's MM bit are allowed where the CPU
// has them, as XRSTOR does. rfbm 3 with an image of 512 bytes is the
// fxsave-only fallback (a frame without valid magic).
func (a *Arch) RestoreXFrame(img []byte, rfbm uint64) error {
	features, size := a.XFrame()
	le := binary.LittleEndian
	if len(img) < 512 {
		return fmt.Errorf("short FPU image")
	}
	var x [xsaveSize]byte
	rfbm &= features | xfeatureFPSSE
	bv := uint64(xfeatureFPSSE)
	if len(img) != 512 {
		if len(img) < 576 || len(img) > size {
			return fmt.Errorf("bad XSAVE image size %d", len(img))
		}
		for _, c := range img[xstateBV+8 : 576] {
			if c != 0 {
				return fmt.Errorf("compacted or reserved XSAVE header")
			}
		}
		bv = le.Uint64(img[xstateBV:])
		if bv&^features != 0 {
			return fmt.Errorf("xstate_bv %#x beyond XCR0 %#x", bv, features)
		}
		bv &= rfbm
		copy(x[576:], img[576:])
	}
	// MXCSR and x87/SSE registers: what the image holds, or their
	// initial values where xstate_bv leaves them out.
	copy(x[:464], img[:464])
	if bv&1 == 0 {
		clear(x[:fxMXCSR])
		clear(x[32:160])
		le.PutUint16(x[0:], fcwInit)
	}
	if bv&2 == 0 {
		clear(x[160:464])
	}
	if rfbm&6 == 0 {
		le.PutUint32(x[fxMXCSR:], mxcsrInit)
	}
	le.PutUint32(x[fxMXCSRMask:], 0)
	// Components outside xstate_bv: zero in the image, loaded in their
	// initial state by KVM_SET_XSAVE. x87 and SSE are always present
	// (their init values are written out above).
	for i := 2; i < 64; i++ {
		if bv&(1<<i) == 0 {
			a.clearComponent(x[:], i)
		}
	}
	le.PutUint64(x[xstateBV:], bv|xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}

// clearComponent zeroes component i of a standard-format image.
func (a *Arch) clearComponent(x []byte, i int) {
	cpuid, _, err := a.c.m.h.supported()
	if err != nil {
		return
	}
	for _, e := range cpuid.Entries[:cpuid.Nent] {
		if e.Function == 0xd && e.Index == uint32(i) {
			if end := int(e.Ebx) + int(e.Eax); e.Ebx >= 576 && end <= len(x) {
				clear(x[e.Ebx:end])
			}
			return
		}
	}
}
