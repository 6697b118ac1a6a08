// busybox_test.go: the busybox corpus. Every images/busybox/*.sh is run as
// `/bin/busybox sh SCRIPT TMPDIR` natively and as `kshim run --rw
// /bin/busybox sh SCRIPT TMPDIR` under kshim, and stdout, stderr and exit
// status are compared byte for byte (diff_test.go's compare). Native Linux
// is the oracle.
//
// The scripts (see images/busybox/README.md) write only inside TMPDIR, a
// fresh directory per run, and print paths relative to it only; the native
// and the kshim run get directories whose paths have the same length. The
// program is Debian's busybox-static (`make deps` installs it); without it
// the tests skip with a message saying so.
package images

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// busyboxBin is Debian's busybox-static. The scripts run the same binary
// natively and under kshim.
const busyboxBin = "/bin/busybox"

// knownBusyboxGaps are the scripts kshim does not run as Linux does yet,
// with the reason. Such a script must still differ: once it matches, the
// test fails so the entry is removed and the script guards the fix.
var knownBusyboxGaps = map[string]string{}

// busyboxScripts returns the corpus's scripts by name (without .sh), with
// their absolute paths.
func busyboxScripts(t *testing.T) (names []string, path map[string]string) {
	t.Helper()
	dir, err := filepath.Abs("busybox")
	if err != nil {
		t.Fatal(err)
	}
	dir = reachableDir(t, dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts in %s", dir)
	}
	path = map[string]string{}
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".sh")
		names = append(names, n)
		path[n] = f
	}
	sort.Strings(names)
	for n := range knownBusyboxGaps {
		if path[n] == "" {
			t.Errorf("knownBusyboxGaps names %q, which is not in the corpus", n)
		}
	}
	return names, path
}

func requireBusybox(t *testing.T) {
	t.Helper()
	st, err := os.Stat(busyboxBin)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Skipf("%s is missing or not executable: install Debian's busybox-static (`make deps`) to run the busybox corpus", busyboxBin)
	}
}

// scratch returns two fresh, empty directories whose paths have the same
// length (base/n and base/k), one per run of a script, owned by the user
// the scripts run as.
func scratch(t *testing.T) (native, guest string) {
	t.Helper()
	base := guestTempDir(t)
	native, guest = filepath.Join(base, "n"), filepath.Join(base, "k")
	for _, d := range []string{native, guest} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		chownTree(t, d)
	}
	return native, guest
}

// TestBusyboxNativeDeterministic runs every script natively twice: a script
// whose output varies between runs cannot be an oracle.
func TestBusyboxNativeDeterministic(t *testing.T) {
	requireBusybox(t)
	names, path := busyboxScripts(t)
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			d1, d2 := scratch(t)
			a := runNative([]string{busyboxBin, "sh", path[n], d1}, baseEnv, "")
			if a.timedOut || a.err != nil {
				t.Fatalf("native run: %s\nstderr:\n%s", a.status(), clip(a.stderr))
			}
			b := runNative([]string{busyboxBin, "sh", path[n], d2}, baseEnv, "")
			compare(t, "second native run", a, b, true)
		})
	}
}

// TestBusybox runs every script natively and under kshim and compares.
func TestBusybox(t *testing.T) {
	requireBusybox(t)
	kshim, _ := paths(t)
	requireFile(t, kshim)
	names, path := busyboxScripts(t)
	var mu sync.Mutex
	var pass, gaps, fail []string
	t.Cleanup(func() {
		t.Logf("busybox corpus: %d scripts run, %d pass, %d known gaps %v, %d fail %v",
			len(pass)+len(gaps)+len(fail), len(pass), len(gaps), gaps, len(fail), fail)
	})
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			t.Parallel()
			outcome := &fail
			defer func() {
				if !t.Failed() && outcome == &fail {
					outcome = &pass
				}
				mu.Lock()
				*outcome = append(*outcome, n)
				mu.Unlock()
			}()
			dn, dk := scratch(t)
			native := runNative([]string{busyboxBin, "sh", path[n], dn}, baseEnv, "")
			if native.timedOut || native.err != nil {
				t.Fatalf("native run: %s\nstderr:\n%s", native.status(), clip(native.stderr))
			}
			guest := run([]string{kshim, "run", "--rw", busyboxBin, "sh", path[n], dk}, baseEnv, "")
			if gap, ok := knownBusyboxGaps[n]; ok {
				if matches(native, guest) {
					t.Fatalf("listed as a known gap (%s) but now matches native: remove it from knownBusyboxGaps", gap)
				}
				outcome = &gaps
				t.Skipf("known gap, does not match native yet: %s", gap)
			}
			compare(t, "kshim", native, guest, false)
		})
	}
}
