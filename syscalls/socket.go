// socket.go: sockets. A guest socket is a host socket (one host fd, as
// any file); kshim checks and translates what crosses the boundary:
// addresses that are paths, file descriptors and credentials in control
// messages, pointers and lengths, and it waits for blocking calls itself.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package net, whose socket.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
)

// socketArgs checks socket's and socketpair's (domain, type, protocol)
// against the flags Linux knows and the network's policy.
func socketArgs(p *kernel.Process, a *args) (n *net.Network, family, typ, proto int, err error) {
	family, typ, proto = int(int32(a[0])), int(int32(a[1])), int(int32(a[2]))
	switch {
	case typ&^(net.SockTypeMask|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0:
		return nil, 0, 0, 0, unix.EINVAL
	case family < 0 || family >= net.AfMax:
		return nil, 0, 0, 0, unix.EAFNOSUPPORT
	case typ&net.SockTypeMask >= net.SockMax:
		return nil, 0, 0, 0, unix.EINVAL
	}
	n = net.NetworkOf(p)
	return n, family, typ, proto, n.Allowed(family, typ, proto)
}

// socket(domain, type, protocol).
func sysSocket(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	n, family, typ, proto, err := socketArgs(p, a)
	if err != nil {
		return 0, err
	}
	if !p.Files.HasFree(p.Nofile()) {
		return 0, unix.EMFILE
	}
	var h int
	if rerr := n.Run(func() { h, err = unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto) }); rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, err
	}
	if n != nil {
		n.Cred.Fresh(h)
	}
	return p.NewFD(h, typ&unix.SOCK_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost})
}

// socketpair(domain, type, protocol, sv).
func sysSocketpair(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	n, family, typ, proto, err := socketArgs(p, a)
	if err != nil {
		return 0, err
	}
	var fds [2]int
	if rerr := n.Run(func() { fds, err = unix.Socketpair(family, typ|unix.SOCK_CLOEXEC, proto) }); rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, err
	}
	if n != nil {
		n.Cred.Pair(fds[0], fds[1], p.Pid)
	}
	cloexec := typ&unix.SOCK_CLOEXEC != 0
	g0, err := p.NewFD(fds[0], cloexec, &fs.OpenFile{Kind: fs.KindHost})
	if err != nil {
		unix.Close(fds[1])
		return 0, err
	}
	g1, err := p.NewFD(fds[1], cloexec, &fs.OpenFile{Kind: fs.KindHost})
	if err != nil {
		p.Files.Close(int(g0))
		return 0, err
	}
	var b [8]byte
	abi.Put32(b[0:], uint32(g0))
	abi.Put32(b[4:], uint32(g1))
	if _, err := p.MM.CopyOut(a[3], b[:]); err != nil {
		p.Files.Close(int(g0))
		p.Files.Close(int(g1))
		return 0, err
	}
	return 0, nil
}

// bind(fd, addr, addrlen).
func sysBind(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	sa, err := net.SockaddrIn(p, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	if path, ok := net.UnixPath(sa); ok && len(sa) <= net.SunAddrMax && net.SockFamily(h) == unix.AF_UNIX {
		return 0, net.BindUnix(p, h, sa, path)
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(net.BufPtr(sa)), uintptr(len(sa)))
	err = net.ErrnoErr(e)
	if n := net.NetworkOf(p); n != nil && err == nil {
		n.Cred.Named(h)
	}
	return 0, err
}

// listen(fd, backlog).
func sysListen(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SockEntry(p, a[0])
	if err != nil {
		return 0, err
	}
	if n := net.NetworkOf(p); n != nil {
		n.Cred.Listening(h, p.Pid) // before a client can connect
	}
	return 0, unix.Listen(h, int(int32(a[1])))
}

// connect(fd, addr, addrlen).
func sysConnect(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	// Linux reads the address before it asks whether the fd is a socket.
	if _, err := p.Entry(a[0]); err != nil {
		return 0, err
	}
	sa, err := net.SockaddrIn(p, a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	h, err := net.SockEntry(p, a[0])
	if err != nil {
		return 0, err
	}
	typ, err := net.GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE)
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
	family := net.SockFamily(h)
	n := net.NetworkOf(p)
	if n != nil && family == unix.AF_UNIX {
		n.Cred.ForgetPeer(h)
	}
	creds := n != nil && family == unix.AF_UNIX && typ != unix.SOCK_DGRAM
	if creds {
		// Before the host connect: the server may ask as soon as it
		// accepts.
		n.Cred.Connecting(h, p.Pid)
	}
	err = net.ConnectWait(p, h, hsa, family, typ)
	if err == nil && creds {
		n.Cred.Connected(h, sa, pfd)
	}
	return 0, err
}

// accept(fd, addr, addrlen) and accept4(fd, addr, addrlen, flags).
func sysAccept(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return net.Accept(p, a[0], a[1], a[2], 0)
}

func sysAccept4(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return net.Accept(p, a[0], a[1], a[2], int(int32(a[3])))
}

// getsockname(fd, addr, addrlen) and getpeername.
func sysGetsockname(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return sockname(p, unix.SYS_GETSOCKNAME, a)
}

func sysGetpeername(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return sockname(p, unix.SYS_GETPEERNAME, a)
}

func sockname(p *kernel.Process, nr uintptr, a *args) (uint64, error) {
	h, err := net.SockEntry(p, a[0])
	if err != nil {
		return 0, err
	}
	sa, err := net.HostSockname(nr, h)
	if err != nil {
		return 0, err
	}
	return 0, net.SockaddrOut(p, sa, a[1], a[2])
}

// shutdown(fd, how).
func sysShutdown(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SockEntry(p, a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Shutdown(h, int(int32(a[1])))
}

// setsockopt(fd, level, optname, optval, optlen).
func sysSetsockopt(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	level, opt, optlen := int(int32(a[1])), int(int32(a[2])), int(int32(a[4]))
	if optlen < 0 {
		return 0, unix.EINVAL
	}
	if err := net.OptRefused(p, level, opt); err != nil {
		return 0, err
	}
	if level == unix.SOL_SOCKET && (opt == net.SoAttachFilter || opt == net.SoAttachReuseCBPF) {
		return 0, net.AttachFilter(p, h, opt, a[3], optlen)
	}
	// Linux reads only what the option needs: read what is readable of
	// the guest's value, up to a bound, and give the host its length.
	b := make([]byte, min(optlen, net.CtlMax))
	c, cerr := p.MM.CopyIn(a[3], b)
	if cerr != nil && c == 0 && len(b) > 0 {
		// Let the host check the length first (EINVAL for a short int).
		if _, err := net.RawSockcall(unix.SYS_SETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), 0, 0, 0); err == unix.ENOPROTOOPT {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	b = b[:c]
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), uintptr(net.BufPtr(b)), uintptr(len(b)), 0)
	return 0, net.ErrnoErr(e)
}

// getsockopt(fd, level, optname, optval, optlen).
func sysGetsockopt(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	h, err := net.SocketFD(p, a[0])
	if err != nil {
		return 0, err
	}
	level, opt := int(int32(a[1])), int(int32(a[2]))
	var lb [4]byte
	if _, err := p.MM.CopyIn(a[4], lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	ulen := int32(abi.Le32(lb[:]))
	if ulen < 0 {
		return 0, unix.EINVAL
	}
	if err := net.OptRefused(p, level, opt); err != nil {
		return 0, err
	}
	b := make([]byte, min(int(ulen), net.CtlMax))
	// A few options read their buffer first (IPT_SO_GET_INFO's name,
	// MCAST_MSFILTER's group): give the host what the guest put there.
	_, _ = p.MM.CopyIn(a[3], b)
	l := uint32(len(b))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), uintptr(net.BufPtr(b)), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		return 0, e
	}
	b = b[:min(int(l), len(b))]
	if level == unix.SOL_SOCKET && opt == unix.SO_PEERCRED && len(b) >= 4 {
		abi.Put32(b, uint32(net.GuestPid(p, h, int32(abi.Le32(b)))))
	}
	if len(b) > 0 {
		if _, err := p.MM.CopyOut(a[3], b); err != nil {
			return 0, unix.EFAULT
		}
	}
	abi.Put32(lb[:], l)
	if _, err := p.MM.CopyOut(a[4], lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// sockIoctl serves the socket ioctls above for io.go's ioctl; ok is false
// for any other request (or a file that is not a socket).
func sockIoctl(p *kernel.Process, h int, req, arg uint64) (uint64, error, bool) {
	switch {
	case net.SockIoctlIfreq[req]:
		if !net.IsSocket(h) {
			return 0, nil, false
		}
		var b [net.IfreqSize]byte
		if _, err := p.MM.CopyIn(arg, b[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		if err := fs.HostIoctl(h, req, b[:]); err != nil {
			return 0, err, true
		}
		if _, err := p.MM.CopyOut(arg, b[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		return 0, nil, true
	case req == unix.SIOCGIFCONF:
		if !net.IsSocket(h) {
			return 0, nil, false
		}
		// struct ifconf { int ifc_len; char *ifc_buf; }: the buffer is
		// the guest's, so the host fills kshim's and kshim copies out.
		var ic [16]byte
		if _, err := p.MM.CopyIn(arg, ic[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		n := int32(abi.Le32(ic[:]))
		ubuf := abi.Le64(ic[8:])
		var buf []byte
		if ubuf != 0 && n > 0 {
			buf = make([]byte, min(int(n), net.CtlMax))
		}
		type ifconf struct {
			len int32
			_   int32
			buf unsafe.Pointer
		}
		hc := ifconf{len: int32(len(buf)), buf: net.BufPtr(buf)}
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(h), uintptr(req), uintptr(unsafe.Pointer(&hc))); e != 0 {
			return 0, e, true
		}
		if len(buf) > 0 {
			if _, err := p.MM.CopyOut(ubuf, buf[:min(int(hc.len), len(buf))]); err != nil {
				return 0, unix.EFAULT, true
			}
		}
		abi.Put32(ic[:], uint32(hc.len))
		if _, err := p.MM.CopyOut(arg, ic[:4]); err != nil {
			return 0, unix.EFAULT, true
		}
		return 0, nil, true
	case req == net.SiocOutq || req == net.SiocAtmark || req == net.SiocOutqNSD:
		if !net.IsSocket(h) {
			return 0, nil, false
		}
		r, err := ioctlOut(p, h, req, arg, 4)
		return r, err, true
	}
	return 0, nil, false
}
