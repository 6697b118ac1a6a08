// probe.go: what confinement the host offers (`kshim info`).
package sandbox

import (
	"fmt"
	"os"
)

// Support is what the host kernel and kshim's own rights allow.
type Support struct {
	Seccomp     bool // seccomp filters (with TSYNC)
	LandlockABI int  // 0: no Landlock (the kernel lacks it or it is disabled)
	Root        bool // kshim runs as root: it will switch identity (--user)
}

// Probe looks without confining anything.
func Probe() Support {
	return Support{Seccomp: seccompSupported(), LandlockABI: LandlockABI(), Root: os.Geteuid() == 0}
}

func (s Support) String() string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	ll := "unavailable (file access not restricted)"
	if s.LandlockABI > 0 {
		ll = fmt.Sprintf("ABI %d", s.LandlockABI)
	}
	id := "no (keeps its identity, drops capabilities)"
	if s.Root {
		id = fmt.Sprintf("yes (switches to %d:%d unless --user)", Nobody.UID, Nobody.GID)
	}
	out := fmt.Sprintf("seccomp filter: %s (%d syscalls allowed)\nlandlock: %s\nrunning as root: %s\n",
		yes(s.Seccomp), AllowedCalls(), ll, id)
	if cgoEnabled {
		out += "built with cgo: confinement needs a CGO_ENABLED=0 build, so `kshim run` stops unless --no-sandbox\n"
	}
	return out
}
