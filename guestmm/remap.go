// remap.go: mremap, msync, mincore, mlock.
package guestmm

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// mapped reports whether [start, end) is covered by VMAs without holes.
func (mm *MM) mapped(start, end uint64) bool {
	next := start
	for _, v := range mm.overlapping(start, end) {
		if v.Start > next {
			return false
		}
		next = v.End
	}
	return next >= end
}

// Mremap implements mremap(2).
func (mm *MM) Mremap(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMremap(old, oldLen, newLen, flags, newAddr)
}

func (mm *MM) lockedMremap(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	defer mm.after()
	// do_mremap of current kernels (6.17 and later), in its order:
	// check_mremap_params, the VMA lookup, check_prep_vma, then the
	// shrink, in-place growth or move.
	const known = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED | unix.MREMAP_DONTUNMAP
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	if flags&^known != 0 || old%PageSize != 0 || newLen == 0 || newLen > UserTop {
		return 0, unix.EINVAL
	}
	dontunmap := flags&unix.MREMAP_DONTUNMAP != 0
	// MREMAP_DONTUNMAP without MREMAP_FIXED takes new_addr as a hint, but
	// it is validated like a fixed address all the same.
	implies := flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0
	if implies && (newAddr > UserTop-newLen || newAddr%PageSize != 0 || flags&unix.MREMAP_MAYMOVE == 0 ||
		dontunmap && oldLen != newLen || old+oldLen > newAddr && newAddr+newLen > old) {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_FIXED != 0 && oldLen == newLen {
		return mm.remapMove(old, oldLen, newAddr, dontunmap)
	}
	v := mm.find(old)
	if v == nil {
		return 0, unix.EFAULT
	}
	if newLen > oldLen || implies {
		// old_len 0 duplicates a shared mapping; a move or growth must
		// stay inside one VMA (a shrink may cross VMA ends).
		if oldLen == 0 && !v.Obj.share {
			return 0, unix.EINVAL
		}
		if old+min(oldLen, newLen) > v.End {
			return 0, unix.EFAULT
		}
	}
	if implies {
		return mm.remapTo(old, oldLen, newLen, flags, newAddr)
	}
	switch {
	case oldLen == newLen:
		return old, nil
	case oldLen > newLen:
		if tailUnmappable(old+newLen, oldLen-newLen) {
			return 0, unix.EINVAL
		}
		if err := mm.unmapRange(old+newLen, old+oldLen); err != nil {
			return 0, err
		}
		return old, nil
	}
	// Grow in place when the range ends where its VMA does and the pages
	// after it are free.
	end, delta := old+oldLen, newLen-oldLen
	if oldLen != 0 && end == v.End && end+delta > end && end+delta <= UserTop && len(mm.overlapping(end, end+delta)) == 0 {
		if !v.Obj.share && v.Obj.refs > 1 {
			// Pieces split from the mapping share its object: the pages
			// past v may be theirs. Give v an object of its own first.
			obj, off := v.Obj.detach(v.Off, v.pages())
			v.Obj.unref(mm.mem)
			v.Obj, v.Off = obj, off
		}
		v.End = end + delta
		if v.Flags&Locked != 0 {
			_ = mm.populate(end, v.End) // best effort, as mmap's
		}
		mm.mergeAround(v.Start, v.End)
		return old, nil
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.ENOMEM
	}
	dst, ok := mm.findFree(0, newLen)
	if !ok {
		return 0, unix.ENOMEM
	}
	return mm.move(v, old, oldLen, dst, newLen, false)
}

// tailUnmappable is do_vmi_munmap's argument check, which a shrinking
// mremap's unmap of its tail must pass.
func tailUnmappable(start, length uint64) bool {
	return start > UserTop || length > UserTop-start
}

// remapMove is an equal-length MREMAP_FIXED move: every VMA piece of
// [old, old+length) moves to the same offset from newAddr; gaps stay
// gaps (what the destination has under them is kept). The range must
// start mapped.
func (mm *MM) remapMove(old, length, newAddr uint64, dontunmap bool) (uint64, error) {
	type piece struct{ lo, hi uint64 }
	var pieces []piece
	for _, w := range mm.overlapping(old, old+length) {
		pieces = append(pieces, piece{max(w.Start, old), min(w.End, old+length)})
	}
	if len(pieces) == 0 || pieces[0].lo != old {
		return 0, unix.EFAULT
	}
	for _, p := range pieces {
		dst := newAddr + (p.lo - old)
		// Unmapping the destination may split the piece's VMA: look it
		// up afterwards.
		if err := mm.unmapRange(dst, dst+(p.hi-p.lo)); err != nil {
			return 0, err
		}
		if newAddr < MinAddr {
			return 0, unix.EPERM // get_unmapped_area, after the unmap
		}
		if _, err := mm.move(mm.find(p.lo), p.lo, p.hi-p.lo, dst, p.hi-p.lo, dontunmap); err != nil {
			return 0, err
		}
	}
	return newAddr, nil
}

// remapTo is mremap_to: a move to a fixed address or, with
// MREMAP_DONTUNMAP alone, to the hint if it is free.
func (mm *MM) remapTo(old, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	if flags&unix.MREMAP_FIXED != 0 {
		if err := mm.unmapRange(newAddr, newAddr+newLen); err != nil {
			return 0, err
		}
	}
	if oldLen > newLen {
		if tailUnmappable(old+newLen, oldLen-newLen) {
			return 0, unix.EINVAL
		}
		if err := mm.unmapRange(old+newLen, old+oldLen); err != nil {
			return 0, err
		}
		oldLen = newLen
	}
	dst := newAddr
	if flags&unix.MREMAP_FIXED == 0 && (newAddr == 0 || len(mm.overlapping(newAddr, newAddr+newLen)) != 0) {
		var ok bool
		if dst, ok = mm.findFree(0, newLen); !ok {
			return 0, unix.ENOMEM
		}
	}
	if dst < MinAddr {
		return 0, unix.EPERM // security_mmap_addr
	}
	// The unmaps above may have split the old range's VMA.
	return mm.move(mm.find(old), old, oldLen, dst, newLen, flags&unix.MREMAP_DONTUNMAP != 0)
}

// move moves [old, old+oldLen) of v to dst with length newLen: the pages go
// along (same frames); the old range is unmapped, or with dontunmap stays
// mapped, in its VMA as it was, to memory as never touched (Linux moves the
// page tables and leaves the VMA whole).
func (mm *MM) move(v *VMA, old, oldLen, dst, newLen uint64, dontunmap bool) (uint64, error) {
	nv := &VMA{Start: dst, End: dst + newLen, Prot: v.Prot, Flags: v.Flags, Obj: v.Obj, Off: v.objPage(old), Name: v.Name, File: v.File}
	if !v.Obj.share && (newLen > oldLen || dontunmap) {
		// A grown tail must be new memory, but the object pages after
		// the moved range may be the rest of the old mapping's (or another
		// piece's); and with dontunmap the old range keeps its object
		// pages, now empty. Give the move an object of its own.
		nv.Obj, nv.Off = v.Obj.detach(v.objPage(old), oldLen/PageSize)
	} else {
		v.Obj.ref()
	}
	if dontunmap {
		// dontunmap_complete: the old VMA is no longer locked.
		v.Flags &^= Locked
	}
	// Page-table entries follow the frames.
	type moved struct{ off, pa uint64 }
	var ptes []moved
	if err := mm.pt.Range(old, old+oldLen, func(va, pte uint64) error {
		ptes = append(ptes, moved{va - old, pte})
		_, _, err := mm.pt.Unmap(va)
		return err
	}); err != nil {
		return 0, err
	}
	if !dontunmap {
		// Remove the old range from the map without releasing its pages.
		for _, w := range mm.overlapping(old, old+oldLen) {
			w = mm.split(w, max(w.Start, old), min(w.End, old+oldLen))
			mm.vmas.Delete(w)
			w.Obj.unref(mm.mem)
		}
		mm.freeHint(old, old+oldLen)
	}
	if newLen < oldLen && !nv.Obj.share {
		nv.Obj.release(mm.mem, nv.Off+newLen/PageSize, nv.Off+oldLen/PageSize)
	}
	mm.vmas.ReplaceOrInsert(nv)
	for _, m := range ptes {
		if m.off < newLen {
			pa := ept.Frame(m.pa)
			if err := mm.pt.Map(dst+m.off, pa, mm.leafFlags(nv, pa)|m.pa&ept.PTEAccessed); err != nil {
				return 0, err
			}
		}
	}
	if nv.Flags&Locked != 0 && newLen > oldLen {
		_ = mm.populate(dst+oldLen, dst+newLen) // best effort, as mmap's
	}
	mm.mergeAround(dst, dst+newLen)
	if dontunmap {
		mm.mergeAround(old, old+oldLen)
	}
	return dst, nil
}

// Msync implements msync(2). Private and anonymous mappings have nothing
// to write back.
func (mm *MM) Msync(addr, length uint64, flags int) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMsync(addr, length, flags)
}

func (mm *MM) lockedMsync(addr, length uint64, flags int) error {
	if addr%PageSize != 0 || flags&^(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 ||
		flags&(unix.MS_ASYNC|unix.MS_SYNC) == unix.MS_ASYNC|unix.MS_SYNC {
		return unix.EINVAL
	}
	end := addr + pageUp(length)
	if end < addr {
		return unix.ENOMEM
	}
	// Linux walks the VMAs: a hole fails plain MS_ASYNC at once and is
	// otherwise reported at the end; MS_INVALIDATE of locked memory is
	// EBUSY.
	hole := !mm.mapped(addr, end)
	if hole && flags == unix.MS_ASYNC {
		return unix.ENOMEM
	}
	if flags&unix.MS_INVALIDATE != 0 {
		for _, v := range mm.overlapping(addr, end) {
			if v.Flags&Locked != 0 {
				return unix.EBUSY
			}
		}
	}
	if hole {
		return unix.ENOMEM
	}
	return nil
}

// Mincore reports which pages of [addr, addr+length) are resident, as
// Linux would: a page the guest touched (a present entry with the accessed
// bit, or a frame the object holds without a mapping), or a file page in
// the host's page cache. Pages mapped ahead by fault-around and never
// touched are not resident to the guest's eyes.
func (mm *MM) Mincore(addr, length uint64) ([]byte, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMincore(addr, length)
}

func (mm *MM) lockedMincore(addr, length uint64) ([]byte, error) {
	if addr%PageSize != 0 {
		return nil, unix.EINVAL
	}
	// access_ok of the range as given: a length that wraps when rounded
	// up is not empty.
	if addr > UserTop || length > UserTop-addr {
		return nil, unix.ENOMEM
	}
	end := addr + pageUp(length)
	if !mm.mapped(addr, end) {
		return nil, unix.ENOMEM
	}
	vec := make([]byte, (end-addr)/PageSize)
	one := make([]byte, 1)
	for _, v := range mm.overlapping(addr, end) {
		lo, hi := max(v.Start, addr), min(v.End, end)
		eof := v.Obj.endPage()
		for p := lo; p < hi; p += PageSize {
			idx := v.objPage(p)
			pte, present := mm.pt.Lookup(p)
			switch {
			case present && mm.mem.IsWindow(ept.Frame(pte)) || !present && v.Obj.file != nil && !v.Obj.has(idx):
				// The file's page: ask the host's page cache.
				if idx >= eof {
					continue
				}
				pa, err := v.Obj.file.Frame(v.Obj.filePg + idx)
				if err != nil {
					continue
				}
				page := mm.mem.Page(pa)
				if hostMincore(page, one) == nil {
					vec[(p-addr)/PageSize] = one[0] & 1
				}
			case present:
				vec[(p-addr)/PageSize] = byte(pte>>5) & 1 // the accessed bit
			case v.Obj.has(idx):
				vec[(p-addr)/PageSize] = 1
			}
		}
	}
	return vec, nil
}

// Mlock implements mlock/munlock: locking populates the range, since
// kshim's guest memory is never paged out once present.
func (mm *MM) Mlock(addr, length uint64, lock bool) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMlock(addr, length, lock)
}

func (mm *MM) lockedMlock(addr, length uint64, lock bool) error {
	defer mm.after()
	start := addr &^ (PageSize - 1)
	end := pageUp(addr + length)
	if end < start {
		return unix.EINVAL
	}
	if end == start {
		return nil
	}
	if !mm.mapped(start, end) {
		return unix.ENOMEM
	}
	for _, v := range mm.overlapping(start, end) {
		v = mm.split(v, max(v.Start, start), min(v.End, end))
		if lock {
			v.Flags |= Locked
		} else {
			v.Flags &^= Locked
		}
	}
	mm.mergeAround(start, end)
	if lock {
		if err := mm.populate(start, end); err != nil {
			return unix.ENOMEM
		}
	}
	return nil
}

// LockAll implements mlockall: current locks and populates every mapping,
// future makes later mappings locked (and populated) as they are made.
func (mm *MM) LockAll(current, future bool) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedLockAll(current, future)
}

func (mm *MM) lockedLockAll(current, future bool) error {
	defer mm.after()
	mm.lockFuture = future
	if !current {
		return nil
	}
	for _, v := range mm.lockedVMAs() {
		if err := mm.lockedMlock(v.Start, v.End-v.Start, true); err != nil {
			return err
		}
	}
	return nil
}

// UnlockAll implements munlockall.
func (mm *MM) UnlockAll() {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.lockedUnlockAll()
}

func (mm *MM) lockedUnlockAll() {
	defer mm.after()
	mm.lockFuture = false
	for _, v := range mm.lockedVMAs() {
		_ = mm.lockedMlock(v.Start, v.End-v.Start, false)
	}
}

// hostMincore asks the host kernel about a page of the VMM's memory.
func hostMincore(b, vec []byte) error {
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return e
	}
	return nil
}
