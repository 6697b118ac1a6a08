// Package sandbox confines the kshim process itself once its set-up is
// done (KVM, the VM, guest memory, the program and the guest's root are
// open), so that a bug in the personality that a guest manages to steer
// (a path that escapes, a forwarded call with a bad argument) meets the
// host kernel's own walls instead of kshim's full rights. It is the
// Firecracker-jailer / gVisor-Sentry idea for one process, in four layers,
// applied in this order by Apply (Begin does the first part of 1, and 2,
// as kshim starts; Finish the rest once set-up is done):
//
//  1. identity: when started as root, kshim becomes an unprivileged user
//     (--user, default 65534:65534) with one supplementary group and no
//     capabilities in any set (effective, permitted, inheritable, ambient,
//     bounding); --user 0:0 keeps uid 0 but only the file capabilities
//     needed to act as root on files inside the root (fileCaps).
//  2. no_new_privs on every thread (nothing kshim could exec gains rights).
//  3. Landlock (best effort, any ABI; the ruleset is built before the
//     identity switch, enforced after): kshim may open only the guest root
//     (read-only unless --rw), the host devices it serves, the files it
//     was handed as stdio, the program and /proc/cpuinfo.
//  4. a seccomp-BPF allowlist of the host calls kshim makes while serving
//     a guest (allowlist.go), installed with TSYNC on every thread; any
//     other call fails with EPERM.
//
// Invariants:
//   - Apply (or Begin, then Finish) runs once, Finish before any guest
//     instruction and before the guest's image is loaded. Between them
//     Prepare may build Landlock's ruleset on another goroutine (it
//     opens the rules' paths and confines nothing); it returns before
//     Finish starts, which enforces that ruleset only when made for the
//     same files, and closes it otherwise. Every later
//     thread inherits all four layers (they are per-thread kernel state
//     copied at clone, or synced by the kernel: setresuid/setgroups by the
//     Go runtime's AllThreadsSyscall, capabilities and prctls through psx
//     (Begin's in one round of signals, checked by one all-threads call:
//     execcaps.go), seccomp with TSYNC, Landlock with psx or TSYNC).
//     Only the bounding and ambient sets and no_new_privs come before
//     set-up ends (Begin), since they matter to nothing but a later
//     execve.
//   - A thread the kernel adds to kshim's thread group is no Go thread,
//     so the identity's all-threads calls miss it: KVM's NX huge page
//     recovery worker, made at a VM's first KVM_RUN, keeps the identity
//     of the thread that ran it (seen as uid 0 with every capability when
//     the probe ran before Finish). So no vCPU runs before Finish
//     (vmm/launch.go probes after it).
//   - The order is forced: capabilities can be dropped only while kshim
//     still has CAP_SETPCAP/CAP_SETUID (before the uid changes), and the
//     seccomp filter comes last because it refuses the calls the other
//     layers use (setresuid, capset, landlock_*, seccomp itself).
//   - Finish either confines completely or returns an error (kshim then
//     does not run the guest); only Landlock may be absent (an old kernel),
//     which Report says.
package sandbox

import (
	"fmt"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Identity is the user kshim runs as after set-up.
type Identity struct {
	UID, GID int
}

// Nobody is the default identity when kshim starts as root (Debian's
// nobody/nogroup).
var Nobody = Identity{UID: 65534, GID: 65534}

// Config is what to confine kshim to.
type Config struct {
	// Root is the guest's root directory on the host ("" or "/": the
	// host's /), Writable whether the guest may change it (--rw).
	Root     string
	Writable bool
	// Mounts are the host paths of the guest's mounts (syscalls'
	// MountRules): bind sources, and tmpfs roots as /proc/self/fd/N.
	Mounts []MountRule
	// Exe is the host path of the program kshim runs (the guest may reopen
	// it as /proc/self/exe; it may lie outside Root).
	Exe string
	// User is the identity to switch to; nil keeps the current one (all
	// capabilities are still dropped).
	User *Identity
	// Groups are supplementary groups beside User's GID (an OCI
	// process's additionalGids); none by default.
	Groups []int
	// FileCaps, when not nil, narrows the file capabilities uid 0 keeps
	// to those named here (an OCI process's effective set); nil keeps all
	// five.
	FileCaps []int
}

// MountRule is one mount's host path: a directory or a file, read-only
// unless Writable.
type MountRule struct {
	Path          string
	Writable, Dir bool
}

// Report says what Apply installed, for logs and `kshim info`.
type Report struct {
	UID, GID     int
	Caps         string // the capabilities kept ("none" normally)
	LandlockABI  int    // 0: Landlock unavailable, nothing restricted
	SeccompRules int    // syscalls on the allowlist
}

func (r Report) String() string {
	ll := "unavailable"
	if r.LandlockABI > 0 {
		ll = fmt.Sprintf("ABI %d", r.LandlockABI)
	}
	return fmt.Sprintf("uid %d gid %d, capabilities: %s, no_new_privs, landlock: %s, seccomp: %d syscalls allowed",
		r.UID, r.GID, r.Caps, ll, r.SeccompRules)
}

// DefaultUser is the identity kshim takes when --user is not given: Nobody
// when it runs as root, else nil (it keeps its own).
func DefaultUser() *Identity {
	if os.Geteuid() == 0 {
		id := Nobody
		return &id
	}
	return nil
}

// Pending is confinement Begin has started and Finish completes.
type Pending struct {
	keep uint64
	err  error // Begin's
	// ll is Landlock's ruleset as Prepare built it for the Config in
	// ll.c (nil: not prepared); Finish takes it.
	ll *preparedRuleset
}

type preparedRuleset struct {
	c     Config
	fd    int
	flags uint32
	err   error
}

// Begin confines the calling process for c with the part that may come
// before set-up ends: the bounding and ambient sets are cut and
// no_new_privs is set, on every thread. They limit only what a later
// execve could gain, and set-up execs nothing that needs them (a
// process whose set-up then fails just has less to exec with). It takes
// one signal per thread (execcaps.go) and one all-threads call to check
// them, which stops the world and signals every thread, so Begin belongs
// at the start, while kshim has the fewest threads. (The bounding set as
// one all-threads call per capability took ~3 ms here, and run in the
// background while set-up went on, the stops of the world slowed the
// set-up by more than they saved.) Finish does the rest.
func Begin(c Config) *Pending {
	p := &Pending{keep: keptCaps(c.User, c.FileCaps)}
	if cgoEnabled {
		return p // Finish refuses
	}
	p.err = cutExecCaps(p.keep) // no_new_privs too
	return p
}

// Apply confines the calling process for the rest of its life (see the
// package comment for the layers and their order): Begin and Finish at
// once.
func Apply(c Config) (*Report, error) { return Begin(c).Finish(c) }

// Prepare builds Landlock's ruleset for c ahead of Finish, on any
// goroutine, so that its path opens (~0.2 ms) overlap other set-up: it
// confines nothing yet. It must return before Finish is called (launch
// joins it first), and may run only while kshim still has its start-up
// identity, as Finish's own build does. Finish uses it when its Config
// names the same files (Root, Writable, Mounts, Exe), else builds anew.
func (p *Pending) Prepare(c Config) {
	if cgoEnabled || p.err != nil {
		return
	}
	// Things the Go runtime and logrus would otherwise open lazily,
	// after Landlock: the local time zone (logrus stamps each line).
	_ = time.Now().Local().String()
	r := &preparedRuleset{c: c}
	r.fd, r.flags, r.err = landlockRuleset(landlockRules(c))
	p.ll = r
}

// sameFiles says whether a and b make the same Landlock rules.
func sameFiles(a, b Config) bool {
	return a.Root == b.Root && a.Writable == b.Writable && a.Exe == b.Exe && slices.Equal(a.Mounts, b.Mounts)
}

// Finish confines the calling process, after Begin, with the rest of the
// layers for the rest of its life. c is Begin's Config with the
// set-up's results (Root, Mounts, Exe) filled in.
func (p *Pending) Finish(c Config) (*Report, error) {
	pre := p.ll
	p.ll = nil
	if pre != nil && pre.err == nil && !sameFiles(pre.c, c) {
		if pre.fd >= 0 {
			unix.Close(pre.fd)
		}
		pre = nil // built anew below, for c
	}
	if pre != nil && pre.err != nil {
		pre = nil // built anew below: its error, or a ruleset after all
	}
	if cgoEnabled {
		// The layers are made and tested for the Go runtime's own
		// threads and all-threads calls; glibc's threads need calls
		// the allowlist does not have, and its set*id path was seen
		// to leave the guest's access checks wrong.
		return nil, fmt.Errorf("sandbox: kshim was built with cgo; build it with CGO_ENABLED=0 (make build) or run with --no-sandbox")
	}
	if p.err != nil {
		return nil, fmt.Errorf("sandbox: %w", p.err)
	}
	if k := keptCaps(c.User, c.FileCaps); k != p.keep {
		if pre != nil && pre.fd >= 0 {
			unix.Close(pre.fd)
		}
		return nil, fmt.Errorf("sandbox: Finish for another identity than Begin's (capabilities %#x, begun with %#x)", k, p.keep)
	}
	var llfd int
	var llflags uint32
	if pre != nil {
		llfd, llflags = pre.fd, pre.flags
	} else {
		// Things the Go runtime and logrus would otherwise open lazily,
		// after Landlock: the local time zone (logrus stamps each line).
		_ = time.Now().Local().String()
		var err error
		if llfd, llflags, err = landlockRuleset(landlockRules(c)); err != nil {
			return nil, fmt.Errorf("sandbox: landlock: %w", err)
		}
	}
	rep := &Report{}
	if err := switchIdentity(c.User, c.Groups, p.keep, rep); err != nil {
		if llfd >= 0 {
			unix.Close(llfd)
		}
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	abi, err := enforceLandlock(llfd, llflags)
	if err != nil {
		return nil, fmt.Errorf("sandbox: landlock: %w", err)
	}
	rep.LandlockABI = abi
	n, err := installSeccomp()
	if err != nil {
		return nil, fmt.Errorf("sandbox: seccomp: %w", err)
	}
	rep.SeccompRules = n
	return rep, nil
}
