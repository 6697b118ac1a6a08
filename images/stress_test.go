package images

// stress_test.go: many tasks ending at once (images/exit_race.c and the Go
// guests), run again and again. What is checked is kshim itself: it must
// never crash (a Go panic or fatal error on its stderr), never stop with a
// VMM error (status 125, "kshim: ..."), never hang (a timeout per run), and
// must report the status and output the guest chose.
//
// Variants that hit a known kshim bug are listed with the bug (known) and
// left out of the default set, so `make test` stays green; they run when
// named. Knobs (environment):
//
//	KSHIM_STRESS_RUNS=N          runs of each variant (default 4)
//	KSHIM_STRESS_VARIANTS=a,b    variants to run; "all" for every one,
//	                             known bugs included (default: those
//	                             without a known bug and not slow)
//	KSHIM_STRESS_TIMEOUT=60s     limit for one run
//
// `make stress-long RUNS=1000` runs every variant 1000 times. A failure
// names the variant, the run and the command line, and shows the head of
// kshim's stderr (each run's stderr goes to a file under t.TempDir()); a
// long run keeps going after a failure and reports each distinct kind of
// failure once, with how often it happened.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type stressVariant struct {
	name      string
	bin       string // in build/images
	args      []string
	kshimArgs []string
	exit      int    // expected guest exit status
	stdout    string // expected stdout, exactly
	parallel  int    // kshim instances started at once (load); 0 means 1
	// native: the expected exit status and stdout are a native run's
	// (for programs safe to run natively, which exit_race forkexit is
	// not: its orphans outlive it).
	native bool
	// slow: too slow for `make test` (runs when named, or "all").
	slow bool
	// known names a kshim bug this variant triggers (first seen, what it
	// looks like); such a variant is not run unless named.
	known string
}

var stressVariants = []stressVariant{
	// The first process returns while its children run: with
	// --orphans=kill the machine is torn down under them.
	{name: "forkexit", bin: "exit_race", args: []string{"forkexit", "40", "2", "1"},
		kshimArgs: []string{"--orphans=kill"}, stdout: "forkexit done\n", slow: true},
	{name: "forkexit_small", bin: "exit_race", args: []string{"forkexit", "8", "1", "0"},
		kshimArgs: []string{"--orphans=kill"}, stdout: "forkexit done\n"},
	// The same with the orphans waited for: they end on their own (1 s).
	{name: "forkexit_wait", bin: "exit_race", args: []string{"forkexit", "16", "1", "1", "1"},
		stdout: "forkexit done\n"},
	{name: "groupexit", bin: "exit_race", args: []string{"groupexit", "6", "6"},
		stdout: "groupexit done\n"},
	{name: "forkthreads", bin: "exit_race", args: []string{"forkthreads", "12", "3"},
		stdout: "forkthreads done\n"},
	// slow: 100 spinning vCPUs on a small host make thread creation
	// itself slow (each new locked thread waits for a P).
	{name: "execthreads", bin: "exit_race", args: []string{"execthreads", "100"},
		stdout: "exec ok\n", slow: true},
	{name: "execthreads_few", bin: "exit_race", args: []string{"execthreads", "4"},
		stdout: "exec ok\n"},
	// Threads writing their memory while another forks: kshim lost
	// writes there (fork_race.c says how).
	{name: "forkwrite", bin: "fork_race", args: []string{"200"}, stdout: "fork_race ok\n", native: true},
	// Heavier (300 rounds, 5 writers), for `make stress-long`: a
	// copy-on-write fault freed the frame it copied before the other
	// vCPUs stopped reading it through the old entry, and a fork child
	// exiting then zeroed it (6 runs in 120 before, 0 in 120 after).
	{name: "forkwrite_heavy", bin: "fork_race", args: []string{"300", "5"}, stdout: "fork_race ok\n",
		native: true, slow: true},
	{name: "go_gcpressure_x2", bin: "go_gcpressure", parallel: 2, native: true, slow: true},
	{name: "go_goroutines_x2", bin: "go_goroutines", parallel: 2, native: true},
}

// kshimFailure says what is wrong with kshim in run r, or "" when kshim
// behaved (whatever the guest did). The result's first line is its kind,
// used to group a long run's failures.
func kshimFailure(r stressRun) string {
	s := string(r.stderr)
	switch {
	case r.err != nil:
		return "could not run kshim: " + r.err.Error()
	case r.timedOut:
		return "hang: kshim did not exit before the timeout"
	case r.sig != 0:
		return fmt.Sprintf("kshim itself killed by signal %v", r.sig)
	}
	if m := goCrashRE.FindStringIndex(s); m != nil {
		line := s[m[0]:]
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		return "kshim crashed: " + normalizeCrash(line)
	}
	if r.exit == 125 {
		return "VMM error (exit status 125): " + normalizeCrash(vmmErrorLine(s))
	}
	for _, m := range vmmErrorMarkers {
		if strings.Contains(s, m) {
			return "VMM error message on stderr: " + normalizeCrash(vmmErrorLine(s))
		}
	}
	return ""
}

// goCrashRE matches the start of a Go runtime crash report.
var goCrashRE = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|SIGSEGV: |unexpected signal)`)

// vmmErrorMarkers are the VMM's wordings for a machine it gave up on
// (vmm/run.go).
var vmmErrorMarkers = []string{"unexpected KVM exit", "triple fault", "in the shim at rip", "KVM internal error",
	"task stopped: killing it"}

func vmmErrorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "kshim: ") && !strings.HasSuffix(l, "Killed") && !strings.Contains(l, "fault") {
			return l
		}
	}
	for _, l := range strings.Split(s, "\n") {
		for _, m := range vmmErrorMarkers {
			if strings.Contains(l, m) {
				// logrus lines: keep the message and error, not the time.
				if i := strings.Index(l, "msg="); i >= 0 {
					l = l[i:]
				}
				return l
			}
		}
	}
	return "(no kshim: line)"
}

var hexRE = regexp.MustCompile(`0x[0-9a-f]+|\b\d{3,}\b`)

// normalizeCrash drops addresses and numbers so that one bug is one kind.
func normalizeCrash(l string) string {
	return hexRE.ReplaceAllString(l, "N")
}

// stressFailures groups failures by kind for the final report.
type stressFailures struct {
	mu    sync.Mutex
	kinds map[string]*failureKind
}

type failureKind struct {
	count int
	first string // description of the first occurrence
}

func (f *stressFailures) add(kind, detail string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.kinds == nil {
		f.kinds = map[string]*failureKind{}
	}
	k := f.kinds[kind]
	if k == nil {
		k = &failureKind{first: detail}
		f.kinds[kind] = k
	}
	k.count++
}

func (f *stressFailures) report(t *testing.T, total int) {
	t.Helper()
	var names []string
	for k := range f.kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Errorf("%d of %d runs: %s\nfirst occurrence:\n%s", f.kinds[k].count, total, k, f.kinds[k].first)
	}
}

// describeRun is what a failure report shows of run r.
func describeRun(r stressRun) string {
	return fmt.Sprintf("  command: %s\n  status: %s after %v\n  stderr (%s), head:\n%s",
		shellQuote(r.argv), runStatus(r), r.elapsed.Round(time.Millisecond), r.stderrPath, indent(headLines(r.stderr, 40)))
}

func runStatus(r stressRun) string {
	switch {
	case r.timedOut:
		return "timed out"
	case r.err != nil:
		return "error: " + r.err.Error()
	case r.sig != 0:
		return fmt.Sprintf("killed by signal %v", r.sig)
	}
	return fmt.Sprintf("exit status %d", r.exit)
}

func headLines(b []byte, n int) string {
	if len(b) == 0 {
		return "(empty)"
	}
	l := strings.SplitAfter(string(b), "\n")
	if len(l) > n {
		l = append(l[:n], fmt.Sprintf("... (%d more lines in the file)\n", len(l)-n))
	}
	return strings.Join(l, "")
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ")
}

func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}();&|<>") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// envInt reads a positive integer knob, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration such as 60s", name, v)
	}
	return d
}

// selectedStress returns the variants to run: those named in
// KSHIM_STRESS_VARIANTS ("all": every one), else those without a known bug
// that are quick enough for `make test`.
func selectedStress(t *testing.T) []stressVariant {
	t.Helper()
	v := os.Getenv("KSHIM_STRESS_VARIANTS")
	if v == "" {
		var out []stressVariant
		for _, s := range stressVariants {
			if s.known == "" && !s.slow {
				out = append(out, s)
			}
		}
		return out
	}
	if v == "all" {
		return stressVariants
	}
	var out []stressVariant
	for _, name := range strings.Split(v, ",") {
		found := false
		for _, s := range stressVariants {
			if s.name == strings.TrimSpace(name) {
				out, found = append(out, s), true
			}
		}
		if !found {
			var all []string
			for _, s := range stressVariants {
				all = append(all, s.name)
			}
			t.Fatalf("KSHIM_STRESS_VARIANTS: no variant %q (have: %s)", name, strings.Join(all, ", "))
		}
	}
	return out
}

// TestStress runs each selected variant KSHIM_STRESS_RUNS times.
func TestStress(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	runs := envInt(t, "KSHIM_STRESS_RUNS", 4)
	timeout := envDuration(t, "KSHIM_STRESS_TIMEOUT", 60*time.Second)
	for _, v := range selectedStress(t) {
		t.Run(v.name, func(t *testing.T) {
			prog := filepath.Join(dir, v.bin)
			requireFile(t, prog)
			if v.known != "" {
				t.Logf("known kshim bug: %s", v.known)
			}
			if v.native {
				nat := run([]string{prog}, baseEnv, "")
				if nat.timedOut || nat.err != nil || nat.sig != 0 {
					t.Fatalf("native run of %s: %s", prog, nat.status())
				}
				v.exit, v.stdout = nat.exit, string(nat.stdout)
			}
			tmp := t.TempDir()
			argv := append(append(append([]string{kshim, "run"}, v.kshimArgs...), prog), v.args...)
			par := max(1, v.parallel)
			var fails stressFailures
			var slowest time.Duration
			for i := 0; i < runs; i++ {
				var wg sync.WaitGroup
				res := make([]stressRun, par)
				for j := 0; j < par; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						res[j] = runKshim(argv, tmp, tmp, fmt.Sprintf("run%d.%d", i, j), timeout)
					}()
				}
				wg.Wait()
				for j, r := range res {
					slowest = max(slowest, r.elapsed)
					kind := kshimFailure(r)
					if kind == "" && (r.exit != v.exit || string(r.stdout) != v.stdout) {
						kind = fmt.Sprintf("guest status or output wrong: %s, stdout %q; want exit status %d, stdout %q",
							runStatus(r), clipString(string(r.stdout), 200), v.exit, v.stdout)
					}
					if kind != "" {
						fails.add(kind, fmt.Sprintf("  run %d.%d of variant %s\n%s", i, j, v.name, describeRun(r)))
						continue
					}
					// Keep the disk tidy over long runs: only failing
					// runs keep their stderr.
					os.Remove(r.stderrPath)
				}
			}
			t.Logf("%d runs (x%d at once), slowest %v", runs, par, slowest.Round(time.Millisecond))
			fails.report(t, runs*par)
		})
	}
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
