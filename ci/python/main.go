// Command python (`make test-python`) runs CPython's own regression tests
// (Debian's libpython3.11-testsuite, `python3 -m test`) natively and under
// `kshim run`, and fails unless every test case that passes natively also
// passes under kshim, except those listed in the exceptions file with a
// reason. It is a real project's test suite as an oracle for kshim: the
// modules in the tests file exercise files, sockets, processes, signals,
// threads, memory maps and timers the way an ordinary program does.
//
// Invariants:
//   - Both sides run the same command (the interpreter, regrtest's
//     arguments, the environment, a fresh working directory of the same
//     shape) as the same identity: when started as root, kshim runs its
//     guest as 65534:65534, so the native side drops to that identity too,
//     in a network namespace of its own with only loopback up (what kshim's
//     default --net private gives its guest). The native side is the
//     oracle; nothing is compared against a fixed answer.
//   - Cases are compared one by one from regrtest's JUnit report (test id
//     -> passed, skipped, failed, error). A module whose worker crashed or
//     timed out has no cases in the report: every case that passed
//     natively counts as not passed.
//   - A case that passed natively and not under kshim is run once more
//     under kshim on its own (load on the shared CI box makes some timing
//     tests flaky on either side); it fails the run only if it fails again
//     and is not an exception. Retried cases are reported.
//   - An exception whose reason starts with "not run:" is not run under
//     kshim at all (regrtest --ignore): for cases whose cost, not their
//     result, is the problem (thousands of forks); it still counts as an
//     exception, and natively it runs as every case does.
//   - The exit status is 0 only if both runs completed and nothing but
//     listed exceptions was lost; stale exceptions (passing now) are
//     reported, not failed, so a fix is not held back by the list.
package main

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/net"
)

var (
	kshim      = flag.String("kshim", "bin/kshim", "kshim binary")
	python     = flag.String("python", "/usr/bin/python3", "interpreter (its test package is the suite)")
	testsFile  = flag.String("tests", "ci/python/tests", "file listing the regrtest modules to run")
	exceptFile = flag.String("exceptions", "ci/python/exceptions", "file listing cases allowed to fail under kshim, with reasons")
	jobs       = flag.Int("j", 2, "regrtest worker processes (-j) on each side")
	perTest    = flag.Duration("test-timeout", 20*time.Minute, "regrtest's per-module timeout")
	overall    = flag.Duration("timeout", 40*time.Minute, "limit for each side's whole run")
	keep       = flag.Bool("keep", false, "keep the working directories (printed)")
	only       = flag.String("only", "", "comma-separated modules to run instead of the tests file")
)

// nativeChild is argv[1] of the re-executed harness that runs the native
// side: it is started as root in a new network namespace, brings loopback
// up, drops to the guest identity and execs the interpreter.
const nativeChild = "-native-child"

// guestUID is the identity kshim gives its guest when started as root
// (sandbox.Nobody); otherwise both sides run as the caller.
const guestUID = 65534

func main() {
	if len(os.Args) > 1 && os.Args[1] == nativeChild {
		runNativeChild(os.Args[2], os.Args[3:])
		return
	}
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "test-python:", err)
		os.Exit(1)
	}
}

func run() error {
	modules, err := readList(*testsFile)
	if err != nil {
		return err
	}
	if *only != "" {
		modules = strings.Split(*only, ",")
	}
	exceptions, err := readExceptions(*exceptFile)
	if err != nil {
		return err
	}
	k, err := filepath.Abs(*kshim)
	if err != nil {
		return err
	}

	fmt.Printf("test-python: %d modules, %s, -j%d\n", len(modules), *python, *jobs)
	start := time.Now()
	native, err := side("native", modules, nil, nil, k)
	if err != nil {
		return err
	}
	fmt.Printf("native: %s in %s\n", native.summary(), time.Since(start).Round(time.Second))
	start = time.Now()
	var notRun []string
	for id, why := range exceptions {
		if strings.HasPrefix(why, "not run:") {
			notRun = append(notRun, id)
		}
	}
	sort.Strings(notRun)
	guest, err := side("kshim", modules, nil, notRun, k)
	if err != nil {
		return err
	}
	fmt.Printf("kshim:  %s in %s\n", guest.summary(), time.Since(start).Round(time.Second))

	// Cases that passed natively and not under kshim.
	var lost []string
	for id, r := range native.cases {
		if _, ok := guest.cases[id]; !ok {
			guest.cases[id] = missing
		}
		if r == passed && guest.cases[id] != passed {
			lost = append(lost, id)
		}
	}
	sort.Strings(lost)
	var retry []string
	for _, id := range lost {
		if _, ok := exceptions[id]; !ok {
			retry = append(retry, id)
		}
	}
	retried := map[string]result{}
	if len(retry) > 0 {
		fmt.Printf("kshim: %d cases passed natively but not under kshim; running them again\n", len(retry))
		again, err := side("kshim-retry", modulesOf(retry), retry, nil, k)
		if err != nil {
			return err
		}
		for _, id := range retry {
			r, ok := again.cases[id]
			if !ok {
				r = missing
			}
			retried[id] = r
		}
	}

	failed := 0
	for _, id := range lost {
		if why, ok := exceptions[id]; ok {
			fmt.Printf("  exception %s: %s under kshim (%s)\n", id, guest.cases[id], why)
			continue
		}
		if retried[id] == passed {
			fmt.Printf("  flaky     %s: %s under kshim, passed on retry\n", id, guest.cases[id])
			continue
		}
		fmt.Printf("  FAIL      %s: %s under kshim, %s on retry: %s\n", id, guest.cases[id], retried[id], guest.why[id])
		failed++
	}
	for id := range exceptions {
		if native.cases[id] == passed && guest.cases[id] == passed {
			fmt.Printf("  stale exception %s: passes under kshim now\n", id)
		}
	}
	for _, m := range guest.broken {
		fmt.Printf("  kshim: module %s did not finish (no cases reported)\n", m)
	}
	np := native.count(passed)
	fmt.Printf("test-python: native passed %d of %d cases; kshim passed %d, %d listed exceptions\n",
		np, len(native.cases), guest.count(passed), len(lost)-len(retry))
	fmt.Printf("test-python: %d passed, %d failed\n", np-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d cases pass natively but not under kshim", failed)
	}
	return nil
}

// result is a test case's outcome in a JUnit report.
type result string

const (
	passed  result = "passed"
	skipped result = "skipped"
	failure result = "failed"
	errored result = "error"
	missing result = "not run"
)

// outcome is one side's run.
type outcome struct {
	cases  map[string]result
	why    map[string]string // a failed case's message, from the report
	broken []string          // modules with no case in the report
}

func (o outcome) count(r result) int {
	n := 0
	for _, c := range o.cases {
		if c == r {
			n++
		}
	}
	return n
}

func (o outcome) summary() string {
	return fmt.Sprintf("%d cases: %d passed, %d skipped, %d failed, %d errors",
		len(o.cases), o.count(passed), o.count(skipped), o.count(failure), o.count(errored))
}

// side runs regrtest over modules natively ("native") or under kshim,
// limited to the cases in match when it is not empty and without those in
// ignore, and reads its JUnit report. regrtest's own exit status is not used: failing cases are in the
// report, and a run that wrote none is an error.
func side(name string, modules, match, ignore []string, kshimBin string) (outcome, error) {
	// A short name, the same length on both sides: some cases build
	// AF_UNIX paths from the working directory, the pid and non-ASCII
	// names and skip themselves past sun_path's 108 bytes
	// (test_socket's testSurrogateescapeBind), so a longer prefix on one
	// side (or pids of more digits) turned a pass into a skip.
	dir, err := os.MkdirTemp("", "kpy"+name[:1])
	if err != nil {
		return outcome{}, err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Printf("%s: working directory %s\n", name, dir)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return outcome{}, err
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(dir, guestUID, guestUID); err != nil {
			return outcome{}, err
		}
	}
	report := filepath.Join(dir, "junit.xml")
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	regr := []string{*python, "-m", "test", fmt.Sprintf("-j%d", *jobs), "--timeout", fmt.Sprint(int(perTest.Seconds())), "--junit-xml", report}
	for _, m := range match {
		regr = append(regr, "--match", m)
	}
	for _, m := range ignore {
		regr = append(regr, "--ignore", m)
	}
	regr = append(regr, modules...)

	var cmd *exec.Cmd
	if strings.HasPrefix(name, "native") {
		self, err := os.Executable()
		if err != nil {
			return outcome{}, err
		}
		if root {
			cmd = exec.Command(self, append([]string{nativeChild, fmt.Sprint(guestUID)}, regr...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
		} else {
			cmd = exec.Command(regr[0], regr[1:]...)
		}
	} else {
		args := []string{"run", "--rw", "--timeout", overall.String(), "--clear-env"}
		for _, e := range env {
			args = append(args, "--env", e)
		}
		cmd = exec.Command(kshimBin, append(append(args, "--"), regr...)...)
	}
	cmd.Dir, cmd.Env = dir, env
	logf, err := os.Create(filepath.Join(os.TempDir(), "kshim-python-"+name+".log"))
	if err != nil {
		return outcome{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return outcome{}, err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(*overall + time.Minute):
		cmd.Process.Kill()
		err = <-done
		fmt.Printf("%s: killed after %s\n", name, *overall+time.Minute)
	}
	fmt.Printf("%s: regrtest %v; log %s\n", name, exitText(err), logf.Name())
	cases, why, err := readReport(report)
	if err != nil {
		return outcome{}, fmt.Errorf("%s: %v (see %s)", name, err, logf.Name())
	}
	o := outcome{cases: cases, why: why}
	for _, m := range modules {
		found := false
		for id := range cases {
			if strings.HasPrefix(id, "test."+m+".") {
				found = true
				break
			}
		}
		if !found && len(match) == 0 {
			o.broken = append(o.broken, m)
		}
	}
	return o, nil
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// runNativeChild runs in the new network namespace as root: loopback up,
// then the guest's identity (one group), then exec.
func runNativeChild(uid string, argv []string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "test-python native:", err)
		os.Exit(1)
	}
	if err := net.LoopbackUp(); err != nil {
		fail(err)
	}
	var id int
	if _, err := fmt.Sscan(uid, &id); err != nil {
		fail(err)
	}
	// With CGO off the Go runtime applies these to every thread.
	if err := unix.Setgroups([]int{id}); err != nil {
		fail(err)
	}
	if err := unix.Setresgid(id, id, id); err != nil {
		fail(err)
	}
	if err := unix.Setresuid(id, id, id); err != nil {
		fail(err)
	}
	fail(syscall.Exec(argv[0], argv, os.Environ()))
}

// readReport reads regrtest's JUnit XML: <testsuites><testsuite><testcase
// name="test.test_os.Class.method"> with a <skipped>, <failure> or <error>
// child (its text the traceback), or none when the case passed.
func readReport(path string) (map[string]result, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	type text struct {
		Message string `xml:"message,attr"`
		Body    string `xml:",chardata"`
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Skipped *text  `xml:"skipped"`
				Failure *text  `xml:"failure"`
				Error   *text  `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	cases, why := map[string]result{}, map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			r, t := passed, (*text)(nil)
			switch {
			case c.Error != nil:
				r, t = errored, c.Error
			case c.Failure != nil:
				r, t = failure, c.Failure
			case c.Skipped != nil:
				r, t = skipped, c.Skipped
			}
			// A case reported twice (subtests) keeps its worst result.
			if old, ok := cases[c.Name]; ok && old != passed {
				continue
			}
			cases[c.Name] = r
			if t != nil {
				why[c.Name] = lastLine(t.Message + "\n" + t.Body)
			}
		}
	}
	if len(cases) == 0 {
		return nil, nil, errors.New("no test cases in the report")
	}
	return cases, why, nil
}

// lastLine is the last non-empty line of a traceback: the exception.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// modulesOf returns the regrtest modules of case ids ("test.test_os.X.y").
func modulesOf(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		f := strings.Split(id, ".")
		if len(f) < 2 || seen[f[1]] {
			continue
		}
		seen[f[1]] = true
		out = append(out, f[1])
	}
	return out
}

// readList reads one name a line; '#' starts a comment.
func readList(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if f := strings.Fields(line); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out, nil
}

// readExceptions reads "CASE-ID reason..." lines; every entry needs a
// reason.
func readExceptions(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		id, why, _ := strings.Cut(line, " ")
		if strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason", path, n+1, id)
		}
		out[id] = strings.TrimSpace(why)
	}
	return out, nil
}
