// fork.go: the snapshot fork(2) takes of an address space.
//
// Invariants the snapshot relies on:
//   - Every operation leaves the map, the objects and the page tables
//     consistent before it returns (mm.go), and one MM is used by one
//     thread of control at a time, so Fork never sees half an update.
//   - Private memory becomes copy-on-write on both sides (or, when the
//     policy says copying is cheaper than changing the parent's entries,
//     is copied into the child at once: policy.go's eagerFork): the child's
//     objects are clones holding the same frames (one more reference each),
//     and every present writable entry of a private page loses its write
//     bit in the parent (a queued change, applied by the guest before it
//     runs user code again) and is mapped read-only in the child. The first
//     write on either side copies the page (object.go), or, once the other
//     side has dropped it, just makes it writable again. The copier drops
//     its reference to the old frame only after its entry maps the copy:
//     other vCPUs may read through the old entry until then, and the other
//     side may free the frame (an exit) as soon as it holds the last one.
//   - Shared memory stays shared: the child's VMA references the same
//     object, and the same frames or file windows are mapped in both.
//   - MADV_DONTFORK ranges are left out of the child; MADV_WIPEONFORK ones
//     start empty there; mlock does not carry over (Linux clears VM_LOCKED).
package guestmm

import (
	"bytes"

	"kshim/ept"
)

// Fork returns the child's copy of the address space, with page tables pt
// (a fresh address space from the same guest memory).
func (mm *MM) Fork(pt *ept.PageTable) (*MM, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedFork(pt)
}

func (mm *MM) lockedFork(pt *ept.PageTable) (*MM, error) {
	defer mm.after()
	eager := mm.Tune.eagerFork(mm.privatePages(), mm.mem)
	// Alone on its tables (no other thread or vfork child runs on them
	// while this fork runs), an eager fork leaves out what it need not
	// copy (untouchedZero).
	alone := mm.pt.Attached() <= 1
	t0 := nanotime()
	copied := 0
	c := New(mm.mem, pt)
	c.argStart, c.argEnd, c.envEnd, c.noDump = mm.argStart, mm.argEnd, mm.envEnd, mm.noDump
	c.brkStart, c.brk, c.CheckAll, c.OnOOM, c.layout, c.Tune = mm.brkStart, mm.brk, mm.CheckAll, mm.OnOOM, mm.layout, mm.Tune
	clones := map[*Object]*Object{}
	var err error
	mm.vmas.Ascend(func(v *VMA) bool {
		var skip map[uint64]bool // untouchedZero's pages of v
		if v.Flags&DontFork != 0 {
			return true
		}
		nv := *v
		nv.Flags &^= Locked
		wipe := v.Flags&WipeOnFork != 0
		switch {
		case wipe:
			nv.Obj = newObject(false, nil, 0)
		case v.Obj.share:
			v.Obj.ref()
		default:
			if o := clones[v.Obj]; o != nil {
				o.ref()
				nv.Obj = o
			} else {
				nv.Obj = newObject(false, v.Obj.file, v.Obj.filePg)
				nv.Obj.like, nv.Obj.likePg = v.Obj.like, v.Obj.likePg
				clones[v.Obj] = nv.Obj
			}
			if eager {
				var n int
				if alone && v.Obj.file == nil {
					skip = mm.untouchedZero(v)
				}
				n, err = v.Obj.copyInto(nv.Obj, mm.mem, v.Off, v.objPage(v.End), skip)
				copied += n
			} else {
				v.Obj.cloneInto(nv.Obj, mm.mem, v.Off, v.objPage(v.End))
			}
		}
		c.vmas.ReplaceOrInsert(&nv)
		if wipe || err != nil {
			return err == nil
		}
		if eager && !v.Obj.share {
			// The child has copies of its own: the parent's entries stay
			// as they are, the child maps its frames (or, for a private
			// file page never copied, the same window page read-only).
			err = mm.pt.Range(v.Start, v.End, func(va, pte uint64) error {
				if skip[v.objPage(va)] {
					return nil // the child's own demand-zero page, if it ever touches it
				}
				pa := ept.Frame(pte)
				if npa, ok := nv.Obj.pages[nv.objPage(va)]; ok {
					pa = npa
				}
				return c.pt.Map(va, pa, c.leafFlags(&nv, pa)&^ept.PTEAccessed|pte&ept.PTEAccessed)
			})
			return err == nil
		}
		err = mm.pt.Range(v.Start, v.End, func(va, pte uint64) error {
			pa := ept.Frame(pte)
			flags := mm.leafFlags(v, pa) | pte&ept.PTEAccessed
			if flags != pte&^ept.Frame(pte)&^ept.PTEPresent {
				if err := mm.pt.Protect(va, flags); err != nil {
					return err
				}
			}
			// The child's entry is as used as the parent's: an entry
			// fault-around mapped and the program never touched stays
			// old, so the child's mincore matches Linux's.
			return c.pt.Map(va, pa, mm.leafFlags(&nv, pa)&^ept.PTEAccessed|pte&ept.PTEAccessed)
		})
		return err == nil
	})
	if err != nil {
		// Out of guest memory for the child's tables: undo the child; the
		// parent keeps its (now partly write-protected, still correct)
		// mappings.
		c.Destroy()
		return nil, err
	}
	c.freeTop, c.holeMax, c.lockFuture = mm.freeTop, mm.holeMax, false
	if eager {
		mm.Tune.observeCopy(nanotime()-t0, copied)
	}
	return c, nil
}

// untouchedZero returns the pages of v, an anonymous private mapping,
// that an eager fork need not copy: mapped ahead (fault-around, a small
// mmap's or the stack's pages mapped at once) and never used since (the
// entry's accessed bit clear), held by this process alone, and all zero.
// Left out of the child, such a page is a demand-zero fault there if the
// child ever touches it, which gives it the same zero page; a child that
// execs at once (most of a shell's) never does. On Linux neither side
// would have the page: the child's mincore and RSS now say so as well.
// Measured on the busybox pipeline's shell: 35 of the 55 pages each fork
// copied, ~3-6 µs each (a new frame made resident, the copy). The caller
// runs alone on the tables (no guest code changes a page meanwhile).
func (mm *MM) untouchedZero(v *VMA) map[uint64]bool {
	var skip map[uint64]bool
	ram := mm.mem.WindowBase()
	_ = mm.pt.Range(v.Start, v.End, func(va, pte uint64) error {
		pa := ept.Frame(pte)
		idx := v.objPage(va)
		if pte&ept.PTEAccessed != 0 || pa >= ram || v.Obj.pages[idx] != pa || mm.mem.Refs(pa) != 1 {
			return nil
		}
		if !bytes.Equal(mm.mem.Page(pa), zeroPage[:]) { // the runtime's vector compare: a byte loop cost ~1.5 µs a page
			return nil
		}
		if skip == nil {
			skip = map[uint64]bool{}
		}
		skip[idx] = true
		return nil
	})
	return skip
}

// zeroPage is a page of zeros to compare with.
var zeroPage [ept.PageSize]byte

// privatePages returns how many frames the private objects of the map
// hold (an upper bound of what an eager fork copies).
func (mm *MM) privatePages() int {
	seen := map[*Object]bool{}
	n := 0
	mm.vmas.Ascend(func(v *VMA) bool {
		if !v.Obj.share && v.Flags&(DontFork|WipeOnFork) == 0 && !seen[v.Obj] {
			seen[v.Obj] = true
			n += len(v.Obj.pages)
		}
		return true
	})
	return n
}

// NewSibling returns an empty address space over the same guest memory
// with page tables pt (execve's new image).
func (mm *MM) NewSibling(pt *ept.PageTable) *MM {
	n := New(mm.mem, pt)
	n.CheckAll, n.OnOOM, n.Tune = mm.CheckAll, mm.OnOOM, mm.Tune
	return n
}

// Release unmaps everything, through the page tables (a fork that failed
// half way). The page tables themselves belong to the caller.
func (mm *MM) Release() {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.lockedRelease()
}

func (mm *MM) lockedRelease() {
	for _, v := range mm.lockedVMAs() {
		_ = mm.unmapRange(v.Start, v.End)
	}
}

// Destroy drops every mapping without touching the page tables, which the
// caller is about to free (exit, execve): the vCPU never runs on them
// again, so no entry needs a guest-visible change.
func (mm *MM) Destroy() {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.lockedDestroy()
}

func (mm *MM) lockedDestroy() {
	mm.vmas.Ascend(func(v *VMA) bool {
		if !v.Obj.shared() {
			v.Obj.release(mm.mem, v.Off, v.objPage(v.End))
		}
		v.Obj.unref(mm.mem)
		return true
	})
	mm.vmas.Clear(false)
	mm.freeTop, mm.holeMax = 0, 0
}

// Truncated is called after a file shrank to size bytes: like Linux's
// unmap_mapping_range on truncate, every page of the file at or past the
// new end stops being mapped (a later access is SIGBUS), and private
// copies of such pages are dropped too.
func (mm *MM) Truncated(dev, ino uint64, size int64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	defer mm.after()
	endPg := (uint64(size) + PageSize - 1) / PageSize
	mm.vmas.Ascend(func(v *VMA) bool {
		o := v.Obj
		if o.file == nil || !o.file.Same(dev, ino) {
			return true
		}
		// First object page at or past the end of the file.
		if endPg <= o.filePg+v.Off {
			endPg2 := v.Start
			_ = mm.clearPTEs(endPg2, v.End)
			if !o.share {
				o.release(mm.mem, v.Off, v.objPage(v.End))
			}
			return true
		}
		cut := v.Start + (endPg-o.filePg-v.Off)*PageSize
		if cut < v.End {
			_ = mm.clearPTEs(cut, v.End)
			if !o.share {
				o.release(mm.mem, v.objPage(cut), v.objPage(v.End))
			}
		}
		return true
	})
}
