// bench_runner.go: the ways `kshim bench` runs a static program: natively,
// under kshim itself, and under the peers (qemu-user, gVisor's runsc with
// the ptrace platform). A peer that is missing or does not run a static
// hello correctly is absent, with the reason.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Runner names, in table order.
const (
	rNative = "native"
	rKshim  = "kshim"
	rQemu   = "qemu-user"
	rRunsc  = "runsc-ptrace"
	// rBaseline is `kshim bench --baseline BIN`: another kshim build.
	rBaseline = "kshim-baseline"
)

var peerNames = []string{rNative, rQemu, rRunsc}

type runner struct {
	name    string
	kshim   bool     // a kshim binary (`kshim run`: takes run flags)
	prefix  []string // command prefix; the program and its arguments follow
	version string   // version and how it is invoked
	absent  string   // why it cannot be used ("" when usable)
}

// runResult is one run of a program.
type runResult struct {
	stdout, stderr []byte
	wall           time.Duration
	err            error // nil when the program exited 0
}

const runTimeout = 3 * time.Minute

func (r *runner) run(prog string, args ...string) runResult {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	argv := append(append(append([]string{}, r.prefix...), prog), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = benchEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// An empty pipe, not the host's /dev/null: runsc do hands its stdio to
	// the sandbox's user by chowning them, which would leave /dev/null
	// owned by nobody.
	cmd.Stdin = strings.NewReader("")
	t0 := time.Now()
	err := cmd.Run()
	res := runResult{stdout: out.Bytes(), stderr: errb.Bytes(), wall: time.Since(t0), err: err}
	if ctx.Err() != nil {
		res.err = fmt.Errorf("timed out after %v", runTimeout)
	}
	return res
}

// reason is a one-line account of a failed run of prog.
func (rr runResult) reason(prog string) string {
	status := ""
	if rr.err != nil {
		status = rr.err.Error()
	}
	return failureReason(prog, string(rr.stderr), status)
}

// setupRunners returns the runners to use: kshim (this binary unless
// kshimBin is set), a baseline kshim binary when given, and the named
// peers, each checked by running hello.
func setupRunners(kshimBin, baseline string, peers []string, hello string) ([]*runner, error) {
	if kshimBin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		kshimBin = exe
	}
	rs := []*runner{}
	for _, p := range peers {
		if p == rNative {
			rs = append(rs, &runner{name: rNative, version: "the host kernel"})
		}
	}
	k := &runner{name: rKshim, kshim: true, prefix: []string{kshimBin, "run"}, version: kshimBin + " run"}
	rs = append(rs, k)
	if baseline != "" {
		// Another kshim build (say main's), interleaved with this one in
		// the same rounds: a before/after comparison under the same load.
		rs = append(rs, &runner{name: rBaseline, kshim: true, prefix: []string{baseline, "run"}, version: baseline + " run"})
	}
	for _, p := range peers {
		switch p {
		case rNative:
		case rQemu:
			rs = append(rs, probeQemu())
		case rRunsc:
			rs = append(rs, probeRunsc())
		default:
			return nil, fmt.Errorf("unknown peer %q (known: %s)", p, strings.Join(peerNames, ", "))
		}
	}
	want := (&runner{}).run(hello)
	for _, r := range rs {
		if r.absent != "" {
			continue
		}
		if msg := checkHello(r, hello, want); msg != "" {
			r.absent = msg
		}
	}
	return rs, nil
}

// checkHello runs the static hello under r and compares with its native
// output; it returns why r does not work, or "".
func checkHello(r *runner, hello string, want runResult) string {
	got := r.run(hello)
	if got.err != nil {
		return "does not run a static hello: " + got.reason("hello")
	}
	if want.err == nil && !bytes.Equal(got.stdout, want.stdout) {
		return fmt.Sprintf("static hello printed %q, natively %q", got.stdout, want.stdout)
	}
	return ""
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func probeQemu() *runner {
	r := &runner{name: rQemu}
	path, err := exec.LookPath("qemu-x86_64")
	if err != nil {
		r.absent = "qemu-x86_64 not in PATH (Debian package qemu-user not installed, or not in the configured apt sources)"
		return r
	}
	r.prefix = []string{path}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		r.absent = "qemu-x86_64 --version: " + err.Error()
		return r
	}
	r.version = firstLine(out)
	return r
}

// runscFlagSets are tried in order: as root no extra flag is needed;
// without root runsc wants --rootless, and where it cannot manage cgroups
// --ignore-cgroups.
var runscFlagSets = [][]string{nil, {"--ignore-cgroups"}, {"--rootless"}, {"--rootless", "--ignore-cgroups"}}

func probeRunsc() *runner {
	r := &runner{name: rRunsc}
	path, err := exec.LookPath("runsc")
	if err != nil {
		r.absent = "runsc not in PATH (Debian package runsc not installed, or not in the configured apt sources)"
		return r
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		r.absent = "runsc --version: " + err.Error()
		return r
	}
	ver := firstLine(out)
	var firstErr string
	for _, flags := range runscFlagSets {
		prefix := append([]string{path}, flags...)
		prefix = append(prefix, "--platform=ptrace", "--network=none", "do")
		res := (&runner{prefix: prefix}).run("/bin/true")
		if res.err == nil {
			r.prefix = prefix
			r.version = ver + " (" + strings.Join(prefix[1:], " ") + ")"
			return r
		}
		if firstErr == "" {
			firstErr = res.reason("runsc")
		}
	}
	r.absent = "runsc --platform=ptrace do fails: " + firstErr
	return r
}

// findBusybox returns a static busybox, or why there is none.
func findBusybox(path string) (string, error) {
	if path == "" {
		p, err := exec.LookPath("busybox")
		if err != nil {
			return "", errors.New("busybox not installed (Debian package busybox-static)")
		}
		path = p
	}
	out, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if bytes.Contains(out[:min(len(out), 4096)], []byte("/lib64/ld-linux")) {
		return "", fmt.Errorf("%s is dynamically linked (install busybox-static)", path)
	}
	return path, nil
}

// realProg is a real program a programBench runs: its command line, the
// kshim flags it needs, and its native output, which every runner must
// reproduce.
type realProg struct {
	argv       []string
	kshimFlags []string
	want       []byte
	absent     string
}

// findRealProg resolves the program of a programBench and runs it once
// natively for its reference output; absent says why it cannot be run.
func findRealProg(name, images string) *realProg {
	p := &realProg{}
	look := func(names ...string) string {
		for _, n := range names {
			if filepath.IsAbs(n) {
				if fi, err := os.Stat(n); err == nil && fi.Mode().IsRegular() {
					return n
				}
				continue
			}
			if path, err := exec.LookPath(n); err == nil {
				return path
			}
		}
		return ""
	}
	switch name {
	case "python3-pass":
		// The distribution's python3, not a version manager's shell shim.
		if py := look("/usr/bin/python3", "/usr/local/bin/python3"); py != "" {
			p.argv = []string{py, "-c", "pass"}
		} else {
			p.absent = "no python3 in /usr/bin or /usr/local/bin"
		}
	case "git-log":
		git := look("/usr/bin/git", "git")
		wd, _ := os.Getwd()
		top, err := exec.Command("git", "-C", wd, "rev-parse", "--show-toplevel").Output()
		switch {
		case git == "":
			p.absent = "git not installed"
		case err != nil:
			p.absent = "the bench's working directory is not in a git repository"
		default:
			p.argv = []string{git, "-c", "safe.directory=*", "-C", strings.TrimSpace(string(top)), "log", "--oneline"}
		}
	case "gcc-hello":
		gcc := look("/usr/bin/gcc", "gcc")
		if gcc == "" {
			p.absent = "gcc not installed"
			break
		}
		src := filepath.Join(os.TempDir(), "kshim-bench-hello.c")
		if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"), 0o644); err != nil {
			p.absent = err.Error()
			break
		}
		p.argv = []string{gcc, "-pipe", "-o", "/dev/null", src}
		p.kshimFlags = []string{"--rw"}
	case "go-goroutines":
		if g := filepath.Join(images, "go_goroutines"); exists(g) {
			p.argv = []string{g}
		} else {
			p.absent = g + " missing: run `make images`"
		}
	}
	if p.absent != "" {
		return p
	}
	res := (&runner{}).run(p.argv[0], p.argv[1:]...)
	if res.err != nil {
		p.absent = "fails natively: " + res.reason(filepath.Base(p.argv[0]))
	}
	p.want = res.stdout
	return p
}
