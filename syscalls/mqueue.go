// mqueue.go: the POSIX message queue syscalls, thin wrappers over package
// ipc (mqueue.go, with the invariants), and what read, write, pread,
// lseek and fcntl's flags do on a queue descriptor.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
)

func sysMqOpen(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).MqOpen(p, a[0], int32(a[1]), uint32(uint16(a[2])), a[3])
}

func sysMqUnlink(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).MqUnlink(p, a[0])
}

func sysMqTimedsend(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).MqTimedsend(p, uint64(uint32(a[0])), a[1], a[2], uint32(a[3]), a[4])
}

func sysMqTimedreceive(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return ipcNS(p).MqTimedreceive(p, uint64(uint32(a[0])), a[1], a[2], a[3], a[4])
}

func sysMqNotify(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).MqNotify(p, uint64(uint32(a[0])), a[1])
}

func sysMqGetsetattr(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return 0, ipcNS(p).MqGetsetattr(p, uint64(uint32(a[0])), a[1], a[2])
}

// mqFlush is a close(2) of guest fd fd by p: when it is a queue
// descriptor, p's notification registration on the queue ends.
func mqFlush(p *kernel.Process, fd uint64) {
	if e, ok := p.Files.Get(fs.FDArg(fd)); ok {
		if f := ipc.MqFileOf(e.File); f != nil {
			ipcNS(p).MqFlush(f, p.Pid)
		}
	}
}

// mqExeced ends the notification registrations of p's process when its
// execve succeeded (fs.ErrNoReturn: ipc.MqExeced).
func mqExeced(p *kernel.Process, err error) {
	if err == fs.ErrNoReturn {
		ipcNS(p).MqExeced(p.Pid)
	}
}

// mqueueRW serves read, write, pread64 and pwrite64 of a queue
// descriptor (entry e; ok): reads give its text (ipc.MqRead); it has no write
// (EBADF without write access, else EINVAL, vfs_write's order).
func mqueueRW(p *kernel.Process, e fs.FDEntry, a *args, write, positional bool) (uint64, bool, error) {
	f := ipc.MqFileOf(e.File)
	if f == nil {
		return 0, false, nil
	}
	if write {
		if !f.Writable() {
			return 0, true, unix.EBADF
		}
		return 0, true, unix.EINVAL
	}
	off := int64(-1)
	if positional {
		off = int64(a[3])
	}
	n, err := ipcNS(p).MqRead(p, f, a[1], a[2], off)
	return n, true, err
}
