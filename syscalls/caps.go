// caps.go: capget(2). Every guest process runs as kshim's one host
// identity (sandbox/identity.go), so a process's capability sets are the
// sets kshim's own thread holds, and every guest pid has the same.
// capset stays unimplemented (ENOSYS): a guest cannot change the host
// identity all of its processes share.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

const (
	capVersion1 = 0x19980330 // one 32-bit set of each kind
	capVersion2 = 0x20071026 // two (deprecated, same layout as 3)
	capVersion3 = 0x20080522
)

// sysCapget is capget(header, data) in Linux's order of checks: the
// header (EFAULT), its version (unknown: the preferred one written back
// and EINVAL, or 0 when data is NULL), a NULL data pointer (a query: 0),
// the pid (negative: EINVAL; not a guest task: ESRCH), then the sets.
func sysCapget(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	hdr := make([]byte, 8)
	if _, err := p.MM.CopyIn(a[0], hdr); err != nil {
		return 0, err
	}
	n := 0
	switch abi.Le32(hdr) {
	case capVersion1:
		n = 1
	case capVersion2, capVersion3:
		n = 2
	default:
		abi.Put32(hdr, capVersion3)
		if _, err := p.MM.CopyOut(a[0], hdr[:4]); err != nil {
			return 0, err
		}
		if a[1] == 0 {
			return 0, nil
		}
		return 0, unix.EINVAL
	}
	if a[1] == 0 {
		return 0, nil
	}
	pid := int32(abi.Le32(hdr[4:]))
	if pid < 0 {
		return 0, unix.EINVAL
	}
	if pid != 0 && int(pid) != p.Pid {
		k := p.Proc.K
		k.Mu.Lock()
		_, isProc := k.Procs[int(pid)]
		_, isThread := k.Threads[int(pid)]
		k.Mu.Unlock()
		if !isProc && !isThread {
			return 0, unix.ESRCH
		}
	}
	h := unix.CapUserHeader{Version: capVersion3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&h, &d[0]); err != nil {
		return 0, err
	}
	out := make([]byte, 12*n)
	for i := 0; i < n; i++ {
		abi.Put32(out[12*i:], d[i].Effective)
		abi.Put32(out[12*i+4:], d[i].Permitted)
		abi.Put32(out[12*i+8:], d[i].Inheritable)
	}
	if _, err := p.MM.CopyOut(a[1], out); err != nil {
		return 0, err
	}
	return 0, nil
}
