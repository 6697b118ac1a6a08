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
//     root and open normally, but for mayReopen (proc/fsproc.go).
package fs

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
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

// WriteIntent says whether open flags may change the file (Linux's
// MAY_WRITE, plus creating).
func WriteIntent(flags int) bool {
	return flags&unix.O_ACCMODE != unix.O_RDONLY || flags&(unix.O_CREAT|unix.O_TRUNC|oTmpfile) != 0
}

func (p *Task) Open(dirfd int, pathAddr uint64, flags int, mode uint32) (uint64, error) {
	path, err := p.PathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	flags &= validOpenFlags
	if flags&unix.O_PATH != 0 {
		flags &= oPathFlags
	}
	if flags&(unix.O_CREAT|oTmpfile) != 0 {
		mode = mode & 0o7777 &^ p.FS.Umask()
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
	if !p.Files.HasFree(p.Nofile()) {
		return 0, unix.EMFILE
	}
	if err := p.Files.FileRoom(); err != nil {
		return 0, err
	}
	cloexec := flags&unix.O_CLOEXEC != 0
	host := flags&^unix.O_CLOEXEC | Noctty(flags)
	var r Resolved
	ok := false
	if p.mayBlock(host) {
		// The fast path's server never opens a FIFO for reading: the
		// reader openNonblock makes is a partner for a writer waiting
		// in its open, gone again as the server leaves the open to the
		// task's thread, whose open then waits for a writer that came
		// and went (fsfifo.go).
		if host&unix.O_ACCMODE == unix.O_RDONLY && p.Owner.RefusesWait(func() bool { return p.isFIFO(dirfd, path, host) }) {
			return 0, unix.EAGAIN // not made: its result is not the call's
		}
		// fsfifo.go: one walk when the file is no FIFO whose open
		// waits, else a wait a signal ends.
		if r, ok, err = p.openNonblock(dirfd, path, host, mode); !ok {
			r, ok, err = p.openFIFO(dirfd, path, host)
		}
	}
	if !ok {
		r, err = p.openPath(dirfd, path, host, mode)
	}
	if err != nil {
		return 0, err
	}
	if flags&unix.O_TRUNC != 0 && r.FD >= 0 {
		p.Owner.FileShrunk(r.FD)
	}
	return p.install(r, flags, cloexec)
}

// openPath resolves and opens (dirfd, path) with host flags.
func (p *Task) openPath(dirfd int, path string, flags int, mode uint32) (Resolved, error) {
	if p.FS.anyRO() && WriteIntent(flags) && flags&unix.O_PATH == 0 {
		return p.OpenReadOnly(dirfd, path, flags, mode)
	}
	return p.Lookup(dirfd, path, flags, mode)
}

// install gives a resolved path a guest fd.
func (p *Task) install(r Resolved, flags int, cloexec bool) (uint64, error) {
	if r.Node != nil {
		h, f, err := p.Owner.OpenNode(r.Node, flags)
		if err != nil {
			return 0, err
		}
		return p.NewFD(h, cloexec, f)
	}
	f := &OpenFile{Kind: KindHost, Path: r.Guest, Origin: r.Origin, Grant: r.Grant, Mnt: r.Mnt}
	if r.Stat != nil {
		f.Type = r.Stat.Mode & unix.S_IFMT
	}
	return p.NewFD(r.FD, cloexec, f)
}

// OpenReadOnly opens with write intent under a read-only root: look first
// (as Linux does before it asks the mount for write access), then refuse
// or open what a read-only mount would let through.
func (p *Task) OpenReadOnly(dirfd int, path string, flags int, mode uint32) (Resolved, error) {
	fail := func(err error) (Resolved, error) { return Resolved{FD: -1}, err }
	look := unix.O_PATH | flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY)
	excl := flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
	if excl {
		look |= unix.O_NOFOLLOW // O_EXCL never follows a last symlink
	}
	r, err := p.Lookup(dirfd, path, look, 0)
	if err == unix.ENOENT && flags&unix.O_CREAT != 0 {
		d, perr := p.LookupParent(dirfd, path)
		d.Close()
		switch {
		case perr != nil:
			return fail(perr)
		case d.Node != nil && d.Node.Remove != nil:
			return p.Lookup(dirfd, path, flags, mode) // the mqueue file system makes a queue
		case d.Node != nil:
			return fail(unix.ENOENT)
		case d.Slash:
			return fail(unix.EISDIR)
		case !p.FS.RO(d.Mnt):
			return p.Lookup(dirfd, path, flags, mode) // a writable mount
		}
		return fail(unix.EROFS)
	}
	if err != nil {
		return fail(err)
	}
	if r.Node != nil || r.Origin != FromRoot || !p.FS.RO(r.Mnt) {
		// /proc answers for itself; devices and inherited fds are not
		// on the read-only tree, nor are writable mounts.
		r.Close()
		return p.Lookup(dirfd, path, flags, mode)
	}
	var st unix.Stat_t
	err = unix.Fstat(r.FD, &st)
	if err != nil {
		r.Close()
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
		r.Close()
		w, err := p.Lookup(dirfd, path, flags&^(unix.O_TRUNC|unix.O_CREAT), 0)
		if err != nil {
			return fail(err)
		}
		var wst unix.Stat_t
		if unix.Fstat(w.FD, &wst) != nil || wst.Dev != st.Dev || wst.Ino != st.Ino {
			w.Close() // replaced under us by a file we must not write
			return fail(unix.EROFS)
		}
		return w, nil
	default:
		err = unix.EROFS
	}
	r.Close()
	return fail(err)
}

// HasFree says whether a new fd below limit is available.
func (t *FDTable) HasFree(limit int) bool {
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

// DupHost returns a new host fd for the same description as guest fd's.
func (p *Task) DupHost(fd uint64) (FDEntry, int, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return e, -1, err
	}
	h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
	return e, h, err
}

func (p *Task) Dup3(oldfd, newfd, flags uint64) (uint64, error) {
	if flags&^unix.O_CLOEXEC != 0 || uint32(oldfd) == uint32(newfd) {
		return 0, unix.EINVAL
	}
	if uint64(uint32(newfd)) >= uint64(p.Nofile()) {
		return 0, unix.EBADF
	}
	e, h, err := p.DupHost(oldfd)
	if err != nil {
		return 0, err
	}
	if err := p.Files.InstallAt(int(uint32(newfd)), FDEntry{Host: h, Cloexec: flags&unix.O_CLOEXEC != 0, File: e.File}); err != nil {
		return 0, err
	}
	return uint64(uint32(newfd)), nil
}

const (
	FDupfdQuery = 1027 // F_DUPFD_QUERY (Linux 6.10)
	FlockSize   = 32   // struct flock on x86-64
)

// VirtualFlags is F_GETFL of a /proc fd: read-only, as the guest opened it.
func VirtualFlags(f *OpenFile) int {
	if f.PathOnly {
		return unix.O_PATH
	}
	fl := f.Acc | oLargefile
	if f.Kind == KindProcDir {
		fl |= unix.O_DIRECTORY
	}
	return fl
}

func (p *Task) FcntlPtr(h, cmd int, ptr unsafe.Pointer) error {
	if cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW {
		p.Owner.SleepBegin()
		defer p.Owner.SleepEnd()
	}
	for {
		_, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(h), uintptr(cmd), uintptr(ptr))
		if e == unix.EINTR && !p.Owner.Interrupted() {
			continue // F_SETLKW waits on: only a guest signal ends it
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

const oNotificationPipe = unix.O_EXCL

func (p *Task) Pipe2(addr uint64, flags int) (uint64, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT|oNotificationPipe) != 0 {
		return 0, unix.EINVAL
	}
	var hp [2]int
	done, err := p.MakePipe(&hp, flags|unix.O_CLOEXEC) // pipebuf.go
	if err != nil {
		return 0, err
	}
	defer done()
	cloexec := flags&unix.O_CLOEXEC != 0
	r, err := p.NewFD(hp[0], cloexec, &OpenFile{Kind: KindHost, Type: unix.S_IFIFO})
	if err != nil {
		unix.Close(hp[1])
		return 0, err
	}
	w, err := p.NewFD(hp[1], cloexec, &OpenFile{Kind: KindHost, Type: unix.S_IFIFO})
	if err != nil {
		p.Files.Close(int(r))
		return 0, err
	}
	var b [8]byte
	abi.Put32(b[:], uint32(r))
	abi.Put32(b[4:], uint32(w))
	if _, err := p.MM.CopyOut(addr, b[:]); err != nil {
		p.Files.Close(int(r))
		p.Files.Close(int(w))
		return 0, err
	}
	return 0, nil
}
