// pagetable.go: the 4-level x86-64 page tables the VMM builds for a guest.
//
// Invariants:
//   - The VMM writes an entry directly in guest memory only while the entry
//     is not present, or present but never used (accessed bit clear), and
//     has no queued write: a shadow MMU (PVM, or KVM without EPT) re-walks
//     non-present entries on the next access and has no shadow of an entry
//     whose accessed bit is clear, so the guest sees such a write at once.
//   - Every other change of an entry (present -> anything, or any entry with
//     a queued write, to keep order) is queued on the FlushQueue and applied
//     by guest code at CPL 0 before the guest next runs user code. Guest
//     writes are what a shadow MMU tracks; on EPT/NPT hardware the guest's
//     own invlpg after the write is what flushes the TLB. Where a start-up
//     measurement finds the VMM's own write seen after an invlpg (nested
//     paging: vmm/pteprobe.go), the queue holds the invlpg alone
//     (FlushQueue.SetHostWrites; docs/ARCHITECTURE.md, "Page-table
//     consistency"); where it finds that invalidating the VMM's view of
//     the entry's old frame makes the shadow MMU walk the entry again
//     (invalidate.go), the queue holds no records at all and the old
//     frames are invalidated at EndOp (FlushQueue.SetInvalidate). Queued writes to consecutive entries for consecutive
//     pages share one run record (flush.go), in the order they were made.
//   - The VMM's view of an entry (the bytes in guest memory) is always the
//     newest value: queued writes are also made at once in memory, so
//     lookups never consult the queue. The guest re-writing the same value
//     is what makes the hypervisor notice.
//   - Intermediate entries are present, writable and user; the leaf alone
//     decides access.
//   - Several vCPUs (the threads of one process) may run one address space.
//     Each has a root of its own (Attach): the user half's top-level
//     entries are the template root's, kept identical in every attached
//     root (a new top-level entry is written into all of them while it is
//     not present anywhere, and top-level entries never change after), and
//     the kernel half is the vCPU's own (its shim pages). Everything below
//     the top level is shared.
//   - A queued write goes to the flush queue of the vCPU whose host thread
//     makes the change (SetThread), so the vCPU that next enters the guest
//     from that thread applies it; OnShared lets the VMM stop the other
//     vCPUs of the address space first (vmm/task.go).
package ept

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Page-table entry bits.
const (
	PTEPresent  = 1 << 0
	PTEWritable = 1 << 1
	PTEUser     = 1 << 2
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTEHuge     = 1 << 7
	PTEGlobal   = 1 << 8
	PTENoExec   = 1 << 63

	pteAddrMask = 0x000ffffffffff000
	tableFlags  = PTEPresent | PTEWritable | PTEUser | PTEAccessed
)

// HugePageSize is the size of a 2 MiB page (a PD-level leaf).
const HugePageSize = 1 << 21

// PageTable is one guest address space's page tables.
type PageTable struct {
	mem    *Memory
	q      *FlushQueue
	root   uint64
	tables int      // table frames in use, for accounting and tests
	frames []uint64 // every table frame but the root, for Free
	// directMap is where guest code sees guest-physical memory; the
	// addresses of queued entries are given there.
	directMap uint64

	amu     sync.Mutex // guards roots, threads and the server's routing
	roots   []*Root
	nroots  atomic.Int32          // len(roots)
	away    atomic.Int32          // roots marked Away
	records atomic.Uint64         // guest-write records ever queued (Away's check)
	threads map[int32]*FlushQueue // host thread id -> its vCPU's queue
	only    *FlushQueue           // the one queue in threads, if just one
	// srvTid's writes go to srvQ (SetServer): the fast path's server
	// running a call for the task whose queue that is.
	srvTid int32
	srvQ   *FlushQueue
	// OnShared, when set, is called before the first write queued while
	// more than one root is attached; OnSharedEnd by EndOp after it, at
	// the end of the memory-manager operation.
	OnShared    func()
	OnSharedEnd func()
	shared      bool
	// recorded: the operation queued a record for the guest (not only
	// frames to invalidate); OnSharedEnd's callee reads it (Recorded).
	recorded bool
}

// Recorded reports whether the current operation queued a guest-write
// record, after which the other vCPUs must drop their cached
// translations (a frame invalidation needs no such flush).
func (pt *PageTable) Recorded() bool { return pt.recorded }

// EndOp ends a memory-manager operation (under its lock): a stop OnShared
// began is ended by OnSharedEnd.
func (pt *PageTable) EndOp() {
	// Frame invalidation: the operation's old frames go now, before
	// anyone runs on these tables again (the others are released below).
	if err := pt.queue().Invalidate(); err != nil {
		// madvise of the VMM's own mapping of guest memory does not
		// fail; if it ever did, a vCPU could run on a stale
		// translation: stop everything rather than that.
		panic(fmt.Sprintf("ept: invalidating changed frames: %v", err))
	}
	if pt.shared && pt.OnSharedEnd != nil {
		pt.OnSharedEnd()
	}
	pt.shared, pt.recorded = false, false
}

// Root is one vCPU's top-level table for an address space: what CR3 holds.
type Root struct {
	pt    *PageTable
	frame uint64
	away  bool // under pt.amu
}

// Root returns the guest-physical address of the top-level table.
func (r *Root) Root() uint64 {
	r.pt.amu.Lock() // Detach may clear it from another thread
	defer r.pt.amu.Unlock()
	return r.frame
}

// Attach makes a root for a vCPU whose kernel half is the top-level table
// at kernel (entries 256..511 are copied from it; the tables below it are
// the vCPU's and must not change while attached).
func (pt *PageTable) Attach(kernel uint64) (*Root, error) {
	frame, err := pt.mem.AllocTable()
	if err != nil {
		return nil, err
	}
	pt.amu.Lock()
	defer pt.amu.Unlock()
	dst := pt.mem.Page(frame)
	copy(dst[:PageSize/2], pt.mem.Page(pt.root)[:PageSize/2])
	copy(dst[PageSize/2:], pt.mem.Page(kernel)[PageSize/2:])
	r := &Root{pt: pt, frame: frame}
	pt.roots = append(pt.roots, r)
	pt.nroots.Store(int32(len(pt.roots)))
	return r, nil
}

// Detach drops a root (its vCPU left the address space) and frees it.
// Only the first call frees the frame: a thread's own Leave can come
// after the group's last thread freed every root (PageTable.Free) at a
// group exit, and a second free of the zeroed frame number retired
// frame 0 (the shim's kernel text) under every vCPU.
func (r *Root) Detach() {
	pt := r.pt
	pt.amu.Lock()
	frame := r.frame
	r.frame = 0
	for i, x := range pt.roots {
		if x == r {
			pt.roots = append(pt.roots[:i], pt.roots[i+1:]...)
			pt.nroots.Store(int32(len(pt.roots)))
			r.endAway()
			break
		}
	}
	pt.amu.Unlock()
	if frame != 0 {
		pt.mem.FreeTable(frame)
	}
}

// Attached returns how many roots are attached.
func (pt *PageTable) Attached() int { return int(pt.nroots.Load()) }

// Running returns how many attached roots are not Away: the vCPUs that
// may run guest code on the tables.
func (pt *PageTable) Running() int { return int(pt.nroots.Load() - pt.away.Load()) }

// Away marks r as the root of a vCPU that runs no guest code until back
// is called (a vfork parent waiting for its child), whose host thread is
// tid. Meanwhile the tables count one vCPU less (Running): a change stops
// no one for it (OnShared), and tid's queue is out of the thread map, so
// that a lone vCPU left has its writes routed without a look-up. A
// record queued meanwhile (a change its cached translations must drop,
// which it was not told of) gives it a full flush at back, before it
// runs user code again. r's vCPU must not change the tables while away;
// back is called once, from its thread.
func (r *Root) Away(tid int32) (back func()) {
	pt := r.pt
	pt.amu.Lock()
	q := pt.threads[tid]
	if r.frame == 0 || r.away || q == nil {
		pt.amu.Unlock()
		return func() {}
	}
	r.away = true
	pt.amu.Unlock()
	gen := pt.records.Load()
	pt.SetThread(tid, nil)
	pt.away.Add(1)
	return func() {
		pt.SetThread(tid, q)
		pt.amu.Lock()
		r.endAway() // unless a Detach already did
		pt.amu.Unlock()
		// After the count: a record queued from here on sees r's vCPU
		// as running and flushes it itself (queueWrite).
		if pt.records.Load() != gen {
			q.FlushAll()
		}
	}
}

// endAway ends r's Away, if it is (pt.amu held).
func (r *Root) endAway() {
	if r.away {
		r.away = false
		r.pt.away.Add(-1)
	}
}

// SetThread routes the writes host thread tid queues to q (nil: forget
// the thread).
func (pt *PageTable) SetThread(tid int32, q *FlushQueue) {
	pt.amu.Lock()
	defer pt.amu.Unlock()
	if pt.threads == nil {
		pt.threads = map[int32]*FlushQueue{}
	}
	if q == nil {
		delete(pt.threads, tid)
	} else {
		pt.threads[tid] = q
	}
	// queue runs for every entry written: no map iteration there.
	pt.only = nil
	if len(pt.threads) == 1 {
		for _, q := range pt.threads {
			pt.only = q
		}
	}
}

// Unshared marks the stop of the other vCPUs over (see OnShared).
func (pt *PageTable) Unshared() { pt.shared = false }

// queue returns the flush queue for a write from the calling thread.
func (pt *PageTable) queue() *FlushQueue {
	pt.amu.Lock()
	defer pt.amu.Unlock()
	switch len(pt.threads) {
	case 0:
		return pt.q
	case 1:
		return pt.only // the server's too: it serves that one
	}
	tid := int32(unix.Gettid())
	if pt.srvQ != nil && tid == pt.srvTid {
		return pt.srvQ
	}
	if q := pt.threads[tid]; q != nil {
		return q
	}
	return pt.q
}

// SetServer routes the writes host thread tid makes to q until it is
// called again with q nil: the fast path's server (vmm/fast.go) while it
// runs a call for the task whose queue q is. Unlike SetThread it leaves
// the tables' own threads as they are, so a lone thread's writes need no
// look-up, and it holds when another thread comes back meanwhile (a
// vfork parent's Away ends).
func (pt *PageTable) SetServer(tid int32, q *FlushQueue) {
	pt.amu.Lock()
	pt.srvTid, pt.srvQ = tid, q
	pt.amu.Unlock()
}

// NewPageTable creates an empty address space. Queued writes name entries
// by their address in the guest's direct map at directMap.
func NewPageTable(mem *Memory, q *FlushQueue, directMap uint64) (*PageTable, error) {
	root, err := mem.AllocTable()
	if err != nil {
		return nil, err
	}
	return &PageTable{mem: mem, q: q, root: root, tables: 1, directMap: directMap}, nil
}

// Free returns every table frame, attached roots included. The tables must
// no longer be in use by any vCPU (the task switched away or exited), and
// the leaves' frames belong to the memory manager, which released them.
func (pt *PageTable) Free() {
	pt.amu.Lock()
	roots := append([]*Root(nil), pt.roots...)
	pt.amu.Unlock()
	for _, r := range roots {
		r.Detach()
	}
	for _, f := range pt.frames {
		pt.mem.FreeTable(f)
	}
	pt.frames = nil
	if pt.root != 0 {
		pt.mem.FreeTable(pt.root)
		pt.root = 0
	}
	pt.tables = 0
}

// Root returns the guest-physical address of the template top-level
// table (for a vCPU's CR3 use an attached Root).
func (pt *PageTable) Root() uint64 { return pt.root }

// TableFrames returns the frames of every table, the root first.
func (pt *PageTable) TableFrames() []uint64 {
	return append([]uint64{pt.root}, pt.frames...)
}

// Tables returns how many frames the tables use.
func (pt *PageTable) Tables() int { return pt.tables }

func index(va uint64, level int) uint64 { return va >> (12 + 9*uint(level)) & 511 }

func canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1ffff
}

// walk returns the guest-physical address of va's entry at level (0 = PT,
// 1 = PD), creating tables on the way when create is set. ok is false when
// a table is missing (and not created) or a huge page stands in the way.
func (pt *PageTable) walk(va uint64, level int, create bool) (entry uint64, ok bool, err error) {
	table := pt.root
	for l := 3; l > level; l-- {
		e := table + 8*index(va, l)
		v := le.Uint64(pt.mem.Page(e &^ (PageSize - 1))[e%PageSize:])
		if v&PTEPresent == 0 {
			if !create {
				return 0, false, nil
			}
			frame, err := pt.mem.AllocTable()
			if err != nil {
				return 0, false, err
			}
			pt.tables++
			pt.frames = append(pt.frames, frame)
			if err := pt.set(e, va, frame|tableFlags); err != nil {
				return 0, false, err
			}
			v = frame | tableFlags
			if l == 3 {
				pt.propagate(index(va, 3), v)
			}
		} else if v&PTEHuge != 0 {
			return 0, false, nil
		}
		table = v & pteAddrMask
	}
	return table + 8*index(va, level), true, nil
}

// propagate writes a new top-level entry into every attached root. The
// entry was not present in any of them, so a host write is seen at once.
func (pt *PageTable) propagate(i, v uint64) {
	pt.amu.Lock()
	defer pt.amu.Unlock()
	for _, r := range pt.roots {
		le.PutUint64(pt.mem.Slice(r.frame+8*i, 8), v)
	}
}

// otherQueues returns the flush queues of the attached threads but q.
func (pt *PageTable) otherQueues(q *FlushQueue) []*FlushQueue {
	pt.amu.Lock()
	defer pt.amu.Unlock()
	var out []*FlushQueue
	for _, x := range pt.threads {
		if x != q {
			out = append(out, x)
		}
	}
	return out
}

// word returns entry e as a word for atomic access.
func (pt *PageTable) word(e uint64) *uint64 {
	return (*uint64)(unsafe.Pointer(&pt.mem.Slice(e, 8)[0]))
}

func (pt *PageTable) read(e uint64) uint64 {
	return le.Uint64(pt.mem.Slice(e, 8))
}

// set writes entry e (guest-physical) for linear address va.
func (pt *PageTable) set(e, va, v uint64) error {
	if pt.read(e) == v {
		return nil
	}
	return pt.setOn(pt.queue(), e, va, v)
}

// setOn is set with the calling thread's flush queue q (queue) already
// found: a loop over many entries looks it up once.
func (pt *PageTable) setOn(q *FlushQueue, e, va, v uint64) error {
	old := pt.read(e)
	if old == v {
		return nil
	}
	// A present entry whose accessed bit is still clear has never been
	// used: the processor sets the bit before it caches a translation, and
	// a shadow MMU sets it in the guest's entry before it shadows one. So
	// no TLB or shadow holds it and a host-side write is seen like one to
	// a not-present entry. When other vCPUs may be walking the tables, the
	// write is a compare-and-swap against the still-unused value: if a
	// walk set the bit first, the change is queued like any other.
	multi := pt.Running() > 1
	queue := old&PTEPresent != 0 && (old&PTEAccessed != 0 || old&PTEHuge != 0) || q.queued(e)
	if !queue && (multi || q.Concurrent()) {
		if atomic.CompareAndSwapUint64(pt.word(e), old, v) {
			return nil
		}
		old = pt.read(e)
		queue = old&PTEPresent != 0
	}
	if queue {
		if err := pt.queueWrite(q, e, va, v, old, multi); err != nil {
			return err
		}
	}
	le.PutUint64(pt.mem.Slice(e, 8), v)
	return nil
}

// queueWrite queues the guest's write of v to entry e (for va) on the
// calling vCPU's queue q. With other vCPUs on the tables the world stops
// first (OnShared): the record is applied before they run again (EndOp),
// never after a newer change one of them made, which it would undo.
func (pt *PageTable) queueWrite(q *FlushQueue, e, va, v, old uint64, multi bool) error {
	// The fast path's server (a concurrent queue) stops the others only
	// for a record: its frame invalidations drop every vCPU's
	// translations before its reply (vmm/fast.go), as Linux's shootdown
	// before the call returns, and stopping the threads of a task at
	// each of its memory calls would cost each an exit.
	if !pt.shared && pt.OnShared != nil && multi && !q.Concurrent() {
		pt.shared = true
		pt.OnShared()
	}
	record, err := q.push(pt.directMap+e, v, va, e, old)
	if err != nil {
		return err
	}
	if !record {
		// An old frame to invalidate: that flushes every vCPU's
		// translations of it, so the others need no CR3 reload.
		return nil
	}
	pt.recorded = true
	pt.records.Add(1)
	if !pt.shared && pt.OnShared != nil && multi {
		// The server's record (a huge entry's; the user's pages never
		// are): the others stop now, and reload CR3 before they next
		// run user code (EndOp's OnSharedEnd).
		pt.shared = true
		pt.OnShared()
	}
	if pt.shared {
		// The other vCPUs are stopped. The calling vCPU makes the
		// write (its guest write is what a shadow MMU sees, and it
		// happens before the others go on: vmm/space.go); each other
		// vCPU only has to drop its own cached translations, so it
		// reloads CR3 before it next runs user code. (Giving them the
		// record too would let a late copy overwrite a newer value.)
		for _, oq := range pt.otherQueues(q) {
			oq.FlushAll()
		}
	}
	return nil
}

// ErrBadAddress means a non-canonical or misaligned address.
var ErrBadAddress = errors.New("bad guest-virtual address")

// Map maps the page at va to the frame at pa. flags are PTE bits besides
// the address (PTEPresent is implied). Without PTEAccessed the processor
// (or the hypervisor) sets it on the first access, which tells a page the
// guest touched from one mapped speculatively.
func (pt *PageTable) Map(va, pa, flags uint64) error {
	if va%PageSize != 0 || pa%PageSize != 0 || !canonical(va) {
		return fmt.Errorf("%w: map %#x -> %#x", ErrBadAddress, va, pa)
	}
	e, ok, err := pt.walk(va, 0, true)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %#x lies in a huge page", ErrBadAddress, va)
	}
	return pt.set(e, va, pa|flags|PTEPresent)
}

// MapRun maps each of the n pages from va that no present entry maps to
// the frame at the same offset from pa (consecutive frames: a file
// window's), as Map would, and leaves present entries alone; it returns
// how many it mapped. It walks the tables once per page table, not once
// per page (a loader's segment or a library's text mapped ahead is
// hundreds of pages).
func (pt *PageTable) MapRun(va, pa uint64, n int, flags uint64) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	end := va + uint64(n)*PageSize
	if va%PageSize != 0 || pa%PageSize != 0 || !canonical(va) || end < va || !canonical(end-1) {
		return 0, fmt.Errorf("%w: map run %#x+%d -> %#x", ErrBadAddress, va, n, pa)
	}
	q := pt.queue()
	done := 0
	for va < end {
		e, ok, err := pt.walk(va, 0, true)
		if err != nil {
			return done, err
		}
		if !ok {
			return done, fmt.Errorf("%w: %#x lies in a huge page", ErrBadAddress, va)
		}
		// The entries of this page table from va's on.
		k := min((end-va)/PageSize, 512-index(va, 0))
		for j := uint64(0); j < k; j, e, va, pa = j+1, e+8, va+PageSize, pa+PageSize {
			if pt.read(e)&PTEPresent != 0 {
				continue
			}
			if err := pt.setOn(q, e, va, pa|flags|PTEPresent); err != nil {
				return done, err
			}
			done++
		}
	}
	return done, nil
}

// MapHuge maps the 2 MiB page at va to pa.
func (pt *PageTable) MapHuge(va, pa, flags uint64) error {
	if va%HugePageSize != 0 || pa%HugePageSize != 0 || !canonical(va) {
		return fmt.Errorf("%w: map huge %#x -> %#x", ErrBadAddress, va, pa)
	}
	e, ok, err := pt.walk(va, 1, true)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %#x already mapped huge", ErrBadAddress, va)
	}
	return pt.set(e, va, pa|flags|PTEPresent|PTEAccessed|PTEHuge)
}

// Lookup returns va's leaf entry (4 KiB pages only) if present.
func (pt *PageTable) Lookup(va uint64) (pte uint64, ok bool) {
	e, ok, _ := pt.walk(va, 0, false)
	if !ok {
		return 0, false
	}
	v := pt.read(e)
	return v, v&PTEPresent != 0
}

// Unmap clears va's leaf entry and returns the frame it mapped.
func (pt *PageTable) Unmap(va uint64) (pa uint64, ok bool, err error) {
	e, ok, _ := pt.walk(va, 0, false)
	if !ok {
		return 0, false, nil
	}
	v := pt.read(e)
	if v&PTEPresent == 0 {
		return 0, false, nil
	}
	return v & pteAddrMask, true, pt.set(e, va, 0)
}

// UnmapRange clears every present leaf entry in [start, end) of the user
// half (4 KiB pages), as Unmap of each would, in one walk. Consecutive
// queued clears become one run record (flush.go).
func (pt *PageTable) UnmapRange(start, end uint64) error {
	return pt.rangeEntries(pt.root, 3, 0, start, end, func(va, e, v uint64) error {
		return pt.set(e, va, 0)
	})
}

// rangeEntries walks as Range does and also gives fn each leaf's entry
// address.
func (pt *PageTable) rangeEntries(table uint64, level int, base, start, end uint64, fn func(va, e, v uint64) error) error {
	from, to, span := entriesIn(level, base, start, end)
	for i := from; i < to; i++ {
		lo := base + i*span
		e := table + 8*i
		v := pt.read(e)
		if v&PTEPresent == 0 {
			continue
		}
		if level == 0 {
			if err := fn(lo, e, v); err != nil {
				return err
			}
			continue
		}
		if v&PTEHuge != 0 {
			continue
		}
		if err := pt.rangeEntries(v&pteAddrMask, level-1, lo, start, end, fn); err != nil {
			return err
		}
	}
	return nil
}

// CountPresent returns how many present 4 KiB leaves of [start, end) of
// the user half map a frame below limit (^0: any): Range's count without
// a call per entry (an exec's or exit's RSS of a 16 MiB process took
// ~70 µs through Range).
func (pt *PageTable) CountPresent(start, end, limit uint64) uint64 {
	return pt.countEntries(pt.root, 3, 0, start, end, limit)
}

func (pt *PageTable) countEntries(table uint64, level int, base, start, end, limit uint64) uint64 {
	from, to, span := entriesIn(level, base, start, end)
	tb := pt.mem.Slice(table, PageSize)
	n := uint64(0)
	for i := from; i < to; i++ {
		v := le.Uint64(tb[8*i:])
		switch {
		case v&PTEPresent == 0 || level > 0 && v&PTEHuge != 0:
		case level == 0:
			if v&pteAddrMask < limit {
				n++
			}
		default:
			n += pt.countEntries(v&pteAddrMask, level-1, base+i*span, start, end, limit)
		}
	}
	return n
}

// entriesIn returns the entries [from, to) of a table at level whose
// first entry maps base that overlap [start, end) within the user half,
// and the span each maps.
func entriesIn(level int, base, start, end uint64) (from, to, span uint64) {
	span = uint64(1) << (12 + 9*uint(level))
	to = 512
	if level == 3 {
		to = 256 // the user half
	}
	if start > base {
		from = min((start-base)/span, to)
	}
	if end <= base {
		return from, from, span
	}
	if n := (end - base + span - 1) / span; n < to {
		to = n
	}
	return from, max(from, to), span
}

// Protect changes the flags of va's present leaf entry, keeping its frame
// and its accessed bit.
func (pt *PageTable) Protect(va, flags uint64) error {
	e, ok, _ := pt.walk(va, 0, false)
	if !ok {
		return nil
	}
	v := pt.read(e)
	if v&PTEPresent == 0 {
		return nil
	}
	return pt.set(e, va, v&(pteAddrMask|PTEAccessed)|flags&^PTEAccessed|PTEPresent)
}

// Refresh queues a guest rewrite of va's present leaf entry with its
// current value, plus invlpg: the remedy for a fault on an entry that
// already allows the access (a stale translation in the guest's TLB or the
// hypervisor's shadow), so the fault cannot repeat forever.
func (pt *PageTable) Refresh(va uint64) error {
	e, ok, _ := pt.walk(va, 0, false)
	if !ok {
		return nil
	}
	v := pt.read(e)
	if v&PTEPresent == 0 {
		return nil
	}
	// Like any queued write, under a stopped world: a rewrite applied
	// after another vCPU changed the entry (a fork's write-protection, a
	// copy-on-write's new frame) would put the old value back, and user
	// code would write to a frame that is no longer its own.
	return pt.queueWrite(pt.queue(), e, va, v, v, pt.Running() > 1)
}

// EntryAddr returns the guest-physical address of va's 4 KiB leaf entry
// (for the VMM's start-up measurement of the platform, vmm/pteprobe.go).
func (pt *PageTable) EntryAddr(va uint64) (uint64, bool) {
	e, ok, _ := pt.walk(va, 0, false)
	return e, ok
}

// Frame returns the frame address in a leaf entry.
func Frame(pte uint64) uint64 { return pte & pteAddrMask }

// Range calls fn for each present 4 KiB leaf in [start, end) of the user
// half, in address order, skipping absent tables at every level. fn may
// change the entry it is given.
func (pt *PageTable) Range(start, end uint64, fn func(va, pte uint64) error) error {
	return pt.rangeEntries(pt.root, 3, 0, start, end, func(va, _, v uint64) error { return fn(va, v) })
}
