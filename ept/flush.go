// flush.go: the queue of page-table writes the guest applies itself.
//
// Layout in guest memory at boot.FlushArea (read by stubs.S kflush):
//
//	[0]  count of 8-byte slots used
//	[8]  nonzero: reload CR3 after the records (a full TLB flush)
//	[16] records: {first entry's address in the direct map, n, first
//	     linear address}, then the n values, for n consecutive entries of
//	     one table (consecutive pages)
//
// kflush writes each record's values with one rep movsq and invlpg's its
// n pages (or, when [8] is set, reloads CR3 once at the end instead), then
// zeroes the count. A write that continues the last record (the next
// entry, the next page) extends it while the guest cannot have started on
// it. A record with n = 0, {0, 0, linear address}, is an invlpg alone: the
// rep movsq writes nothing and kflush's invlpg loop runs at least once
// (its jg counts n = 0 as one page), so it costs the shadow-paging hosts'
// path no instruction.
//
// Three protocols, picked per host by measurements at start-up
// (vmm/pteprobe.go): where a host-side edit of a present entry is not seen
// even after the guest's invlpg (a shadow MMU: PVM, KVM without EPT/NPT),
// the guest re-writes each changed entry itself (what a shadow MMU
// tracks) before its invlpg. Where the edit is seen after an invlpg
// (EPT/NPT: the guest's tables are the hardware's), SetHostWrites makes
// the queue hold invlpg-alone records only: the VMM's own write (always
// made at once, ept/pagetable.go) is the entry's value, no write waits, so
// nothing has to be ordered behind one, and a full queue becomes one CR3
// reload instead of a drain. Where the shadow MMU drops its translations
// of a frame when the VMM's view of it is invalidated (invalidate.go),
// SetInvalidate makes the queue hold no records at all: it collects the
// frames the changed entries mapped, and Invalidate (at the end of the
// operation, before the vCPU next runs) drops them, with no guest flush.
// The VMM only appends between guest runs, and the guest only consumes
// before it runs user code, so the two never race on one vCPU. (The fast
// syscall path's server appends while the vCPU runs, but only when it
// found the queue empty: the guest was then past its flush. The vCPU may
// run user code meanwhile, so there every change is an invalidation:
// SetConcurrent. vmm/fast.go)
package ept

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

const flushHeader = 16

// recordSlots is a record's size in slots before its values.
const recordSlots = 3

// ErrFlushFull means the queue is full and no Drain is set.
var ErrFlushFull = errors.New("page-table flush queue full")

// FlushQueue is the VMM side of the flush area.
type FlushQueue struct {
	// mu guards the VMM side: another vCPU's thread may queue into this
	// queue while this vCPU is stopped (ept's shared address spaces).
	mu sync.Mutex
	// area is the area's first page (the header); pages all of it, a
	// page at a time: the VMM's views of its frames need not be
	// consecutive (NewFlushQueuePages). A slot never straddles two.
	area  []byte
	pages [][]byte
	max   int
	// pending holds the guest-physical addresses of entries with a queued
	// write, so later writes to them are queued behind (not before) it.
	pending map[uint64]struct{}
	// Drain, when set, makes the guest apply the queue now (the VMM runs
	// the flush gate). It is called when the queue fills up.
	Drain func() error
	// writes counts every write ever queued (statistics).
	writes uint64
	// last is the first slot of the newest record; lastOpen, that a write
	// may still join it (extend): the guest has not run since it was made.
	last     int
	lastOpen bool
	// hostWrites: the host's entry writes are seen after a guest invlpg;
	// records are invlpgs only (SetHostWrites).
	hostWrites bool
	// inv, when set, is the memory whose frames in inval are invalidated
	// instead of queueing records (SetInvalidate), at most invalMax of
	// them between two Invalidates; further changes queue records.
	inv      *Memory
	inval    []uint64
	invEnt   []invEntry // the entries whose old frames inval holds
	invalMax int
	// overLimit: the operation went past invalMax, so its further
	// changes are guest writes too (until the next Invalidate).
	overLimit bool
	// concurrent (SetConcurrent): the vCPU runs while the queue is
	// appended to, so no change may wait for its flush.
	concurrent atomic.Bool
}

// SetConcurrent says whether the queue's vCPU runs while entries change
// (the fast syscall path's server runs a call: vmm/fast.go). The vCPU
// then applies no record before user code could use a stale translation
// (a hostile program posts a call by hand and never waits for it), so
// with frame invalidation every change invalidates, past invalMax too,
// and PageTable writes an unused entry only by compare-and-swap, as when
// other vCPUs walk the tables.
func (q *FlushQueue) SetConcurrent(on bool) { q.concurrent.Store(on) }

// Concurrent reports SetConcurrent's setting.
func (q *FlushQueue) Concurrent() bool { return q.concurrent.Load() }

// invEntry is a change made by invalidation: its entry (guest-physical,
// and in the direct map) and linear address, to queue a guest write of it
// instead (convertLocked).
type invEntry struct{ entryVA, va, e uint64 }

// SetInvalidate picks the frame-invalidation protocol (see the head
// comment) with mem the guest's memory; nil turns it off. Up to max frames
// are invalidated per operation; changes beyond it queue guest writes, as
// without it. Set before the queue is used.
func (q *FlushQueue) SetInvalidate(mem *Memory, max int) {
	q.mu.Lock()
	q.inv, q.invalMax = mem, max
	q.mu.Unlock()
}

// Invalidating reports whether the queue uses the frame-invalidation
// protocol.
func (q *FlushQueue) Invalidating() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.inv != nil
}

// InvalidateLimit is how many frames an operation invalidates at most.
func (q *FlushQueue) InvalidateLimit() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.invalMax
}

// Invalidations returns how many frames wait to be invalidated.
func (q *FlushQueue) Invalidations() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.inval)
}

// Invalidate drops the hypervisor's translations of the frames changed
// entries mapped (frame-invalidation protocol; nothing otherwise). An
// error leaves them queued: the vCPU must not run until it succeeds.
func (q *FlushQueue) Invalidate() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.overLimit = false
	if len(q.inval) == 0 {
		return nil
	}
	if err := q.inv.Invalidate(q.inval); err != nil {
		return err
	}
	q.inval, q.invEnt = q.inval[:0], q.invEnt[:0]
	return nil
}

// convertLocked turns the changes waiting for invalidation into guest-write
// records of their entries' current values, as far as the queue has room
// (the rest stay invalidations): once an operation needs a guest flush
// anyway, the entries it rewrites cost the flush nearly nothing, while
// each invalidation costs its own madvise. Called with mu held.
func (q *FlushQueue) convertLocked() {
	idx := make([]int, len(q.invEnt))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(q.invEnt[a].e, q.invEnt[b].e) })
	done := make([]bool, len(idx))
	for _, i := range idx {
		x := q.invEnt[i]
		if !q.recordLocked(x.entryVA, le.Uint64(q.inv.Slice(x.e, 8)), x.va, x.e) {
			break
		}
		done[i] = true
	}
	k := 0
	for i := range q.inval {
		if !done[i] {
			q.inval[k], q.invEnt[k] = q.inval[i], q.invEnt[i]
			k++
		}
	}
	q.inval, q.invEnt = q.inval[:k], q.invEnt[:k]
}

// invlpgMax: in host-writes mode, past this many invlpg records the flush
// ends with one CR3 reload instead (no further records are needed then).
const invlpgMax = 32

// SetHostWrites picks the protocol (see the head comment): on, the queue
// holds invlpgs only. Set before the queue is used.
func (q *FlushQueue) SetHostWrites(on bool) {
	q.mu.Lock()
	q.hostWrites = on
	q.mu.Unlock()
}

// Writes returns how many page-table writes have been queued so far.
func (q *FlushQueue) Writes() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.writes
}

// NewFlushQueue uses area, the VMM's view of the flush area.
func NewFlushQueue(area []byte) *FlushQueue {
	var pages [][]byte
	for len(area) > PageSize {
		pages, area = append(pages, area[:PageSize:PageSize]), area[PageSize:]
	}
	return NewFlushQueuePages(append(pages, area))
}

// NewFlushQueuePages uses the flush area whose pages the VMM sees at
// pages (each PageSize long but the last): a vCPU's flush area is 64
// frames, which once guest memory has been used and freed in pieces need
// not lie side by side (ept AllocRun), while the guest sees them at
// consecutive addresses through its page tables.
func NewFlushQueuePages(pages [][]byte) *FlushQueue {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	return &FlushQueue{area: pages[0], pages: pages, max: (n - flushHeader) / 8, pending: map[uint64]struct{}{}}
}

// Len returns how many slots of queued writes wait for the guest (0: none).
func (q *FlushQueue) Len() int { return int(le.Uint64(q.area)) }

// Pending reports whether the guest must run the flush before user code.
func (q *FlushQueue) Pending() bool { return q.Len() != 0 || le.Uint64(q.area[8:]) != 0 }

// Applied is called when the guest is known to have consumed the queue.
func (q *FlushQueue) Applied() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Len() == 0 && len(q.pending) != 0 {
		clear(q.pending)
	}
}

func (q *FlushQueue) queued(e uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queuedLocked(e)
}

func (q *FlushQueue) queuedLocked(e uint64) bool {
	if len(q.pending) == 0 {
		return false
	}
	if q.Len() == 0 {
		clear(q.pending)
		return false
	}
	_, ok := q.pending[e]
	return ok
}

// push queues the change of entry e (guest-physical; entryVA in the direct
// map) for linear address va from old to value. It reports whether it
// queued a record for the guest (false: nothing, or a frame to invalidate).
func (q *FlushQueue) push(entryVA, value, va, e, old uint64) (record bool, err error) {
	q.mu.Lock()
	if q.inv != nil && old&PTEHuge == 0 && !q.queuedLocked(e) && !q.overLimit {
		if len(q.inval) < q.invalMax || q.concurrent.Load() {
			// The entry holds value once this returns (pagetable.go
			// makes the VMM's write): what must go is the
			// translation of the frame it held. An entry with a
			// record waiting gets records after it, in order.
			q.writes++
			q.inval = append(q.inval, Frame(old))
			q.invEnt = append(q.invEnt, invEntry{entryVA, va, e})
			q.mu.Unlock()
			return false, nil
		}
		// Past the limit the operation takes a guest flush: the
		// changes so far join it, and the ones after.
		q.convertLocked()
		q.overLimit = true
	}
	if q.hostWrites {
		defer q.mu.Unlock()
		q.writes++
		n := q.Len()
		switch {
		case le.Uint64(q.area[8:]) != 0:
			// A CR3 reload is already due: it flushes va too.
		case n >= invlpgMax*recordSlots || n+recordSlots > q.max:
			le.PutUint64(q.area[8:], 1)
		default:
			q.putInvlpg(n, va)
		}
		return true, nil
	}
	if q.recordLocked(entryVA, value, va, e) {
		q.writes++
		q.mu.Unlock()
		return true, nil
	}
	q.mu.Unlock()
	if q.Drain == nil {
		return false, ErrFlushFull
	}
	if err := q.Drain(); err != nil {
		return false, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Len() != 0 {
		return false, ErrFlushFull
	}
	clear(q.pending)
	if !q.recordLocked(entryVA, value, va, e) {
		return false, ErrFlushFull
	}
	q.writes++
	return true, nil
}

// recordLocked queues the guest's write of value to entry e (entryVA in
// the direct map) for va, extending the last record when it continues it;
// false when the queue has no room. Called with mu held.
func (q *FlushQueue) recordLocked(entryVA, value, va, e uint64) bool {
	if q.extend(entryVA, value, va, e) {
		return true
	}
	n := q.Len()
	if n+recordSlots+1 > q.max {
		return false
	}
	q.put(n, entryVA)
	q.put(n+1, 1)
	q.put(n+2, va)
	q.put(n+3, value)
	le.PutUint64(q.area, uint64(n+recordSlots+1))
	q.pending[e] = struct{}{}
	q.last, q.lastOpen = n, true
	return true
}

// Invlpg queues an invlpg of va alone, whatever the protocol (the
// start-up probe of the protocol uses it, vmm/pteprobe.go).
func (q *FlushQueue) Invlpg(va uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.Len()
	if n+recordSlots > q.max {
		return ErrFlushFull
	}
	q.putInvlpg(n, va)
	q.lastOpen = false
	return nil
}

// putInvlpg writes an invlpg-alone record, {0, 0, va}, at slot n and
// counts it. Called with mu held.
func (q *FlushQueue) putInvlpg(n int, va uint64) {
	q.put(n, 0)
	q.put(n+1, 0)
	q.put(n+2, va)
	le.PutUint64(q.area, uint64(n+recordSlots))
}

func (q *FlushQueue) put(slot int, v uint64) {
	le.PutUint64(q.slot(slot), v)
}

func (q *FlushQueue) get(slot int) uint64 {
	return le.Uint64(q.slot(slot))
}

// slot is the VMM's view of a slot's 8 bytes.
func (q *FlushQueue) slot(slot int) []byte {
	off := flushHeader + 8*slot
	return q.pages[off/PageSize][off%PageSize:]
}

// fullFlushRun: once a record is longer than this, the flush ends with a
// full TLB flush (CR3 reload) instead of one invlpg per page of records,
// each of which traps on a shadow-paging host.
const fullFlushRun = 3

// extend appends a write to the last record when it continues it (the
// next entry of the same table, for the next page), the record is the
// last thing queued, and the guest cannot have started on it. A shadow
// MMU traps every guest store to a page table, but emulates a string
// store in one trap. Called with mu held; false when the write needs a
// record of its own.
func (q *FlushQueue) extend(entryVA, value, va, e uint64) bool {
	if !q.lastOpen {
		return false
	}
	first, n, fva := q.get(q.last), q.get(q.last+1), q.get(q.last+2)
	end := q.last + recordSlots + int(n)
	if end != q.Len() || end+1 > q.max {
		return false
	}
	if entryVA != first+8*n || va != fva+PageSize*n || (entryVA^first)&^(PageSize-1) != 0 {
		return false
	}
	q.put(end, value)
	q.put(q.last+1, n+1)
	le.PutUint64(q.area, uint64(end+1))
	q.pending[e] = struct{}{}
	if n+1 > fullFlushRun {
		le.PutUint64(q.area[8:], 1)
	}
	return true
}

// Single reports whether the queue holds exactly one record, which the
// guest may apply with kflush1 (reload false: invlpg of at most
// fullFlushRun pages) or kflush1r (reload: a CR3 reload, also taking a
// full-flush request) instead of the general kflush.
func (q *FlushQueue) Single() (single, reload bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.Len()
	if n < recordSlots+1 || uint64(n) != recordSlots+q.get(1) {
		return false, false
	}
	reload = le.Uint64(q.area[8:]) != 0
	if !reload && q.get(1) > fullFlushRun {
		return false, false
	}
	return true, reload
}

// Seal marks every queued record as possibly started by the guest: later
// writes get records of their own (the vCPU is about to run, and kflush
// may be stopped half-way through a record by a kick).
func (q *FlushQueue) Seal() {
	q.mu.Lock()
	q.lastOpen = false
	q.mu.Unlock()
}

// Reset drops every queued write: the tables they were for are gone (the
// vCPU switched to new page tables, or starts a new task).
func (q *FlushQueue) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	le.PutUint64(q.area, 0)
	le.PutUint64(q.area[8:], 0)
	clear(q.pending)
	q.lastOpen = false
}

// FlushAll asks for a full TLB flush (CR3 reload) with the next drain.
func (q *FlushQueue) FlushAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	le.PutUint64(q.area[8:], 1)
}
