// exec.go: loading a program image into a fresh address space (the first
// process and execve), and execve itself.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose exec.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysExecve(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	ret, err := p.Execve(unix.AT_FDCWD, a[0], a[1], a[2], 0, r)
	mqExeced(p, err) // mqueue.go
	return ret, err
}

func sysExecveat(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	if a[4]&^uint64(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	ret, err := p.Execve(fs.DirfdArg(a[0]), a[1], a[2], a[3], int(a[4]), r)
	mqExeced(p, err) // mqueue.go
	return ret, err
}
