package main

// `kshim run --stats`: the flag's forms, and the report of a real run in
// both formats (counts only: no timing assertion).

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/vmm"
)

func TestStatsFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want statsFlag
		bad  bool
	}{
		{nil, "", false},
		{[]string{"--stats"}, "text", false},
		{[]string{"--stats=text"}, "text", false},
		{[]string{"--stats=json"}, "json", false},
		{[]string{"--stats=false"}, "", false},
		{[]string{"--stats=xml"}, "", true},
	} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var s statsFlag
		fs.Var(&s, "stats", "")
		err := fs.Parse(append(c.args, "prog"))
		if (err != nil) != c.bad || s != c.want || (!c.bad && fs.Arg(0) != "prog") {
			t.Errorf("%v: got %q, err %v, args %v; want %q (error %v)", c.args, s, err, fs.Args(), c.want, c.bad)
		}
	}
}

func TestRunStats(t *testing.T) {
	images := benchImages(t)
	bin := kshimBinary(t)
	// A program that takes page faults for certain: 64 fresh pages, too
	// many to be mapped at mmap (a static hello may take none: kshim maps
	// its heap and stack ahead).
	prog := filepath.Join(images, "bench_micro")
	run := func(flag string) (stdout, stderr string) {
		cmd := exec.Command(bin, "run", flag, prog, "first-touch", "64")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("kshim run %s: %v\n%s", flag, err, e.String())
		}
		return o.String(), e.String()
	}
	out, errOut := run("--stats=json")
	if !strings.Contains(out, "ns_per_page=") {
		t.Errorf("the guest's output changed: %q", out)
	}
	var r struct {
		WallNS  uint64 `json:"wall_ns"`
		GuestNS uint64 `json:"guest_ns"`
		Exits   uint64
		// The fast path's calls (vmm/fast.go), counted without an exit.
		FastSyscalls uint64 `json:"fast_syscalls"`
		Syscalls     []struct {
			Name  string
			NR    uint64
			Count uint64
			VMMNS uint64 `json:"vmm_ns"`
		}
		Faults []struct {
			Class        string
			Count, Pages uint64
		}
		Flushes struct {
			Runs, Entries, Drains uint64
		}
		FaultAround struct {
			FaultNS     int64 `json:"fault_round_trip_ns"`
			Speculative int   `json:"speculative_pages"`
			Streaming   int   `json:"streaming_pages"`
		} `json:"fault_around"`
		Phases []struct {
			Name string `json:"name"`
			AtNS int64  `json:"at_ns"`
			NS   int64  `json:"ns"`
		} `json:"phases"`
		Hypervisor map[string]uint64 `json:"hypervisor"`
	}
	if err := json.Unmarshal([]byte(errOut), &r); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, errOut)
	}
	// KVM's own counters (vmm/kvmstats.go), from Linux 5.14 on: the
	// guest's 64 fresh pages are faults the hypervisor took, and each is
	// an exit of its own.
	if hv := r.Hypervisor; kernelAtLeast(t, 5, 14) {
		if hv["pf_taken"] == 0 || hv["pf_fixed"] > hv["pf_taken"] || hv["exits"] < hv["pf_taken"] {
			t.Errorf("hypervisor counters %v: want pf_taken > 0, pf_fixed <= pf_taken <= exits", hv)
		}
	}
	byName := map[string]uint64{}
	var calls uint64
	for _, s := range r.Syscalls {
		byName[s.Name] = s.Count
		calls += s.Count
		if s.Name == "" {
			t.Errorf("syscall %d without a name", s.NR)
		}
	}
	// One write, and exit_group ends it.
	if byName["write"] < 1 || byName["exit_group"] != 1 {
		t.Errorf("syscalls %v: want write and one exit_group", byName)
	}
	var faults, pages uint64
	for _, f := range r.Faults {
		faults += f.Count
		pages += f.Pages
	}
	if r.FastSyscalls > calls || r.Exits < calls-r.FastSyscalls+faults || faults == 0 || pages < faults {
		t.Errorf("exits %d, syscalls %d (%d fast), faults %d mapping %d pages: want exits >= syscalls - fast + faults, pages >= faults > 0", r.Exits, calls, r.FastSyscalls, faults, pages)
	}
	if r.WallNS == 0 || r.GuestNS == 0 || r.GuestNS > r.WallNS {
		t.Errorf("wall %d ns, guest %d ns", r.WallNS, r.GuestNS)
	}
	if r.FaultAround.FaultNS <= 0 || r.FaultAround.Speculative < 16 || r.FaultAround.Streaming < r.FaultAround.Speculative {
		t.Errorf("fault-around policy %+v: want a measured fault and sizes of at least Linux's", r.FaultAround)
	}

	// The set-up's phases, each once, in Launch's order, none before
	// the one before it (the sandbox's are there: as root the run is
	// confined, and unprivileged it still drops capabilities).
	want := []string{vmm.PhaseMain, vmm.PhaseSandboxBegun, vmm.PhaseMachineMade, vmm.PhaseVCPUMade,
		vmm.PhaseFilesSet, vmm.PhaseNetworkReady, vmm.PhaseSandboxFinished, vmm.PhaseProbed,
		vmm.PhaseImageLoaded, vmm.PhaseGuestStarted, vmm.PhaseGuestExited, vmm.PhaseLeftToExit}
	if len(r.Phases) != len(want) {
		t.Errorf("phases %+v, want %v", r.Phases, want)
	} else {
		var prev int64
		for i, p := range r.Phases {
			if p.Name != want[i] || p.AtNS < prev || p.NS != p.AtNS-prev {
				t.Errorf("phase %d: %+v, want %q ending at or after %d ns, its length since then", i, p, want[i], prev)
			}
			prev = p.AtNS
		}
	}

	_, text := run("--stats")
	if kernelAtLeast(t, 5, 14) && !strings.Contains(text, "hypervisor (KVM's counters, all vCPUs): exits ") {
		t.Errorf("text report lacks KVM's counters:\n%s", text)
	}
	for _, want := range []string{"kshim stats: wall ", "exits: ", "flushes: ", "page faults", "syscalls", "exit_group", "phases", vmm.PhaseSandboxBegun, vmm.PhaseLeftToExit} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}

// TestRunStatsAfterKill: a guest killed by a signal gets kshim's line on
// stderr ("Aborted", as a shell says it) before the JSON report, which
// ends stderr whole.
func TestRunStatsAfterKill(t *testing.T) {
	images := benchImages(t)
	bin := kshimBinary(t)
	cmd := exec.Command(bin, "run", "--stats=json", filepath.Join(images, "abort"))
	var e bytes.Buffer
	cmd.Stderr = &e
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+6 {
		t.Fatalf("kshim run abort: %v, want exit status 134\n%s", err, e.String())
	}
	s := e.String()
	i := strings.Index(s, "{")
	if i < 0 || !strings.Contains(s[:i], "Aborted") {
		t.Fatalf("stderr %q: want kshim's Aborted line, then the JSON report", s)
	}
	var r struct {
		Exits uint64 `json:"exits"`
	}
	if err := json.Unmarshal([]byte(s[i:]), &r); err != nil || r.Exits == 0 {
		t.Fatalf("stderr after the line is not one JSON report (%v, exits %d):\n%s", err, r.Exits, s[i:])
	}
}

// kernelAtLeast reports whether the host kernel is at least major.minor.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q: %v", u.Release[:], err)
	}
	return ma > major || ma == major && mi >= minor
}

// TestTeardownFlag: --teardown inline closes the machine in kshim (the
// last phase is torn_down), helper (the default) leaves it to the helper
// (left_to_exit); another value is a usage error.
func TestTeardownFlag(t *testing.T) {
	images := benchImages(t)
	bin := kshimBinary(t)
	for _, c := range []struct{ flag, last string }{{"--teardown=inline", vmm.PhaseTornDown}, {"--teardown=helper", vmm.PhaseLeftToExit}} {
		cmd := exec.Command(bin, "run", c.flag, "--stats=json", filepath.Join(images, "hello"))
		var e bytes.Buffer
		cmd.Stderr = &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("kshim run %s: %v\n%s", c.flag, err, e.String())
		}
		var r struct {
			Phases []struct{ Name string } `json:"phases"`
		}
		if err := json.Unmarshal(e.Bytes(), &r); err != nil || len(r.Phases) == 0 {
			t.Fatalf("%s: bad JSON (%v):\n%s", c.flag, err, e.String())
		}
		if got := r.Phases[len(r.Phases)-1].Name; got != c.last {
			t.Errorf("%s: last phase %q, want %q", c.flag, got, c.last)
		}
	}
	err := exec.Command(bin, "run", "--teardown=later", filepath.Join(images, "hello")).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("--teardown=later: %v, want exit status 2", err)
	}
}
