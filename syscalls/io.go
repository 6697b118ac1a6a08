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
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/ipc"
	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
)

// writablePrefix returns how many of the n bytes at addr the guest could
// write now (populating and growing the stack as a write would).
func writablePrefix(p *kernel.Process, addr, n uint64) uint64 {
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
func ioFD(p *kernel.Process, fd uint64, write bool) (int, error) {
	h, _, err := ioFile(p, fd, write)
	return h, err
}

// ioFile is ioFD with the fd's read state when it is a /proc file read
// through ProcSeq (nil otherwise), from the same entry.
func ioFile(p *kernel.Process, fd uint64, write bool) (int, *fs.ProcSeq, error) {
	h, f, err := ioEntry(p, fd, write)
	if err != nil {
		return -1, nil, err
	}
	return h, f.Seq, nil
}

// ioEntry is ioFile with the fd's whole OpenFile.
func ioEntry(p *kernel.Process, fd uint64, write bool) (int, *fs.OpenFile, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return -1, nil, err
	}
	return ioCheck(e, write)
}

// ioCheck is ioEntry of an entry already looked up.
func ioCheck(e fs.FDEntry, write bool) (int, *fs.OpenFile, error) {
	if e.File.Pidfd != nil || e.File.Signalfd != nil || e.File.Mqueue != nil {
		// A pidfd has no read or write; a signalfd no write, and its
		// read is kshim's (rw, signalfd.go), not the host eventfd's; a
		// message queue's read and write are kshim's (rw, mqueue.go).
		return -1, nil, unix.EINVAL
	}
	if f := e.File; f.Node != nil {
		switch {
		case f.PathOnly:
			return -1, nil, unix.EBADF
		case write && f.Acc == unix.O_RDONLY, !write && f.Acc == unix.O_WRONLY:
			return -1, nil, unix.EBADF
		case write:
			return -1, nil, unix.EINVAL // splice, sendfile: no splice_write (rw, rwv: procWriter)
		case f.Kind == fs.KindProcDir:
			return -1, nil, unix.EISDIR
		}
	}
	return e.Host, e.File, nil
}

// seqRead runs read, a read of count bytes from host fd h at off (-1: its
// position), through seq (nil: as it is), which may generate the /proc
// file's text anew first (fs.ProcSeq).
func seqRead(p *kernel.Process, seq *fs.ProcSeq, h int, off int64, count uint64, read func() (uint64, error)) (uint64, error) {
	if seq == nil {
		return read()
	}
	return seq.Read(p, h, off, count, read)
}

// procWriter is the /proc file guest fd is open for writing (ok false: it
// is no such fd, ioFD says what it is). A positional write is ESPIPE
// (procfs files have no FMODE_PWRITE), one to a file without a Write
// EINVAL, in Linux's order, after the fd's access mode.
func procWriter(p *kernel.Process, fd uint64, positional bool) (*fs.ProcNode, bool, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return nil, false, nil
	}
	return procWriterOf(e.File, positional)
}

// procWriterOf is procWriter of an open file already looked up.
func procWriterOf(f *fs.OpenFile, positional bool) (*fs.ProcNode, bool, error) {
	switch {
	case f.Node == nil || f.PathOnly || f.Acc == unix.O_RDONLY || f.Kind != fs.KindProc:
		return nil, false, nil
	case positional:
		return nil, true, unix.ESPIPE
	case f.Node.Write == nil:
		return nil, true, unix.EINVAL
	}
	return f.Node, true, nil
}

// procWrite writes iov to /proc file n one buffer at a time, as Linux
// calls a .write method for each (a failure after some is their count).
func procWrite(p *kernel.Process, n *fs.ProcNode, iov []fs.Iovec) (uint64, error) {
	done := uint64(0)
	for _, v := range iov {
		c := min(v.Len, fs.MaxRW-done)
		if !fs.AccessOK(v.Base, c) {
			if done > 0 {
				return done, nil
			}
			return 0, unix.EFAULT
		}
		w, err := n.Write(p, v.Base, c)
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if done += w; w < c || done >= fs.MaxRW {
			break
		}
	}
	return done, nil
}

// rw is read, write, pread64 and pwrite64.
func rw(p *kernel.Process, a *args, write, positional bool) (uint64, error) {
	off := int64(-1)
	if positional {
		if off = int64(a[3]); off < 0 {
			return 0, unix.EINVAL
		}
	}
	// One look-up serves the kinds kshim reads and writes itself and
	// the host fd's checks.
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	if write {
		if n, ok, err := procWriterOf(e.File, positional); ok {
			if err != nil {
				return 0, err
			}
			return procWrite(p, n, []fs.Iovec{{Base: a[1], Len: a[2]}})
		}
	}
	if !write {
		if n, ok, err := signalfdRead(p, e, a[1], a[2], positional); ok {
			return n, err
		}
	}
	if n, ok, err := mqueueRW(p, e, a, write, positional); ok {
		return n, err
	}
	h, f, err := ioCheck(e, write)
	if err != nil {
		return 0, err
	}
	// A file whose type the open saw (fs.OpenFile.Type: a path's open,
	// a pipe, a handed-in fd) needs no look to tell it is no socket,
	// nor, for a regular file, directory or block device, that it never
	// waits (WaitReady's rule).
	typ := f.Type
	if !positional && !knownNoSocket(typ) && net.IsSocket(h) {
		return sockRW(p, h, []fs.Iovec{{Base: a[1], Len: min(a[2], fs.MaxRW)}}, write, false) // sockmsg.go
	}
	if err := ttyJobCheck(p, a[0], h, write); err != nil {
		return 0, err
	}
	if write {
		n, err := writeFrom(p, h, a[1], a[2], off, typ)
		if n > 0 && !positional {
			ptyWrote(p, a[0], h, []fs.Iovec{{Base: a[1], Len: n}}, n)
		}
		return n, err
	}
	return seqRead(p, f.Seq, h, off, a[2], func() (uint64, error) { return readInto(p, h, a[1], a[2], off, typ) })
}

func sysRead(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rw(p, a, false, false)
}
func sysWrite(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rw(p, a, true, false)
}
func sysPread(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rw(p, a, false, true)
}
func sysPwrite(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rw(p, a, true, true)
}

// pipeNoNowait is set when the host refused RWF_NOWAIT on a pipe
// (EOPNOTSUPP: kernels before pipes took FMODE_NOWAIT); learnt per run.
var pipeNoNowait atomic.Bool

// nowaitRW is one read or write of b on pipe h (typ S_IFIFO) that the host
// does without waiting (RWF_NOWAIT, which leaves the description's own
// O_NONBLOCK, perhaps shared with kshim's caller, alone). ok false: not
// tried or it would wait (EAGAIN: no data, no room even for an atomic
// write), so the caller waits (WaitReady) and makes its usual call. A pipe
// that needs no waiting thus costs one host call, not an fstat, F_GETFL
// and poll before it.
func nowaitRW(h int, typ uint32, b []byte, write bool) (n int, err error, ok bool) {
	if typ != unix.S_IFIFO || pipeNoNowait.Load() {
		return 0, nil, false
	}
	if write {
		n, err = unix.Pwritev2(h, [][]byte{b}, -1, unix.RWF_NOWAIT)
	} else {
		n, err = unix.Preadv2(h, [][]byte{b}, -1, unix.RWF_NOWAIT)
	}
	switch err {
	case unix.EOPNOTSUPP:
		pipeNoNowait.Store(true)
		return 0, nil, false
	case unix.EAGAIN, unix.EINTR:
		return 0, nil, false
	case nil:
		return n, nil, true
	}
	return 0, err, true // n is -1
}

// knownNoSocket: a file of type typ (0: not known) is surely no socket.
func knownNoSocket(typ uint32) bool { return typ != 0 && typ != unix.S_IFSOCK }

// mayWait: whether a file of type typ (0: not known) may block.
func mayWait(typ uint32) bool {
	return typ != unix.S_IFREG && typ != unix.S_IFDIR && typ != unix.S_IFBLK
}

// streamWrite is one write of b (not empty) to non-positional h, which
// may wait: as a blocking write, the part that fits goes now (a pipe
// without waiting), the rest after WaitReady, where a signal ends it
// (ErrRestart with w the part written: the caller returns that part).
func streamWrite(p *kernel.Process, h int, b []byte, typ uint32) (w int, err error) {
	w, err, ok := nowaitRW(h, typ, b, true)
	if ok && (err != nil || w == len(b)) {
		return w, err
	}
	if err := p.WaitReadyType(h, unix.POLLOUT, typ); err != nil {
		return w, err
	}
	hw, err := fs.HostWrite(h, b[w:], -1)
	if err != nil {
		return w, err
	}
	return w + hw, nil
}

// streamRead is one read into b from non-positional h, which may wait:
// a pipe's read that need not wait goes at once, else it waits in
// WaitReady, where a signal ends it (ErrRestart).
func streamRead(p *kernel.Process, h int, b []byte, typ uint32) (int, error) {
	if r, err, ok := nowaitRW(h, typ, b, false); ok {
		return r, err
	}
	if err := p.WaitReadyType(h, unix.POLLIN, typ); err != nil {
		return 0, err
	}
	return fs.HostRead(h, b, -1)
}

// writeFrom writes n guest bytes at addr to host fd h, in chunks. A fault
// after some bytes were written returns the count written, as Linux does.
// typ is h's S_IFMT when known (0 otherwise): a file that never blocks
// needs no WaitReady, a pipe first tries its write without waiting.
func writeFrom(p *kernel.Process, h int, addr, n uint64, off int64, typ uint32) (uint64, error) {
	if n == 0 || !fs.AccessOK(addr, n) {
		// A zero-length write still reports the fd's own errors (EBADF
		// for a read-only fd), which Linux checks before the buffer.
		if _, err := fs.HostWrite(h, nil, off); err != nil || n == 0 {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	n = min(n, fs.MaxRW)
	done := uint64(0)
	sb := fs.Scratch(int(min(n, fs.IoChunk)))
	defer fs.PutScratch(sb)
	buf := *sb
	for done < n {
		chunk := buf[:min(n-done, fs.IoChunk)]
		c, err := p.MM.CopyIn(addr+done, chunk)
		if c == 0 && err != nil {
			if done > 0 {
				return done, nil
			}
			if _, werr := fs.HostWrite(h, nil, off); werr != nil {
				return 0, werr
			}
			return 0, err
		}
		var w int
		var werr error
		if off >= 0 {
			w, werr = fs.HostWrite(h, chunk[:c], off+int64(done))
		} else if mayWait(typ) {
			w, werr = streamWrite(p, h, chunk[:c], typ)
		} else {
			w, werr = fs.HostWrite(h, chunk[:c], -1)
		}
		if werr != nil {
			w = max(w, 0) // a failed host write's count is -1
			if done+uint64(w) > 0 {
				return done + uint64(w), nil // a signal or error after a partial write
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

// readInto reads up to n bytes from host fd h into guest memory at addr,
// a chunk (fs.IoChunk) at a time. A file that does not wait (a regular
// file, a block device) and the memory devices (/dev/zero, urandom) fill
// the buffer as Linux's read does, up to end of file or a fault, where a
// read of 16 MiB returned 1 MiB (dd counted partial records); a stream
// (a pipe, a terminal) is read once, its short reads the caller's
// concern. typ is h's S_IFMT when known (0 otherwise): a file that never
// blocks needs no WaitReady, a pipe first tries its read without waiting.
func readInto(p *kernel.Process, h int, addr, n uint64, off int64, typ uint32) (uint64, error) {
	done, looked, memDev := uint64(0), false, false
	for {
		want := min(n-done, fs.IoChunk)
		at := off
		if off >= 0 {
			at = off + int64(done)
		}
		r, err := readChunk(p, h, addr+done, n-done, at, typ)
		if err != nil && done == 0 {
			return 0, err
		}
		done += r
		if err != nil || done >= n || r == 0 || p.Interrupted() {
			return done, nil // after some bytes, a fault's is their count
		}
		if !looked {
			// A second chunk is wanted: what the file is (its type
			// may not be known, and a device's kind never is).
			looked = true
			typ, memDev = fileKind(h)
		}
		// A memory device's read ends early for any signal on the
		// reading thread (read_iter_zero, get_random_bytes_user), and
		// kshim's threads take the Go runtime's and its own, which the
		// guest never sent: it goes on after any count.
		if !memDev && (mayWait(typ) || r < want) {
			return done, nil // a stream, or end of file, or a fault
		}
	}
}

// fileKind is host fd h's S_IFMT (0: unknown) and whether it is one of
// the memory devices (major 1: /dev/zero, urandom).
func fileKind(h int) (typ uint32, memDev bool) {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil {
		return 0, false
	}
	typ = st.Mode & unix.S_IFMT
	return typ, typ == unix.S_IFCHR && unix.Major(st.Rdev) == 1
}

// readChunk is one host read of up to fs.IoChunk of n bytes into guest
// memory at addr (readInto).
func readChunk(p *kernel.Process, h int, addr, n uint64, off int64, typ uint32) (uint64, error) {
	w := uint64(0)
	if n > 0 && fs.AccessOK(addr, n) {
		w = writablePrefix(p, addr, min(n, fs.IoChunk))
	}
	if w == 0 {
		// Nothing to read into: let the host report the fd's own errors
		// (EBADF, EISDIR) without consuming data.
		if _, err := fs.HostRead(h, nil, off); err != nil || n == 0 {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	if w < n && fs.PipeFaults(h, w) {
		return 0, unix.EFAULT
	}
	sb := fs.Scratch(int(w))
	defer fs.PutScratch(sb)
	buf := *sb
	var r int
	var err error
	if off < 0 && mayWait(typ) {
		r, err = streamRead(p, h, buf, typ) // a pipe or terminal may block
	} else {
		r, err = fs.HostRead(h, buf, off)
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

// iovecs reads and checks an iovec array as Linux's import_iovec: EINVAL
// for too many or a negative length, EFAULT for an unreadable array or a
// range outside user space.
func iovecs(p *kernel.Process, addr, n uint64) ([]fs.Iovec, error) {
	if n > fs.IovMax {
		return nil, unix.EINVAL
	}
	raw := make([]byte, 16*n)
	if _, err := p.MM.CopyIn(addr, raw); err != nil {
		return nil, err
	}
	out := make([]fs.Iovec, n)
	for i := range out {
		out[i] = fs.Iovec{Base: abi.Le64(raw[16*i:]), Len: abi.Le64(raw[16*i+8:])}
		if int64(out[i].Len) < 0 {
			return nil, unix.EINVAL
		}
	}
	for _, v := range out {
		if !fs.AccessOK(v.Base, v.Len) {
			return nil, unix.EFAULT
		}
	}
	return out, nil
}

// rwv is readv, writev, preadv, pwritev, preadv2 and pwritev2: a[3] is
// the offset (x86-64 passes it whole in pos_l), a[5] the RWF_ flags.
func rwv(p *kernel.Process, a *args, write, positional, v2 bool) (uint64, error) {
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
	if write {
		if n, ok, err := procWriter(p, a[0], off >= 0); ok {
			if err != nil {
				return 0, err
			}
			iov, err := iovecs(p, a[1], a[2])
			if err != nil {
				return 0, err
			}
			return procWrite(p, n, iov)
		}
	}
	h, f, err := ioEntry(p, a[0], write)
	if err != nil {
		return 0, err
	}
	seq := f.Seq
	iov, err := iovecs(p, a[1], a[2])
	if err != nil {
		if merr := fs.CheckMode(h, write); merr != nil {
			return 0, merr
		}
		return 0, err
	}
	if !positional && !knownNoSocket(f.Type) && net.IsSocket(h) {
		return sockRW(p, h, iov, write, true) // sockmsg.go
	}
	if write {
		if err := ttyJobCheck(p, a[0], h, true); err != nil {
			return 0, err
		}
		n, err := writev(p, h, iov, off, flags, f.Type)
		if n > 0 && !positional {
			ptyWrote(p, a[0], h, iov, n)
		}
		return n, err
	}
	if err := ttyJobCheck(p, a[0], h, false); err != nil {
		return 0, err
	}
	return seqRead(p, seq, h, off, fs.IovLen(iov), func() (uint64, error) { return readv(p, h, iov, off, flags, f.Type) })
}

func sysReadv(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, false, false, false)
}
func sysWritev(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, true, false, false)
}
func sysPreadv(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, false, true, false)
}
func sysPwritev(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, true, true, false)
}
func sysPreadv2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, false, true, true)
}
func sysPwritev2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return rwv(p, a, true, true, true)
}

// writev gathers the iovecs into one buffer so the write is one host
// write (pipes keep writev atomicity for small writes).
// A stream write (off < 0, no RWF_ flags) waits as write does (streamWrite:
// a signal ends the wait); typ is h's S_IFMT when known.
func writev(p *kernel.Process, h int, iov []fs.Iovec, off int64, flags int, typ uint32) (uint64, error) {
	var buf []byte
	var fault error
	for _, v := range iov {
		if v.Len == 0 {
			continue
		}
		if uint64(len(buf))+v.Len > fs.VecMax {
			v.Len = fs.VecMax - uint64(len(buf))
		}
		b := make([]byte, v.Len)
		c, err := p.MM.CopyIn(v.Base, b)
		buf = append(buf, b[:c]...)
		if err != nil {
			fault = err
			break
		}
		if len(buf) == fs.VecMax {
			break
		}
	}
	if len(buf) == 0 {
		if _, err := fs.HostWritev(h, nil, off, flags); err != nil || fault == nil {
			return 0, err
		}
		return 0, fault
	}
	if off < 0 && flags == 0 && mayWait(typ) {
		w, err := streamWrite(p, h, buf, typ)
		if err != nil && w > 0 {
			return uint64(w), nil
		}
		return uint64(w), err
	}
	w, err := fs.HostWritev(h, buf, off, flags)
	return uint64(w), err
}

// readv reads into the writable prefix of the iovecs with one host read
// and scatters the data. A stream read (off < 0, no RWF_ flags) waits as
// read does (streamRead); typ is h's S_IFMT when known.
func readv(p *kernel.Process, h int, iov []fs.Iovec, off int64, flags int, typ uint32) (uint64, error) {
	total := uint64(writableIov(p, iov)) // sockmsg.go
	want := fs.IovLen(iov)
	if total > 0 && total < want && fs.PipeFaults(h, total) {
		return 0, unix.EFAULT
	}
	if total == 0 {
		_, err := fs.HostReadv(h, nil, off, flags)
		for _, v := range iov {
			if err == nil && v.Len > 0 {
				err = unix.EFAULT
			}
		}
		return 0, err
	}
	buf := make([]byte, total)
	var r int
	var err error
	if off < 0 && flags == 0 && mayWait(typ) {
		r, err = streamRead(p, h, buf, typ)
	} else {
		r, err = fs.HostReadv(h, buf, off, flags)
	}
	if err != nil {
		return 0, err
	}
	done := 0
	for _, v := range iov {
		if done == r {
			break
		}
		n := min(int(min(v.Len, uint64(r))), r-done)
		if _, err := p.MM.CopyOut(v.Base, buf[done:done+n]); err != nil {
			if done == 0 {
				return 0, err
			}
			break
		}
		done += n
	}
	return uint64(done), nil
}

func sysLseek(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	off, whence := int64(a[1]), int(int32(a[2]))
	if f := ipc.MqFileOf(e.File); f != nil {
		r, err := ipc.MqSeek(f, off, whence)
		return uint64(r), err
	}
	switch e.File.Kind {
	case fs.KindProcDir:
		// Positions are entry indexes; only rewinding and telling make
		// sense, as for Linux's /proc directories.
		d := e.File.Dir
		d.Mu.Lock()
		defer d.Mu.Unlock()
		switch {
		case whence == unix.SEEK_SET && off >= 0:
			d.Pos = int(min(off, int64(max(len(d.Entries), 2))))
			return uint64(off), nil
		case whence == unix.SEEK_CUR && off == 0:
			return uint64(d.Pos), nil
		}
		return 0, unix.EINVAL
	case fs.KindProcLink:
		return 0, unix.EBADF
	case fs.KindProc:
		if e.File.PathOnly {
			return 0, unix.EBADF // an O_PATH fd has no position
		}
		if e.File.Seq != nil {
			r, err := e.File.Seq.Seek(p, e.Host, off, whence)
			return uint64(r), err
		}
	}
	r, err := unix.Seek(e.Host, off, whence)
	return uint64(r), err
}

func sysSendfile(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var pos int64
	var posp *int64
	if a[2] != 0 {
		var b [8]byte
		if _, err := p.MM.CopyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		pos = int64(abi.Le64(b[:]))
		posp = &pos
	}
	in, seq, err := ioFile(p, a[1], false)
	if err != nil {
		return 0, err
	}
	out, err := ioFD(p, a[0], true)
	if err != nil {
		return 0, err
	}
	off := int64(-1)
	if posp != nil {
		off = pos
		if pos < 0 {
			seq = nil // the host's EINVAL, before any read
		}
	}
	var n uint64
	if seq != nil && !seq.Splices() {
		err = unix.EINVAL // a /proc file without splice_read
	} else {
		n, err = seqRead(p, seq, in, off, min(a[3], fs.MaxRW), func() (uint64, error) {
			n, err := unix.Sendfile(out, in, posp, int(min(a[3], fs.MaxRW)))
			return uint64(max(n, 0)), err
		})
	}
	if posp != nil {
		var b [8]byte
		abi.Put64(b[:], uint64(pos))
		if _, cerr := p.MM.CopyOut(a[2], b[:]); cerr != nil {
			return 0, cerr
		}
	}
	return n, err
}

func sysIoctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	req, arg := uint64(uint32(a[1])), a[2] // the request is an unsigned int
	if e.File.PathOnly {
		return 0, unix.EBADF
	}
	switch req {
	case fs.Fioclex, fs.Fionclex:
		if err := fs.CheckNotPath(e.Host); err != nil {
			return 0, err
		}
		return 0, p.Files.SetCloexec(fs.FDArg(a[0]), req == fs.Fioclex)
	}
	if e.File.Kind == fs.KindProcDir || e.File.Kind == fs.KindProcLink {
		return 0, unix.ENOTTY
	}
	if r, err, ok := ptyIoctl(p, e.Host, a[0], req, arg); ok {
		return r, err
	}
	switch req {
	case unix.TCGETS:
		return ioctlOut(p, e.Host, req, arg, fs.KernelTermiosSize)
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		return ioctlIn(p, e.Host, req, arg, fs.KernelTermiosSize)
	case unix.TIOCGWINSZ:
		return ioctlOut(p, e.Host, req, arg, fs.WinsizeSize)
	case unix.TIOCSWINSZ:
		return ioctlIn(p, e.Host, req, arg, fs.WinsizeSize)
	case unix.TIOCGPGRP:
		return p.GetForeground(e.Host, arg)
	case unix.TIOCSPGRP:
		return p.SetForeground(e.Host, arg)
	case unix.TCFLSH, unix.TCXONC, unix.TCSBRK:
		// The argument is a value (a queue, an action, a duration).
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(e.Host), uintptr(req), uintptr(int32(arg)))
		if errno != 0 {
			return 0, errno
		}
		return 0, nil
	case unix.TIOCOUTQ:
		return ioctlOut(p, e.Host, req, arg, 4)
	case fs.Fionread:
		return ioctlOut(p, e.Host, req, arg, 4)
	case fs.Fionbio:
		return ioctlIn(p, e.Host, req, arg, 4)
	}
	if r, err, ok := sockIoctl(p, e.Host, req, arg); ok { // socket.go
		return r, err
	}
	if p.WarnOnce(1<<32 | req) {
		p.Log.WithField("request", req).Debug("unsupported ioctl: ENOTTY")
	}
	return 0, unix.ENOTTY
}

// ioctlOut runs a host ioctl that fills size bytes, then copies them out.
func ioctlOut(p *kernel.Process, h int, req, arg uint64, size int) (uint64, error) {
	b := make([]byte, size)
	if err := fs.HostIoctl(h, req, b); err != nil {
		return 0, err
	}
	_, err := p.MM.CopyOut(arg, b)
	return 0, err
}

// ioctlIn copies size bytes in and runs a host ioctl that reads them.
func ioctlIn(p *kernel.Process, h int, req, arg uint64, size int) (uint64, error) {
	b := make([]byte, size)
	if _, err := p.MM.CopyIn(arg, b); err != nil {
		return 0, err
	}
	return 0, fs.HostIoctl(h, req, b)
}

// ptyIoctl serves the requests that are the guest's own on its terminals
// (fs/pty.go): the pty pair's (number, lock, packet mode, opening the
// peer) go to the host only for the guest's own ptys, never to a
// terminal kshim was handed; the session's (controlling terminal,
// foreground group, SIGWINCH on a new size) are kernel/tty.go's. ok false
// leaves the request to sysIoctl.
func ptyIoctl(p *kernel.Process, h int, gfd, req, arg uint64) (uint64, error, bool) {
	switch req {
	case unix.TIOCGPTN, unix.TIOCGPTLCK, unix.TIOCGPKT, unix.TIOCSPTLCK, unix.TIOCPKT, unix.TIOCGPTPEER,
		unix.TIOCSCTTY, unix.TIOCNOTTY, unix.TIOCGSID:
	case unix.TIOCGPGRP, unix.TIOCSPGRP, unix.TIOCSWINSZ:
		if _, _, ok := fs.Pty(h); !ok {
			return 0, nil, false // a host terminal: tty.go's rules
		}
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF, unix.TCFLSH, unix.TCXONC:
		// Changing a terminal from a background group: SIGTTOU
		// (tty_check_change), then the host's tty does the rest.
		if n, master, ok := fs.Pty(h); ok && !master {
			if err := p.TTYCheck(n, int(unix.SIGTTOU)); err != nil {
				return 0, err, true
			}
		}
		return 0, nil, false
	default:
		return 0, nil, false
	}
	n, master, ok := fs.Pty(h)
	if !ok {
		return 0, unix.ENOTTY, true
	}
	switch req {
	case unix.TIOCGPTN, unix.TIOCGPTLCK, unix.TIOCGPKT:
		r, err := ioctlOut(p, h, req, arg, 4)
		return r, err, true
	case unix.TIOCSPTLCK, unix.TIOCPKT:
		r, err := ioctlIn(p, h, req, arg, 4)
		return r, err, true
	case unix.TIOCGPTPEER:
		// Only the flags an open of the peer means; O_NOCTTY and
		// O_CLOEXEC are always the host's (fs/pty.go).
		flags := int(int32(arg)) & (unix.O_ACCMODE | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC | unix.O_APPEND)
		peer, err := fs.PtyPeer(h, flags)
		if err != nil {
			return 0, err, true
		}
		fd, err := p.NewFD(peer, flags&unix.O_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost,
			Path: "/dev/pts/" + abi.Itoa(n), Origin: fs.FromDevice})
		if err == nil && flags&unix.O_NOCTTY == 0 {
			p.OpenedTTY(n)
		}
		return fd, err, true
	}
	if req == unix.TIOCSPGRP && !master {
		// tiocspgrp: tty_check_change first, its EIO read as ENOTTY.
		if err := p.TTYCheck(n, int(unix.SIGTTOU)); err != nil {
			if err == unix.EIO {
				err = unix.ENOTTY
			}
			return 0, err, true
		}
	}
	r, err, ok := p.PtyIoctl(h, n, master, req, arg)
	if !ok {
		return 0, unix.ENOTTY, true
	}
	return r, err, true
}

// ptyWrote is Linux's line discipline's ISIG for the guest's own ptys:
// when n bytes written (from iov) to a pty master reach the slave's input
// with ISIG set, its VINTR, VQUIT and VSUSP characters send SIGINT,
// SIGQUIT and SIGTSTP to the slave's foreground group (kernel/tty.go).
// The host's line discipline does the rest (it drops the character,
// flushes, echoes ^C) but has no group of the guest's to signal. Only the
// first ptyScan bytes of a write are looked at.
func ptyWrote(p *kernel.Process, gfd uint64, h int, iov []fs.Iovec, n uint64) {
	e, ok := p.Files.Get(fs.FDArg(gfd))
	if !ok || e.File.Origin != fs.FromDevice || e.File.Path != "/dev/ptmx" && e.File.Path != "/dev/pts/ptmx" {
		return
	}
	// TCGETS on the master is the slave's termios (tty_mode_ioctl).
	t := make([]byte, fs.KernelTermiosSize)
	if fs.HostIoctl(h, unix.TCGETS, t) != nil || abi.Le32(t[12:16])&unix.ISIG == 0 {
		return
	}
	cc := t[17:]
	sigs := map[byte]int{}
	for _, c := range []struct {
		i   int
		sig int
	}{{unix.VINTR, int(unix.SIGINT)}, {unix.VQUIT, int(unix.SIGQUIT)}, {unix.VSUSP, int(unix.SIGTSTP)}} {
		if cc[c.i] != 0 { // _POSIX_VDISABLE
			sigs[cc[c.i]] = c.sig
		}
	}
	buf := make([]byte, 0, min(n, ptyScan))
	for _, v := range iov {
		k := min(v.Len, uint64(cap(buf)-len(buf)))
		if k == 0 {
			break
		}
		b := make([]byte, k)
		c, _ := p.MM.CopyIn(v.Base, b)
		buf = append(buf, b[:c]...)
	}
	var send []int
	for _, b := range buf {
		if sig, ok := sigs[b]; ok {
			send = append(send, sig)
		}
	}
	if len(send) == 0 {
		return
	}
	if pn, master, ok := fs.Pty(h); ok && master {
		p.PtyInputSignals(pn, send)
	}
}

const ptyScan = 4096

// ttyJobCheck is job control on a read or write of guest fd gfd (host fd
// h) when it is one of the guest's pty slaves: kernel's TTYCheck with
// SIGTTIN before a read, SIGTTOU before a write when TOSTOP is set.
func ttyJobCheck(p *kernel.Process, gfd uint64, h int, write bool) error {
	e, ok := p.Files.Get(fs.FDArg(gfd))
	if !ok || e.File.Origin != fs.FromDevice || !strings.HasPrefix(e.File.Path, "/dev/pts/") && e.File.Path != "/dev/tty" {
		return nil
	}
	n, master, ok := fs.Pty(h)
	if !ok || master {
		return nil
	}
	if !write {
		return p.TTYCheck(n, int(unix.SIGTTIN))
	}
	t := make([]byte, fs.KernelTermiosSize)
	if fs.HostIoctl(h, unix.TCGETS, t) != nil || abi.Le32(t[12:16])&unix.TOSTOP == 0 {
		return nil
	}
	return p.TTYCheck(n, int(unix.SIGTTOU))
}
