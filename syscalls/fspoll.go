// fspoll.go: waiting for fds: poll, ppoll, select, pselect6 and epoll.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package fs, whose fspoll.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysPoll(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	d := fs.Deadline{Forever: true}
	if ms := int32(a[2]); ms >= 0 {
		d = fs.After(time.Duration(ms) * time.Millisecond)
	}
	return p.Poll(a[0], a[1], d)
}

func sysPpoll(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	d, err := p.TimespecArg(a[2])
	if err != nil {
		return 0, err
	}
	if err := p.SigmaskArg(a[3], a[4]); err != nil {
		return 0, err
	}
	n, err := p.Poll(a[0], a[1], d)
	if err == nil {
		p.PutTimespec(a[2], d)
	}
	return n, err
}

func sysSelect(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	d := fs.Deadline{Forever: true}
	if a[4] != 0 {
		var b [16]byte
		if _, err := p.MM.CopyIn(a[4], b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(abi.Le64(b[:])), int64(abi.Le64(b[8:]))
		sec += usec / 1e6 // Linux normalises tv_usec
		usec %= 1e6
		if sec < 0 || usec < 0 {
			return 0, unix.EINVAL
		}
		if sec <= 1<<32 {
			d = fs.After(time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond)
		}
	}
	n, err := p.SelectFDs(int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, d)
	if err == nil && a[4] != 0 && !d.Forever {
		// Linux writes the time left back into the timeval.
		left := d.Left()
		var b [16]byte
		abi.Put64(b[:], uint64(left/time.Second))
		abi.Put64(b[8:], uint64(left%time.Second/time.Microsecond))
		_, _ = p.MM.CopyOut(a[4], b[:])
	}
	return n, err
}

func sysPselect6(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	d, err := p.TimespecArg(a[4])
	if err != nil {
		return 0, err
	}
	if a[5] != 0 {
		// struct { const sigset_t *ss; size_t ss_len; }
		var b [16]byte
		if _, err := p.MM.CopyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		if err := p.SigmaskArg(abi.Le64(b[:]), abi.Le64(b[8:])); err != nil {
			return 0, err
		}
	}
	n, err := p.SelectFDs(int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, d)
	if err == nil {
		p.PutTimespec(a[4], d)
	}
	return n, err
}

func sysEpollCreate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, unix.EINVAL
	}
	return p.EpollCreate(0)
}

func sysEpollCreate1(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[0]&^uint64(unix.EPOLL_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	return p.EpollCreate(int(a[0]))
}

func sysEpollCtl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	op := int(int32(a[1]))
	var ev [fs.EpollEventSize]byte
	if op != unix.EPOLL_CTL_DEL {
		if _, err := p.MM.CopyIn(a[3], ev[:]); err != nil {
			return 0, err
		}
	}
	ep, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	t, err := p.Entry(a[2])
	if err != nil {
		return 0, err
	}
	// The host checks the rest: epfd is an epoll fd, fd can be polled, not
	// itself, op and events valid. The data is the guest's.
	_, _, e := unix.Syscall6(unix.SYS_EPOLL_CTL, uintptr(ep.Host), uintptr(op), uintptr(t.Host), uintptr(unsafe.Pointer(&ev[0])), 0, 0)
	if e != 0 {
		return 0, e
	}
	return 0, nil
}

func sysEpollWait(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	return p.EpollWait(a[0], a[1], a[2], fs.MsDeadline(int32(a[3])))
}

func sysEpollPwait(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	if err := p.SigmaskArg(a[4], a[5]); err != nil {
		return 0, err
	}
	return p.EpollWait(a[0], a[1], a[2], fs.MsDeadline(int32(a[3])))
}

func sysEpollPwait2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.SyncSignalfds() // kernel/signalfd.go: readiness is the poller's
	d, err := p.TimespecArg(a[3])
	if err != nil {
		return 0, err
	}
	if err := p.SigmaskArg(a[4], a[5]); err != nil {
		return 0, err
	}
	return p.EpollWait(a[0], a[1], a[2], d)
}
