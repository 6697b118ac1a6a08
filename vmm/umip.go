// umip.go: User-Mode Instruction Prevention. Without it a program's sgdt,
// sidt, sldt, str and smsw read the shim's descriptor-table addresses. With
// CR4.UMIP (when the CPU and the hypervisor allow it) they raise #GP, and
// kshim answers as Linux (6.x) does: each gets a fixed dummy value
// (arch/x86/kernel/umip.c), written to the memory or register operand.
package vmm

import (
	"encoding/binary"
	"unsafe"

	"kshim/syscalls/kernel"
)

const cr4UMIP = 1 << 11

// Linux's dummy answers.
const (
	umipGDTBase = 0xfffffffffffe0000
	umipIDTBase = 0xffffffffffff0000
	umipCR0     = cr0PE | cr0MP | cr0ET | cr0NE | cr0WP | cr0AM | cr0PG
	umipTR      = 0x40 // Linux's TSS selector (GDT entry 8)
)

// hasUMIP reports whether the supported CPUID offers UMIP (leaf 7, ECX
// bit 2).
func (h *Hypervisor) hasUMIP() bool {
	cpuid, _, err := h.supported()
	if err != nil {
		return false
	}
	for _, e := range cpuid.Entries[:cpuid.Nent] {
		if e.Function == 7 && e.Index == 0 {
			return e.Ecx&(1<<2) != 0
		}
	}
	return false
}

// gprIndex maps an x86 register number (ModRM/SIB encoding) to its place
// in Regs.
var gprIndex = [16]int{0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15}

func gpr(u *kernel.Regs, n int) *uint64 {
	a := (*[18]uint64)(unsafe.Pointer(u))
	return &a[gprIndex[n]]
}

// emulateUMIP handles a #GP at u.RIP if it is a UMIP-covered instruction:
// it writes the dummy result, steps past the instruction
// and reports true. A fault writing a memory operand is reported as
// (false, addr) so the caller sends SIGSEGV for it.
func emulateUMIP(p *kernel.Process, u *kernel.Regs) (done bool, faultAddr uint64) {
	var b [15]byte
	n, _ := p.MM.CopyIn(u.RIP, b[:])
	if n == 0 {
		// Try what is readable up to the end of the page.
		n, _ = p.MM.CopyIn(u.RIP, b[:min(15, 0x1000-u.RIP&0xfff)])
	}
	code := b[:n]
	i := 0
	var opsize16, addr32 bool
	var segBase uint64
prefixes:
	for ; i < len(code); i++ {
		switch code[i] {
		case 0x66:
			opsize16 = true
		case 0x67:
			addr32 = true
		case 0x64:
			segBase = p.Arch.FSBase()
		case 0x65:
			segBase = p.Arch.GSBase()
		case 0x26, 0x2e, 0x36, 0x3e, 0xf2, 0xf3:
		default:
			break prefixes
		}
	}
	rex := byte(0)
	if i < len(code) && code[i]&0xf0 == 0x40 {
		rex = code[i]
		i++
	}
	if i+3 > len(code) || code[i] != 0x0f || code[i+1] > 1 {
		return false, 0
	}
	group7 := code[i+1] == 1 // 0f 01: sgdt, sidt, smsw; 0f 00: sldt, str
	modrm := code[i+2]
	i += 3
	mod, reg, rm := modrm>>6, int(modrm>>3&7), int(modrm&7)
	// A register operand takes the operand size; memory gets two bytes.
	regSize := 4
	switch {
	case rex&8 != 0:
		regSize = 8
	case opsize16:
		regSize = 2
	}
	var val []byte
	switch {
	case !group7 && (reg == 0 || reg == 1): // sldt, str
		v := uint64(0)
		if reg == 1 {
			v = umipTR
		}
		val = binary.LittleEndian.AppendUint64(nil, v)[:2]
		if mod == 3 {
			val = binary.LittleEndian.AppendUint64(nil, v)[:regSize]
		}
	case !group7:
		return false, 0
	case reg == 0, reg == 1: // sgdt, sidt: limit 0 and a dummy base
		if mod == 3 {
			return false, 0
		}
		val = make([]byte, 10)
		base := uint64(umipGDTBase)
		if reg == 1 {
			base = umipIDTBase
		}
		binary.LittleEndian.PutUint64(val[2:], base)
	case reg == 4: // smsw
		val = binary.LittleEndian.AppendUint64(nil, umipCR0)[:2]
		if mod == 3 {
			val = binary.LittleEndian.AppendUint64(nil, umipCR0)[:regSize]
		}
	default:
		return false, 0
	}
	if rex&1 != 0 {
		rm += 8
	}
	if mod == 3 {
		r := gpr(u, rm)
		var w [8]byte // Linux writes the operand's bytes, no zero extension
		binary.LittleEndian.PutUint64(w[:], *r)
		copy(w[:], val)
		*r = binary.LittleEndian.Uint64(w[:])
		u.RIP += uint64(i)
		return true, 0
	}
	// The memory operand.
	var addr uint64
	switch {
	case rm&7 == 4: // SIB
		if i >= len(code) {
			return false, 0
		}
		sib := code[i]
		i++
		scale, index, base := sib>>6, int(sib>>3&7), int(sib&7)
		if rex&2 != 0 {
			index += 8
		}
		if rex&1 != 0 {
			base += 8
		}
		if index != 4 {
			addr += *gpr(u, index) << scale
		}
		if base&7 == 5 && mod == 0 {
			if i+4 > len(code) {
				return false, 0
			}
			addr += uint64(int64(int32(binary.LittleEndian.Uint32(code[i:]))))
			i += 4
		} else {
			addr += *gpr(u, base)
		}
	case rm&7 == 5 && mod == 0: // RIP-relative
		if i+4 > len(code) {
			return false, 0
		}
		disp := int64(int32(binary.LittleEndian.Uint32(code[i:])))
		i += 4
		addr = u.RIP + uint64(i) + uint64(disp)
	default:
		addr = *gpr(u, rm)
	}
	switch mod {
	case 1:
		if i >= len(code) {
			return false, 0
		}
		addr += uint64(int64(int8(code[i])))
		i++
	case 2:
		if i+4 > len(code) {
			return false, 0
		}
		addr += uint64(int64(int32(binary.LittleEndian.Uint32(code[i:]))))
		i += 4
	}
	if addr32 {
		addr = uint64(uint32(addr))
	}
	addr += segBase
	if _, err := p.MM.CopyOut(addr, val); err != nil {
		return false, addr
	}
	u.RIP += uint64(i)
	return true, 0
}

// umip emulates a UMIP #GP (vector 13, error 0) on a vCPU that runs with
// CR4.UMIP. done: the exception is dealt with (addr nonzero: writing the
// result faulted there, a SIGSEGV for the program).
func (c *VCPU) umip(p *kernel.Process, vec, code uint64, u *kernel.Regs) (done bool, addr uint64) {
	if vec != 13 || code != 0 || !c.m.umip {
		return false, 0
	}
	ok, fa := emulateUMIP(p, u)
	return ok || fa != 0, fa
}
