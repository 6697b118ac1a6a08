// fsmutate.go: calls that change the file tree or a file's attributes:
// mkdir, mknod, unlink, rmdir, rename, symlink, link, truncate, chmod,
// chown, utimensat, fallocate; and fsync, flock, fadvise64.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package fs, whose fsmutate.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysMkdir(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Mkdirat(unix.AT_FDCWD, a[0], uint32(a[1]))
}

func sysMkdirat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Mkdirat(fs.DirfdArg(a[0]), a[1], uint32(a[2]))
}

func sysMknod(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Mknodat(unix.AT_FDCWD, a[0], uint32(a[1]), a[2])
}

func sysMknodat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Mknodat(fs.DirfdArg(a[0]), a[1], uint32(a[2]), a[3])
}

func sysUnlink(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Unlinkat(unix.AT_FDCWD, a[0], 0)
}

func sysRmdir(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Unlinkat(unix.AT_FDCWD, a[0], unix.AT_REMOVEDIR)
}

func sysUnlinkat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	flags := int(int32(a[2]))
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	return p.Unlinkat(fs.DirfdArg(a[0]), a[1], flags)
}

func sysRename(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Renameat2(unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
}

func sysRenameat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Renameat2(fs.DirfdArg(a[0]), a[1], fs.DirfdArg(a[2]), a[3], 0)
}

func sysRenameat2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Renameat2(fs.DirfdArg(a[0]), a[1], fs.DirfdArg(a[2]), a[3], uint32(a[4]))
}

func sysSymlink(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Symlinkat(a[0], unix.AT_FDCWD, a[1])
}

func sysSymlinkat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Symlinkat(a[0], fs.DirfdArg(a[1]), a[2])
}

func sysLink(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Linkat(unix.AT_FDCWD, a[0], unix.AT_FDCWD, a[1], 0)
}

func sysLinkat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Linkat(fs.DirfdArg(a[0]), a[1], fs.DirfdArg(a[2]), a[3], int(int32(a[4])))
}

func sysTruncate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	path, err := p.PathArg(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if r.Node != nil {
		if r.Node.IsDir() {
			return 0, unix.EISDIR
		}
		// procfs takes (and ignores) a size change from who may write.
		return 0, fs.NodeAccess(r.Node, unix.W_OK)
	}
	var st unix.Stat_t
	if err := unix.Fstat(r.FD, &st); err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return 0, unix.EISDIR
	case unix.S_IFREG:
	default:
		return 0, unix.EINVAL
	}
	if err := p.MayChange(nil, r.Origin, r.FD, r.Mnt); err != nil {
		return 0, err
	}
	if r.Origin == fs.FromExe {
		return 0, unix.ETXTBSY // the program is running
	}
	// Reopen exactly that inode for writing (the permission check
	// truncate makes), through the host's magic link to kshim's own fd.
	w, err := unix.Open("/proc/self/fd/"+abi.Itoa(r.FD), unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(w)
	if err := unix.Ftruncate(w, int64(a[1])); err != nil {
		return 0, err
	}
	p.Owner.FileShrunk(w)
	return 0, nil
}

func sysFtruncate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if int64(a[1]) < 0 {
		return 0, unix.EINVAL
	}
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	if e.File.Node != nil {
		if e.File.PathOnly {
			return 0, unix.EBADF
		}
		return 0, unix.EINVAL // not open for writing
	}
	if err := p.MaySize(e); err != nil {
		return 0, err
	}
	if err := unix.Ftruncate(e.Host, int64(a[1])); err != nil {
		return 0, err
	}
	p.Owner.FileShrunk(e.Host)
	return 0, nil
}

func sysChmod(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fchmodat(unix.AT_FDCWD, a[0], uint32(a[1]), 0)
}

func sysFchmodat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fchmodat(fs.DirfdArg(a[0]), a[1], uint32(a[2]), 0)
}

func sysFchmodat2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	flags := int(int32(a[3]))
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return p.Fchmodat(fs.DirfdArg(a[0]), a[1], uint32(a[2]), flags)
}

func sysFchmod(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.OpenedFile(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchmod(e.Host, uint32(a[1])&0o7777)
}

func sysChown(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fchownat(unix.AT_FDCWD, a[0], a[1], a[2], 0)
}

func sysLchown(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Fchownat(unix.AT_FDCWD, a[0], a[1], a[2], unix.AT_SYMLINK_NOFOLLOW)
}

func sysFchownat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	flags := int(int32(a[4]))
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return p.Fchownat(fs.DirfdArg(a[0]), a[1], a[2], a[3], flags)
}

func sysFchown(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.OpenedFile(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fchown(e.Host, int(int32(a[1])), int(int32(a[2])))
}

func sysUtimensat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	dirfd, pathAddr, flags := fs.DirfdArg(a[0]), a[1], int(int32(a[3]))
	var ts []unix.Timespec
	if a[2] != 0 {
		b := make([]byte, 32)
		if _, err := p.MM.CopyIn(a[2], b); err != nil {
			return 0, err
		}
		ts = []unix.Timespec{{Sec: int64(abi.Le64(b)), Nsec: int64(abi.Le64(b[8:]))}, {Sec: int64(abi.Le64(b[16:])), Nsec: int64(abi.Le64(b[24:]))}}
		if ts[0].Nsec == fs.UtimeOmit && ts[1].Nsec == fs.UtimeOmit {
			return 0, nil // Linux: nothing to do, not even a lookup
		}
		for _, t := range ts {
			if (t.Nsec < 0 || t.Nsec >= 1e9) && t.Nsec != fs.UtimeNow && t.Nsec != fs.UtimeOmit {
				return 0, unix.EINVAL
			}
		}
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return utimes(p, dirfd, pathAddr, ts, flags)
}

// sysFutimesat serves futimesat, utimes (dirfd AT_FDCWD) and utime (a
// utimbuf of whole seconds), the older calls static binaries still make:
// Linux turns each into utimensat's do_utimes, with no flags.
func sysFutimesat(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	dirfd, pathAddr, tv := fs.DirfdArg(a[0]), a[1], a[2]
	if r.RAX != unix.SYS_FUTIMESAT {
		dirfd, pathAddr, tv = unix.AT_FDCWD, a[0], a[1]
	}
	var ts []unix.Timespec
	if tv != 0 {
		if r.RAX == unix.SYS_UTIME {
			b := make([]byte, 16)
			if _, err := p.MM.CopyIn(tv, b); err != nil {
				return 0, err
			}
			ts = []unix.Timespec{{Sec: int64(abi.Le64(b))}, {Sec: int64(abi.Le64(b[8:]))}}
		} else {
			b := make([]byte, 32)
			if _, err := p.MM.CopyIn(tv, b); err != nil {
				return 0, err
			}
			for i := 0; i < 2; i++ {
				sec, usec := int64(abi.Le64(b[16*i:])), int64(abi.Le64(b[16*i+8:]))
				if usec < 0 || usec >= 1e6 {
					return 0, unix.EINVAL
				}
				ts = append(ts, unix.Timespec{Sec: sec, Nsec: usec * 1000})
			}
		}
	}
	return utimes(p, dirfd, pathAddr, ts, 0)
}

// utimes is do_utimes: times ts (nil: now) on the file at dirfd/pathAddr,
// or on dirfd itself when pathAddr is 0.
func utimes(p *kernel.Process, dirfd int, pathAddr uint64, ts []unix.Timespec, flags int) (uint64, error) {
	var r fs.Resolved
	var err error
	if pathAddr == 0 {
		// futimens: the fd itself (no flags); AT_FDCWD has no file.
		if dirfd == unix.AT_FDCWD {
			return 0, unix.EFAULT
		}
		if flags != 0 {
			return 0, unix.EINVAL
		}
		e, err := p.OpenedFile(uint64(uint32(dirfd)))
		if err != nil {
			return 0, err
		}
		return 0, fs.UtimesFD(e.Host, ts, false)
	}
	if r, err = p.Changeable(dirfd, pathAddr, flags); err != nil {
		return 0, err
	}
	defer r.Close()
	return 0, fs.UtimesFD(r.FD, ts, true)
}

func sysFsync(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	if e.File.Node != nil {
		if e.File.PathOnly {
			return 0, unix.EBADF
		}
		return 0, unix.EINVAL // procfs files cannot be synced
	}
	if r.RAX == unix.SYS_FDATASYNC {
		return 0, unix.Fdatasync(e.Host)
	}
	return 0, unix.Fsync(e.Host)
}

// fallocate needs an fd open for writing, which a read-only root never
// gives out, so the host's own checks (EBADF first) are Linux's; a host
// object's size or blocks never change (MaySize).
func sysFallocate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	if f := e.File; f.Node != nil {
		if f.PathOnly || f.Acc == unix.O_RDONLY {
			return 0, unix.EBADF
		}
		return 0, unix.EOPNOTSUPP // procfs has no fallocate
	}
	if int64(a[2]) >= 0 && int64(a[3]) > 0 { // else EINVAL comes first
		if err := p.MaySize(e); err != nil {
			return 0, err
		}
	}
	return 0, unix.Fallocate(e.Host, uint32(a[1]), int64(a[2]), int64(a[3]))
}

// flock locks belong to the host open file description, shared by dups
// exactly as on Linux. A wait is ended only by a guest signal.
func sysFlock(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	if a[1]&unix.LOCK_NB == 0 {
		p.SleepBegin()
		defer p.SleepEnd()
	}
	for {
		err := unix.Flock(e.Host, int(int32(a[1])))
		if err == unix.EINTR && !p.Owner.Interrupted() {
			continue
		}
		return 0, err
	}
}

func sysFadvise64(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Fadvise(e.Host, int64(a[1]), int64(a[2]), int(int32(a[3])))
}
