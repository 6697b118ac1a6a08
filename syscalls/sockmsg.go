// sockmsg.go: data on sockets: sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg, and read/write on a socket (io.go hands those here).
//
// Invariants (with socket.go's):
//   - Every host call is non-blocking (MSG_DONTWAIT) and never raises a
//     host SIGPIPE (MSG_NOSIGNAL); kshim waits (sockWait) when the guest's
//     socket blocks, and raises the guest's SIGPIPE itself.
//   - Checks run in Linux's order for the msghdr: msg_namelen (EINVAL,
//     clamped to sockaddr_storage), the name, msg_iovlen (EMSGSIZE), the
//     iovecs (EINVAL, EFAULT), msg_controllen (ENOBUFS), the control data
//     (EFAULT), its structure (EINVAL), the fds in it (EBADF).
//   - A receive never consumes data it cannot deliver: the host buffer is
//     the writable part of the guest's (as io.go's reads), the host
//     control buffer no larger than the guest's, so the host kernel
//     truncates (MSG_CTRUNC, closing the fds) exactly where Linux would.
package syscalls

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// msghdr is the guest's struct msghdr (56 bytes).
type msghdr struct {
	name       uint64
	namelen    int32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
	flags      int32
}

const msghdrSize = 56

func (p *Process) readMsghdr(addr uint64) (msghdr, error) {
	var b [msghdrSize]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return msghdr{}, unix.EFAULT
	}
	return msghdr{name: le64(b[0:]), namelen: int32(le32(b[8:])), iov: le64(b[16:]), iovlen: le64(b[24:]),
		control: le64(b[32:]), controllen: le64(b[40:]), flags: int32(le32(b[48:]))}, nil
}

// hostMsg is one host sendmsg/recvmsg.
func hostMsg(nr uintptr, h int, name, data, ctl []byte, flags int) (n, namelen, ctllen, rflags int, err error) {
	var iov unix.Iovec
	var m unix.Msghdr
	if len(data) > 0 {
		iov.Base = &data[0]
		iov.SetLen(len(data))
		m.Iov = &iov
		m.SetIovlen(1)
	}
	if len(name) > 0 {
		m.Name = &name[0]
		m.Namelen = uint32(len(name))
	}
	if len(ctl) > 0 {
		m.Control = &ctl[0]
		m.SetControllen(len(ctl))
	}
	r, _, e := unix.Syscall(nr, uintptr(h), uintptr(unsafe.Pointer(&m)), uintptr(flags))
	if e != 0 {
		return 0, 0, 0, 0, e
	}
	return int(r), int(m.Namelen), int(m.Controllen), int(m.Flags), nil
}

// gather copies the guest's iovecs in (up to vecMax bytes). A fault after
// some bytes returns those; with none, EFAULT.
func (p *Process) gather(iov []iovec) ([]byte, error) {
	var buf []byte
	for _, v := range iov {
		if v.len == 0 {
			continue
		}
		n := min(v.len, vecMax-uint64(len(buf)))
		b := make([]byte, n)
		c, err := p.MM.CopyIn(v.base, b)
		buf = append(buf, b[:c]...)
		if err != nil {
			if len(buf) == 0 {
				return nil, unix.EFAULT
			}
			break
		}
		if len(buf) == vecMax {
			break
		}
	}
	return buf, nil
}

// sendOne sends data (and control, translated) on h to host address
// name, waiting as the guest's socket blocks: a blocking stream send
// goes on until all is sent, as Linux's does.
func (p *Process) sendOne(h int, name, data, ctl []byte, flags int) (int, error) {
	stream := false
	if t, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		stream = t == unix.SOCK_STREAM
		if t != unix.SOCK_STREAM && sockFamily(h) == unix.AF_NETLINK && !netlinkQueries(data) {
			return 0, unix.EPERM // as without CAP_NET_ADMIN
		}
	}
	block := flags&unix.MSG_DONTWAIT == 0 && !nonblocking(h)
	hflags := flags | unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	if n := p.network(); n != nil {
		n.cred.sent(h, p.Pid)
	}
	var deadline time.Time
	sent, first := 0, true
	backoff := time.Duration(0)
	for {
		n, _, _, _, err := hostMsg(unix.SYS_SENDMSG, h, name, data[sent:], ctl, hflags)
		if err == nil {
			sent += n
			ctl = nil // control data goes with the first part
			if !stream || sent == len(data) || !block {
				return sent, nil
			}
		} else if err != unix.EAGAIN || !block {
			if sent > 0 {
				return sent, nil
			}
			if err == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 && stream {
				p.raise(int(unix.SIGPIPE), Siginfo{Signo: int32(unix.SIGPIPE), Code: siUser,
					Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
			}
			return 0, err
		}
		if first {
			deadline, first = sockDeadline(h, unix.SO_SNDTIMEO), false
			if d, ok := holdFD(h); ok {
				h = d
				defer unix.Close(d)
			}
		}
		var werr error
		if err == unix.EAGAIN && backoff > 0 {
			// Ready by poll yet still full (a unix datagram receiver
			// that poll cannot see): back off instead of spinning.
			werr = p.sockSleep(backoff, deadline)
			backoff = min(2*backoff, 20*time.Millisecond)
		} else {
			werr = p.sockWait(h, unix.POLLOUT, deadline)
			if err == unix.EAGAIN {
				backoff = time.Millisecond
			}
		}
		if werr != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, werr
		}
		if err == nil {
			backoff = 0
		}
	}
}

// recvOne receives into a buffer of n bytes (the writable part of the
// guest's), waiting as the guest's socket blocks.
func (p *Process) recvOne(h int, n int, nameCap, ctlCap int, flags int) (data []byte, count int, name, ctl []byte, rflags int, err error) {
	block := flags&(unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE) == 0 && !nonblocking(h)
	stream := false
	if t, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		stream = t == unix.SOCK_STREAM
	}
	waitAll := stream && flags&unix.MSG_WAITALL != 0 && flags&unix.MSG_PEEK == 0 && block
	if stream && !waitAll {
		n = min(n, ioChunk) // a stream may return less; a datagram may not
	}
	buf := make([]byte, n)
	nameBuf := make([]byte, nameCap)
	ctlBuf := make([]byte, ctlCap)
	hflags := flags&^unix.MSG_WAITALL | unix.MSG_DONTWAIT | msgCmsgCloexec
	var deadline time.Time
	got, first := 0, true
	for {
		r, nl, cl, rf, err := hostMsg(unix.SYS_RECVMSG, h, nameBuf, buf[got:], ctlBuf, hflags)
		if err == nil {
			if got == 0 {
				name, ctl, rflags = nameBuf[:min(nl, nameCap)], ctlBuf[:min(cl, ctlCap)], rf
				ctlBuf = nil // control data comes with the first part
			}
			if r > len(buf)-got {
				// MSG_TRUNC: a datagram's real length, more than the
				// buffer took, is the count.
				return buf, r, name, ctl, rflags, nil
			}
			got += r
			if !waitAll || r == 0 || got == n {
				return buf[:got], got, name, ctl, rflags, nil
			}
		} else if err != unix.EAGAIN || !block {
			if got > 0 {
				return buf[:got], got, name, ctl, rflags, nil
			}
			return nil, 0, nil, nil, 0, err
		}
		if first {
			deadline, first = sockDeadline(h, unix.SO_RCVTIMEO), false
			if d, ok := holdFD(h); ok {
				h = d
				defer unix.Close(d)
			}
		}
		if werr := p.sockWait(h, unix.POLLIN, deadline); werr != nil {
			if got > 0 {
				return buf[:got], got, name, ctl, rflags, nil
			}
			return nil, 0, nil, nil, 0, werr
		}
	}
}

// scatter copies data out to the guest's iovecs.
func (p *Process) scatter(iov []iovec, data []byte) error {
	done := 0
	for _, v := range iov {
		if done == len(data) {
			break
		}
		n := min(int(min(v.len, uint64(len(data)))), len(data)-done)
		if _, err := p.MM.CopyOut(v.base, data[done:done+n]); err != nil {
			return unix.EFAULT
		}
		done += n
	}
	return nil
}

// writableIov is how many bytes of the iovecs the guest can take now.
func (p *Process) writableIov(iov []iovec) int {
	total := uint64(0)
	for _, v := range iov {
		n := min(v.len, vecMax-total)
		w := p.writablePrefix(v.base, n)
		total += w
		if w < v.len || total == vecMax {
			break
		}
	}
	return int(total)
}

// sendto(fd, buf, len, flags, addr, addrlen).
func sysSendto(p *Process, _ *Regs, a *args) (uint64, error) {
	n := min(a[2], maxRW)
	if !accessOK(a[1], n) {
		return 0, unix.EFAULT
	}
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	var name []byte
	if a[4] != 0 {
		sa, err := p.sockaddrIn(a[4], int(int32(a[5])))
		if err != nil {
			return 0, err
		}
		hsa, pfd, err := p.resolveUnix(h, sa)
		if err != nil {
			return 0, err
		}
		if pfd >= 0 {
			defer unix.Close(pfd)
		}
		name = hsa
	}
	data, err := p.gather([]iovec{{a[1], n}})
	if err != nil {
		return p.faultingIO(unix.SYS_SENDTO, h, n, int(int32(a[3])), name)
	}
	sent, err := p.sendOne(h, name, data, nil, int(int32(a[3])))
	return uint64(sent), err
}

// faultAddr is an address never mapped in kshim (page zero).
const faultAddr = 8

// faultingIO is a send or receive whose guest buffer faults at once: the
// host call gets a buffer that faults too, so the host kernel reports
// what Linux would, in its order (a state error such as ENOTCONN or EPIPE
// before EFAULT).
func (p *Process) faultingIO(nr uintptr, h int, n uint64, flags int, name []byte) (uint64, error) {
	_, _, e := unix.Syscall6(nr, uintptr(h), faultAddr, uintptr(n), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL),
		uintptr(bufPtr(name)), uintptr(len(name)))
	err := errnoErr(e)
	if err == nil || err == unix.EAGAIN {
		err = unix.EFAULT
	}
	if err == unix.EPIPE && nr == unix.SYS_SENDTO && flags&unix.MSG_NOSIGNAL == 0 && isStream(h) {
		p.raise(int(unix.SIGPIPE), Siginfo{Signo: int32(unix.SIGPIPE), Code: siUser,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	}
	return 0, err
}

// recvfrom(fd, buf, len, flags, addr, addrlen).
func sysRecvfrom(p *Process, _ *Regs, a *args) (uint64, error) {
	n := min(a[2], maxRW)
	if !accessOK(a[1], n) {
		return 0, unix.EFAULT
	}
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	iov := []iovec{{a[1], n}}
	w := p.writableIov(iov)
	if w == 0 && n > 0 {
		return p.faultingIO(unix.SYS_RECVFROM, h, n, int(int32(a[3])), nil)
	}
	flags := int(int32(a[3])) &^ msgCmsgCloexec
	data, count, name, _, _, err := p.recvOne(h, w, sockaddrMax, 0, flags)
	if err != nil {
		return 0, err
	}
	if err := p.scatter(iov, data); err != nil {
		return 0, err
	}
	if a[4] != 0 {
		if err := p.sockaddrOut(name, a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return uint64(count), nil
}

// msgIn reads and checks a msghdr for sending or receiving: its name (for
// sending, read and resolved; pfd to close), its iovecs.
func (p *Process) msgIn(h int, m *msghdr, send bool) (name []byte, pfd int, iov []iovec, err error) {
	pfd = -1
	if m.namelen < 0 {
		return nil, -1, nil, unix.EINVAL
	}
	nl := min(int(m.namelen), sockaddrMax)
	if m.name == 0 {
		nl = 0
	}
	if send && nl > 0 {
		sa, err := p.sockaddrIn(m.name, nl)
		if err != nil {
			return nil, -1, nil, err
		}
		if name, pfd, err = p.resolveUnix(h, sa); err != nil {
			return nil, -1, nil, err
		}
	}
	if m.iovlen > uioMaxIOV {
		return nil, pfd, nil, unix.EMSGSIZE
	}
	iov, err = p.iovecs(m.iov, m.iovlen)
	return name, pfd, iov, err
}

// sendmsg(fd, msg, flags).
func sysSendmsg(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	n, err := p.sendmsg(h, a[1], int(int32(a[2])))
	return uint64(n), err
}

func (p *Process) sendmsg(h int, addr uint64, flags int) (int, error) {
	m, err := p.readMsghdr(addr)
	if err != nil {
		return 0, err
	}
	name, pfd, iov, err := p.msgIn(h, &m, true)
	if pfd >= 0 {
		defer unix.Close(pfd)
	}
	if err != nil {
		return 0, err
	}
	ctl, dups, err := p.controlIn(m.control, m.controllen)
	defer closeAll(dups)
	if err != nil {
		return 0, err
	}
	data, err := p.gather(iov)
	if err != nil {
		want := uint64(0)
		for _, v := range iov {
			want += v.len
		}
		n, err := p.faultingIO(unix.SYS_SENDTO, h, want, flags, name)
		return int(n), err
	}
	return p.sendOne(h, name, data, ctl, flags)
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

var optmemMax = func() int {
	b, err := readHostFile("/proc/sys/net/core/optmem_max")
	if err != nil {
		return optmemMaxFallback
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		v = 10*v + int(c-'0')
	}
	return max(v, 1)
}()

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// controlIn reads the guest's control data for sending and translates
// it: SCM_RIGHTS guest fds become host dups (returned, to close after the
// call), SCM_CREDENTIALS the guest's pid becomes kshim's. It walks the
// messages as Linux's __scm_send does and fails as it would, so nothing
// untranslated reaches the host.
func (p *Process) controlIn(addr, n uint64) ([]byte, []int, error) {
	if n == 0 {
		return nil, nil, nil
	}
	if n > 1<<31-1 || n > uint64(optmemMax) {
		return nil, nil, unix.ENOBUFS
	}
	b := make([]byte, n)
	if _, err := p.MM.CopyIn(addr, b); err != nil {
		return nil, nil, unix.EFAULT
	}
	var dups []int
	for off := 0; off+cmsgHdrLen <= len(b); {
		l := le64(b[off:])
		if l < cmsgHdrLen || l > uint64(len(b)-off) {
			return nil, dups, unix.EINVAL
		}
		level, typ := int32(le32(b[off+8:])), int32(le32(b[off+12:]))
		data := b[off+cmsgHdrLen : off+int(l)]
		if level == unix.SOL_SOCKET {
			switch typ {
			case unix.SCM_RIGHTS:
				cnt := len(data) / 4
				if len(dups)+cnt > scmMaxFD { // over all SCM_RIGHTS messages
					return nil, dups, unix.EINVAL
				}
				for i := 0; i < cnt; i++ {
					e, ok := p.files.get(int(int32(le32(data[4*i:]))))
					if !ok {
						return nil, dups, unix.EBADF
					}
					d, err := unix.FcntlInt(uintptr(e.host), unix.F_DUPFD_CLOEXEC, 0)
					if err != nil {
						return nil, dups, err
					}
					dups = append(dups, d)
					put32(data[4*i:], uint32(d))
				}
			case unix.SCM_CREDENTIALS:
				if len(data) != 12 {
					return nil, dups, unix.EINVAL
				}
				if int32(le32(data)) != int32(p.Pid) {
					return nil, dups, unix.EPERM
				}
				put32(data, uint32(unix.Getpid()))
			}
		}
		next := off + cmsgAlign(int(l))
		if next+cmsgHdrLen > len(b) || next < off {
			break
		}
		off = next
	}
	return b, dups, nil
}

// controlOut translates received control data for the guest: host fds
// become guest fds (close-on-exec with MSG_CMSG_CLOEXEC; those that do
// not fit are closed and MSG_CTRUNC set), credentials name guest pids.
// space is the guest's buffer size; it returns the bytes and extra flags.
func (p *Process) controlOut(h int, ctl []byte, space int, cloexec bool, from []byte) ([]byte, int) {
	out := make([]byte, 0, len(ctl))
	flags := 0
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		l := int(le64(ctl[off:]))
		if l < cmsgHdrLen || l > len(ctl)-off {
			break
		}
		level, typ := int32(le32(ctl[off+8:])), int32(le32(ctl[off+12:]))
		data := append([]byte(nil), ctl[off+cmsgHdrLen:off+l]...)
		keep := true
		if level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS {
			cnt, done := len(data)/4, 0
			for i := 0; i < cnt; i++ {
				hfd := int(int32(le32(data[4*i:])))
				if done < i || !p.files.hasFree(p.nofile()) {
					unix.Close(hfd)
					continue
				}
				gfd, err := p.newFD(hfd, cloexec, receivedFile(hfd))
				if err != nil {
					continue
				}
				put32(data[4*done:], uint32(gfd))
				done++
			}
			if done < cnt {
				flags |= unix.MSG_CTRUNC
			}
			data = data[:4*done]
			keep = done > 0
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_CREDENTIALS && len(data) >= 4 {
			put32(data, uint32(p.credPid(h, int32(le32(data)), from)))
		}
		if keep {
			var hdr [cmsgHdrLen]byte
			put64(hdr[:], uint64(cmsgHdrLen+len(data)))
			put32(hdr[8:], uint32(level))
			put32(hdr[12:], uint32(typ))
			start := len(out)
			out = append(out, hdr[:]...)
			out = append(out, data...)
			for len(out)-start < cmsgAlign(cmsgHdrLen+len(data)) {
				out = append(out, 0)
			}
		}
		off += cmsgAlign(l)
	}
	if len(out) > space {
		out = out[:space]
	}
	return out, flags
}

// receivedFile describes a file received in SCM_RIGHTS: sockets, pipes
// and anonymous inodes are the guest's own; anything else may be a host
// object from outside the root, so it gets handed-in rules (fspath.go):
// read and written with the access it came with, never changed unless
// findInRoot finds it in the root.
func receivedFile(h int) *openFile {
	var sf unix.Statfs_t
	if unix.Fstatfs(h, &sf) == nil {
		switch sf.Type {
		case unix.SOCKFS_MAGIC, unix.PIPEFS_MAGIC, unix.ANON_INODE_FS_MAGIC:
			return &openFile{kind: kindHost}
		}
	}
	grant := -1
	if fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0); err == nil && fl&unix.O_PATH == 0 {
		grant = fl & unix.O_ACCMODE
	}
	return &openFile{kind: kindHost, origin: fromHost, grant: grant}
}

// recvmsg(fd, msg, flags).
func sysRecvmsg(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	n, err := p.recvmsg(h, a[1], int(int32(a[2])))
	return uint64(n), err
}

func (p *Process) recvmsg(h int, addr uint64, flags int) (int, error) {
	m, err := p.readMsghdr(addr)
	if err != nil {
		return 0, err
	}
	_, _, iov, err := p.msgIn(h, &m, false)
	if err != nil {
		return 0, err
	}
	want := uint64(0)
	for _, v := range iov {
		want += v.len
	}
	w := p.writableIov(iov)
	if w == 0 && want > 0 {
		n, err := p.faultingIO(unix.SYS_RECVFROM, h, want, flags, nil)
		return int(n), err
	}
	ctlCap := 0
	if m.control != 0 && m.controllen > 0 {
		ctlCap = int(p.writablePrefix(m.control, min(m.controllen, ctlMax)))
	}
	nameCap := sockaddrMax // also for credentials (controlOut)
	cloexec := flags&msgCmsgCloexec != 0
	data, count, name, ctl, rflags, err := p.recvOne(h, w, nameCap, ctlCap, flags&^msgCmsgCloexec)
	if err != nil {
		return 0, err
	}
	if err := p.scatter(iov, data); err != nil {
		return 0, err
	}
	gctl, extra := p.controlOut(h, ctl, ctlCap, cloexec, name)
	rflags |= extra
	if m.name != 0 {
		if err := p.sockaddrOut(name, m.name, addr+8); err != nil {
			return 0, err
		}
	}
	var fb [4]byte
	put32(fb[:], uint32(rflags&^msgCmsgCloexec|flags&msgCmsgCloexec))
	if _, err := p.MM.CopyOut(addr+48, fb[:]); err != nil {
		return 0, unix.EFAULT
	}
	if len(gctl) > 0 {
		if _, err := p.MM.CopyOut(m.control, gctl); err != nil {
			return 0, unix.EFAULT
		}
	}
	var cb [8]byte
	put64(cb[:], uint64(len(gctl)))
	if _, err := p.MM.CopyOut(addr+40, cb[:]); err != nil {
		return 0, unix.EFAULT
	}
	return count, nil
}

// sendmmsg(fd, msgvec, vlen, flags): msg_len of each sent message is
// written; an error after the first message ends the batch with the count.
func sysSendmmsg(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	vlen := min(a[2], uioMaxIOV)
	flags := int(int32(a[3]))
	done := uint64(0)
	for ; done < vlen; done++ {
		mp := a[1] + done*64
		n, err := p.sendmsg(h, mp, flags)
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		var lb [4]byte
		put32(lb[:], uint32(n))
		if _, err := p.MM.CopyOut(mp+msghdrSize, lb[:]); err != nil {
			break
		}
	}
	return done, nil
}

// recvmmsg(fd, msgvec, vlen, flags, timeout): after the first message,
// MSG_WAITFORONE stops waiting; as on Linux the timeout is checked after
// each message received (it does not bound a wait for one).
func sysRecvmmsg(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	var deadline time.Time
	if a[4] != 0 {
		d, err := p.timespecIn(a[4])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	vlen := min(a[2], uioMaxIOV)
	flags := int(int32(a[3]))
	done := uint64(0)
	for ; done < vlen; done++ {
		mp := a[1] + done*64
		f := flags &^ unix.MSG_WAITFORONE
		if done > 0 && flags&unix.MSG_WAITFORONE != 0 {
			f |= unix.MSG_DONTWAIT
		}
		n, err := p.recvmsg(h, mp, f)
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		var lb [4]byte
		put32(lb[:], uint32(n))
		if _, err := p.MM.CopyOut(mp+msghdrSize, lb[:]); err != nil {
			break
		}
		if !deadline.IsZero() && time.Until(deadline) <= 0 {
			done++
			break
		}
	}
	return done, nil
}

// isSocket says whether host fd h is a socket (io.go sends read and
// write on one here, so they wait and time out as recv and send do).
func isSocket(h int) bool {
	var st unix.Stat_t
	return unix.Fstat(h, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// sockRW is read/write/readv/writev on a socket. Nothing to read is 0 at
// once (sock_read_iter); nothing to write is 0 for writev (vfs_writev
// stops there) but an empty datagram for write, as on Linux.
func (p *Process) sockRW(h int, iov []iovec, write, vector bool) (uint64, error) {
	total := uint64(0)
	for _, v := range iov {
		if !accessOK(v.base, v.len) {
			return 0, unix.EFAULT // import_ubuf, before anything
		}
		total += v.len
	}
	if total == 0 && (vector || !write) {
		return 0, nil
	}
	if write {
		return p.sockWrite(h, iov)
	}
	return p.sockRead(h, iov)
}

// sockRead is read(2)/readv(2) on a socket: recvmsg with no flags.
func (p *Process) sockRead(h int, iov []iovec) (uint64, error) {
	want := uint64(0)
	for _, v := range iov {
		want += v.len
	}
	w := p.writableIov(iov)
	if w == 0 && want > 0 {
		return p.faultingIO(unix.SYS_RECVFROM, h, want, 0, nil)
	}
	data, _, _, _, _, err := p.recvOne(h, w, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := p.scatter(iov, data); err != nil {
		return 0, err
	}
	return uint64(len(data)), nil
}

// sockWrite is write(2)/writev(2) on a socket: sendmsg with no flags
// (EPIPE raises SIGPIPE through table.go's brokenPipe for these calls).
func (p *Process) sockWrite(h int, iov []iovec) (uint64, error) {
	data, err := p.gather(iov)
	if err != nil {
		want := uint64(0)
		for _, v := range iov {
			want += v.len
		}
		return p.faultingIO(unix.SYS_SENDTO, h, want, unix.MSG_NOSIGNAL, nil)
	}
	n, err := p.sendOne(h, nil, data, nil, unix.MSG_NOSIGNAL)
	return uint64(n), err
}

// netlinkQueries says whether every rtnetlink message in b only asks
// (RTM_GET*, or a netlink control message): the guest reads its
// namespace's links, addresses and routes but changes nothing, since a
// change could name the host's namespace (IFLA_NET_NS_PID) while kshim
// still holds the privileges to act on it.
func netlinkQueries(b []byte) bool {
	for off := 0; off+16 <= len(b); {
		l := int(le32(b[off:]))
		typ := le16(b[off+4:])
		if typ >= unix.RTM_BASE && (typ-unix.RTM_BASE)%4 != 2 {
			return false
		}
		if l < 16 {
			break
		}
		off += (l + 3) &^ 3
	}
	return true
}

// quietEPIPE says whether EPIPE from syscall nr (a write, writev or
// sendfile) on a[0] comes without SIGPIPE: on Linux only stream sockets
// (and pipes) raise it; datagram and seqpacket sockets just fail.
func quietEPIPE(p *Process, nr uint64, a *args) bool {
	switch nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV:
	case unix.SYS_SENDFILE:
	default:
		return false
	}
	e, ok := p.files.get(fdArg(a[0]))
	if !ok || !isSocket(e.host) {
		return false
	}
	t, err := getsockoptInt(e.host, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && t != unix.SOCK_STREAM
}

func isStream(h int) bool {
	t, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && t == unix.SOCK_STREAM
}
