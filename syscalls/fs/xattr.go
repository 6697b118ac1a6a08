// xattr.go: extended attributes: getxattr, setxattr, listxattr,
// removexattr and their l* (no follow) and f* (fd) forms.
//
// The guest's files are host files, so their attributes are the host
// file system's, read and changed with the host's calls as the guest's
// identity: whatever the root's file system supports (user.* on ext4,
// tmpfs, overlayfs; ENOTSUP where it has none; ENODATA for an absent
// name) the guest gets exactly, with the host's permission rules
// (trusted.* needs CAP_SYS_ADMIN, user.* only on regular files and
// directories...). What kshim adds is Linux's own argument checks, done
// first as fs/xattr.c does them (flags, then the name, then the value,
// then the path or fd), and its own rules for what it serves itself.
//
// Invariants:
//   - Names are copied from the guest with Linux's limit (255 bytes:
//     longer or empty is ERANGE), values with XATTR_SIZE_MAX (64 KiB:
//     a larger set is E2BIG, a larger get or list buffer is clamped, so
//     the host's ERANGE-to-E2BIG rule applies unchanged).
//   - A path is resolved in the guest's root like any other (an O_PATH
//     fd), and the host call goes through the host's /proc/self/fd link
//     of that fd: the f* calls refuse O_PATH fds (EBADF), and the magic
//     link reaches the very inode resolved, a symlink itself for the l*
//     forms. A guest fd is the host fd: an O_PATH one is EBADF, as on
//     Linux.
//   - set and remove change the root only where chmod may (mayChange:
//     EROFS without --rw, EPERM for the host's devices and /proc).
//   - kshim's /proc has no attributes: list is empty, get is ENOTSUP
//     (ENODATA for user.* on a link and for trusted.*, as
//     xattr_permission answers first), set and remove EACCES/EPERM as
//     procfs answers an unprivileged process.
package fs

import (
	"strings"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

const (
	xattrNameMax = 255       // XATTR_NAME_MAX
	xattrSizeMax = 64 * 1024 // XATTR_SIZE_MAX, and XATTR_LIST_MAX
	xattrCreate  = 1
	xattrReplace = 2
)

// xattrName copies an attribute name (import_xattr_name).
func (p *Task) xattrName(addr uint64) (string, error) {
	s, err := p.MM.ReadString(addr, xattrNameMax+1)
	switch {
	case err == unix.ENAMETOOLONG:
		return "", unix.ERANGE
	case err != nil:
		return "", unix.EFAULT
	case s == "":
		return "", unix.ERANGE
	}
	return s, nil
}

// xattrTarget is what an xattr call acts on: a host fd (hostFD true: the
// guest's own fd, used directly; else an O_PATH fd reached through the
// host's /proc/self/fd) or a /proc node.
type xattrTarget struct {
	r      Resolved
	hostFD bool
}

func (t *xattrTarget) close() {
	if !t.hostFD {
		t.r.Close()
	}
}

// path is the host path that reaches an O_PATH target.
func (t *xattrTarget) path() string { return "/proc/self/fd/" + abi.Itoa(t.r.FD) }

// xattrPath resolves a path argument (follow: the last symlink too).
func (p *Task) xattrPath(addr uint64, follow bool) (xattrTarget, error) {
	path, err := p.PathArg(addr)
	if err != nil {
		return xattrTarget{}, err
	}
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	r, err := p.Lookup(unix.AT_FDCWD, path, flags, 0)
	if err != nil {
		return xattrTarget{}, err
	}
	return xattrTarget{r: r}, nil
}

// xattrFD is a guest fd argument.
func (p *Task) xattrFD(fd uint64) (xattrTarget, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return xattrTarget{}, err
	}
	if e.File.Node != nil {
		if e.File.PathOnly {
			return xattrTarget{}, unix.EBADF
		}
		return xattrTarget{r: Resolved{FD: -1, Node: e.File.Node}, hostFD: true}, nil
	}
	return xattrTarget{r: Resolved{FD: e.Host, Origin: e.File.Origin, Mnt: e.File.Mnt}, hostFD: true}, nil
}

// target resolves the call's first argument: an fd for the f* forms
// (fd), else a path (follow unless l*).
func (p *Task) xattrTargetOf(a uint64, fd, follow bool) (xattrTarget, error) {
	if fd {
		return p.xattrFD(a)
	}
	return p.xattrPath(a, follow)
}

// xattrNamed reads a getxattr or removexattr call's name, then finds its
// target (Linux copies the name before the lookup).
func (p *Task) xattrNamed(a [6]uint64, fd, follow bool) (string, xattrTarget, error) {
	name, err := p.xattrName(a[1])
	if err != nil {
		return "", xattrTarget{}, err
	}
	t, err := p.xattrTargetOf(a[0], fd, follow)
	return name, t, err
}

// procXattrRead is getxattr on kshim's /proc: xattr_permission's answer
// (ENODATA for user.* on what is neither a file nor a directory, and for
// trusted.* without CAP_SYS_ADMIN), else no handler: ENOTSUP.
func procXattrRead(n *ProcNode, name string) error {
	switch {
	case strings.HasPrefix(name, "trusted."):
		return unix.ENODATA
	case strings.HasPrefix(name, "user.") && n.IsLink():
		return unix.ENODATA
	}
	return unix.EOPNOTSUPP
}

// procXattrWrite is setxattr/removexattr on kshim's /proc, as procfs
// answers an unprivileged process: trusted.* and user.* on a link EPERM,
// user.* on a file or directory EACCES (no write permission), security.*
// EPERM (the capability module wants CAP_SYS_ADMIN), others no handler.
func procXattrWrite(n *ProcNode, name string) error {
	switch {
	case strings.HasPrefix(name, "trusted."), strings.HasPrefix(name, "security."):
		return unix.EPERM
	case strings.HasPrefix(name, "user."):
		if n.IsLink() {
			return unix.EPERM
		}
		return unix.EACCES
	}
	return unix.EOPNOTSUPP
}

// Getxattr is getxattr(target, name, value, size) for the path forms
// (follow: not the l* form) and fgetxattr (fd).
func (p *Task) Getxattr(a [6]uint64, fd, follow bool) (uint64, error) {
	name, t, err := p.xattrNamed(a, fd, follow)
	if err != nil {
		return 0, err
	}
	defer t.close()
	if t.r.Node != nil {
		return 0, procXattrRead(t.r.Node, name)
	}
	return p.xattrRead(a[2], a[3], func(buf []byte) (int, error) {
		if t.hostFD {
			return unix.Fgetxattr(t.r.FD, name, buf)
		}
		return unix.Getxattr(t.path(), name, buf)
	})
}

// xattrRead is the common tail of getxattr and listxattr: read (the host
// call) into a buffer of the guest's size (0: the size only), copied out
// to addr.
func (p *Task) xattrRead(addr, size uint64, read func([]byte) (int, error)) (uint64, error) {
	size = min(size, xattrSizeMax)
	var buf []byte
	if size > 0 {
		buf = make([]byte, size)
	}
	n, err := read(buf)
	if err != nil {
		return 0, err
	}
	if size > 0 {
		if _, err := p.MM.CopyOut(addr, buf[:n]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return uint64(n), nil
}

// Listxattr is listxattr(target, list, size) and its forms.
func (p *Task) Listxattr(a [6]uint64, fd, follow bool) (uint64, error) {
	t, err := p.xattrTargetOf(a[0], fd, follow)
	if err != nil {
		return 0, err
	}
	defer t.close()
	if t.r.Node != nil {
		return 0, nil
	}
	return p.xattrRead(a[1], a[2], func(buf []byte) (int, error) {
		if t.hostFD {
			return unix.Flistxattr(t.r.FD, buf)
		}
		return unix.Listxattr(t.path(), buf)
	})
}

// Setxattr is setxattr(target, name, value, size, flags) and its forms.
func (p *Task) Setxattr(a [6]uint64, fd, follow bool) (uint64, error) {
	flags := int(int32(a[4]))
	if flags&^(xattrCreate|xattrReplace) != 0 {
		return 0, unix.EINVAL
	}
	name, err := p.xattrName(a[1])
	if err != nil {
		return 0, err
	}
	var value []byte
	if size := a[3]; size > 0 {
		if size > xattrSizeMax {
			return 0, unix.E2BIG
		}
		value = make([]byte, size)
		if _, err := p.MM.CopyIn(a[2], value); err != nil {
			return 0, unix.EFAULT
		}
	}
	t, err := p.xattrTargetOf(a[0], fd, follow)
	if err != nil {
		return 0, err
	}
	defer t.close()
	return p.xattrWrite(t, name,
		func(fd int) error { return unix.Fsetxattr(fd, name, value, flags) },
		func(path string) error { return unix.Setxattr(path, name, value, flags) })
}

// Removexattr is removexattr(target, name) and its forms.
func (p *Task) Removexattr(a [6]uint64, fd, follow bool) (uint64, error) {
	name, t, err := p.xattrNamed(a, fd, follow)
	if err != nil {
		return 0, err
	}
	defer t.close()
	return p.xattrWrite(t, name,
		func(fd int) error { return unix.Fremovexattr(fd, name) },
		func(path string) error { return unix.Removexattr(path, name) })
}

// xattrWrite is setxattr's and removexattr's change of target t: /proc's
// answer, else kshim's rule on what the guest may change (MayChange),
// then the host call by fd or by path.
func (p *Task) xattrWrite(t xattrTarget, name string, byFD func(int) error, byPath func(string) error) (uint64, error) {
	if t.r.Node != nil {
		return 0, procXattrWrite(t.r.Node, name)
	}
	if err := p.MayChange(nil, t.r.Origin, t.r.FD, t.r.Mnt); err != nil {
		return 0, err
	}
	if t.hostFD {
		return 0, byFD(t.r.FD)
	}
	return 0, byPath(t.path())
}
