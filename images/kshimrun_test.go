package images

// kshimrun_test.go: starting kshim from a test, in the two ways the tests
// need: runKshim runs it to the end under a timeout with its stderr in a
// file (the stress and fuzz runs), startGuest starts it and lets the test
// talk to the guest while it runs (its stdin a pipe the test holds open,
// its stdout read as it comes, its stderr kept) until finish. Both start
// kshim the same way (kshimCommand): baseEnv, in a session of its own (a
// hostile guest must not reach the developer's terminal), killed when its
// timeout passes.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kshimCommand is argv (kshim first) to run in dir, ended by ctx.
func kshimCommand(ctx context.Context, argv []string, dir string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = baseEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// stressRun is one kshim run's outcome.
type stressRun struct {
	argv       []string
	stdout     []byte
	stderrPath string
	stderr     []byte // head of stderr (up to 64 KiB)
	exit       int
	sig        syscall.Signal
	timedOut   bool
	err        error
	elapsed    time.Duration
}

// runKshim runs argv (kshim first) in dir with stderr to a file in tmp, and
// kills it after timeout.
func runKshim(argv []string, dir, tmp, tag string, timeout time.Duration) stressRun {
	r := stressRun{argv: argv, stderrPath: filepath.Join(tmp, tag+".stderr")}
	errf, err := os.Create(r.stderrPath)
	if err != nil {
		r.err = err
		return r
	}
	defer errf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := kshimCommand(ctx, argv, dir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = errf
	start := time.Now()
	err = cmd.Run()
	r.elapsed = time.Since(start)
	r.stdout = out.Bytes()
	if b, e := readHead(r.stderrPath, 64<<10); e == nil {
		r.stderr = b
	}
	switch {
	case ctx.Err() != nil:
		r.timedOut = true
	case cmd.ProcessState == nil:
		r.err = err
	default:
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.sig = ws.Signal()
		} else {
			r.exit = ws.ExitStatus()
		}
	}
	return r
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := f.Read(b)
	if m > 0 {
		err = nil
	}
	return b[:m], err
}

// liveGuest is kshim running a guest the test talks to (startGuest).
type liveGuest struct {
	t      *testing.T
	cmd    *exec.Cmd
	ctx    context.Context
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	done   bool
}

// startGuest starts argv (kshim first) with runTimeout; the guest's stdin
// stays open until finish. The run is ended (killed if need be) when the
// test ends.
func startGuest(t *testing.T, argv ...string) *liveGuest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	g := &liveGuest{t: t, ctx: ctx, cmd: kshimCommand(ctx, argv, "")}
	var err error
	if g.stdin, err = g.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.stdout = bufio.NewReader(out)
	g.cmd.Stderr = &g.stderr
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !g.done {
			g.stdin.Close()
			g.cmd.Wait()
		}
		cancel()
	})
	return g
}

// pid is kshim's process id.
func (g *liveGuest) pid() int { return g.cmd.Process.Pid }

// readUntil reads the guest's stdout up to and including the first line
// that is marker, and returns all it read; at the end of stdout first, it
// fails the test.
func (g *liveGuest) readUntil(marker string) string {
	g.t.Helper()
	var out strings.Builder
	for {
		line, err := g.stdout.ReadString('\n')
		out.WriteString(line)
		if line == marker+"\n" {
			return out.String()
		}
		if err != nil {
			g.t.Fatalf("guest: %v before %q; stdout %q, stderr:\n%s", err, marker, out.String(), g.stderr.String())
		}
	}
}

// finish closes the guest's stdin and returns the rest of its stdout and
// kshim's exit (an *exec.ExitError for a non-zero status; a timeout fails
// the test).
func (g *liveGuest) finish() (string, error) {
	g.t.Helper()
	g.stdin.Close()
	rest, _ := io.ReadAll(g.stdout)
	err := g.cmd.Wait()
	g.done = true
	if g.ctx.Err() != nil {
		g.t.Fatalf("kshim did not end within %v; stderr:\n%s", runTimeout, g.stderr.String())
	}
	return string(rest), err
}
