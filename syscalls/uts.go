// uts.go: the guest's host and domain names (uname's nodename and
// domainname; `kshim run --hostname`), sethostname and setdomainname.
//
// The guest always has a UTS namespace of its own: its names start as the
// host's (or --hostname), and sethostname/setdomainname change only what
// the guest sees. Who may change them follows the guest's identity, as
// getuid/geteuid report it: euid 0 (the namespace's root) may, anyone
// else gets EPERM, as an unprivileged user does on Linux.
//
// Invariants: utsState.mu guards the names; a nil name is the host's.
package syscalls

import (
	"sync"

	"golang.org/x/sys/unix"
)

// utsLen is Linux's __NEW_UTS_LEN: a name is at most 64 bytes.
const utsLen = 64

type utsState struct {
	mu                   sync.Mutex
	nodename, domainname []byte // nil: the host's
}

// SetHostname sets the guest's nodename (--hostname); EINVAL when it is
// longer than Linux allows or holds a NUL.
func (sb *Sandbox) SetHostname(name string) error {
	if len(name) > utsLen {
		return unix.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return unix.EINVAL
		}
	}
	sb.uts.mu.Lock()
	sb.uts.nodename = []byte(name)
	sb.uts.mu.Unlock()
	return nil
}

// utsName fills u with the guest's view: the host's uname with the
// guest's own names.
func (p *Process) utsName(u *unix.Utsname) {
	k := p.proc.k
	if k == nil || k.sb == nil {
		return
	}
	s := &k.sb.uts
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodename != nil {
		u.Nodename = [65]byte{}
		copy(u.Nodename[:], s.nodename)
	}
	if s.domainname != nil {
		u.Domainname = [65]byte{}
		copy(u.Domainname[:], s.domainname)
	}
}

// setUTS is sethostname(name, len) and setdomainname(name, len), in
// Linux's order: privilege (EPERM), length (EINVAL), the copy (EFAULT).
func (p *Process) setUTS(addr uint64, length int32, domain bool) (uint64, error) {
	k := p.proc.k
	if k == nil || k.sb == nil || unix.Geteuid() != 0 {
		return 0, unix.EPERM
	}
	if length < 0 || length > utsLen {
		return 0, unix.EINVAL
	}
	name := make([]byte, length)
	if _, err := p.MM.CopyIn(addr, name); err != nil {
		return 0, unix.EFAULT
	}
	s := &k.sb.uts
	s.mu.Lock()
	defer s.mu.Unlock()
	// Linux keeps the bytes as given (a NUL inside shortens what uname
	// shows).
	if domain {
		s.domainname = name
	} else {
		s.nodename = name
	}
	return 0, nil
}

func sysSethostname(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.setUTS(a[0], int32(a[1]), false)
}

func sysSetdomainname(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.setUTS(a[0], int32(a[1]), true)
}

func init() {
	// table.go's init has run (files initialise in name order).
	table[unix.SYS_SETHOSTNAME] = sysSethostname
	table[unix.SYS_SETDOMAINNAME] = sysSetdomainname
}
