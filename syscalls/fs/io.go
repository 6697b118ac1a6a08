// io.go (fs): the host side of reads and writes: host read/write/ioctl
// calls, access-mode checks, iovecs and the errno mapping; the syscalls
// and the guest copies that use them are syscalls/io.go, whose head gives
// the invariants.
package fs

import (
	"errors"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

// ErrNoReturn tells Syscall the handler set every register itself.
var ErrNoReturn = errors.New("no return value")

const (
	// IoChunk bounds the VMM-side buffer of one read or write step.
	IoChunk = 1 << 20
	// VecMax bounds one vector read or write (a short count beyond).
	VecMax = 16 * IoChunk
	// MaxRW is Linux's MAX_RW_COUNT: larger counts are cut to it.
	MaxRW = 0x7ffff000
)

// Scratch is a VMM-side buffer of n bytes (at most IoChunk) for one host
// read or write step, its bytes left from earlier use (callers copy to the
// guest only what the host call wrote, or fill it first); PutScratch
// returns it. Reusing it spares the host's page faults on a fresh Go
// allocation at every call (a 32 KiB getdents buffer is 8 of them, a
// 1 MiB read 256), which cost more than the call itself.
func Scratch(n int) *[]byte {
	if b, ok := scratch.Get().(*[]byte); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	} else if ok {
		scratch.Put(b)
	}
	b := make([]byte, n, max(n, scratchMin))
	return &b
}

// PutScratch gives back a buffer from Scratch.
func PutScratch(b *[]byte) { scratch.Put(b) }

var scratch sync.Pool

// scratchMin is the least a scratch buffer holds: glibc's getdents
// buffer, and most reads of small files.
const scratchMin = 32 << 10

func ToErrno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return guestmm.Errno(err)
}

// AccessOK is Linux's access_ok: the range lies in the user half (it says
// nothing about what is mapped there).
func AccessOK(addr, n uint64) bool {
	return n == 0 || addr+n >= addr && addr+n <= guestmm.UserTop
}

// PipeFaults says whether a pipe read into a buffer of which only the
// first w bytes are writable fails on Linux: pipe_read copies a whole pipe
// buffer at once and, when the copy faults before anything was returned,
// fails with EFAULT leaving the data in the pipe. kshim cannot see the
// pipe's buffer boundaries; it assumes the first buffer holds all that is
// available (true for data written in one write).
func PipeFaults(h int, w uint64) bool {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return false
	}
	avail, err := unix.IoctlGetInt(h, Fionread)
	return err == nil && uint64(avail) > w
}

// HostRead and HostWrite are one host read or write, positional when
// off >= 0.
func HostRead(h int, b []byte, off int64) (int, error) {
	if off >= 0 {
		return unix.Pread(h, b, off)
	}
	return unix.Read(h, b)
}

func HostWrite(h int, b []byte, off int64) (int, error) {
	if off >= 0 {
		return unix.Pwrite(h, b, off)
	}
	return unix.Write(h, b)
}

type Iovec struct{ Base, Len uint64 }

// IovLen is the sum of the iovecs' lengths (iovecs() bounds it by VecMax).
func IovLen(iov []Iovec) uint64 {
	n := uint64(0)
	for _, v := range iov {
		n += v.Len
	}
	return n
}

const IovMax = 1024

// CheckMode reports EBADF when host fd h is not open for the direction
// (Linux checks that before the iovecs).
func CheckMode(h int, write bool) error {
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	acc := fl & unix.O_ACCMODE
	if fl&unix.O_PATH != 0 || write && acc == unix.O_RDONLY || !write && acc == unix.O_WRONLY {
		return unix.EBADF
	}
	return nil
}

func HostReadv(h int, b []byte, off int64, flags int) (int, error) {
	if flags != 0 {
		return unix.Preadv2(h, [][]byte{b}, off, flags)
	}
	return HostRead(h, b, off)
}

func HostWritev(h int, b []byte, off int64, flags int) (int, error) {
	if flags != 0 {
		return unix.Pwritev2(h, [][]byte{b}, off, flags)
	}
	return HostWrite(h, b, off)
}

// Terminal and fd ioctls. Those that act on the host file (termios,
// window size, foreground group, FIONREAD, FIONBIO) are passed to the host
// fd with the argument copied in or out; FIOCLEX/FIONCLEX set the guest's
// own FD_CLOEXEC. The sizes are the kernel's structs (termios is 36 bytes,
// not glibc's 60).
const (
	KernelTermiosSize = 36
	WinsizeSize       = 8

	// x86 ioctl numbers x/sys does not name.
	Fionread = 0x541b
	Fionbio  = 0x5421
	Fionclex = 0x5450
	Fioclex  = 0x5451
)

func CheckNotPath(h int) error {
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if fl&unix.O_PATH != 0 {
		return unix.EBADF
	}
	return nil
}

func HostIoctl(h int, req uint64, b []byte) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(h), uintptr(req), uintptr(unsafe.Pointer(&b[0])))
	if e != 0 {
		return e
	}
	return nil
}
