// arch.go: the syscalls.Arch the personality uses to change the vCPU.
package vmm

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kvm_fpu (include/uapi/asm/kvm.h).
type kvmFPU struct {
	FPR        [8][16]byte
	FCW, FSW   uint16
	FTWX, pad1 uint8
	LastOpcode uint16
	LastIP     uint64
	LastDP     uint64
	XMM        [16][16]byte
	MXCSR      uint32
	pad2       uint32
}

const (
	ioctlGetFPU = 0x81a0ae8c // _IOR(KVMIO, 0x8c, struct kvm_fpu)
	ioctlSetFPU = 0x41a0ae8d // _IOW(KVMIO, 0x8d, struct kvm_fpu)
)

// Arch implements syscalls.Arch for a machine's vCPU.
type Arch struct {
	m              *Machine
	fsBase, gsBase uint64
}

// Arch returns the vCPU's syscalls.Arch.
func (m *Machine) Arch() *Arch { return &Arch{m: m} }

// SetFSBase sets FS.base (an MSR write, not KVM_SET_SREGS, which would
// reset the shadow MMU).
func (a *Arch) SetFSBase(v uint64) error {
	if err := a.m.CPU.SetMSRs(map[uint32]uint64{msrFSBase: v}); err != nil {
		return err
	}
	a.fsBase = v
	return nil
}

// SetGSBase sets GS.base.
func (a *Arch) SetGSBase(v uint64) error {
	if err := a.m.CPU.SetMSRs(map[uint32]uint64{msrGSBase: v}); err != nil {
		return err
	}
	a.gsBase = v
	return nil
}

// FSBase returns FS.base.
func (a *Arch) FSBase() uint64 { return a.fsBase }

// GSBase returns GS.base.
func (a *Arch) GSBase() uint64 { return a.gsBase }

// SaveFPU returns the x87/SSE state as an fxsave image.
func (a *Arch) SaveFPU() ([]byte, error) {
	var f kvmFPU
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, a.m.CPU.fd, ioctlGetFPU, uintptr(unsafe.Pointer(&f))); e != 0 {
		return nil, fmt.Errorf("KVM_GET_FPU: %w", e)
	}
	b := make([]byte, 512)
	le := binary.LittleEndian
	le.PutUint16(b[0:], f.FCW)
	le.PutUint16(b[2:], f.FSW)
	b[4] = f.FTWX
	le.PutUint16(b[6:], f.LastOpcode)
	le.PutUint64(b[8:], f.LastIP)
	le.PutUint64(b[16:], f.LastDP)
	le.PutUint32(b[24:], f.MXCSR)
	le.PutUint32(b[28:], 0xffff) // MXCSR_MASK
	for i := range f.FPR {
		copy(b[32+16*i:], f.FPR[i][:])
	}
	for i := range f.XMM {
		copy(b[160+16*i:], f.XMM[i][:])
	}
	return b, nil
}

// RestoreFPU loads an fxsave image; a reserved MXCSR bit is refused as the
// CPU would (#GP), so a forged frame cannot break the vCPU.
func (a *Arch) RestoreFPU(b []byte) error {
	if len(b) < 512 {
		return fmt.Errorf("short FPU image")
	}
	le := binary.LittleEndian
	var f kvmFPU
	f.FCW, f.FSW, f.FTWX = le.Uint16(b[0:]), le.Uint16(b[2:]), b[4]
	f.LastOpcode, f.LastIP, f.LastDP = le.Uint16(b[6:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	f.MXCSR = le.Uint32(b[24:])
	if f.MXCSR&^0xffff != 0 {
		return fmt.Errorf("reserved MXCSR bits in %#x", f.MXCSR)
	}
	for i := range f.FPR {
		copy(f.FPR[i][:], b[32+16*i:])
	}
	for i := range f.XMM {
		copy(f.XMM[i][:], b[160+16*i:])
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, a.m.CPU.fd, ioctlSetFPU, uintptr(unsafe.Pointer(&f))); e != 0 {
		return fmt.Errorf("KVM_SET_FPU: %w", e)
	}
	return nil
}
