// special.go: mappings of memory the VMM provides (the vDSO and its data
// page), as Linux's special mappings.
//
// Invariant: the frames belong to the VMM, which keeps its own reference;
// each mapping takes one more per frame (ept.Memory.Ref) through a private
// object, so fork shares them like any private page and munmap or exit
// only drops references. They are mapped without write access, so the
// guest can never copy them on write.
package guestmm

import (
	"golang.org/x/sys/unix"
)

// Special is one piece of a special mapping: the VMM's frames, in order,
// with prot (never PROT_WRITE) and a /proc/self/maps name.
type Special struct {
	Frames []uint64
	Prot   int
	Name   string
}

// MapSpecial maps pieces back to back from addr (page aligned, free; 0:
// the highest free range below the mmap base, where get_unmapped_area
// places Linux's vDSO). It returns the address of the first.
func (mm *MM) MapSpecial(addr uint64, pieces ...Special) (uint64, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	defer mm.after()
	var length uint64
	for _, p := range pieces {
		if p.Prot&unix.PROT_WRITE != 0 || len(p.Frames) == 0 {
			return 0, unix.EINVAL
		}
		length += uint64(len(p.Frames)) * PageSize
	}
	if length == 0 || length > UserTop {
		return 0, unix.EINVAL
	}
	if addr == 0 {
		var ok bool
		if addr, ok = mm.findFree(0, length); !ok {
			return 0, unix.ENOMEM
		}
	}
	if addr%PageSize != 0 || addr > UserTop-length {
		return 0, unix.EINVAL
	}
	if len(mm.overlapping(addr, addr+length)) != 0 {
		return 0, unix.EEXIST
	}
	at := addr
	for _, p := range pieces {
		end := at + uint64(len(p.Frames))*PageSize
		v := &VMA{Start: at, End: end, Prot: p.Prot, Flags: Anonymous, Name: p.Name, Off: anonBase}
		v.Obj = newObject(false, nil, 0)
		for i, pa := range p.Frames {
			mm.mem.Ref(pa)
			v.Obj.pages[anonBase+uint64(i)] = pa
		}
		mm.vmas.ReplaceOrInsert(v)
		at = end
	}
	mm.lockedPopulate(addr, addr+length) // around.go: no fault for the first use
	return addr, nil
}
