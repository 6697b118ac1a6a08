// Package guestmm is the guest's Linux memory manager: the range map of
// VMAs, the objects that back them, and the guest page tables, kept
// consistent at every step.
//
// Invariants (checked by Check after every operation in tests and with
// --check-invariants):
//  1. VMAs are page aligned, non-empty, inside the user half, and do not
//     overlap; the btree orders them by start address.
//  2. A VMA maps [Start, End) to pages [Off, Off+len) of its Object; two
//     VMAs never map the same page of a private object.
//  3. Every present user PTE lies inside an accessible VMA and maps exactly
//     the memory the VMA's object has for that page (object.go): its RAM
//     frame, or for a file page not (or never) copied, the file window.
//     It grants no more than the VMA's protection (W only with
//     PROT_WRITE, X only with PROT_EXEC), and W never for a private page
//     whose frame is shared copy-on-write or lives in a file window.
//  4. Every RAM frame an object holds counts that object in its reference
//     count (ept.Memory); private frames are shared only between an object
//     and its fork clones.
//  5. Page-table changes of present entries go through ept's flush queue,
//     so the guest never runs user code on a stale translation.
//
// An operation first computes and validates everything that can fail
// (addresses, overlaps, errnos), then changes the map, the objects and the
// page tables; the only failure after that point is running out of guest
// memory while populating, which leaves a consistent (if less populated)
// state. A snapshot (fork) therefore never observes a half-done update.
//
// Locking: one MM belongs to one address space; its lock serialises the
// operations of every task using it (the threads of a process, and
// processes made with CLONE_VM without CLONE_THREAD: vfork, posix_spawn).
// Lock order: MM before ept.Memory.
//
// Sharing: an MM starts with one process using it; Share adds one (a
// CLONE_VM child) and Unshare drops one, reporting the last, which alone
// may Destroy it (as Linux's mm_users and mmput).
package guestmm

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	"golang.org/x/sys/unix"

	"kshim/ept"
)

// PageSize is the guest page size.
const PageSize = ept.PageSize

// Layout of the user half, as Linux x86-64 with ASLR off (layout.go
// randomizes StackTop and MmapBase per image).
const (
	UserTop    = 0x7ffffffff000
	StackTop   = UserTop
	StackLimit = 8 << 20 // RLIMIT_STACK default
	StackGap   = 256 * PageSize
	// MmapBase is mmap_base() without randomization: the gap below the
	// stack is max(RLIMIT_STACK + guard gap, 128 MiB).
	MmapBase    = UserTop - 128<<20
	MinAddr     = 0x10000 // vm.mmap_min_addr
	initStack   = 128 << 10
	faultAround = 16 // pages populated per anonymous fault
)

// VMA flags.
const (
	Shared     = 1 << iota // MAP_SHARED
	Anonymous              // no file
	GrowsDown              // the main stack
	Locked                 // mlock / MAP_LOCKED
	NoWrite                // shared file opened read-only: PROT_WRITE is EACCES (no VM_MAYWRITE)
	DontFork               // MADV_DONTFORK
	WipeOnFork             // MADV_WIPEONFORK
	NoExec                 // file on a noexec mount: PROT_EXEC is EACCES (no VM_MAYEXEC)
)

// VMA is one mapped range.
type VMA struct {
	Start, End uint64
	Prot       int // unix.PROT_*
	Flags      int
	Obj        *Object
	Off        uint64 // page index in Obj of Start
	Name       string // for /proc/self/maps: a path, [heap], [stack]
	// File is the caller's record of a file mapping's file (syscalls:
	// its *fs.OpenFile), opaque here: /proc/PID/maps names the file
	// through it as the guest sees it.
	File any
}

func (v *VMA) pages() uint64 { return (v.End - v.Start) / PageSize }

// FileView is what /proc/PID/maps shows of a VMA's file (Linux's
// show_map_vma): Off, the file offset of Start in bytes (vm_pgoff <<
// PAGE_SHIFT), and ID, the host file's device and inode.
type FileView struct {
	Off uint64
	ID  ept.FileID
}

// View is v's FileView, false for memory Linux shows as anonymous
// (offset 0, device 00:00, inode 0): private anonymous memory. A file
// mapping shows its file; shared anonymous memory its host memfd (as
// Linux shows the shmem file behind it, pgoff 0 at the mapping's start);
// memory filled from a file (MmapArgs.Like) that file. Call it only under
// the MM's lock (EachVMA's callback): it reads v's object.
func (v *VMA) View() (FileView, bool) {
	switch o := v.Obj; {
	case o == nil:
		return FileView{}, false
	case o.file != nil:
		return FileView{Off: (o.filePg + v.Off) * PageSize, ID: o.file.ID()}, true
	case o.like != nil:
		return FileView{Off: (o.likePg + v.Off) * PageSize, ID: *o.like}, true
	}
	return FileView{}, false
}

func (v *VMA) objPage(addr uint64) uint64 { return v.Off + (addr-v.Start)/PageSize }

func lessVMA(a, b *VMA) bool { return a.Start < b.Start }

// MM is one address space.
type MM struct {
	// mu serialises every operation: the threads of a process share one
	// MM. Exported methods lock; locked* methods expect it held.
	mu   sync.Mutex
	mem  *ept.Memory
	pt   *ept.PageTable
	vmas *btree.BTreeG[*VMA]

	brkStart, brk uint64
	// argStart, argEnd are where the initial stack holds argv's strings
	// (Linux's mm->arg_start, arg_end: /proc/PID/cmdline), envEnd where
	// the environment's, which follow them, end (env_end: environ); fork
	// copies them, and noDump (PR_SET_DUMPABLE 0, Linux's mm flag: a new
	// MM at exec is dumpable again).
	argStart, argEnd, envEnd uint64
	noDump                   bool
	// layout is where the stack and the mmap area begin (layout.go);
	// fixed for the MM's life, copied by fork.
	layout Layout
	// freeTop and holeMax cache findFree's search (ops.go): every gap
	// between freeTop and layout.MmapBase is at most holeMax bytes.
	// freeTop 0 means no cache.
	freeTop, holeMax uint64
	// lockFuture is mlockall(MCL_FUTURE): new mappings are locked.
	lockFuture bool
	key        [2]VMA // btree search keys (keyAt)
	// CheckAll runs Check after every operation and panics on a violation
	// (tests, --check-invariants): an invariant violation is a kshim bug.
	CheckAll bool
	// OnOOM, when set, is called (without the MM's lock) when CopyOut
	// finds guest memory exhausted; true means memory was freed and the
	// copy goes on (resident.go). Forks and siblings inherit it.
	OnOOM func(*MM) bool
	// Tune is the machine's measured fault-around policy (policy.go); nil
	// gives Linux's. Fork and NewSibling pass it on.
	Tune *Tuning
	// runs are the last demand-zero fault-arounds (around.go's
	// anonAround), a hint only: nothing depends on them being current.
	runs    [4]anonRun
	runNext int
	// others counts the processes using this MM besides the first
	// (Share, Unshare); a fork or a sibling starts with none.
	others atomic.Int32
}

// Share records one more process using the MM (clone with CLONE_VM and
// without CLONE_THREAD: the child runs on the parent's address space).
func (mm *MM) Share() { mm.others.Add(1) }

// Unshare records that a process stopped using the MM (it exited, or
// execve gave it another); it reports whether that was the last one, which
// must then Destroy it. Others go on using it untouched.
func (mm *MM) Unshare() (last bool) { return mm.others.Add(-1) < 0 }

// Shared reports whether more than one process uses the MM.
func (mm *MM) Shared() bool { return mm.others.Load() > 0 }

// keyAt returns a search key for the btree (the MM's own, reused: a fresh
// key per lookup escapes to the heap, and lookups are on the fault path).
// The MM's lock is held, so one at a time.
func (mm *MM) keyAt(addr uint64) *VMA {
	mm.key[0].Start = addr
	return &mm.key[0]
}

func (mm *MM) keys(a, b uint64) (*VMA, *VMA) {
	mm.key[0].Start, mm.key[1].Start = a, b
	return &mm.key[0], &mm.key[1]
}

// New creates an empty address space over mem with page tables pt.
func New(mem *ept.Memory, pt *ept.PageTable) *MM {
	return &MM{mem: mem, pt: pt, vmas: btree.NewG(8, lessVMA), layout: FixedLayout()}
}

// PageTable returns the address space's page tables.
func (mm *MM) PageTable() *ept.PageTable { return mm.pt }

// Errors in Linux's terms; syscalls/ maps them to errnos.
var (
	ErrNoMem  = unix.ENOMEM
	ErrInval  = unix.EINVAL
	ErrExist  = unix.EEXIST
	ErrFault  = unix.EFAULT
	ErrAccess = unix.EACCES
)

// find returns the VMA containing addr (find_vma's exact-hit case).
func (mm *MM) find(addr uint64) *VMA {
	var hit *VMA
	mm.vmas.DescendLessOrEqual(mm.keyAt(addr), func(v *VMA) bool {
		if addr < v.End {
			hit = v
		}
		return false
	})
	return hit
}

// FindVMA returns a copy of the VMA containing addr.
func (mm *MM) FindVMA(addr uint64) (VMA, bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedFindVMA(addr)
}

func (mm *MM) lockedFindVMA(addr uint64) (VMA, bool) {
	v := mm.find(addr)
	if v == nil {
		return VMA{}, false
	}
	return *v, true
}

// overlapping returns the VMAs intersecting [start, end) in order.
func (mm *MM) overlapping(start, end uint64) []*VMA {
	if start >= end {
		return nil
	}
	var out []*VMA
	if v := mm.find(start); v != nil {
		out = append(out, v)
	}
	lo, hi := mm.keys(start+1, end)
	mm.vmas.AscendRange(lo, hi, func(v *VMA) bool {
		out = append(out, v)
		return true
	})
	return out
}

// SharedFutexKey names the memory at addr for a futex that is not
// process-private, as Linux's get_futex_key does for shared memory: in a
// shared file mapping, the host file (ept.FileID) and the byte offset in
// it, so every process mapping the file meets there; in shared anonymous
// memory, its Object (fork shares it) and the byte offset in it. For
// private memory, or no mapping, obj is nil: such a futex is named by
// address space and address.
func (mm *MM) SharedFutexKey(addr uint64) (obj any, off uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	v := mm.find(addr)
	if v == nil || v.Obj == nil || !v.Obj.shared() {
		return nil, 0
	}
	in := addr % PageSize
	if f := v.Obj.file; f != nil && v.Flags&Anonymous == 0 {
		return f.ID(), (v.Obj.filePg+v.objPage(addr))*PageSize + in
	}
	return v.Obj, v.objPage(addr)*PageSize + in
}

// VMAs returns copies of all VMAs in address order.
func (mm *MM) VMAs() []VMA {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedVMAs()
}

// EachVMA calls f with each VMA in address order, under the MM's lock
// (f must not call the MM), and the host fd of a file mapping's file (-1
// for others), valid only during the call: /proc/PID/maps asks the host
// for the file's name now, as Linux's d_path does when it is read.
func (mm *MM) EachVMA(f func(v *VMA, fileFD int)) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	mm.vmas.Ascend(func(v *VMA) bool {
		fd := -1
		if v.Obj != nil && v.Obj.file != nil && v.Flags&Anonymous == 0 {
			fd = v.Obj.file.FD()
		}
		c := *v
		f(&c, fd)
		return true
	})
}

func (mm *MM) lockedVMAs() []VMA {
	var out []VMA
	mm.vmas.Ascend(func(v *VMA) bool { out = append(out, *v); return true })
	return out
}

// Len returns the number of VMAs.
func (mm *MM) Len() int {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	defer mm.pt.EndOp()
	return mm.lockedLen()
}

func (mm *MM) lockedLen() int { return mm.vmas.Len() }

// pteFlags gives the leaf flags for a VMA's protection.
func pteFlags(prot int) uint64 {
	f := uint64(ept.PTEUser | ept.PTEAccessed)
	if prot&unix.PROT_WRITE != 0 {
		f |= ept.PTEWritable | ept.PTEDirty
	}
	if prot&unix.PROT_EXEC == 0 {
		f |= ept.PTENoExec
	}
	return f
}

func accessible(prot int) bool { return prot&(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0 }

func (mm *MM) after() {
	if mm.CheckAll {
		if err := mm.lockedCheck(); err != nil {
			panic(fmt.Sprintf("guestmm invariant violated: %v", err))
		}
	}
}

// split cuts v so that [lo, hi), which must lie inside v, is a VMA of its
// own, and returns it. The pieces outside keep v's attributes and take a
// reference on its object; the middle keeps v's.
func (mm *MM) split(v *VMA, lo, hi uint64) *VMA {
	if lo == v.Start && hi == v.End {
		return v
	}
	mm.vmas.Delete(v)
	if v.Start < lo {
		left := *v
		left.End = lo
		v.Obj.ref()
		mm.vmas.ReplaceOrInsert(&left)
	}
	if hi < v.End {
		right := *v
		right.Start, right.Off = hi, v.objPage(hi)
		v.Obj.ref()
		mm.vmas.ReplaceOrInsert(&right)
	}
	v.Off, v.Start, v.End = v.objPage(lo), lo, hi
	mm.vmas.ReplaceOrInsert(v)
	return v
}

// unmapRange removes [start, end) from the map: splits VMAs at the edges,
// clears PTEs, releases object pages.
func (mm *MM) unmapRange(start, end uint64) error {
	for _, v := range mm.overlapping(start, end) {
		v = mm.split(v, max(v.Start, start), min(v.End, end))
		mm.vmas.Delete(v)
		if err := mm.clearPTEs(v.Start, v.End); err != nil {
			return err
		}
		if !v.Obj.shared() {
			v.Obj.release(mm.mem, v.Off, v.objPage(v.End))
		}
		v.Obj.unref(mm.mem)
		mm.freeHint(v.Start, v.End)
	}
	return nil
}

func (mm *MM) clearPTEs(start, end uint64) error {
	return mm.pt.UnmapRange(start, end)
}

// insert adds v, merging with compatible neighbours like Linux's vma_merge.
func (mm *MM) insert(v *VMA) {
	if prev := mm.find(v.Start - 1); prev != nil && v.Start > 0 && mergeable(prev, v) {
		mm.vmas.Delete(prev)
		v.Obj.unref(mm.mem)
		v.Start, v.Off, v.Obj = prev.Start, prev.Off, prev.Obj
	}
	if next := mm.find(v.End); next != nil && mergeable(v, next) {
		mm.vmas.Delete(next)
		next.Obj.unref(mm.mem)
		v.End = next.End
	}
	mm.vmas.ReplaceOrInsert(v)
}

// mergeAround merges compatible neighbours among the VMAs touching
// [start, end], including the ones just outside it.
func (mm *MM) mergeAround(start, end uint64) {
	lo := start
	if prev := mm.find(start - 1); start > 0 && prev != nil {
		lo = prev.Start
	}
	vs := mm.overlapping(lo, end+1)
	for i := 1; i < len(vs); i++ {
		a, b := vs[i-1], vs[i]
		if !mergeable(a, b) {
			continue
		}
		mm.vmas.Delete(b)
		b.Obj.unref(mm.mem)
		a.End = b.End
		vs[i] = a
	}
}

func mergeable(a, b *VMA) bool {
	return a.End == b.Start && a.Prot == b.Prot && a.Flags == b.Flags && a.Obj == b.Obj &&
		a.objPage(a.End) == b.Off && a.Name == b.Name
}

// errno unwraps an error to the errno a syscall returns.
func errno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ept.ErrNoMemory) || errors.Is(err, ept.ErrFlushFull) {
		return unix.ENOMEM
	}
	return unix.EFAULT
}

// Errno converts a guestmm error to the errno Linux would return.
func Errno(err error) unix.Errno { return errno(err) }
