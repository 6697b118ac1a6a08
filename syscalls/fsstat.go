// fsstat.go: calls that look at files without changing them: the stat
// family, statfs, access, readlink, getdents64, getcwd, chdir.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package fs, whose fsstat.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysFstat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	st, err := p.StatOf(e.Host, e.File.Node)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], fs.StatBytes(&st))
	return 0, err
}

func sysStat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fstatat(unix.AT_FDCWD, a[0], a[1], 0)
}

func sysLstat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fstatat(unix.AT_FDCWD, a[0], a[1], unix.AT_SYMLINK_NOFOLLOW)
}

func sysNewfstatat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fstatat(fs.DirfdArg(a[0]), a[1], a[2], int(int32(a[3])))
}

func sysStatx(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	dirfd, flags, mask := fs.DirfdArg(a[0]), int(int32(a[2])), uint32(a[3])
	path, err := p.PathOrEmpty(a[1], flags)
	if err != nil {
		return 0, err
	}
	if mask&unix.STATX__RESERVED != 0 || flags&fs.AtStatxSyncType == fs.AtStatxSyncType ||
		flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT|fs.AtStatxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	var r fs.Resolved
	if e, ok, err := p.EmptyPathEntry(dirfd, path, flags); ok {
		if err != nil {
			return 0, err
		}
		// The fd itself: its own host fd (held for this call), not a dup.
		r = fs.Resolved{FD: e.Host, Node: e.File.Node, Guest: e.File.Path, Origin: e.File.Origin, Mnt: e.File.Mnt}
		if r.Node != nil {
			r.FD = -1
		}
	} else {
		if r, err = p.LookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, fs.LookFlags(flags)); err != nil {
			return 0, err
		}
		defer r.Close()
	}
	var stx unix.Statx_t
	if r.Node != nil {
		stx = fs.StatxOf(p.Owner.ProcStat(r.Node))
	} else if err := unix.Statx(r.FD, "", unix.AT_EMPTY_PATH|flags&(fs.AtStatxSyncType|unix.AT_NO_AUTOMOUNT), int(mask), &stx); err != nil {
		return 0, err
	}
	// The mount ID is the guest's mount's, as /proc/self/mountinfo
	// numbers them (fs/fsmount.go), not the host's.
	if id, ok := p.MountID(r); ok && mask&(unix.STATX_MNT_ID|unix.STATX_MNT_ID_UNIQUE) != 0 {
		stx.Mask &^= unix.STATX_MNT_ID | unix.STATX_MNT_ID_UNIQUE
		if mask&unix.STATX_MNT_ID_UNIQUE != 0 { // as Linux: the unique one wins
			stx.Mask |= unix.STATX_MNT_ID_UNIQUE
		} else {
			stx.Mask |= unix.STATX_MNT_ID
		}
		stx.Mnt_id = id
	}
	_, err = p.MM.CopyOut(a[4], unsafe.Slice((*byte)(unsafe.Pointer(&stx)), unsafe.Sizeof(stx)))
	return 0, err
}

func sysStatfs(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	path, err := p.PathArg(a[0])
	if err != nil {
		return 0, err
	}
	r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	sf, err := p.StatfsOf(r.FD, r.Node, r.Origin, r.Mnt)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], fs.StatfsBytes(&sf))
	return 0, err
}

func sysFstatfs(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	sf, err := p.StatfsOf(e.Host, e.File.Node, e.File.Origin, e.File.Mnt)
	if err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], fs.StatfsBytes(&sf))
	return 0, err
}

func sysAccess(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Faccessat(unix.AT_FDCWD, a[0], uint32(a[1]), 0)
}

func sysFaccessat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Faccessat(fs.DirfdArg(a[0]), a[1], uint32(a[2]), 0)
}

func sysFaccessat2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Faccessat(fs.DirfdArg(a[0]), a[1], uint32(a[2]), int(int32(a[3])))
}

func sysReadlink(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Readlinkat(unix.AT_FDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Readlinkat(fs.DirfdArg(a[0]), a[1], a[2], a[3])
}

func sysGetdents64(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	buf, count := a[1], uint64(uint32(a[2]))
	switch e.File.Kind {
	case fs.KindProcDir:
		return p.VirtualGetdents(e.File.Dir, buf, count)
	case fs.KindProc, fs.KindProcLink:
		return 0, unix.ENOTDIR
	}
	if !fs.AccessOK(buf, count) {
		return 0, unix.EFAULT
	}
	n := writablePrefix(p, buf, min(count, fs.IoChunk))
	if n == 0 && count > 0 {
		return 0, unix.EFAULT
	}
	sb := fs.Scratch(int(n))
	defer fs.PutScratch(sb)
	got, err := unix.Getdents(e.Host, *sb)
	if err != nil {
		return 0, err
	}
	if _, err := p.MM.CopyOut(buf, (*sb)[:got]); err != nil {
		return 0, err
	}
	return uint64(got), nil
}

func sysGetcwd(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	g, err := p.Getcwd()
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

// lookupDir resolves a directory path argument (chdir's and chroot's).
func lookupDir(p *kernel.Process, addr uint64) (fs.Resolved, error) {
	path, err := p.PathArg(addr)
	if err != nil {
		return fs.Resolved{FD: -1}, err
	}
	return p.Lookup(unix.AT_FDCWD, path, unix.O_PATH|unix.O_DIRECTORY, 0)
}

func sysChdir(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	r, err := lookupDir(p, a[0])
	if err != nil {
		return 0, err
	}
	return 0, p.SetCwd(r)
}

func sysFchdir(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if _, err := p.Entry(a[0]); err != nil {
		return 0, err // AT_FDCWD is no fd here
	}
	r, err := p.LookupFD(fs.FDArg(a[0]), "", true, 0)
	if err != nil {
		return 0, err
	}
	if r.Node == nil {
		var st unix.Stat_t
		if err := unix.Fstat(r.FD, &st); err != nil {
			r.Close()
			return 0, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			r.Close()
			return 0, unix.ENOTDIR
		}
	}
	return 0, p.SetCwd(r)
}
