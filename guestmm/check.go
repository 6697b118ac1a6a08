// check.go: the invariant checker (see the package comment).
package guestmm

import (
	"fmt"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// Check verifies the invariants between the range map, the objects and the
// page tables. It is O(mapped pages) and meant for tests and debugging.
func (mm *MM) Check() error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedCheck()
}

func (mm *MM) lockedCheck() error {
	var prev *VMA
	var err error
	owner := map[uint64]uint64{} // frame -> va that maps it (private objects)
	mm.vmas.Ascend(func(v *VMA) bool {
		switch {
		case v.Start%PageSize != 0 || v.End%PageSize != 0:
			err = fmt.Errorf("vma [%#x,%#x) not page aligned", v.Start, v.End)
		case v.Start >= v.End:
			err = fmt.Errorf("vma [%#x,%#x) empty", v.Start, v.End)
		case v.End > UserTop:
			err = fmt.Errorf("vma [%#x,%#x) beyond the user half", v.Start, v.End)
		case prev != nil && prev.End > v.Start:
			err = fmt.Errorf("vmas [%#x,%#x) and [%#x,%#x) overlap", prev.Start, prev.End, v.Start, v.End)
		case v.Obj == nil || v.Obj.refs <= 0:
			err = fmt.Errorf("vma [%#x,%#x) has no live object", v.Start, v.End)
		}
		if err != nil {
			return false
		}
		prev = v
		err = mm.pt.Range(v.Start, v.End, func(va, pte uint64) error {
			idx := v.objPage(va)
			pa, ok := v.Obj.pages[idx]
			window := v.Obj.file != nil && (v.Obj.share || !ok)
			if window {
				pa, ok = 0, false
				if fpa, err := v.Obj.file.Frame(v.Obj.filePg + idx); err == nil {
					pa, ok = fpa, true
				}
			}
			if !ok || pa != ept.Frame(pte) {
				return fmt.Errorf("pte at %#x maps frame %#x, object page %d has %#x (present %v)", va, ept.Frame(pte), idx, pa, ok)
			}
			if pte&ept.PTEWritable != 0 && v.Prot&unix.PROT_WRITE == 0 {
				return fmt.Errorf("pte at %#x writable in a vma without PROT_WRITE", va)
			}
			if pte&ept.PTEWritable != 0 && !v.Obj.share && (window || mm.mem.Refs(pa) != 1) {
				return fmt.Errorf("pte at %#x writable over a shared private page (frame %#x, refs %d)", va, pa, mm.mem.Refs(pa))
			}
			if pte&ept.PTENoExec == 0 && v.Prot&unix.PROT_EXEC == 0 {
				return fmt.Errorf("pte at %#x executable in a vma without PROT_EXEC", va)
			}
			if !accessible(v.Prot) {
				return fmt.Errorf("pte at %#x present in a PROT_NONE vma", va)
			}
			if !v.Obj.share && !window {
				if other, dup := owner[pa]; dup {
					return fmt.Errorf("frame %#x mapped privately at %#x and %#x", pa, other, va)
				}
				owner[pa] = va
			}
			return nil
		})
		return err == nil
	})
	if err != nil {
		return err
	}
	// No present PTE outside a VMA.
	return mm.pt.Range(0, UserTop, func(va, _ uint64) error {
		if mm.find(va) == nil {
			return fmt.Errorf("present pte at %#x outside every vma", va)
		}
		return nil
	})
}
