// pipebuf.go: pipe buffers are memory the host kernel holds for the guest,
// outside guest-physical memory, so they are charged to the same budget
// (--mem, through Limits.Mem) and bounded as Linux bounds an unprivileged
// user's pipes.
//
// Invariants (Sandbox.mu guards the charges, limits.go):
//   - A pipe the guest holds an fd of (one it made, a FIFO it opened, a
//     pipe it inherited as stdin/stdout) has one pipeCharge, keyed by the
//     host pipe's (st_dev, st_ino); refs counts the guest's fd entries of
//     it (plus one while pipe2 makes it); bytes is its capacity
//     (F_GETPIPE_SZ), charged to Limits.Mem while refs > 0. When the last
//     entry is closed the host pipe is gone (or belongs to the host alone)
//     and the charge is returned.
//   - Capacity changes only through SetPipeSize, which charges growth
//     before asking the host and returns what a shrink frees after.
//
// Linux's rules for an unprivileged user (fs/pipe.c), which kshim applies
// whatever the host lets kshim do as root: a new pipe gets 16 pages, or 2
// when the user is over pipe-user-pages-soft (here: when 16 do not fit in
// what is left of the budget), and pipe() fails with ENFILE over
// pipe-user-pages-hard (here: when 2 do not fit); opening a FIFO whose
// buffer does not fit is ENOMEM (fifo_open); F_SETPIPE_SZ above
// /proc/sys/fs/pipe-max-size, or past the budget, is EPERM.
package fs

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

type pipeKey struct{ dev, ino uint64 }

// pipeCharge is one host pipe's charge.
type pipeCharge struct {
	key   pipeKey
	Refs  int
	bytes uint64
}

// Linux's pipe sizes (PIPE_DEF_BUFFERS, PIPE_MIN_DEF_BUFFERS pages).
const (
	PipeDefSize = 16 * 4096
	PipeMinSize = 2 * 4096
)

var pipeMax struct {
	once sync.Once
	size uint64
}

// pipeMaxSize is the host's /proc/sys/fs/pipe-max-size (Linux's default
// 1 MiB if it cannot be read).
func pipeMaxSize() uint64 {
	pipeMax.once.Do(func() {
		pipeMax.size = 1 << 20
		if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
			if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil && n >= 4096 {
				pipeMax.size = n
			}
		}
	})
	return pipeMax.size
}

func pipeKeyOf(h int) (pipeKey, bool) {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return pipeKey{}, false
	}
	return pipeKey{st.Dev, st.Ino}, true
}

// lockedPipeFor returns the charge of the pipe host fd h is, nil if it is
// no pipe or nothing is charged. A pipe not known yet (a FIFO) is charged
// its capacity: ENOMEM when that does not fit, unless force (fds the guest
// started with), which charges what fits. Sandbox.mu held.
func (sb *Sandbox) lockedPipeFor(h int, force bool) (*pipeCharge, error) {
	if sb.Lim.Mem == nil {
		return nil, nil
	}
	key, ok := pipeKeyOf(h)
	if !ok {
		return nil, nil
	}
	if c := sb.Pipes[key]; c != nil {
		return c, nil
	}
	size, err := unix.FcntlInt(uintptr(h), unix.F_GETPIPE_SZ, 0)
	if err != nil || size <= 0 {
		return nil, nil
	}
	c := &pipeCharge{key: key, bytes: uint64(size)}
	if err := sb.Lim.Mem.Charge(c.bytes); err != nil {
		if !force {
			return nil, unix.ENOMEM
		}
		c.bytes = 0
	}
	sb.Pipes[key] = c
	return c, nil
}

// lockedUnref drops a reference to c; the last returns its charge.
// Sandbox.mu held.
func (sb *Sandbox) lockedUnref(c *pipeCharge) {
	if c.Refs--; c.Refs > 0 {
		return
	}
	if sb.Pipes[c.key] == c {
		delete(sb.Pipes, c.key)
	}
	if c.bytes > 0 {
		sb.Lim.Mem.Uncharge(c.bytes)
	}
}

// MakePipe is the host pipe2 for the guest's pipe()/pipe2(): the pipe's
// buffer is charged first (ENFILE when even a small one does not fit).
// done drops pipe2's own reference once the guest's fds hold theirs.
func (p *Task) MakePipe(hp *[2]int, flags int) (done func(), err error) {
	sb := p.Owner.Sandbox()
	if sb == nil || sb.Lim.Mem == nil {
		return func() {}, unix.Pipe2(hp[:], flags)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	size := uint64(PipeDefSize)
	if sb.Lim.Mem.Charge(size) != nil {
		size = PipeMinSize
		if sb.Lim.Mem.Charge(size) != nil {
			return nil, unix.ENFILE
		}
	}
	if err := unix.Pipe2(hp[:], flags); err != nil {
		sb.Lim.Mem.Uncharge(size)
		return nil, err
	}
	if size < PipeDefSize {
		_, _ = unix.FcntlInt(uintptr(hp[0]), unix.F_SETPIPE_SZ, int(size))
	}
	// What the host gave is what it holds (less than asked when kshim is
	// itself a user over its soft limit).
	if got, err := unix.FcntlInt(uintptr(hp[0]), unix.F_GETPIPE_SZ, 0); err == nil && got > 0 && uint64(got) < size {
		sb.Lim.Mem.Uncharge(size - uint64(got))
		size = uint64(got)
	}
	key, _ := pipeKeyOf(hp[0])
	c := &pipeCharge{key: key, Refs: 1, bytes: size}
	sb.Pipes[key] = c
	return func() {
		sb.mu.Lock()
		sb.lockedUnref(c)
		sb.mu.Unlock()
	}, nil
}

// roundPipeSize is Linux's round_pipe_size: a page at least, a power of
// two, 0 (EINVAL) above 2 GiB.
func roundPipeSize(n uint32) uint64 {
	switch {
	case n > 1<<31:
		return 0
	case n < 4096:
		return 4096
	}
	s := uint64(4096)
	for s < uint64(n) {
		s <<= 1
	}
	return s
}

// SetPipeSize is fcntl(F_SETPIPE_SZ) on e: Linux's pipe_set_size for an
// unprivileged user, with growth charged to the guest's budget.
func (p *Task) SetPipeSize(e FDEntry, arg uint64) (uint64, error) {
	cur, err := unix.FcntlInt(uintptr(e.Host), unix.F_GETPIPE_SZ, 0)
	if err != nil || e.File.Node != nil {
		return 0, unix.EBADF // not a pipe
	}
	size := roundPipeSize(uint32(arg))
	if size == 0 {
		return 0, unix.EINVAL
	}
	if size > uint64(cur) && size > pipeMaxSize() {
		return 0, unix.EPERM
	}
	sb := p.Owner.Sandbox()
	c := e.File.Pipe
	if sb == nil || c == nil {
		_, err := unix.FcntlInt(uintptr(e.Host), unix.F_SETPIPE_SZ, int(size))
		return size, err
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if size > c.bytes {
		if sb.Lim.Mem.Charge(size-c.bytes) != nil {
			return 0, unix.EPERM // over the user's pipe buffer limit
		}
	}
	if _, err := unix.FcntlInt(uintptr(e.Host), unix.F_SETPIPE_SZ, int(size)); err != nil {
		if size > c.bytes {
			sb.Lim.Mem.Uncharge(size - c.bytes)
		}
		return 0, err // EBUSY: the data does not fit
	}
	if size < c.bytes {
		sb.Lim.Mem.Uncharge(c.bytes - size)
	}
	c.bytes = size
	return size, nil
}
