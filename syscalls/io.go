// io.go: reads and writes on the process's file descriptors (read, write,
// their positional and vector forms, lseek, sendfile) and terminal ioctls.
//
// Invariants:
//   - Checks run in Linux's order: a bad offset (EINVAL) before the fd for
//     the positional forms, then the fd and its access mode (EBADF), then
//     the buffer (EFAULT), then the I/O itself.
//   - A read never consumes data it cannot deliver: the host read is sized
//     to the part of the guest buffer that is writable, so a bad buffer is
//     EFAULT (or a short read) with the data still in the pipe or file, as
//     on Linux.
//   - A write copies the guest buffer in before the host write; a fault
//     part way writes what was copied and returns that count.
package syscalls

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

// errNoReturn tells Syscall the handler set every register itself.
var errNoReturn = errors.New("no return value")

const (
	// ioChunk bounds the VMM-side buffer of one read or write step.
	ioChunk = 1 << 20
	// vecMax bounds one vector read or write (a short count beyond).
	vecMax = 16 * ioChunk
	// maxRW is Linux's MAX_RW_COUNT: larger counts are cut to it.
	maxRW = 0x7ffff000
)

func toErrno(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return guestmm.Errno(err)
}

// accessOK is Linux's access_ok: the range lies in the user half (it says
// nothing about what is mapped there).
func accessOK(addr, n uint64) bool {
	return n == 0 || addr+n >= addr && addr+n <= guestmm.UserTop
}

// writablePrefix returns how many of the n bytes at addr the guest could
// write now (populating and growing the stack as a write would).
func (p *Process) writablePrefix(addr, n uint64) uint64 {
	done := uint64(0)
	var b [1]byte
	for done < n {
		a := addr + done
		if v, ok := p.MM.FindVMA(a); ok && v.Prot&unix.PROT_WRITE != 0 && v.Flags&guestmm.Anonymous != 0 {
			done = min(n, v.End-addr) // writable anonymous memory, all of it
			continue
		}
		if _, err := p.MM.CopyIn(a, b[:]); err != nil {
			break
		}
		if _, err := p.MM.CopyOut(a, b[:]); err != nil {
			break
		}
		done = min(n, (a|(guestmm.PageSize-1))+1-addr)
	}
	return done
}

// ioFD returns the host fd for reading or writing guest fd. The host
// checks the access mode of its own fds; kshim's /proc files are
// read-only whatever their memfd allows.
func (p *Process) ioFD(fd uint64, write bool) (int, error) {
	e, err := p.entry(fd)
	if err != nil {
		return -1, err
	}
	if f := e.file; f.node != nil {
		switch {
		case f.pathOnly:
			return -1, unix.EBADF
		case write && f.acc == unix.O_RDONLY, !write && f.acc == unix.O_WRONLY:
			return -1, unix.EBADF
		case write:
			return -1, unix.EINVAL // opened for writing, but nothing here takes writes
		case f.kind == kindProcDir:
			return -1, unix.EISDIR
		}
	}
	return e.host, nil
}

// pipeFaults says whether a pipe read into a buffer of which only the
// first w bytes are writable fails on Linux: pipe_read copies a whole pipe
// buffer at once and, when the copy faults before anything was returned,
// fails with EFAULT leaving the data in the pipe. kshim cannot see the
// pipe's buffer boundaries; it assumes the first buffer holds all that is
// available (true for data written in one write).
func pipeFaults(h int, w uint64) bool {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return false
	}
	avail, err := unix.IoctlGetInt(h, fionread)
	return err == nil && uint64(avail) > w
}

// hostRead and hostWrite are one host read or write, positional when
// off >= 0.
func hostRead(h int, b []byte, off int64) (int, error) {
	if off >= 0 {
		return unix.Pread(h, b, off)
	}
	return unix.Read(h, b)
}

func hostWrite(h int, b []byte, off int64) (int, error) {
	if off >= 0 {
		return unix.Pwrite(h, b, off)
	}
	return unix.Write(h, b)
}

// rw is read, write, pread64 and pwrite64.
func (p *Process) rw(a *args, write, positional bool) (uint64, error) {
	off := int64(-1)
	if positional {
		if off = int64(a[3]); off < 0 {
			return 0, unix.EINVAL
		}
	}
	h, err := p.ioFD(a[0], write)
	if err != nil {
		return 0, err
	}
	if !positional && isSocket(h) {
		return p.sockRW(h, []iovec{{a[1], min(a[2], maxRW)}}, write, false) // sockmsg.go
	}
	if write {
		return p.writeFrom(h, a[1], a[2], off)
	}
	return p.readInto(h, a[1], a[2], off)
}

func sysRead(p *Process, _ *Regs, a *args) (uint64, error)   { return p.rw(a, false, false) }
func sysWrite(p *Process, _ *Regs, a *args) (uint64, error)  { return p.rw(a, true, false) }
func sysPread(p *Process, _ *Regs, a *args) (uint64, error)  { return p.rw(a, false, true) }
func sysPwrite(p *Process, _ *Regs, a *args) (uint64, error) { return p.rw(a, true, true) }

// writeFrom writes n guest bytes at addr to host fd h, in chunks. A fault
// after some bytes were written returns the count written, as Linux does.
func (p *Process) writeFrom(h int, addr, n uint64, off int64) (uint64, error) {
	if n == 0 || !accessOK(addr, n) {
		// A zero-length write still reports the fd's own errors (EBADF
		// for a read-only fd), which Linux checks before the buffer.
		if _, err := hostWrite(h, nil, off); err != nil || n == 0 {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	n = min(n, maxRW)
	done := uint64(0)
	buf := make([]byte, min(n, ioChunk))
	for done < n {
		chunk := buf[:min(n-done, ioChunk)]
		c, err := p.MM.CopyIn(addr+done, chunk)
		if c == 0 && err != nil {
			if done > 0 {
				return done, nil
			}
			if _, werr := hostWrite(h, nil, off); werr != nil {
				return 0, werr
			}
			return 0, err
		}
		pos := off
		if off >= 0 {
			pos = off + int64(done)
		} else if err := p.waitReady(h, unix.POLLOUT); err != nil {
			if done > 0 {
				return done, nil // a signal after a partial write
			}
			return 0, err
		}
		w, werr := hostWrite(h, chunk[:c], pos)
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
	w := uint64(0)
	if n > 0 && accessOK(addr, n) {
		w = p.writablePrefix(addr, min(n, ioChunk))
	}
	if w == 0 {
		// Nothing to read into: let the host report the fd's own errors
		// (EBADF, EISDIR) without consuming data.
		if _, err := hostRead(h, nil, off); err != nil || n == 0 {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	if w < n && pipeFaults(h, w) {
		return 0, unix.EFAULT
	}
	if off < 0 {
		// A pipe or terminal may block: wait where a signal can end it.
		if err := p.waitReady(h, unix.POLLIN); err != nil {
			return 0, err
		}
	}
	buf := make([]byte, w)
	r, err := hostRead(h, buf, off)
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

type iovec struct{ base, len uint64 }

const iovMax = 1024

// iovecs reads and checks an iovec array as Linux's import_iovec: EINVAL
// for too many or a negative length, EFAULT for an unreadable array or a
// range outside user space.
func (p *Process) iovecs(addr, n uint64) ([]iovec, error) {
	if n > iovMax {
		return nil, unix.EINVAL
	}
	raw := make([]byte, 16*n)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return nil, err
	}
	out := make([]iovec, n)
	for i := range out {
		out[i] = iovec{le64(raw[16*i:]), le64(raw[16*i+8:])}
		if int64(out[i].len) < 0 {
			return nil, unix.EINVAL
		}
	}
	for _, v := range out {
		if !accessOK(v.base, v.len) {
			return nil, unix.EFAULT
		}
	}
	return out, nil
}

// checkMode reports EBADF when host fd h is not open for the direction
// (Linux checks that before the iovecs).
func checkMode(h int, write bool) error {
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

// rwv is readv, writev, preadv, pwritev, preadv2 and pwritev2: a[3] is
// the offset (x86-64 passes it whole in pos_l), a[5] the RWF_ flags.
func (p *Process) rwv(a *args, write, positional, v2 bool) (uint64, error) {
	off := int64(-1)
	flags := 0
	if positional {
		off = int64(a[3])
		if v2 {
			flags = int(int32(a[5]))
		}
		if off < 0 && !(v2 && off == -1) {
			return 0, unix.EINVAL
		}
	}
	h, err := p.ioFD(a[0], write)
	if err != nil {
		return 0, err
	}
	iov, err := p.iovecs(a[1], a[2])
	if err != nil {
		if merr := checkMode(h, write); merr != nil {
			return 0, merr
		}
		return 0, err
	}
	if !positional && isSocket(h) {
		return p.sockRW(h, iov, write, true) // sockmsg.go
	}
	if write {
		return p.writev(h, iov, off, flags)
	}
	return p.readv(h, iov, off, flags)
}

func sysReadv(p *Process, _ *Regs, a *args) (uint64, error)    { return p.rwv(a, false, false, false) }
func sysWritev(p *Process, _ *Regs, a *args) (uint64, error)   { return p.rwv(a, true, false, false) }
func sysPreadv(p *Process, _ *Regs, a *args) (uint64, error)   { return p.rwv(a, false, true, false) }
func sysPwritev(p *Process, _ *Regs, a *args) (uint64, error)  { return p.rwv(a, true, true, false) }
func sysPreadv2(p *Process, _ *Regs, a *args) (uint64, error)  { return p.rwv(a, false, true, true) }
func sysPwritev2(p *Process, _ *Regs, a *args) (uint64, error) { return p.rwv(a, true, true, true) }

func hostReadv(h int, b []byte, off int64, flags int) (int, error) {
	if flags != 0 {
		return unix.Preadv2(h, [][]byte{b}, off, flags)
	}
	return hostRead(h, b, off)
}

func hostWritev(h int, b []byte, off int64, flags int) (int, error) {
	if flags != 0 {
		return unix.Pwritev2(h, [][]byte{b}, off, flags)
	}
	return hostWrite(h, b, off)
}

// writev gathers the iovecs into one buffer so the write is one host
// write (pipes keep writev atomicity for small writes).
func (p *Process) writev(h int, iov []iovec, off int64, flags int) (uint64, error) {
	var buf []byte
	var fault error
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		if uint64(len(buf))+v.len > vecMax {
			v.len = vecMax - uint64(len(buf))
		}
		b := make([]byte, v.len)
		c, err := p.MM.CopyIn(v.base, b)
		buf = append(buf, b[:c]...)
		if err != nil {
			fault = err
			break
		}
		if len(buf) == vecMax {
			break
		}
	}
	if len(buf) == 0 {
		if _, err := hostWritev(h, nil, off, flags); err != nil || fault == nil {
			return 0, err
		}
		return 0, fault
	}
	w, err := hostWritev(h, buf, off, flags)
	return uint64(w), err
}

// readv reads into the writable prefix of the iovecs with one host read
// and scatters the data.
func (p *Process) readv(h int, iov []iovec, off int64, flags int) (uint64, error) {
	total := uint64(0)
	for _, v := range iov {
		n := min(v.len, vecMax-total)
		w := p.writablePrefix(v.base, n)
		total += w
		if w < v.len || total == vecMax {
			break
		}
	}
	want := uint64(0)
	for _, v := range iov {
		want += v.len
	}
	if total > 0 && total < want && pipeFaults(h, total) {
		return 0, unix.EFAULT
	}
	if total == 0 {
		_, err := hostReadv(h, nil, off, flags)
		for _, v := range iov {
			if err == nil && v.len > 0 {
				err = unix.EFAULT
			}
		}
		return 0, err
	}
	buf := make([]byte, total)
	r, err := hostReadv(h, buf, off, flags)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, v := range iov {
		if done == r {
			break
		}
		n := min(int(min(v.len, uint64(r))), r-done)
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

func sysLseek(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	off, whence := int64(a[1]), int(int32(a[2]))
	switch e.file.kind {
	case kindProcDir:
		// Positions are entry indexes; only rewinding and telling make
		// sense, as for Linux's /proc directories.
		d := e.file.dir
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case whence == unix.SEEK_SET && off >= 0:
			d.pos = int(min(off, int64(max(len(d.entries), 2))))
			return uint64(off), nil
		case whence == unix.SEEK_CUR && off == 0:
			return uint64(d.pos), nil
		}
		return 0, unix.EINVAL
	case kindProcLink:
		return 0, unix.EBADF
	}
	r, err := unix.Seek(e.host, off, whence)
	return uint64(r), err
}

func sysSendfile(p *Process, _ *Regs, a *args) (uint64, error) {
	var pos int64
	var posp *int64
	if a[2] != 0 {
		var b [8]byte
		if _, err := p.MM.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		pos = int64(le64(b[:]))
		posp = &pos
	}
	in, err := p.ioFD(a[1], false)
	if err != nil {
		return 0, err
	}
	out, err := p.ioFD(a[0], true)
	if err != nil {
		return 0, err
	}
	n, err := unix.Sendfile(out, in, posp, int(min(a[3], maxRW)))
	if n < 0 {
		n = 0
	}
	if posp != nil {
		var b [8]byte
		put64(b[:], uint64(pos))
		if _, cerr := p.MM.CopyOut(a[2], b[:]); cerr != nil {
			return 0, cerr
		}
	}
	return uint64(n), err
}

// Terminal and fd ioctls. Those that act on the host file (termios,
// window size, foreground group, FIONREAD, FIONBIO) are passed to the host
// fd with the argument copied in or out; FIOCLEX/FIONCLEX set the guest's
// own FD_CLOEXEC. The sizes are the kernel's structs (termios is 36 bytes,
// not glibc's 60).
const (
	kernelTermiosSize = 36
	winsizeSize       = 8

	// x86 ioctl numbers x/sys does not name.
	fionread = 0x541b
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
)

func sysIoctl(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	req, arg := uint64(uint32(a[1])), a[2] // the request is an unsigned int
	if e.file.pathOnly {
		return 0, unix.EBADF
	}
	switch req {
	case fioclex, fionclex:
		if err := checkNotPath(e.host); err != nil {
			return 0, err
		}
		return 0, p.files.setCloexec(fdArg(a[0]), req == fioclex)
	}
	if e.file.kind == kindProcDir || e.file.kind == kindProcLink {
		return 0, unix.ENOTTY
	}
	switch req {
	case unix.TCGETS:
		return p.ioctlOut(e.host, req, arg, kernelTermiosSize)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		return p.ioctlIn(e.host, req, arg, kernelTermiosSize)
	case unix.TIOCGWINSZ:
		return p.ioctlOut(e.host, req, arg, winsizeSize)
	case unix.TIOCSWINSZ:
		return p.ioctlIn(e.host, req, arg, winsizeSize)
	case unix.TIOCGPGRP:
		return p.getForeground(e.host, arg)
	case unix.TIOCSPGRP:
		return p.setForeground(e.host, arg)
	case fionread:
		return p.ioctlOut(e.host, req, arg, 4)
	case fionbio:
		return p.ioctlIn(e.host, req, arg, 4)
	}
	if r, err, ok := p.sockIoctl(e.host, req, arg); ok { // socket.go
		return r, err
	}
	if !p.warned[1<<32|req] {
		p.warned[1<<32|req] = true
		p.Log.WithField("request", req).Debug("unsupported ioctl: ENOTTY")
	}
	return 0, unix.ENOTTY
}

func checkNotPath(h int) error {
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if fl&unix.O_PATH != 0 {
		return unix.EBADF
	}
	return nil
}

func hostIoctl(h int, req uint64, b []byte) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(h), uintptr(req), uintptr(unsafe.Pointer(&b[0])))
	if e != 0 {
		return e
	}
	return nil
}

// ioctlOut runs a host ioctl that fills size bytes, then copies them out.
func (p *Process) ioctlOut(h int, req, arg uint64, size int) (uint64, error) {
	b := make([]byte, size)
	if err := hostIoctl(h, req, b); err != nil {
		return 0, err
	}
	_, err := p.MM.CopyOut(arg, b)
	return 0, err
}

// ioctlIn copies size bytes in and runs a host ioctl that reads them.
func (p *Process) ioctlIn(h int, req, arg uint64, size int) (uint64, error) {
	b := make([]byte, size)
	if _, err := p.MM.CopyIn(arg, b); err != nil {
		return 0, err
	}
	return 0, hostIoctl(h, req, b)
}
