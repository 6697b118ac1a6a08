// around.go: fault-around. A fault costs the guest an exit (policy.go), so
// a fault that is resolved maps more than its own page when that is
// cheap and cannot change what the program sees:
//
//   - demand-zero: the next pages of the same anonymous VMA get zero
//     frames, more when the fault follows a recent run (an allocator's
//     walk up an arena), the pages below when the one above was used (a
//     stack); a brk growth after such a walk, and the stack below a new
//     program's stack pointer, likewise (Linux maps nothing ahead for
//     anonymous memory; kshim does because its faults cost ~100x Linux's
//     on a shadow-paging host), but past half of --mem a lone fault and
//     a heap growth map only their own pages (tight: guesses cost frames
//     the OOM killer would then miss);
//   - file read or exec: the file's pages around the fault (the host page
//     cache, through the file window: mapping them costs no memory), as
//     Linux's fault-around does for page-cache pages (do_fault_around);
//   - copy-on-write, when the writes are sequential: the following pages
//     of the same run still shared with a fork relative are copied too;
//   - and, ahead of any fault, a small private anonymous mmap gets its
//     zero frames at once when that costs less than the fault it saves
//     (prepopulate).
//
// What stays exact:
//   - Anonymous entries mapped ahead are "old" (accessed bit clear),
//     streaming or not, so mincore of anonymous memory reports only pages
//     the program touched (the processor, or the shadow MMU, sets the bit
//     on first use; a fork child's entries keep the parent's bit), and an
//     old entry can be changed or dropped host-side without a guest flush.
//     That has a price on a shadow-paging host: the first use of an old
//     entry costs one more hypervisor fault, where accessed entries are
//     prefetched several at a time. File entries mapped ahead of a
//     streaming program (the page below the fault was used) are mapped
//     accessed, since for file pages mincore reports the host page cache,
//     as Linux does, whatever is mapped.
//   - File fault-around never maps a page at or past end of file (SIGBUS
//     stays exact), never a page a private mapping holds a copy of (that
//     page's own fault maps it), never writable where the VMA or a private
//     mapping forbids it (leafFlags, as for the faulting page). A run may
//     span two file windows (opening one is a host mmap, ept/filemap.go).
//   - Copy-on-write fault-around copies only RAM frames shared with a
//     fork relative, never a private file mapping's window page: until it
//     is written, such a page must keep showing later changes to the file.
//     It copies only entries the program used (accessed), so an untouched
//     page keeps one frame.
//   - Nothing here changes an entry that is already present, except the
//     copy-on-write copies, which go through the flush queue as any
//     present-entry change does.
package guestmm

import (
	_ "unsafe" // go:linkname

	"kshim/ept"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// usedBelow reports whether the page below page, in the same VMA, is
// mapped and was used: the program is streaming upwards.
func (mm *MM) usedBelow(v *VMA, page uint64) bool {
	if page <= v.Start {
		return false
	}
	pte, ok := mm.pt.Lookup(page - PageSize)
	return ok && pte&ept.PTEAccessed != 0
}

// anonRun is a recent demand-zero fault-around: where its run ended
// and how many pages it was for.
type anonRun struct{ end, n uint64 }

// anonAround maps zero frames, old, around page (a demand-zero fault) and
// returns how many it mapped:
//   - a streaming program (the page below was used) gets the policy's
//     run of zero pages upwards (anonAhead: priced with their frames),
//     and when the fault is just past a recent run (the stream goes on),
//     twice that run, up to the streaming run for entries, which it gets
//     at once when each of the minAround pages below was used (a buffer
//     written through: its pages ahead will be used, their frames are
//     no waste);
//   - a fault that lands just past a recent run (within four runs' length
//     of its end: an allocator carving a heap or an arena upwards, using
//     a page here and there) gets twice that run, up to four times
//     Linux's fault-around size and at most the policy's streaming run,
//     past pages already mapped (a syscall's copy into a buffer);
//   - else Linux's fault-around size upwards (speculative pages cost
//     memory, not just entries, so whatever the policy);
//   - and when nothing above could be mapped because the page above was
//     used (a stack growing down), Linux's size downwards instead.
//
// Without a policy (nil Tune) only the first and third apply.
func (mm *MM) anonAround(v *VMA, page uint64, write bool) int {
	n := uint64(minAround)
	slot := -1
	if mm.usedBelow(v, page) {
		n = uint64(mm.Tune.anonAhead(mm.mem.FrameNS()))
		if i := mm.followedRun(page); i >= 0 && mm.Tune != nil {
			// The stream goes on past a run it was given: twice that
			// run, up to the streaming run for entries alone.
			slot = i
			n = min(max(n, 2*mm.runs[i].n), uint64(mm.Tune.around(true)))
		}
		if mm.Tune != nil && mm.denseBelow(v, page) {
			n = uint64(mm.Tune.around(true))
		}
	} else if i := mm.followedRun(page); i >= 0 && mm.Tune != nil {
		slot = i
		n = min(2*mm.runs[i].n, 4*minAround, uint64(mm.Tune.around(true)))
	} else if mm.tight() {
		n = 1 // a lone fault: only its page
	}
	done := 0
	end := min(v.End, page+n*PageSize)
	for p := page + PageSize; p < end; p += PageSize {
		ok, err := mm.mapZeroAhead(v, p, write)
		if err != nil {
			break
		}
		if ok {
			done++
		} else if slot < 0 {
			break // a speculative run: only up to what is there
		}
	}
	if done == 0 && mm.Tune != nil && page+PageSize < v.End && mm.used(page+PageSize) {
		lo := v.Start
		if page-v.Start > minAround*PageSize {
			lo = page - minAround*PageSize
		}
		for p := page - PageSize; p >= lo && p < page; p -= PageSize {
			if ok, err := mm.mapZeroAhead(v, p, write); !ok || err != nil {
				break
			}
			done++
		}
		return done
	}
	if slot < 0 {
		slot = mm.runNext
		mm.runNext = (mm.runNext + 1) % len(mm.runs)
		end = page + uint64(done+1)*PageSize
	}
	mm.runs[slot] = anonRun{end: end, n: n}
	return done
}

// StackAhead maps zero frames, old, in the minAround pages of the stack
// below sp's page (a new program's initial stack pointer: the loader
// wrote what lies above), so its first frames take no fault; the stack
// growing down later is anonAround's. Nothing without a policy.
func (mm *MM) StackAhead(sp uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	defer mm.after()
	page := sp &^ (PageSize - 1)
	v := mm.find(page)
	if mm.Tune == nil || v == nil || v.Obj.file != nil || v.Obj.share || !allowed(v.Prot, Write) {
		return
	}
	lo := v.Start
	if page-v.Start > minAround*PageSize {
		lo = page - minAround*PageSize
	}
	for p := page - PageSize; p >= lo && p < page; p -= PageSize {
		if ok, err := mm.mapZeroAhead(v, p, true); !ok || err != nil {
			return
		}
	}
}

// growAhead maps zero frames, old, from the start of [start, end), a
// heap the program just grew (brk), when it was walking the heap upwards:
// a recent demand-zero run ended within four of its lengths below start
// (twice that run, as anonAround would at a fault there), or the page
// below start was used (Linux's fault-around size). Nothing without a
// policy.
func (mm *MM) growAhead(start, end uint64) {
	v := mm.find(start)
	if mm.Tune == nil || v == nil || v.Obj.file != nil || v.Obj.share || !allowed(v.Prot, Write) {
		return
	}
	var n uint64
	slot := mm.followedRun(start)
	switch {
	case slot >= 0:
		n = min(2*mm.runs[slot].n, 4*minAround, uint64(mm.Tune.around(true)))
	case start > v.Start && mm.used(start-PageSize) && !mm.tight():
		n = minAround
		slot = mm.runNext
		mm.runNext = (mm.runNext + 1) % len(mm.runs)
	default:
		return
	}
	for p := start; p < min(end, v.End, start+n*PageSize); p += PageSize {
		if _, err := mm.mapZeroAhead(v, p, true); err != nil {
			break
		}
	}
	mm.runs[slot] = anonRun{end: start + n*PageSize, n: n}
}

// tight reports whether guest memory is too short to map zero pages on a
// guess: past half the budget (frames and charges), a lone demand-zero
// fault and a heap growth map only what the program touches, as Linux
// does; walks (a streaming or followed run, a stack) still get theirs.
// Speculative pages are frames the program may never use: one touching a
// page per MiB of a large heap held 16 times what it used, and in a
// --mem Linux runs it in, the OOM killer ended it (mm_sparse.c).
func (mm *MM) tight() bool {
	return mm.mem.Used() > mm.mem.Size()/2
}

// followedRun returns the index of a recent demand-zero run whose end
// page lies at most four runs' length below page, or -1.
func (mm *MM) followedRun(page uint64) int {
	for i, r := range mm.runs {
		if r.n != 0 && page >= r.end && page-r.end < 4*r.n*PageSize {
			return i
		}
	}
	return -1
}

// mapZeroAhead maps page p of v, old, if nothing maps it yet and the
// object holds no page there, and says whether it did; an error (out of
// memory) ends the run.
func (mm *MM) mapZeroAhead(v *VMA, p uint64, write bool) (bool, error) {
	if _, ok := mm.pt.Lookup(p); ok || v.Obj.has(v.objPage(p)) {
		return false, nil
	}
	_, err := mm.populatePage(v, p, write, false)
	return err == nil, err
}

// denseBelow reports whether each of the minAround pages below page, in
// v, is mapped and was used: a program writing memory through, whose
// pages ahead will be used too, so that their frames are no waste.
func (mm *MM) denseBelow(v *VMA, page uint64) bool {
	if page-v.Start < minAround*PageSize {
		return false
	}
	for p := page - minAround*PageSize; p < page; p += PageSize {
		if !mm.used(p) {
			return false
		}
	}
	return true
}

// used reports whether page is mapped and was used.
func (mm *MM) used(page uint64) bool {
	pte, ok := mm.pt.Lookup(page)
	return ok && pte&ept.PTEAccessed != 0
}

// fileAround maps the file pages around page (a file read or exec fault)
// and returns how many it mapped: a window of the policy's speculative
// size aligned around the fault (its start clamped to the VMA, the window
// running its full size from there, as Linux's), or, when streaming, the
// policy's run from the fault upwards.
func (mm *MM) fileAround(v *VMA, page uint64) int {
	o := v.Obj
	streaming := mm.usedBelow(v, page)
	n := uint64(mm.Tune.around(streaming)) * PageSize
	lo, hi := page, page+n
	if !streaming {
		// As Linux's do_fault_around: the aligned window's start,
		// clamped to the VMA, and n pages from there (a small file
		// mapped across an alignment boundary is mapped whole).
		lo = max(page&^(n-1), v.Start)
		hi = lo + n
	}
	lo, hi = max(lo, v.Start), min(hi, v.End)
	// Clip to end of file. The run may span two windows: opening one is a
	// host mmap into an arena (ept/filemap.go), not a memory slot.
	size, err := o.file.Size()
	if err != nil {
		return 0
	}
	fpg := o.filePg + v.objPage(page)
	eof := (uint64(size) + PageSize - 1) / PageSize // first file page wholly past EOF
	if fpg >= eof {
		return 0
	}
	if above := (hi - page) / PageSize; eof-fpg < above {
		hi = page + (eof-fpg)*PageSize
	}
	if hi <= lo+PageSize {
		return 0
	}
	t0 := nanotime()
	done, _ := mm.mapFileRun(v, lo, hi, page, streaming, false)
	mm.Tune.observePages(nanotime()-t0, done)
	return done
}

// noPage is no page address (mapFileRun's skip when nothing is skipped).
const noPage = ^uint64(0)

// mapFileRun maps the pages of [lo, hi) of v (a VMA of a file object,
// every page before end of file) that nothing maps yet to the file's
// pages through its windows, old unless accessed, read-only for a
// private mapping (leafFlags), and returns how many it mapped; an error
// (a window that cannot be opened, out of memory for a page table) ends
// it. Page skip (a fault's own page, mapped by the fault; noPage: none)
// is left alone. A page a private mapping holds a copy of is never mapped
// to the file: with copies (Populate) the copy is mapped, as a fault
// would, else (fileAround) it is left to its own fault. The run may span windows (opening one is a
// host mmap, ept/filemap.go); within one its frames are consecutive, so
// the entries go in per page table (ept's MapRun).
func (mm *MM) mapFileRun(v *VMA, lo, hi, skip uint64, accessed, copies bool) (int, error) {
	o := v.Obj
	f := pteFlags(v.Prot)
	if !o.share {
		f &^= ept.PTEWritable | ept.PTEDirty // window pages: leafFlags
	}
	if !accessed {
		f &^= ept.PTEAccessed
	}
	held := !o.share && len(o.pages) > 0
	done := 0
	for p := lo; p < hi; {
		fp := o.filePg + v.objPage(p)
		pa, _, whi, err := o.file.Window(fp)
		if err != nil {
			return done, err
		}
		end := min(hi, p+(whi-fp)*PageSize)
		for p < end {
			// The run up to the next page to leave to someone else.
			q := p
			for q < end && q != skip && !(held && o.has(v.objPage(q))) {
				q += PageSize
			}
			k, err := mm.pt.MapRun(p, pa, int((q-p)/PageSize), f)
			done += k
			if err != nil {
				return done, err
			}
			pa += q - p
			p = q
			if p == end {
				break
			}
			if p != skip && copies {
				// A private copy: mapped as a fault would, old,
				// unless present already.
				if _, ok := mm.pt.Lookup(p); !ok {
					if _, err := mm.populatePage(v, p, false, accessed); err != nil {
						return done, err
					}
					done++
				}
			}
			p, pa = p+PageSize, pa+PageSize
		}
	}
	return done, nil
}

// cowAround, after a copy-on-write fault at page whose page below was
// just written (a sequential writer), copies the following pages of the
// run: present, used, and holding a RAM frame still shared with a fork
// relative. A page the relative already let go of (one reference left)
// just gets its write right back. It stops at the first page that is none
// of these, and returns how many pages it changed. Without a policy (as
// Linux) it copies nothing ahead.
func (mm *MM) cowAround(v *VMA, page uint64) int {
	if mm.Tune == nil || page <= v.Start || v.Obj.share || !allowed(v.Prot, Write) {
		return 0
	}
	below, ok := mm.pt.Lookup(page - PageSize)
	if !ok || below&ept.PTEWritable == 0 {
		return 0
	}
	n := uint64(mm.Tune.around(true))
	end := min(v.End, page+n*PageSize)
	done := 0
	for p := page + PageSize; p < end; p += PageSize {
		pte, ok := mm.pt.Lookup(p)
		if !ok || pte&ept.PTEAccessed == 0 || pte&ept.PTEWritable != 0 {
			break
		}
		idx := v.objPage(p)
		pa, held := v.Obj.pages[idx]
		if !held || pa != ept.Frame(pte) {
			break // a file window page, or not this object's frame
		}
		if _, err := mm.populatePage(v, p, true, true); err != nil {
			break
		}
		done++
	}
	return done
}

// prepopulate maps zero frames, old, over [start, end) of a new private
// anonymous mapping (mmap, or brk growth) when it is small (at most Linux's fault-around size)
// and the policy says mapping its pages costs well under one fault: the
// first touch then costs no exit. The entries are old, so mincore and an
// munmap of untouched pages behave as if nothing were mapped.
func (mm *MM) prepopulate(start, end uint64) {
	n := (end - start) / PageSize
	if n > minAround || !mm.Tune.cheaperThanFault(int(n)) {
		return
	}
	v := mm.find(start)
	if v == nil || v.Obj.file != nil || v.Obj.share || !allowed(v.Prot, Write) {
		return
	}
	for p := start; p < end; p += PageSize {
		if _, ok := mm.pt.Lookup(p); ok || v.Obj.has(v.objPage(p)) {
			continue
		}
		if _, err := mm.populatePage(v, p, true, false); err != nil {
			return
		}
	}
}

// Populate maps what [addr, addr+length) holds ahead of the program's
// first access, as fault-around would, for a loader that knows the range
// will be used (an ELF segment, the interpreter's): file pages through
// the file window (read-only for a private mapping), zero frames for
// anonymous memory, each entry old, so mincore, RSS-like counts of
// touched pages and later changes behave as if the program faulted the
// pages in. Pages at or past end of file, of inaccessible VMAs, or
// already present are left alone; unmapped parts are skipped. Best
// effort: running out of memory stops it quietly.
func (mm *MM) Populate(addr, length uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	defer mm.after()
	if addr >= UserTop || length > UserTop-addr {
		return
	}
	mm.lockedPopulate(addr&^(PageSize-1), pageUp(addr+length))
}

// PopulateSegment is Populate for an ELF segment a loader just mapped,
// bounded by the policy: as many pages as four faults' cost buys (the
// loader knows the segment will be used, as a streaming program's next
// pages will), beyond the one fault's worth mmap mapped already. Nothing
// without a policy.
func (mm *MM) PopulateSegment(addr, length uint64) {
	if n := uint64(4 * mm.Tune.mmapAround()); n > 0 {
		mm.Populate(addr, min(length, n*PageSize))
	}
}

// lockedPopulate returns how many pages it mapped.
func (mm *MM) lockedPopulate(start, end uint64) int {
	n := 0
	for _, v := range mm.overlapping(start, end) {
		if !accessible(v.Prot) {
			continue
		}
		eof := v.Obj.endPage()
		if v.Obj.file != nil {
			// File pages: through the windows, a run at a time.
			lo, hi := max(v.Start, start), min(v.End, end)
			if first := v.objPage(lo); first >= eof {
				continue
			} else if eof-first < (hi-lo)/PageSize {
				hi = lo + (eof-first)*PageSize
			}
			k, err := mm.mapFileRun(v, lo, hi, noPage, false, true)
			n += k
			if err != nil {
				return n
			}
			continue
		}
		for p := max(v.Start, start); p < min(v.End, end); p += PageSize {
			if v.objPage(p) >= eof {
				break
			}
			if _, ok := mm.pt.Lookup(p); ok {
				continue
			}
			if _, err := mm.populatePage(v, p, false, false); err != nil {
				return n
			}
			n++
		}
	}
	return n
}
