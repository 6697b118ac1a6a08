// signalfd.go: signalfd and signalfd4, and read(2) of a signalfd. Package
// kernel (signalfd.go) holds signalfds, with their invariants; poll,
// select and epoll_wait sync their readiness on entry (fspoll.go).
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysSignalfd4(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Signalfd4(*a)
}

func sysSignalfd(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.Signalfd4([6]uint64{a[0], a[1], a[2], 0})
}

// signalfdRead serves read(fd, addr, n) when fd's entry e is a signalfd (ok);
// pread is ESPIPE, as for any fd without FMODE_PREAD.
func signalfdRead(p *kernel.Process, e fs.FDEntry, addr, n uint64, positional bool) (uint64, bool, error) {
	s, ok := e.File.Signalfd.(*kernel.Signalfd)
	if !ok {
		return 0, false, nil
	}
	if positional {
		return 0, true, unix.ESPIPE
	}
	got, err := p.SignalfdRead(s, e.Host, addr, n)
	return got, true, err
}
