// uidgid.go: the guest's credentials: getres*id, set*id, setres*id,
// setfs*id, setgroups and prctl(PR_SET_KEEPCAPS); and syslog and chroot,
// which only privilege would open.
//
// The guest's identity is kshim's host identity (sandbox/identity.go):
// real, effective and saved ids all equal (the sandbox sets all three),
// one supplementary group list, and no CAP_SETUID or CAP_SETGID in any
// set, whatever --user says. So each call is answered as Linux answers a
// process with those credentials and without those capabilities
// (kernel/sys.c): changing an id to the value it already has succeeds and
// changes nothing, any other value is EPERM, (uid_t)-1 where it names an
// id is EINVAL, and setgroups is always EPERM.
//
// Invariants:
//   - Nothing here changes a host credential (seccomp refuses set*id
//     anyway): with every id equal and no capability, no call Linux
//     allows could change one either, so there is no guest state to keep
//     but the keep-capabilities flag, which is per thread (kernel's
//     Process.Attrs),
//     inherited by clone and cleared by execve, as SECBIT_KEEP_CAPS.
//   - Ids are 32-bit: the upper half of the register is ignored, as
//     Linux's uid_t arguments do.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// noID is (uid_t)-1: "unchanged" where an argument may be left alone,
// invalid where an id is required.
const noID = 0xffffffff

// hostIDs are the guest's uid or gid (real = effective = saved).
func hostUID() uint32 { return uint32(unix.Getuid()) }
func hostGID() uint32 { return uint32(unix.Getgid()) }

// setID is setuid/setgid for a process without CAP_SETUID/CAP_SETGID
// whose ids are all cur: EINVAL for -1, EPERM for another id.
func setID(cur uint32, a uint64) (uint64, error) {
	id := uint32(a)
	switch {
	case id == noID:
		return 0, unix.EINVAL
	case id != cur:
		return 0, unix.EPERM
	}
	return 0, nil
}

// setIDs is setreuid/setresuid and their gid forms: each argument is -1
// (unchanged) or must be one of the current ids (all cur), else EPERM.
func setIDs(cur uint32, ids ...uint64) (uint64, error) {
	for _, a := range ids {
		if id := uint32(a); id != noID && id != cur {
			return 0, unix.EPERM
		}
	}
	return 0, nil
}

// getIDs is getresuid/getresgid: the three ids, each its own put_user
// (a bad pointer is EFAULT once the ones before it are written).
func getIDs(p *kernel.Process, cur uint32, a *args) (uint64, error) {
	var b [4]byte
	abi.Put32(b[:], cur)
	for _, addr := range a[:3] {
		if _, err := p.MM.CopyOut(addr, b[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, nil
}

// syslog(2) is the kernel's log, and the guest's kernel is kshim, whose log
// is not the host's to show: answered as a kernel with
// kernel.dmesg_restrict=1 (Debian's default) answers a process without
// CAP_SYSLOG, EPERM for every action before its arguments are looked at.
func sysSyslog(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return 0, unix.EPERM }

// chroot(path) needs CAP_SYS_CHROOT, which no guest has (kshim keeps at
// most the file capabilities): the path's errors come first, as chdir's
// (followed, a directory, search permission on it), then EPERM.
func sysChroot(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	r, err := lookupDir(p, a[0])
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if r.Node != nil {
		if !r.Node.IsDir() {
			return 0, unix.ENOTDIR
		}
		if err := fs.NodeAccess(r.Node, unix.X_OK); err != nil {
			return 0, err
		}
	} else if err := unix.Faccessat2(r.FD, "", unix.X_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS); err != nil {
		return 0, err
	}
	return 0, unix.EPERM
}

// setgroups needs CAP_SETGID before anything is read (may_setgroups).
func sysSetgroups(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return 0, unix.EPERM }

// prctlKeepCaps is PR_SET_KEEPCAPS and PR_GET_KEEPCAPS (security/
// commoncap.c, kernel/sys.c). With no capabilities to keep, the flag
// changes nothing else, but programs read it back.
func prctlKeepCaps(p *kernel.Process, a *args) (uint64, error) {
	if a[0] == unix.PR_GET_KEEPCAPS {
		if p.Attrs.KeepCaps {
			return 1, nil
		}
		return 0, nil
	}
	if a[1] > 1 {
		return 0, unix.EINVAL
	}
	p.Attrs.KeepCaps = a[1] == 1
	return 0, nil
}

func init() {
	for nr, h := range map[uint64]handler{
		unix.SYS_SETUID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return setID(hostUID(), a[0]) },
		unix.SYS_SETGID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return setID(hostGID(), a[0]) },
		unix.SYS_SETREUID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
			return setIDs(hostUID(), a[0], a[1])
		},
		unix.SYS_SETREGID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
			return setIDs(hostGID(), a[0], a[1])
		},
		unix.SYS_SETRESUID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
			return setIDs(hostUID(), a[0], a[1], a[2])
		},
		unix.SYS_SETRESGID: func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
			return setIDs(hostGID(), a[0], a[1], a[2])
		},
		// setfsuid/setfsgid return the old fs id and never fail; the
		// new one takes effect only if it is a current id, which
		// changes nothing here.
		unix.SYS_SETFSUID:  func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(hostUID()), nil },
		unix.SYS_SETFSGID:  func(*kernel.Process, *kernel.Regs, *args) (uint64, error) { return uint64(hostGID()), nil },
		unix.SYS_GETRESUID: func(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return getIDs(p, hostUID(), a) },
		unix.SYS_GETRESGID: func(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return getIDs(p, hostGID(), a) },
		unix.SYS_SETGROUPS: sysSetgroups,
		unix.SYS_SYSLOG:    sysSyslog,
		unix.SYS_CHROOT:    sysChroot,
	} {
		table[nr] = h
	}
}
