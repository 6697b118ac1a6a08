package vmm

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

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
	wantSys := []SyscallStat{{"getppid", 110, 2, 4000}, {"write", 1, 1, 5000}, {"syscall_9999", 9999, 1, 700}}
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
	for _, k := range []string{"wall_ns", "guest_ns", "vmm_ns", "exits", "interrupts", "syscalls", "faults", "other_exceptions", "flushes", "fault_around"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js.String())
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
