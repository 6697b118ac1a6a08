// sysfs_test.go: kshim's /sys (syscalls/proc/sysfs.go) against the host's.
package images

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestSysCPU runs sys_cpu natively and under kshim, byte for byte: the
// CPU counts glibc takes from /sys, sched_getaffinity's, the lists, and
// their modes. kshim's guest has CPUs 0..n-1 for the n host CPUs it may
// use, all online; a host whose own lists say otherwise (CPUs possible
// but offline, an affinity narrower than the online set) cannot be the
// oracle, and the test says so and skips.
func TestSysCPU(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "sys_cpu")
	requireFile(t, prog)
	want := "0"
	if n := runtime.NumCPU(); n > 1 {
		want = "0-" + strconv.Itoa(n-1)
	}
	for _, f := range []string{"online", "possible", "present"} {
		b, err := os.ReadFile("/sys/devices/system/cpu/" + f)
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Skipf("the host's %s is %q (%v), not its %d CPUs of affinity: no oracle for kshim's view",
				f, strings.TrimSpace(string(b)), err, runtime.NumCPU())
		}
	}
	native := runNative([]string{prog}, baseEnv, "")
	if native.timedOut || native.err != nil || native.exit != 0 {
		t.Fatalf("native: %s\n%s", native.status(), clip(native.stderr))
	}
	got := run([]string{kshim, "run", prog}, baseEnv, "")
	compare(t, "kshim", native, got, false)
	// The view under --root too (a root without /sys of its own).
	root := guestTempDir(t)
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sys_cpu"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	chownTree(t, root)
	got = run([]string{kshim, "run", "--root", root, filepath.Join(root, "sys_cpu")}, baseEnv, "")
	compare(t, "kshim --root", native, got, false)
}
