// object.go: backing objects, the memory behind VMAs.
//
// An Object is what one mmap call created (Starnix's VMO): anonymous
// memory, or a range of a host file. VMAs that split from one mapping share
// its object (refs counts them) at disjoint page ranges; unmapping a range
// of a private object frees exactly those frames, the Starnix way of
// splitting a VMO's use.
//
// Where a page's memory lives:
//   - private anonymous: a RAM frame in pages, allocated on first touch
//     (demand-zero);
//   - shared anonymous: a RAM frame in pages, shared by every VMA and every
//     process that maps the object;
//   - shared file: the host page cache, through a file window (ept), so
//     the guest's loads and stores are coherent with read/write on the file;
//   - private file: the file window, mapped read-only, until the first
//     write copies the page into a RAM frame in pages (copy-on-write).
//
// Invariant: a private object's frame may be shared with the objects
// cloned from it by fork (the frame's reference count in ept.Memory says
// by how many); such a frame is never mapped writable, and a write fault
// copies it first, dropping its reference to the old frame only once the
// entry maps the copy (frame).
package guestmm

import (
	"io"
	"math"

	"kshim/ept"
)

// anonBase is the object page index where new anonymous objects start.
// VMAs may extend an anonymous object downwards (the stack, and new
// memory joining the mapping above it), and page ranges are compared as
// plain integers, so indexes must never wrap below zero.
const anonBase = 1 << 40

// Object backs one or more VMAs.
type Object struct {
	pages  map[uint64]uint64 // page index -> RAM frame
	refs   int
	share  bool
	file   *ept.MappedFile
	filePg uint64 // file page of object page 0
	// like is, for anonymous memory filled from a file (the loader's copy
	// of a program's .data: MmapArgs.Like), the file it stands for in
	// /proc/PID/maps, and likePg the file page of object page 0 (it may
	// wrap: anonymous page indexes start at anonBase). Fork clones and
	// detach carry it on.
	like   *ept.FileID
	likePg uint64
}

func newObject(shared bool, f *ept.MappedFile, filePg uint64) *Object {
	if f != nil {
		f.Ref()
	}
	return &Object{pages: map[uint64]uint64{}, refs: 1, share: shared, file: f, filePg: filePg}
}

func (o *Object) shared() bool { return o.share }

func (o *Object) ref() { o.refs++ }

// unref drops one VMA's reference; the last one frees every frame.
func (o *Object) unref(mem *ept.Memory) {
	o.refs--
	if o.refs == 0 {
		for idx, pa := range o.pages {
			mem.Free(pa)
			delete(o.pages, idx)
		}
		if o.file != nil {
			o.file.Release()
			o.file = nil
		}
	}
}

// cloneInto adds pages [lo, hi) of o to c, a copy-on-write snapshot for a
// fork child: the same frames, each with one more reference. Only the pages
// the child's VMAs cover are shared, so nothing else stays pinned.
func (o *Object) cloneInto(c *Object, mem *ept.Memory, lo, hi uint64) {
	add := func(idx, pa uint64) {
		mem.Ref(pa)
		c.pages[idx] = pa
	}
	if hi-lo > uint64(len(o.pages)) {
		for idx, pa := range o.pages {
			if idx >= lo && idx < hi {
				add(idx, pa)
			}
		}
		return
	}
	for idx := lo; idx < hi; idx++ {
		if pa, ok := o.pages[idx]; ok {
			add(idx, pa)
		}
	}
}

// copyInto gives c a private copy of each of o's frames among pages
// [lo, hi) (an eager fork) and returns how many it copied. A frame o does
// not own alone (shared with a fork relative, or the VMM's: the vDSO's
// data page, which the VMM keeps updating) is shared as cloneInto shares
// it, not copied. On running out of memory it stops; c holds what was
// copied, so unref frees it. Pages in skip are left out of c.
func (o *Object) copyInto(c *Object, mem *ept.Memory, lo, hi uint64, skip map[uint64]bool) (int, error) {
	n := 0
	add := func(idx, pa uint64) error {
		if skip[idx] {
			return nil
		}
		if mem.Refs(pa) != 1 {
			mem.Ref(pa)
			c.pages[idx] = pa
			return nil
		}
		npa, err := mem.Alloc()
		if err != nil {
			return err
		}
		copy(mem.Page(npa), mem.Page(pa))
		c.pages[idx] = npa
		n++
		return nil
	}
	if hi-lo > uint64(len(o.pages)) {
		for idx, pa := range o.pages {
			if idx >= lo && idx < hi {
				if err := add(idx, pa); err != nil {
					return n, err
				}
			}
		}
		return n, nil
	}
	for idx := lo; idx < hi; idx++ {
		if pa, ok := o.pages[idx]; ok {
			if err := add(idx, pa); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// release frees the frames of pages [lo, hi).
func (o *Object) release(mem *ept.Memory, lo, hi uint64) {
	if hi-lo > uint64(len(o.pages)) {
		for idx, pa := range o.pages {
			if idx >= lo && idx < hi {
				mem.Free(pa)
				delete(o.pages, idx)
			}
		}
		return
	}
	for idx := lo; idx < hi; idx++ {
		if pa, ok := o.pages[idx]; ok {
			mem.Free(pa)
			delete(o.pages, idx)
		}
	}
}

// beyondEOF reports whether page idx lies wholly past the file's end
// (an access there is SIGBUS).
func (o *Object) beyondEOF(idx uint64) bool {
	return idx >= o.endPage()
}

// endPage returns the first page index wholly past the file's end (every
// page is before it for an anonymous object; none when the size cannot
// be read). The size is the host's (an fstat each call), so a loop over
// many pages reads it once rather than per page: under mm.mu the result
// is as current as a per-page check (a truncation racing the loop from
// another address space is one either way; it unmaps what it cuts off).
func (o *Object) endPage() uint64 {
	if o.file == nil {
		return math.MaxUint64
	}
	size, err := o.file.Size()
	if err != nil {
		return 0
	}
	end := (uint64(size) + PageSize - 1) / PageSize
	if end <= o.filePg {
		return 0
	}
	return end - o.filePg
}

// frame returns the memory for page idx, allocating, filling or copying it
// as the access needs, and kind what it took. A copy-on-write copy leaves
// the object's reference to the frame it copied in old, for the caller to
// Free once the page's entry maps the copy: until then other vCPUs may
// still read the page through the old entry, and the fork relative that
// holds the frame's other reference may free it at any time (an exit), so
// it would be zeroed or reused under them.
func (o *Object) frame(mem *ept.Memory, idx uint64, write bool) (pa, old uint64, kind FaultKind, err error) {
	if o.share && o.file != nil {
		pa, err = o.file.Frame(o.filePg + idx)
		return pa, 0, KindFile, err
	}
	if pa, ok := o.pages[idx]; ok {
		if o.share || mem.Refs(pa) == 1 {
			return pa, 0, KindSpurious, nil
		}
		if !write {
			return pa, 0, KindSpurious, nil
		}
		npa, err := mem.Alloc()
		if err != nil {
			return 0, 0, KindNone, err
		}
		copy(mem.Page(npa), mem.Page(pa))
		o.pages[idx] = npa
		return npa, pa, KindCopyOnWrite, nil
	}
	if o.file != nil && !write {
		pa, err = o.file.Frame(o.filePg + idx)
		return pa, 0, KindFile, err
	}
	if pa, err = mem.Alloc(); err != nil {
		return 0, 0, KindNone, err
	}
	kind = KindDemandZero
	if o.file != nil {
		// A private copy of a file page: read it with pread rather than
		// through the window, so a concurrent truncation is a short read,
		// not a fault in the VMM.
		buf := mem.Page(pa)
		n, rerr := o.file.ReadAt(buf, int64((o.filePg+idx)*PageSize))
		if rerr != nil && rerr != io.EOF {
			mem.Free(pa)
			return 0, 0, KindNone, rerr
		}
		clear(buf[max(n, 0):])
		kind = KindCopyOnWrite
	}
	o.pages[idx] = pa
	return pa, 0, kind, nil
}

// hasBelow reports whether the object holds any of the n pages below page
// idx (which a VMA joining it from below would take over).
func (o *Object) hasBelow(idx, n uint64) bool {
	for i := uint64(1); i <= n && i <= uint64(len(o.pages)); i++ {
		if o.has(idx - i) {
			return true
		}
	}
	if n > uint64(len(o.pages)) {
		for j := range o.pages {
			if idx-j-1 < n { // j in [idx-n, idx)
				return true
			}
		}
	}
	return false
}

// has reports whether page idx holds memory.
func (o *Object) has(idx uint64) bool {
	_, ok := o.pages[idx]
	return ok
}

// detach moves pages [idx, idx+n) of a private object into a new object of
// their own (same file, same file pages) and returns it with the page index
// where they start. A VMA that takes them can then grow without reaching
// pages of o that other VMAs use.
func (o *Object) detach(idx, n uint64) (*Object, uint64) {
	c := newObject(false, o.file, o.filePg+idx)
	off := uint64(0)
	if o.file == nil {
		c.filePg, off = 0, anonBase
		// Page anonBase of c is page idx of o: the same file page.
		c.like, c.likePg = o.like, o.likePg+idx-anonBase
	}
	move := func(i, pa uint64) {
		c.pages[off+i] = pa
		delete(o.pages, idx+i)
	}
	if n > uint64(len(o.pages)) {
		for j, pa := range o.pages {
			if j-idx < n { // j in [idx, idx+n)
				move(j-idx, pa)
			}
		}
		return c, off
	}
	for i := uint64(0); i < n; i++ {
		if pa, ok := o.pages[idx+i]; ok {
			move(i, pa)
		}
	}
	return c, off
}
