// object.go: backing objects, the frames behind VMAs.
//
// An Object holds the frames of the pages that have been touched, by page
// index. Private anonymous memory starts empty (pages are demand-zero);
// file-backed objects fill a page from the file on first touch. VMAs that
// split from one mapping share its object (refs counts them) at disjoint
// page ranges; unmapping a range of a private object frees exactly those
// frames, the Starnix way of splitting a VMO's use.
package guestmm

import (
	"io"

	"kshim/ept"
)

// File is what a file mapping reads from.
type File interface {
	io.ReaderAt
	Size() (int64, error)
}

// Object backs one or more VMAs.
type Object struct {
	pages   map[uint64]uint64 // page index -> frame
	refs    int
	share   bool
	file    File
	fileOff uint64 // byte offset in file of page 0
}

func newObject(shared bool, f File, off uint64) *Object {
	return &Object{pages: map[uint64]uint64{}, refs: 1, share: shared, file: f, fileOff: off}
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
	}
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
	if o.file == nil {
		return false
	}
	size, err := o.file.Size()
	if err != nil {
		return true
	}
	return o.fileOff+idx*PageSize >= uint64(size)
}

// page returns the frame for page idx, allocating and filling it if needed.
func (o *Object) page(mem *ept.Memory, idx uint64) (pa uint64, err error) {
	if pa, ok := o.pages[idx]; ok {
		return pa, nil
	}
	if pa, err = mem.Alloc(); err != nil {
		return 0, err
	}
	if o.file != nil {
		buf := mem.Page(pa)
		n, rerr := o.file.ReadAt(buf, int64(o.fileOff+idx*PageSize))
		if rerr != nil && rerr != io.EOF {
			mem.Free(pa)
			return 0, rerr
		}
		clear(buf[n:])
	}
	o.pages[idx] = pa
	return pa, nil
}
