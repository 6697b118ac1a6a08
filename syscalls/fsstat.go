// fsstat.go: calls that look at files without changing them: the stat
// family, statfs, access, readlink, getdents64, getcwd, chdir.
//
// Invariants:
//   - A path is resolved once, to an O_PATH host fd (fspath.go), and the
//     host call acts on that fd with AT_EMPTY_PATH: kshim never hands the
//     host a path with more than one component.
//   - Argument checks run in Linux's order (flags before or after reading
//     the path, as each syscall does), so the errno for several bad
//     arguments at once is Linux's.
//   - Guest buffers are written only with CopyOut; a read-only root shows
//     ST_RDONLY in statfs and EROFS for access(W_OK) like a read-only mount.
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

func statBytes(st *unix.Stat_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(st)), unsafe.Sizeof(*st))
}

// statOf stats a resolved path or an open fd's file.
func (p *fsTask) statOf(fd int, node *procNode) (unix.Stat_t, error) {
	if node != nil {
		return p.owner.procStat(node), nil
	}
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	return st, err
}

func sysFstat(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	st, err := p.statOf(e.host, e.file.node)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], statBytes(&st))
	return 0, err
}

func sysStat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fstatat(unix.AT_FDCWD, a[0], a[1], 0)
}

func sysLstat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fstatat(unix.AT_FDCWD, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW)
}

func sysNewfstatat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.fstatat(dirfdArg(a[0]), a[1], a[2], int(int32(a[3])))
}

const atStatxSyncType = 0x6000

// pathOrEmpty reads an *at path argument; with AT_EMPTY_PATH a NULL
// pointer is the empty path (Linux 6.11).
func (p *fsTask) pathOrEmpty(addr uint64, flags int) (string, error) {
	if addr == 0 && flags&unix.AT_EMPTY_PATH != 0 {
		return "", nil
	}
	return p.pathArg(addr)
}

func lookFlags(flags int) int {
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		return unix.O_PATH | unix.O_NOFOLLOW
	}
	return unix.O_PATH
}

func (p *fsTask) fstatat(dirfd int, pathAddr, buf uint64, flags int) (uint64, error) {
	path, err := p.pathOrEmpty(pathAddr, flags)
	if err != nil {
		return 0, err
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	r, err := p.lookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, lookFlags(flags))
	if err != nil {
		return 0, err
	}
	defer r.close()
	st, err := p.statOf(r.fd, r.node)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(buf, statBytes(&st))
	return 0, err
}

func sysStatx(p *Process, _ *Regs, a *args) (uint64, error) {
	dirfd, flags, mask := dirfdArg(a[0]), int(int32(a[2])), uint32(a[3])
	path, err := p.pathOrEmpty(a[1], flags)
	if err != nil {
		return 0, err
	}
	if mask&unix.STATX__RESERVED != 0 || flags&atStatxSyncType == atStatxSyncType ||
		flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|atStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	r, err := p.lookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, lookFlags(flags))
	if err != nil {
		return 0, err
	}
	defer r.close()
	var stx unix.Statx_t
	if r.node != nil {
		stx = statxOf(p.owner.procStat(r.node))
	} else if err := unix.Statx(r.fd, "", unix.AT_EMPTY_PATH|flags&(atStatxSyncType|unix.AT_NO_AUTOMOUNT), int(mask), &stx); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[4], unsafe.Slice((*byte)(unsafe.Pointer(&stx)), unsafe.Sizeof(stx)))
	return 0, err
}

// statxOf converts a generated stat (a /proc node's) to statx.
func statxOf(st unix.Stat_t) unix.Statx_t {
	ts := func(t unix.Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: uint32(st.Blksize), Nlink: uint32(st.Nlink),
		Uid: st.Uid, Gid: st.Gid, Mode: uint16(st.Mode), Ino: st.Ino, Size: uint64(st.Size),
		Blocks: uint64(st.Blocks), Atime: ts(st.Atim), Btime: ts(st.Ctim), Ctime: ts(st.Ctim), Mtime: ts(st.Mtim),
	}
}

func statfsBytes(sf *unix.Statfs_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(sf)), unsafe.Sizeof(*sf))
}

// statfsOf is statfs of a resolved path or open file: a read-only root
// says ST_RDONLY, and /proc is a procfs.
func (p *fsTask) statfsOf(fd int, node *procNode, origin fileOrigin) (unix.Statfs_t, error) {
	var sf unix.Statfs_t
	if node != nil {
		sf = unix.Statfs_t{Type: unix.PROC_SUPER_MAGIC, Bsize: guestmm.PageSize, Frsize: guestmm.PageSize,
			Namelen: 255, Flags: unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RELATIME}
		return sf, nil
	}
	if err := unix.Fstatfs(fd, &sf); err != nil {
		return sf, err
	}
	if origin == fromRoot && !p.fs.writable {
		sf.Flags |= unix.ST_RDONLY
	}
	return sf, nil
}

func sysStatfs(p *Process, _ *Regs, a *args) (uint64, error) {
	path, err := p.pathArg(a[0])
	if err != nil {
		return 0, err
	}
	r, err := p.lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return 0, err
	}
	defer r.close()
	sf, err := p.statfsOf(r.fd, r.node, r.origin)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], statfsBytes(&sf))
	return 0, err
}

func sysFstatfs(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	sf, err := p.statfsOf(e.host, e.file.node, e.file.origin)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], statfsBytes(&sf))
	return 0, err
}

func sysAccess(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.faccessat(unix.AT_FDCWD, a[0], uint32(a[1]), 0)
}

func sysFaccessat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.faccessat(dirfdArg(a[0]), a[1], uint32(a[2]), 0)
}

func sysFaccessat2(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.faccessat(dirfdArg(a[0]), a[1], uint32(a[2]), int(int32(a[3])))
}

func (p *fsTask) faccessat(dirfd int, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	if mode&^uint32(unix.R_OK|unix.W_OK|unix.X_OK) != 0 ||
		flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := p.pathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	r, err := p.lookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, lookFlags(flags))
	if err != nil {
		return 0, err
	}
	defer r.close()
	if r.node != nil {
		return 0, nodeAccess(r.node, mode)
	}
	if mode&unix.W_OK != 0 && r.origin == fromRoot && !p.fs.writable {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return 0, unix.EROFS // before permissions, as Linux's sb_permission
		}
	}
	return 0, unix.Faccessat2(r.fd, "", mode, unix.AT_EMPTY_PATH|flags&unix.AT_EACCESS)
}

// nodeAccess checks access to a /proc node, owned by the guest's user:
// root passes except X_OK on a file with no x bit, as Linux's
// generic_permission.
func nodeAccess(n *procNode, mode uint32) error {
	perm := n.mode & 0o777
	if unix.Geteuid() == 0 {
		if mode&unix.X_OK != 0 && perm&0o111 == 0 {
			return unix.EACCES
		}
		return nil
	}
	if mode&^(perm>>6) != 0 {
		return unix.EACCES
	}
	return nil
}

func sysReadlink(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.readlinkat(unix.AT_FDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.readlinkat(dirfdArg(a[0]), a[1], a[2], a[3])
}

func (p *fsTask) readlinkat(dirfd int, pathAddr, buf, size uint64) (uint64, error) {
	if int32(size) <= 0 {
		return 0, unix.EINVAL
	}
	path, err := p.pathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	// An empty path reads dirfd itself when it is a symlink (O_PATH|
	// O_NOFOLLOW), and is ENOENT otherwise.
	r, err := p.lookupFD(dirfd, path, dirfd != unix.AT_FDCWD, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	defer r.close()
	notLink := unix.EINVAL
	if path == "" {
		notLink = unix.ENOENT
	}
	var target string
	if r.node != nil {
		if !r.node.isLink() {
			return 0, notLink
		}
		if target, err = r.node.target(p.owner); err != nil {
			return 0, err
		}
	} else {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return 0, notLink
		}
		b := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(r.fd, "", b)
		if err != nil {
			return 0, err
		}
		target = string(b[:n])
	}
	if uint64(len(target)) > uint64(int32(size)) {
		target = target[:int32(size)]
	}
	c, err := p.MM.CopyOut(buf, []byte(target))
	if err != nil {
		return 0, err
	}
	return uint64(c), nil
}

// direntSize is the length of a linux_dirent64 for a name: 19 header
// bytes, the name, its NUL, padded to 8.
func direntSize(name string) int { return (19 + len(name) + 1 + 7) &^ 7 }

func sysGetdents64(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	buf, count := a[1], uint64(uint32(a[2]))
	switch e.file.kind {
	case kindProcDir:
		return p.virtualGetdents(e.file.dir, buf, count)
	case kindProc, kindProcLink:
		return 0, unix.ENOTDIR
	}
	if !accessOK(buf, count) {
		return 0, unix.EFAULT
	}
	n := p.writablePrefix(buf, min(count, ioChunk))
	if n == 0 && count > 0 {
		return 0, unix.EFAULT
	}
	b := make([]byte, n)
	got, err := unix.Getdents(e.host, b)
	if err != nil {
		return 0, err
	}
	if _, err := p.MM.CopyOut(buf, b[:got]); err != nil {
		return 0, err
	}
	return uint64(got), nil
}

func (p *fsTask) virtualGetdents(d *virtualDir, buf, count uint64) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.entries == nil || d.pos == 0 {
		d.entries = p.owner.procDirents(d.node)
	}
	var out []byte
	pos := d.pos
	for ; pos < len(d.entries); pos++ {
		ent := d.entries[pos]
		size := direntSize(ent.name)
		if uint64(len(out)+size) > count {
			break
		}
		rec := make([]byte, size)
		put64(rec, ent.ino)
		put64(rec[8:], uint64(pos+1)) // d_off: where the next read starts
		rec[16], rec[17] = byte(size), byte(size>>8)
		rec[18] = ent.typ
		copy(rec[19:], ent.name)
		out = append(out, rec...)
	}
	if len(out) == 0 && pos < len(d.entries) {
		return 0, unix.EINVAL // the buffer cannot hold one entry
	}
	if _, err := p.MM.CopyOut(buf, out); err != nil {
		return 0, err
	}
	d.pos = pos
	return uint64(len(out)), nil
}

func sysGetcwd(p *Process, _ *Regs, a *args) (uint64, error) {
	g, err := p.getcwd()
	if err != nil {
		return 0, err
	}
	n := uint64(len(g) + 1)
	if a[1] < n {
		return 0, unix.ERANGE
	}
	if _, err := p.MM.CopyOut(a[0], append([]byte(g), 0)); err != nil {
		return 0, err
	}
	return n, nil
}

func sysChdir(p *Process, _ *Regs, a *args) (uint64, error) {
	path, err := p.pathArg(a[0])
	if err != nil {
		return 0, err
	}
	r, err := p.lookup(unix.AT_FDCWD, path, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return 0, err
	}
	return 0, p.setCwd(r)
}

func sysFchdir(p *Process, _ *Regs, a *args) (uint64, error) {
	if _, err := p.entry(a[0]); err != nil {
		return 0, err // AT_FDCWD is no fd here
	}
	r, err := p.lookupFD(fdArg(a[0]), "", true, 0)
	if err != nil {
		return 0, err
	}
	if r.node == nil {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			r.close()
			return 0, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			r.close()
			return 0, unix.ENOTDIR
		}
	}
	return 0, p.setCwd(r)
}

// setCwd makes a resolved directory the cwd (taking r's fd). A /proc
// directory has no host fd: it is kept as a node, the host cwd fd stays.
// A handed-in directory becomes the cwd only as its place in the root
// (findInRoot); one outside the root is EACCES.
func (p *fsTask) setCwd(r resolved) error {
	if r.node != nil {
		if !r.node.isDir() {
			return unix.ENOTDIR
		}
		if err := nodeAccess(r.node, unix.X_OK); err != nil {
			return err
		}
		p.fs.cwdNode = r.node
		return nil
	}
	if r.origin != fromRoot {
		fd, g, ok := p.fs.findInRoot(r.fd)
		r.close()
		if !ok {
			return unix.EACCES
		}
		r = resolved{fd: fd, guest: g, origin: fromRoot}
	}
	if err := unix.Faccessat2(r.fd, "", unix.X_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS); err != nil {
		r.close()
		return err
	}
	unix.Close(p.fs.cwd)
	p.fs.cwd, p.fs.cwdPath, p.fs.cwdNode = r.fd, r.guest, nil
	return nil
}
