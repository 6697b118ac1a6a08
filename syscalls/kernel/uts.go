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
package kernel

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
)

// UtsName fills u with the guest's view: the host's uname with the
// guest's own names.
func (p *Process) UtsName(u *unix.Utsname) {
	k := p.Proc.K
	if k == nil || k.Sb == nil {
		return
	}
	s := &k.Sb.UTS
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Nodename != nil {
		u.Nodename = [65]byte{}
		copy(u.Nodename[:], s.Nodename)
	}
	if s.Domainname != nil {
		u.Domainname = [65]byte{}
		copy(u.Domainname[:], s.Domainname)
	}
}

// SetUTS is sethostname(name, len) and setdomainname(name, len), in
// Linux's order: privilege (EPERM), length (EINVAL), the copy (EFAULT).
func (p *Process) SetUTS(addr uint64, length int32, domain bool) (uint64, error) {
	k := p.Proc.K
	if k == nil || k.Sb == nil || unix.Geteuid() != 0 {
		return 0, unix.EPERM
	}
	if length < 0 || length > fs.UtsLen {
		return 0, unix.EINVAL
	}
	name := make([]byte, length)
	if _, err := p.MM.CopyIn(addr, name); err != nil {
		return 0, unix.EFAULT
	}
	s := &k.Sb.UTS
	s.Mu.Lock()
	defer s.Mu.Unlock()
	// Linux keeps the bytes as given (a NUL inside shortens what uname
	// shows).
	if domain {
		s.Domainname = name
	} else {
		s.Nodename = name
	}
	return 0, nil
}
