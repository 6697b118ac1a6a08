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
//     later still) -- unless findInRoot finds a handed-in file or the
//     program in the root, whose rule then applies (mayChange). Pipes,
//     sockets and the like kshim made for the guest are the guest's own.
//   - The guest cannot create device nodes (EPERM, as for an unprivileged
//     process), whatever kshim's privileges: a node would reach any host
//     device from inside the root.
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// parent reads a path argument and resolves its parent directory.
func (p *fsTask) parent(dirfd int, pathAddr uint64) (parentDir, error) {
	path, err := p.pathArg(pathAddr)
	if err != nil {
		return parentDir{resolved: resolved{fd: -1}}, err
	}
	return p.lookupParent(dirfd, path)
}

func sysMkdir(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.mkdirat(unix.AT_FDCWD, a[0], uint32(a[1]))
}

func sysMkdirat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.mkdirat(dirfdArg(a[0]), a[1], uint32(a[2]))
}

// create checks what Linux's filename_create checks before making name in
// d: not a special name, not existing, no trailing "/" unless a directory
// is made, and a writable root.
func (p *fsTask) create(d *parentDir, dir bool) error {
	if d.node != nil {
		// procfs: lookups of new names fail before any create.
		if d.node.isDir() && d.node.child(p.owner, d.name) != nil {
			return unix.EEXIST
		}
		return unix.ENOENT
	}
	if d.special() {
		return unix.EEXIST
	}
	if _, ok := d.exists(); ok {
		return unix.EEXIST
	}
	if d.slash && !dir {
		return unix.ENOENT
	}
	if !p.fs.writable {
		return unix.EROFS
	}
	return nil
}

func (p *fsTask) mkdirat(dirfd int, pathAddr uint64, mode uint32) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.close()
	if err := p.create(&d, true); err != nil {
		return 0, err
	}
	return 0, unix.Mkdirat(d.fd, d.name, mode&(0o777|unix.S_ISVTX)&^p.fs.umask)
}

func sysMknod(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.mknodat(unix.AT_FDCWD, a[0], uint32(a[1]), a[2])
}

func sysMknodat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.mknodat(dirfdArg(a[0]), a[1], uint32(a[2]), a[3])
}

func (p *fsTask) mknodat(dirfd int, pathAddr uint64, mode uint32, dev uint64) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.close()
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
	perm := mode & 0o7777 &^ p.fs.umask
	return 0, unix.Mknodat(d.fd, d.name, mode&unix.S_IFMT|perm, 0)
}

func sysUnlink(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.unlinkat(unix.AT_FDCWD, a[0], 0)
}

func sysRmdir(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.unlinkat(unix.AT_FDCWD, a[0], unix.AT_REMOVEDIR)
}

func sysUnlinkat(p *Process, _ *Regs, a *args) (uint64, error) {
	flags := int(int32(a[2]))
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	return p.unlinkat(dirfdArg(a[0]), a[1], flags)
}

func (p *fsTask) unlinkat(dirfd int, pathAddr uint64, flags int) (uint64, error) {
	d, err := p.parent(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	defer d.close()
	rmdir := flags&unix.AT_REMOVEDIR != 0
	switch {
	case rmdir && d.name == "":
		return 0, unix.EBUSY
	case rmdir && d.name == ".":
		return 0, unix.EINVAL
	case rmdir && d.name == "..":
		return 0, unix.ENOTEMPTY
	case !rmdir && d.special():
		return 0, unix.EISDIR
	case d.node != nil:
		if !d.node.isDir() || d.node.child(p.owner, d.name) == nil {
			return 0, unix.ENOENT
		}
		return 0, unix.EPERM
	case !p.fs.writable:
		return 0, unix.EROFS
	}
	if d.slash && !rmdir {
		// unlink("x/"): the entry decides the errno, nothing is removed.
		st, ok := d.exists()
		switch {
		case !ok:
			return 0, unix.ENOENT
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			return 0, unix.EISDIR
		}
		return 0, unix.ENOTDIR
	}
	return 0, unix.Unlinkat(d.fd, d.name, flags)
}

func sysRename(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.renameat2(unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
}

func sysRenameat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.renameat2(dirfdArg(a[0]), a[1], dirfdArg(a[2]), a[3], 0)
}

func sysRenameat2(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.renameat2(dirfdArg(a[0]), a[1], dirfdArg(a[2]), a[3], uint32(a[4]))
}

func (p *fsTask) renameat2(olddir int, oldAddr uint64, newdir int, newAddr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 ||
		flags&unix.RENAME_EXCHANGE != 0 && flags&(unix.RENAME_NOREPLACE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	from, err := p.parent(olddir, oldAddr)
	if err != nil {
		return 0, err
	}
	defer from.close()
	to, err := p.parent(newdir, newAddr)
	if err != nil {
		return 0, err
	}
	defer to.close()
	switch {
	case from.node != nil && to.node != nil:
		if !from.node.isDir() || !to.node.isDir() {
			return 0, unix.ENOTDIR // a /proc file as a path's directory
		}
		if from.node.child(p.owner, from.name) == nil || to.node.child(p.owner, to.name) == nil {
			return 0, unix.ENOENT // procfs looks both up first
		}
		return 0, unix.EPERM
	case from.node != nil || to.node != nil:
		return 0, unix.EXDEV // /proc is another file system
	case from.special():
		return 0, unix.EBUSY
	case to.special() && flags&unix.RENAME_NOREPLACE != 0:
		return 0, unix.EEXIST
	case to.special():
		return 0, unix.EBUSY
	case !p.fs.writable:
		return 0, unix.EROFS
	}
	if from.slash || to.slash && flags&unix.RENAME_EXCHANGE == 0 {
		// A trailing "/" requires a directory to be renamed.
		st, ok := from.exists()
		if !ok {
			return 0, unix.ENOENT
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return 0, unix.ENOTDIR
		}
	}
	if flags == 0 {
		return 0, unix.Renameat(from.fd, from.name, to.fd, to.name)
	}
	return 0, unix.Renameat2(from.fd, from.name, to.fd, to.name, uint(flags))
}

func sysSymlink(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.symlinkat(a[0], unix.AT_FDCWD, a[1])
}

func sysSymlinkat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.symlinkat(a[0], dirfdArg(a[1]), a[2])
}

func (p *fsTask) symlinkat(targetAddr uint64, dirfd int, pathAddr uint64) (uint64, error) {
	target, err := p.pathArg(targetAddr)
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
	defer d.close()
	if err := p.create(&d, false); err != nil {
		return 0, err
	}
	// The target is text: resolving it later stays in the root.
	return 0, unix.Symlinkat(target, d.fd, d.name)
}

func sysLink(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.linkat(unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
}

func sysLinkat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.linkat(dirfdArg(a[0]), a[1], dirfdArg(a[2]), a[3], int(int32(a[4])))
}

func (p *fsTask) linkat(olddir int, oldAddr uint64, newdir int, newAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	oldPath, err := p.pathArg(oldAddr)
	if err != nil {
		return 0, err
	}
	look := unix.O_PATH | unix.O_NOFOLLOW
	if flags&unix.AT_SYMLINK_FOLLOW != 0 {
		look = unix.O_PATH
	}
	src, err := p.lookupFD(olddir, oldPath, flags&unix.AT_EMPTY_PATH != 0, look)
	if err != nil {
		return 0, err
	}
	defer src.close()
	d, err := p.parent(newdir, newAddr)
	if err != nil {
		return 0, err
	}
	defer d.close()
	// Linux's filename_create (EEXIST, EROFS...) comes before EXDEV.
	if err := p.create(&d, false); err != nil {
		return 0, err
	}
	if src.node != nil {
		return 0, unix.EXDEV // /proc is another file system
	}
	if src.origin != fromRoot {
		// A handed-in file, device or the program: another file system,
		// unless it is also the root's (then link it from there).
		fd, _, ok := p.fs.findInRoot(src.fd)
		if !ok || src.origin == fromDevice {
			if ok {
				unix.Close(fd)
			}
			return 0, unix.EXDEV
		}
		unix.Close(src.fd)
		src.fd = fd
	}
	// Link exactly the inode resolved in the root: by fd (needs
	// CAP_DAC_READ_SEARCH), else through the host's /proc magic link.
	err = unix.Linkat(src.fd, "", d.fd, d.name, unix.AT_EMPTY_PATH)
	if err == unix.ENOENT || err == unix.EPERM {
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+itoa(src.fd), d.fd, d.name, unix.AT_SYMLINK_FOLLOW)
	}
	return 0, err
}

// changeable resolves the file an attribute call changes, following the
// last symlink unless nofollow, and checks the root may change.
func (p *fsTask) changeable(dirfd int, pathAddr uint64, flags int) (resolved, error) {
	path, err := p.pathOrEmpty(pathAddr, flags)
	if err != nil {
		return resolved{fd: -1}, err
	}
	r, err := p.lookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, lookFlags(flags))
	if err != nil {
		return r, err
	}
	if err := p.mayChange(r.node, r.origin, r.fd); err != nil {
		r.close()
		return resolved{fd: -1}, err
	}
	return r, nil
}

// mayChange says whether a file's attributes, size or links may change:
// /proc refuses (EPERM); the root changes only with --rw (EROFS); what
// kshim made for the guest is the guest's; the host's devices never
// change, nor other host objects (EPERM) unless findInRoot finds them
// (host fd h) in the root, whose rule then applies.
func (p *fsTask) mayChange(node *procNode, origin fileOrigin, h int) error {
	switch {
	case node != nil || origin == fromDevice:
		return unix.EPERM
	case origin == fromKshim:
		return nil
	case origin != fromRoot:
		fd, _, ok := p.fs.findInRoot(h)
		if !ok {
			return unix.EPERM
		}
		unix.Close(fd)
	}
	if !p.fs.writable {
		return unix.EROFS
	}
	return nil
}

// maySize is mayChange for ftruncate and fallocate, which change only a
// regular file open for writing: the host answers the rest as Linux does
// (EINVAL, EBADF, ESPIPE, ENODEV...), and a read-only root gives out no
// such fd of its own.
func (p *fsTask) maySize(e fdEntry) error {
	var st unix.Stat_t
	if err := unix.Fstat(e.host, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	fl, err := unix.FcntlInt(uintptr(e.host), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE == unix.O_RDONLY {
		return nil
	}
	return p.mayChange(nil, e.file.origin, e.host)
}

// openedFile returns a guest fd's entry for an fd-based attribute call:
// EBADF for O_PATH fds (Linux's fdget), then mayChange.
func (p *fsTask) openedFile(fd uint64) (fdEntry, error) {
	e, err := p.entry(fd)
	if err != nil {
		return e, err
	}
	if e.file.pathOnly {
		return e, unix.EBADF
	}
	if e.file.node == nil {
		if err := checkNotPath(e.host); err != nil {
			return e, err
		}
	}
	return e, p.mayChange(e.file.node, e.file.origin, e.host)
}

func sysTruncate(p *Process, _ *Regs, a *args) (uint64, error) {
	path, err := p.pathArg(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	r, err := p.lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return 0, err
	}
	defer r.close()
	if r.node != nil {
		if r.node.isDir() {
			return 0, unix.EISDIR
		}
		// procfs takes (and ignores) a size change from who may write.
		return 0, nodeAccess(r.node, unix.W_OK)
	}
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return 0, unix.EISDIR
	case unix.S_IFREG:
	default:
		return 0, unix.EINVAL
	}
	if err := p.mayChange(nil, r.origin, r.fd); err != nil {
		return 0, err
	}
	if r.origin == fromExe {
		return 0, unix.ETXTBSY // the program is running
	}
	// Reopen exactly that inode for writing (the permission check
	// truncate makes), through the host's magic link to kshim's own fd.
	w, err := unix.Open("/proc/self/fd/"+itoa(r.fd), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(w)
	if err := unix.Ftruncate(w, int64(a[1])); err != nil {
		return 0, err
	}
	p.owner.fileShrunk(w)
	return 0, nil
}

func sysFtruncate(p *Process, _ *Regs, a *args) (uint64, error) {
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	if e.file.node != nil {
		if e.file.pathOnly {
			return 0, unix.EBADF
		}
		return 0, unix.EINVAL // not open for writing
	}
	if err := p.maySize(e); err != nil {
		return 0, err
	}
	if err := unix.Ftruncate(e.host, int64(a[1])); err != nil {
		return 0, err
	}
	p.owner.fileShrunk(e.host)
	return 0, nil
}

func sysChmod(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fchmodat(unix.AT_FDCWD, a[0], uint32(a[1]), 0)
}

func sysFchmodat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fchmodat(dirfdArg(a[0]), a[1], uint32(a[2]), 0)
}

func sysFchmodat2(p *Process, _ *Regs, a *args) (uint64, error) {
	flags := int(int32(a[3]))
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return p.fchmodat(dirfdArg(a[0]), a[1], uint32(a[2]), flags)
}

func (p *fsTask) fchmodat(dirfd int, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	r, err := p.changeable(dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	defer r.close()
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return 0, unix.EOPNOTSUPP // symlinks have no mode of their own
		}
	}
	return 0, chmodFD(r.fd, mode&0o7777)
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
	return unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+itoa(h), mode, 0)
}

func sysFchmod(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.openedFile(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchmod(e.host, uint32(a[1])&0o7777)
}

func sysChown(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fchownat(unix.AT_FDCWD, a[0], a[1], a[2], 0)
}

func sysLchown(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fchownat(unix.AT_FDCWD, a[0], a[1], a[2], unix.AT_SYMLINK_NOFOLLOW)
}

func sysFchownat(p *Process, _ *Regs, a *args) (uint64, error) {
	flags := int(int32(a[4]))
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return p.fchownat(dirfdArg(a[0]), a[1], a[2], a[3], flags)
}

func (p *fsTask) fchownat(dirfd int, pathAddr, uid, gid uint64, flags int) (uint64, error) {
	r, err := p.changeable(dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	defer r.close()
	// -1 (as a 32-bit id) leaves an id unchanged; the host checks
	// privilege (EPERM for a non-root kshim, as for a non-root guest).
	return 0, unix.Fchownat(r.fd, "", int(int32(uid)), int(int32(gid)), unix.AT_EMPTY_PATH)
}

func sysFchown(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.openedFile(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchown(e.host, int(int32(a[1])), int(int32(a[2])))
}

// atFDCWD is AT_FDCWD as a raw syscall argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

const (
	utimeNow  = (1 << 30) - 1
	utimeOmit = (1 << 30) - 2
)

func sysUtimensat(p *Process, _ *Regs, a *args) (uint64, error) {
	dirfd, pathAddr, flags := dirfdArg(a[0]), a[1], int(int32(a[3]))
	var ts []unix.Timespec
	if a[2] != 0 {
		b := make([]byte, 32)
		if _, err := p.MM.CopyIn(a[2], b); err != nil {
			return 0, err
		}
		ts = []unix.Timespec{{Sec: int64(le64(b)), Nsec: int64(le64(b[8:]))}, {Sec: int64(le64(b[16:])), Nsec: int64(le64(b[24:]))}}
		if ts[0].Nsec == utimeOmit && ts[1].Nsec == utimeOmit {
			return 0, nil // Linux: nothing to do, not even a lookup
		}
		for _, t := range ts {
			if (t.Nsec < 0 || t.Nsec >= 1e9) && t.Nsec != utimeNow && t.Nsec != utimeOmit {
				return 0, unix.EINVAL
			}
		}
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	var r resolved
	var err error
	if pathAddr == 0 {
		// futimens: the fd itself (no flags); AT_FDCWD has no file.
		if dirfd == unix.AT_FDCWD {
			return 0, unix.EFAULT
		}
		if flags != 0 {
			return 0, unix.EINVAL
		}
		e, err := p.openedFile(uint64(uint32(dirfd)))
		if err != nil {
			return 0, err
		}
		return 0, utimesFD(e.host, ts, false)
	}
	if r, err = p.changeable(dirfd, pathAddr, flags); err != nil {
		return 0, err
	}
	defer r.close()
	return 0, utimesFD(r.fd, ts, true)
}

// utimesFD sets the times of the file at host fd h (an O_PATH fd when
// opath: by AT_EMPTY_PATH, else the host's /proc magic link).
func utimesFD(h int, ts []unix.Timespec, opath bool) error {
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
		link, err := unix.BytePtrFromString("/proc/self/fd/" + itoa(h))
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

func sysFsync(p *Process, r *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	if e.file.node != nil {
		if e.file.pathOnly {
			return 0, unix.EBADF
		}
		return 0, unix.EINVAL // procfs files cannot be synced
	}
	if r.RAX == unix.SYS_FDATASYNC {
		return 0, unix.Fdatasync(e.host)
	}
	return 0, unix.Fsync(e.host)
}

// fallocate needs an fd open for writing, which a read-only root never
// gives out, so the host's own checks (EBADF first) are Linux's; a host
// object's size or blocks never change (maySize).
func sysFallocate(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	if f := e.file; f.node != nil {
		if f.pathOnly || f.acc == unix.O_RDONLY {
			return 0, unix.EBADF
		}
		return 0, unix.EOPNOTSUPP // procfs has no fallocate
	}
	if int64(a[2]) >= 0 && int64(a[3]) > 0 { // else EINVAL comes first
		if err := p.maySize(e); err != nil {
			return 0, err
		}
	}
	return 0, unix.Fallocate(e.host, uint32(a[1]), int64(a[2]), int64(a[3]))
}

// flock locks belong to the host open file description, shared by dups
// exactly as on Linux. A wait is ended only by a guest signal.
func sysFlock(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	for {
		err := unix.Flock(e.host, int(int32(a[1])))
		if err == unix.EINTR && !p.owner.interrupted() {
			continue
		}
		return 0, err
	}
}

func sysFadvise64(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fadvise(e.host, int64(a[1]), int64(a[2]), int(int32(a[3])))
}
