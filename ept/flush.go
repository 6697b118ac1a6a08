// flush.go: the queue of page-table writes the guest applies itself.
//
// Layout in guest memory at boot.FlushArea (read by stubs.S kflush):
//
//	[0]  count of records
//	[8]  nonzero: reload CR3 after the records (a full TLB flush)
//	[16] records of {entry address in the direct map, value, linear address}
//
// kflush writes each value, invlpg's each address, then zeroes the count.
// The VMM only appends between guest runs, and the guest only consumes
// before it runs user code, so the two never race on one vCPU.
package ept

import (
	"errors"
	"sync"
)

const flushHeader = 16
const flushRecord = 24

// ErrFlushFull means the queue is full and no Drain is set.
var ErrFlushFull = errors.New("page-table flush queue full")

// FlushQueue is the VMM side of the flush area.
type FlushQueue struct {
	// mu guards the VMM side: another vCPU's thread may queue into this
	// queue while this vCPU is stopped (ept's shared address spaces).
	mu   sync.Mutex
	area []byte
	max  int
	// pending holds the guest-physical addresses of entries with a queued
	// write, so later writes to them are queued behind (not before) it.
	pending map[uint64]struct{}
	// Drain, when set, makes the guest apply the queue now (the VMM runs
	// the flush gate). It is called when the queue fills up.
	Drain func() error
	// writes counts every write ever queued (statistics).
	writes uint64
}

// Writes returns how many page-table writes have been queued so far.
func (q *FlushQueue) Writes() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.writes
}

// NewFlushQueue uses area, the VMM's view of the flush area.
func NewFlushQueue(area []byte) *FlushQueue {
	return &FlushQueue{area: area, max: (len(area) - flushHeader) / flushRecord, pending: map[uint64]struct{}{}}
}

// Len returns how many writes wait for the guest.
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

func (q *FlushQueue) push(entryVA, value, va, e uint64) error {
	q.mu.Lock()
	n := q.Len()
	if n == q.max {
		q.mu.Unlock()
		if q.Drain == nil {
			return ErrFlushFull
		}
		if err := q.Drain(); err != nil {
			return err
		}
		q.mu.Lock()
		if n = q.Len(); n != 0 {
			q.mu.Unlock()
			return ErrFlushFull
		}
		clear(q.pending)
	}
	defer q.mu.Unlock()
	r := q.area[flushHeader+flushRecord*n:]
	le.PutUint64(r, entryVA)
	le.PutUint64(r[8:], value)
	le.PutUint64(r[16:], va)
	le.PutUint64(q.area, uint64(n+1))
	q.pending[e] = struct{}{}
	q.writes++

	return nil
}

// Reset drops every queued write: the tables they were for are gone (the
// vCPU switched to new page tables, or starts a new task).
func (q *FlushQueue) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	le.PutUint64(q.area, 0)
	le.PutUint64(q.area[8:], 0)
	clear(q.pending)
}

// FlushAll asks for a full TLB flush (CR3 reload) with the next drain.
func (q *FlushQueue) FlushAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	le.PutUint64(q.area[8:], 1)
}
