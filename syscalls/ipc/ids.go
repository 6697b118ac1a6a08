// ids.go: the id table of one IPC kind and the permission checks
// (Linux's ipc/util.c), and the namespace.
package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// Linux's constants (include/uapi/linux/ipc.h, ipc/util.h).
const (
	IPCPrivate = 0
	ipcCreat   = 0o1000
	ipcExcl    = 0o2000
	ipcNowait  = 0o4000

	ipcRMID = 0
	ipcSet  = 1
	ipcStat = 2
	ipcInfo = 3

	seqShift = 15 // IPCMNI_SHIFT
	seqMax   = 1<<(31-seqShift) - 1
)

// Perm is kern_ipc_perm: who owns an object and its mode.
type Perm struct {
	Key            int32
	UID, GID       uint32
	CUID, CGID     uint32
	Mode           uint32 // permission bits, plus SHM_DEST/SHM_LOCKED
	Seq            uint32
	ID             int32
	idx            int
	ctime, extTime int64
}

// table is one kind's ids: Linux's ipc_ids.
type table[T any] struct {
	max     int // SHMMNI etc.
	byIdx   map[int]T
	perm    func(T) *Perm
	lastIdx int
	seq     uint32
}

func newTable[T any](max int, perm func(T) *Perm) table[T] {
	return table[T]{max: max, byIdx: map[int]T{}, perm: perm, lastIdx: -1}
}

// add gives o an index and id, as ipc_idr_alloc with idr_alloc_cyclic:
// the next free index after the last one given, seq bumped on a wrap.
func (t *table[T]) add(o T) bool {
	if len(t.byIdx) >= t.max {
		return false
	}
	idx := -1
	for i := 1; i <= t.max; i++ {
		c := (t.lastIdx + i) % t.max
		if _, used := t.byIdx[c]; !used {
			idx = c
			break
		}
	}
	if idx < 0 {
		return false
	}
	if idx <= t.lastIdx {
		if t.seq++; t.seq > seqMax {
			t.seq = 0
		}
	}
	t.lastIdx = idx
	p := t.perm(o)
	p.idx, p.Seq = idx, t.seq
	p.ID = int32(t.seq<<seqShift) | int32(idx)
	t.byIdx[idx] = o
	return true
}

func (t *table[T]) remove(o T) { delete(t.byIdx, t.perm(o).idx) }

// byKey finds the object with key k (never IPC_PRIVATE).
func (t *table[T]) byKey(k int32) (T, bool) {
	for _, o := range t.byIdx {
		if t.perm(o).Key == k {
			return o, true
		}
	}
	var zero T
	return zero, false
}

// check is ipc_obtain_object_check: the object of id, EINVAL if none or
// of another sequence.
func (t *table[T]) check(id int32) (T, error) {
	var zero T
	if id < 0 {
		return zero, unix.EINVAL
	}
	o, ok := t.byIdx[int(id)&(1<<seqShift-1)]
	if !ok || t.perm(o).ID != id {
		return zero, unix.EINVAL
	}
	return o, nil
}

// stat finds the object of an IPC_STAT (byID: id is an identifier,
// checked as check does; the call returns 0) or of a *_STAT or
// *_STAT_ANY (id is an index; the call returns the object's identifier),
// and checks the caller may read it unless any (*_STAT_ANY).
func (t *table[T]) stat(c Cred, id int32, byID, any bool) (T, uint64, error) {
	var zero T
	o, ret := zero, uint64(0)
	if byID {
		var err error
		if o, err = t.check(id); err != nil {
			return zero, 0, err
		}
	} else {
		var ok bool
		if o, ok = t.byIdx[int(id)]; !ok {
			return zero, 0, unix.EINVAL
		}
		ret = uint64(t.perm(o).ID)
	}
	if !any && !c.allowed(t.perm(o), 0o444) {
		return zero, 0, unix.EACCES
	}
	return o, ret, nil
}

// charge is a message queue's (System V or POSIX) memory charged to the
// guest's budget: its use in bytes, charged in whole pages.
type charge struct {
	usage, charged uint64
	charger        fs.Charger
}

// recharge brings the charge to the use, in pages; false if the budget
// has no room for more.
func (c *charge) recharge() bool {
	if c.charger == nil {
		return true
	}
	need := (c.usage + 4095) &^ 4095
	switch {
	case need > c.charged:
		if c.charger.Charge(need-c.charged) != nil {
			return false
		}
	case need < c.charged:
		c.charger.Uncharge(c.charged - need)
	}
	c.charged = need
	return true
}

// maxIdx is ipc_get_maxidx: the highest index in use, -1 if none.
func (t *table[T]) maxIdx() int {
	m := -1
	for i := range t.byIdx {
		m = max(m, i)
	}
	return m
}

// Cred is the caller's identity as the checks see it.
type Cred struct {
	UID, GID uint32
	Groups   []uint32
	// Owner: CAP_IPC_OWNER, Admin: CAP_SYS_ADMIN.
	Owner, Admin bool
	Pid          int
}

// CredOf is the guest's identity, which is kshim's host identity
// (syscalls/uidgid.go): the same ids, groups and capabilities.
func CredOf(p *kernel.Process) Cred {
	c := Cred{UID: uint32(unix.Geteuid()), GID: uint32(unix.Getegid()), Pid: p.Pid,
		Owner: kernel.HostCapable(unix.CAP_IPC_OWNER), Admin: kernel.HostCapable(unix.CAP_SYS_ADMIN)}
	if gs, err := unix.Getgroups(); err == nil {
		for _, g := range gs {
			c.Groups = append(c.Groups, uint32(g))
		}
	}
	return c
}

func (c Cred) inGroup(g uint32) bool {
	if g == c.GID {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// allowed is ipcperms: flag's rwx bits (any of the three classes) against
// the class the caller falls in; CAP_IPC_OWNER overrides.
func (c Cred) allowed(p *Perm, flag uint32) bool {
	req := (flag>>6 | flag>>3 | flag) & 7
	granted := p.Mode
	switch {
	case c.UID == p.CUID || c.UID == p.UID:
		granted >>= 6
	case c.inGroup(p.CGID) || c.inGroup(p.GID):
		granted >>= 3
	}
	return req&^granted&7 == 0 || c.Owner
}

// owns is the IPC_SET/IPC_RMID check (ipcctl_obtain_check): the creator
// or owner, or CAP_SYS_ADMIN.
func (c Cred) owns(p *Perm) bool {
	return c.UID == p.CUID || c.UID == p.UID || c.Admin
}

// NS is one IPC namespace: the whole guest's.
type NS struct {
	mu  sync.Mutex
	k   *kernel.Kernel
	shm shmState
	sem semState
	msg msgState
	mq  mqState
}

var (
	nsMu sync.Mutex
	// orphanNS serves processes outside a process table (unit tests).
	orphanNS = func() *NS {
		ns := &NS{}
		ns.shm.init()
		ns.sem.init()
		ns.msg.init()
		ns.mq.init()
		return ns
	}()
)

// Of returns k's namespace, made at first use.
func Of(k *kernel.Kernel) *NS {
	nsMu.Lock()
	defer nsMu.Unlock()
	if k == nil {
		return orphanNS
	}
	if ns, ok := k.IPC.(*NS); ok {
		return ns
	}
	ns := &NS{k: k}
	ns.shm.init()
	ns.sem.init()
	ns.msg.init()
	ns.mq.init()
	k.IPC = ns
	return ns
}

func now() int64 { return time.Now().Unix() }

// zeroTime is no deadline.
var zeroTime time.Time
