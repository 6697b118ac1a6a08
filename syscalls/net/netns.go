// netns.go: the guest's network (the --net policy) and the host thread
// that makes its sockets.
//
// Invariants:
//   - Every socket the guest creates (socket, socketpair) is created by
//     the network's worker, one host thread locked for its whole life. A
//     socket stays in the network namespace it was created in, so with the
//     private policy every guest socket, and every socket accepted from
//     one, lives in kshim's own namespace: loopback only, abstract unix
//     names private to the guest.
//   - The worker has its own fs context (unshare(CLONE_FS)) chrooted at
//     the guest's root, so a unix socket path it binds is resolved inside
//     the root by the host kernel (".." and symlinks clamped there) and
//     the name the kernel records is the guest's own string (getsockname,
//     getpeername, accept and recvfrom report it unchanged). Nothing else
//     runs on that thread. When the root holds a procfs mount (other than
//     being the host's "/"), its magic links could lead out of a chroot,
//     so binds then go through the parent directory that kshim resolved
//     itself (socket.go: BindUnix).
//   - The namespace is made during set-up (PrepareNetwork as set-up
//     starts, while the machine is made on another thread; Start once the
//     root is open: before the guest runs and before kshim drops
//     privileges); later calls need no capability but those the guest's
//     own sockets need.
//
// Policies (Config.Net): "private" (default) a new network namespace with
// only loopback up and every port open to unprivileged binds
// (ip_unprivileged_port_start=0 in it); "none" the same namespace with loopback down and no
// AF_INET/AF_INET6 sockets at all (EAFNOSUPPORT, as a kernel without IP);
// "host" the host's namespace; NetJoined (an OCI runtime's container) the
// namespace kshim runs in, with loopback up and private's policy.
package net

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/kernel"
)

// NetMode is the guest's network policy.
type NetMode int

const (
	NetPrivate NetMode = iota // own namespace, loopback up
	NetNone                   // own namespace, no IP sockets
	NetHost                   // the host's namespace
	// NetJoined: the namespace kshim was started in is the guest's own
	// (an OCI runtime put kshim there), with private's policy.
	NetJoined
)

// ParseNetMode reads a --net value.
func ParseNetMode(s string) (NetMode, error) {
	switch s {
	case "", "private":
		return NetPrivate, nil
	case "none":
		return NetNone, nil
	case "host":
		return NetHost, nil
	}
	return 0, fmt.Errorf("bad --net %q (private, none, host)", s)
}

// Network is a guest's network: its policy and its socket-making thread.
type Network struct {
	mode NetMode
	reqs chan func()
	done chan struct{}
	// root hands the worker the guest root's fd (Start); errc returns
	// its set-up's outcome.
	root chan int
	errc chan error
	// pinnedBind: bind unix paths through a resolved parent directory
	// instead of the chrooted worker (the root holds a procfs).
	pinnedBind bool
	Cred       credTable
	// procNet: the namespace's /proc/net files, opened at set-up
	// (procnet.go); read only after Start returns.
	procNet map[string]int
}

// networks maps a Kernel to its Network (kept here, not in Kernel, so
// that this file stays self-contained).
var networks sync.Map

// PrepareNetwork starts the network with policy mode: its worker makes the
// namespace (~0.7 ms here, most of it the kernel's) while the caller goes
// on setting up. Start finishes it; Close (or a failed Start) ends it.
func PrepareNetwork(mode NetMode) *Network {
	n := &Network{mode: mode, reqs: make(chan func()), done: make(chan struct{}),
		root: make(chan int, 1), errc: make(chan error, 1)}
	n.Cred.init()
	go n.worker()
	return n
}

// Start makes n k's network, the worker chrooted at p's root, once the
// worker has made the namespace. Call it once, before the guest runs.
func (n *Network) Start(k *kernel.Kernel, p *kernel.Process) error {
	n.pinnedBind = p.FS.RootHost != "/" && rootHoldsProc(p.FS.RootHost)
	n.root <- p.FS.Root
	if err := <-n.errc; err != nil {
		n.Close()
		return err
	}
	networks.Store(k, n)
	return nil
}

// Close ends the worker (sockets already made stay valid).
func (n *Network) Close() {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
}

// NetworkOf returns p's network; nil when the process has none (unit tests
// without a Kernel): then sockets are made on the calling thread, in the
// host's namespace.
func NetworkOf(p *kernel.Process) *Network {
	if p.Proc.K == nil {
		return nil
	}
	v, ok := networks.Load(p.Proc.K)
	if !ok {
		return nil
	}
	return v.(*Network)
}

// worker is the socket-making thread. It never unlocks its OS thread, so
// the thread (in the new namespace, chrooted) ends with the goroutine.
func (n *Network) worker() {
	runtime.LockOSThread()
	optmemMax() // in the host's namespace, before the sandbox
	errc := n.errc
	flags := unix.CLONE_FS
	if n.mode != NetHost && n.mode != NetJoined {
		flags |= unix.CLONE_NEWNET
	}
	if err := unix.Unshare(flags); err != nil {
		errc <- fmt.Errorf("--net: cannot make the guest's network namespace (needs root; --net host shares the host's network instead): %v", err)
		return
	}
	if n.mode == NetPrivate || n.mode == NetJoined {
		if err := LoopbackUp(); err != nil {
			errc <- fmt.Errorf("--net: bringing up loopback: %v", err)
			return
		}
		// Every port is the guest's to bind in its own namespace, as
		// container runtimes set it: ip_unprivileged_port_start=0 there
		// (the sysctl is per namespace; this thread's is the new one).
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("0\n"), 0); err != nil {
			errc <- fmt.Errorf("--net: opening ports below 1024: %v", err)
			return
		}
	}
	n.openProcNet() // while /proc is the host's and reachable (procnet.go)
	var root int
	select {
	case root = <-n.root:
	case <-n.done:
		return
	}
	if root >= 0 {
		if err := unix.Fchdir(root); err != nil {
			errc <- fmt.Errorf("--net: %v", err)
			return
		}
		if err := unix.Chroot("."); err != nil {
			// Without the privilege (--net host as a user): bind
			// through the parent directory kshim resolved instead.
			n.pinnedBind = true
		}
	}
	if err := n.Cred.openDiag(); err != nil {
		n.Cred.diag = -1 // peer credentials then fall back to 0
	}
	errc <- nil
	for {
		select {
		case f := <-n.reqs:
			f()
		case <-n.done:
			return
		}
	}
}

// do runs f on the worker and waits for it; ENETDOWN once the network
// is closed (the guest is ending), never on another thread.
func (n *Network) do(f func()) error {
	ok := make(chan struct{})
	select {
	case n.reqs <- func() { f(); close(ok) }:
		<-ok
		return nil
	case <-n.done:
		return unix.ENETDOWN
	}
}

// LoopbackUp sets IFF_UP on "lo" in the calling thread's namespace
// (ci/python's native side uses it too).
func LoopbackUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr)
}

// rootHoldsProc says whether a procfs is mounted at or below host
// directory root (then a chroot there could meet magic links).
func rootHoldsProc(root string) bool {
	b, err := readHostFile("/proc/self/mountinfo")
	if err != nil {
		return true // cannot tell: take the careful path
	}
	for _, line := range strings.Split(string(b), "\n") {
		// id parent major:minor root mountpoint opts ... - fstype src opts
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+1 >= len(f) || f[sep+1] != "proc" {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == root || strings.HasPrefix(mp, strings.TrimSuffix(root, "/")+"/") {
			return true
		}
	}
	return false
}

func readHostFile(path string) ([]byte, error) { return os.ReadFile(path) }

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
