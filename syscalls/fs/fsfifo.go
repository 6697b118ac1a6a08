// fsfifo.go: a blocking open of a FIFO that a signal interrupts.
//
// Opening a FIFO for reading only or writing only waits for the other end
// (fifo_open's wait_for_partner), and a signal interrupts the wait
// (ERESTARTSYS: restarted under SA_RESTART, else EINTR). A host open that
// blocks on the vCPU's thread cannot be interrupted (the Go runtime
// restarts it after the kick), so such an open is handed to the task
// above (FileOwner.WaitOpen), which makes it on another thread while it
// waits for it or for a signal.
//
// Invariants:
//   - Only an open that would block takes this path: a FIFO (resolved
//     first with O_PATH, as the normal path would resolve it) opened
//     without O_NONBLOCK, O_PATH or O_RDWR. Everything else, and every
//     lookup error, goes the normal way, so errors keep their order.
//   - An open that may block is first made with O_NONBLOCK added
//     (openNonblock): one walk instead of two for the files that are no
//     FIFO, the most of them; its result stands unless it is ENXIO or
//     EAGAIN, where the blocking way above follows.
//   - The open is of the very inode resolved (the host's /proc/self/fd
//     link of the O_PATH fd), with the guest's flags less those that only
//     matter for a lookup or creation.
//   - Under the fast syscall path's NoWait (its server, which must not
//     wait) a FIFO is not opened for reading at all (Open asks first,
//     FileOwner.RefusesWait): the non-blocking reader would be a partner
//     a waiting writer meets and then loses, and the task's thread makes
//     the open again. A path renamed to a FIFO between that look and the
//     open is still opened so: a program racing its own renames.
//   - On a signal the waiting open is released by opening the other end
//     without blocking (a reader always can; a writer can, since the
//     waiting reader is one); both fds are closed and the call restarts
//     or fails with EINTR. A process on the far end may see that opener
//     come and go (a reader may read EOF once): a difference from Linux,
//     where the interrupted open never met a partner.
package fs

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

// mayBlock says whether an open with host flags could wait for a FIFO's
// other end.
func (p *Task) mayBlock(flags int) bool {
	return p.Owner != nil && flags&(unix.O_NONBLOCK|unix.O_PATH|oTmpfile) == 0 &&
		flags&unix.O_ACCMODE != unix.O_RDWR && flags&(unix.O_CREAT|unix.O_EXCL) != unix.O_CREAT|unix.O_EXCL
}

// setflFlags are the open flags F_SETFL sets (Linux's SETFL_MASK).
const setflFlags = unix.O_APPEND | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME | unix.O_NONBLOCK

// openNonblock is an open that may block (mayBlock) made in one walk: the
// open itself with O_NONBLOCK added. ok is false when the caller must
// take the blocking way (openFIFO, then the normal one): ENXIO (a FIFO
// opened for writing with no reader; a socket), EAGAIN (a lease being
// broken, which the blocking open waits out), or a result it cannot
// settle. Otherwise r is the open's result:
//   - anything but a FIFO: O_NONBLOCK is taken off again (it changes no
//     open of a file or directory; of a device it only spares a wait some
//     drivers make, for a modem's carrier or a medium);
//   - a FIFO opened for writing: a reader is there, so the blocking open
//     would not have waited either;
//   - a FIFO opened for reading: the blocking open of the same inode
//     waits for a writer (waitReader), while this reader stays open, so
//     the FIFO never loses the reader a writer may have met meanwhile (on
//     Linux the waiting reader counts as one).
func (p *Task) openNonblock(dirfd int, path string, flags int, mode uint32) (r Resolved, ok bool, err error) {
	r, err = p.openPath(dirfd, path, flags|unix.O_NONBLOCK, mode)
	switch {
	case err == unix.ENXIO || err == unix.EAGAIN:
		return Resolved{FD: -1}, false, nil
	case err != nil || r.FD < 0:
		return r, true, err // a node of kshim's /proc opens at install, with the guest's flags
	}
	var st unix.Stat_t
	if r.Stat != nil {
		st = *r.Stat // the lookup's look at r.FD (lookStat)
	} else if unix.Fstat(r.FD, &st) != nil {
		r.Close()
		return Resolved{FD: -1}, false, nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO || flags&unix.O_ACCMODE == unix.O_WRONLY {
		if _, err := unix.FcntlInt(uintptr(r.FD), unix.F_SETFL, flags&setflFlags); err != nil {
			r.Close()
			return Resolved{FD: -1}, false, nil
		}
		return r, true, nil
	}
	fd, err := p.waitReader(r.FD, flags)
	r.Close()
	if err != nil {
		return Resolved{FD: -1}, true, err
	}
	r.FD, r.Stat = fd, nil // another open of it, a writer later
	return r, true, nil
}

// waitReader is waitFIFO for an open for reading whose non-blocking
// reader h (openNonblock) is already open. A writer may come, and go,
// after h's open but before the blocking open starts to wait, which
// would then wait for another: on Linux the reader was waiting all
// along, and that writer ended its wait. h tells, since its open: a
// writer that came shows as data (POLLIN) or, once gone, as a hang-up
// (POLLHUP). So while the blocking open waits, a watcher polls h, and on
// either lends the waiting open a partner (a writer opened without
// blocking, closed once that open returned), as a signal's release does
// (WaitOpen). A writer still there needs nothing: the open finds it.
func (p *Task) waitReader(h int, flags int) (int, error) {
	var stop [2]int
	if err := unix.Pipe2(stop[:], unix.O_CLOEXEC); err != nil {
		return -1, err
	}
	open, partner := fifoOpens(h, flags)
	returned, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		fds := []unix.PollFd{{Fd: int32(h), Events: unix.POLLIN}, {Fd: int32(stop[0]), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLIN|unix.POLLHUP) == 0 {
			return
		}
		if w, err := partner(); err == nil {
			<-returned
			unix.Close(w)
		}
	}()
	fd, err := p.Owner.WaitOpen(func() (int, error) {
		defer close(returned)
		return open()
	}, partner)
	unix.Write(stop[1], []byte{0})
	<-watched
	unix.Close(stop[0])
	unix.Close(stop[1])
	return fd, err
}

// isFIFO reports whether (dirfd, path) is a FIFO of the host's, resolved
// with host flags as openFIFO resolves it.
func (p *Task) isFIFO(dirfd int, path string, flags int) bool {
	look, err := p.Lookup(dirfd, path, unix.O_PATH|flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY), 0)
	if err != nil {
		return false
	}
	defer look.Close()
	var st unix.Stat_t
	return look.Node == nil && unix.Fstat(look.FD, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// openFIFO opens (dirfd, path) with host flags if it is a FIFO whose open
// would block; ok is false when it is not (the caller opens normally).
func (p *Task) openFIFO(dirfd int, path string, flags int) (r Resolved, ok bool, err error) {
	if !p.mayBlock(flags) {
		return Resolved{FD: -1}, false, nil
	}
	look, lerr := p.Lookup(dirfd, path, unix.O_PATH|flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY), 0)
	if lerr != nil {
		return Resolved{FD: -1}, false, nil
	}
	defer look.Close()
	var st unix.Stat_t
	if look.Node != nil || unix.Fstat(look.FD, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return Resolved{FD: -1}, false, nil
	}
	fd, err := p.waitFIFO(look.FD, flags)
	if err != nil {
		return Resolved{FD: -1}, true, err
	}
	return Resolved{FD: fd, Guest: look.Guest, Origin: look.Origin, Grant: look.Grant}, true, nil
}

// waitFIFO makes the blocking open, with host flags, of the FIFO host fd
// h is open on (the host's /proc/self/fd link of it: the very inode), on
// another thread while the task waits for it or for a signal (WaitOpen).
func (p *Task) waitFIFO(h int, flags int) (int, error) {
	return p.Owner.WaitOpen(fifoOpens(h, flags))
}

// fifoOpens returns, for the FIFO host fd h is open on, the blocking open
// with host flags (through the host's /proc/self/fd link of h: the very
// inode) and the non-blocking open of the other end that ends its wait.
func fifoOpens(h int, flags int) (open, partner func() (int, error)) {
	link := "/proc/self/fd/" + abi.Itoa(h)
	mode := flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_DIRECTORY) | unix.O_CLOEXEC
	other := unix.O_WRONLY
	if flags&unix.O_ACCMODE == unix.O_WRONLY {
		other = unix.O_RDONLY
	}
	return func() (int, error) { return unix.Open(link, mode, 0) },
		func() (int, error) { return unix.Open(link, other|unix.O_NONBLOCK|unix.O_CLOEXEC, 0) }
}
