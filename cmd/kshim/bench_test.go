package main

// Smoke test of `kshim bench` and `kshim faultlat`: tiny iteration counts,
// the structure of the JSON, kshim and native figures present and
// positive. No timing assertion: the figures are noise at this size.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchImages returns a directory with the guest programs the benches
// need: build/images when `make images` made them, else built here.
func benchImages(t *testing.T) string {
	t.Helper()
	names := []string{"bench_micro", "bench_faultlat", "hello"}
	dir, _ := filepath.Abs("../../build/images")
	ok := true
	for _, n := range names {
		src, dst := filepath.Join("../../images", n+".c"), filepath.Join(dir, n)
		si, err1 := os.Stat(src)
		di, err2 := os.Stat(dst)
		if err1 != nil || err2 != nil || di.ModTime().Before(si.ModTime()) {
			ok = false
		}
	}
	if ok {
		return dir
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("guest images not built and no gcc: run `make images`")
	}
	dir = t.TempDir()
	for _, n := range names {
		out, err := exec.Command("gcc", "-static", "-O2", "-Wall", "-o", filepath.Join(dir, n), filepath.Join("../../images", n+".c")).CombinedOutput()
		if err != nil {
			t.Fatalf("gcc %s: %v\n%s", n, err, out)
		}
	}
	return dir
}

// kshimBinary builds this command for the bench's kshim runner.
func kshimBinary(t *testing.T) string {
	t.Helper()
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		t.Skipf("no usable /dev/kvm: %v", err)
	} else {
		f.Close()
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kshim")
	// kshim-plot beside it, as `make build` puts it (faultlat --plot).
	for _, b := range [][2]string{{bin, "."}, {filepath.Join(dir, "kshim-plot"), "../kshim-plot"}} {
		build := exec.Command("go", "build", "-o", b[0], b[1])
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // as the Makefile builds it
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	return bin
}

func TestBenchSmoke(t *testing.T) {
	images := benchImages(t)
	bin := kshimBinary(t)
	out, err := exec.Command(bin, "bench", "--json", "--quiet", "--rounds", "2", "--scale", "0.02",
		"--peers", "native", "--images", images, "--kshim", bin).Output()
	if err != nil {
		t.Fatalf("kshim bench: %v", err)
	}
	var doc struct {
		Host struct {
			CPU, Kernel, KVM string
		}
		Results   []map[string]any
		ExitFloor *struct {
			RawExitNS float64 `json:"raw_exit_ns"`
		} `json:"exit_floor"`
		Goals []map[string]any
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if doc.Host.Kernel == "" || doc.Host.KVM == "" {
		t.Errorf("host description incomplete: %+v", doc.Host)
	}
	want := []string{"getppid", "clock_gettime", "first-touch", "file-fault", "cow-fault", "segv-roundtrip", "mmap-cycle", "posix-spawn", "futex-wake", "pipe-wake",
		"startup", "busybox-pipeline", "python3-pass", "git-log", "gcc-hello", "go-goroutines"}
	// Real programs the host may lack: absent natively too, with a reason.
	hostProgram := map[string]bool{"busybox-pipeline": true, "python3-pass": true, "git-log": true, "gcc-hello": true}
	if len(doc.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(doc.Results), len(want))
	}
	// Benches kshim can run today; the others may be absent, with a reason.
	kshimWorks := map[string]bool{"getppid": true, "clock_gettime": true, "first-touch": true, "segv-roundtrip": true, "mmap-cycle": true, "posix-spawn": true, "futex-wake": true, "pipe-wake": true, "startup": true}
	for i, r := range doc.Results {
		name, _ := r["bench"].(string)
		if name != want[i] {
			t.Errorf("result %d is %q, want %q", i, name, want[i])
		}
		if u, _ := r["unit"].(string); u == "" {
			t.Errorf("%s: no unit", name)
		}
		absent, _ := r["absent"].(map[string]any)
		for _, runner := range []string{"kshim", "native"} {
			v, present := r[runner]
			if !present {
				t.Errorf("%s: no %q key", name, runner)
				continue
			}
			f, isNum := v.(float64)
			switch {
			case isNum && f > 0:
			case v == nil && absent[runner] != nil && absent[runner] != "":
				if runner == "native" && !hostProgram[name] || runner == "kshim" && kshimWorks[name] {
					t.Errorf("%s under %s absent: %v", name, runner, absent[runner])
				}
			default:
				t.Errorf("%s under %s: %v (absent: %v)", name, runner, v, absent[runner])
			}
		}
	}
	if doc.ExitFloor == nil || doc.ExitFloor.RawExitNS <= 0 {
		t.Errorf("exit floor not measured: %+v", doc.ExitFloor)
	}
	if len(doc.Goals) != 15 {
		t.Errorf("%d goals, want 15", len(doc.Goals))
	}
	// A baseline kshim binary is one more runner, in the same rounds.
	out, err = exec.Command(bin, "bench", "--json", "--quiet", "--rounds", "1", "--scale", "0.01", "--peers", "none",
		"--only", "getppid", "--images", images, "--kshim", bin, "--baseline", bin).Output()
	var base struct{ Results []map[string]any }
	if err != nil || json.Unmarshal(out, &base) != nil || len(base.Results) != 1 {
		t.Fatalf("kshim bench --baseline: %v\n%s", err, out)
	}
	if v, _ := base.Results[0]["kshim-baseline"].(float64); v <= 0 {
		t.Errorf("--baseline: no kshim-baseline figure: %v", base.Results[0])
	}
	// The human table and the Markdown section render.
	for _, format := range []string{"", "--markdown"} {
		args := []string{"bench", "--quiet", "--rounds", "1", "--scale", "0.01", "--peers", "none", "--only", "getppid", "--images", images, "--kshim", bin}
		if format != "" {
			args = append(args, format)
		}
		if out, err := exec.Command(bin, args...).Output(); err != nil || len(out) == 0 {
			t.Errorf("kshim %v: %v", args, err)
		}
	}
}

func TestFaultlatSmoke(t *testing.T) {
	images := benchImages(t)
	bin := kshimBinary(t)
	dir := t.TempDir()
	png, svg := filepath.Join(dir, "f.png"), filepath.Join(dir, "f.svg")
	out, err := exec.Command(bin, "faultlat", "--json", "--n", "10", "--images", images, "--plot", png).Output()
	if err != nil {
		t.Fatalf("kshim faultlat: %v", err)
	}
	var doc struct {
		Host    map[string]any
		Classes []struct {
			Class       string
			KshimVMM    *latDist          `json:"kshim_vmm"`
			KshimGuest  *latDist          `json:"kshim_guest"`
			NativeGuest *latDist          `json:"native_guest"`
			Absent      map[string]string `json:"absent"`
			Samples     *flSamples        `json:"samples"`
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	// The raw samples are the distributions' own.
	for _, c := range doc.Classes {
		if c.Samples == nil {
			t.Errorf("%s: no raw samples", c.Class)
			continue
		}
		for _, v := range []struct {
			d *latDist
			s []float64
		}{{c.KshimVMM, c.Samples.KshimVMM}, {c.KshimGuest, c.Samples.KshimGuest}, {c.NativeGuest, c.Samples.NativeGuest}} {
			if n := 0; v.d != nil {
				n = v.d.N
				if len(v.s) != n {
					t.Errorf("%s: %d raw samples for a distribution of %d", c.Class, len(v.s), n)
				}
			} else if len(v.s) != 0 {
				t.Errorf("%s: %d raw samples for an absent distribution", c.Class, len(v.s))
			}
		}
	}
	// --fault-around=linux: nothing copied ahead or at fork, so every
	// class that faults has VMM-side samples, file and copy-on-write too.
	lout, err := exec.Command(bin, "faultlat", "--json", "--fault-around", "linux", "--n", "5", "--images", images).Output()
	if err != nil {
		t.Fatalf("kshim faultlat --fault-around linux: %v", err)
	}
	var ldoc struct {
		FaultAround string `json:"fault_around"`
		Classes     []struct {
			Class    string
			KshimVMM *latDist `json:"kshim_vmm"`
		}
	}
	if err := json.Unmarshal(lout, &ldoc); err != nil || ldoc.FaultAround != "linux" {
		t.Fatalf("faultlat --fault-around linux: %v, fault_around %q\n%s", err, ldoc.FaultAround, lout)
	}
	for _, c := range ldoc.Classes {
		if (c.Class == "file" || c.Class == "copy-on-write") && (c.KshimVMM == nil || c.KshimVMM.N != 5) {
			t.Errorf("--fault-around linux: %s VMM side %+v, want all 5 samples", c.Class, c.KshimVMM)
		}
	}
	if err := exec.Command(bin, "faultlat", "--fault-around", "huge", "--images", images).Run(); err == nil {
		t.Error("faultlat --fault-around huge: no error")
	}
	// --compare against a baseline whose demand-zero faults took a
	// millionth of the time: a regression, exit 1, named.
	var base map[string]any
	if err := json.Unmarshal(out, &base); err != nil {
		t.Fatal(err)
	}
	for _, c := range base["classes"].([]any) {
		c := c.(map[string]any)
		if g, ok := c["kshim_guest"].(map[string]any); ok && c["class"] == "demand-zero" {
			g["p50_ns"] = g["p50_ns"].(float64) / 1e6
		}
	}
	baseFile := filepath.Join(dir, "base.json")
	if b, err := json.Marshal(base); err != nil || os.WriteFile(baseFile, b, 0o644) != nil {
		t.Fatal("writing the baseline")
	}
	cmp := exec.Command(bin, "faultlat", "--compare", baseFile, "--n", "5", "--images", images)
	cmpOut, err := cmp.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(cmpOut), "regressed: demand-zero/kshim_guest") {
		t.Errorf("faultlat --compare with a faster baseline: %v, want exit 1 naming demand-zero/kshim_guest:\n%s", err, cmpOut)
	}
	if len(doc.Classes) != len(flClasses) {
		t.Fatalf("%d classes, want %d", len(doc.Classes), len(flClasses))
	}
	positive := func(d *latDist) bool {
		return d != nil && d.N > 0 && d.P50 > 0 && d.P90 >= d.P50 && d.P99 >= d.P90 && d.Max >= d.P99
	}
	for _, c := range doc.Classes {
		if !positive(c.NativeGuest) {
			t.Errorf("%s: native %+v (absent: %v)", c.Class, c.NativeGuest, c.Absent)
		}
		if c.KshimGuest == nil && c.Absent["kshim"] == "" {
			t.Errorf("%s: kshim neither measured nor absent with a reason", c.Class)
		}
		switch c.Class {
		case "demand-zero", "protection-signal", "stack-growth":
			if !positive(c.KshimGuest) || !positive(c.KshimVMM) {
				t.Errorf("%s: kshim guest %+v, VMM %+v (absent: %v)", c.Class, c.KshimGuest, c.KshimVMM, c.Absent)
			}
		case "population":
			if !positive(c.KshimGuest) {
				t.Errorf("%s: kshim guest %+v (absent: %v)", c.Class, c.KshimGuest, c.Absent)
			}
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("no PNG plot: %v", err)
	}
	if err := exec.Command(bin, "faultlat", "--n", "5", "--images", images, "--plot", svg).Run(); err != nil {
		t.Errorf("faultlat --plot svg: %v", err)
	} else if st, err := os.Stat(svg); err != nil || st.Size() == 0 {
		t.Errorf("no SVG plot: %v", err)
	}
}
