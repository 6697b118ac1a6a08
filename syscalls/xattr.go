// xattr.go: the extended-attribute calls (getxattr, setxattr, listxattr,
// removexattr and their l* and f* forms). The handlers only pick the
// form; package fs (xattr.go) holds the checks and the host calls, with
// their invariants.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

func init() {
	type xattrCall func(p *kernel.Process, a [6]uint64, fd, follow bool) (uint64, error)
	reg := func(nr uint64, f xattrCall, fd, follow bool) {
		table[nr] = func(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return f(p, *a, fd, follow) }
	}
	for _, c := range []struct {
		path, link, fd uint64
		f              xattrCall
	}{
		{unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_FGETXATTR, func(p *kernel.Process, a [6]uint64, fd, follow bool) (uint64, error) {
			return p.Getxattr(a, fd, follow)
		}},
		{unix.SYS_SETXATTR, unix.SYS_LSETXATTR, unix.SYS_FSETXATTR, func(p *kernel.Process, a [6]uint64, fd, follow bool) (uint64, error) {
			return p.Setxattr(a, fd, follow)
		}},
		{unix.SYS_LISTXATTR, unix.SYS_LLISTXATTR, unix.SYS_FLISTXATTR, func(p *kernel.Process, a [6]uint64, fd, follow bool) (uint64, error) {
			return p.Listxattr(a, fd, follow)
		}},
		{unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR, unix.SYS_FREMOVEXATTR, func(p *kernel.Process, a [6]uint64, fd, follow bool) (uint64, error) {
			return p.Removexattr(a, fd, follow)
		}},
	} {
		reg(c.path, c.f, false, true)
		reg(c.link, c.f, false, false)
		reg(c.fd, c.f, true, false)
	}
}
