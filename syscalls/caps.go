// caps.go: capget(2) and capset(2), and the capability prctls' helpers.
// Every guest process runs as kshim's one host identity
// (sandbox/identity.go), and kshim makes the guest's file calls with its
// own capabilities, so a process's capability sets are the sets kshim's
// own thread holds, and every guest pid has the same. capset may only
// restate them: Linux's checks first (a guest without capabilities is
// refused every change there, as on Linux), then EPERM, logged once, for
// a change those checks allow, since kshim cannot give up what it holds
// for the guest's calls. The bounding set is the host's (PR_CAPBSET_READ
// asks the host); the ambient set is empty.
package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

const (
	capVersion1 = 0x19980330 // one 32-bit set of each kind
	capVersion2 = 0x20071026 // two (deprecated, same layout as 3)
	capVersion3 = 0x20080522
)

// capHeader reads a cap_user_header_t and validates its version as
// cap_validate_magic does: an unknown one is answered by writing the
// kernel's preferred version back (EINVAL). words is how many 32-bit
// halves of each set the data holds (1 for version 1, else 2).
func capHeader(p *kernel.Process, addr uint64) (pid int32, words int, err error) {
	var h [8]byte
	if _, err := p.MM.CopyIn(addr, h[:4]); err != nil {
		return 0, 0, unix.EFAULT
	}
	switch abi.Le32(h[:]) {
	case capVersion1:
		words = 1
	case capVersion2, capVersion3:
		words = 2
	default:
		abi.Put32(h[:], capVersion3)
		if _, err := p.MM.CopyOut(addr, h[:4]); err != nil {
			return 0, 0, unix.EFAULT
		}
		return 0, 0, unix.EINVAL
	}
	if _, err := p.MM.CopyIn(addr+4, h[4:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	return int32(abi.Le32(h[4:])), words, nil
}

// sysCapget is capget(header, data) in Linux's order of checks: the
// header (EFAULT), its version (unknown: the preferred one written back
// and EINVAL, or 0 when data is NULL), a NULL data pointer (a query: 0),
// the pid (negative: EINVAL; not a guest task: ESRCH), then the sets.
func sysCapget(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid, words, err := capHeader(p, a[0])
	if a[1] == 0 && (err == nil || err == unix.EINVAL) {
		return 0, nil // a version query: the preferred one was written back
	}
	if err != nil {
		return 0, err
	}
	if pid < 0 {
		return 0, unix.EINVAL
	}
	if pid != 0 && int(pid) != p.Pid && !guestTask(p, int(pid)) {
		return 0, unix.ESRCH
	}
	c, err := hostCaps()
	if err != nil {
		return 0, err
	}
	// struct __user_cap_data_struct { effective, permitted, inheritable }
	// per 32-bit half.
	out := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		abi.Put32(out[12*i:], uint32(c.eff>>(32*i)))
		abi.Put32(out[12*i+4:], uint32(c.perm>>(32*i)))
		abi.Put32(out[12*i+8:], uint32(c.inh>>(32*i)))
	}
	_, err = p.MM.CopyOut(a[1], out)
	return 0, err
}

// guestTask says whether pid names a guest process or thread.
func guestTask(p *kernel.Process, pid int) bool {
	k := p.Proc.K
	if k == nil {
		return false
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return k.Procs[pid] != nil || k.Threads[pid] != nil
}

// capset(header, data): Linux's checks (cap_capset), then EPERM for any
// change the checks allow, which kshim cannot make real.
func sysCapset(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid, words, err := capHeader(p, a[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && int(pid) != p.Tid {
		return 0, unix.EPERM // may only affect the caller
	}
	b := make([]byte, 12*words)
	if _, err := p.MM.CopyIn(a[1], b); err != nil {
		return 0, unix.EFAULT
	}
	var want caps
	for i := 0; i < words; i++ {
		want.eff |= uint64(abi.Le32(b[12*i:])) << (32 * i)
		want.perm |= uint64(abi.Le32(b[12*i+4:])) << (32 * i)
		want.inh |= uint64(abi.Le32(b[12*i+8:])) << (32 * i)
	}
	valid := uint64(1)<<(lastCap()+1) - 1
	want.eff, want.perm, want.inh = want.eff&valid, want.perm&valid, want.inh&valid
	cur, err := hostCaps()
	if err != nil {
		return 0, unix.EPERM
	}
	bset := uint64(0)
	for c := 0; c <= lastCap(); c++ {
		if n, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err == nil && n == 1 {
			bset |= 1 << c
		}
	}
	sub := func(x, of uint64) bool { return x&^of == 0 }
	switch {
	case cur.eff&(1<<unix.CAP_SETPCAP) == 0 && !sub(want.inh, cur.inh|cur.perm),
		!sub(want.inh, cur.inh|bset),
		!sub(want.perm, cur.perm),
		!sub(want.eff, want.perm):
		return 0, unix.EPERM
	}
	if want != cur {
		warnOnce(p, 3<<32|unix.SYS_CAPSET, "capset: kshim does not drop capabilities it holds for the guest: EPERM")
		return 0, unix.EPERM
	}
	return 0, nil
}

// caps are kshim's host capability sets, the guest's.
type caps struct{ eff, perm, inh uint64 }

func hostCaps() (caps, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return caps{}, err
	}
	join := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	return caps{join(d[0].Effective, d[1].Effective), join(d[0].Permitted, d[1].Permitted),
		join(d[0].Inheritable, d[1].Inheritable)}, nil
}

var lastCap = sync.OnceValue(func() int {
	c := 0
	for ; c < 63; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c+1), 0, 0, 0); err == unix.EINVAL {
			break
		}
	}
	return c
})

func capValid(c uint64) bool { return c <= uint64(lastCap()) }

// capChange is a bounding-set drop or a securebits change: EPERM without
// CAP_SETPCAP, as Linux; with it, EINVAL for an invalid capability and
// otherwise still EPERM, since kshim cannot drop what it keeps for the
// guest's own calls (logged once per option).
func capChange(p *kernel.Process, opt, c uint64, what string) error {
	cur, err := hostCaps()
	if err != nil {
		return unix.EPERM
	}
	if cur.eff&(1<<unix.CAP_SETPCAP) == 0 {
		return unix.EPERM
	}
	if !capValid(c) {
		return unix.EINVAL
	}
	warnOnce(p, 4<<32|opt, what+": kshim does not drop capabilities it holds for the guest: EPERM")
	return unix.EPERM
}

// prctlAmbient is PR_CAP_AMBIENT: the ambient set is empty and stays so.
func prctlAmbient(a *args) (uint64, error) {
	if a[1] == unix.PR_CAP_AMBIENT_CLEAR_ALL {
		if a[2]|a[3]|a[4] != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	}
	if !capValid(a[2]) || a[3]|a[4] != 0 {
		return 0, unix.EINVAL
	}
	switch a[1] {
	case unix.PR_CAP_AMBIENT_IS_SET, unix.PR_CAP_AMBIENT_LOWER:
		return 0, nil
	case unix.PR_CAP_AMBIENT_RAISE:
		return 0, unix.EPERM // not in the inheritable set, which is empty
	}
	return 0, unix.EINVAL
}

func warnOnce(p *kernel.Process, key uint64, msg string) {
	if p.WarnOnce(key) {
		p.Log.Warn(msg)
	}
}
