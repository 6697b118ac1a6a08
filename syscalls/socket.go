// socket.go: sockets. A guest socket is a host socket (one host fd, as
// any file); kshim checks and translates what crosses the boundary:
// addresses that are paths, file descriptors and credentials in control
// messages, pointers and lengths, and it waits for blocking calls itself.
//
// Invariants:
//   - Sockets are made by the Network's worker (netns.go): in the guest's
//     own network namespace unless --net host. Families other than
//     AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK/NETLINK_ROUTE (in the
//     private namespace only) are EAFNOSUPPORT; with --net none AF_INET
//     and AF_INET6 are too.
//   - A unix socket path is resolved inside the guest root, never on the
//     host as given: bind through the chrooted worker (or the parent
//     directory kshim resolved, bindUnix), connect and sendto through an
//     O_PATH fd kshim resolved with the file rules (fspath.go), named to
//     the host as /proc/self/fd/N. Without --rw a bind that would create a
//     node is EROFS, after the lookup errors Linux reports first.
//   - Every host call that could block is made non-blocking (MSG_DONTWAIT,
//     or O_NONBLOCK for the length of one connect); kshim waits for
//     readiness with the task's signal wake-up (sockWait), so a blocking
//     call blocks only its task and a signal ends it as on Linux:
//     restarted (SA_RESTART) when no timeout is set, else EINTR, and
//     SO_RCVTIMEO/SO_SNDTIMEO give EAGAIN. The host fd's O_NONBLOCK and
//     timeouts are the guest's own (fcntl and setsockopt pass through).
//     A blocking accept looks (poll) and accepts under a per-socket lock,
//     so another task cannot take the connection in between; only a host
//     process sharing the socket could (the host accept would then wait
//     for the next connection).
//   - SCM_RIGHTS carries guest fds out as host fds (dup'ed for the call)
//     and host fds in as new guest fds, through the fd table (received
//     files count as handed in unless they are sockets, pipes or anonymous
//     inodes); fds that do not fit are closed and MSG_CTRUNC is set.
//     kshim's own fds never reach a peer untranslated: a control buffer
//     that Linux would reject is rejected before the host sees it.
//   - No host pid reaches the guest: credentials (SO_PEERCRED,
//     SCM_CREDENTIALS) that name kshim are translated to the guest pid
//     that kshim recorded for the peer (sockcred.go), others read 0, as
//     Linux reports a pid outside the reader's pid namespace.
//   - Options whose values hold pointers or fds are translated or
//     refused; with --net host, those that change the host's firewall are
//     refused (ENOPROTOOPT).
package syscalls

import (
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	sockaddrMax = 128 // sizeof(struct sockaddr_storage)
	scmMaxFD    = 253 // SCM_MAX_FD
	uioMaxIOV   = 1024
	cmsgHdrLen  = 16 // sizeof(struct cmsghdr) on x86-64
	ctlMax      = 64 << 10
	// soPeerPidfd and friends that x/sys may not name.
	soPeerPidfd         = 77
	tcpZerocopyReceive  = 35
	soAttachFilter      = 26
	soAttachBPF         = 50
	soAttachReuseCBPF   = 51
	soAttachReuseEBPF   = 52
	sockTypeMask        = 0xf
	netlinkRoute        = 0
	afMax               = 46
	sockMax             = 11
	msgCmsgCloexec      = unix.MSG_CMSG_CLOEXEC
	optmemMaxFallback   = 20480
	sunPathOff          = 2
	sunAddrMax          = 110 // sizeof(struct sockaddr_un)
	bpfMaxInsns         = 4096
	ipFirewallCtlBase   = 64 // IPT_BASE_CTL, and above: netfilter, ip_vs
	ip6FirewallCtlFirst = 64 // IP6T_SO_SET_REPLACE ..
	ip6FirewallCtlLast  = 69 // .. IP6T_SO_GET_REVISION_TARGET
)

// sockEntry returns the host fd of guest fd x for a socket call: EBADF,
// and ENOTSOCK for kshim's own /proc files (the host says ENOTSOCK for
// other files itself).
func (p *Process) sockEntry(x uint64) (int, error) {
	e, err := p.entry(x)
	if err != nil {
		return -1, err
	}
	if e.file.node != nil {
		if e.file.pathOnly {
			return -1, unix.EBADF
		}
		return -1, unix.ENOTSOCK
	}
	return e.host, nil
}

func getsockoptInt(h, level, opt int) (int, error) { return unix.GetsockoptInt(h, level, opt) }

// ---- creating ---------------------------------------------------------------

// allowed says whether the guest may make a socket of this family and
// protocol under the network policy, and the errno if not.
func (n *Network) allowed(family, typ, proto int) error {
	mode := NetHost
	if n != nil {
		mode = n.mode
	}
	switch family {
	case unix.AF_UNIX:
		return nil
	case unix.AF_INET, unix.AF_INET6:
		if mode == NetNone {
			return unix.EAFNOSUPPORT
		}
		if mode == NetHost && (typ&sockTypeMask == unix.SOCK_RAW || typ&sockTypeMask == unix.SOCK_PACKET) {
			// Raw sockets (and SOCK_PACKET, which Linux turns into a
			// packet socket) only in the guest's own namespace.
			return unix.EPERM
		}
		return nil
	case unix.AF_NETLINK:
		if mode == NetHost {
			return unix.EAFNOSUPPORT
		}
		if proto != netlinkRoute {
			return unix.EPROTONOSUPPORT
		}
		return nil
	}
	return unix.EAFNOSUPPORT
}

// socketArgs checks socket's and socketpair's (domain, type, protocol)
// against the flags Linux knows and the network's policy.
func (p *Process) socketArgs(a *args) (n *Network, family, typ, proto int, err error) {
	family, typ, proto = int(int32(a[0])), int(int32(a[1])), int(int32(a[2]))
	switch {
	case typ&^(sockTypeMask|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0:
		return nil, 0, 0, 0, unix.EINVAL
	case family < 0 || family >= afMax:
		return nil, 0, 0, 0, unix.EAFNOSUPPORT
	case typ&sockTypeMask >= sockMax:
		return nil, 0, 0, 0, unix.EINVAL
	}
	n = p.network()
	return n, family, typ, proto, n.allowed(family, typ, proto)
}

// socket(domain, type, protocol).
func sysSocket(p *Process, _ *Regs, a *args) (uint64, error) {
	n, family, typ, proto, err := p.socketArgs(a)
	if err != nil {
		return 0, err
	}
	if !p.files.hasFree(p.nofile()) {
		return 0, unix.EMFILE
	}
	var h int
	if rerr := n.run(func() { h, err = unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto) }); rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, err
	}
	return p.newFD(h, typ&unix.SOCK_CLOEXEC != 0, &openFile{kind: kindHost})
}

// run runs f on the network's worker, or here without a network.
func (n *Network) run(f func()) error {
	if n == nil {
		f()
		return nil
	}
	return n.do(f)
}

// socketpair(domain, type, protocol, sv).
func sysSocketpair(p *Process, _ *Regs, a *args) (uint64, error) {
	n, family, typ, proto, err := p.socketArgs(a)
	if err != nil {
		return 0, err
	}
	var fds [2]int
	if rerr := n.run(func() { fds, err = unix.Socketpair(family, typ|unix.SOCK_CLOEXEC, proto) }); rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, err
	}
	if n != nil {
		n.cred.pair(fds[0], fds[1], p.Pid)
	}
	cloexec := typ&unix.SOCK_CLOEXEC != 0
	g0, err := p.newFD(fds[0], cloexec, &openFile{kind: kindHost})
	if err != nil {
		unix.Close(fds[1])
		return 0, err
	}
	g1, err := p.newFD(fds[1], cloexec, &openFile{kind: kindHost})
	if err != nil {
		p.files.close(int(g0))
		return 0, err
	}
	var b [8]byte
	put32(b[0:], uint32(g0))
	put32(b[4:], uint32(g1))
	if _, err := p.MM.CopyOut(a[3], b[:]); err != nil {
		p.files.close(int(g0))
		p.files.close(int(g1))
		return 0, err
	}
	return 0, nil
}

// ---- addresses ----------------------------------------------------------------

// sockaddrIn reads a sockaddr argument as Linux's move_addr_to_kernel.
func (p *Process) sockaddrIn(addr uint64, n int) ([]byte, error) {
	if n < 0 || n > sockaddrMax {
		return nil, unix.EINVAL
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if _, err := p.MM.CopyIn(addr, b); err != nil {
		return nil, unix.EFAULT
	}
	return b, nil
}

// sockaddrOut writes a kernel address to the guest as move_addr_to_user:
// the length the guest offered (at lenAddr) bounds the copy, and the full
// length is written back.
func (p *Process) sockaddrOut(sa []byte, addr, lenAddr uint64) error {
	var lb [4]byte
	if _, err := p.MM.CopyIn(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	ulen := int32(le32(lb[:]))
	if ulen < 0 {
		return unix.EINVAL
	}
	n := min(int(ulen), len(sa))
	if n > 0 {
		if _, err := p.MM.CopyOut(addr, sa[:n]); err != nil {
			return unix.EFAULT
		}
	}
	put32(lb[:], uint32(len(sa)))
	if _, err := p.MM.CopyOut(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// unixPath returns the path of a sockaddr_un that names one (not
// abstract, not unnamed), as Linux reads it: up to the first NUL.
func unixPath(sa []byte) (string, bool) {
	if len(sa) <= sunPathOff || le16(sa) != unix.AF_UNIX || sa[sunPathOff] == 0 {
		return "", false
	}
	b := sa[sunPathOff:]
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), true
		}
	}
	return string(b), true
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// hostSunPath is a sockaddr_un naming host path s.
func hostSunPath(s string) []byte {
	b := make([]byte, sunPathOff+len(s)+1)
	b[0] = unix.AF_UNIX
	copy(b[sunPathOff:], s)
	return b
}

func sockFamily(h int) int {
	f, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return -1
	}
	return f
}

// resolveUnix turns a guest sockaddr_un naming a path into a host one
// naming the same socket file: the path resolved in the guest root into an
// O_PATH fd (returned, for the caller to close), named /proc/self/fd/N.
// Other addresses come back unchanged with fd -1.
func (p *Process) resolveUnix(h int, sa []byte) ([]byte, int, error) {
	path, ok := unixPath(sa)
	if !ok || len(sa) > sunAddrMax || sockFamily(h) != unix.AF_UNIX {
		return sa, -1, nil // the host reports what is wrong, if anything
	}
	r, err := p.lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return nil, -1, err
	}
	if r.node != nil {
		return nil, -1, unix.ECONNREFUSED // kshim's /proc holds no sockets
	}
	return hostSunPath("/proc/self/fd/" + itoa(r.fd)), r.fd, nil
}

// rawSockcall is a host call whose arguments hold no pointers. Calls
// that pass memory use unix.Syscall6 directly, with the pointer converted
// in the call itself (bufPtr), so the buffer stays alive and in place for
// the call, as the unsafe.Pointer rules require.
func rawSockcall(nr uintptr, a0, a1, a2, a3, a4, a5 uintptr) (uintptr, error) {
	r, _, e := unix.Syscall6(nr, a0, a1, a2, a3, a4, a5)
	return r, errnoErr(e)
}

func errnoErr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// bufPtr points at b's first byte (nil when empty).
func bufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// bind(fd, addr, addrlen).
func sysBind(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err // ENOTSOCK, before the address as on Linux
	}
	sa, err := p.sockaddrIn(a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	if path, ok := unixPath(sa); ok && len(sa) <= sunAddrMax && sockFamily(h) == unix.AF_UNIX {
		return 0, p.bindUnix(h, sa, path)
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(bufPtr(sa)), uintptr(len(sa)))
	err = errnoErr(e)
	if n := p.network(); n != nil && err == nil {
		n.cred.named(h)
	}
	return 0, err
}

// bindUnix binds host socket h to guest path path (sa is the guest's
// sockaddr_un). The lookup gives Linux's errors first (ENOENT, ENOTDIR,
// ELOOP, EACCES); then an existing name is EADDRINUSE and a read-only
// root EROFS, as filename_create orders them.
func (p *Process) bindUnix(h int, sa []byte, path string) error {
	pd, err := p.lookupParent(unix.AT_FDCWD, path)
	if err != nil {
		return err
	}
	defer pd.close()
	if pd.node != nil {
		return unix.EACCES // no sockets in kshim's /proc
	}
	if pd.special() {
		return unix.EADDRINUSE
	}
	if _, ok := pd.exists(); ok {
		return unix.EADDRINUSE
	}
	if pd.slash {
		return unix.ENOENT
	}
	if !p.fs.writable {
		return unix.EROFS
	}
	n := p.network()
	relative := path[0] != '/'
	cwdOK := true
	if relative {
		_, gerr := p.fs.guestPath(p.fs.cwd, p.fs.cwdPath)
		cwdOK = p.fs.cwdNode == nil && gerr == nil
	}
	if n == nil {
		// No network (unit tests): through the parent's host name, on
		// this thread (whose umask is kshim's: the mode is not masked).
		host := "/proc/self/fd/" + itoa(pd.fd) + "/" + pd.name
		if len(host) >= sunAddrMax-sunPathOff {
			return unix.ENAMETOOLONG
		}
		hs := hostSunPath(host)
		_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(bufPtr(hs)), uintptr(len(hs)))
		return errnoErr(e)
	}
	if n.pinnedBind || !cwdOK {
		// Through the parent kshim resolved, from the worker (its own
		// cwd and umask): the node is where the file rules say; the
		// kernel records the last component only as the name.
		umask, dir, name := int(p.fs.umask), pd.fd, pd.name
		hs := hostSunPath(name)
		if derr := n.do(func() {
			old := unix.Umask(umask)
			defer unix.Umask(old)
			if err = unix.Fchdir(dir); err != nil {
				return
			}
			defer unix.Chdir("/")
			_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(bufPtr(hs)), uintptr(len(hs)))
			err = errnoErr(e)
			if err == nil {
				n.cred.bound(h, name)
				n.cred.named(h)
			}
		}); derr != nil {
			return derr
		}
		return err
	}
	umask, cwd := int(p.fs.umask), p.fs.cwd
	if derr := n.do(func() {
		old := unix.Umask(umask)
		defer unix.Umask(old)
		if relative {
			if err = unix.Fchdir(cwd); err != nil {
				return
			}
			defer unix.Chdir("/")
			// The cwd must be inside the chroot (the host kernel names
			// one outside "(unreachable)..."): ".." from a directory
			// outside it would not stop at the root.
			var buf [unix.PathMax]byte
			if n, gerr := unix.Getcwd(buf[:]); gerr != nil || n == 0 || buf[0] != '/' {
				err = unix.ENOENT
				return
			}
		}
		_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(bufPtr(sa)), uintptr(len(sa)))
		err = errnoErr(e)
		if err == nil {
			n.cred.bound(h, path)
			n.cred.named(h)
		}
	}); derr != nil {
		return derr
	}
	return err
}

// listen(fd, backlog).
func sysListen(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	if n := p.network(); n != nil {
		n.cred.listening(h, p.Pid) // before a client can connect
	}
	return 0, unix.Listen(h, int(int32(a[1])))
}

// connect(fd, addr, addrlen).
func sysConnect(p *Process, _ *Regs, a *args) (uint64, error) {
	// Linux reads the address before it asks whether the fd is a socket.
	if _, err := p.entry(a[0]); err != nil {
		return 0, err
	}
	sa, err := p.sockaddrIn(a[1], int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	typ, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE)
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
	family := sockFamily(h)
	n := p.network()
	creds := n != nil && family == unix.AF_UNIX && typ != unix.SOCK_DGRAM
	if creds {
		// Before the host connect: the server may ask as soon as it
		// accepts.
		n.cred.connecting(h, p.Pid)
	}
	err = p.connectWait(h, hsa, family, typ)
	if err == nil && creds {
		n.cred.connected(h, sa, pfd)
	}
	return 0, err
}

// connectWait connects h to host address sa, blocking the way the guest's
// socket says but waiting in sockWait. A blocking socket is made
// non-blocking for the host call only.
func (p *Process) connectWait(h int, sa []byte, family, typ int) error {
	call := func() error {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(h), uintptr(bufPtr(sa)), uintptr(len(sa)))
		return errnoErr(e)
	}
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if fl&unix.O_NONBLOCK != 0 {
		return call()
	}
	setfl := func(f int) { _, _ = unix.FcntlInt(uintptr(h), unix.F_SETFL, f) }
	setfl(fl | unix.O_NONBLOCK)
	err = call()
	setfl(fl)
	deadline := sockDeadline(h, unix.SO_SNDTIMEO)
	if family == unix.AF_UNIX {
		// A full backlog: Linux waits for the listener to accept; poll
		// cannot tell an unconnected socket that, so retry.
		for backoff := time.Millisecond; err == unix.EAGAIN; backoff = min(2*backoff, 20*time.Millisecond) {
			if werr := p.sockSleep(backoff, deadline); werr != nil {
				return werr
			}
			setfl(fl | unix.O_NONBLOCK)
			err = call()
			setfl(fl)
		}
		return err
	}
	if err != unix.EINPROGRESS && err != unix.EALREADY {
		return err
	}
	if werr := p.sockWait(h, unix.POLLOUT, deadline); werr != nil {
		if werr == unix.EAGAIN {
			return unix.EINPROGRESS // Linux: a timed-out connect
		}
		return werr
	}
	soerr, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return unix.Errno(soerr)
	}
	// Once more, so the host marks the socket connected as its own
	// blocking connect would (a third connect is EISCONN).
	setfl(fl | unix.O_NONBLOCK)
	err = call()
	setfl(fl)
	if err == unix.EISCONN {
		err = nil
	}
	return err
}

// accept(fd, addr, addrlen) and accept4(fd, addr, addrlen, flags).
func sysAccept(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.accept(a[0], a[1], a[2], 0)
}

func sysAccept4(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.accept(a[0], a[1], a[2], int(int32(a[3])))
}

func (p *Process) accept(fd, addr, lenAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	h, err := p.sockEntry(fd)
	if err != nil {
		return 0, err
	}
	if !p.files.hasFree(p.nofile()) {
		return 0, unix.EMFILE
	}
	var nh int
	var deadline time.Time
	block := !nonblocking(h)
	for first := true; ; first = false {
		if block {
			// Wait where a signal can end it.
			if first {
				deadline = sockDeadline(h, unix.SO_RCVTIMEO)
				if d, ok := holdFD(h); ok {
					h = d
					defer unix.Close(d)
				}
			}
			if err := p.sockWait(h, unix.POLLIN, deadline); err != nil {
				return 0, err
			}
		}
		var r uintptr
		var err error
		if block {
			// The host accept blocks: make it only when a connection
			// is there, with no other task between the look and the
			// accept (acceptLock), so it returns at once.
			mu := &acceptLocks[sockIno(h)%uint64(len(acceptLocks))]
			mu.Lock()
			fds := []unix.PollFd{{Fd: int32(h), Events: unix.POLLIN}}
			if n, perr := unix.Poll(fds, 0); perr != nil || n == 0 {
				mu.Unlock()
				continue // taken by another task: wait again
			}
			r, err = rawSockcall(unix.SYS_ACCEPT4, uintptr(h), 0, 0, uintptr(flags&unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
			mu.Unlock()
		} else {
			r, err = rawSockcall(unix.SYS_ACCEPT4, uintptr(h), 0, 0, uintptr(flags&unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
		}
		if err == nil {
			nh = int(r)
			break
		}
		if err != unix.EAGAIN || !block {
			return 0, err
		}
	}
	if addr != 0 {
		sa, err := hostSockname(unix.SYS_GETPEERNAME, nh)
		if err != nil {
			unix.Close(nh)
			return 0, unix.ECONNABORTED
		}
		if err := p.sockaddrOut(sa, addr, lenAddr); err != nil {
			unix.Close(nh)
			return 0, err
		}
	}
	if n := p.network(); n != nil {
		n.cred.accepted(h, nh)
	}
	return p.newFD(nh, flags&unix.SOCK_CLOEXEC != 0, &openFile{kind: kindHost})
}

// acceptLocks serialise kshim's own blocking host accepts per listening
// socket (striped by inode), so one task's look-then-accept is never
// overtaken by another's.
var acceptLocks [64]sync.Mutex

// holdFD dups host fd h for the length of a blocking call: as on Linux,
// where a call holds its file, a close of the guest fd by another thread
// meanwhile neither ends the call nor lets it reach a file that reuses
// the number.
func holdFD(h int) (int, bool) {
	d, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
	return d, err == nil
}

// nonblocking says whether host fd h has O_NONBLOCK (the guest's flag).
func nonblocking(h int) bool {
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	return err != nil || fl&unix.O_NONBLOCK != 0
}

// hostSockname is getsockname or getpeername of host fd h, as bytes.
func hostSockname(nr uintptr, h int) ([]byte, error) {
	b := make([]byte, sockaddrMax)
	l := uint32(len(b))
	if _, _, e := unix.Syscall(nr, uintptr(h), uintptr(bufPtr(b)), uintptr(unsafe.Pointer(&l))); e != 0 {
		return nil, e
	}
	return b[:min(int(l), len(b))], nil
}

// getsockname(fd, addr, addrlen) and getpeername.
func sysGetsockname(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.sockname(unix.SYS_GETSOCKNAME, a)
}

func sysGetpeername(p *Process, _ *Regs, a *args) (uint64, error) {
	return p.sockname(unix.SYS_GETPEERNAME, a)
}

func (p *Process) sockname(nr uintptr, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	sa, err := hostSockname(nr, h)
	if err != nil {
		return 0, err
	}
	return 0, p.sockaddrOut(sa, a[1], a[2])
}

// shutdown(fd, how).
func sysShutdown(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	return 0, unix.Shutdown(h, int(int32(a[1])))
}

// ---- waiting -------------------------------------------------------------------

// sockDeadline is when a wait on h ends under its SO_RCVTIMEO or
// SO_SNDTIMEO (zero: never).
func sockDeadline(h, opt int) time.Time {
	tv, err := unix.GetsockoptTimeval(h, unix.SOL_SOCKET, opt)
	if err != nil || tv.Sec == 0 && tv.Usec == 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(tv.Sec)*time.Second + time.Duration(tv.Usec)*time.Microsecond)
}

// intrErr is Linux's sock_intr_errno: a call without a timeout restarts
// (ERESTARTSYS), one with a timeout fails with EINTR.
func intrErr(deadline time.Time) error {
	if deadline.IsZero() {
		return errRestart
	}
	return unix.EINTR
}

// sockWait blocks until host fd h is ready for events, a signal for p
// arrives (intrErr) or deadline passes (EAGAIN).
func (p *Process) sockWait(h int, events int16, deadline time.Time) error {
	wake := p.wakeFD()
	for {
		if p.interrupted() {
			return intrErr(deadline)
		}
		timeout := -1
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return unix.EAGAIN
			}
			timeout = int((d + time.Millisecond - 1) / time.Millisecond)
		}
		fds := []unix.PollFd{{Fd: int32(h), Events: events}, {Fd: int32(wake), Events: unix.POLLIN}}
		if wake < 0 {
			fds = fds[:1]
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return err
		}
		if len(fds) > 1 && fds[1].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(wake, b[:])
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// sockSleep sleeps d, or until a signal for p or deadline.
func (p *Process) sockSleep(d time.Duration, deadline time.Time) error {
	if p.interrupted() {
		return intrErr(deadline)
	}
	until := time.Now().Add(d)
	if !deadline.IsZero() {
		if time.Until(deadline) <= 0 {
			return unix.EAGAIN
		}
		if deadline.Before(until) {
			until = deadline
		}
	}
	p.awaitPost(until)
	if p.interrupted() {
		return intrErr(deadline)
	}
	return nil
}

// ---- options -------------------------------------------------------------------

// optRefused says whether an option is not passed to the host: values
// holding fds of the host's numbering, memory of kshim's, or (with the
// host's network) the host's firewall.
func (p *Process) optRefused(level, opt int) error {
	host := true
	if n := p.network(); n != nil {
		host = n.mode == NetHost
	}
	switch level {
	case unix.SOL_SOCKET:
		switch opt {
		case soAttachBPF, soAttachReuseEBPF:
			return unix.EBADF // no eBPF fd can exist in the guest (no bpf(2))
		case soPeerPidfd:
			return unix.ENOPROTOOPT
		}
	case unix.IPPROTO_TCP:
		if opt == tcpZerocopyReceive {
			return unix.EOPNOTSUPP
		}
	case unix.IPPROTO_IP:
		if host && opt >= ipFirewallCtlBase {
			return unix.ENOPROTOOPT
		}
	case unix.IPPROTO_IPV6:
		if host && (opt >= ip6FirewallCtlFirst && opt <= ip6FirewallCtlLast || opt >= 1024) {
			return unix.ENOPROTOOPT
		}
	}
	return nil
}

// setsockopt(fd, level, optname, optval, optlen).
func sysSetsockopt(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	level, opt, optlen := int(int32(a[1])), int(int32(a[2])), int(int32(a[4]))
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	if optlen < 0 {
		return 0, unix.EINVAL
	}
	if err := p.optRefused(level, opt); err != nil {
		return 0, err
	}
	if level == unix.SOL_SOCKET && (opt == soAttachFilter || opt == soAttachReuseCBPF) {
		return 0, p.attachFilter(h, opt, a[3], optlen)
	}
	// Linux reads only what the option needs: read what is readable of
	// the guest's value, up to a bound, and give the host its length.
	b := make([]byte, min(optlen, ctlMax))
	c, cerr := p.MM.CopyIn(a[3], b)
	if cerr != nil && c == 0 && len(b) > 0 {
		// Let the host check the length first (EINVAL for a short int).
		if _, err := rawSockcall(unix.SYS_SETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), 0, 0, 0); err == unix.ENOPROTOOPT {
			return 0, err
		}
		return 0, unix.EFAULT
	}
	b = b[:c]
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), uintptr(bufPtr(b)), uintptr(len(b)), 0)
	return 0, errnoErr(e)
}

// attachFilter is SO_ATTACH_FILTER and SO_ATTACH_REUSEPORT_CBPF: the
// sock_fprog's pointer is the guest's, so the program is copied in and
// handed over from kshim's memory.
func (p *Process) attachFilter(h, opt int, addr uint64, optlen int) error {
	if optlen < 16 {
		return unix.EINVAL
	}
	var fp [16]byte
	if _, err := p.MM.CopyIn(addr, fp[:]); err != nil {
		return unix.EFAULT
	}
	n := int(le16(fp[:]))
	if n == 0 || n > bpfMaxInsns {
		return unix.EINVAL
	}
	prog := make([]unix.SockFilter, n)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), 8*n)
	if _, err := p.MM.CopyIn(le64(fp[8:]), raw); err != nil {
		return unix.EFAULT
	}
	f := unix.SockFprog{Len: uint16(n), Filter: &prog[0]}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(h), unix.SOL_SOCKET, uintptr(opt), uintptr(unsafe.Pointer(&f)), unsafe.Sizeof(f), 0)
	runtime.KeepAlive(prog)
	return errnoErr(e)
}

// getsockopt(fd, level, optname, optval, optlen).
func sysGetsockopt(p *Process, _ *Regs, a *args) (uint64, error) {
	h, err := p.sockEntry(a[0])
	if err != nil {
		return 0, err
	}
	level, opt := int(int32(a[1])), int(int32(a[2]))
	if _, err := getsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return 0, err
	}
	var lb [4]byte
	if _, err := p.MM.CopyIn(a[4], lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	ulen := int32(le32(lb[:]))
	if ulen < 0 {
		return 0, unix.EINVAL
	}
	if err := p.optRefused(level, opt); err != nil {
		return 0, err
	}
	b := make([]byte, min(int(ulen), ctlMax))
	// A few options read their buffer first (IPT_SO_GET_INFO's name,
	// MCAST_MSFILTER's group): give the host what the guest put there.
	_, _ = p.MM.CopyIn(a[3], b)
	l := uint32(len(b))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(h), uintptr(level), uintptr(opt), uintptr(bufPtr(b)), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		return 0, e
	}
	b = b[:min(int(l), len(b))]
	if level == unix.SOL_SOCKET && opt == unix.SO_PEERCRED && len(b) >= 4 {
		put32(b, uint32(p.guestPid(h, int32(le32(b)))))
	}
	if len(b) > 0 {
		if _, err := p.MM.CopyOut(a[3], b); err != nil {
			return 0, unix.EFAULT
		}
	}
	put32(lb[:], l)
	if _, err := p.MM.CopyOut(a[4], lb[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// guestPid translates a pid the host reports for socket h's peer: kshim's
// own is a guest process, named by what kshim recorded (0 when it does
// not know); any other is outside the guest (0).
func (p *Process) guestPid(h int, pid int32) int32 {
	if pid != int32(unix.Getpid()) {
		return 0
	}
	if n := p.network(); n != nil {
		return int32(n.cred.peerPid(h))
	}
	return 0
}

// credPid translates the pid of credentials received on h: kshim's own
// is the guest process that last sent on the peer socket.
func (p *Process) credPid(h int, pid int32, from []byte) int32 {
	if pid != int32(unix.Getpid()) {
		return 0
	}
	if n := p.network(); n != nil {
		return n.cred.senderPid(h, from)
	}
	return 0
}

// Socket ioctls that only read: interface queries (ifreq in and out) and
// the queue sizes. Interface changes (SIOCSIF*, routes, ARP) stay ENOTTY.
var sockIoctlIfreq = map[uint64]bool{
	unix.SIOCGIFNAME: true, unix.SIOCGIFFLAGS: true, unix.SIOCGIFADDR: true,
	unix.SIOCGIFDSTADDR: true, unix.SIOCGIFBRDADDR: true, unix.SIOCGIFNETMASK: true,
	unix.SIOCGIFMETRIC: true, unix.SIOCGIFMTU: true, unix.SIOCGIFHWADDR: true,
	unix.SIOCGIFINDEX: true, unix.SIOCGIFTXQLEN: true, unix.SIOCGIFMAP: true,
}

const (
	ifreqSize   = 40
	siocOutq    = 0x5411 // SIOCOUTQ (TIOCOUTQ)
	siocAtmark  = 0x8905
	siocOutqNSD = 0x894b
)

// sockIoctl serves the socket ioctls above for io.go's ioctl; ok is false
// for any other request (or a file that is not a socket).
func (p *Process) sockIoctl(h int, req, arg uint64) (uint64, error, bool) {
	switch {
	case sockIoctlIfreq[req]:
		if !isSocket(h) {
			return 0, nil, false
		}
		var b [ifreqSize]byte
		if _, err := p.MM.CopyIn(arg, b[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		if err := hostIoctl(h, req, b[:]); err != nil {
			return 0, err, true
		}
		if _, err := p.MM.CopyOut(arg, b[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		return 0, nil, true
	case req == unix.SIOCGIFCONF:
		if !isSocket(h) {
			return 0, nil, false
		}
		// struct ifconf { int ifc_len; char *ifc_buf; }: the buffer is
		// the guest's, so the host fills kshim's and kshim copies out.
		var ic [16]byte
		if _, err := p.MM.CopyIn(arg, ic[:]); err != nil {
			return 0, unix.EFAULT, true
		}
		n := int32(le32(ic[:]))
		ubuf := le64(ic[8:])
		var buf []byte
		if ubuf != 0 && n > 0 {
			buf = make([]byte, min(int(n), ctlMax))
		}
		type ifconf struct {
			len int32
			_   int32
			buf unsafe.Pointer
		}
		hc := ifconf{len: int32(len(buf)), buf: bufPtr(buf)}
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(h), uintptr(req), uintptr(unsafe.Pointer(&hc))); e != 0 {
			return 0, e, true
		}
		if len(buf) > 0 {
			if _, err := p.MM.CopyOut(ubuf, buf[:min(int(hc.len), len(buf))]); err != nil {
				return 0, unix.EFAULT, true
			}
		}
		put32(ic[:], uint32(hc.len))
		if _, err := p.MM.CopyOut(arg, ic[:4]); err != nil {
			return 0, unix.EFAULT, true
		}
		return 0, nil, true
	case req == siocOutq || req == siocAtmark || req == siocOutqNSD:
		if !isSocket(h) {
			return 0, nil, false
		}
		r, err := p.ioctlOut(h, req, arg, 4)
		return r, err, true
	}
	return 0, nil, false
}
