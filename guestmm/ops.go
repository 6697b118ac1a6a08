// ops.go: the mmap family, with Linux's argument checks and errnos.
package guestmm

import (
	"golang.org/x/sys/unix"

	"kshim/ept"
)

func pageUp(x uint64) uint64 { return (x + PageSize - 1) &^ (PageSize - 1) }

// MmapArgs are mmap(2)'s arguments after the syscall layer resolved fd.
type MmapArgs struct {
	Addr, Len uint64
	Prot      int
	Flags     int // unix.MAP_*
	// FD is the host fd of the file to map unless Flags has
	// MAP_ANONYMOUS; the caller keeps it open only for the call.
	FD   int
	Off  uint64
	Name string
	// File is kept in the VMA for the caller (VMA.File).
	File any
	// NoExec: the file is on a noexec mount; PROT_EXEC is the caller's
	// EPERM, and mprotect adding it later EACCES (Linux clears
	// VM_MAYEXEC).
	NoExec bool
	// Like, with MAP_ANONYMOUS|MAP_PRIVATE, makes the memory stand for
	// pages of that host file from file offset Off in /proc/PID/maps
	// (VMA.View): the loader's copy of a program's .data, which the guest
	// sees as the file mapping Linux makes there.
	Like *ept.FileID
	// ReadOnly: the mapping may never be made writable (a SysV segment
	// attached SHM_RDONLY: Linux opens its file read-only), so
	// mprotect adding PROT_WRITE is EACCES.
	ReadOnly bool
	// FDID and FDFlags, when FDID is set, are FD's file (fstat) and
	// status flags (F_GETFL) as the caller just read them (mmap's
	// checks), so the mapping does not ask the host again.
	FDID    *ept.FileID
	FDFlags int
}

// knownMapFlags are the flags MAP_SHARED_VALIDATE accepts (Linux's
// LEGACY_MAP_MASK plus the validated ones kshim implements).
const knownMapFlags = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_ANONYMOUS |
	unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | 0x4000000 | unix.MAP_GROWSDOWN |
	unix.MAP_LOCKED | unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK | unix.MAP_STACK |
	unix.MAP_HUGETLB | unix.MAP_FIXED_NOREPLACE | 0x3f<<26 // MAP_HUGE_SHIFT bits

// protSem is PROT_SEM, which x86's mprotect accepts and ignores.
const protSem = 0x8

// Mmap implements mmap(2). It returns the mapped address.
func (mm *MM) Mmap(a MmapArgs) (uint64, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMmap(a)
}

func (mm *MM) lockedMmap(a MmapArgs) (uint64, error) {
	defer mm.after()
	// Linux's order: the offset (the syscall), the length, the address
	// (__get_unmapped_area), MAP_FIXED_NOREPLACE, and only then the map
	// type and flags (do_mmap's switch). prot is not validated: bits other
	// than R/W/X are ignored (calc_vm_prot_bits).
	if a.Off%PageSize != 0 || a.Len == 0 {
		return 0, unix.EINVAL
	}
	length := pageUp(a.Len)
	if length == 0 {
		return 0, unix.ENOMEM
	}
	if a.Off/PageSize+length/PageSize < a.Off/PageSize {
		return 0, unix.EOVERFLOW
	}
	if length > UserTop {
		return 0, unix.ENOMEM
	}
	fixed := a.Flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0
	addr := a.Addr
	if !fixed {
		// round_hint_to_min, and x86 rounds the hint down to a page.
		addr &^= PageSize - 1
		if addr != 0 && addr < MinAddr {
			addr = MinAddr
		}
		var ok bool
		if addr, ok = mm.findFree(addr, length); !ok {
			return 0, unix.ENOMEM
		}
	}
	switch {
	case addr > UserTop-length:
		return 0, unix.ENOMEM
	case addr%PageSize != 0:
		return 0, unix.EINVAL
	case addr < MinAddr:
		return 0, unix.EPERM
	case a.Flags&unix.MAP_FIXED == 0 && fixed && len(mm.overlapping(addr, addr+length)) != 0:
		return 0, unix.EEXIST
	}
	const mapType = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE
	switch a.Flags & unix.MAP_TYPE {
	case unix.MAP_SHARED, unix.MAP_PRIVATE:
	case unix.MAP_SHARED_VALIDATE:
		// Validated flags exist for files; anonymous memory takes only
		// the plain types.
		if a.Flags&unix.MAP_ANONYMOUS != 0 {
			return 0, unix.EINVAL
		}
		if a.Flags&^knownMapFlags != 0 {
			return 0, unix.EOPNOTSUPP
		}
	default:
		return 0, unix.EINVAL
	}
	if a.Flags&mapType != unix.MAP_PRIVATE && a.Flags&unix.MAP_GROWSDOWN != 0 {
		return 0, unix.EINVAL // only private memory grows down
	}
	// MAP_SHARED_VALIDATE is MAP_SHARED|MAP_PRIVATE: only the exact
	// MAP_PRIVATE type is private.
	shared := a.Flags&mapType != unix.MAP_PRIVATE
	flags := 0
	if shared {
		flags |= Shared
	}
	var file *ept.MappedFile
	switch {
	case a.Flags&unix.MAP_ANONYMOUS != 0 && shared:
		// Shared anonymous memory is a host memfd seen through a file
		// window, as Linux backs it with a shmem file: every process
		// that inherits it maps the same host pages, and MADV_REMOVE's
		// hole punch reaches all of them at once.
		flags |= Anonymous
		var err error
		if file, err = mm.shmem(length); err != nil {
			return 0, err
		}
		defer file.Release()
		a.Off = 0
		if a.Name == "" {
			a.Name = "/dev/zero (deleted)"
		}
	case a.Flags&unix.MAP_ANONYMOUS != 0:
		flags |= Anonymous
	default:
		var err error
		if a.FDID != nil {
			file, err = mm.mem.MapFileOf(a.FD, *a.FDID, a.FDFlags)
		} else {
			file, err = mm.mem.MapFile(a.FD)
		}
		if err != nil {
			return 0, err
		}
		defer file.Release() // the object takes its own reference
		if shared && !file.Writable() {
			flags |= NoWrite
		}
		if a.NoExec {
			flags |= NoExec
		}
		if a.ReadOnly {
			flags |= NoWrite
		}
	}
	if a.Flags&unix.MAP_GROWSDOWN != 0 {
		flags |= GrowsDown
	}
	if a.Flags&unix.MAP_LOCKED != 0 || mm.lockFuture {
		flags |= Locked
	}
	v := &VMA{Start: addr, End: addr + length, Prot: a.Prot & (unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC), Flags: flags, Name: a.Name}
	if file != nil && flags&Anonymous == 0 {
		v.File = a.File
	}
	if err := mm.unmapRange(addr, addr+length); err != nil {
		return 0, err
	}
	if a.Like != nil && flags == Anonymous {
		// An object of its own (never joined to a neighbour's: attach
		// joins only objects without one), whose page anonBase is file
		// page Off.
		v.Obj, v.Off = newObject(false, nil, 0), anonBase
		id := *a.Like
		v.Obj.like, v.Obj.likePg = &id, a.Off/PageSize-anonBase
	} else {
		mm.attach(v, file, a.Off/PageSize)
	}
	mm.insert(v)
	if flags&Locked != 0 || a.Flags&unix.MAP_POPULATE != 0 && a.Flags&unix.MAP_NONBLOCK == 0 {
		// Best effort, as in Linux: mmap succeeds even if populating stops.
		_ = mm.populate(addr, addr+length)
	} else if flags == Anonymous {
		mm.prepopulate(addr, addr+length) // around.go
	} else if file != nil && flags&Anonymous == 0 && (!shared || a.Prot&unix.PROT_WRITE == 0) {
		// A private file mapping (a loader's segment, a file read through
		// mmap), or a read-only shared one (a cache file: glibc's
		// gconv-modules.cache), is mapped ahead from its start, as far as
		// one fault's cost buys (policy.go), four faults' for code (a
		// library's text, which ld.so maps PROT_EXEC: a program runs all
		// over it): its pages are the host page cache, so this costs
		// page-table entries, not memory.
		n := mm.Tune.mmapAround()
		if a.Prot&unix.PROT_EXEC != 0 {
			n *= 4
		}
		if n > 0 && accessible(v.Prot) {
			// Not a measure for the policy: it may open file windows
			// (host mmaps), which fault-around's measure leaves out.
			mm.lockedPopulate(addr, addr+min(length, uint64(n)*PageSize))
		}
	}
	return addr, nil
}

// shmem creates the host memfd behind a shared anonymous mapping.
func (mm *MM) shmem(length uint64) (*ept.MappedFile, error) {
	fd, err := unix.MemfdCreate("kshim-shared-anon", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, unix.ENOMEM
	}
	defer unix.Close(fd) // MapFile keeps its own
	if err := unix.Ftruncate(fd, int64(length)); err != nil {
		return nil, unix.ENOMEM
	}
	return mm.mem.MapFile(fd)
}

// attach gives v a backing object: a fresh one, or for private anonymous
// memory right after a compatible mapping whose object only it uses, that
// mapping's object, so the two merge.
func (mm *MM) attach(v *VMA, f *ept.MappedFile, filePg uint64) {
	if f == nil && v.Flags&Shared == 0 {
		// Private anonymous memory may extend a neighbour's object (and so
		// merge with it) when that object backs nothing else: the one
		// just below, or the one just above (top-down mmap places new
		// memory there). Object page indexes may run "below zero"; they
		// are only ever compared and subtracted, so wrapping is harmless.
		joinable := func(n *VMA) bool {
			return n != nil && n.Obj.refs == 1 && n.Obj.file == nil && !n.Obj.share && n.Obj.like == nil &&
				n.Prot == v.Prot && n.Flags == v.Flags && n.Name == v.Name
		}
		if prev := mm.find(v.Start - 1); v.Start > 0 && joinable(prev) && prev.End == v.Start {
			prev.Obj.ref()
			v.Obj, v.Off = prev.Obj, prev.objPage(prev.End)
			return
		}
		if next := mm.find(v.End); joinable(next) && next.Start == v.End && next.Off >= v.pages() &&
			!next.Obj.hasBelow(next.Off, v.pages()) {
			next.Obj.ref()
			v.Obj, v.Off = next.Obj, next.Off-v.pages()
			return
		}
	}
	v.Obj = newObject(v.Flags&Shared != 0, f, filePg)
	if f == nil {
		v.Off = anonBase
	}
}

// findFree finds a free range of length bytes: at hint if it is free,
// else the highest free range below the mmap base (top-down, like Linux).
//
// The search starts at freeTop rather than the mmap base when it can: every gap
// above freeTop is at most holeMax bytes (Linux's old free_area_cache and
// cached_hole_size), so a run of mmaps does not rescan the whole map.
func (mm *MM) findFree(hint, length uint64) (uint64, bool) {
	if hint >= MinAddr && hint+length <= UserTop && hint+length > hint && len(mm.overlapping(hint, hint+length)) == 0 {
		return hint, true
	}
	end, holeMax := mm.freeTop, mm.holeMax
	if end == 0 || length <= holeMax {
		end, holeMax = mm.layout.MmapBase, 0
	}
	found, ok := uint64(0), false
	mm.vmas.DescendLessOrEqual(&VMA{Start: end}, func(v *VMA) bool {
		if v.End <= end {
			if end-v.End >= length {
				found, ok = end-length, true
				return false
			}
			holeMax = max(holeMax, end-v.End)
		}
		end = min(end, v.Start)
		return true
	})
	if !ok && end >= MinAddr+length {
		found, ok = end-length, true
	}
	if ok {
		mm.freeTop, mm.holeMax = found, holeMax
	}
	return found, ok
}

// freeHint keeps findFree's cache true when [lo, hi) becomes free.
func (mm *MM) freeHint(lo, hi uint64) {
	if mm.freeTop == 0 || hi <= mm.freeTop || lo >= mm.layout.MmapBase {
		return
	}
	// The whole gap the range now belongs to.
	bottom, top := uint64(MinAddr), mm.layout.MmapBase
	mm.vmas.DescendLessOrEqual(&VMA{Start: lo}, func(v *VMA) bool {
		if v.End <= lo {
			bottom = max(bottom, v.End)
			return false
		}
		return true
	})
	mm.vmas.AscendGreaterOrEqual(&VMA{Start: hi}, func(v *VMA) bool {
		top = min(top, v.Start)
		return false
	})
	if bottom >= mm.freeTop {
		mm.holeMax = max(mm.holeMax, top-bottom)
	} else {
		mm.freeTop = top // the gap straddles freeTop: the next search meets it first
	}
}

// Munmap implements munmap(2).
func (mm *MM) Munmap(addr, length uint64) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMunmap(addr, length)
}

func (mm *MM) lockedMunmap(addr, length uint64) error {
	defer mm.after()
	// The length is checked as given, before rounding: 2^64-1 does not
	// round to an empty range.
	if addr%PageSize != 0 || addr > UserTop || length > UserTop-addr || length == 0 {
		return unix.EINVAL
	}
	return mm.unmapRange(addr, addr+pageUp(length))
}

// Mprotect implements mprotect(2).
func (mm *MM) Mprotect(addr, length uint64, prot int) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMprotect(addr, length, prot)
}

func (mm *MM) lockedMprotect(addr, length uint64, prot int) error {
	defer mm.after()
	// do_mprotect_pkey's checks, in its order.
	grows := prot & (unix.PROT_GROWSDOWN | unix.PROT_GROWSUP)
	prot &^= grows
	if grows == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP || addr%PageSize != 0 {
		return unix.EINVAL
	}
	if length == 0 {
		return nil
	}
	length = pageUp(length)
	end := addr + length
	if end <= addr {
		return unix.ENOMEM
	}
	if prot&^(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|protSem) != 0 {
		return unix.EINVAL // arch_validate_prot accepts PROT_SEM too
	}
	first := mm.overlapping(addr, end)
	if len(first) == 0 {
		return unix.ENOMEM
	}
	switch {
	case grows == unix.PROT_GROWSDOWN:
		// The change extends down to the start of the growing VMA.
		if first[0].Flags&GrowsDown == 0 {
			return unix.EINVAL
		}
		addr = first[0].Start
	case first[0].Start > addr:
		return unix.ENOMEM
	case grows == unix.PROT_GROWSUP:
		return unix.EINVAL // x86 has no VM_GROWSUP
	}
	// The whole range must be mapped, without holes.
	vs := mm.overlapping(addr, end)
	next := addr
	for _, v := range vs {
		if v.Start > next {
			return unix.ENOMEM
		}
		next = v.End
	}
	if next < end {
		return unix.ENOMEM
	}
	prot &= unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC
	for _, v := range vs {
		if prot&unix.PROT_WRITE != 0 && v.Flags&NoWrite != 0 ||
			prot&unix.PROT_EXEC != 0 && v.Flags&NoExec != 0 {
			return unix.EACCES
		}
	}
	for _, v := range vs {
		v = mm.split(v, max(v.Start, addr), min(v.End, end))
		v.Prot = prot
		if err := mm.pt.Range(v.Start, v.End, func(va, pte uint64) error {
			if !accessible(prot) {
				_, _, err := mm.pt.Unmap(va)
				return err
			}
			return mm.pt.Protect(va, mm.leafFlags(v, ept.Frame(pte)))
		}); err != nil {
			return err
		}
	}
	// Merge only once every piece has its new protection: merging while
	// pieces still await theirs would swallow them.
	mm.mergeAround(addr, end)
	return nil
}

// SetBrkStart sets where the heap begins (the end of the loaded image).
func (mm *MM) SetBrkStart(addr uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.lockedSetBrkStart(addr)
}

func (mm *MM) lockedSetBrkStart(addr uint64) { mm.brkStart, mm.brk = addr, addr }

// Brk implements brk(2): it returns the new break, or the old one when the
// request cannot be met.
// BrkEnd returns the program break.
func (mm *MM) BrkEnd() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.brk
}

func (mm *MM) Brk(addr uint64) uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedBrk(addr)
}

func (mm *MM) lockedBrk(addr uint64) uint64 {
	defer mm.after()
	if addr < mm.brkStart {
		return mm.brk
	}
	oldEnd, newEnd := pageUp(mm.brk), pageUp(addr)
	switch {
	case newEnd == oldEnd:
	case addr <= mm.brk:
		// Shrinking needs some mapping left in the range (Linux: "mapping
		// intersects with an existing non-brk vma" otherwise).
		if len(mm.overlapping(newEnd, oldEnd)) == 0 || mm.unmapRange(newEnd, oldEnd) != nil {
			return mm.brk
		}
	default:
		// check_brk_limits, then the next mapping must start a page above
		// the new break (a stack growing down: its guard gap above it).
		grow := newEnd - oldEnd
		if newEnd < oldEnd || grow > UserTop || oldEnd > UserTop-grow || oldEnd < MinAddr {
			return mm.brk
		}
		var next *VMA
		mm.vmas.AscendGreaterOrEqual(&VMA{Start: oldEnd}, func(v *VMA) bool { next = v; return false })
		if mm.find(oldEnd) != nil || next != nil && (next.Start < newEnd+PageSize ||
			next.Flags&GrowsDown != 0 && next.Start-newEnd < PageSize+StackGap) {
			return mm.brk
		}
		v := &VMA{Start: oldEnd, End: newEnd, Prot: unix.PROT_READ | unix.PROT_WRITE, Flags: Anonymous, Name: "[heap]"}
		mm.attach(v, nil, 0)
		mm.insert(v)
		mm.prepopulate(oldEnd, newEnd) // around.go
		mm.growAhead(oldEnd, newEnd)
	}
	mm.brk = addr
	return mm.brk
}

// Madvise implements madvise(2).
func (mm *MM) Madvise(addr, length uint64, advice int) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedMadvise(addr, length, advice)
}

func (mm *MM) lockedMadvise(addr, length uint64, advice int) error {
	defer mm.after()
	if addr%PageSize != 0 {
		return unix.EINVAL
	}
	switch advice {
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE, unix.MADV_DONTFORK, unix.MADV_DOFORK,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE,
		unix.MADV_DONTDUMP, unix.MADV_DODUMP, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK,
		unix.MADV_COLD, unix.MADV_PAGEOUT:
	default:
		return unix.EINVAL
	}
	if length != 0 && pageUp(length) == 0 {
		return unix.EINVAL // a length that wraps when rounded is not empty
	}
	length = pageUp(length)
	end := addr + length
	if end < addr {
		return unix.EINVAL
	}
	vs := mm.overlapping(addr, end)
	covered := uint64(0)
	for _, v := range vs {
		covered += min(v.End, end) - max(v.Start, addr)
	}
	switch advice {
	case unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK:
		flag, set := DontFork, advice == unix.MADV_DONTFORK
		if advice == unix.MADV_WIPEONFORK || advice == unix.MADV_KEEPONFORK {
			flag, set = WipeOnFork, advice == unix.MADV_WIPEONFORK
			for _, v := range vs {
				if set && (v.Flags&Shared != 0 || v.Flags&Anonymous == 0) {
					return unix.EINVAL // private anonymous memory only
				}
			}
		}
		for _, v := range vs {
			v = mm.split(v, max(v.Start, addr), min(v.End, end))
			if set {
				v.Flags |= flag
			} else {
				v.Flags &^= flag
			}
		}
		mm.mergeAround(addr, end)
	case unix.MADV_DONTNEED, unix.MADV_FREE:
		for _, v := range vs {
			lo, hi := max(v.Start, addr), min(v.End, end)
			if v.Flags&Locked != 0 {
				return unix.EINVAL
			}
			if advice == unix.MADV_FREE && (v.Obj.shared() || v.Obj.file != nil) {
				return unix.EINVAL // MADV_FREE is for anonymous (not shmem) memory only
			}
			if v.Obj.shared() {
				continue // shared pages stay; Linux only drops this mapping's PTEs
			}
			if err := mm.clearPTEs(lo, hi); err != nil {
				return err
			}
			v.Obj.release(mm.mem, v.objPage(lo), v.objPage(hi))
		}
	case unix.MADV_REMOVE:
		for _, v := range vs {
			switch {
			case v.Flags&Locked != 0 || v.Obj.file == nil:
				return unix.EINVAL
			case !v.Obj.shared() || v.Prot&unix.PROT_WRITE == 0:
				return unix.EACCES
			}
			lo, hi := max(v.Start, addr), min(v.End, end)
			// The file's pages go; every mapping of them (in any process)
			// reads zeros next, since the windows map the file itself.
			if err := v.Obj.file.Punch(v.Obj.filePg+v.objPage(lo), (hi-lo)/PageSize); err != nil {
				return err
			}
		}
	}
	if covered < length {
		return unix.ENOMEM // after acting on the mapped parts, as Linux does
	}
	return nil
}
