// prctl.go: prctl(2). The capability options answer from caps.go's
// model (kshim's own host capabilities are the guest's; a change kshim
// cannot make real is EPERM).
//
// Invariants:
//   - Nothing here changes a host credential or a host thread's state;
//     the flags are kernel.Process.Attrs bookkeeping (and the child
//     subreaper flag, kept on the thread group), with their effects made
//     by the kernel package: the parent-death signal and the subreaper in
//     Kernel.orphan.
//   - Bad arguments get the errno Linux's kernel/sys.c and
//     security/commoncap.c give, in their order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

func sysPrctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	switch a[0] {
	case kernel.PrSetName:
		// strncpy_from_user of at most 15 bytes: a longer name is cut.
		name, err := p.MM.ReadString(a[1], kernel.CommLen-1)
		if err == unix.ENAMETOOLONG {
			b := make([]byte, kernel.CommLen-1)
			if _, err = p.MM.CopyIn(a[1], b); err == nil {
				name = string(b)
			}
		}
		if err != nil {
			return 0, err
		}
		p.SetIdent(func() { p.Comm = append([]byte{}, name...) }) // non-nil even when empty
		return 0, nil
	case kernel.PrGetName:
		b := make([]byte, kernel.CommLen)
		copy(b, p.ThreadName()) // another thread may rename it
		_, err := p.MM.CopyOut(a[1], b)
		return 0, err
	case unix.PR_SET_KEEPCAPS, unix.PR_GET_KEEPCAPS:
		return prctlKeepCaps(p, a)
	case unix.PR_SET_PDEATHSIG:
		if a[1] > kernel.Nsig {
			return 0, unix.EINVAL
		}
		p.SetPdeathsig(int(a[1]))
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		return 0, putInt(p, a[1], p.Pdeathsig())
	case unix.PR_GET_DUMPABLE:
		return boolRet(p.MM.Dumpable()), nil
	case unix.PR_SET_DUMPABLE:
		// SUID_DUMP_DISABLE or SUID_DUMP_USER; the address space's, so
		// every thread's, and a new one at exec is dumpable again. It
		// decides whether the guest's other processes may look into
		// this one's /proc/PID (proc/pid.go).
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		p.MM.SetDumpable(a[1] == 1)
		return 0, nil
	case unix.PR_SET_CHILD_SUBREAPER:
		p.SetSubreaper(a[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		v := 0
		if p.Subreaper() {
			v = 1
		}
		return 0, putInt(p, a[1], v)
	case unix.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 || a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		// Nothing a guest execs can raise its privileges (no setuid or
		// file capabilities take effect in kshim), so the flag holds.
		p.Attrs.NoNewPrivs = true
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if a[1]|a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return boolRet(p.Attrs.NoNewPrivs), nil
	case unix.PR_SET_TIMERSLACK:
		p.Attrs.SetSlack(a[1])
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return p.Attrs.Slack(), nil
	case unix.PR_CAPBSET_READ:
		// The host answers for its bounding set, EINVAL past its last
		// capability (how libcap counts them).
		n, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(a[1]), 0, 0, 0)
		return uint64(n), err
	case unix.PR_CAPBSET_DROP:
		return 0, capChange(p, a[0], a[1], "PR_CAPBSET_DROP")
	case unix.PR_GET_SECUREBITS:
		if p.Attrs.KeepCaps {
			return 1 << 4, nil // SECBIT_KEEP_CAPS
		}
		return 0, nil
	case unix.PR_SET_SECUREBITS:
		return 0, capChange(p, a[0], 0, "PR_SET_SECUREBITS") // capability 0 is valid: EPERM either way
	case unix.PR_CAP_AMBIENT:
		return prctlAmbient(a)
	}
	if p.WarnOnce(2<<32 | a[0]) {
		p.Log.WithField("option", a[0]).Debug("unimplemented prctl option: EINVAL")
	}
	return 0, unix.EINVAL
}

func boolRet(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// putInt stores an int at a guest address (put_user).
func putInt(p *kernel.Process, addr uint64, v int) error {
	var b [4]byte
	abi.Put32(b[:], uint32(int32(v)))
	_, err := p.MM.CopyOut(addr, b[:])
	return err
}
