// sockcredq.go: the sender of each message on a unix socket, for
// SCM_CREDENTIALS.
//
// Linux stamps every message (skb) with its sender's pid when it is sent
// and hands that pid out with the message. The host stamps kshim's pid on
// all of them, so kshim keeps, beside the host's queue, the guest pids of
// what is queued, in the same order:
//   - connection sockets (stream, seqpacket) by the sending socket: all
//     that a connected socket receives comes from its one peer, which the
//     receiver finds with NETLINK_SOCK_DIAG (sockcred.go; cached, a
//     connection's peer never changes);
//   - datagram sockets by the receiving socket, which the sender finds
//     from the address it sends to (the node or abstract name recorded at
//     bind) or from the peer it is connected to.
//
// Stream entries count bytes (consecutive sends of one process merge),
// others count messages. A receive takes from the head what it consumed
// (MSG_PEEK nothing). Like Linux with SO_PASSCRED set, a stream read
// stops where the writer changes, which the host cannot see.
//
// Invariants:
//   - A send and its record, and a receive and what it takes, are one
//     step under the queue's lock (qLocks, striped by key), so records
//     are in the host queue's order whatever the tasks do meanwhile.
//   - Only guest pids are recorded; a message with no record (sent
//     before kshim could find its queue, by a host process, or through a
//     path kshim does not watch: sendfile, splice) falls back to the
//     last sender (sockcred.go), and never names a host pid.
//   - Bounded: credMax queues of at most credMax entries each (the host
//     socket's buffer bounds what is queued anyway); a new socket's inode
//     starts with no queue.
package net

import (
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
)

type credEntry struct {
	pid int32
	n   int // bytes (stream) or messages
}

// credQueues is the per-message state of credTable.
type credQueues struct {
	qmu      sync.Mutex
	q        map[uint64][]credEntry   // queue key -> senders of what is queued, oldest first
	peerOf   map[uint64]uint64        // socket inode -> its peer's inode (connected sockets)
	nameSock map[string]uint64        // bound name key (node or "@abstract") -> socket inode
	conns    map[string][]pendingConn // listener's name key -> connections not yet accepted (sockcred.go)
	qLocks   [64]sync.Mutex
}

func (c *credQueues) initQueues() {
	c.q = map[uint64][]credEntry{}
	c.peerOf = map[uint64]uint64{}
	c.nameSock = map[string]uint64{}
	c.conns = map[string][]pendingConn{}
}

// credIO is one send's or receive's view of its queue.
type credIO struct {
	c      *credTable
	key    uint64 // 0: not tracked
	stream bool
}

func (io credIO) lock() {
	if io.key != 0 {
		io.c.qLocks[io.key%uint64(len(io.c.qLocks))].Lock()
	}
}

func (io credIO) unlock() {
	if io.key != 0 {
		io.c.qLocks[io.key%uint64(len(io.c.qLocks))].Unlock()
	}
}

// fresh forgets what was recorded for socket inode ino (a new socket:
// its inode may be an old one's).
func (c *credTable) fresh(ino uint64) {
	if ino == 0 {
		return
	}
	c.qmu.Lock()
	delete(c.q, ino)
	delete(c.peerOf, ino)
	c.qmu.Unlock()
}

// peerInode is socket ino's peer, asked of the host once and kept when
// keep (a connection's peer never changes).
func (c *credTable) peerInode(ino uint64, keep bool) uint64 {
	c.qmu.Lock()
	p, ok := c.peerOf[ino]
	c.qmu.Unlock()
	if ok {
		return p
	}
	p = c.diagPeer(ino)
	if p != 0 && keep {
		c.qmu.Lock()
		if len(c.peerOf) >= credMax {
			clear(c.peerOf)
		}
		c.peerOf[ino] = p
		c.qmu.Unlock()
	}
	return p
}

// unixType is socket h's type if it is a unix socket, else 0.
func unixType(h int) int {
	if SockFamily(h) != unix.AF_UNIX {
		return 0
	}
	t, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return 0
	}
	return t
}

// sending finds the queue of a send on h to host address name (nil:
// the connected peer).
func (c *credTable) sending(h int, name []byte) credIO {
	typ := unixType(h)
	if typ == 0 {
		return credIO{}
	}
	ino := sockIno(h)
	if typ != unix.SOCK_DGRAM {
		return credIO{c, ino, typ == unix.SOCK_STREAM}
	}
	if len(name) <= sunPathOff {
		return credIO{c, c.peerInode(ino, false), false}
	}
	key := ""
	if name[sunPathOff] == 0 {
		key = "@" + string(name[sunPathOff:])
	} else {
		path := name[sunPathOff:]
		for i, b := range path {
			if b == 0 {
				path = path[:i]
				break
			}
		}
		var st unix.Stat_t
		if unix.Stat(string(path), &st) != nil {
			return credIO{}
		}
		key = nodeKey(st.Dev, st.Ino)
	}
	c.qmu.Lock()
	dst := c.nameSock[key]
	c.qmu.Unlock()
	return credIO{c, dst, false}
}

// receiving finds the queue of a receive on h.
func (c *credTable) receiving(h int) credIO {
	typ := unixType(h)
	if typ == 0 {
		return credIO{}
	}
	ino := sockIno(h)
	if typ == unix.SOCK_DGRAM {
		return credIO{c, ino, false}
	}
	return credIO{c, c.peerInode(ino, true), typ == unix.SOCK_STREAM}
}

// record notes that pid queued n bytes (stream) or one message. Under
// io.lock.
func (io credIO) record(pid int32, n int) {
	if io.key == 0 || (io.stream && n <= 0) {
		return
	}
	if !io.stream {
		n = 1
	}
	c := io.c
	c.qmu.Lock()
	defer c.qmu.Unlock()
	q := c.q[io.key]
	if q == nil && len(c.q) >= credMax {
		clear(c.q) // rare: start again rather than grow
	}
	if l := len(q); io.stream && l > 0 && q[l-1].pid == pid {
		q[l-1].n += n
	} else {
		if l >= credMax {
			q = q[1:]
		}
		q = append(q, credEntry{pid, n})
	}
	c.q[io.key] = q
}

// head is the sender of what a receive gets first and, for a stream, how
// many bytes it sent in a row (0: unknown). Under io.lock.
func (io credIO) head() (pid int32, n int, ok bool) {
	if io.key == 0 {
		return 0, 0, false
	}
	io.c.qmu.Lock()
	defer io.c.qmu.Unlock()
	q := io.c.q[io.key]
	if len(q) == 0 {
		return 0, 0, false
	}
	return q[0].pid, q[0].n, true
}

// take removes what a receive consumed: n bytes (stream) or one message.
// Under io.lock.
func (io credIO) take(n int) {
	if io.key == 0 {
		return
	}
	c := io.c
	c.qmu.Lock()
	defer c.qmu.Unlock()
	q := c.q[io.key]
	if !io.stream {
		if len(q) > 0 {
			q = q[1:]
		}
	} else {
		for n > 0 && len(q) > 0 {
			d := min(n, q[0].n)
			q[0].n -= d
			n -= d
			if q[0].n == 0 {
				q = q[1:]
			}
		}
	}
	if len(q) == 0 {
		delete(c.q, io.key)
	} else {
		c.q[io.key] = q
	}
}

// passcred says whether socket h has SO_PASSCRED set.
func passcred(h int) bool {
	v, err := GetsockoptInt(h, unix.SOL_SOCKET, unix.SO_PASSCRED)
	return err == nil && v != 0
}

// fixCreds rewrites the pid of SCM_CREDENTIALS in received control data
// ctl: kshim's own (a guest process sent it) becomes sender, or, with no
// record, what sockcred.go knows of h's peer; any other pid (a host
// process's) becomes 0.
func (c *credTable) fixCreds(h int, ctl, from []byte, sender int32, known bool) {
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		l := int(abi.Le64(ctl[off:]))
		if l < cmsgHdrLen || l > len(ctl)-off {
			return
		}
		level, typ := int32(abi.Le32(ctl[off+8:])), int32(abi.Le32(ctl[off+12:]))
		if level == unix.SOL_SOCKET && typ == unix.SCM_CREDENTIALS && l >= cmsgHdrLen+4 {
			pid := int32(0)
			if int32(abi.Le32(ctl[off+cmsgHdrLen:])) == int32(unix.Getpid()) {
				pid = sender
				if !known {
					pid = c.senderPid(h, from)
				}
			}
			abi.Put32(ctl[off+cmsgHdrLen:], uint32(pid))
		}
		off += cmsgAlign(l)
	}
}
