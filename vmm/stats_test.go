package vmm

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kshim/guestmm"
)

func TestSyscallNames(t *testing.T) {
	for nr, want := range map[uint64]string{0: "read", 1: "write", 39: "getpid", 110: "getppid", 231: "exit_group", 435: "clone3", 9999: "syscall_9999"} {
		if got := syscallName(nr); got != want {
			t.Errorf("syscallName(%d) = %q, want %q", nr, got, want)
		}
	}
}

// TestStatsReport: two tasks' counters merge, and both formats say what
// was counted.
func TestStatsReport(t *testing.T) {
	rs := NewRunStats()
	a, b := &taskStats{}, &taskStats{}
	a.syscall(110, 3000)
	a.syscall(110, 1000)
	a.fastCall(110, 2, 300)  // two more the fast path ran
	b.syscall(1<<32|1, 5000) // the call Linux runs: RAX's low 32 bits
	b.syscall(9999, 700)
	a.faults[faultSlot(guestmm.Resolved, guestmm.KindFile)] = struct{ n, pages, ns uint64 }{2, 130, 4000}
	b.faults[faultSlot(guestmm.SegvMapErr, guestmm.KindNone)].n = 1
	a.otherExc = nsCount{1, 900}
	a.exits, b.exits = 7, 3
	a.flushRuns, a.guestNS, b.guestNS, a.vmmNS = 2, 1e6, 5e5, 2e5
	rs.merge(a, 40, 1)
	rs.merge(b, 2, 0)
	r := rs.Report()
	if r.Exits != 10 || r.GuestNS != 1.5e6 || r.VMMNS != 2e5 || r.Flushes != (FlushStat{Runs: 2, Entries: 42, Drains: 1}) {
		t.Errorf("totals %+v", r)
	}
	wantSys := []SyscallStat{{"getppid", 110, 4, 4300, 2}, {"write", 1, 1, 5000, 0}, {"syscall_9999", 9999, 1, 700, 0}}
	if len(r.Syscalls) != len(wantSys) {
		t.Fatalf("syscalls %+v, want %+v", r.Syscalls, wantSys)
	}
	for i := range wantSys {
		if r.Syscalls[i] != wantSys[i] {
			t.Errorf("syscall %d: %+v, want %+v", i, r.Syscalls[i], wantSys[i])
		}
	}
	wantFaults := []FaultStat{{"file", 2, 130, 4000}, {ClassSignal, 1, 0, 0}}
	if len(r.Faults) != 2 || r.Faults[0] != wantFaults[0] || r.Faults[1] != wantFaults[1] {
		t.Errorf("faults %+v, want %+v", r.Faults, wantFaults)
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"exits: 10 (4 syscalls, 3 page faults, 1 other exceptions, 0 interrupts)",
		"flushes: 2 guest flushes of 42 page-table entries, 1 drains, 0 shadow drops reclaiming page-table frames",
		"getppid", "syscall_9999", "signal",
		"count  fast", // the fast path ran some: their column
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if lines := strings.Split(text.String(), "\n"); !strings.HasPrefix(lines[len(lines)-2], "syscall_9999") {
		t.Errorf("syscalls not by count, most first:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, js.String())
	}
	for _, k := range []string{"wall_ns", "guest_ns", "vmm_ns", "exits", "interrupts", "syscalls", "faults", "other_exceptions", "flushes", "fault_around", "phases"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js.String())
		}
	}
}

// TestStatsPhases: marks come out in the order made, each's end since the
// process started and its own length since the one before, in both
// formats; the guest's start is counted once however many tasks start.
func TestStatsPhases(t *testing.T) {
	rs := NewRunStats()
	if !rs.procStart.After(time.Time{}) || rs.procStart.After(rs.start) {
		t.Errorf("process start %v, stats made at %v", rs.procStart, rs.start)
	}
	// A start a second ago, so the marks below (2-6 ms after it) come
	// before the ones taken now.
	base := time.Now().Add(-time.Second)
	rs.procStart = base
	rs.MarkAt(PhaseMain, base.Add(2*time.Millisecond))
	rs.MarkAt(PhaseSandboxBegun, base.Add(5*time.Millisecond))
	rs.MarkAt(PhaseMachineMade, base.Add(6*time.Millisecond))
	rs.markOnce(PhaseGuestStarted)
	rs.markOnce(PhaseGuestStarted)
	rs.Mark(PhaseTornDown)
	var nilStats *RunStats
	nilStats.Mark(PhaseMain) // stats off: nothing, no panic
	r := rs.Report()
	want := []string{PhaseMain, PhaseSandboxBegun, PhaseMachineMade, PhaseGuestStarted, PhaseTornDown}
	if len(r.Phases) != len(want) {
		t.Fatalf("phases %+v, want %v", r.Phases, want)
	}
	var prev int64
	for i, p := range r.Phases {
		if p.Name != want[i] {
			t.Errorf("phase %d is %q, want %q", i, p.Name, want[i])
		}
		if p.AtNS < prev || p.NS != p.AtNS-prev {
			t.Errorf("phase %q: at %d ns, took %d ns, after the previous at %d ns", p.Name, p.AtNS, p.NS, prev)
		}
		prev = p.AtNS
	}
	if r.Phases[0].AtNS != 2e6 || r.Phases[1].NS != 3e6 {
		t.Errorf("phases %+v: want main at 2 ms, sandbox_begun 3 ms after it", r.Phases)
	}

	// An estimate of the process's start later than main (its thread
	// slept) starts the phases at main.
	late := NewRunStats()
	late.MarkAt(PhaseMain, late.procStart.Add(-time.Millisecond))
	if p := late.Report().Phases[0]; p.AtNS != 0 || p.NS != 0 {
		t.Errorf("main before the estimated start: %+v, want at 0", p)
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "phases") || !strings.Contains(text.String(), PhaseSandboxBegun) {
		t.Errorf("text lacks the phases:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Phases []struct {
			Name string `json:"name"`
			AtNS *int64 `json:"at_ns"`
			NS   *int64 `json:"ns"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Phases) != len(want) {
		t.Fatalf("JSON phases %+v (%v):\n%s", doc.Phases, err, js.String())
	}
	for i, p := range doc.Phases {
		if p.Name != want[i] || p.AtNS == nil || p.NS == nil {
			t.Errorf("JSON phase %d: %+v", i, p)
		}
	}
}

// TestStatsOtherSyscallsBounded: the guest chooses syscall numbers, and
// numbers outside the table are counted one by one only up to
// maxOtherSyscalls (per task and merged); the rest share one row, and no
// call goes uncounted.
func TestStatsOtherSyscallsBounded(t *testing.T) {
	rs := NewRunStats()
	const calls = 10000
	for k := 0; k < 2; k++ {
		ts := &taskStats{}
		for i := 0; i < calls; i++ {
			ts.syscall(uint64(100000+k*calls/2+i), 10)
		}
		if len(ts.sysOther) > maxOtherSyscalls {
			t.Fatalf("task %d counts %d numbers one by one, want at most %d", k, len(ts.sysOther), maxOtherSyscalls)
		}
		rs.merge(ts, 0, 0)
	}
	r := rs.Report()
	if len(r.Syscalls) > maxOtherSyscalls+1 {
		t.Fatalf("%d syscall rows, want at most %d", len(r.Syscalls), maxOtherSyscalls+1)
	}
	var n uint64
	rest := false
	for _, s := range r.Syscalls {
		n += s.Count
		if s.Name == OtherSyscalls && s.NR == OtherSyscallsNR {
			rest = true
		}
	}
	if n != 2*calls || !rest {
		t.Fatalf("rows count %d calls (want %d), a %s row: %v", n, 2*calls, OtherSyscalls, rest)
	}
}
