// procnet.go: the files of /proc/net as the guest's network shows them
// (netstat, ifconfig, ss's fallback and /proc/net/dev readers).
//
// /proc/net is per network namespace. The worker thread opens the files
// of its own namespace (/proc/thread-self/net/NAME) once, at set-up, before
// it is chrooted and before kshim confines itself (Landlock would refuse
// the host's /proc later): each open file keeps its namespace, and a
// seq_file read from offset 0 is generated afresh, so a guest's open
// reads the namespace's state at that moment. With --net private the
// guest sees its own sockets and interfaces only; with --net host, the
// host's.
//
// Invariants: the files are read whole under procNetMu (one reader at a
// time per file position); names outside procNetNames are not served.
package net

import (
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// procNetNames are the files served: sockets, interfaces and counters.
var procNetNames = []string{"dev", "if_inet6", "netstat", "packet", "raw", "raw6", "route", "snmp", "snmp6",
	"sockstat", "sockstat6", "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "unix"}

var procNetMu sync.Mutex

// openProcNet opens the calling thread's namespace's files (the worker's,
// at set-up); a file the kernel lacks is left out.
func (n *Network) openProcNet() {
	n.procNet = map[string]int{}
	for _, name := range procNetNames {
		if fd, err := unix.Open("/proc/thread-self/net/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			n.procNet[name] = fd
		}
	}
}

// ProcNetNames lists the served files (nil without a network).
func (n *Network) ProcNetNames() []string {
	if n == nil {
		return nil
	}
	var out []string
	for name := range n.procNet {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ProcNet reads /proc/net/NAME of the guest's namespace now; ok is false
// when it is not served.
func (n *Network) ProcNet(name string) (b []byte, ok bool, err error) {
	if n == nil {
		return nil, false, nil
	}
	fd, ok := n.procNet[name]
	if !ok {
		return nil, false, nil
	}
	procNetMu.Lock()
	defer procNetMu.Unlock()
	buf := make([]byte, 64*1024)
	for off := int64(0); ; {
		c, err := unix.Pread(fd, buf, off)
		if err != nil {
			return nil, true, err
		}
		if c == 0 {
			return b, true, nil
		}
		b = append(b, buf[:c]...)
		off += int64(c)
	}
}
