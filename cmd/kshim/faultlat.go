// faultlat.go: `kshim faultlat`, the fault-latency lab. For each fault
// class, images/bench_faultlat.c times N single accesses with the TSC (the
// guest's view of the whole fault), once under kshim, in this process
// with the VMM's latency recorder on (vmm/latency.go: TSC cycles from the
// exception exit to the resume, the VMM's view), and once natively for
// reference. The VMM's samples are matched to the guest's by address: the
// guest prints the region its samples touched.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"kshim/vmm"
)

type flClass struct {
	name  string   // JSON name
	arg   string   // bench_faultlat CLASS
	title string   // for tables and plot panels
	vmm   []string // the VMM recorder classes this fault shows as
	what  string   // what the guest measures
}

var flClasses = []flClass{
	{"demand-zero", "demand-zero", "demand-zero", []string{"demand-zero"},
		"first write to anonymous memory, one page per 64 KiB"},
	{"file", "file", "file read", []string{"file"},
		"first read of a private file mapping, one page per 64 KiB"},
	{"copy-on-write", "cow", "copy-on-write", []string{"copy-on-write"},
		"write to a page shared with a child after fork"},
	{"protection-signal", "signal", "protection → signal", []string{vmm.ClassSignal},
		"store to a read-only page → SIGSEGV handler → sigreturn → next instruction"},
	{"population", "population", "guest-physical population", nil,
		"first write to a MAP_POPULATE'd page: PTE present, frame never touched"},
	{"stack-growth", "stack", "stack growth", []string{"stack-growth"},
		"write one page below the main stack, growing it"},
}

// latDist is a latency distribution in nanoseconds.
type latDist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ns"`
	P90 float64 `json:"p90_ns"`
	P99 float64 `json:"p99_ns"`
	Max float64 `json:"max_ns"`
}

func distOf(v []float64) *latDist {
	if len(v) == 0 {
		return nil
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return &latDist{N: len(s), P50: round3(quantile(s, 0.5)), P90: round3(quantile(s, 0.9)),
		P99: round3(quantile(s, 0.99)), Max: round3(s[len(s)-1])}
}

type flResult struct {
	Class       string            `json:"class"`
	Title       string            `json:"title"`
	Measures    string            `json:"measures"`
	KshimVMM    *latDist          `json:"kshim_vmm"`
	KshimGuest  *latDist          `json:"kshim_guest"`
	NativeGuest *latDist          `json:"native_guest"`
	RegionExits map[string]int    `json:"kshim_exits_in_region"` // VMM exits whose address is in the sampled region, by recorder class
	Absent      map[string]string `json:"absent,omitempty"`
	Note        string            `json:"note,omitempty"`
	// Samples are the raw latencies behind the distributions, in ns, in
	// the order they were taken (--json only).
	Samples *flSamples `json:"samples,omitempty"`

	kv, kg, ng []float64
}

type flSamples struct {
	KshimVMM    []float64 `json:"kshim_vmm"`
	KshimGuest  []float64 `json:"kshim_guest"`
	NativeGuest []float64 `json:"native_guest"`
}

type vmmClassStat struct {
	Class string  `json:"class"`
	N     int     `json:"n"`
	P50   float64 `json:"p50_ns"`
	P99   float64 `json:"p99_ns"`
}

type faultlatReport struct {
	Host hostInfo `json:"host"`
	N    int      `json:"samples_per_class"`
	// FaultAround is kshim's fault-around: "measured" (its policy) or
	// "linux" (--fault-around=linux).
	FaultAround string         `json:"fault_around"`
	Clocks      string         `json:"clocks"`
	Classes     []*flResult    `json:"classes"`
	VMMAll      []vmmClassStat `json:"kshim_vmm_all_exits"`
	all         map[string][]float64
}

func cmdFaultlat(args []string) int {
	fs := flag.NewFlagSet("faultlat", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	jsonOut := fs.Bool("json", false, "print JSON instead of a table")
	md := fs.Bool("markdown", false, "print a Markdown results section (make bench)")
	plot := fs.String("plot", "", "draw the histograms to FILE.png or FILE.svg")
	n := fs.Int("n", 500, "samples per fault class")
	images := fs.String("images", "", "directory of the guest images (default: build/images)")
	compare := fs.String("compare", "", "compare with a baseline saved from `kshim faultlat --json`; exit 1 if a class regressed")
	threshold := fs.Float64("threshold", 0.5, "with --compare: a p50 more than this fraction above the baseline's is a regression")
	around := fs.String("fault-around", "measured", "kshim's fault-around: measured (its policy) or linux (fixed sizes, nothing copied ahead or populated: to time single faults)")
	fs.Usage = func() { usage(os.Stderr) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *n < 1 || *threshold < 0 || *around != "measured" && *around != "linux" {
		fmt.Fprintln(os.Stderr, "kshim faultlat: bad arguments (see kshim help)")
		return 2
	}
	if *plot != "" {
		if ext := strings.ToLower(filepath.Ext(*plot)); ext != ".png" && ext != ".svg" {
			fmt.Fprintln(os.Stderr, "kshim faultlat: --plot wants a .png or .svg file")
			return 2
		}
	}
	var base *faultlatReport
	if *compare != "" {
		var err error
		if base, err = loadFaultlat(*compare); err != nil {
			fmt.Fprintf(os.Stderr, "kshim faultlat: --compare: %v\n", err)
			return 2
		}
	}
	rep, err := runFaultlat(*images, *n, *around == "linux")
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim faultlat: %v\n", err)
		return 1
	}
	if base != nil {
		cmp := compareFaultlat(base, rep, *threshold)
		if *jsonOut {
			b, _ := json.MarshalIndent(cmp, "", "  ")
			fmt.Println(string(b))
		} else {
			cmp.Table(os.Stdout)
		}
		if cmp.Regressed {
			return 1
		}
		return 0
	}
	if *jsonOut || *plot != "" {
		for _, c := range rep.Classes {
			c.Samples = &flSamples{KshimVMM: roundAll(c.kv), KshimGuest: roundAll(c.kg), NativeGuest: roundAll(c.ng)}
		}
	}
	if *plot != "" {
		if err := plotFaultlat(rep, *plot); err != nil {
			fmt.Fprintf(os.Stderr, "kshim faultlat: plot: %v\n", err)
			return 1
		}
	}
	switch {
	case *jsonOut:
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Println(string(b))
	case *md:
		rep.Markdown(os.Stdout, *plot)
	default:
		rep.Table(os.Stdout)
	}
	return 0
}

// plotFaultlat draws rep (with its samples) to path with kshim-plot
// (cmd/kshim-plot), found beside kshim's own binary or else in PATH: the
// plotting library is not linked into kshim, whose start-up would pay
// for its init.
func plotFaultlat(rep *faultlatReport, path string) error {
	helper := "kshim-plot"
	if exe, err := os.Executable(); err == nil && exists(filepath.Join(filepath.Dir(exe), helper)) {
		helper = filepath.Join(filepath.Dir(exe), helper)
	} else if helper, err = exec.LookPath(helper); err != nil {
		return fmt.Errorf("kshim-plot, which draws it, is neither beside kshim nor in PATH (make build puts it in bin/): %w", err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	cmd := exec.Command(helper, path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(b), os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", helper, err)
	}
	return nil
}

// guestSamples is bench_faultlat's output.
type guestSamples struct {
	lo, hi uint64
	ns     []float64
}

func parseFaultlat(out []byte) (*guestSamples, error) {
	hzS, ok1 := parseKV(out, "tsc_hz")
	region, ok2 := parseKV(out, "region")
	cyc, ok3 := parseKV(out, "cycles")
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("output lacks tsc_hz=, region= or cycles=: %q", firstLine(out))
	}
	hz, err := strconv.ParseFloat(hzS, 64)
	if err != nil || hz <= 0 {
		return nil, fmt.Errorf("bad tsc_hz=%s", hzS)
	}
	g := &guestSamples{}
	a, b, _ := strings.Cut(region, "-")
	if g.lo, err = strconv.ParseUint(a, 0, 64); err == nil {
		g.hi, err = strconv.ParseUint(b, 0, 64)
	}
	if err != nil {
		return nil, fmt.Errorf("bad region=%s", region)
	}
	for _, f := range strings.Fields(cyc) {
		c, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad cycles value %q", f)
		}
		g.ns = append(g.ns, float64(c)/hz*1e9)
	}
	return g, nil
}

func runFaultlat(images string, n int, linuxAround bool) (*faultlatReport, error) {
	dir, err := findImages(images)
	if err != nil {
		return nil, err
	}
	prog := filepath.Join(dir, "bench_faultlat")
	if !exists(prog) {
		return nil, fmt.Errorf("%s missing: run `make images`", prog)
	}
	hz := vmm.TSCHz()
	policy := "measured"
	if linuxAround {
		policy = "linux"
	}
	rep := &faultlatReport{Host: describeHost(), N: n, FaultAround: policy, all: map[string][]float64{},
		Clocks: fmt.Sprintf("guest: TSC (lfence;rdtsc .. rdtscp), calibrated by the guest against CLOCK_MONOTONIC; "+
			"VMM: TSC (runtime.cputicks) from the exit to the resume, %.0f MHz calibrated against the monotonic clock", hz/1e6)}
	native := &runner{name: rNative}
	// The file class maps a file made here, read-only in the guest.
	file, err := makeBenchFile(n, 16*pageSize, 1)
	if err != nil {
		return nil, err
	}
	defer os.Remove(file)
	for _, c := range flClasses {
		r := &flResult{Class: c.name, Title: c.title, Measures: c.what, Absent: map[string]string{}, RegionExits: map[string]int{}}
		rep.Classes = append(rep.Classes, r)
		args := []string{c.arg, strconv.Itoa(n)}
		if c.arg == "file" {
			args = append(args, file)
		}

		// kshim, in-process, with the recorder.
		rec := vmm.NewLatencyRecorder()
		res, out, stderr, err := launchCaptured(vmm.Config{
			Path: prog, Argv: append([]string{prog}, args...), Env: benchEnv(), MemSize: 1 << 30, Latency: rec,
			LinuxFaultAround: linuxAround,
		})
		switch {
		case err != nil:
			r.Absent[rKshim] = err.Error()
		case res.Signal != 0:
			r.Absent[rKshim] = failureReason("bench_faultlat", stderr, "killed by "+signalDescription(res.Signal))
		case res.ExitStatus != 0:
			r.Absent[rKshim] = failureReason("bench_faultlat", stderr, fmt.Sprintf("exit status %d", res.ExitStatus))
		default:
			g, err := parseFaultlat([]byte(out))
			if err != nil {
				r.Absent[rKshim] = err.Error()
				break
			}
			r.kg = g.ns
			for _, s := range rec.Samples {
				ns := float64(s.Cycles) / hz * 1e9
				rep.all[s.Class] = append(rep.all[s.Class], ns)
				if s.Class == vmm.ClassSyscall || s.Addr < g.lo || s.Addr >= g.hi {
					continue
				}
				r.RegionExits[s.Class]++
				for _, want := range c.vmm {
					if s.Class == want {
						r.kv = append(r.kv, ns)
					}
				}
			}
		}
		exits := 0
		for _, k := range r.RegionExits {
			exits += k
		}
		if r.Absent[rKshim] != "" {
			r.Absent["kshim_vmm"] = "kshim run failed"
		} else if len(c.vmm) == 0 {
			r.Note = fmt.Sprintf("%d VMM exits in the region: the page-table entry is present, so the first touch does not fault in the guest's page tables; what the guest pays is the host populating the memory-slot page (and, on PVM, the shadow entry)", exits)
			if exits == 0 {
				r.Absent["kshim_vmm"] = "no VMM exit (none expected)"
			}
		} else if len(r.kv) == 0 {
			r.Absent["kshim_vmm"] = fmt.Sprintf("no %s exit recorded in the region", strings.Join(c.vmm, "/"))
		}

		// native, for reference.
		nres := native.run(prog, args...)
		if nres.err != nil {
			r.Absent[rNative] = nres.reason("bench_faultlat")
		} else if g, err := parseFaultlat(nres.stdout); err != nil {
			r.Absent[rNative] = err.Error()
		} else {
			r.ng = g.ns
		}
		r.KshimVMM, r.KshimGuest, r.NativeGuest = distOf(r.kv), distOf(r.kg), distOf(r.ng)
		if len(r.Absent) == 0 {
			r.Absent = nil
		}
	}
	classes := make([]string, 0, len(rep.all))
	for c := range rep.all {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		d := distOf(rep.all[c])
		rep.VMMAll = append(rep.VMMAll, vmmClassStat{Class: c, N: d.N, P50: d.P50, P99: d.P99})
	}
	return rep, nil
}

func pcts(d *latDist) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%s / %s / %s / %s (n=%d)", human(d.P50, "ns"), human(d.P90, "ns"), human(d.P99, "ns"), human(d.Max, "ns"), d.N)
}

func (r *flResult) cell(d *latDist, key string) string {
	if d != nil {
		return pcts(d)
	}
	if a := r.Absent[key]; a != "" {
		return "absent: " + a
	}
	return "-"
}

func (rep *faultlatReport) rows() [][]string {
	var rows [][]string
	for _, r := range rep.Classes {
		rows = append(rows, []string{r.Title, r.cell(r.KshimVMM, "kshim_vmm"), r.cell(r.KshimGuest, rKshim), r.cell(r.NativeGuest, rNative)})
	}
	return rows
}

var flHeader = []string{"fault class", "kshim, VMM side", "kshim, guest view", "native, guest view"}

func (rep *faultlatReport) Table(w io.Writer) {
	fmt.Fprintf(w, "kshim faultlat, %s: %s; %s; %d samples per class; kshim fault-around: %s\np50 / p90 / p99 / max\n\n", rep.Host.Date, rep.Host.CPU, rep.Host.KVM, rep.N, rep.FaultAround)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(flHeader, "\t"))
	for _, row := range rep.rows() {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range rep.Classes {
		fmt.Fprintf(w, "%s: %s\n", r.Title, r.Measures)
		if r.Note != "" {
			fmt.Fprintf(w, "  %s\n", r.Note)
		}
	}
	fmt.Fprintf(w, "\nall VMM exits of these runs, by class (p50, p99): ")
	for i, s := range rep.VMMAll {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s n=%d %s, %s", s.Class, s.N, human(s.P50, "ns"), human(s.P99, "ns"))
	}
	fmt.Fprintf(w, "\nclocks: %s\n", rep.Clocks)
}

func (rep *faultlatReport) Markdown(w io.Writer, plot string) {
	fmt.Fprintf(w, "## Fault latency (`kshim faultlat`)\n\nRun on %s, %d samples per class; p50 / p90 / p99 / max.\n\n", rep.Host.Date, rep.N)
	fmt.Fprintln(w, "| "+strings.Join(flHeader, " | ")+" |\n| --- | --- | --- | --- |")
	for _, row := range rep.rows() {
		for i := range row {
			row[i] = strings.ReplaceAll(row[i], "|", `\|`)
		}
		fmt.Fprintln(w, "| "+strings.Join(row, " | ")+" |")
	}
	fmt.Fprint(w, "\nWhat each class measures:\n\n")
	for _, r := range rep.Classes {
		fmt.Fprintf(w, "- **%s**: %s.", r.Title, r.Measures)
		if r.Note != "" {
			fmt.Fprintf(w, " %s.", r.Note)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "\nAll VMM exits of these runs, by recorder class: ")
	for i, s := range rep.VMMAll {
		if i > 0 {
			fmt.Fprint(w, "; ")
		}
		fmt.Fprintf(w, "%s n=%d, p50 %s, p99 %s", s.Class, s.N, human(s.P50, "ns"), human(s.P99, "ns"))
	}
	fmt.Fprintf(w, ".\n\nClocks: %s.\n", rep.Clocks)
	if plot != "" {
		fmt.Fprintf(w, "\n![fault latency histograms](%s)\n", filepath.Base(plot))
	}
	fmt.Fprintln(w)
}
