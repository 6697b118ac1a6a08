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
package fs

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
)

func StatBytes(st *unix.Stat_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(st)), unsafe.Sizeof(*st))
}

// StatOf stats a resolved path or an open fd's file.
func (p *Task) StatOf(fd int, node *ProcNode) (unix.Stat_t, error) {
	if node != nil {
		return p.Owner.ProcStat(node), nil
	}
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	return st, err
}

const AtStatxSyncType = 0x6000

// PathOrEmpty reads an *at path argument; with AT_EMPTY_PATH a NULL
// pointer is the empty path (Linux 6.11).
func (p *Task) PathOrEmpty(addr uint64, flags int) (string, error) {
	if addr == 0 && flags&unix.AT_EMPTY_PATH != 0 {
		return "", nil
	}
	return p.PathArg(addr)
}

func LookFlags(flags int) int {
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		return unix.O_PATH | unix.O_NOFOLLOW
	}
	return unix.O_PATH
}

func (p *Task) Fstatat(dirfd int, pathAddr, buf uint64, flags int) (uint64, error) {
	path, err := p.PathOrEmpty(pathAddr, flags)
	if err != nil {
		return 0, err
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|AtStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	if e, ok, err := p.EmptyPathEntry(dirfd, path, flags); ok {
		// fstat as glibc makes it: the fd's own host fd, held for
		// this call, with no dup for a lookup.
		if err != nil {
			return 0, err
		}
		st, err := p.StatOf(e.Host, e.File.Node)
		if err != nil {
			return 0, err
		}
		_, err = p.MM.CopyOut(buf, StatBytes(&st))
		return 0, err
	}
	r, err := p.LookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, LookFlags(flags))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var st unix.Stat_t
	if r.Stat != nil {
		st = *r.Stat // the lookup's own look at the file
	} else if st, err = p.StatOf(r.FD, r.Node); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(buf, StatBytes(&st))
	return 0, err
}

// EmptyPathEntry says whether (dirfd, path) with *at flags names guest fd
// dirfd itself (AT_EMPTY_PATH, an empty path, not AT_FDCWD), and gives
// its entry, held until the syscall returns (EBADF: no such fd). Calls
// that only look at the fd's file use its own host fd then, as LookupFD's
// dup of it would be the same file.
func (p *Task) EmptyPathEntry(dirfd int, path string, flags int) (FDEntry, bool, error) {
	if path != "" || flags&unix.AT_EMPTY_PATH == 0 || dirfd == unix.AT_FDCWD {
		return FDEntry{}, false, nil
	}
	e, err := p.Entry(uint64(uint32(dirfd)))
	return e, true, err
}

// StatxOf converts a generated stat (a /proc node's) to statx.
func StatxOf(st unix.Stat_t) unix.Statx_t {
	ts := func(t unix.Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: uint32(st.Blksize), Nlink: uint32(st.Nlink),
		Uid: st.Uid, Gid: st.Gid, Mode: uint16(st.Mode), Ino: st.Ino, Size: uint64(st.Size),
		Blocks: uint64(st.Blocks), Atime: ts(st.Atim), Btime: ts(st.Ctim), Ctime: ts(st.Ctim), Mtime: ts(st.Mtim),
	}
}

func StatfsBytes(sf *unix.Statfs_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(sf)), unsafe.Sizeof(*sf))
}

// stValid is ST_VALID: f_flags is filled in (Linux sets it always).
const stValid = 0x20

// StatfsOf is statfs of a resolved path or open file: a read-only root
// says ST_RDONLY, and /proc is a procfs.
func (p *Task) StatfsOf(fd int, node *ProcNode, origin fileOrigin, mnt *HostMount) (unix.Statfs_t, error) {
	var sf unix.Statfs_t
	if node != nil {
		typ, flags := int64(unix.PROC_SUPER_MAGIC), int64(0)
		if node.Sys() {
			typ, flags = unix.SYSFS_MAGIC, unix.ST_RDONLY
		}
		if node.Magic != 0 {
			// simple_statfs: the type, a page, NAME_MAX; the flags
			// ST_VALID and relatime (the mount's own options are
			// not known here).
			return unix.Statfs_t{Type: node.Magic, Bsize: guestmm.PageSize, Frsize: guestmm.PageSize,
				Namelen: 255, Flags: stValid | unix.ST_RELATIME}, nil
		}
		sf = unix.Statfs_t{Type: typ, Bsize: guestmm.PageSize, Frsize: guestmm.PageSize,
			Namelen: 255, Flags: flags | stValid | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RELATIME}
		return sf, nil
	}
	if err := unix.Fstatfs(fd, &sf); err != nil {
		return sf, err
	}
	if origin == FromRoot && p.FS.RO(mnt) {
		sf.Flags |= unix.ST_RDONLY
	}
	if origin == FromRoot && mnt != nil {
		sf.Flags |= mnt.statfsFlags()
	}
	return sf, nil
}

func (p *Task) Faccessat(dirfd int, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	if mode&^uint32(unix.R_OK|unix.W_OK|unix.X_OK) != 0 ||
		flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	path, err := p.PathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	r, err := p.LookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, LookFlags(flags))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if r.Node != nil {
		return 0, NodeAccess(r.Node, mode)
	}
	if mode&unix.W_OK != 0 && r.Origin == FromRoot && p.FS.RO(r.Mnt) {
		var st unix.Stat_t
		if err := unix.Fstat(r.FD, &st); err != nil {
			return 0, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return 0, unix.EROFS // before permissions, as Linux's sb_permission
		}
	}
	return 0, unix.Faccessat2(r.FD, "", mode, unix.AT_EMPTY_PATH|flags&unix.AT_EACCESS)
}

// NodeAccess checks access to a /proc node, owned by the guest's user:
// root passes except X_OK on a file with no x bit, as Linux's
// generic_permission.
func NodeAccess(n *ProcNode, mode uint32) error {
	perm := n.Mode & 0o777
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

func (p *Task) Readlinkat(dirfd int, pathAddr, buf, size uint64) (uint64, error) {
	if int32(size) <= 0 {
		return 0, unix.EINVAL
	}
	path, err := p.PathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	// An empty path reads dirfd itself when it is a symlink (O_PATH|
	// O_NOFOLLOW), and is ENOENT otherwise.
	r, err := p.LookupFD(dirfd, path, dirfd != unix.AT_FDCWD, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	notLink := unix.EINVAL
	if path == "" {
		notLink = unix.ENOENT
	}
	var target string
	if r.Node != nil {
		if !r.Node.IsLink() {
			return 0, notLink
		}
		if target, err = r.Node.Target(p.Owner); err != nil {
			return 0, err
		}
	} else {
		var st unix.Stat_t
		if r.Stat != nil {
			st = *r.Stat // the lookup's own look
		} else if err := unix.Fstat(r.FD, &st); err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return 0, notLink
		}
		b := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(r.FD, "", b)
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

func (p *Task) VirtualGetdents(d *VirtualDir, buf, count uint64) (uint64, error) {
	d.Mu.Lock()
	defer d.Mu.Unlock()
	if d.Entries == nil || d.Pos == 0 {
		d.Entries = p.Owner.ProcDirents(d.Node)
	}
	var out []byte
	pos := d.Pos
	for ; pos < len(d.Entries); pos++ {
		ent := d.Entries[pos]
		size := direntSize(ent.Name)
		if uint64(len(out)+size) > count {
			break
		}
		rec := make([]byte, size)
		abi.Put64(rec, ent.Ino)
		abi.Put64(rec[8:], uint64(pos+1)) // d_off: where the next read starts
		rec[16], rec[17] = byte(size), byte(size>>8)
		rec[18] = ent.Typ
		copy(rec[19:], ent.Name)
		out = append(out, rec...)
	}
	if len(out) == 0 && pos < len(d.Entries) {
		return 0, unix.EINVAL // the buffer cannot hold one entry
	}
	if _, err := p.MM.CopyOut(buf, out); err != nil {
		return 0, err
	}
	d.Pos = pos
	return uint64(len(out)), nil
}

// SetCwd makes a resolved directory the cwd (taking r's fd). A /proc
// directory has no host fd: it is kept as a node, the host cwd fd stays.
// A handed-in directory becomes the cwd only as its place in the root
// (FindInRoot); one outside the root is EACCES.
func (p *Task) SetCwd(r Resolved) error {
	if r.Node != nil {
		if !r.Node.IsDir() {
			return unix.ENOTDIR
		}
		if err := NodeAccess(r.Node, unix.X_OK); err != nil {
			return err
		}
		cwdMu.Lock()
		p.FS.CwdNode = r.Node
		cwdMu.Unlock()
		return nil
	}
	if r.Origin != FromRoot {
		fd, g, ok := p.FS.FindInRoot(r.FD)
		r.Close()
		if !ok {
			return unix.EACCES
		}
		r = Resolved{FD: fd, Guest: g, Origin: FromRoot}
	}
	if err := unix.Faccessat2(r.FD, "", unix.X_OK, unix.AT_EMPTY_PATH|unix.AT_EACCESS); err != nil {
		r.Close()
		return err
	}
	cwdMu.Lock()
	old := p.FS.cwdRef
	p.FS.Cwd, p.FS.CwdPath, p.FS.CwdNode, p.FS.CwdMnt = r.FD, r.Guest, nil, r.Mnt
	p.FS.cwdRef = newHostRef(r.FD)
	cwdMu.Unlock()
	if old != nil {
		old.put(nil) // closed once no lookup from it holds it (heldCwd)
	}
	return nil
}
