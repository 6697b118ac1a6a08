// fsopen.go: opening files, and the calls that only shuffle fds (close,
// dup, fcntl, pipe, umask).
//
// Invariants:
//   - Open flags follow Linux's build_open_flags: unknown bits are dropped
//     (open/openat never reject them), O_PATH keeps only its own flags, the
//     mode counts only with O_CREAT/O_TMPFILE and gets the guest's umask
//     (the host's is 0, fspath.go).
//   - A free fd is checked for before the path is looked up, so a full
//     table is EMFILE without creating anything, as on Linux.
//   - Without --rw, an open with write intent of anything under the root
//     but a FIFO or socket fails with the errno Linux gives on a read-only
//     mount, and only after the lookup errors Linux reports first
//     (ENOENT, ENOTDIR, EEXIST, EISDIR, ELOOP). The host devices of
//     hostDevices, /proc and the fds the guest inherited are not under the
//     root and open normally, but for mayReopen (fsproc.go).
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	oLargefile = 0x8000   // the kernel's O_LARGEFILE (x/sys says 0 on amd64)
	oTmpfile   = 0x400000 // __O_TMPFILE, without O_DIRECTORY

	validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
		unix.O_APPEND | unix.O_NONBLOCK | unix.O_SYNC | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT |
		oLargefile | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC |
		unix.O_PATH | oTmpfile
	oPathFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
)

// writeIntent says whether open flags may change the file (Linux's
// MAY_WRITE, plus creating).
func writeIntent(flags int) bool {
	return flags&unix.O_ACCMODE != unix.O_RDONLY || flags&(unix.O_CREAT|unix.O_TRUNC|oTmpfile) != 0
}

func sysOpen(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.open(unix.AT_FDCWD, a[0], int(int32(a[1])), uint32(a[2]))
}

func sysOpenat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.open(dirfdArg(a[0]), a[1], int(int32(a[2])), uint32(a[3]))
}

func sysCreat(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.open(unix.AT_FDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1]))
}

func (p *fsTask) open(dirfd int, pathAddr uint64, flags int, mode uint32) (uint64, error) {
	path, err := p.pathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	flags &= validOpenFlags
	if flags&unix.O_PATH != 0 {
		flags &= oPathFlags
	}
	if flags&(unix.O_CREAT|oTmpfile) != 0 {
		mode = mode & 0o7777 &^ p.fs.umask
	} else {
		mode = 0
	}
	// build_open_flags' own errors come before any lookup.
	if flags&oTmpfile != 0 && (flags&(oTmpfile|unix.O_DIRECTORY|unix.O_CREAT) != unix.O_TMPFILE ||
		flags&unix.O_ACCMODE == unix.O_RDONLY) {
		return 0, unix.EINVAL
	}
	if flags&(unix.O_DIRECTORY|unix.O_CREAT) == unix.O_DIRECTORY|unix.O_CREAT {
		return 0, unix.EINVAL
	}
	if !p.files.hasFree(p.nofile()) {
		return 0, unix.EMFILE
	}
	if err := p.files.fileRoom(); err != nil {
		return 0, err
	}
	cloexec := flags&unix.O_CLOEXEC != 0
	host := flags&^unix.O_CLOEXEC | noctty(flags)
	var r resolved
	if !p.fs.writable && writeIntent(flags) && flags&unix.O_PATH == 0 {
		r, err = p.openReadOnly(dirfd, path, host, mode)
	} else {
		r, err = p.lookup(dirfd, path, host, mode)
	}
	if err != nil {
		return 0, err
	}
	if flags&unix.O_TRUNC != 0 && r.fd >= 0 {
		p.owner.fileShrunk(r.fd)
	}
	return p.install(r, flags, cloexec)
}

// install gives a resolved path a guest fd.
func (p *fsTask) install(r resolved, flags int, cloexec bool) (uint64, error) {
	if r.node != nil {
		h, f, err := p.owner.openNode(r.node, flags)
		if err != nil {
			return 0, err
		}
		return p.newFD(h, cloexec, f)
	}
	return p.newFD(r.fd, cloexec, &openFile{kind: kindHost, path: r.guest, origin: r.origin, grant: r.grant})
}

// openReadOnly opens with write intent under a read-only root: look first
// (as Linux does before it asks the mount for write access), then refuse
// or open what a read-only mount would let through.
func (p *fsTask) openReadOnly(dirfd int, path string, flags int, mode uint32) (resolved, error) {
	fail := func(err error) (resolved, error) { return resolved{fd: -1}, err }
	look := unix.O_PATH | flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY)
	excl := flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
	if excl {
		look |= unix.O_NOFOLLOW // O_EXCL never follows a last symlink
	}
	r, err := p.lookup(dirfd, path, look, 0)
	if err == unix.ENOENT && flags&unix.O_CREAT != 0 {
		d, perr := p.lookupParent(dirfd, path)
		d.close()
		switch {
		case perr != nil:
			return fail(perr)
		case d.node != nil:
			return fail(unix.ENOENT)
		case d.slash:
			return fail(unix.EISDIR)
		}
		return fail(unix.EROFS)
	}
	if err != nil {
		return fail(err)
	}
	if r.node != nil || r.origin != fromRoot {
		// /proc answers for itself; devices and inherited fds are not
		// on the read-only tree.
		r.close()
		return p.lookup(dirfd, path, flags, mode)
	}
	var st unix.Stat_t
	err = unix.Fstat(r.fd, &st)
	if err != nil {
		r.close()
		return fail(err)
	}
	switch typ := st.Mode & unix.S_IFMT; {
	case excl:
		err = unix.EEXIST
	case flags&oTmpfile != 0:
		err = unix.EROFS
	case typ == unix.S_IFDIR:
		err = unix.EISDIR
	case typ == unix.S_IFLNK:
		err = unix.ELOOP
	case typ == unix.S_IFIFO || typ == unix.S_IFSOCK ||
		flags&unix.O_ACCMODE == unix.O_RDONLY && flags&unix.O_TRUNC == 0:
		// Opening these for writing changes nothing on the mount, nor
		// does O_CREAT of a file that exists.
		r.close()
		w, err := p.lookup(dirfd, path, flags&^(unix.O_TRUNC|unix.O_CREAT), 0)
		if err != nil {
			return fail(err)
		}
		var wst unix.Stat_t
		if unix.Fstat(w.fd, &wst) != nil || wst.Dev != st.Dev || wst.Ino != st.Ino {
			w.close() // replaced under us by a file we must not write
			return fail(unix.EROFS)
		}
		return w, nil
	default:
		err = unix.EROFS
	}
	r.close()
	return fail(err)
}

// hasFree says whether a new fd below limit is available.
func (t *FDTable) hasFree(limit int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit = clampLimit(limit)
	for fd := 0; fd < limit; fd++ {
		if fd >= len(t.fds) || t.fds[fd] == nil {
			return true
		}
	}
	return false
}

func sysClose(p *Process, _ *Regs, a *args) (uint64, error) {
	return 0, p.files.close(fdArg(a[0]))
}

func sysCloseRange(p *Process, _ *Regs, a *args) (uint64, error) {
	first, last, flags := uint32(a[0]), uint32(a[1]), a[2]
	if flags&^uint64(unix.CLOSE_RANGE_UNSHARE|unix.CLOSE_RANGE_CLOEXEC) != 0 || first > last {
		return 0, unix.EINVAL
	}
	// CLOSE_RANGE_UNSHARE: the table is not shared (no threads yet).
	p.files.closeRange(uint(first), uint(last), flags&unix.CLOSE_RANGE_CLOEXEC != 0)
	return 0, nil
}

// dupHost returns a new host fd for the same description as guest fd's.
func (p *fsTask) dupHost(fd uint64) (fdEntry, int, error) {
	e, err := p.entry(fd)
	if err != nil {
		return e, -1, err
	}
	h, err := unix.FcntlInt(uintptr(e.host), unix.F_DUPFD_CLOEXEC, 0)
	return e, h, err
}

func sysDup(p *Process, _ *Regs, a *args) (uint64, error) {
	e, h, err := p.dupHost(a[0])
	if err != nil {
		return 0, err
	}
	return p.newFD(h, false, e.file)
}

func sysDup2(p *Process, r *Regs, a *args) (uint64, error) {
	if uint32(a[0]) == uint32(a[1]) {
		if _, err := p.entry(a[0]); err != nil {
			return 0, err
		}
		return uint64(uint32(a[1])), nil
	}
	return p.dup3(a[0], a[1], 0)
}

func sysDup3(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.dup3(a[0], a[1], a[2])
}

func (p *fsTask) dup3(oldfd, newfd, flags uint64) (uint64, error) {
	if flags&^unix.O_CLOEXEC != 0 || uint32(oldfd) == uint32(newfd) {
		return 0, unix.EINVAL
	}
	if uint64(uint32(newfd)) >= uint64(p.nofile()) {
		return 0, unix.EBADF
	}
	e, h, err := p.dupHost(oldfd)
	if err != nil {
		return 0, err
	}
	if err := p.files.installAt(int(uint32(newfd)), fdEntry{host: h, cloexec: flags&unix.O_CLOEXEC != 0, file: e.file}); err != nil {
		return 0, err
	}
	return uint64(uint32(newfd)), nil
}

const (
	fDupfdQuery = 1027 // F_DUPFD_QUERY (Linux 6.10)
	flockSize   = 32   // struct flock on x86-64
)

func sysFcntl(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	cmd, arg := int(int32(a[1])), a[2]
	virtual := e.file.node != nil
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		if arg >= uint64(p.nofile()) {
			return 0, unix.EINVAL
		}
		h, err := unix.FcntlInt(uintptr(e.host), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		fd, err := p.files.install(fdEntry{host: h, cloexec: cmd == unix.F_DUPFD_CLOEXEC, file: e.file}, int(arg), p.nofile())
		return uint64(fd), err
	case unix.F_GETFD:
		if e.cloexec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, p.files.setCloexec(fdArg(a[0]), arg&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		if virtual {
			return uint64(virtualFlags(e.file)), nil
		}
		fl, err := unix.FcntlInt(uintptr(e.host), unix.F_GETFL, 0)
		return uint64(fl), err
	case unix.F_SETFL:
		if virtual {
			if e.file.pathOnly {
				return 0, unix.EBADF
			}
			return 0, nil // nothing a generated file or directory uses
		}
		_, err := unix.FcntlInt(uintptr(e.host), unix.F_SETFL, int(int32(arg)))
		return 0, err
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		// Record locks belong to the host description (and, for POSIX
		// locks, to kshim's process, which is the guest's).
		var fl [flockSize]byte
		if _, err := p.MM.CopyIn(arg, fl[:]); err != nil {
			return 0, err
		}
		if err := p.fcntlPtr(e.host, cmd, unsafe.Pointer(&fl[0])); err != nil {
			return 0, err
		}
		if cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK {
			if _, err := p.MM.CopyOut(arg, fl[:]); err != nil {
				return 0, err
			}
		}
		return 0, nil
	case unix.F_SETPIPE_SZ:
		return p.setPipeSize(e, arg) // pipebuf.go
	case unix.F_GETPIPE_SZ, unix.F_GET_SEALS, unix.F_ADD_SEALS, unix.F_GETLEASE:
		r, err := unix.FcntlInt(uintptr(e.host), cmd, int(int32(arg)))
		return uint64(r), err
	case fDupfdQuery:
		o, err := p.entry(arg)
		if err != nil {
			return 0, err
		}
		if o.file == e.file {
			return 1, nil
		}
		return 0, nil
	}
	// F_SETOWN, F_SETSIG, F_SETLEASE, F_NOTIFY would have the host signal
	// kshim, not the guest: refused until signals can be routed.
	key := 2<<32 | uint64(uint32(cmd))
	if !p.warned[key] {
		p.warned[key] = true
		p.Log.WithField("cmd", cmd).Debug("unsupported fcntl: EINVAL")
	}
	return 0, unix.EINVAL
}

// virtualFlags is F_GETFL of a /proc fd: read-only, as the guest opened it.
func virtualFlags(f *openFile) int {
	if f.pathOnly {
		return unix.O_PATH
	}
	fl := f.acc | oLargefile
	if f.kind == kindProcDir {
		fl |= unix.O_DIRECTORY
	}
	return fl
}

func (p *fsTask) fcntlPtr(h, cmd int, ptr unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(h), uintptr(cmd), uintptr(ptr))
		if e == unix.EINTR && !p.owner.interrupted() {
			continue // F_SETLKW waits on: only a guest signal ends it
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

func sysPipe(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.pipe2(a[0], 0)
}

func sysPipe2(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.pipe2(a[0], int(int32(a[1])))
}

const oNotificationPipe = unix.O_EXCL

func (p *fsTask) pipe2(addr uint64, flags int) (uint64, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT|oNotificationPipe) != 0 {
		return 0, unix.EINVAL
	}
	var hp [2]int
	done, err := p.makePipe(&hp, flags|unix.O_CLOEXEC) // pipebuf.go
	if err != nil {
		return 0, err
	}
	defer done()
	cloexec := flags&unix.O_CLOEXEC != 0
	r, err := p.newFD(hp[0], cloexec, &openFile{kind: kindHost})
	if err != nil {
		unix.Close(hp[1])
		return 0, err
	}
	w, err := p.newFD(hp[1], cloexec, &openFile{kind: kindHost})
	if err != nil {
		p.files.close(int(r))
		return 0, err
	}
	var b [8]byte
	put32(b[:], uint32(r))
	put32(b[4:], uint32(w))
	if _, err := p.MM.CopyOut(addr, b[:]); err != nil {
		p.files.close(int(r))
		p.files.close(int(w))
		return 0, err
	}
	return 0, nil
}

func sysUmask(p *Process, _ *Regs, a *args) (uint64, error) {
	old := p.fs.umask
	p.fs.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}
