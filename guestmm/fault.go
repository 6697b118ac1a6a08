// fault.go: resolving guest page faults, and the VMM's own access to guest
// memory (syscall buffers, the loader), which goes through the same path
// so a buffer in never-touched memory just works.
package guestmm

import (
	"errors"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

// Access is the kind of memory access.
type Access int

// Access kinds.
const (
	Read Access = iota
	Write
	Exec
)

// FaultResult says how a fault ends when it cannot be resolved.
type FaultResult int

// Fault outcomes.
const (
	Resolved FaultResult = iota
	SegvMapErr
	SegvAccErr
	BusErr // SIGBUS/BUS_ADRERR: a file page past end of file
	OOM    // guest memory exhausted: SIGBUS too, as Linux's VM_FAULT_OOM for a guest is fatal
)

// FaultKind says what a fault was, for statistics and `kshim faultlat`.
type FaultKind int

// Fault kinds.
const (
	KindNone        FaultKind = iota // not resolved (a signal follows)
	KindDemandZero                   // first touch of anonymous memory
	KindFile                         // first touch of a file page
	KindCopyOnWrite                  // write to a shared private page
	KindStackGrowth                  // the main stack grew to cover it
	KindSpurious                     // already mapped as needed (a stale TLB entry)
	KindMinor                        // the object held the page; only the mapping was missing
)

var kindNames = [...]string{"none", "demand-zero", "file", "copy-on-write", "stack-growth", "spurious", "minor"}

func (k FaultKind) String() string { return kindNames[k] }

// HandleFault resolves a fault at addr. It returns Resolved when the guest
// can retry the access, and what kind of fault it was.
func (mm *MM) HandleFault(addr uint64, acc Access) (FaultResult, FaultKind) {
	res, kind, _ := mm.HandleFaultPages(addr, acc)
	return res, kind
}

// HandleFaultPages is HandleFault that also says how many pages the fault
// mapped or changed: the faulting page and its fault-around (around.go).
func (mm *MM) HandleFaultPages(addr uint64, acc Access) (FaultResult, FaultKind, int) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedHandleFault(addr, acc)
}

func (mm *MM) lockedHandleFault(addr uint64, acc Access) (FaultResult, FaultKind, int) {
	defer mm.after()
	if addr >= UserTop {
		return SegvMapErr, KindNone, 0
	}
	grew := false
	v := mm.find(addr)
	if v == nil {
		if v = mm.growStack(addr); v == nil {
			return SegvMapErr, KindNone, 0
		}
		grew = true
	}
	if !allowed(v.Prot, acc) {
		return SegvAccErr, KindNone, 0
	}
	page := addr &^ (PageSize - 1)
	if v.Obj.beyondEOF(v.objPage(page)) {
		return BusErr, KindNone, 0
	}
	kind, err := mm.populatePage(v, page, acc == Write, true)
	if err != nil {
		return OOM, KindNone, 0
	}
	if kind == KindSpurious {
		// The entry already allows the access: the guest ran on a stale
		// translation. Have the guest rewrite it, so the fault cannot
		// repeat forever.
		if err := mm.pt.Refresh(page); err != nil {
			return OOM, KindNone, 0
		}
		return Resolved, kind, 0
	}
	if grew {
		return Resolved, KindStackGrowth, 1
	}
	// Fault-around (around.go): an exit costs far more than mapping a few
	// neighbours, so map more than the faulting page.
	n := 1
	switch {
	case kind == KindDemandZero && v.Obj.file == nil:
		n += mm.anonAround(v, page, acc == Write)
	case kind == KindFile:
		n += mm.fileAround(v, page)
	case kind == KindCopyOnWrite:
		n += mm.cowAround(v, page)
	}
	return Resolved, kind, n
}

func allowed(prot int, acc Access) bool {
	switch acc {
	case Write:
		return prot&unix.PROT_WRITE != 0
	case Exec:
		return prot&unix.PROT_EXEC != 0
	default:
		return prot&(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0
	}
}

// leafFlags gives the PTE flags for mapping pa in v: the VMA's protection,
// less write where the page must be copied first (a private page in a file
// window or shared with a fork relative).
func (mm *MM) leafFlags(v *VMA, pa uint64) uint64 {
	f := pteFlags(v.Prot)
	if !v.Obj.share && (mm.mem.IsWindow(pa) || mm.mem.Refs(pa) > 1) {
		f &^= ept.PTEWritable | ept.PTEDirty
	}
	return f
}

// populatePage maps page (in v) to its object's memory for an access
// (write or not); touched says the guest is making that access now, so the
// entry gets the accessed bit.
func (mm *MM) populatePage(v *VMA, page uint64, write, touched bool) (FaultKind, error) {
	if !accessible(v.Prot) {
		return KindNone, nil
	}
	pa, old, kind, err := v.Obj.frame(mm.mem, v.objPage(page), write && v.Prot&unix.PROT_WRITE != 0)
	if err != nil {
		return KindNone, err
	}
	if old != 0 {
		// Object.frame: the frame copied goes once the entry maps the
		// copy (Map stops the other vCPUs first if they may hold it).
		defer mm.mem.Free(old)
	}
	f := mm.leafFlags(v, pa)
	if !touched {
		f &^= ept.PTEAccessed
	}
	if pte, ok := mm.pt.Lookup(page); ok && ept.Frame(pte) == pa {
		if (pte^(pa|f|ept.PTEPresent))&^ept.PTEAccessed == 0 {
			return KindSpurious, nil
		}
		// Same page, new rights: a write to a page no longer shared.
		if kind == KindSpurious {
			kind = KindCopyOnWrite
		}
		return kind, mm.pt.Protect(page, f)
	}
	if kind == KindSpurious {
		kind = KindMinor
	}
	return kind, mm.pt.Map(page, pa, f)
}

// populate maps every page of [start, end) (MAP_POPULATE, mlock), writable
// pages as if written, so no later fault is needed.
func (mm *MM) populate(start, end uint64) error {
	for _, v := range mm.overlapping(start, end) {
		lo, hi := max(v.Start, start), min(v.End, end)
		eof := v.Obj.endPage()
		for p := lo; p < hi; p += PageSize {
			if v.objPage(p) >= eof {
				break
			}
			if _, err := mm.populatePage(v, p, v.Prot&unix.PROT_WRITE != 0 && v.Flags&Shared == 0 && v.Obj.file == nil, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// growStack extends the GrowsDown VMA just above addr down to cover it,
// keeping the stack guard gap to the mapping below and the stack limit.
func (mm *MM) growStack(addr uint64) *VMA {
	var above *VMA
	mm.vmas.AscendGreaterOrEqual(&VMA{Start: addr}, func(v *VMA) bool { above = v; return false })
	if above == nil || above.Flags&GrowsDown == 0 {
		return nil
	}
	page := addr &^ (PageSize - 1)
	if above.Name == "[stack]" && mm.layout.StackTop-page > StackLimit {
		return nil
	}
	var below *VMA
	mm.vmas.DescendLessOrEqual(&VMA{Start: addr}, func(v *VMA) bool { below = v; return false })
	if below != nil && page < below.End+StackGap {
		return nil
	}
	// The stack object's pages are indexed from its top: grow by
	// re-basing Off, which is why page indexes may go "negative" (wrap);
	// objPage stays consistent because both Start and Off move together.
	mm.vmas.Delete(above)
	above.Off -= (above.Start - page) / PageSize
	above.Start = page
	mm.vmas.ReplaceOrInsert(above)
	return above
}

// MapStack creates the main stack: a GrowsDown VMA of initial size below
// StackTop.
func (mm *MM) MapStack() {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.lockedMapStack()
}

func (mm *MM) lockedMapStack() {
	top := mm.layout.StackTop
	v := &VMA{Start: top - initStack, End: top, Prot: unix.PROT_READ | unix.PROT_WRITE,
		Flags: Anonymous | GrowsDown, Name: "[stack]", Off: anonBase}
	v.Obj = newObject(false, nil, 0)
	mm.insert(v)
}

// MapAnon maps private anonymous memory at exactly [addr, addr+length)
// (the ELF loader's boot.Memory).
func (mm *MM) MapAnon(addr, length uint64, prot int) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMapAnon(addr, length, prot)
}

func (mm *MM) lockedMapAnon(addr, length uint64, prot int) error {
	_, err := mm.lockedMmap(MmapArgs{Addr: addr, Len: length, Prot: prot, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED_NOREPLACE})
	if err == nil && length <= loadPopulate*PageSize && mm.Tune.cheaperThanFault(int(length/PageSize)) {
		// A small segment (data and bss) is mapped at load rather than
		// faulted in page by page (around.go's Populate).
		mm.lockedPopulate(addr, addr+length)
	}
	return err
}

// loadPopulate bounds the segments MapAnon maps at once, in pages.
const loadPopulate = 4 * minAround

// frameFor returns the VMM's view of the page holding addr, populating it
// for the access acc. Protection is checked unless force (the loader).
func (mm *MM) frameFor(addr uint64, acc Access, force bool) ([]byte, error) {
	page := addr &^ (PageSize - 1)
	if pte, ok := mm.pt.Lookup(page); ok && (acc != Write || pte&ept.PTEWritable != 0) {
		return mm.mem.Page(ept.Frame(pte)), nil
	}
	v := mm.find(addr)
	if v == nil {
		if v = mm.growStack(addr); v == nil {
			return nil, unix.EFAULT
		}
	}
	if !force && !allowed(v.Prot, acc) {
		return nil, unix.EFAULT
	}
	if v.Obj.beyondEOF(v.objPage(page)) {
		return nil, unix.EFAULT
	}
	pa, old, _, err := v.Obj.frame(mm.mem, v.objPage(page), acc == Write)
	if err != nil {
		return nil, err
	}
	if old != 0 {
		defer mm.mem.Free(old) // after the Map below, as in populatePage
	}
	if accessible(v.Prot) {
		if err := mm.pt.Map(page, pa, mm.leafFlags(v, pa)); err != nil {
			return nil, err
		}
	}
	return mm.mem.Page(pa), nil
}

func (mm *MM) copy(addr uint64, buf []byte, acc Access, force bool) (int, error) {
	if addr+uint64(len(buf)) < addr || addr+uint64(len(buf)) > UserTop {
		return 0, unix.EFAULT
	}
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		page, err := mm.frameFor(a, acc, force)
		if err != nil {
			return done, err
		}
		off := a % PageSize
		var n int
		if acc == Write {
			n = copy(page[off:], buf[done:])
		} else {
			n = copy(buf[done:], page[off:])
		}
		done += n
	}
	return done, nil
}

// CopyIn reads guest memory at addr into buf, as the guest could read it.
// It returns the bytes copied before any fault, and EFAULT on a fault.
func (mm *MM) CopyIn(addr uint64, buf []byte) (int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedCopyIn(addr, buf)
}

func (mm *MM) lockedCopyIn(addr uint64, buf []byte) (int, error) {
	defer mm.after()
	return mm.copy(addr, buf, Read, false)
}

// CopyOut writes buf to guest memory at addr, as the guest could write it.
// When guest memory runs out on the way, OnOOM may free some (the OOM
// killer) and the copy goes on from where it stopped, as a fault in
// Linux's copy_to_user is retried after the OOM killer ran.
func (mm *MM) CopyOut(addr uint64, buf []byte) (int, error) {
	done := 0
	for {
		n, err := mm.copyOut(addr+uint64(done), buf[done:])
		done += n
		if err == nil || !errors.Is(err, ept.ErrNoMemory) || mm.OnOOM == nil || !mm.OnOOM(mm) {
			return done, err
		}
	}
}

func (mm *MM) copyOut(addr uint64, buf []byte) (int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedCopyOut(addr, buf)
}

func (mm *MM) lockedCopyOut(addr uint64, buf []byte) (int, error) {
	defer mm.after()
	return mm.copy(addr, buf, Write, false)
}

// WriteAt writes guest memory regardless of protection (the loader).
func (mm *MM) WriteAt(addr uint64, data []byte) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedWriteAt(addr, data)
}

func (mm *MM) lockedWriteAt(addr uint64, data []byte) error {
	defer mm.after()
	_, err := mm.copy(addr, data, Write, true)
	return err
}

// ReadString reads a NUL-terminated string of at most max bytes.
func (mm *MM) ReadString(addr uint64, max int) (string, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedReadString(addr, max)
}

func (mm *MM) lockedReadString(addr uint64, max int) (string, error) {
	var out []byte
	for len(out) < max {
		page, err := mm.frameFor(addr, Read, false)
		if err != nil {
			return "", err
		}
		chunk := page[addr%PageSize:]
		if len(chunk) > max-len(out) {
			chunk = chunk[:max-len(out)]
		}
		for i, c := range chunk {
			if c == 0 {
				return string(append(out, chunk[:i]...)), nil
			}
		}
		out = append(out, chunk...)
		addr += uint64(len(chunk))
	}
	return "", unix.ENAMETOOLONG
}
