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
//   - The open is of the very inode resolved (the host's /proc/self/fd
//     link of the O_PATH fd), with the guest's flags less those that only
//     matter for a lookup or creation.
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

// openFIFO opens (dirfd, path) with host flags if it is a FIFO whose open
// would block; ok is false when it is not (the caller opens normally).
func (p *Task) openFIFO(dirfd int, path string, flags int) (r Resolved, ok bool, err error) {
	acc := flags & unix.O_ACCMODE
	if p.Owner == nil || flags&(unix.O_NONBLOCK|unix.O_PATH|oTmpfile) != 0 || acc == unix.O_RDWR ||
		flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
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
	link := "/proc/self/fd/" + abi.Itoa(look.FD)
	mode := flags&^(unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_DIRECTORY) | unix.O_CLOEXEC
	other := unix.O_WRONLY
	if acc == unix.O_WRONLY {
		other = unix.O_RDONLY
	}
	fd, err := p.Owner.WaitOpen(
		func() (int, error) { return unix.Open(link, mode, 0) },
		func() (int, error) { return unix.Open(link, other|unix.O_NONBLOCK|unix.O_CLOEXEC, 0) })
	if err != nil {
		return Resolved{FD: -1}, true, err
	}
	return Resolved{FD: fd, Guest: look.Guest, Origin: look.Origin, Grant: look.Grant}, true, nil
}
