package images

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuestOutOfMemory runs a program that touches 96 MiB in a 32 MiB
// guest: kshim must kill it like the OOM killer (SIGKILL, status 137) with
// one clear message, not crash, hang or exhaust the host.
func TestGuestOutOfMemory(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "mm_bulk")
	requireFile(t, prog)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kshim, "run", "--mem", "32M", prog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("timed out; stderr: %s", stderr.String())
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 137 {
		t.Fatalf("exit %v, want status 137 (killed); stderr: %s", err, stderr.String())
	}
	msg := stderr.String()
	if !strings.Contains(msg, "out of memory") || !strings.Contains(msg, "Killed") || strings.Contains(msg, "panic") {
		t.Fatalf("stderr does not say the guest ran out of memory and was killed:\n%s", msg)
	}
}
