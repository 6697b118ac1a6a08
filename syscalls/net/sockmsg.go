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
package net

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// Msghdr is the guest's struct msghdr (56 bytes).
type Msghdr struct {
	Name       uint64
	Namelen    int32
	Iov        uint64
	Iovlen     uint64
	Control    uint64
	Controllen uint64
	flags      int32
}

const MsghdrSize = 56

func ReadMsghdr(p *kernel.Process, addr uint64) (Msghdr, error) {
	var b [MsghdrSize]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return Msghdr{}, unix.EFAULT
	}
	return Msghdr{Name: abi.Le64(b[0:]), Namelen: int32(abi.Le32(b[8:])), Iov: abi.Le64(b[16:]), Iovlen: abi.Le64(b[24:]),
		Control: abi.Le64(b[32:]), Controllen: abi.Le64(b[40:]), flags: int32(abi.Le32(b[48:]))}, nil
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

// Gather copies the guest's iovecs in (up to VecMax bytes). A fault after
// some bytes returns those; with none, EFAULT.
func Gather(p *kernel.Process, iov []fs.Iovec) ([]byte, error) {
	var buf []byte
	for _, v := range iov {
		if v.Len == 0 {
			continue
		}
		n := min(v.Len, fs.VecMax-uint64(len(buf)))
		b := make([]byte, n)
		c, err := p.MM.CopyIn(v.Base, b)
		buf = append(buf, b[:c]...)
		if err != nil {
			if len(buf) == 0 {
				return nil, unix.EFAULT
			}
			break
		}
		if len(buf) == fs.VecMax {
			break
		}
	}
	return buf, nil
}

// SendOne sends data (and control, translated) on h to host address
// name, waiting as the guest's socket blocks: a blocking stream send
// goes on until all is sent, as Linux's does.
func SendOne(p *kernel.Process, h int, name, data, ctl []byte, flags int) (int, error) {
	stream := false
	if t, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		stream = t == unix.SOCK_STREAM
		if t != unix.SOCK_STREAM && SockFamily(h) == unix.AF_NETLINK && !netlinkQueries(data) {
			return 0, unix.EPERM // as without CAP_NET_ADMIN
		}
	}
	block := flags&unix.MSG_DONTWAIT == 0 && !nonblocking(h)
	hflags := flags | unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	var q credIO
	if n := NetworkOf(p); n != nil {
		n.Cred.sent(h, p.Pid)
		q = n.Cred.sending(h, name)
	}
	var deadline time.Time
	sent, first := 0, true
	backoff := time.Duration(0)
	for {
		q.lock()
		n, _, _, _, err := hostMsg(unix.SYS_SENDMSG, h, name, data[sent:], ctl, hflags)
		if err == nil {
			q.record(int32(p.Pid), n)
		}
		q.unlock()
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
				p.Raise(int(unix.SIGPIPE), kernel.Siginfo{Signo: int32(unix.SIGPIPE), Code: kernel.SiUser,
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
			werr = sockSleep(p, backoff, deadline)
			backoff = min(2*backoff, 20*time.Millisecond)
		} else {
			werr = sockWait(p, h, unix.POLLOUT, deadline)
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

// RecvOne receives into a buffer of n bytes (the writable part of the
// guest's), waiting as the guest's socket blocks.
func RecvOne(p *kernel.Process, h int, n int, nameCap, ctlCap int, flags int) (data []byte, count int, name, ctl []byte, rflags int, err error) {
	block := flags&(unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE) == 0 && !nonblocking(h)
	stream := false
	if t, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		stream = t == unix.SOCK_STREAM
	}
	waitAll := stream && flags&unix.MSG_WAITALL != 0 && flags&unix.MSG_PEEK == 0 && block
	if stream && !waitAll {
		n = min(n, fs.IoChunk) // a stream may return less; a datagram may not
	}
	buf := make([]byte, n)
	nameBuf := make([]byte, nameCap)
	ctlBuf := make([]byte, ctlCap)
	hflags := flags&^unix.MSG_WAITALL | unix.MSG_DONTWAIT | MsgCmsgCloexec
	var deadline time.Time
	got, first := 0, true
	var q credIO
	net := NetworkOf(p)
	if net != nil {
		q = net.Cred.receiving(h)
	}
	stop := q.stream && passcred(h) // a read stops where the writer changes
	for {
		q.lock()
		sender, run, known := q.head()
		part := buf[got:]
		if stop && known && got == 0 && run < len(part) {
			part = part[:run]
		}
		r, nl, cl, rf, err := hostMsg(unix.SYS_RECVMSG, h, nameBuf, part, ctlBuf, hflags)
		if err == nil && flags&unix.MSG_PEEK == 0 && (r > 0 || !q.stream) {
			q.take(r)
		}
		q.unlock()
		if err == nil {
			if got == 0 {
				name, ctl, rflags = nameBuf[:min(nl, nameCap)], ctlBuf[:min(cl, ctlCap)], rf
				ctlBuf = nil // control data comes with the first part
				if net != nil {
					net.Cred.fixCreds(h, ctl, name, sender, known)
				}
				if stop && known && run < len(buf) {
					return buf[:r], r, name, ctl, rflags, nil
				}
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
		if werr := sockWait(p, h, unix.POLLIN, deadline); werr != nil {
			if got > 0 {
				return buf[:got], got, name, ctl, rflags, nil
			}
			return nil, 0, nil, nil, 0, werr
		}
	}
}

// Scatter copies data out to the guest's iovecs.
func Scatter(p *kernel.Process, iov []fs.Iovec, data []byte) error {
	done := 0
	for _, v := range iov {
		if done == len(data) {
			break
		}
		n := min(int(min(v.Len, uint64(len(data)))), len(data)-done)
		if _, err := p.MM.CopyOut(v.Base, data[done:done+n]); err != nil {
			return unix.EFAULT
		}
		done += n
	}
	return nil
}

// faultAddr is an address never mapped in kshim (page zero).
const faultAddr = 8

// FaultingIO is a send or receive whose guest buffer faults at once: the
// host call gets a buffer that faults too, so the host kernel reports
// what Linux would, in its order (a state error such as ENOTCONN or EPIPE
// before EFAULT).
func FaultingIO(p *kernel.Process, nr uintptr, h int, n uint64, flags int, name []byte) (uint64, error) {
	_, _, e := unix.Syscall6(nr, uintptr(h), faultAddr, uintptr(n), uintptr(flags|unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL),
		uintptr(BufPtr(name)), uintptr(len(name)))
	err := ErrnoErr(e)
	if err == nil || err == unix.EAGAIN {
		err = unix.EFAULT
	}
	if err == unix.EPIPE && nr == unix.SYS_SENDTO && flags&unix.MSG_NOSIGNAL == 0 && isStream(h) {
		p.Raise(int(unix.SIGPIPE), kernel.Siginfo{Signo: int32(unix.SIGPIPE), Code: kernel.SiUser,
			Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true})
	}
	return 0, err
}

func CloseAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// optmemMax is the host's net.core.optmem_max (Linux's limit on a
// message's control data), read once: by the network's worker as kshim
// starts (PrepareNetwork: before the sandbox, beside the machine's
// set-up, instead of in every kshim command's package init), else at
// first use.
var optmemMax = sync.OnceValue(func() int {
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
})

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// ControlIn reads the guest's control data for sending and translates
// it: SCM_RIGHTS guest fds become host dups (returned, to close after the
// call), SCM_CREDENTIALS the guest's pid becomes kshim's. It walks the
// messages as Linux's __scm_send does and fails as it would, so nothing
// untranslated reaches the host.
func ControlIn(p *kernel.Process, addr, n uint64) ([]byte, []int, error) {
	if n == 0 {
		return nil, nil, nil
	}
	if n > 1<<31-1 || n > uint64(optmemMax()) {
		return nil, nil, unix.ENOBUFS
	}
	b := make([]byte, n)
	if _, err := p.MM.CopyIn(addr, b); err != nil {
		return nil, nil, unix.EFAULT
	}
	var dups []int
	for off := 0; off+cmsgHdrLen <= len(b); {
		l := abi.Le64(b[off:])
		if l < cmsgHdrLen || l > uint64(len(b)-off) {
			return nil, dups, unix.EINVAL
		}
		level, typ := int32(abi.Le32(b[off+8:])), int32(abi.Le32(b[off+12:]))
		data := b[off+cmsgHdrLen : off+int(l)]
		if level == unix.SOL_SOCKET {
			switch typ {
			case unix.SCM_RIGHTS:
				cnt := len(data) / 4
				if len(dups)+cnt > scmMaxFD { // over all SCM_RIGHTS messages
					return nil, dups, unix.EINVAL
				}
				for i := 0; i < cnt; i++ {
					e, ok := p.Held(int(int32(abi.Le32(data[4*i:]))))
					if !ok {
						return nil, dups, unix.EBADF
					}
					d, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
					if err != nil {
						return nil, dups, err
					}
					dups = append(dups, d)
					abi.Put32(data[4*i:], uint32(d))
				}
			case unix.SCM_CREDENTIALS:
				if len(data) != 12 {
					return nil, dups, unix.EINVAL
				}
				if int32(abi.Le32(data)) != int32(p.Pid) {
					return nil, dups, unix.EPERM
				}
				abi.Put32(data, uint32(unix.Getpid()))
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

// ControlOut translates received control data for the guest: host fds
// become guest fds (close-on-exec with MSG_CMSG_CLOEXEC; those that do
// not fit are closed and MSG_CTRUNC set), credentials name guest pids.
// space is the guest's buffer size; it returns the bytes and extra flags.
func ControlOut(p *kernel.Process, h int, ctl []byte, space int, cloexec bool, from []byte) ([]byte, int) {
	out := make([]byte, 0, len(ctl))
	flags := 0
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		l := int(abi.Le64(ctl[off:]))
		if l < cmsgHdrLen || l > len(ctl)-off {
			break
		}
		level, typ := int32(abi.Le32(ctl[off+8:])), int32(abi.Le32(ctl[off+12:]))
		data := append([]byte(nil), ctl[off+cmsgHdrLen:off+l]...)
		keep := true
		if level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS {
			cnt, done := len(data)/4, 0
			for i := 0; i < cnt; i++ {
				hfd := int(int32(abi.Le32(data[4*i:])))
				if done < i || !p.Files.HasFree(p.Nofile()) {
					unix.Close(hfd)
					continue
				}
				gfd, err := p.NewFD(hfd, cloexec, receivedFile(hfd))
				if err != nil {
					continue
				}
				abi.Put32(data[4*done:], uint32(gfd))
				done++
			}
			if done < cnt {
				flags |= unix.MSG_CTRUNC
			}
			data = data[:4*done]
			keep = done > 0
		}
		if keep {
			var hdr [cmsgHdrLen]byte
			abi.Put64(hdr[:], uint64(cmsgHdrLen+len(data)))
			abi.Put32(hdr[8:], uint32(level))
			abi.Put32(hdr[12:], uint32(typ))
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
// FindInRoot finds it in the root.
func receivedFile(h int) *fs.OpenFile {
	var sf unix.Statfs_t
	if unix.Fstatfs(h, &sf) == nil {
		switch sf.Type {
		case unix.SOCKFS_MAGIC, unix.PIPEFS_MAGIC, unix.ANON_INODE_FS_MAGIC:
			return &fs.OpenFile{Kind: fs.KindHost}
		}
	}
	grant := -1
	if fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0); err == nil && fl&unix.O_PATH == 0 {
		grant = fl & unix.O_ACCMODE
	}
	return &fs.OpenFile{Kind: fs.KindHost, Origin: fs.FromHost, Grant: grant}
}

// IsSocket says whether host fd h is a socket (io.go sends read and
// write on one here, so they wait and time out as recv and send do).
func IsSocket(h int) bool {
	var st unix.Stat_t
	return unix.Fstat(h, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}

// SockWrite is write(2)/writev(2) on a socket: sendmsg with no flags
// (EPIPE raises SIGPIPE through table.go's BrokenPipe for these calls).
func SockWrite(p *kernel.Process, h int, iov []fs.Iovec) (uint64, error) {
	data, err := Gather(p, iov)
	if err != nil {
		return FaultingIO(p, unix.SYS_SENDTO, h, fs.IovLen(iov), unix.MSG_NOSIGNAL, nil)
	}
	n, err := SendOne(p, h, nil, data, nil, unix.MSG_NOSIGNAL)
	return uint64(n), err
}

// netlinkQueries says whether every rtnetlink message in b only asks
// (RTM_GET*, or a netlink control message): the guest reads its
// namespace's links, addresses and routes but changes nothing, since a
// change could name the host's namespace (IFLA_NET_NS_PID) while kshim
// still holds the privileges to act on it.
func netlinkQueries(b []byte) bool {
	for off := 0; off+16 <= len(b); {
		l := int(abi.Le32(b[off:]))
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

func isStream(h int) bool {
	t, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && t == unix.SOCK_STREAM
}
