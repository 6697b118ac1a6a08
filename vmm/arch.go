// arch.go: the kernel.Arch the personality uses to change the vCPU.
package vmm

import (
	"encoding/binary"
	"fmt"
	"unsafe"

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
// and their rt_sigreturn still carry only the fxsave area.
const (
	ioctlGetXSAVE = 0x9000aea4 // _IOR(KVMIO, 0xa4, struct kvm_xsave)
	ioctlSetXSAVE = 0x5000aea5 // _IOW(KVMIO, 0xa5, struct kvm_xsave)
	xsaveSize     = 4096
	fxMXCSR       = 24
	fxMXCSRMask   = 28
	xstateBV      = 512 // XSAVE header: which components the image holds
	xfeatureFPSSE = 3
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
	var x [xsaveSize]byte
	if err := a.xsave(ioctlGetXSAVE, &x); err != nil {
		return nil, err
	}
	b := make([]byte, 512)
	copy(b, x[:512])
	le := binary.LittleEndian
	if le.Uint32(b[fxMXCSRMask:]) == 0 {
		le.PutUint32(b[fxMXCSRMask:], 0xffbf) // the architectural default mask
	}
	// Bytes 464..511 are software-available; Linux leaves its magic there
	// only for xsave frames, which these are not.
	clear(b[464:])
	return b, nil
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
		mask = 0xffbf
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
	le.PutUint16(x[0:], 0x037f)
	le.PutUint32(x[fxMXCSR:], 0x1f80)
	le.PutUint64(x[xstateBV:], xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}

// ResetFPU gives the vCPU the initial FPU state (FNINIT control word,
// default MXCSR, zero registers), as Linux does before a signal handler.
// The other components (AVX) keep their state: the signal frame carries
// only the fxsave area, so a handler that started with them cleared
// would leave the interrupted code without them.
func (a *Arch) ResetFPU() error {
	var x [xsaveSize]byte
	if err := a.xsave(ioctlGetXSAVE, &x); err != nil {
		return err
	}
	le := binary.LittleEndian
	mask := le.Uint32(x[fxMXCSRMask:])
	clear(x[:464])
	le.PutUint16(x[0:], 0x037f)
	le.PutUint32(x[fxMXCSR:], 0x1f80)
	le.PutUint32(x[fxMXCSRMask:], mask)
	le.PutUint64(x[xstateBV:], le.Uint64(x[xstateBV:])|xfeatureFPSSE)
	return a.xsave(ioctlSetXSAVE, &x)
}
