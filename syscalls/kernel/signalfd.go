// signalfd.go: signalfd(2) and signalfd4: signals read as 128-byte
// struct signalfd_siginfo records from an fd.
//
// A signalfd is a guest fd whose host fd is an eventfd that only kshim
// reads and writes; its OpenFile holds a *Signalfd (the mask). A read is
// kshim's: it takes the lowest signal in the mask pending for the reading
// thread, its own or its process's (sigqueue.go), as Linux's
// dequeue_signal, and blocks on the task's wake-up eventfd when there is
// none (a process signal of the mask may wake it: WaitFor), ending with
// ErrRestart for a signal the thread would act on.
//
// Readiness (poll, select, epoll) is the host eventfd's counter, which
// kshim keeps in step with the pending sets:
//   - A signal posted to a thread of an owner group whose mask it is in
//     makes every such signalfd readable (so a host poll already waiting
//     wakes).
//   - A read, and every poll, select and epoll_wait on entry
//     (SyncSignalfds), set each of the caller's group's signalfds
//     readable exactly when the caller has a signal of its mask pending,
//     which is Linux's signalfd_poll for that caller.
//
// So between polls a signalfd may stay readable after another way took
// the signal (a handler, sigwait), until the next poll entry or read.
//
// Invariants:
//   - The owners of a Signalfd are the thread groups that got it by
//     signalfd or fork (an fd passed with SCM_RIGHTS reads right but its
//     readiness follows its owners). kshim holds one dup of the eventfd
//     (efd) while any owner lives, at most maxSignalfds in all; at the
//     limit, or when kshim's own fd limit is reached first, owners whose
//     fd table no longer holds it let go of it (sfdCollect), and only if
//     that frees none is signalfd EMFILE. The
//     last owner's end closes it.
//   - efd is written and drained only under sfdMu; sfdMu is taken after
//     Kernel.Mu and before any thread's SigMu or an FDTable's lock, never
//     the other way.
//   - SIGKILL and SIGSTOP are never in a mask.
package kernel

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

// Signalfd is one signalfd's state (fs.OpenFile.Signalfd).
type Signalfd struct {
	mask   atomic.Uint64
	efd    int                   // kshim's dup of the host eventfd (-1: closed); sfdMu
	owners map[*threadGroup]bool // sfdMu
}

const (
	sfdNonblock  = unix.O_NONBLOCK // SFD_NONBLOCK
	sfdCloexec   = unix.O_CLOEXEC  // SFD_CLOEXEC
	SfdInfoSize  = 128             // sizeof(struct signalfd_siginfo)
	maxSignalfds = 4096
)

var (
	sfdMu     sync.Mutex
	sfdGroups = map[*threadGroup][]*Signalfd{}
	sfdLive   atomic.Int32 // signalfds with an efd, so posts skip sfdMu when none
)

// Signalfd4 is signalfd4(fd, mask, sizemask, flags); signalfd is flags 0.
func (p *Process) Signalfd4(a [6]uint64) (uint64, error) {
	mask, err := p.SigsetIn(a[1], a[2])
	if err != nil {
		return 0, err
	}
	flags := a[3]
	if flags&^uint64(sfdNonblock|sfdCloexec) != 0 {
		return 0, unix.EINVAL
	}
	if ufd := int32(a[0]); ufd != -1 {
		e, err := p.Entry(uint64(uint32(ufd)))
		if ufd < 0 {
			err = unix.EBADF
		}
		if err != nil {
			return 0, err
		}
		s, ok := e.File.Signalfd.(*Signalfd)
		if !ok {
			return 0, unix.EINVAL
		}
		s.mask.Store(mask)
		s.Sync(p)
		return uint64(ufd), nil
	}
	efl := unix.EFD_CLOEXEC
	if flags&sfdNonblock != 0 {
		efl |= unix.EFD_NONBLOCK
	}
	h, err := unix.Eventfd(0, efl)
	if err == unix.EMFILE {
		// kshim's own fd limit (4096 in a VM's init, as under make
		// test-svm) may be below what maxSignalfds dups need: the dups
		// of closed signalfds give room.
		sfdMu.Lock()
		sfdCollect()
		sfdMu.Unlock()
		h, err = unix.Eventfd(0, efl)
	}
	if err != nil {
		return 0, err
	}
	s := &Signalfd{efd: -1, owners: map[*threadGroup]bool{}}
	s.mask.Store(mask)
	if g := p.Proc.Group; g != nil {
		if err := s.own(g, h); err != nil {
			unix.Close(h)
			return 0, err
		}
	}
	fd, err := p.NewFD(h, flags&sfdCloexec != 0, &fs.OpenFile{Kind: fs.KindHost, Path: "anon_inode:[signalfd]", Acc: unix.O_RDWR, Signalfd: s})
	if err != nil {
		return 0, err // the group's end closes the dup
	}
	s.Sync(p)
	return fd, nil
}

// own adds g to s's owners; h is a host fd of s's eventfd to dup when s
// has none.
func (s *Signalfd) own(g *threadGroup, h int) error {
	sfdMu.Lock()
	defer sfdMu.Unlock()
	if s.owners[g] {
		return nil
	}
	if s.efd < 0 {
		if sfdLive.Load() >= maxSignalfds {
			sfdCollect()
		}
		if sfdLive.Load() >= maxSignalfds {
			return unix.EMFILE
		}
		d, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
		if err == unix.EMFILE {
			sfdCollect() // as in Signalfd4

			d, err = unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
		}
		if err != nil {
			return err
		}
		s.efd = d
		sfdLive.Add(1)
	}
	s.owners[g] = true
	sfdGroups[g] = append(sfdGroups[g], s)
	return nil
}

// sfdFork makes child's group an owner of the signalfds its fd table
// (just cloned) holds, so their readiness follows its signals too.
func (p *Process) sfdFork() {
	if sfdLive.Load() == 0 || p.Proc.Group == nil {
		return
	}
	for _, fd := range p.Files.List() {
		if e, ok := p.Files.Get(fd); ok {
			if s, ok := e.File.Signalfd.(*Signalfd); ok {
				_ = s.own(p.Proc.Group, e.Host)
			}
		}
	}
}

// sfdCollect drops, from each owner group whose fd table no longer holds
// them, the signalfds the guest has closed, and closes the eventfd dups
// no owner needs (sfdMu held; the limit was reached, so a program that
// makes and closes signalfds in a loop is not refused).
func sfdCollect() {
	for g, list := range sfdGroups {
		held := map[*Signalfd]bool{}
		if l := g.leader; l != nil && l.Files != nil {
			for _, fd := range l.Files.List() {
				if e, ok := l.Files.Get(fd); ok {
					if s, ok := e.File.Signalfd.(*Signalfd); ok {
						held[s] = true
					}
				}
			}
		}
		keep := list[:0]
		for _, s := range list {
			if held[s] {
				keep = append(keep, s)
				continue
			}
			delete(s.owners, g)
			if len(s.owners) == 0 && s.efd >= 0 {
				unix.Close(s.efd)
				s.efd = -1
				sfdLive.Add(-1)
			}
		}
		if len(keep) == 0 {
			delete(sfdGroups, g)
		} else {
			sfdGroups[g] = keep
		}
	}
}

// sfdGroupGone drops ended group g from the owners of its signalfds.
func sfdGroupGone(g *threadGroup) {
	if sfdLive.Load() == 0 {
		return
	}
	sfdMu.Lock()
	defer sfdMu.Unlock()
	for _, s := range sfdGroups[g] {
		delete(s.owners, g)
		if len(s.owners) == 0 && s.efd >= 0 {
			unix.Close(s.efd)
			s.efd = -1
			sfdLive.Add(-1)
		}
	}
	delete(sfdGroups, g)
}

// sfdPosted makes the signalfds of p's group whose mask holds sig
// readable: sig was just made pending for p.
func (p *Process) sfdPosted(sig int) {
	if sfdLive.Load() == 0 || p.Proc.Group == nil {
		return
	}
	sfdMu.Lock()
	defer sfdMu.Unlock()
	for _, s := range sfdGroups[p.Proc.Group] {
		if s.mask.Load()&Bit(sig) != 0 {
			s.setReady(true)
		}
	}
}

// setReady sets or drains s's eventfd counter; sfdMu held.
func (s *Signalfd) setReady(on bool) {
	if s.efd < 0 {
		return
	}
	fds := []unix.PollFd{{Fd: int32(s.efd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	switch {
	case on && n == 0:
		one := [8]byte{1}
		_, _ = unix.Write(s.efd, one[:])
	case !on && n > 0:
		var b [8]byte
		_, _ = unix.Read(s.efd, b[:]) // readable: does not block
	}
}

// Sync makes s readable exactly when p has a signal of its mask pending.
func (s *Signalfd) Sync(p *Process) {
	sfdMu.Lock()
	defer sfdMu.Unlock()
	set, _ := p.pending()
	ready := set&s.mask.Load() != 0
	s.setReady(ready)
}

// SyncSignalfds syncs every signalfd of p's group for p (poll, select
// and epoll_wait call it on entry, as Linux's signalfd_poll looks at the
// poller's pending signals).
func (p *Process) SyncSignalfds() {
	if sfdLive.Load() == 0 || p.Proc.Group == nil {
		return
	}
	sfdMu.Lock()
	list := append([]*Signalfd(nil), sfdGroups[p.Proc.Group]...)
	sfdMu.Unlock()
	for _, s := range list {
		s.Sync(p)
	}
}

// SignalfdRead is read(2) of signalfd s (host fd h) into n bytes at addr:
// as many whole records as fit, the first waited for unless the fd is
// non-blocking, as Linux's signalfd_read.
func (p *Process) SignalfdRead(s *Signalfd, h int, addr, n uint64) (uint64, error) {
	count := n / SfdInfoSize
	if count == 0 {
		return 0, unix.EINVAL
	}
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return 0, err
	}
	nonblock := fl&unix.O_NONBLOCK != 0
	defer s.Sync(p)
	if !nonblock {
		p.WaitFor(s.mask.Load()) // a process signal of the mask may wake this thread
		defer p.WaitFor(0)
	}
	var done uint64
	for done < count {
		sig, info := p.SigTake(s.mask.Load())
		if sig == 0 {
			if done > 0 || nonblock {
				break
			}
			if err := p.sfdWait(); err != nil {
				return 0, err
			}
			continue
		}
		if info.Dropped() {
			continue
		}
		var rec [SfdInfoSize]byte
		info.sfdEncode(rec[:])
		if _, err := p.MM.CopyOut(addr+done*SfdInfoSize, rec[:]); err != nil {
			if done > 0 {
				break
			}
			return 0, err // the signal is lost, as on Linux
		}
		done++
	}
	if done == 0 {
		return 0, unix.EAGAIN
	}
	return done * SfdInfoSize, nil
}

// sfdWait blocks until a signal is posted to p; ErrRestart when one is
// pending that p would act on (or its group stops).
func (p *Process) sfdWait() error {
	if p.Interrupted() {
		return ErrRestart
	}
	wake := p.WakeFD()
	if wake < 0 {
		return unix.ENOMEM
	}
	fds := []unix.PollFd{{Fd: int32(wake), Events: unix.POLLIN}}
	if _, err := p.PollAsleep(fds, -1); err != nil && err != unix.EINTR {
		return err
	}
	var b [8]byte
	_, _ = unix.Read(wake, b[:])
	return nil
}

// struct signalfd_siginfo offsets.
const (
	ssiErrno   = 4
	ssiCode    = 8
	ssiPid     = 12
	ssiUID     = 16
	ssiFd      = 20
	ssiTid     = 24
	ssiBand    = 28
	ssiOverrun = 32
	ssiTrapno  = 36
	ssiStatus  = 40
	ssiInt     = 44
	ssiPtr     = 48
	ssiAddr    = 72
)

// sfdEncode fills a signalfd_siginfo from info as Linux's
// signalfd_copyinfo, by the siginfo's layout (siginfo_layout).
func (info *Siginfo) sfdEncode(out []byte) {
	var si [128]byte
	info.Encode(si[:])
	signo, code := int32(abi.Le32(si[:])), int32(abi.Le32(si[8:]))
	copy(out[0:4], si[0:4])
	copy(out[ssiErrno:ssiErrno+4], si[4:8])
	copy(out[ssiCode:ssiCode+4], si[8:12])
	pidUID := func() {
		copy(out[ssiPid:ssiPid+4], si[16:20])
		copy(out[ssiUID:ssiUID+4], si[20:24])
	}
	if code > SiUser && code < siKernel {
		switch unix.Signal(signo) {
		case unix.SIGILL, unix.SIGFPE, unix.SIGSEGV, unix.SIGBUS, unix.SIGTRAP:
			copy(out[ssiAddr:ssiAddr+8], si[16:24])
			abi.Put32(out[ssiTrapno:], uint32(info.Trapno))
		case unix.SIGCHLD:
			pidUID()
			copy(out[ssiStatus:ssiStatus+4], si[24:28])
		case unix.SIGIO:
			copy(out[ssiBand:ssiBand+4], si[16:20])
			copy(out[ssiFd:ssiFd+4], si[24:28])
		default:
			pidUID()
		}
		return
	}
	switch code {
	case -2: // SI_TIMER
		copy(out[ssiTid:ssiTid+4], si[16:20])
		copy(out[ssiOverrun:ssiOverrun+4], si[20:24])
		copy(out[ssiPtr:ssiPtr+8], si[24:32])
		copy(out[ssiInt:ssiInt+4], si[24:28])
	case -5: // SI_SIGIO
		copy(out[ssiBand:ssiBand+4], si[16:20])
		copy(out[ssiFd:ssiFd+4], si[24:28])
	default:
		pidUID()
		if code < 0 { // SIL_RT: sigqueue's value too
			copy(out[ssiPtr:ssiPtr+8], si[24:32])
			copy(out[ssiInt:ssiInt+4], si[24:28])
		}
	}
}
