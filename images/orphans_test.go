package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOrphansKill: with --orphans=kill the first process is a container's
// init: when it ends, the orphaned background job is killed before it
// writes (the default, --orphans=wait, lets it run on as Linux does: the
// busybox corpus's orphans script checks that against native).
func TestOrphansKill(t *testing.T) {
	kshim, _ := paths(t)
	if _, err := os.Stat(busyboxBin); err != nil {
		t.Skipf("%s: %v (make deps installs busybox-static)", busyboxBin, err)
	}
	script, err := filepath.Abs("busybox/orphans.sh")
	if err != nil {
		t.Fatal(err)
	}
	got := run([]string{kshim, "run", "--orphans=kill", busyboxBin, "sh", script, t.TempDir()}, baseEnv, "")
	if got.err != nil || got.timedOut || got.exit != 0 || string(got.stdout) != "script done\n" {
		t.Errorf("--orphans=kill: %s, stdout %q, stderr %q; want status 0 and only the script's line",
			got.status(), got.stdout, got.stderr)
	}
	bad := run([]string{kshim, "run", "--orphans=maybe", busyboxBin, "true"}, baseEnv, "")
	if bad.exit != 2 || !strings.Contains(string(bad.stderr), "--orphans") {
		t.Errorf("--orphans=maybe: %s, stderr %q; want status 2 and a line naming the flag", bad.status(), bad.stderr)
	}
}
