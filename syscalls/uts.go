// uts.go: the guest's host and domain names (uname's nodename and
// domainname; `kshim run --hostname`), sethostname and setdomainname.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose uts.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

func sysSethostname(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.SetUTS(a[0], int32(a[1]), false)
}

func sysSetdomainname(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.SetUTS(a[0], int32(a[1]), true)
}

func init() {
	// table.go's init has run (files initialise in name order).
	table[unix.SYS_SETHOSTNAME] = sysSethostname
	table[unix.SYS_SETDOMAINNAME] = sysSetdomainname
}
