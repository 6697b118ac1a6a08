// sockcred.go: which guest process a unix socket's peer credentials name.
//
// Every guest process is the one host process kshim, so the host kernel's
// SO_PEERCRED and SCM_CREDENTIALS always say kshim's pid. kshim records,
// per socket (by sockfs inode, which names one socket, hence one open file
// description), the guest pid Linux would have stored: the creator for
// socketpair, the connecting process for the server's end, the listening
// process for the client's end. A query asks the host kernel
// (NETLINK_SOCK_DIAG, UNIX_DIAG_PEER) which socket is the peer and reads
// its record.
//
// Invariants:
//   - A record never holds a host pid, only guest pids; a query with no
//     record answers 0 (as Linux does for a pid outside the reader's pid
//     namespace), never kshim's pid.
//   - The table is bounded (credMax records, oldest dropped): a socket
//     inode can be reused after its socket closes, and every event that
//     makes a record overwrites the old one.
//   - SCM_CREDENTIALS names each message's sender (sockcredq.go); the
//     last sender on the peer socket (sender) is only the fallback for a
//     message kshim has no record of.
package net

import (
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

const (
	credMax          = 1 << 16
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	udiagShowPeer    = 4  // UDIAG_SHOW_PEER
	unixDiagPeer     = 2  // UNIX_DIAG_PEER
)

type credTable struct {
	mu       sync.Mutex
	owner    map[uint64]int32  // socket inode -> pid its peer sees
	peer     map[uint64]int32  // socket inode -> its peer's pid, when known directly
	sender   map[uint64]int32  // socket inode -> pid that last sent on it
	order    []uint64          // insertion order, for the bound
	boundAt  map[uint64]string // socket inode -> key of its bound name
	listener map[string]int32  // bound name key -> pid that listened
	byName   map[string]uint64 // unix address, as the kernel reports it -> socket inode

	dmu  sync.Mutex
	diag int // NETLINK_SOCK_DIAG socket in the guest's namespace, or -1
	seq  uint32

	credQueues // each message's sender (sockcredq.go)
}

func (c *credTable) init() {
	c.owner = map[uint64]int32{}
	c.peer = map[uint64]int32{}
	c.sender = map[uint64]int32{}
	c.boundAt = map[uint64]string{}
	c.listener = map[string]int32{}
	c.byName = map[string]uint64{}
	c.diag = -1
	c.initQueues()
}

// openDiag runs on the worker, in the guest's namespace.
func (c *credTable) openDiag() error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return err
	}
	tv := unix.Timeval{Sec: 1}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	c.diag = fd
	return nil
}

func sockIno(h int) uint64 {
	var st unix.Stat_t
	if unix.Fstat(h, &st) != nil {
		return 0
	}
	return st.Ino
}

// put records m[ino] = pid, keeping the table bounded.
func (c *credTable) put(m map[uint64]int32, ino uint64, pid int32) {
	if ino == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := m[ino]; !ok {
		c.order = append(c.order, ino)
		if len(c.order) > credMax {
			old := c.order[0]
			c.order = c.order[1:]
			delete(c.owner, old)
			delete(c.peer, old)
			delete(c.sender, old)
			delete(c.boundAt, old)
		}
	}
	m[ino] = pid
}

func (c *credTable) set(ino uint64, pid int32) { c.put(c.owner, ino, pid) }

func (c *credTable) lookup(m map[uint64]int32, ino uint64) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := m[ino]
	return v, ok
}

// sent records that pid sends on socket h (for SCM_CREDENTIALS).
func (c *credTable) sent(h, pid int) {
	ino := sockIno(h)
	if v, ok := c.lookup(c.sender, ino); ok && v == int32(pid) {
		return
	}
	c.put(c.sender, ino, int32(pid))
}

// Pair records a socketpair made by pid.
func (c *credTable) Pair(a, b, pid int) {
	for _, h := range []int{a, b} {
		c.fresh(sockIno(h))
		c.set(sockIno(h), int32(pid))
		c.put(c.peer, sockIno(h), int32(pid))
	}
}

// bound records the node that socket h was just bound to (path, as the
// chrooted worker sees it).
func (c *credTable) bound(h int, path string) {
	var st unix.Stat_t
	if unix.Lstat(path, &st) != nil {
		return
	}
	ino, key := sockIno(h), nodeKey(st.Dev, st.Ino)
	c.mu.Lock()
	c.boundAt[ino] = key
	c.mu.Unlock()
	c.nameBound(key, ino)
}

// nameBound records that socket ino is bound to name key: datagrams sent
// there queue on it (sockcredq.go).
func (c *credTable) nameBound(key string, ino uint64) {
	c.qmu.Lock()
	if len(c.nameSock) >= credMax {
		clear(c.nameSock)
	}
	c.nameSock[key] = ino
	c.qmu.Unlock()
}

func nodeKey(dev, ino uint64) string {
	return strconv.FormatUint(dev, 16) + ":" + strconv.FormatUint(ino, 16)
}

// nameKey is the key of socket h's bound name: its node, or its abstract
// name.
func (c *credTable) nameKey(h int) string {
	c.mu.Lock()
	k, ok := c.boundAt[sockIno(h)]
	c.mu.Unlock()
	if ok {
		return k
	}
	sa, err := HostSockname(unix.SYS_GETSOCKNAME, h)
	if err == nil && len(sa) > sunPathOff && le16(sa) == unix.AF_UNIX && sa[sunPathOff] == 0 {
		return "@" + string(sa[sunPathOff:])
	}
	return ""
}

// Listening records that pid listens on socket h.
func (c *credTable) Listening(h, pid int) {
	if k := c.nameKey(h); k != "" {
		c.mu.Lock()
		c.listener[k] = int32(pid)
		c.mu.Unlock()
	}
}

// Connecting records that pid connects socket h: the server's end will
// see pid.
func (c *credTable) Connecting(h, pid int) { c.set(sockIno(h), int32(pid)) }

// Connected records, for the client's end h connected to guest address sa
// (pfd: the O_PATH fd of its node, when it is a path), the process that
// listens there.
func (c *credTable) Connected(h int, sa []byte, pfd int) {
	key := ""
	if pfd >= 0 {
		var st unix.Stat_t
		if unix.Fstat(pfd, &st) == nil {
			key = nodeKey(st.Dev, st.Ino)
		}
	} else if len(sa) > sunPathOff && sa[sunPathOff] == 0 {
		key = "@" + string(sa[sunPathOff:])
	}
	c.mu.Lock()
	lp, ok := c.listener[key]
	c.mu.Unlock()
	if ok {
		// The server's end has no inode until it is accepted: record
		// the client's view on the client's socket.
		c.put(c.peer, sockIno(h), lp)
	}
	// The accept that takes this connection may come after the client
	// has gone, when the host no longer names it: queue it.
	ino := sockIno(h)
	if pid, ok := c.lookup(c.owner, ino); ok && key != "" {
		c.qmu.Lock()
		q := c.conns[key]
		if q == nil && len(c.conns) >= credMax {
			clear(c.conns) // rare: start again rather than grow
		}
		if len(q) >= connMax {
			q = q[1:]
		}
		c.conns[key] = append(q, pendingConn{pid, ino})
		c.qmu.Unlock()
	}
}

// pendingConn is a connection not yet accepted: who connected, from
// which socket.
type pendingConn struct {
	pid    int32
	client uint64
}

// connMax bounds the connections kept per listener (a backlog's most).
const connMax = 4096

// accepted records the listener's process for socket s accepted on l,
// and the connecting process on s itself: Linux keeps it there however
// long the client's socket lives.
func (c *credTable) accepted(l, s int) {
	ino := sockIno(s)
	c.fresh(ino)
	k := c.nameKey(l)
	c.mu.Lock()
	lp, ok := c.listener[k]
	c.mu.Unlock()
	if ok && k != "" {
		c.set(ino, lp)
	}
	// The connecting process: the client's own record while it lives,
	// else the oldest connection to this listener (the host accepts in
	// that order).
	peer := c.peerInode(ino, true)
	c.qmu.Lock()
	q := c.conns[k]
	var pc pendingConn
	found := false
	for i, e := range q {
		if peer == 0 || e.client == peer {
			pc, found = e, true
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(c.conns, k)
	} else {
		c.conns[k] = q
	}
	if found && peer == 0 {
		c.peerOf[ino] = pc.client // its sends are queued under it
	}
	c.qmu.Unlock()
	if v, ok := c.lookup(c.owner, peer); peer != 0 && ok {
		c.put(c.peer, ino, v)
	} else if found {
		c.put(c.peer, ino, pc.pid)
	}
}

// Fresh forgets what was recorded for socket h (a new socket: its inode
// may be an old one's).
func (c *credTable) Fresh(h int) { c.fresh(sockIno(h)) }

// ForgetPeer drops what is known of socket h's peer (it connects anew).
func (c *credTable) ForgetPeer(h int) {
	ino := sockIno(h)
	c.qmu.Lock()
	delete(c.peerOf, ino)
	c.qmu.Unlock()
}

// peerPid is the guest pid socket h's peer credentials name (0: unknown).
func (c *credTable) peerPid(h int) int32 {
	ino := sockIno(h)
	if v, ok := c.lookup(c.peer, ino); ok {
		return v
	}
	if peer := c.diagPeer(ino); peer != 0 {
		v, _ := c.lookup(c.owner, peer)
		return v
	}
	return 0
}

// Named records socket h's unix address (after a bind), so credentials
// received from it on an unconnected socket name its last sender.
func (c *credTable) Named(h int) {
	sa, err := HostSockname(unix.SYS_GETSOCKNAME, h)
	if err != nil || len(sa) <= sunPathOff || le16(sa) != unix.AF_UNIX {
		return
	}
	ino := sockIno(h)
	if sa[sunPathOff] == 0 {
		c.nameBound("@"+string(sa[sunPathOff:]), ino)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byName) >= credMax {
		clear(c.byName) // rare: start again rather than grow
	}
	c.byName[string(sa)] = ino
}

// senderPid is the guest pid that last sent on socket h's peer, or on
// the socket bound to from (the message's source), for credentials
// received on h (0: unknown).
func (c *credTable) senderPid(h int, from []byte) int32 {
	if len(from) > sunPathOff {
		c.mu.Lock()
		ino, ok := c.byName[string(from)]
		c.mu.Unlock()
		if ok {
			if v, ok := c.lookup(c.sender, ino); ok {
				return v
			}
		}
	}
	if peer := c.diagPeer(sockIno(h)); peer != 0 {
		if v, ok := c.lookup(c.sender, peer); ok {
			return v
		}
		if v, ok := c.lookup(c.owner, peer); ok {
			return v
		}
	}
	return 0
}

// diagPeer asks the host which socket is unix socket ino's peer.
func (c *credTable) diagPeer(ino uint64) uint64 {
	if ino == 0 || ino > 1<<32-1 {
		return 0
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if c.diag < 0 {
		return 0
	}
	c.seq++
	req := make([]byte, 40)
	abi.Put32(req[0:], 40)
	req[4] = sockDiagByFamily
	req[6] = unix.NLM_F_REQUEST
	abi.Put32(req[8:], c.seq)
	req[16] = unix.AF_UNIX
	abi.Put32(req[20:], 0xffffffff) // all states
	abi.Put32(req[24:], uint32(ino))
	abi.Put32(req[28:], udiagShowPeer)
	abi.Put32(req[32:], 0xffffffff) // no cookie
	abi.Put32(req[36:], 0xffffffff)
	if err := unix.Sendto(c.diag, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(c.diag, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0
		}
		for off := 0; off+16 <= n; {
			l := int(abi.Le32(buf[off:]))
			if l < 16 || off+l > n {
				break
			}
			typ, seq := le16(buf[off+4:]), abi.Le32(buf[off+8:])
			if seq == c.seq {
				if typ != sockDiagByFamily {
					return 0 // NLMSG_ERROR: no such socket
				}
				// unix_diag_msg (16 bytes), then attributes.
				for a := off + 16 + 16; a+4 <= off+l; {
					al := int(le16(buf[a:]))
					if al < 4 || a+al > off+l {
						break
					}
					if le16(buf[a+2:]) == unixDiagPeer && al >= 8 {
						return uint64(abi.Le32(buf[a+4:]))
					}
					a += (al + 3) &^ 3
				}
				return 0
			}
			off += (l + 3) &^ 3
		}
	}
	return 0
}
