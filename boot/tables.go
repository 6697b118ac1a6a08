// tables.go encodes the x86-64 descriptor tables the guest runs with. They
// are built once per VM by the VMM and never change while the guest runs.
package boot

import "encoding/binary"

// Segment descriptor access bits.
const (
	segPresent = 1 << 47
	segCode    = 0b11011 << 40 // S=1, executable, readable, accessed (no CPU writes)
	segData    = 0b10011 << 40 // S=1, writable, accessed
	segLong    = 1 << 53
	segGran    = 1 << 55
	segDPL3    = 3 << 45
)

// GDT returns the global descriptor table: null, kernel code/data, user
// data/code and a 64-bit TSS descriptor for the TSS at tssAddr.
func GDT() []byte {
	limit := uint64(0xf)<<48 | 0xffff
	descs := []uint64{
		0,
		segPresent | segCode | segLong | segGran | limit,
		segPresent | segData | segGran | limit,
		segPresent | segData | segGran | segDPL3 | limit,
		segPresent | segCode | segLong | segGran | segDPL3 | limit,
	}
	b := make([]byte, 8*(len(descs)+2))
	for i, d := range descs {
		binary.LittleEndian.PutUint64(b[8*i:], d)
	}
	lo, hi := tssDescriptor(TSSAddr, TSSLimit)
	binary.LittleEndian.PutUint64(b[8*len(descs):], lo)
	binary.LittleEndian.PutUint64(b[8*len(descs)+8:], hi)
	return b
}

func tssDescriptor(base uint64, limit uint32) (lo, hi uint64) {
	lo = uint64(limit&0xffff) | (base&0xffffff)<<16 |
		uint64(0x89)<<40 | // present, type 9: available 64-bit TSS
		uint64(limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	hi = base >> 32
	return lo, hi
}

// GDTLimit is the GDT's limit (size - 1) for the GDTR.
var GDTLimit = uint16(len(GDT()) - 1)

// IDT returns the interrupt descriptor table: the 32 exception vectors
// on IST1 (int3 and into reachable from user mode, as on Linux), except
// #UD on IST2: the VMM's flush requests are deliberate #UDs, and one may
// come while an exception's frame still occupies IST1 (a drain in the
// middle of handling a fault).
func IDT() []byte {
	b := make([]byte, 256*16)
	for v := 0; v < exceptionVectors; v++ {
		dpl := 0
		if v == 3 || v == 4 {
			dpl = 3
		}
		ist := 1
		if v == 6 {
			ist = 2
		}
		putGate(b[16*v:], vectorsEntry+uint64(v)*exceptionStubSize, dpl, ist)
	}
	// The VMM's injected flush request: straight to kret (kflush, then
	// iretq), the frame being the bare iret frame of a vector without an
	// error code.
	putGate(b[16*FlushVector:], KernelReturn, 0, 1)
	putGate(b[16*FlushVectorOne:], KernelFlushOne, 0, 1)
	putGate(b[16*FlushVectorOneReload:], KernelFlushOneReload, 0, 1)
	return b
}

// IDTLimit is the IDT's limit for the IDTR.
const IDTLimit = 256*16 - 1

func putGate(b []byte, handler uint64, dpl, ist int) {
	lo := handler&0xffff | uint64(KernelCS)<<16 | uint64(ist)<<32 |
		uint64(0x8e|dpl<<5)<<40 | // present, 64-bit interrupt gate (IF cleared)
		(handler>>16&0xffff)<<48
	binary.LittleEndian.PutUint64(b, lo)
	binary.LittleEndian.PutUint64(b[8:], handler>>32)
}

// The TSS is followed by an I/O permission bitmap that opens only
// PortSyscall to CPL 3: the user stub exits with `out` from user mode
// where `syscall` does not change privilege (PVM), and every other port
// stays closed to the program.
const (
	tssSize    = 0x68
	ioMapBase  = tssSize
	ioMapBytes = 65536/8 + 1 // one byte of all-ones ends the bitmap
	// TSSLimit covers the TSS and its bitmap.
	TSSLimit = uint32(ioMapBase + ioMapBytes - 1)
)

// TSS returns the task-state segment with its I/O bitmap.
func TSS() []byte {
	b := make([]byte, ioMapBase+ioMapBytes)
	binary.LittleEndian.PutUint64(b[0x04:], IST1Top) // RSP0: unused with IST, kept sane
	binary.LittleEndian.PutUint64(b[0x24:], IST1Top) // IST1
	binary.LittleEndian.PutUint64(b[0x2c:], IST2Top) // IST2 (#UD)
	binary.LittleEndian.PutUint16(b[0x66:], ioMapBase)
	bm := b[ioMapBase:]
	for i := range bm {
		bm[i] = 0xff
	}
	bm[PortSyscall/8] &^= 1 << (PortSyscall % 8)
	return b
}
