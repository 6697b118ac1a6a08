// policy.go: how much a fault maps beyond the page it needs, as a measured
// policy rather than a constant.
//
// A fault costs the guest one exit to the VMM. On a shadow-paging host
// (PVM) that is ~100 µs, and mapping one more page costs the VMM ~0.1 µs;
// on VMX/SVM with EPT/NPT an exit is ~1-3 µs. The right amount of
// fault-around differs by two orders of magnitude, so it is derived from
// two figures the VMM measures while the guest runs:
//   - the fault round trip: the cheapest KVM_RUN that ended in a page-fault
//     exit (guest #PF delivery, the exit, the re-entry, and whatever user
//     code ran since the last resume: a minimum over many faults converges
//     to the round trip itself);
//   - the VMM's cost per page mapped ahead (the cheapest per-page time of
//     recent fault-arounds).
//
// Speculative pages (not known to be needed) may cost at most a quarter of
// one fault; pages mapped ahead of a streaming program (the page below
// the fault was used) will be used, so they may cost up to one fault. Both
// are rounded down to a power of two and kept between Linux's default
// (16 pages: never less fault-around than Linux) and one page table (512).
//
// Invariant: the policy only decides how many pages are mapped, never
// what a page maps or with which rights (fault.go decides that, page by
// page, exactly as for the faulting page).
package guestmm

import (
	"math/bits"
	"sync/atomic"
)

// Fault-around bounds, in pages.
const (
	minAround = faultAround // Linux's fault_around_bytes (64 KiB)
	maxAround = 512         // one page table's entries
)

// Tuning holds the measured costs the fault-around policy is derived
// from. One per machine, shared by its address spaces; safe for
// concurrent use. A nil *Tuning (or one with nothing measured yet) gives
// Linux's fault-around.
type Tuning struct {
	faultNS atomic.Int64 // cheapest fault round trip seen, ns (0: none yet)
	pageNS  atomic.Int64 // VMM ns per page mapped ahead, fixed point x16 (0: none yet)
}

// NewTuning returns a Tuning with nothing measured.
func NewTuning() *Tuning { return &Tuning{} }

// ObserveFault records the duration of one KVM_RUN that ended in a page
// fault exit.
func (t *Tuning) ObserveFault(ns int64) {
	if t == nil || ns <= 0 {
		return
	}
	for {
		old := t.faultNS.Load()
		if old != 0 && old <= ns {
			return
		}
		if t.faultNS.CompareAndSwap(old, ns) {
			return
		}
	}
}

// observePages records the VMM time of mapping n pages ahead.
func (t *Tuning) observePages(ns int64, n int) {
	if t == nil || n < 8 || ns <= 0 {
		return
	}
	per := ns * 16 / int64(n)
	old := t.pageNS.Load()
	if old == 0 {
		t.pageNS.Store(per)
		return
	}
	// A slow-moving average: one preempted fault-around must not swing
	// the policy.
	t.pageNS.Store(old + (per-old)/8)
}

// FaultNS returns the measured fault round trip (0: not yet measured).
func (t *Tuning) FaultNS() int64 {
	if t == nil {
		return 0
	}
	return t.faultNS.Load()
}

// PageNS returns the measured VMM cost per page mapped ahead, in ns.
func (t *Tuning) PageNS() float64 {
	if t == nil {
		return 0
	}
	return float64(t.pageNS.Load()) / 16
}

// defaultPageNS stands in for the per-page cost until one is measured.
const defaultPageNS = 200

// around returns how many pages a fault maps (the faulting page
// included): speculative (not streaming) or ahead of a streaming program.
func (t *Tuning) around(streaming bool) int {
	f := t.FaultNS()
	if f == 0 {
		if streaming {
			return 4 * minAround
		}
		return minAround
	}
	per := t.PageNS()
	if per <= 0 {
		per = defaultPageNS
	}
	budget := float64(f) / per // pages one fault's cost buys
	if streaming {
		budget *= 4
	} else {
		budget /= 4
	}
	return clampPow2(int(budget))
}

// clampPow2 rounds n down to a power of two in [minAround, maxAround].
func clampPow2(n int) int {
	if n <= minAround {
		return minAround
	}
	if n >= maxAround {
		return maxAround
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

// Around returns the policy's current sizes, for `kshim run --stats`.
func (t *Tuning) Around() (speculative, streaming int) {
	return t.around(false), t.around(true)
}
