// identity.go: the user kshim becomes and the capabilities it keeps.
//
// Invariants:
//   - Every change applies to all threads: setgroups/setresgid/setresuid
//     through the Go runtime (AllThreadsSyscall since Go 1.16, libc with
//     cgo), capset and prctl through psx (either way), or Begin's prctls
//     in one round of signals (execcaps.go).
//   - The bounding and ambient sets are cut first (cutExecCaps, which
//     Begin runs when kshim starts: they matter only to a later execve,
//     and set-up execs nothing that needs them), before the uid changes
//     (that needs CAP_SETPCAP, which a non-zero uid loses); then the
//     other sets are set exactly and read back: a mismatch is an error,
//     never a silent "mostly confined".
package sandbox

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/psx"
)

// fileCaps are what uid 0 keeps (--user 0:0): enough to act as root on
// files inside the guest's root (owners, modes, DAC), nothing about the
// host's processes, mounts, devices, modules or network.
var fileCaps = capMask(unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH,
	unix.CAP_FOWNER, unix.CAP_FSETID)

func capMask(caps ...int) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return m
}

var capNames = map[int]string{
	unix.CAP_CHOWN: "chown", unix.CAP_DAC_OVERRIDE: "dac_override", unix.CAP_DAC_READ_SEARCH: "dac_read_search",
	unix.CAP_FOWNER: "fowner", unix.CAP_FSETID: "fsetid",
}

func capString(m uint64) string {
	if m == 0 {
		return "none"
	}
	var s []string
	for c := 0; c < 64; c++ {
		if m&(1<<c) != 0 {
			if n, ok := capNames[c]; ok {
				s = append(s, n)
			} else {
				s = append(s, fmt.Sprintf("cap%d", c))
			}
		}
	}
	return strings.Join(s, ",")
}

// capSets is the calling thread's effective, permitted and inheritable
// sets.
func capSets() (eff, perm, inh uint64, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return 0, 0, 0, err
	}
	join := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	return join(d[0].Effective, d[1].Effective), join(d[0].Permitted, d[1].Permitted),
		join(d[0].Inheritable, d[1].Inheritable), nil
}

func allThreadsPrctl(option, arg2, arg3 uintptr) error {
	if _, _, e := psx.Syscall6(unix.SYS_PRCTL, option, arg2, arg3, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

func setNoNewPrivs() error { return allThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0) }

// keptCaps is what kshim keeps once confined as u (nil: who it is now):
// fileCaps (or those of them in only, when not nil) if the uid is 0, no
// capability otherwise.
func keptCaps(u *Identity, only []int) uint64 {
	uid := os.Geteuid()
	if u != nil {
		uid = u.UID
	}
	keep := uint64(0)
	if uid == 0 {
		keep = fileCaps
		if only != nil {
			keep &= capMask(only...)
		}
	}
	return keep
}

// cutExecCaps drops from the bounding set, on every thread, each
// capability not in keep (what any later exec could ever regain), when
// kshim may (CAP_SETPCAP), clears the ambient set and sets no_new_privs:
// in one round of signals (cutAllThreads, execcaps.go), or where that
// cannot start, with one all-threads call per capability (a stop of the
// world and a signal to every thread each). Either way it skips the
// capabilities the set already lacks: every thread has the same set,
// since kshim changes it only on all of them.
func cutExecCaps(keep uint64) error {
	eff, _, _, err := capSets()
	if err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	var drop uint64
	if eff&(1<<unix.CAP_SETPCAP) != 0 {
		for c := 0; c < 64; c++ {
			in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
			if err == unix.EINVAL {
				break // past the kernel's last capability
			}
			if err == nil && in == 0 {
				continue // not in the set: nothing to drop
			}
			if keep&(1<<c) == 0 {
				drop |= 1 << c
			}
		}
	}
	if err := cutAllThreads(drop); err != errNoOneRound {
		return err
	}
	for c := 0; c < 64; c++ {
		if drop&(1<<c) != 0 {
			if err := allThreadsPrctl(unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
			}
		}
	}
	if err := allThreadsPrctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clearing the ambient set: %w", err)
	}
	if err := setNoNewPrivs(); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return nil
}

// switchIdentity becomes u (nil: stays who it is) with supplementary
// groups groups, keeping only the capabilities in keep (keptCaps), once
// cutExecCaps(keep) has run.
func switchIdentity(u *Identity, groups []int, keep uint64, rep *Report) error {
	if u != nil {
		// The new gid and the groups asked for: none of root's groups
		// (or the caller's) carries over.
		if err := syscall.Setgroups(append([]int{u.GID}, groups...)); err != nil {
			return fmt.Errorf("--user %d:%d: setgroups: %w", u.UID, u.GID, err)
		}
		if err := syscall.Setresgid(u.GID, u.GID, u.GID); err != nil {
			return fmt.Errorf("--user %d:%d: setresgid: %w", u.UID, u.GID, err)
		}
		if err := syscall.Setresuid(u.UID, u.UID, u.UID); err != nil {
			return fmt.Errorf("--user %d:%d: setresuid: %w", u.UID, u.GID, err)
		}
	}
	// Effective = permitted = keep, inheritable empty, on every thread.
	// Leaving uid 0 has already emptied effective and permitted where
	// nothing is kept; every thread has the same sets (kshim changes them
	// only on all threads at once), so when this one's are right, so are
	// the others', and the all-threads capset (a signal to every thread)
	// is not needed. The sets are read back below either way.
	if eff, perm, inh, err := capSets(); err != nil || eff != keep || perm != keep || inh != 0 {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var d [2]unix.CapUserData
		d[0].Effective, d[0].Permitted = uint32(keep), uint32(keep)
		d[1].Effective, d[1].Permitted = uint32(keep>>32), uint32(keep>>32)
		if _, _, e := psx.Syscall3(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&d[0])), 0); e != 0 {
			return fmt.Errorf("capset: %w", e)
		}
	}
	eff, perm, inh, err := capSets()
	if err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	if eff != keep || perm != keep || inh != 0 {
		return fmt.Errorf("capabilities not dropped: effective %#x permitted %#x inheritable %#x", eff, perm, inh)
	}
	ru, eu, su := unix.Getresuid()
	rg, eg, sg := unix.Getresgid()
	if u != nil && (ru != u.UID || eu != u.UID || su != u.UID || rg != u.GID || eg != u.GID || sg != u.GID) {
		return fmt.Errorf("identity not switched: uids %d/%d/%d gids %d/%d/%d", ru, eu, su, rg, eg, sg)
	}
	rep.UID, rep.GID, rep.Caps = eu, eg, capString(keep)
	return nil
}
