package images

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunRelaysSignals: the signals a user sends `kshim run` reach its
// program as they would natively, not kshim. A kill of kshim's pid goes
// to the first process, whose handler runs (kshim still there after the
// guest waited with nothing else to end its wait: images/pause_term.c); a terminal's SIGINT goes to
// the guest's processes in kshim's group (the foreground job), so a shell
// waiting for its child ends with it, and kshim with the shell's status.
// A signal kshim was started ignoring (nohup's SIGHUP) the program starts
// ignoring too, as across an execve; kshim passes it on all the same, for
// a program that handles it.
func TestRunRelaysSignals(t *testing.T) {
	kshim, dir := paths(t)
	if _, err := os.Stat(busyboxBin); err != nil {
		t.Skipf("%s: %v (make deps installs busybox-static)", busyboxBin, err)
	}
	status := func(err error) (int, syscall.Signal) {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return 0, 0
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return -1, ws.Signal()
		}
		return ws.ExitStatus(), 0
	}
	// signalled runs argv under kshim and sends kshim sig once the
	// guest printed "ready" and wait passed: the rest of the guest's
	// stdout and kshim's exit.
	signalled := func(sig syscall.Signal, wait time.Duration, argv ...string) (*liveGuest, string, error) {
		g := startGuest(t, append([]string{kshim, "run"}, argv...)...)
		g.readUntil("ready")
		time.Sleep(wait)
		if err := syscall.Kill(g.pid(), sig); err != nil {
			t.Fatal(err)
		}
		out, err := g.finish()
		return g, out, err
	}

	// The guest waits with nothing but a signal to end the wait: kshim
	// must still be there to pass one on a while later.
	g, out, err := signalled(syscall.SIGTERM, 300*time.Millisecond, filepath.Join(dir, "pause_term"))
	if st, sig := status(err); out != "handled TERM\n" || st != 3 || sig != 0 {
		t.Errorf("SIGTERM to kshim: stdout %q, status %d, signal %v; want the guest's handler's line and its status 3; stderr:\n%s",
			out, st, sig, g.stderr.String())
	}

	// The sleep would hold the shell (and kshim) past the test's timeout.
	// A test started in the background by a shell ignores SIGINT, and so
	// would kshim and its guest (an ignored signal stays ignored across
	// exec, natively too): caught here, it is the default for kshim.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT)
	defer signal.Reset(syscall.SIGINT)
	g, out, err = signalled(syscall.SIGINT, 0, busyboxBin, "sh", "-c", "echo ready; sleep 1000; echo after")
	if st, sig := status(err); out != "" || st != 130 || sig != 0 || !strings.Contains(g.stderr.String(), "SIGINT") {
		t.Errorf("SIGINT to kshim: stdout %q, status %d, signal %v, stderr %q; want no more output, status 130 and kshim's line for the guest's death by SIGINT",
			out, st, sig, g.stderr.String())
	}

	// Started with SIGHUP ignored, as under nohup.
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	// Only SIGHUP's bit: of the others kshim can tell SIGINT's alone (a
	// test run may start ignoring more, which the program natively
	// inherits).
	hupIgnored := func(status string) string {
		for _, l := range strings.Split(status, "\n") {
			if m, ok := strings.CutPrefix(l, "SigIgn:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(m), 16, 64); err == nil {
					return strconv.FormatBool(n&1 != 0)
				}
			}
		}
		return "(no SigIgn line)"
	}
	nat, err := exec.Command(busyboxBin, "cat", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	g = startGuest(t, kshim, "run", busyboxBin, "cat", "/proc/self/status")
	out, err = g.finish()
	if err != nil || hupIgnored(out) != "true" || hupIgnored(string(nat)) != "true" {
		t.Errorf("started ignoring SIGHUP: the program ignores it: %s under kshim (%v), %s natively", hupIgnored(out), err, hupIgnored(string(nat)))
	}
	g, out, err = signalled(syscall.SIGHUP, 0, busyboxBin, "sh", "-c", "echo ready; sleep 0.3; echo after")
	if out != "after\n" || err != nil {
		t.Errorf("SIGHUP to kshim started ignoring it: stdout %q, %v; want the guest to go on to its end; stderr:\n%s", out, err, g.stderr.String())
	}
	// A program started ignoring SIGHUP may handle it all the same (a
	// daemon under nohup that reloads on it): kshim passes it on.
	g, out, err = signalled(syscall.SIGHUP, 0, filepath.Join(dir, "sighup_handler"))
	if out != "handled SIGHUP\n" || err != nil {
		t.Errorf("SIGHUP to kshim started ignoring it, the program handling it: stdout %q, %v; want its handler's line; stderr:\n%s", out, err, g.stderr.String())
	}
}

// TestRunSignalWithNoTarget: once the first process has ended and kshim
// waits for the processes it left (--orphans wait), a SIGTERM to kshim
// has no guest process to go to: kshim takes it itself and ends, as it
// did before it relayed signals, instead of losing it and running on
// (a supervisor's stop would have needed a SIGKILL).
func TestRunSignalWithNoTarget(t *testing.T) {
	kshim, _ := paths(t)
	if _, err := os.Stat(busyboxBin); err != nil {
		t.Skipf("%s: %v (make deps installs busybox-static)", busyboxBin, err)
	}
	g := startGuest(t, kshim, "run", busyboxBin, "sh", "-c", "sleep 1000 </dev/null >/dev/null 2>&1 & echo ready")
	g.readUntil("ready")
	// The shell may not have ended yet (kshim's own stdout stays open:
	// no end of file tells): a signal then still reaches it, and ends
	// it. Send again until kshim ends.
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-done:
			g.done = true
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
				t.Errorf("kshim with only an orphan left, sent SIGTERM: %v; want its death by SIGTERM; stderr:\n%s", err, g.stderr.String())
			}
			return
		case <-tick.C:
			_ = syscall.Kill(g.pid(), syscall.SIGTERM)
		case <-deadline:
			_ = g.cmd.Process.Kill()
			<-done
			g.done = true
			t.Fatalf("kshim with only an orphan left ran on for 10 s of SIGTERMs; stderr:\n%s", g.stderr.String())
		}
	}
}
