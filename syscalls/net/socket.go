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
//     directory kshim resolved, BindUnix), connect and sendto through an
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
package net

import (
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

const (
	SockaddrMax = 128 // sizeof(struct sockaddr_storage)
	scmMaxFD    = 253 // SCM_MAX_FD
	UioMaxIOV   = 1024
	cmsgHdrLen  = 16 // sizeof(struct cmsghdr) on x86-64
	CtlMax      = 64 << 10
	// soPeerPidfd and friends that x/sys may not name.
	soPeerPidfd         = 77
	tcpZerocopyReceive  = 35
	SoAttachFilter      = 26
	soAttachBPF         = 50
	SoAttachReuseCBPF   = 51
	soAttachReuseEBPF   = 52
	SockTypeMask        = 0xf
	netlinkRoute        = 0
	AfMax               = 46
	SockMax             = 11
	MsgCmsgCloexec      = unix.MSG_CMSG_CLOEXEC
	optmemMaxFallback   = 20480
	sunPathOff          = 2
	SunAddrMax          = 110 // sizeof(struct sockaddr_un)
	bpfMaxInsns         = 4096
	ipFirewallCtlBase   = 64 // IPT_BASE_CTL, and above: netfilter, ip_vs
	ip6FirewallCtlFirst = 64 // IP6T_SO_SET_REPLACE ..
	ip6FirewallCtlLast  = 69 // .. IP6T_SO_GET_REVISION_TARGET
)

// SockEntry returns the host fd of guest fd x for a socket call: EBADF,
// and ENOTSOCK for kshim's own /proc files (the host says ENOTSOCK for
// other files itself).
func SockEntry(p *kernel.Process, x uint64) (int, error) {
	e, err := p.Entry(x)
	if err != nil {
		return -1, err
	}
	if e.File.Node != nil {
		if e.File.PathOnly {
			return -1, unix.EBADF
		}
		return -1, unix.ENOTSOCK
	}
	return e.Host, nil
}

func GetsockoptInt(h, level, opt int) (int, error) { return unix.GetsockoptInt(h, level, opt) }

// SocketFD is SockEntry for the calls that want a socket: the host's
// answer to SO_TYPE gives ENOTSOCK for any other fd, before the call's
// other arguments are looked at, as on Linux.
func SocketFD(p *kernel.Process, x uint64) (int, error) {
	h, err := SockEntry(p, x)
	if err != nil {
		return -1, err
	}
	if _, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		return -1, err
	}
	return h, nil
}

// ---- creating ---------------------------------------------------------------

// Allowed says whether the guest may make a socket of this family and
// protocol under the network policy, and the errno if not.
func (n *Network) Allowed(family, typ, proto int) error {
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
		if mode == NetHost && (typ&SockTypeMask == unix.SOCK_RAW || typ&SockTypeMask == unix.SOCK_PACKET) {
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

// Run runs f on the network's worker, or here without a network.
func (n *Network) Run(f func()) error {
	if n == nil {
		f()
		return nil
	}
	return n.do(f)
}

// ---- addresses ----------------------------------------------------------------

// SockaddrIn reads a sockaddr argument as Linux's move_addr_to_kernel.
func SockaddrIn(p *kernel.Process, addr uint64, n int) ([]byte, error) {
	if n < 0 || n > SockaddrMax {
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

// SockaddrOut writes a kernel address to the guest as move_addr_to_user:
// the length the guest offered (at lenAddr) bounds the copy, and the full
// length is written back.
func SockaddrOut(p *kernel.Process, sa []byte, addr, lenAddr uint64) error {
	var lb [4]byte
	if _, err := p.MM.CopyIn(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	ulen := int32(abi.Le32(lb[:]))
	if ulen < 0 {
		return unix.EINVAL
	}
	n := min(int(ulen), len(sa))
	if n > 0 {
		if _, err := p.MM.CopyOut(addr, sa[:n]); err != nil {
			return unix.EFAULT
		}
	}
	abi.Put32(lb[:], uint32(len(sa)))
	if _, err := p.MM.CopyOut(lenAddr, lb[:]); err != nil {
		return unix.EFAULT
	}
	return nil
}

// UnixPath returns the path of a sockaddr_un that names one (not
// abstract, not unnamed), as Linux reads it: up to the first NUL.
func UnixPath(sa []byte) (string, bool) {
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

func SockFamily(h int) int {
	f, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return -1
	}
	return f
}

// ResolveUnix turns a guest sockaddr_un naming a path into a host one
// naming the same socket file: the path resolved in the guest root into an
// O_PATH fd (returned, for the caller to close), named /proc/self/fd/N.
// Other addresses come back unchanged with fd -1.
func ResolveUnix(p *kernel.Process, h int, sa []byte) ([]byte, int, error) {
	path, ok := UnixPath(sa)
	if !ok || len(sa) > SunAddrMax || SockFamily(h) != unix.AF_UNIX {
		return sa, -1, nil // the host reports what is wrong, if anything
	}
	r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_PATH, 0)
	if err != nil {
		return nil, -1, err
	}
	if r.Node != nil {
		return nil, -1, unix.ECONNREFUSED // kshim's /proc holds no sockets
	}
	return hostSunPath("/proc/self/fd/" + abi.Itoa(r.FD)), r.FD, nil
}

// RawSockcall is a host call whose arguments hold no pointers. Calls
// that pass memory use unix.Syscall6 directly, with the pointer converted
// in the call itself (BufPtr), so the buffer stays alive and in place for
// the call, as the unsafe.Pointer rules require.
func RawSockcall(nr uintptr, a0, a1, a2, a3, a4, a5 uintptr) (uintptr, error) {
	r, _, e := unix.Syscall6(nr, a0, a1, a2, a3, a4, a5)
	return r, ErrnoErr(e)
}

func ErrnoErr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// BufPtr points at b's first byte (nil when empty).
func BufPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// BindUnix binds host socket h to guest path path (sa is the guest's
// sockaddr_un). The lookup gives Linux's errors first (ENOENT, ENOTDIR,
// ELOOP, EACCES); then an existing name is EADDRINUSE and a read-only
// root EROFS, as filename_create orders them.
func BindUnix(p *kernel.Process, h int, sa []byte, path string) error {
	pd, err := p.LookupParent(unix.AT_FDCWD, path)
	if err != nil {
		return err
	}
	defer pd.Close()
	if pd.Node != nil {
		return unix.EACCES // no sockets in kshim's /proc
	}
	if pd.Special() {
		return unix.EADDRINUSE
	}
	if _, ok := pd.Exists(); ok {
		return unix.EADDRINUSE
	}
	if pd.Slash {
		return unix.ENOENT
	}
	if p.FS.RO(pd.Mnt) {
		return unix.EROFS
	}
	n := NetworkOf(p)
	relative := path[0] != '/'
	cwdOK := true
	cwd := -1 // a cwd fd of this call's own (fs.CwdOf: a sibling thread may chdir)
	if relative {
		c, err := fs.CwdOf(&p.Task)
		if err != nil {
			return err
		}
		if c.FD >= 0 {
			cwd = c.FD
			defer unix.Close(cwd)
		}
		_, gerr := p.FS.GuestPathIn(c.FD, c.Mnt, c.Path)
		cwdOK = c.Node == nil && gerr == nil && c.Mnt == nil
	}
	if n == nil {
		// No network (unit tests): through the parent's host name, on
		// this thread (whose umask is kshim's: the mode is not masked).
		host := "/proc/self/fd/" + abi.Itoa(pd.FD) + "/" + pd.Name
		if len(host) >= SunAddrMax-sunPathOff {
			return unix.ENAMETOOLONG
		}
		hs := hostSunPath(host)
		_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(BufPtr(hs)), uintptr(len(hs)))
		return ErrnoErr(e)
	}
	if n.pinnedBind || !cwdOK || pd.Mnt != nil {
		// Through the parent kshim resolved, from the worker (its own
		// cwd and umask): the node is where the file rules say; the
		// kernel records the last component only as the name. Also
		// for a parent in a mount, or a cwd in one: the worker's
		// chroot knows no mount, so the path would reach the root's
		// directory under the mount point (a tmpfs's, one below a
		// read-only path) and make the node there, on the host, out
		// of the guest's view. (A parent of the root's own is where
		// the path leads the worker too, unless a rename races with
		// this call.)
		umask, dir, name := int(p.FS.Umask()), pd.FD, pd.Name
		hs := hostSunPath(name)
		if derr := n.do(func() {
			old := unix.Umask(umask)
			defer unix.Umask(old)
			if err = unix.Fchdir(dir); err != nil {
				return
			}
			defer unix.Chdir("/")
			_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(BufPtr(hs)), uintptr(len(hs)))
			err = ErrnoErr(e)
			if err == nil {
				n.Cred.bound(h, name)
				n.Cred.Named(h)
			}
		}); derr != nil {
			return derr
		}
		return err
	}
	umask := int(p.FS.Umask())
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
		_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(h), uintptr(BufPtr(sa)), uintptr(len(sa)))
		err = ErrnoErr(e)
		if err == nil {
			n.Cred.bound(h, path)
			n.Cred.Named(h)
		}
	}); derr != nil {
		return derr
	}
	return err
}

// ConnectWait connects h to host address sa, blocking the way the guest's
// socket says but waiting in sockWait. A blocking socket is made
// non-blocking for the host call only.
func ConnectWait(p *kernel.Process, h int, sa []byte, family, typ int) error {
	call := func() error {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(h), uintptr(BufPtr(sa)), uintptr(len(sa)))
		return ErrnoErr(e)
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
			if werr := sockSleep(p, backoff, deadline); werr != nil {
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
	if werr := sockWait(p, h, unix.POLLOUT, deadline); werr != nil {
		if werr == unix.EAGAIN {
			return unix.EINPROGRESS // Linux: a timed-out connect
		}
		return werr
	}
	soerr, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_ERROR)
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

func Accept(p *kernel.Process, fd, addr, lenAddr uint64, flags int) (uint64, error) {
	if flags&^(unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	h, err := SockEntry(p, fd)
	if err != nil {
		return 0, err
	}
	if !p.Files.HasFree(p.Nofile()) {
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
			if err := sockWait(p, h, unix.POLLIN, deadline); err != nil {
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
			r, err = RawSockcall(unix.SYS_ACCEPT4, uintptr(h), 0, 0, uintptr(flags&unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
			mu.Unlock()
		} else {
			r, err = RawSockcall(unix.SYS_ACCEPT4, uintptr(h), 0, 0, uintptr(flags&unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0, 0)
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
		sa, err := HostSockname(unix.SYS_GETPEERNAME, nh)
		if err != nil {
			unix.Close(nh)
			return 0, unix.ECONNABORTED
		}
		if err := SockaddrOut(p, sa, addr, lenAddr); err != nil {
			unix.Close(nh)
			return 0, err
		}
	}
	if n := NetworkOf(p); n != nil {
		n.Cred.accepted(h, nh)
	}
	return p.NewFD(nh, flags&unix.SOCK_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost})
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

// HostSockname is getsockname or getpeername of host fd h, as bytes.
func HostSockname(nr uintptr, h int) ([]byte, error) {
	b := make([]byte, SockaddrMax)
	l := uint32(len(b))
	if _, _, e := unix.Syscall(nr, uintptr(h), uintptr(BufPtr(b)), uintptr(unsafe.Pointer(&l))); e != 0 {
		return nil, e
	}
	return b[:min(int(l), len(b))], nil
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
		return kernel.ErrRestart
	}
	return unix.EINTR
}

// sockWait blocks until host fd h is ready for events, a signal for p
// arrives (intrErr) or deadline passes (EAGAIN).
func sockWait(p *kernel.Process, h int, events int16, deadline time.Time) error {
	wake := p.WakeFD()
	for {
		if p.Interrupted() {
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
		if _, err := p.PollAsleep(fds, timeout); err != nil && err != unix.EINTR {
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
func sockSleep(p *kernel.Process, d time.Duration, deadline time.Time) error {
	if p.Interrupted() {
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
	p.AwaitPost(until)
	if p.Interrupted() {
		return intrErr(deadline)
	}
	return nil
}

// ---- options -------------------------------------------------------------------

// OptRefused says whether an option is not passed to the host: values
// holding fds of the host's numbering, memory of kshim's, or (with the
// host's network) the host's firewall.
func OptRefused(p *kernel.Process, level, opt int) error {
	host := true
	if n := NetworkOf(p); n != nil {
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

// AttachFilter is SO_ATTACH_FILTER and SO_ATTACH_REUSEPORT_CBPF: the
// sock_fprog's pointer is the guest's, so the program is copied in and
// handed over from kshim's memory.
func AttachFilter(p *kernel.Process, h, opt int, addr uint64, optlen int) error {
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
	if _, err := p.MM.CopyIn(abi.Le64(fp[8:]), raw); err != nil {
		return unix.EFAULT
	}
	f := unix.SockFprog{Len: uint16(n), Filter: &prog[0]}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(h), unix.SOL_SOCKET, uintptr(opt), uintptr(unsafe.Pointer(&f)), unsafe.Sizeof(f), 0)
	runtime.KeepAlive(prog)
	return ErrnoErr(e)
}

// GuestPid translates a pid the host reports for socket h's peer: kshim's
// own is a guest process, named by what kshim recorded (0 when it does
// not know); any other is outside the guest (0).
func GuestPid(p *kernel.Process, h int, pid int32) int32 {
	if pid != int32(unix.Getpid()) {
		return 0
	}
	if n := NetworkOf(p); n != nil {
		return int32(n.Cred.peerPid(h))
	}
	return 0
}

// Socket ioctls that only read: interface queries (ifreq in and out) and
// the queue sizes. Interface changes (SIOCSIF*, routes, ARP) stay ENOTTY.
var SockIoctlIfreq = map[uint64]bool{
	unix.SIOCGIFNAME: true, unix.SIOCGIFFLAGS: true, unix.SIOCGIFADDR: true,
	unix.SIOCGIFDSTADDR: true, unix.SIOCGIFBRDADDR: true, unix.SIOCGIFNETMASK: true,
	unix.SIOCGIFMETRIC: true, unix.SIOCGIFMTU: true, unix.SIOCGIFHWADDR: true,
	unix.SIOCGIFINDEX: true, unix.SIOCGIFTXQLEN: true, unix.SIOCGIFMAP: true,
}

const (
	IfreqSize   = 40
	SiocOutq    = 0x5411 // SIOCOUTQ (TIOCOUTQ)
	SiocAtmark  = 0x8905
	SiocOutqNSD = 0x894b
)
