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
	const known = unix.MREMAP_MAYMOVE | unix.MREMAP_FIXED | unix.MREMAP_DONTUNMAP
	if flags&^known != 0 || old%PageSize != 0 {
		return 0, unix.EINVAL
	}
	if flags&(unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 && flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.EINVAL
	}
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	if newLen == 0 || oldLen == 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_DONTUNMAP != 0 && oldLen != newLen {
		return 0, unix.EINVAL
	}
	v := mm.find(old)
	if v == nil || old+oldLen > v.End {
		return 0, unix.EFAULT
	}
	if flags&unix.MREMAP_FIXED != 0 {
		if newAddr%PageSize != 0 || newAddr+newLen > UserTop || newAddr+newLen < newAddr {
			return 0, unix.EINVAL
		}
		if newAddr < old+oldLen && old < newAddr+newLen {
			return 0, unix.EINVAL
		}
		if err := mm.unmapRange(newAddr, newAddr+newLen); err != nil {
			return 0, err
		}
		return mm.move(v, old, oldLen, newAddr, newLen, flags&unix.MREMAP_DONTUNMAP != 0)
	}
	if flags&unix.MREMAP_DONTUNMAP == 0 {
		if newLen <= oldLen {
			if err := mm.unmapRange(old+newLen, old+oldLen); err != nil {
				return 0, err
			}
			return old, nil
		}
		// Grow in place when the object can grow with the VMA.
		end := old + oldLen
		if end == v.End && end+(newLen-oldLen) <= UserTop && (v.Obj.refs == 1 || v.Obj.share) &&
			len(mm.overlapping(end, old+newLen)) == 0 {
			mm.vmas.Delete(v)
			v.End = old + newLen
			mm.vmas.ReplaceOrInsert(v)
			return old, nil
		}
	}
	if flags&unix.MREMAP_MAYMOVE == 0 {
		return 0, unix.ENOMEM
	}
	// With MREMAP_DONTUNMAP (and no MREMAP_FIXED) new_address is a hint,
	// as for mmap.
	hint := uint64(0)
	if flags&unix.MREMAP_DONTUNMAP != 0 {
		hint = newAddr &^ (PageSize - 1)
	}
	dst, ok := mm.findFree(hint, newLen)
	if !ok {
		return 0, unix.ENOMEM
	}
	return mm.move(v, old, oldLen, dst, newLen, flags&unix.MREMAP_DONTUNMAP != 0)
}

// move moves [old, old+oldLen) of v to dst with length newLen: the pages go
// along (same object, same frames); the old range is unmapped, or with
// dontunmap left mapped to fresh empty memory.
func (mm *MM) move(v *VMA, old, oldLen, dst, newLen uint64, dontunmap bool) (uint64, error) {
	nv := &VMA{Start: dst, End: dst + newLen, Prot: v.Prot, Flags: v.Flags, Obj: v.Obj, Off: v.objPage(old), Name: v.Name}
	if newLen > oldLen && !v.Obj.share && v.Obj.file == nil && v.Obj.refs > 1 {
		// The grown tail would alias object pages another piece of the
		// original mapping may use: give the move an object of its own.
		nv.Obj = newObject(false, nil, 0)
		nv.Off = anonBase
		for i := uint64(0); i < oldLen/PageSize; i++ {
			if pa, ok := v.Obj.pages[v.objPage(old)+i]; ok {
				nv.Obj.pages[anonBase+i] = pa
				delete(v.Obj.pages, v.objPage(old)+i)
			}
		}
	} else {
		v.Obj.ref()
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
	// Remove the old range from the map without releasing its pages.
	for _, w := range mm.overlapping(old, old+oldLen) {
		w = mm.split(w, max(w.Start, old), min(w.End, old+oldLen))
		mm.vmas.Delete(w)
		w.Obj.unref(mm.mem)
	}
	mm.freeHint(old, old+oldLen)
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
	if dontunmap {
		ov := &VMA{Start: old, End: old + oldLen, Prot: v.Prot, Flags: v.Flags, Name: v.Name}
		if v.Obj.share {
			ov.Obj, ov.Off = v.Obj, nv.Off
			v.Obj.ref()
		} else {
			// Private: the old range reads as fresh memory (zero, or the
			// file's contents).
			ov.Obj = newObject(false, v.Obj.file, v.Obj.filePg+nv.Off)
			if v.Obj.file == nil {
				ov.Off = anonBase
			}
		}
		mm.vmas.ReplaceOrInsert(ov)
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
	if !mm.mapped(addr, end) {
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
	end := addr + pageUp(length)
	if end < addr || end > UserTop {
		return nil, unix.ENOMEM
	}
	if !mm.mapped(addr, end) {
		return nil, unix.ENOMEM
	}
	vec := make([]byte, (end-addr)/PageSize)
	one := make([]byte, 1)
	for _, v := range mm.overlapping(addr, end) {
		lo, hi := max(v.Start, addr), min(v.End, end)
		for p := lo; p < hi; p += PageSize {
			idx := v.objPage(p)
			pte, present := mm.pt.Lookup(p)
			switch {
			case present && mm.mem.IsWindow(ept.Frame(pte)) || !present && v.Obj.file != nil && !v.Obj.has(idx):
				// The file's page: ask the host's page cache.
				if v.Obj.beyondEOF(idx) {
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
