// rlimit.go: the resource limits the guest starts with where they are not
// kshim's own (the guest's limits otherwise start as the VMM's: kernel's
// Process.Rlimit).
package vmm

import (
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// callerRlimits returns the guest's RLIMIT_NOFILE when the Go runtime
// raised kshim's: at start it sets the soft limit to the hard limit less
// one (its mark), where the user's shell had the caller's value, often
// 1024, which programs using select(2) rely on. The guest must see the
// caller's. A child started through os/exec gets the original back, so a
// shell child reports it. nil: nothing to change.
func callerRlimits() map[int]unix.Rlimit {
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) != nil || l.Max == 0 || l.Max == unix.RLIM_INFINITY || l.Cur != l.Max-1 {
		return nil
	}
	out, err := exec.Command("/bin/sh", "-c", "ulimit -Sn").Output()
	if err != nil {
		return nil
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || v >= l.Cur {
		return nil
	}
	return map[int]unix.Rlimit{unix.RLIMIT_NOFILE: {Cur: v, Max: l.Max}}
}
