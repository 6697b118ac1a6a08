// stats.go: what `kshim run --stats` reports about a run: syscalls by name
// with counts and VMM time, page faults by class with the pages each
// class mapped, guest page-table flushes, exits, and the split of the
// run's time between the guest (inside KVM_RUN: guest code plus the
// hypervisor's own work and transitions) and the VMM (the exit loop and
// the handlers).
//
// Invariants: each task counts into its own taskStats (no locking on the
// exit path) and merges it into the machine's RunStats when its run loop
// ends; RunStats is guarded by its mutex. Times are host monotonic
// nanoseconds (runtime.nanotime), which need no calibration. Collecting
// costs two clock reads per exit, and nothing when the stats are off
// (Config.Stats nil).
package vmm

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	_ "unsafe" // go:linkname

	"kshim/ept"
	"kshim/guestmm"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Fault classes besides guestmm.FaultKind's names (shared with
// latency.go): ClassSignal, ClassOOM.
const nFaultSlots = 16

type nsCount struct{ n, ns uint64 }

// maxOtherSyscalls bounds the distinct syscall numbers outside the table
// that are counted one by one: the guest picks the numbers, and one
// counter each for 2 million of them grew kshim by a GiB, memory --mem
// does not bound. Calls of numbers past it are counted in one row,
// named OtherSyscalls with number OtherSyscallsNR.
const maxOtherSyscalls = 64

// The row of the syscalls past maxOtherSyscalls distinct unknown numbers.
const (
	OtherSyscalls   = "syscall_other"
	OtherSyscallsNR = ^uint64(0)
)

// taskStats is one task's counters while its loop runs.
type taskStats struct {
	sys [len(syscallNames)]nsCount
	// sysOther counts numbers past the table one by one, at most
	// maxOtherSyscalls of them; sysRest the calls of any further ones.
	sysOther   map[uint64]*nsCount
	sysRest    nsCount
	faults     [nFaultSlots]struct{ n, pages, ns uint64 }
	otherExc   nsCount
	exits      uint64
	interrupts uint64
	flushRuns  uint64 // resumes through the guest's flush (kflush)
	guestNS    uint64
	vmmNS      uint64
}

// RunStats collects the statistics of a whole run (every task of the
// machine). Create it with NewRunStats and pass it in Config.Stats.
type RunStats struct {
	mu    sync.Mutex
	t     taskStats
	start time.Time
	end   time.Time
	// flush queue writes and drains, summed over the tasks' deltas.
	flushWrites, drains uint64
	tune                *guestmm.Tuning
	mem                 *ept.Memory // its reclaims of page-table frames
}

// NewRunStats returns empty statistics; the wall clock starts now.
func NewRunStats() *RunStats {
	return &RunStats{start: time.Now(), t: taskStats{sysOther: map[uint64]*nsCount{}}}
}

func (s *RunStats) merge(t *taskStats, writes, drains uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range t.sys {
		s.t.sys[i].n += t.sys[i].n
		s.t.sys[i].ns += t.sys[i].ns
	}
	for nr, c := range t.sysOther {
		s.t.other(nr, c.n, c.ns)
	}
	s.t.sysRest.n += t.sysRest.n
	s.t.sysRest.ns += t.sysRest.ns
	for i := range t.faults {
		s.t.faults[i].n += t.faults[i].n
		s.t.faults[i].pages += t.faults[i].pages
		s.t.faults[i].ns += t.faults[i].ns
	}
	s.t.otherExc.n += t.otherExc.n
	s.t.otherExc.ns += t.otherExc.ns
	s.t.exits += t.exits
	s.t.interrupts += t.interrupts
	s.t.flushRuns += t.flushRuns
	s.t.guestNS += t.guestNS
	s.t.vmmNS += t.vmmNS
	s.flushWrites += writes
	s.drains += drains
	s.end = time.Now()
}

// syscall counts one syscall exit of number nr (RAX) that took ns in the
// VMM. Linux picks the call by RAX's low 32 bits (syscalls.Syscall), and
// so does the count: 1<<32|39 ran getpid and is counted as getpid.
func (t *taskStats) syscall(nr uint64, ns int64) {
	nr = uint64(uint32(nr))
	if nr < uint64(len(t.sys)) {
		t.sys[nr].n++
		t.sys[nr].ns += uint64(ns)
		return
	}
	t.other(nr, 1, uint64(ns))
}

// other counts n calls of number nr (past the table) that took ns.
func (t *taskStats) other(nr, n, ns uint64) {
	if t.sysOther == nil {
		t.sysOther = map[uint64]*nsCount{}
	}
	c := t.sysOther[nr]
	if c == nil {
		if len(t.sysOther) >= maxOtherSyscalls {
			c = &t.sysRest
		} else {
			c = &nsCount{}
			t.sysOther[nr] = c
		}
	}
	c.n += n
	c.ns += ns
}

// faultSlot maps a fault outcome to its counter: guestmm.FaultKind for a
// resolved fault, then signal and OOM.
func faultSlot(res guestmm.FaultResult, kind guestmm.FaultKind) int {
	switch res {
	case guestmm.Resolved:
		return int(kind)
	case guestmm.OOM:
		return nFaultSlots - 1
	default:
		return nFaultSlots - 2
	}
}

func faultSlotName(i int) string {
	switch i {
	case nFaultSlots - 1:
		return ClassOOM
	case nFaultSlots - 2:
		return ClassSignal
	}
	return guestmm.FaultKind(i).String()
}

func syscallName(nr uint64) string {
	if nr < uint64(len(syscallNames)) && syscallNames[nr] != "" {
		return syscallNames[nr]
	}
	return fmt.Sprintf("syscall_%d", nr)
}

// StatsReport is RunStats in a form for people and JSON.
type StatsReport struct {
	WallNS      uint64          `json:"wall_ns"`
	GuestNS     uint64          `json:"guest_ns"` // inside KVM_RUN: guest code, hypervisor work and transitions
	VMMNS       uint64          `json:"vmm_ns"`   // in the exit loop and the handlers
	Exits       uint64          `json:"exits"`    // KVM_RUN returns
	Interrupts  uint64          `json:"interrupts"`
	Syscalls    []SyscallStat   `json:"syscalls"`
	Faults      []FaultStat     `json:"faults"`
	Exceptions  ExceptionStat   `json:"other_exceptions"`
	Flushes     FlushStat       `json:"flushes"`
	FaultAround FaultAroundStat `json:"fault_around"`
}

// SyscallStat is one syscall's count and VMM time.
type SyscallStat struct {
	Name  string `json:"name"`
	NR    uint64 `json:"nr"`
	Count uint64 `json:"count"`
	VMMNS uint64 `json:"vmm_ns"`
}

// FaultStat is one fault class: resolved kinds (guestmm.FaultKind
// names), "signal" (became a signal) and "oom".
type FaultStat struct {
	Class string `json:"class"`
	Count uint64 `json:"count"`
	Pages uint64 `json:"pages"` // pages the faults mapped or changed, fault-around included
	VMMNS uint64 `json:"vmm_ns"`
}

// ExceptionStat counts exception exits that were not page faults.
type ExceptionStat struct {
	Count uint64 `json:"count"`
	VMMNS uint64 `json:"vmm_ns"`
}

// FlushStat is the guest's page-table flushes.
type FlushStat struct {
	Runs    uint64 `json:"runs"`    // resumes that ran the guest's flush (kflush) first
	Entries uint64 `json:"entries"` // page-table writes queued for it
	Drains  uint64 `json:"drains"`  // flushes run in the middle of an exit (queue full, shared address space)
	// Reclaims counts drops of every shadow page that made the page-table
	// frames of ended processes reusable (ept reclaimTables).
	Reclaims uint64 `json:"table_reclaims"`
}

// FaultAroundStat is the policy as it stood at the end of the run.
type FaultAroundStat struct {
	FaultNS     int64   `json:"fault_round_trip_ns"` // cheapest KVM_RUN ending in a page fault (0: none)
	PageNS      float64 `json:"page_ns"`             // VMM time per page mapped ahead
	Speculative int     `json:"speculative_pages"`
	Streaming   int     `json:"streaming_pages"`
}

// Report returns the statistics collected so far.
func (s *RunStats) Report() StatsReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.end
	if end.IsZero() {
		end = time.Now()
	}
	r := StatsReport{WallNS: uint64(end.Sub(s.start)), GuestNS: s.t.guestNS, VMMNS: s.t.vmmNS,
		Exits: s.t.exits, Interrupts: s.t.interrupts,
		Exceptions: ExceptionStat{Count: s.t.otherExc.n, VMMNS: s.t.otherExc.ns},
		Flushes:    FlushStat{Runs: s.t.flushRuns, Entries: s.flushWrites, Drains: s.drains},
		Syscalls:   []SyscallStat{}, Faults: []FaultStat{}}
	for nr, c := range s.t.sys {
		if c.n != 0 {
			r.Syscalls = append(r.Syscalls, SyscallStat{syscallName(uint64(nr)), uint64(nr), c.n, c.ns})
		}
	}
	for nr, c := range s.t.sysOther {
		r.Syscalls = append(r.Syscalls, SyscallStat{syscallName(nr), nr, c.n, c.ns})
	}
	if c := s.t.sysRest; c.n != 0 {
		r.Syscalls = append(r.Syscalls, SyscallStat{OtherSyscalls, OtherSyscallsNR, c.n, c.ns})
	}
	sort.Slice(r.Syscalls, func(i, j int) bool {
		a, b := r.Syscalls[i], r.Syscalls[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.NR < b.NR
	})
	for i, f := range s.t.faults {
		if f.n != 0 {
			r.Faults = append(r.Faults, FaultStat{faultSlotName(i), f.n, f.pages, f.ns})
		}
	}
	if s.mem != nil {
		r.Flushes.Reclaims = uint64(s.mem.Reclaims())
	}
	if s.tune != nil {
		spec, stream := s.tune.Around()
		r.FaultAround = FaultAroundStat{FaultNS: s.tune.FaultNS(), PageNS: s.tune.PageNS(), Speculative: spec, Streaming: stream}
	}
	return r
}

// WriteJSON writes the report as one JSON object.
func (r StatsReport) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func dur(ns uint64) string { return time.Duration(ns).Round(time.Microsecond / 10).String() }

// WriteText writes the report for people.
func (r StatsReport) WriteText(w io.Writer) error {
	var b strings.Builder
	var nsys, nfault uint64
	for _, s := range r.Syscalls {
		nsys += s.Count
	}
	for _, f := range r.Faults {
		nfault += f.Count
	}
	fmt.Fprintf(&b, "kshim stats: wall %s; in the guest (KVM_RUN) %s, in the VMM %s\n", dur(r.WallNS), dur(r.GuestNS), dur(r.VMMNS))
	fmt.Fprintf(&b, "exits: %d (%d syscalls, %d page faults, %d other exceptions, %d interrupts)\n",
		r.Exits, nsys, nfault, r.Exceptions.Count, r.Interrupts)
	fmt.Fprintf(&b, "flushes: %d guest flushes of %d page-table entries, %d drains, %d shadow drops reclaiming page-table frames\n",
		r.Flushes.Runs, r.Flushes.Entries, r.Flushes.Drains, r.Flushes.Reclaims)
	fa := r.FaultAround
	if fa.FaultNS > 0 {
		fmt.Fprintf(&b, "fault-around: %d pages speculative, %d streaming (fault round trip %s, %.0f ns per page mapped ahead)\n",
			fa.Speculative, fa.Streaming, dur(uint64(fa.FaultNS)), fa.PageNS)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "page faults\tcount\tpages\tVMM time\t")
	for _, f := range r.Faults {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", f.Class, f.Count, f.Pages, dur(f.VMMNS))
	}
	fmt.Fprintln(tw, "syscalls\tcount\t\tVMM time\t")
	for _, s := range r.Syscalls {
		fmt.Fprintf(tw, "%s\t%d\t\t%s\t\n", s.Name, s.Count, dur(s.VMMNS))
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
