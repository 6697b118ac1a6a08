// policy.go: how much a fault maps beyond the page it needs, as a measured
// policy rather than a constant.
//
// A fault costs the guest one exit to the VMM. On a shadow-paging host
// (PVM) that is ~35-100 µs, and mapping one more page costs the VMM
// ~0.1 µs; on VMX/SVM with EPT/NPT an exit is ~1-3 µs. The right amount of
// fault-around differs by two orders of magnitude, so it is derived from
// figures the VMM measures while the guest runs:
//   - the fault round trip: the cheapest KVM_RUN that ended in a page-fault
//     exit (guest #PF delivery, the exit, and whatever user code ran since
//     the last resume: a minimum over many faults converges to the round
//     trip itself), seeded by the platform probe's exit at start-up;
//   - the VMM's cost per page mapped ahead (a slow average over file
//     fault-arounds, which only write entries);
//   - the host's cost of making a frame resident (ept.Memory.FrameNS,
//     the least per page over its populates), which a zero page mapped
//     ahead adds to its entry: a page the program never uses is memory
//     the host would not have allocated (anonAhead);
//   - the VMM's cost per page an eager fork copied.
//
// Speculative pages (not known to be needed) may cost at most a quarter of
// one fault; pages mapped ahead of a streaming program (the page below
// the fault was used) will be used, so they may cost up to four faults.
// Both are rounded down to a power of two and kept between Linux's
// default (16 pages: never less fault-around than Linux) and one page
// table (512). The same figures decide small-mapping population
// (cheaperThanFault) and eager forks (eagerFork).
//
// Invariant: the policy only decides how many pages are mapped, never
// what a page maps or with which rights (fault.go decides that, page by
// page, exactly as for the faulting page).
package guestmm

import (
	"math/bits"
	"sync/atomic"

	"kshim/ept"
)

// Fault-around bounds, in pages.
const (
	minAround = faultAround // Linux's fault_around_bytes (64 KiB)
	maxAround = 512         // one page table's entries
)

// Tuning holds the measured costs the fault-around policy is derived
// from. One per machine, shared by its address spaces; safe for
// concurrent use. A nil *Tuning (or one with nothing measured yet) gives
// Linux's fault-around size for files (16 pages) and kshim's fixed one for
// anonymous memory (16, 64 when streaming); with a nil one nothing is
// copied ahead, populated at mmap or load, or copied at fork either.
type Tuning struct {
	faultNS atomic.Int64 // cheapest fault round trip seen, ns (0: none yet)
	pageNS  atomic.Int64 // VMM ns per page mapped ahead, fixed point x16 (0: none yet)
	copyNS  atomic.Int64 // VMM ns per page an eager fork copied, x16 (0: none yet)
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

func (t *Tuning) observeCopy(ns int64, n int) {
	if t == nil || n < 8 || ns <= 0 {
		return
	}
	per := ns * 16 / int64(n)
	if old := t.copyNS.Load(); old != 0 {
		per = old + (per-old)/8
	}
	t.copyNS.Store(per)
}

// maxEagerPages bounds an eager fork's copy (32 MiB): beyond it the copy
// costs a latency spike and memory a copy-on-write fork would not.
const maxEagerPages = 8192

// eagerFork decides whether a fork copies the n private pages into the
// child at once instead of sharing them copy-on-write, as Linux does. A
// page written after a copy-on-write fork costs its copy anyway, plus a
// share of a fault (a whole fault when the writes are not sequential); a
// page never written before the child execs or exits costs nothing. So
// the eager copy's cost is bounded instead: at most what eagerFaults
// faults cost (a forked program that writes even a few pages here and
// there takes more), in an address space of at most maxEagerPages, with
// room to spare in guest memory. On hosts where a fault is cheap (EPT/NPT)
// that leaves only tiny address spaces; on a shadow-paging host a few
// hundred pages.
func (t *Tuning) eagerFork(n int, mem *ept.Memory) bool {
	if t == nil || n == 0 || n > maxEagerPages {
		return false
	}
	cp := float64(t.copyNS.Load()) / 16
	if cp == 0 {
		cp = defaultCopyNS
	}
	if float64(n)*cp > eagerFaults*float64(t.FaultNS()) {
		return false
	}
	free := mem.Size() - mem.Used()
	return uint64(n)*PageSize*4 <= free
}

// eagerFaults is how many faults' cost an eager fork may spend copying.
const eagerFaults = 16

// cheaperThanFault reports whether mapping n pages ahead costs under a
// quarter of one fault round trip (0 when not measured yet: no).
func (t *Tuning) cheaperThanFault(n int) bool {
	f := t.FaultNS()
	if f == 0 {
		return false
	}
	per := t.PageNS()
	if per <= 0 {
		per = defaultPageNS
	}
	return float64(n)*per*4 < float64(f)
}

// defaultCopyNS stands in for the per-page copy cost until one is
// measured.
const defaultCopyNS = 1000

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

// anonAhead returns how many zero pages a demand-zero fault may map
// ahead of a program streaming up anonymous memory (the page below the
// fault used): four faults' worth, as around(true), but a zero page
// costs a frame besides its entry: frameNS, the host's measured cost of
// making one resident (ept.Memory.FrameNS), ~2.5-3 µs here against ~0.2
// µs for the entry, and about a third of that again when it is freed (not
// counted). Priced as an entry, a walk up a pymalloc arena mapped the
// whole 1 MiB arena (230 pages python3 -c pass never used); priced with
// its frame, 32-64 pages here, and no more faults. Pages that will be
// used are no waste: anonAround gives a stream that goes on twice its
// last run, and one that used every page below around(true) at once.
// Without a measured fault, 4*minAround.
func (t *Tuning) anonAhead(frameNS float64) int {
	f := t.FaultNS()
	if f == 0 {
		return 4 * minAround
	}
	per := t.PageNS()
	if per <= 0 {
		per = defaultPageNS
	}
	return clampPow2(int(4 * float64(f) / (per + frameNS)))
}

// mmapAround returns how many pages of a new private file mapping are
// mapped at mmap, from its start: as many as one fault round trip buys in
// mapping cost (a mapping is mostly used from its start, as a loader's
// segments and small files read through mmap are), a power of two between
// Linux's 16 and 512. 0 while no fault has been measured, or without a
// policy.
func (t *Tuning) mmapAround() int {
	f := t.FaultNS()
	if f == 0 {
		return 0
	}
	per := t.PageNS()
	if per <= 0 {
		per = defaultPageNS
	}
	return clampPow2(int(float64(f) / per))
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
