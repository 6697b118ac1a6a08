// msg.go: System V message queues (Linux's ipc/msg.c): msgget, msgsnd,
// msgrcv (by type, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, IPC_NOWAIT),
// msgctl and /proc/sysvipc/msg.
//
// Invariants (NS.mu guards everything here):
//   - A queue holds at most q_qbytes bytes of text and q_qbytes messages
//     (msg_fits_inqueue); MSGMAX bounds one message, MSGMNI the queues.
//   - A sender waiting for room or a receiver waiting for a message waits
//     on the queue's changed channel, which every send, receive, IPC_SET
//     and IPC_RMID closes and replaces; the waiter then tries again under
//     the lock (Linux hands a message straight to a waiting receiver; the
//     retry gives the same results but may order competing receivers
//     otherwise). A removed queue ends its waiters with EIDRM, a signal
//     with EINTR.
//   - A queue's messages are charged to the guest's memory budget, their
//     text and a header each, in whole pages per queue.
package ipc

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

// Linux's message queue limits and flags (include/uapi/linux/msg.h).
const (
	msgMNI  = 32000
	msgMAX  = 8192
	msgMNB  = 16384
	msgPool = msgMNI * msgMNB / 1024
	msgSSZ  = 16
	msgSeg  = 0xffff

	msgNoerror = 0o10000
	msgExcept  = 0o20000
	msgCopy    = 0o40000

	msgStat    = 11
	msgInfo    = 12
	msgStatAny = 13

	msqidDsSize = 120 // struct msqid64_ds
	msginfoSize = 32  // struct msginfo
	msgHeader   = 48  // charged per message besides its text
)

type message struct {
	typ  int64
	text []byte
}

// Queue is one message queue (struct msg_queue).
type Queue struct {
	Perm
	msgs           []message
	cbytes, qbytes uint64
	lspid, lrpid   int
	stime, rtime   int64
	changed        chan struct{}
	removed        bool
	charge
}

type msgState struct {
	t            table[*Queue]
	hdrs, nbytes uint64 // every queue's messages and bytes
}

func (s *msgState) init() {
	s.t = newTable(msgMNI, func(q *Queue) *Perm { return &q.Perm })
}

// signal wakes every waiter on q to try again.
func (q *Queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// Msgget is msgget(2).
func (ns *NS) Msgget(p *kernel.Process, key int32, flg int32) (uint64, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	c := CredOf(p)
	if key != IPCPrivate {
		if q, ok := ns.msg.t.byKey(key); ok {
			switch {
			case flg&ipcCreat != 0 && flg&ipcExcl != 0:
				return 0, unix.EEXIST
			case !c.allowed(&q.Perm, uint32(flg)&permBits):
				return 0, unix.EACCES
			}
			return uint64(q.ID), nil
		}
		if flg&ipcCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	q := &Queue{qbytes: msgMNB, changed: make(chan struct{}), charge: charge{charger: chargerOf(p)}}
	q.Perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID,
		Mode: uint32(flg) & permBits, ctime: now()}
	if !ns.msg.t.add(q) {
		return 0, unix.ENOSPC
	}
	return uint64(q.ID), nil
}

// Msgsnd is msgsnd(2).
func (ns *NS) Msgsnd(p *kernel.Process, id int32, msgp, size uint64, flg int32) error {
	var tb [8]byte
	if _, err := p.MM.CopyIn(msgp, tb[:]); err != nil {
		return unix.EFAULT
	}
	typ := int64(abi.Le64(tb[:]))
	if size > msgMAX || id < 0 || typ < 1 {
		return unix.EINVAL
	}
	text := make([]byte, size)
	if _, err := p.MM.CopyIn(msgp+8, text); err != nil {
		return unix.EFAULT
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, err := ns.msg.t.check(id)
	if err != nil {
		return err
	}
	c := CredOf(p)
	for {
		if !c.allowed(&q.Perm, 0o222) {
			return unix.EACCES
		}
		if size+q.cbytes <= q.qbytes && 1+uint64(len(q.msgs)) <= q.qbytes {
			break
		}
		if flg&ipcNowait != 0 {
			return unix.EAGAIN
		}
		if err := ns.waitQueue(p, q); err != nil {
			return err
		}
	}
	q.usage += size + msgHeader
	if !q.recharge() {
		q.usage -= size + msgHeader
		return unix.ENOMEM
	}
	q.msgs = append(q.msgs, message{typ: typ, text: text})
	q.cbytes += size
	ns.msg.hdrs++
	ns.msg.nbytes += size
	q.lspid, q.stime = p.Pid, now()
	q.signal()
	return nil
}

// waitQueue waits, without NS.mu, for a change of q: EIDRM if q was
// removed meanwhile, EINTR on a signal.
func (ns *NS) waitQueue(p *kernel.Process, q *Queue) error {
	ch := q.changed
	ns.mu.Unlock()
	err := p.WaitWoken(ch, zeroTime)
	ns.mu.Lock()
	if q.removed {
		return unix.EIDRM
	}
	return err
}

// find is find_msg: the index of the message msgrcv takes, or -1.
func (q *Queue) find(typ int64, flg int32) int {
	if flg&msgCopy != 0 {
		if typ >= 0 && typ < int64(len(q.msgs)) {
			return int(typ)
		}
		return -1
	}
	best := -1
	for i, m := range q.msgs {
		switch {
		case typ == 0:
			return i
		case typ < 0:
			if m.typ <= -typ && (best < 0 || m.typ < q.msgs[best].typ) {
				best = i
			}
		case flg&msgExcept != 0:
			if m.typ != typ {
				return i
			}
		default:
			if m.typ == typ {
				return i
			}
		}
	}
	return best
}

// Msgrcv is msgrcv(2): it returns the bytes of text stored.
func (ns *NS) Msgrcv(p *kernel.Process, id int32, msgp, size uint64, typ int64, flg int32) (uint64, error) {
	if id < 0 || int64(size) < 0 {
		return 0, unix.EINVAL
	}
	if flg&msgCopy != 0 && (flg&msgExcept != 0 || flg&ipcNowait == 0) {
		return 0, unix.EINVAL
	}
	ns.mu.Lock()
	q, err := ns.msg.t.check(id)
	if err != nil {
		ns.mu.Unlock()
		return 0, err
	}
	c := CredOf(p)
	var m message
	for {
		if !c.allowed(&q.Perm, 0o444) {
			ns.mu.Unlock()
			return 0, unix.EACCES
		}
		if i := q.find(typ, flg); i >= 0 {
			m = q.msgs[i]
			if size < uint64(len(m.text)) && flg&msgNoerror == 0 {
				ns.mu.Unlock()
				return 0, unix.E2BIG
			}
			if flg&msgCopy == 0 {
				q.msgs = append(q.msgs[:i:i], q.msgs[i+1:]...)
				q.cbytes -= uint64(len(m.text))
				q.usage -= uint64(len(m.text)) + msgHeader
				q.recharge()
				ns.msg.hdrs--
				ns.msg.nbytes -= uint64(len(m.text))
				q.lrpid, q.rtime = p.Pid, now()
				q.signal()
			}
			break
		}
		if flg&ipcNowait != 0 {
			ns.mu.Unlock()
			return 0, unix.ENOMSG
		}
		if err := ns.waitQueue(p, q); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
	}
	ns.mu.Unlock()
	// The message is the caller's now: a bad buffer loses it, as in Linux.
	var tb [8]byte
	abi.Put64(tb[:], uint64(m.typ))
	if _, err := p.MM.CopyOut(msgp, tb[:]); err != nil {
		return 0, unix.EFAULT
	}
	n := min(size, uint64(len(m.text)))
	if _, err := p.MM.CopyOut(msgp+8, m.text[:n]); err != nil {
		return 0, unix.EFAULT
	}
	return n, nil
}

func (ns *NS) freeQueue(q *Queue) {
	q.removed = true
	q.signal()
	ns.msg.hdrs -= uint64(len(q.msgs))
	ns.msg.nbytes -= q.cbytes
	q.msgs, q.usage = nil, 0
	q.recharge()
	ns.msg.t.remove(q)
}

// Msgctl is msgctl(2).
func (ns *NS) Msgctl(p *kernel.Process, id, cmd int32, buf uint64) (uint64, error) {
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	var in []byte
	if cmd == ipcSet {
		in = make([]byte, msqidDsSize)
		if _, err := p.MM.CopyIn(buf, in); err != nil {
			return 0, unix.EFAULT
		}
	}
	ret, out, err := ns.msgctl(p, id, cmd, in)
	return copyResult(p, buf, ret, out, err)
}

func (ns *NS) msgctl(p *kernel.Process, id, cmd int32, in []byte) (uint64, []byte, error) {
	if id < 0 || cmd < 0 {
		return 0, nil, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	c := CredOf(p)
	switch cmd {
	case ipcInfo, msgInfo:
		b := make([]byte, msginfoSize)
		pool, mp, tql := uint32(msgPool), uint32(msgMNB), uint32(msgMNB)
		if cmd == msgInfo {
			pool, mp, tql = uint32(len(ns.msg.t.byIdx)), uint32(min(ns.msg.hdrs, 1<<31-1)), uint32(min(ns.msg.nbytes, 1<<31-1))
		}
		for i, v := range []uint32{pool, mp, msgMAX, msgMNB, msgMNI, msgSSZ, tql} {
			abi.Put32(b[4*i:], v)
		}
		b[28], b[29] = msgSeg&0xff, msgSeg>>8
		return uint64(max(0, ns.msg.t.maxIdx())), b, nil
	case ipcStat, msgStat, msgStatAny:
		q, ret, err := ns.msg.t.stat(c, id, cmd == ipcStat, cmd == msgStatAny)
		if err != nil {
			return 0, nil, err
		}
		b := make([]byte, msqidDsSize)
		putPerm(b, &q.Perm)
		abi.Put64(b[48:], uint64(q.stime))
		abi.Put64(b[56:], uint64(q.rtime))
		abi.Put64(b[64:], uint64(q.ctime))
		abi.Put64(b[72:], q.cbytes)
		abi.Put64(b[80:], uint64(len(q.msgs)))
		abi.Put64(b[88:], q.qbytes)
		abi.Put32(b[96:], uint32(q.lspid))
		abi.Put32(b[100:], uint32(q.lrpid))
		return ret, b, nil
	case ipcSet, ipcRMID:
		q, err := ns.msg.t.check(id)
		if err != nil {
			return 0, nil, err
		}
		if !c.owns(&q.Perm) {
			return 0, nil, unix.EPERM
		}
		if cmd == ipcRMID {
			ns.freeQueue(q)
			return 0, nil, nil
		}
		qbytes := abi.Le64(in[88:])
		if qbytes > msgMNB && !kernel.HostCapable(unix.CAP_SYS_RESOURCE) {
			return 0, nil, unix.EPERM
		}
		uid, gid := abi.Le32(in[4:]), abi.Le32(in[8:])
		if uid == 0xffffffff || gid == 0xffffffff {
			return 0, nil, unix.EINVAL
		}
		q.qbytes = qbytes
		q.UID, q.GID = uid, gid
		q.Mode = q.Mode&^permBits | (uint32(in[20])|uint32(in[21])<<8)&permBits
		q.ctime = now()
		q.signal()
		return 0, nil, nil
	}
	return 0, nil, unix.EINVAL
}

// ProcMsg is /proc/sysvipc/msg, in Linux's format.
func (ns *NS) ProcMsg() []byte {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var b strings.Builder
	b.WriteString("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n")
	for i := 0; i <= ns.msg.t.maxIdx(); i++ {
		q, ok := ns.msg.t.byIdx[i]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n",
			q.Key, q.ID, q.Mode, q.cbytes, len(q.msgs), q.lspid, q.lrpid, q.UID, q.GID, q.CUID, q.CGID,
			q.stime, q.rtime, q.ctime)
	}
	return []byte(b.String())
}
