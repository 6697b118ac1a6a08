// fsopen.go: opening files, and the calls that only shuffle fds (close,
// dup, fcntl, pipe, umask).
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package fs, whose fsopen.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"strings"

	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
)

func sysOpen(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return openedTTY(p, int(int32(a[1])))(p.Open(unix.AT_FDCWD, a[0], int(int32(a[1])), uint32(a[2])))
}

func sysOpenat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return openedTTY(p, int(int32(a[2])))(p.Open(fs.DirfdArg(a[0]), a[1], int(int32(a[2])), uint32(a[3])))
}

// openedTTY passes an open's result on; when it opened one of the guest's
// pty slaves without O_NOCTTY, a session leader with no controlling
// terminal takes it as one, as Linux's tty_open does; a new master's
// number is no session's terminal (kernel/tty.go).
func openedTTY(p *kernel.Process, flags int) func(uint64, error) (uint64, error) {
	return func(fd uint64, err error) (uint64, error) {
		if err != nil || flags&unix.O_PATH != 0 {
			return fd, err
		}
		if e, ok := p.Held(int(fd)); ok && e.File.Origin == fs.FromDevice &&
			(strings.HasPrefix(e.File.Path, "/dev/pts/") || e.File.Path == "/dev/tty" || e.File.Path == "/dev/ptmx") {
			n, master, ok := fs.Pty(e.Host)
			switch {
			case ok && master && (e.File.Path == "/dev/ptmx" || e.File.Path == "/dev/pts/ptmx"):
				p.NewPty(n)
			case ok && !master && flags&unix.O_NOCTTY == 0:
				p.OpenedTTY(n)
			}
		}
		return fd, err
	}
}

func sysCreat(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Open(unix.AT_FDCWD, a[0], unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(a[1]))
}

func sysClose(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	mqFlush(p, a[0]) // mqueue.go
	return 0, p.Files.Close(fs.FDArg(a[0]))
}

func sysCloseRange(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	first, last, flags := uint32(a[0]), uint32(a[1]), a[2]
	if flags&^uint64(unix.CLOSE_RANGE_UNSHARE|unix.CLOSE_RANGE_CLOEXEC) != 0 || first > last {
		return 0, unix.EINVAL
	}
	// CLOSE_RANGE_UNSHARE: the table is not shared (no threads yet).
	p.Files.CloseRange(uint(first), uint(last), flags&unix.CLOSE_RANGE_CLOEXEC != 0)
	return 0, nil
}

func sysDup(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, h, err := p.DupHost(a[0])
	if err != nil {
		return 0, err
	}
	return p.NewFD(h, false, e.File)
}

func sysDup2(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	if uint32(a[0]) == uint32(a[1]) {
		if _, err := p.Entry(a[0]); err != nil {
			return 0, err
		}
		return uint64(uint32(a[1])), nil
	}
	return p.Dup3(a[0], a[1], 0)
}

func sysDup3(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Dup3(a[0], a[1], a[2])
}

func sysFcntl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	cmd, arg := int(int32(a[1])), a[2]
	virtual := e.File.Node != nil
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		if arg >= uint64(p.Nofile()) {
			return 0, unix.EINVAL
		}
		h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		fd, err := p.Files.Install(fs.FDEntry{Host: h, Cloexec: cmd == unix.F_DUPFD_CLOEXEC, File: e.File}, int(arg), p.Nofile())
		return uint64(fd), err
	case unix.F_GETFD:
		if e.Cloexec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, p.Files.SetCloexec(fs.FDArg(a[0]), arg&unix.FD_CLOEXEC != 0)
	case unix.F_GETFL:
		if f := ipc.MqFileOf(e.File); f != nil {
			return uint64(f.Flags()), nil // the description's, not the eventfd's
		}
		if virtual {
			return uint64(fs.VirtualFlags(e.File)), nil
		}
		fl, err := unix.FcntlInt(uintptr(e.Host), unix.F_GETFL, 0)
		return uint64(fl), err
	case unix.F_SETFL:
		if f := ipc.MqFileOf(e.File); f != nil {
			f.SetFlags(int(int32(arg)))
			return 0, nil
		}
		if virtual {
			if e.File.PathOnly {
				return 0, unix.EBADF
			}
			return 0, nil // nothing a generated file or directory uses
		}
		_, err := unix.FcntlInt(uintptr(e.Host), unix.F_SETFL, int(int32(arg)))
		return 0, err
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		// Record locks belong to the host description (and, for POSIX
		// locks, to kshim's process, which is the guest's).
		var fl [fs.FlockSize]byte
		if _, err := p.MM.CopyIn(arg, fl[:]); err != nil {
			return 0, err
		}
		if err := p.FcntlPtr(e.Host, cmd, unsafe.Pointer(&fl[0])); err != nil {
			return 0, err
		}
		if cmd == unix.F_GETLK || cmd == unix.F_OFD_GETLK {
			if _, err := p.MM.CopyOut(arg, fl[:]); err != nil {
				return 0, err
			}
		}
		return 0, nil
	case unix.F_SETPIPE_SZ:
		return p.SetPipeSize(e, arg) // pipebuf.go
	case unix.F_GETPIPE_SZ, unix.F_GET_SEALS, unix.F_ADD_SEALS, unix.F_GETLEASE:
		switch {
		case virtual && e.File.PathOnly:
			return 0, unix.EBADF // do_fcntl: O_PATH takes no such command
		case virtual && cmd == unix.F_ADD_SEALS && e.File.Acc == unix.O_RDONLY:
			return 0, unix.EPERM // memfd_add_seals asks for a writer first
		case virtual && (cmd == unix.F_GET_SEALS || cmd == unix.F_ADD_SEALS):
			return 0, unix.EINVAL // procfs files are no memfds
		}
		r, err := unix.FcntlInt(uintptr(e.Host), cmd, int(int32(arg)))
		return uint64(r), err
	case fs.FDupfdQuery:
		o, err := p.Entry(arg)
		if err != nil {
			return 0, err
		}
		if o.File == e.File {
			return 1, nil
		}
		return 0, nil
	}
	// F_SETOWN, F_SETSIG, F_SETLEASE, F_NOTIFY would have the host signal
	// kshim, not the guest: refused until signals can be routed.
	key := 2<<32 | uint64(uint32(cmd))
	if p.WarnOnce(key) {
		p.Log.WithField("cmd", cmd).Debug("unsupported fcntl: EINVAL")
	}
	return 0, unix.EINVAL
}

func sysPipe(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Pipe2(a[0], 0)
}

func sysPipe2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Pipe2(a[0], int(int32(a[1])))
}

func sysUmask(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	old := p.FS.SetUmask(uint32(a[0]) & 0o777)
	return uint64(old), nil
}
