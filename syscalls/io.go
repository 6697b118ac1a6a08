// io.go: reads and writes on the process's file descriptors.
package syscalls

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

// errNoReturn tells Syscall the handler set every register itself.
var errNoReturn = errors.New("no return value")

// ioChunk bounds the VMM-side buffer of one read or write step.
const ioChunk = 1 << 20

func toErrno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return guestmm.Errno(err)
}

func (p *Process) hostFD(fd uint64) (int, error) {
	h, ok := p.fds[int(int32(fd))]
	if !ok || int64(fd) < 0 {
		return -1, unix.EBADF
	}
	return h, nil
}

// writeFrom writes n guest bytes at addr to host fd h, in chunks, with
// pwrite semantics when off >= 0. A fault after some bytes were written
// returns the count written, as Linux does.
func (p *Process) writeFrom(h int, addr, n uint64, off int64) (uint64, error) {
	done := uint64(0)
	buf := make([]byte, min(n, ioChunk))
	for done < n {
		chunk := buf[:min(n-done, ioChunk)]
		c, err := p.MM.CopyIn(addr+done, chunk)
		if c == 0 && err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		var w int
		var werr error
		if off >= 0 {
			w, werr = unix.Pwrite(h, chunk[:c], off+int64(done))
		} else {
			w, werr = unix.Write(h, chunk[:c])
		}
		if werr != nil {
			if done > 0 {
				return done, nil
			}
			return 0, werr
		}
		done += uint64(w)
		if w < c || err != nil {
			break
		}
	}
	return done, nil
}

// readInto reads up to n bytes from host fd h into guest memory at addr.
// One host read, like one Linux read: short reads are the caller's concern.
func (p *Process) readInto(h int, addr, n uint64, off int64) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	buf := make([]byte, min(n, ioChunk))
	var r int
	var err error
	if off >= 0 {
		r, err = unix.Pread(h, buf, off)
	} else {
		r, err = unix.Read(h, buf)
	}
	if err != nil {
		return 0, err
	}
	if c, err := p.MM.CopyOut(addr, buf[:r]); err != nil {
		if c > 0 {
			return uint64(c), nil
		}
		return 0, err
	}
	return uint64(r), nil
}

func sysRead(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	return p.readInto(h, a[1], a[2], -1)
}

func sysWrite(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	if a[2] == 0 {
		_, err := unix.Write(h, nil)
		return 0, err
	}
	return p.writeFrom(h, a[1], a[2], -1)
}

func sysPread(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[3]) < 0 {
		return 0, unix.EINVAL
	}
	return p.readInto(h, a[1], a[2], int64(a[3]))
}

func sysPwrite(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[3]) < 0 {
		return 0, unix.EINVAL
	}
	return p.writeFrom(h, a[1], a[2], int64(a[3]))
}

type iovec struct{ base, len uint64 }

const iovMax = 1024

func (p *Process) iovecs(addr, n uint64) ([]iovec, error) {
	if n > iovMax {
		return nil, unix.EINVAL
	}
	raw := make([]byte, 16*n)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return nil, err
	}
	out := make([]iovec, n)
	total := uint64(0)
	for i := range out {
		out[i] = iovec{le64(raw[16*i:]), le64(raw[16*i+8:])}
		if int64(out[i].len) < 0 || total+out[i].len < total {
			return nil, unix.EINVAL
		}
		total += out[i].len
	}
	return out, nil
}

func sysWritev(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	iov, err := p.iovecs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	// Gather into one buffer so the write is one host write (pipes keep
	// writev atomicity for small writes).
	var buf []byte
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		if uint64(len(buf))+v.len > 16*ioChunk {
			break
		}
		b := make([]byte, v.len)
		c, err := p.MM.CopyIn(v.base, b)
		buf = append(buf, b[:c]...)
		if err != nil {
			if len(buf) == 0 {
				return 0, err
			}
			break
		}
	}
	if len(buf) == 0 {
		_, err := unix.Write(h, nil)
		return 0, err
	}
	w, err := unix.Write(h, buf)
	return uint64(w), err
}

func sysReadv(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	iov, err := p.iovecs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for _, v := range iov {
		total += v.len
	}
	buf := make([]byte, min(total, 16*ioChunk))
	r, err := unix.Read(h, buf)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, v := range iov {
		if done == r {
			break
		}
		n := min(int(v.len), r-done)
		if _, err := p.MM.CopyOut(v.base, buf[done:done+n]); err != nil {
			if done == 0 {
				return 0, err
			}
			break
		}
		done += n
	}
	return uint64(done), nil
}

func sysClose(p *Process, _ *Regs, a *args) (uint64, error) {
	fd := int(int32(a[0]))
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	delete(p.fds, fd)
	if h > 2 {
		return 0, unix.Close(h)
	}
	return 0, nil
}

func sysLseek(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	off, err := unix.Seek(h, int64(a[1]), int(a[2]))
	return uint64(off), err
}

func statBytes(st *unix.Stat_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(st)), unsafe.Sizeof(*st))
}

func sysFstat(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(h, &st); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], statBytes(&st))
	return 0, err
}

func sysNewfstatat(p *Process, r *Regs, a *args) (uint64, error) {
	path, err := p.MM.ReadString(a[1], unix.PathMax)
	if err != nil {
		return 0, err
	}
	if path == "" && a[3]&unix.AT_EMPTY_PATH != 0 {
		return sysFstat(p, r, &args{a[0], a[2]})
	}
	if int32(a[0]) != unix.AT_FDCWD && (path == "" || path[0] != '/') {
		return 0, unix.ENOSYS // directory fds come with the files issue
	}
	if a[3]&^uint64(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH|unix.AT_NO_AUTOMOUNT) != 0 {
		return 0, unix.EINVAL
	}
	// Read-only view of the host's files until the guest root directory
	// (files issue) confines it.
	var st unix.Stat_t
	if err := unix.Fstatat(unix.AT_FDCWD, path, &st, int(a[3]&unix.AT_SYMLINK_NOFOLLOW)); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[2], statBytes(&st))
	return 0, err
}

// Terminal ioctls that only read state are passed to the host fd.
func sysIoctl(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.hostFD(a[0])
	if err != nil {
		return 0, err
	}
	switch a[1] {
	case unix.TCGETS:
		t, err := unix.IoctlGetTermios(h, unix.TCGETS)
		if err != nil {
			return 0, err
		}
		_, err = p.MM.CopyOut(a[2], unsafe.Slice((*byte)(unsafe.Pointer(t)), unsafe.Sizeof(*t)))
		return 0, err
	case unix.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(h, unix.TIOCGWINSZ)
		if err != nil {
			return 0, err
		}
		_, err = p.MM.CopyOut(a[2], unsafe.Slice((*byte)(unsafe.Pointer(w)), unsafe.Sizeof(*w)))
		return 0, err
	}
	if !p.warned[1<<32|a[1]] {
		p.warned[1<<32|a[1]] = true
		p.Log.WithField("request", a[1]).Debug("unsupported ioctl: ENOTTY")
	}
	return 0, unix.ENOTTY
}

// hostFile is a guest fd's host file, for file mappings.
type hostFile struct{ f *os.File }

func (h hostFile) ReadAt(b []byte, off int64) (int, error) { return h.f.ReadAt(b, off) }

func (h hostFile) Size() (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(h.f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}
