// stats.go: what `kshim run --stats` reports about a run: syscalls by name
// with counts and VMM time, page faults by class with the pages each
// class mapped, guest page-table flushes, exits, and the split of the
// run's time between the guest (inside KVM_RUN: guest code plus the
// hypervisor's own work and transitions) and the VMM (the exit loop and
// the handlers), and the set-up's phases: when each step of Launch ended,
// from the process's start (estimated) to the first guest instruction and
// the teardown after the guest's end.
//
// Invariants: each task counts into its own taskStats (no locking on the
// exit path) and merges it into the machine's RunStats when its run loop
// ends; RunStats is guarded by its mutex. Times are host monotonic
// nanoseconds (runtime.nanotime), which need no calibration. Collecting
// costs two clock reads per exit, and nothing when the stats are off
// (Config.Stats nil). Phases are marked only by the goroutine running
// Launch (and the first task's loop, before it runs the guest, which
// Launch waits for), in the order they happen; a mark takes one clock read.
package vmm

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"sort"
	"strconv"
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
	// sysFast counts the calls of sys the fast path's server ran (all
	// its numbers are in the table).
	sysFast [len(syscallNames)]uint64
	// sysOther counts numbers past the table one by one, at most
	// maxOtherSyscalls of them; sysRest the calls of any further ones.
	sysOther   map[uint64]*nsCount
	sysRest    nsCount
	faults     [nFaultSlots]struct{ n, pages, ns uint64 }
	otherExc   nsCount
	exits      uint64
	interrupts uint64
	fast       uint64 // calls the fast path's server ran (no exit)
	fastWaits  uint64 // guests that stopped waiting for the server (exits)
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
	// procStart is when the process was made (estimated: procStarted);
	// phases, the set-up's steps as they ended (Mark).
	procStart time.Time
	phases    []phase
	// hv are KVM's counters at the guest's end (kvmstats.go), nil
	// where the host has none.
	hv map[string]uint64
}

type phase struct {
	name string
	at   time.Time
}

// NewRunStats returns empty statistics; the wall clock starts now.
func NewRunStats() *RunStats {
	now := time.Now()
	return &RunStats{start: now, procStart: procStarted(now), t: taskStats{sysOther: map[uint64]*nsCount{}}}
}

// procStarted estimates when the process was made (its fork, exec
// included) from its main thread's scheduler accounting: the time it has
// run plus the time it has waited to run, which is all the time since it
// was made as long as it never slept, as it does not while the Go runtime
// starts and kshim parses its command line. The kernel gives the start
// itself only in clock ticks (10 ms). now when the accounting is absent.
func procStarted(now time.Time) time.Time {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/schedstat")
	if err != nil {
		return now
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return now
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || run < 0 || wait < 0 {
		return now
	}
	return now.Add(-time.Duration(run + wait))
}

// Phase names Launch marks, in order (a step that does not happen, such
// as the sandbox's with --no-sandbox, has no mark).
const (
	PhaseMain            = "main"             // main() entered: the Go runtime and the packages' init done
	PhaseSandboxBegun    = "sandbox_begun"    // sandbox.Begin: bounding and ambient sets, no_new_privs
	PhaseMachineMade     = "machine_made"     // the VM, its memory and shared shim pages
	PhaseVCPUMade        = "vcpu_made"        // the first vCPU, its kernel half, the address space, the vDSO
	PhaseFilesSet        = "files_set"        // the first process, its root, mounts, devpts, /dev/shm (made beside vcpu_made: the wait for it)
	PhaseNetworkReady    = "network_ready"    // the guest's network namespace
	PhaseSandboxFinished = "sandbox_finished" // identity, Landlock, seccomp
	PhaseProbed          = "probed"           // the platform probe (syscall path, page-table protocol)
	PhaseImageLoaded     = "image_loaded"     // the program (and interpreter) loaded, the stack built
	PhaseGuestStarted    = "guest_started"    // the first KVM_RUN of the program: its first instruction
	PhaseGuestExited     = "guest_exited"     // the guest's processes have ended
	PhaseTornDown        = "torn_down"        // the machine closed: Launch returns
	PhaseLeftToExit      = "left_to_exit"     // Launch returns, the machine's release left to the exit (Config.LeaveClose)
)

// setHypervisor records KVM's counters (kvmstats.go).
func (s *RunStats) setHypervisor(hv map[string]uint64) {
	s.mu.Lock()
	s.hv = hv
	s.mu.Unlock()
}

// Mark records that the set-up phase name ended now. Nil-safe.
func (s *RunStats) Mark(name string) { s.MarkAt(name, time.Now()) }

// MarkAt records that phase name ended at t (main() takes its time
// before the statistics exist).
func (s *RunStats) MarkAt(name string, t time.Time) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.phases = append(s.phases, phase{name, t})
	s.mu.Unlock()
}

// markOnce marks name unless it is marked already (the guest's start, in
// the first task's loop only).
func (s *RunStats) markOnce(name string) {
	t := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.phases {
		if p.name == name {
			return
		}
	}
	s.phases = append(s.phases, phase{name, t})
}

func (s *RunStats) merge(t *taskStats, writes, drains uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range t.sys {
		s.t.sys[i].n += t.sys[i].n
		s.t.sys[i].ns += t.sys[i].ns
		s.t.sysFast[i] += t.sysFast[i]
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
	s.t.fast += t.fast
	s.t.fastWaits += t.fastWaits
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
func (t *taskStats) syscall(nr uint64, ns int64) { t.calls(nr, 1, uint64(ns)) }

// calls counts n calls of nr that took ns.
func (t *taskStats) calls(nr, n, ns uint64) {
	nr = uint64(uint32(nr))
	if nr < uint64(len(t.sys)) {
		t.sys[nr].n += n
		t.sys[nr].ns += ns
		return
	}
	t.other(nr, n, ns)
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
	WallNS  uint64 `json:"wall_ns"`
	GuestNS uint64 `json:"guest_ns"` // inside KVM_RUN: guest code, hypervisor work and transitions
	VMMNS   uint64 `json:"vmm_ns"`   // in the exit loop and the handlers
	Exits   uint64 `json:"exits"`    // KVM_RUN returns
	// FastSyscalls are the calls the fast path's server ran without an
	// exit (fast.go); Syscalls counts them too.
	FastSyscalls uint64 `json:"fast_syscalls"`
	// FastWaits are the posted calls whose guest stopped waiting for the
	// server and exited (the server was busy or not running).
	FastWaits   uint64          `json:"fast_waits"`
	Interrupts  uint64          `json:"interrupts"`
	Syscalls    []SyscallStat   `json:"syscalls"`
	Faults      []FaultStat     `json:"faults"`
	Exceptions  ExceptionStat   `json:"other_exceptions"`
	Flushes     FlushStat       `json:"flushes"`
	FaultAround FaultAroundStat `json:"fault_around"`
	// Hypervisor are KVM's own counters at the guest's end, summed over
	// the vCPUs, by KVM's names (HypervisorCounters: what the hypervisor
	// did without kshim, its page faults above all); absent where the
	// host has no binary statistics (Linux before 5.14).
	Hypervisor map[string]uint64 `json:"hypervisor,omitempty"`
	// Phases are the set-up's and teardown's steps in order, each's end
	// since the process started (estimated: see procStarted) and its own
	// length since the previous one's end.
	Phases []PhaseStat `json:"phases"`
}

// PhaseStat is one step of Launch.
type PhaseStat struct {
	Name string `json:"name"`
	AtNS int64  `json:"at_ns"` // its end, since the process started
	NS   int64  `json:"ns"`    // since the previous step's end (the first: since the process started)
}

// SyscallStat is one syscall's count and VMM time.
type SyscallStat struct {
	Name  string `json:"name"`
	NR    uint64 `json:"nr"`
	Count uint64 `json:"count"`
	VMMNS uint64 `json:"vmm_ns"`
	// Fast: of Count, the calls the fast path's server ran (no exit).
	Fast uint64 `json:"fast"`
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
		Exits: s.t.exits, Interrupts: s.t.interrupts, FastSyscalls: s.t.fast, FastWaits: s.t.fastWaits,
		Exceptions: ExceptionStat{Count: s.t.otherExc.n, VMMNS: s.t.otherExc.ns},
		Flushes:    FlushStat{Runs: s.t.flushRuns, Entries: s.flushWrites, Drains: s.drains},
		Syscalls:   []SyscallStat{}, Faults: []FaultStat{}, Phases: []PhaseStat{}}
	start := s.procStart
	if len(s.phases) > 0 && s.phases[0].at.Before(start) {
		start = s.phases[0].at // the estimate came out late: the main thread slept
	}
	prev := start
	for _, p := range s.phases {
		r.Phases = append(r.Phases, PhaseStat{p.name, int64(p.at.Sub(start)), int64(p.at.Sub(prev))})
		prev = p.at
	}
	for nr, c := range s.t.sys {
		if c.n != 0 {
			r.Syscalls = append(r.Syscalls, SyscallStat{syscallName(uint64(nr)), uint64(nr), c.n, c.ns, s.t.sysFast[nr]})
		}
	}
	for nr, c := range s.t.sysOther {
		r.Syscalls = append(r.Syscalls, SyscallStat{syscallName(nr), nr, c.n, c.ns, 0})
	}
	if c := s.t.sysRest; c.n != 0 {
		r.Syscalls = append(r.Syscalls, SyscallStat{OtherSyscalls, OtherSyscallsNR, c.n, c.ns, 0})
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
	if s.hv != nil {
		r.Hypervisor = maps.Clone(s.hv)
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
		r.Exits, nsys-r.FastSyscalls, nfault, r.Exceptions.Count, r.Interrupts)
	if r.FastSyscalls > 0 {
		fmt.Fprintf(&b, "fast syscalls: %d, without an exit (the syscall table below counts them too); %d posted waited too long and exited\n", r.FastSyscalls, r.FastWaits)
	}
	if len(r.Hypervisor) > 0 {
		var kv []string
		for _, name := range HypervisorCounters {
			if v, ok := r.Hypervisor[name]; ok {
				kv = append(kv, fmt.Sprintf("%s %d", name, v))
			}
		}
		fmt.Fprintf(&b, "hypervisor (KVM's counters, all vCPUs): %s\n", strings.Join(kv, ", "))
	}
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
	fastCol := "" // the fast column, where the fast path ran some
	if r.FastSyscalls > 0 {
		fastCol = "fast"
	}
	fmt.Fprintf(tw, "syscalls\tcount\t%s\tVMM time\t\n", fastCol)
	for _, s := range r.Syscalls {
		fast := ""
		if r.FastSyscalls > 0 {
			fast = strconv.FormatUint(s.Fast, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", s.Name, s.Count, fast, dur(s.VMMNS))
	}
	if len(r.Phases) > 0 {
		fmt.Fprintln(tw, "phases\tsince start\t\ttook\t")
		for _, p := range r.Phases {
			fmt.Fprintf(tw, "%s\t%s\t\t%s\t\n", p.Name, dur(uint64(p.AtNS)), dur(uint64(p.NS)))
		}
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// fastCall counts n calls of nr the fast path's server ran (fast.go).
func (t *taskStats) fastCall(nr, n, ns uint64) {
	t.fast += n
	if nr < uint64(len(t.sysFast)) {
		t.sysFast[nr] += n
	}
	t.calls(nr, n, ns)
}
