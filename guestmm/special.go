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

// MapFrames maps frames, in order, at addr (page aligned, free) with prot
// (which must not include PROT_WRITE) and the given /proc/self/maps name.
func (mm *MM) MapFrames(addr uint64, frames []uint64, prot int, name string) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	defer mm.after()
	length := uint64(len(frames)) * PageSize
	if prot&unix.PROT_WRITE != 0 || addr%PageSize != 0 || length == 0 || addr+length > UserTop {
		return unix.EINVAL
	}
	if len(mm.overlapping(addr, addr+length)) != 0 {
		return unix.EEXIST
	}
	v := &VMA{Start: addr, End: addr + length, Prot: prot, Flags: Anonymous, Name: name, Off: anonBase}
	v.Obj = newObject(false, nil, 0)
	for i, pa := range frames {
		mm.mem.Ref(pa)
		v.Obj.pages[anonBase+uint64(i)] = pa
	}
	mm.vmas.ReplaceOrInsert(v)
	mm.lockedPopulate(addr, addr+length) // around.go: no fault for the first use
	return nil
}
