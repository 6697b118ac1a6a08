// sockmsg.go: data on sockets: sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg, and read/write on a socket (io.go hands those here).
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package net, whose sockmsg.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
)

// writableIov is how many bytes of the iovecs the guest can take now.
func writableIov(p *kernel.Process, iov []fs.Iovec) int {
	total := uint64(0)
	for _, v := range iov {
		n := min(v.Len, fs.VecMax-total)
		w := writablePrefix(p, v.Base, n)
		total += w
		if w < v.Len || total == fs.VecMax {
			break
		}
	}
	return int(total)
}

// sendto(fd, buf, len, flags, addr, addrlen).
func sysSendto(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	n := min(a[2], fs.MaxRW)
	if !fs.AccessOK(a[1], n) {
		return 0, unix.EFAULT
	}
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	var name []byte
	if a[4] != 0 {
		sa, err := net.SockaddrIn(p, a[4], int(int32(a[5])))
		if err != nil {
			return 0, err
		}
		hsa, pfd, err := net.ResolveUnix(p, h, sa)
		if err != nil {
			return 0, err
		}
		if pfd >= 0 {
			defer unix.Close(pfd)
		}
		name = hsa
	}
	data, err := net.Gather(p, []fs.Iovec{{Base: a[1], Len: n}})
	if err != nil {
		return net.FaultingIO(p, unix.SYS_SENDTO, h, n, int(int32(a[3])), name)
	}
	sent, err := net.SendOne(p, h, name, data, nil, int(int32(a[3])))
	return uint64(sent), err
}

// recvfrom(fd, buf, len, flags, addr, addrlen).
func sysRecvfrom(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	n := min(a[2], fs.MaxRW)
	if !fs.AccessOK(a[1], n) {
		return 0, unix.EFAULT
	}
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	iov := []fs.Iovec{{Base: a[1], Len: n}}
	w := writableIov(p, iov)
	if w == 0 && n > 0 {
		return net.FaultingIO(p, unix.SYS_RECVFROM, h, n, int(int32(a[3])), nil)
	}
	flags := int(int32(a[3])) &^ net.MsgCmsgCloexec
	data, count, name, _, _, err := net.RecvOne(p, h, w, net.SockaddrMax, 0, flags)
	if err != nil {
		return 0, err
	}
	if err := net.Scatter(p, iov, data); err != nil {
		return 0, err
	}
	if a[4] != 0 {
		if err := net.SockaddrOut(p, name, a[4], a[5]); err != nil {
			return 0, err
		}
	}
	return uint64(count), nil
}

// msgIn reads and checks a msghdr for sending or receiving: its name (for
// sending, read and resolved; pfd to close), its iovecs.
func msgIn(p *kernel.Process, h int, m *net.Msghdr, send bool) (name []byte, pfd int, iov []fs.Iovec, err error) {
	pfd = -1
	if m.Namelen < 0 {
		return nil, -1, nil, unix.EINVAL
	}
	nl := min(int(m.Namelen), net.SockaddrMax)
	if m.Name == 0 {
		nl = 0
	}
	if send && nl > 0 {
		sa, err := net.SockaddrIn(p, m.Name, nl)
		if err != nil {
			return nil, -1, nil, err
		}
		if name, pfd, err = net.ResolveUnix(p, h, sa); err != nil {
			return nil, -1, nil, err
		}
	}
	if m.Iovlen > net.UioMaxIOV {
		return nil, pfd, nil, unix.EMSGSIZE
	}
	iov, err = iovecs(p, m.Iov, m.Iovlen)
	return name, pfd, iov, err
}

// msgCall is sendmsg(fd, msg, flags) or recvmsg's: the socket, then call.
func msgCall(p *kernel.Process, a *args, call func(*kernel.Process, int, uint64, int) (int, error)) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	n, err := call(p, h, a[1], int(int32(a[2])))
	return uint64(n), err
}

// sendmsg(fd, msg, flags).
func sysSendmsg(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return msgCall(p, a, sendmsg)
}

func sendmsg(p *kernel.Process, h int, addr uint64, flags int) (int, error) {
	m, err := net.ReadMsghdr(p, addr)
	if err != nil {
		return 0, err
	}
	name, pfd, iov, err := msgIn(p, h, &m, true)
	if pfd >= 0 {
		defer unix.Close(pfd)
	}
	if err != nil {
		return 0, err
	}
	ctl, dups, err := net.ControlIn(p, m.Control, m.Controllen)
	defer net.CloseAll(dups)
	if err != nil {
		return 0, err
	}
	data, err := net.Gather(p, iov)
	if err != nil {
		n, err := net.FaultingIO(p, unix.SYS_SENDTO, h, fs.IovLen(iov), flags, name)
		return int(n), err
	}
	return net.SendOne(p, h, name, data, ctl, flags)
}

// recvmsg(fd, msg, flags).
func sysRecvmsg(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return msgCall(p, a, recvmsg)
}

func recvmsg(p *kernel.Process, h int, addr uint64, flags int) (int, error) {
	m, err := net.ReadMsghdr(p, addr)
	if err != nil {
		return 0, err
	}
	_, _, iov, err := msgIn(p, h, &m, false)
	if err != nil {
		return 0, err
	}
	want := fs.IovLen(iov)
	w := writableIov(p, iov)
	if w == 0 && want > 0 {
		n, err := net.FaultingIO(p, unix.SYS_RECVFROM, h, want, flags, nil)
		return int(n), err
	}
	ctlCap := 0
	if m.Control != 0 && m.Controllen > 0 {
		ctlCap = int(writablePrefix(p, m.Control, min(m.Controllen, net.CtlMax)))
	}
	nameCap := net.SockaddrMax // also for credentials (ControlOut)
	cloexec := flags&net.MsgCmsgCloexec != 0
	data, count, name, ctl, rflags, err := net.RecvOne(p, h, w, nameCap, ctlCap, flags&^net.MsgCmsgCloexec)
	if err != nil {
		return 0, err
	}
	if err := net.Scatter(p, iov, data); err != nil {
		return 0, err
	}
	gctl, extra := net.ControlOut(p, h, ctl, ctlCap, cloexec, name)
	rflags |= extra
	if m.Name != 0 {
		if err := net.SockaddrOut(p, name, m.Name, addr+8); err != nil {
			return 0, err
		}
	}
	var fb [4]byte
	abi.Put32(fb[:], uint32(rflags&^net.MsgCmsgCloexec|flags&net.MsgCmsgCloexec))
	if _, err := p.MM.CopyOut(addr+48, fb[:]); err != nil {
		return 0, unix.EFAULT
	}
	if len(gctl) > 0 {
		if _, err := p.MM.CopyOut(m.Control, gctl); err != nil {
			return 0, unix.EFAULT
		}
	}
	var cb [8]byte
	abi.Put64(cb[:], uint64(len(gctl)))
	if _, err := p.MM.CopyOut(addr+40, cb[:]); err != nil {
		return 0, unix.EFAULT
	}
	return count, nil
}

// mmsg runs one message call per mmsghdr of a sendmmsg/recvmmsg vector
// and stores each one's msg_len. An error on the first message is the
// call's; a later one (or a msg_len that cannot be stored) ends the batch
// with the count so far, as on Linux. stop, asked after each message,
// ends it early.
func mmsg(p *kernel.Process, vec, vlen uint64, one func(mp, i uint64) (int, error), stop func() bool) (uint64, error) {
	vlen = min(vlen, net.UioMaxIOV)
	done := uint64(0)
	for ; done < vlen; done++ {
		mp := vec + done*64 // sizeof(struct mmsghdr)
		n, err := one(mp, done)
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		var lb [4]byte
		abi.Put32(lb[:], uint32(n))
		if _, err := p.MM.CopyOut(mp+net.MsghdrSize, lb[:]); err != nil {
			break
		}
		if stop() {
			return done + 1, nil
		}
	}
	return done, nil
}

// sendmmsg(fd, msgvec, vlen, flags): msg_len of each sent message is
// written; an error after the first message ends the batch with the count.
func sysSendmmsg(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	flags := int(int32(a[3]))
	return mmsg(p, a[1], a[2], func(mp, _ uint64) (int, error) { return sendmsg(p, h, mp, flags) },
		func() bool { return false })
}

// recvmmsg(fd, msgvec, vlen, flags, timeout): after the first message,
// MSG_WAITFORONE stops waiting; as on Linux the timeout is checked after
// each message received (it does not bound a wait for one).
func sysRecvmmsg(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	var deadline time.Time
	if a[4] != 0 {
		d, err := p.TimespecIn(a[4])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	flags := int(int32(a[3]))
	return mmsg(p, a[1], a[2], func(mp, i uint64) (int, error) {
		f := flags &^ unix.MSG_WAITFORONE
		if i > 0 && flags&unix.MSG_WAITFORONE != 0 {
			f |= unix.MSG_DONTWAIT
		}
		return recvmsg(p, h, mp, f)
	}, func() bool { return !deadline.IsZero() && time.Until(deadline) <= 0 })
}

// sockRW is read/write/readv/writev on a socket. Nothing to read is 0 at
// once (sock_read_iter); nothing to write is 0 for writev (vfs_writev
// stops there) but an empty datagram for write, as on Linux.
func sockRW(p *kernel.Process, h int, iov []fs.Iovec, write, vector bool) (uint64, error) {
	total := uint64(0)
	for _, v := range iov {
		if !fs.AccessOK(v.Base, v.Len) {
			return 0, unix.EFAULT // import_ubuf, before anything
		}
		total += v.Len
	}
	if total == 0 && (vector || !write) {
		return 0, nil
	}
	if write {
		return net.SockWrite(p, h, iov)
	}
	return sockRead(p, h, iov)
}

// sockRead is read(2)/readv(2) on a socket: recvmsg with no flags.
func sockRead(p *kernel.Process, h int, iov []fs.Iovec) (uint64, error) {
	want := fs.IovLen(iov)
	w := writableIov(p, iov)
	if w == 0 && want > 0 {
		return net.FaultingIO(p, unix.SYS_RECVFROM, h, want, 0, nil)
	}
	data, _, _, _, _, err := net.RecvOne(p, h, w, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := net.Scatter(p, iov, data); err != nil {
		return 0, err
	}
	return uint64(len(data)), nil
}

// quietEPIPE says whether EPIPE from syscall nr (a write, writev or
// sendfile) on a[0] comes without SIGPIPE: on Linux only stream sockets
// (and pipes) raise it; datagram and seqpacket sockets just fail.
func quietEPIPE(p *kernel.Process, nr uint64, a *args) bool {
	switch nr {
	case unix.SYS_WRITE, unix.SYS_WRITEV:
	case unix.SYS_SENDFILE:
	default:
		return false
	}
	e, ok := p.Held(fs.FDArg(a[0]))
	if !ok || !net.IsSocket(e.Host) {
		return false
	}
	t, err := net.GetsockoptInt(e.Host, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && t != unix.SOCK_STREAM
}
