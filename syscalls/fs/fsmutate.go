// fsmutate.go: calls that change the file tree or a file's attributes:
// mkdir, mknod, unlink, rmdir, rename, symlink, link, truncate, chmod,
// chown, utimensat, fallocate; and fsync, flock, fadvise64.
//
// Invariants:
//   - Entries are created and removed through a parent directory fd and
//     one name (fspath.go), never a host path; a trailing "/" is checked
//     here, not handed to the host (where it would follow a symlink).
//   - Attributes change through the O_PATH fd of the resolved file with
//     AT_EMPTY_PATH (or the host's /proc/self/fd link of it), so a symlink
//     is followed only by kshim's in-root resolution.
//   - Without --rw every call here fails with EROFS at the point Linux's
//     mnt_want_write would, so earlier errors (ENOENT, EEXIST, EBUSY...)
//     are Linux's. kshim's /proc refuses changes (EPERM, as procfs).
//   - Host objects that are not the root's (handed-in fds, the devices of
//     hostDevices, the program file) never change: attribute, size and
//     link calls on them are EPERM, as for an immutable file, where Linux
//     checks IS_IMMUTABLE (after EROFS; ETXTBSY for the program comes
//     later still) -- unless FindInRoot finds a handed-in file or the
//     program in the root, whose rule then applies (MayChange). Pipes,
//     sockets and the like kshim made for the guest are the guest's own.
//   - The guest cannot create device nodes (EPERM, as for an unprivileged
//     process), whatever kshim's privileges: a node would reach any host
//     device from inside the root.
package fs

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

// parent reads a path argument and resolves its parent directory.
func (p *Task) parent(dirfd int, pathAddr uint64) (parentDir, error) {
	path, err := p.PathArg(pathAddr)
	if err != nil {
		return parentDir{Resolved: Resolved{FD: -1}}, err
	}
	return p.LookupParent(dirfd, path)
}

// create checks what Linux's filename_create checks before making name in
// d: not a special name, not existing, no trailing "/" unless a directory
// is made, and a writable root.
func (p *Task) create(d *parentDir, dir bool) error {
	if d.Node != nil {
		// procfs: lookups of new names fail before any create.
		if d.Node.IsDir() && d.Node.Child(p.Owner, d.Name) != nil {
			return unix.EEXIST
		}
		if d.Node.Remove != nil {
			return unix.EPERM // the mqueue file system: no mkdir, mknod, symlink, link
		}
		return unix.ENOENT
	}
	if d.Special() {
		return unix.EEXIST
	}
	if _, ok := d.Exists(); ok || p.FS.mountPoint(d) {
		return unix.EEXIST
	}
	if d.Slash && !dir {
		return unix.ENOENT
	}
	if p.FS.RO(d.Mnt) {
		return unix.EROFS
	}
	return nil
}

func (p *Task) Mkdirat(dirfd int, pathAddr uint64, mode uint32) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if err := p.create(&d, true); err != nil {
		return 0, err
	}
	return 0, unix.Mkdirat(d.FD, d.Name, mode&(0o777|unix.S_ISVTX)&^p.FS.Umask())
}

func (p *Task) Mknodat(dirfd int, pathAddr uint64, mode uint32, dev uint64) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if err := p.create(&d, false); err != nil {
		return 0, err
	}
	switch mode & unix.S_IFMT {
	case 0, unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		return 0, unix.EPERM
	case unix.S_IFDIR:
		return 0, unix.EPERM
	default:
		return 0, unix.EINVAL
	}
	perm := mode & 0o7777 &^ p.FS.Umask()
	return 0, unix.Mknodat(d.FD, d.Name, mode&unix.S_IFMT|perm, 0)
}

func (p *Task) Unlinkat(dirfd int, pathAddr uint64, flags int) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	rmdir := flags&unix.AT_REMOVEDIR != 0
	switch {
	case rmdir && d.Name == "":
		return 0, unix.EBUSY
	case rmdir && d.Name == ".":
		return 0, unix.EINVAL
	case rmdir && d.Name == "..":
		return 0, unix.ENOTEMPTY
	case !rmdir && d.Special():
		return 0, unix.EISDIR
	case d.Node != nil:
		if !d.Node.IsDir() || d.Node.Child(p.Owner, d.Name) == nil {
			return 0, unix.ENOENT
		}
		if d.Node.Remove != nil {
			return 0, d.Node.Remove(p.Owner, d.Name, rmdir) // a message queue
		}
		return 0, unix.EPERM
	case p.FS.RO(d.Mnt):
		return 0, unix.EROFS
	}
	if err := p.FS.removeMountPoint(&d, rmdir); err != nil {
		return 0, err
	}
	if d.Slash && !rmdir {
		// unlink("x/"): the entry decides the errno, nothing is removed.
		st, ok := d.Exists()
		switch {
		case !ok:
			return 0, unix.ENOENT
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return 0, unix.EISDIR
		}
		return 0, unix.ENOTDIR
	}
	return 0, unix.Unlinkat(d.FD, d.Name, flags)
}

func (p *Task) Renameat2(olddir int, oldAddr uint64, newdir int, newAddr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 ||
		flags&unix.RENAME_EXCHANGE != 0 && flags&(unix.RENAME_NOREPLACE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	from, err := p.parent(olddir, oldAddr)
	if err != nil {
		return 0, err
	}
	defer from.Close()
	to, err := p.parent(newdir, newAddr)
	if err != nil {
		return 0, err
	}
	defer to.Close()
	switch {
	case from.Node != nil && to.Node != nil:
		if !from.Node.IsDir() || !to.Node.IsDir() {
			return 0, unix.ENOTDIR // a /proc file as a path's directory
		}
		if from.Node.Child(p.Owner, from.Name) == nil {
			return 0, unix.ENOENT
		}
		if to.Node.Remove == nil && to.Node.Child(p.Owner, to.Name) == nil {
			return 0, unix.ENOENT // procfs looks both up first; mqueue takes new names
		}
		return 0, unix.EPERM
	case from.Node != nil || to.Node != nil || from.Mnt != to.Mnt:
		return 0, unix.EXDEV // /proc, or two mounts: two file systems for Linux
	case from.Special():
		return 0, unix.EBUSY
	case to.Special() && flags&unix.RENAME_NOREPLACE != 0:
		return 0, unix.EEXIST
	case to.Special():
		return 0, unix.EBUSY
	case p.FS.RO(from.Mnt):
		return 0, unix.EROFS
	case p.FS.mountPoint(&from) || p.FS.mountPoint(&to):
		return 0, unix.EBUSY
	case p.FS.guards(&from) || flags&unix.RENAME_EXCHANGE != 0 && p.FS.guards(&to):
		return 0, unix.EBUSY // a directory above a mount: masked, read-only or any (fsguard.go)
	}
	if from.Slash || to.Slash && flags&unix.RENAME_EXCHANGE == 0 {
		// A trailing "/" requires a directory to be renamed.
		st, ok := from.Exists()
		if !ok {
			return 0, unix.ENOENT
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return 0, unix.ENOTDIR
		}
	}
	if flags == 0 {
		return 0, unix.Renameat(from.FD, from.Name, to.FD, to.Name)
	}
	return 0, unix.Renameat2(from.FD, from.Name, to.FD, to.Name, uint(flags))
}

func (p *Task) Symlinkat(targetAddr uint64, dirfd int, pathAddr uint64) (uint64, error) {
	target, err := p.PathArg(targetAddr)
	if err != nil {
		return 0, err
	}
	if target == "" {
		return 0, unix.ENOENT
	}
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if err := p.create(&d, false); err != nil {
		return 0, err
	}
	// The target is text: resolving it later stays in the root.
	return 0, unix.Symlinkat(target, d.FD, d.Name)
}

func (p *Task) Linkat(olddir int, oldAddr uint64, newdir int, newAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	oldPath, err := p.PathArg(oldAddr)
	if err != nil {
		return 0, err
	}
	look := unix.O_PATH | unix.O_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		look = unix.O_PATH
	}
	src, err := p.LookupFD(olddir, oldPath, flags&unix.AT_EMPTY_PATH != 0, look)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	d, err := p.parent(newdir, newAddr)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	// Linux's filename_create (EEXIST, EROFS...) comes before EXDEV.
	if err := p.create(&d, false); err != nil {
		return 0, err
	}
	if src.Node != nil {
		return 0, unix.EXDEV // /proc is another file system
	}
	if src.Origin != FromRoot {
		// A handed-in file, device or the program: another file system,
		// unless it is also the root's (then link it from there).
		fd, _, ok := p.FS.FindInRoot(src.FD)
		if !ok || src.Origin == FromDevice {
			if ok {
				unix.Close(fd)
			}
			return 0, unix.EXDEV
		}
		unix.Close(src.FD)
		src.FD, src.Mnt = fd, nil
	}
	if src.Mnt != d.Mnt {
		return 0, unix.EXDEV // another mount
	}
	// Link exactly the inode resolved in the root: by fd (needs
	// CAP_DAC_READ_SEARCH), else through the host's /proc magic link.
	err = unix.Linkat(src.FD, "", d.FD, d.Name, unix.AT_EMPTY_PATH)
	if err == unix.ENOENT || err == unix.EPERM {
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+abi.Itoa(src.FD), d.FD, d.Name, unix.AT_SYMLINK_FOLLOW)
	}
	return 0, err
}

// Changeable resolves the file an attribute call changes, following the
// last symlink unless nofollow, and checks the root may change.
func (p *Task) Changeable(dirfd int, pathAddr uint64, flags int) (Resolved, error) {
	path, err := p.PathOrEmpty(pathAddr, flags)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	r, err := p.LookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, LookFlags(flags))
	if err != nil {
		return r, err
	}
	if err := p.MayChange(r.Node, r.Origin, r.FD, r.Mnt); err != nil {
		r.Close()
		return Resolved{FD: -1}, err
	}
	return r, nil
}

// MayChange says whether a file's attributes, size or links may change:
// /proc refuses (EPERM); the root changes only with --rw (EROFS); what
// kshim made for the guest is the guest's; the host's devices never
// change, nor other host objects (EPERM) unless FindInRoot finds them
// (host fd h) in the root, whose rule then applies. A root file's mount
// is mnt (nil: the root).
func (p *Task) MayChange(node *ProcNode, origin fileOrigin, h int, mnt *HostMount) error {
	switch {
	case node != nil || origin == FromDevice:
		return unix.EPERM
	case origin == fromKshim:
		return nil
	case origin != FromRoot:
		fd, _, ok := p.FS.FindInRoot(h)
		if !ok {
			return unix.EPERM
		}
		unix.Close(fd)
		mnt = nil
	}
	if p.FS.RO(mnt) {
		return unix.EROFS
	}
	return nil
}

// MaySize is MayChange for ftruncate and fallocate, which change only a
// regular file open for writing: the host answers the rest as Linux does
// (EINVAL, EBADF, ESPIPE, ENODEV...), and a read-only root gives out no
// such fd of its own.
func (p *Task) MaySize(e FDEntry) error {
	var st unix.Stat_t
	if err := unix.Fstat(e.Host, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(e.Host), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE == unix.O_RDONLY {
		return nil
	}
	return p.MayChange(nil, e.File.Origin, e.Host, e.File.Mnt)
}

// OpenedFile returns a guest fd's entry for an fd-based attribute call:
// EBADF for O_PATH fds (Linux's fdget), then MayChange.
func (p *Task) OpenedFile(fd uint64) (FDEntry, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return e, err
	}
	if e.File.PathOnly {
		return e, unix.EBADF
	}
	if e.File.Node == nil {
		if err := CheckNotPath(e.Host); err != nil {
			return e, err
		}
	}
	return e, p.MayChange(e.File.Node, e.File.Origin, e.Host, e.File.Mnt)
}

func (p *Task) Fchmodat(dirfd int, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	r, err := p.Changeable(dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(r.FD, &st); err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return 0, unix.EOPNOTSUPP // symlinks have no mode of their own
		}
	}
	return 0, chmodFD(r.FD, mode&0o7777)
}

// chmodFD changes the mode of the file at O_PATH fd h: fchmodat2 with
// AT_EMPTY_PATH (Linux 6.6), else the host's /proc magic link.
func chmodFD(h int, mode uint32) error {
	empty := []byte{0}
	_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(h), uintptr(unsafe.Pointer(&empty[0])), uintptr(mode), unix.AT_EMPTY_PATH, 0, 0)
	if e == 0 {
		return nil
	}
	if e != unix.ENOSYS && e != unix.EINVAL {
		return e
	}
	return unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+abi.Itoa(h), mode, 0)
}

func (p *Task) Fchownat(dirfd int, pathAddr, uid, gid uint64, flags int) (uint64, error) {
	r, err := p.Changeable(dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	// -1 (as a 32-bit id) leaves an id unchanged; the host checks
	// privilege (EPERM for a non-root kshim, as for a non-root guest).
	return 0, unix.Fchownat(r.FD, "", int(int32(uid)), int(int32(gid)), unix.AT_EMPTY_PATH)
}

// atFDCWD is AT_FDCWD as a raw syscall argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

const (
	UtimeNow  = (1 << 30) - 1
	UtimeOmit = (1 << 30) - 2
)

// UtimesFD sets the times of the file at host fd h (an O_PATH fd when
// opath: by AT_EMPTY_PATH, else the host's /proc magic link).
func UtimesFD(h int, ts []unix.Timespec, opath bool) error {
	var tp uintptr
	if ts != nil {
		tp = uintptr(unsafe.Pointer(&ts[0]))
	}
	if !opath {
		_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(h), 0, tp, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	}
	empty := []byte{0}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(h), uintptr(unsafe.Pointer(&empty[0])), tp, unix.AT_EMPTY_PATH, 0, 0)
	if e == unix.EINVAL || e == unix.ENOENT {
		link, err := unix.BytePtrFromString("/proc/self/fd/" + abi.Itoa(h))
		if err != nil {
			return err
		}
		_, _, e = unix.Syscall6(unix.SYS_UTIMENSAT, atFDCWD, uintptr(unsafe.Pointer(link)), tp, 0, 0, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}
