// sem.go: System V semaphores (Linux's ipc/sem.c): semget, semop and
// semtimedop with SEM_UNDO and IPC_NOWAIT, semctl, /proc/sysvipc/sem.
//
// Invariants (NS.mu guards everything here):
//   - A semop applies all of its operations or none: they are tried in
//     order on a copy of the values and committed only if none blocks or
//     fails (perform).
//   - A blocked semop is a waiter on its array's pending list, in arrival
//     order; every change of values retries the whole list (updateQueue),
//     each success or failure taking the waiter off with its result and
//     closing its channel. IPC_RMID ends every waiter with EIDRM. A waiter
//     that leaves on a signal (EINTR) or its timeout (EAGAIN) takes itself
//     off unless it was ended first, whose result then stands.
//   - SEM_UNDO adjustments are per process (thread group) and array,
//     made at the first SEM_UNDO semop, applied when the process exits
//     (kernel.ExitHook) and dropped with the array; SETVAL and SETALL
//     clear them for the semaphores they set.
//   - Arrays and undo records are charged to the guest's memory budget,
//     and the counts are Linux's defaults (SEMMNI, SEMMSL, SEMMNS,
//     SEMOPM), so a guest cannot grow kshim without bound.
package ipc

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// Linux's semaphore limits and commands (include/uapi/linux/sem.h).
const (
	semMSL = 32000
	semMNI = 32000
	semMNS = semMNI * semMSL
	semOPM = 500
	semVMX = 32767
	semAEM = semVMX
	semUSZ = 20

	semUndo = 0x1000

	getPID  = 11
	getVal  = 12
	getAll  = 13
	getNCnt = 14
	getZCnt = 15
	setVal  = 16
	setAll  = 17
	semStat = 18
	semInfo = 19
	semAny  = 20 // SEM_STAT_ANY

	semidDsSize = 104 // struct semid64_ds
	seminfoSize = 40  // struct seminfo
	sembufSize  = 6
	// semCost is what one semaphore (and one undo slot) is charged.
	semCost = 32
)

type semaphore struct {
	val, pid int
}

// SemArray is one semaphore set (struct sem_array).
type SemArray struct {
	Perm
	sems    []semaphore
	otime   int64
	pending []*semWaiter
	charger fs.Charger
	charged uint64
}

type sembuf struct {
	num      uint16
	op, flag int16
}

type semWaiter struct {
	pid   int
	sops  []sembuf
	done  bool
	err   error
	woken chan struct{}
	// the semaphore it waits on, and whether for zero
	blockNum  int
	blockZero bool
}

type undoKey struct {
	pid int
	sma *SemArray
}

type undoRec struct {
	adj     []int
	charger fs.Charger
	charged uint64
}

type semState struct {
	t     table[*SemArray]
	used  int // semaphores in every array
	undos map[undoKey]*undoRec
}

func (s *semState) init() {
	s.t = newTable(semMNI, func(a *SemArray) *Perm { return &a.Perm })
	s.undos = map[undoKey]*undoRec{}
}

func chargerOf(p *kernel.Process) fs.Charger {
	if k := p.Proc.K; k != nil && k.Sb != nil {
		return k.Sb.Lim.Mem
	}
	return nil
}

// Semget is semget(2).
func (ns *NS) Semget(p *kernel.Process, key int32, nsems int32, flg int32) (uint64, error) {
	if nsems < 0 || nsems > semMSL {
		return 0, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	c := CredOf(p)
	if key != IPCPrivate {
		if a, ok := ns.sem.t.byKey(key); ok {
			switch {
			case flg&ipcCreat != 0 && flg&ipcExcl != 0:
				return 0, unix.EEXIST
			case int(nsems) > len(a.sems):
				return 0, unix.EINVAL
			case !c.allowed(&a.Perm, uint32(flg)&permBits):
				return 0, unix.EACCES
			}
			return uint64(a.ID), nil
		}
		if flg&ipcCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	if nsems == 0 {
		return 0, unix.EINVAL
	}
	if ns.sem.used+int(nsems) > semMNS {
		return 0, unix.ENOSPC
	}
	if len(ns.sem.t.byIdx) >= semMNI {
		return 0, unix.ENOSPC
	}
	a := &SemArray{sems: make([]semaphore, nsems)}
	if ch := chargerOf(p); ch != nil {
		if ch.Charge(uint64(nsems)*semCost) != nil {
			return 0, unix.ENOMEM
		}
		a.charger, a.charged = ch, uint64(nsems)*semCost
	}
	a.Perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID,
		Mode: uint32(flg) & permBits, ctime: now()}
	if !ns.sem.t.add(a) {
		a.uncharge()
		return 0, unix.ENOSPC
	}
	ns.sem.used += int(nsems)
	return uint64(a.ID), nil
}

func (a *SemArray) uncharge() {
	if a.charger != nil && a.charged != 0 {
		a.charger.Uncharge(a.charged)
		a.charged = 0
	}
}

// freeArray is freeary: waiters end with EIDRM, undo records go.
func (ns *NS) freeArray(a *SemArray) {
	for _, w := range a.pending {
		w.done, w.err = true, unix.EIDRM
		close(w.woken)
	}
	a.pending = nil
	for k, u := range ns.sem.undos {
		if k.sma == a {
			u.uncharge()
			delete(ns.sem.undos, k)
		}
	}
	ns.sem.t.remove(a)
	ns.sem.used -= len(a.sems)
	a.uncharge()
}

func (u *undoRec) uncharge() {
	if u.charger != nil && u.charged != 0 {
		u.charger.Uncharge(u.charged)
		u.charged = 0
	}
}

// perform is perform_atomic_semop: all of sops or none. blocked reports a
// wait (with the operation it waits on); err is EAGAIN (IPC_NOWAIT) or
// ERANGE.
func (ns *NS) perform(a *SemArray, sops []sembuf, pid int) (blocked bool, num int, zero bool, err error) {
	vals := map[int]int{}
	adjs := map[int]int{}
	u := ns.sem.undos[undoKey{pid, a}]
	for _, s := range sops {
		n := int(s.num)
		cur, ok := vals[n]
		if !ok {
			cur = a.sems[n].val
		}
		if s.op == 0 && cur != 0 || cur+int(s.op) < 0 {
			if s.flag&ipcNowait != 0 {
				return false, 0, false, unix.EAGAIN
			}
			return true, n, s.op == 0, nil
		}
		res := cur + int(s.op)
		if res > semVMX {
			return false, 0, false, unix.ERANGE
		}
		if s.flag&semUndo != 0 && u != nil {
			adj, ok := adjs[n]
			if !ok {
				adj = u.adj[n]
			}
			adj -= int(s.op)
			if adj < -semAEM-1 || adj > semAEM {
				return false, 0, false, unix.ERANGE
			}
			adjs[n] = adj
		}
		vals[n] = res
	}
	for n, v := range vals {
		a.sems[n].val = v
	}
	for _, s := range sops {
		a.sems[s.num].pid = pid
	}
	for n, adj := range adjs {
		u.adj[n] = adj
	}
	return false, 0, false, nil
}

// updateQueue retries the waiters after a change, in order, from the
// start again after each one that completes.
func (ns *NS) updateQueue(a *SemArray) {
	for again := true; again; {
		again = false
		for i, w := range a.pending {
			blocked, num, zero, err := ns.perform(a, w.sops, w.pid)
			if blocked {
				w.blockNum, w.blockZero = num, zero
				continue
			}
			if err == nil {
				a.otime = now()
			}
			w.done, w.err = true, err
			close(w.woken)
			a.pending = append(a.pending[:i:i], a.pending[i+1:]...)
			again = true
			break
		}
	}
}

// Semtimedop is semop(2) and semtimedop(2) (ts 0: no timeout).
func (ns *NS) Semtimedop(p *kernel.Process, id int32, sopsAddr uint64, nsops uint32, ts uint64) error {
	if nsops < 1 || id < 0 {
		return unix.EINVAL
	}
	if nsops > semOPM {
		return unix.E2BIG
	}
	raw := make([]byte, int(nsops)*sembufSize)
	if _, err := p.MM.CopyIn(sopsAddr, raw); err != nil {
		return unix.EFAULT
	}
	var deadline time.Time
	if ts != 0 {
		var b [16]byte
		if _, err := p.MM.CopyIn(ts, b[:]); err != nil {
			return unix.EFAULT
		}
		sec, nsec := int64(abi.Le64(b[0:])), int64(abi.Le64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return unix.EINVAL
		}
		d := time.Duration(sec)*time.Second + time.Duration(nsec)
		if d < 0 || sec > 1<<33 { // beyond any wait
			d = 1 << 62
		}
		deadline = time.Now().Add(d)
	}
	sops := make([]sembuf, nsops)
	maxNum, undo, alter := 0, false, false
	for i := range sops {
		r := raw[i*sembufSize:]
		s := sembuf{num: binary.LittleEndian.Uint16(r), op: int16(binary.LittleEndian.Uint16(r[2:])), flag: int16(binary.LittleEndian.Uint16(r[4:]))}
		sops[i] = s
		maxNum = max(maxNum, int(s.num))
		undo = undo || s.flag&semUndo != 0
		alter = alter || s.op != 0
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	a, err := ns.sem.t.check(id)
	if err != nil {
		return err
	}
	if maxNum >= len(a.sems) {
		return unix.EFBIG
	}
	acc := uint32(0o444)
	if alter {
		acc = 0o222
	}
	if !CredOf(p).allowed(&a.Perm, acc) {
		return unix.EACCES
	}
	if undo {
		k := undoKey{p.Pid, a}
		if ns.sem.undos[k] == nil {
			u := &undoRec{adj: make([]int, len(a.sems))}
			if ch := chargerOf(p); ch != nil {
				if ch.Charge(uint64(len(a.sems))*semCost) != nil {
					return unix.ENOMEM
				}
				u.charger, u.charged = ch, uint64(len(a.sems))*semCost
			}
			ns.sem.undos[k] = u
		}
	}
	blocked, num, zero, err := ns.perform(a, sops, p.Pid)
	if !blocked {
		if err == nil {
			a.otime = now()
			if alter {
				ns.updateQueue(a)
			}
		}
		return err
	}
	w := &semWaiter{pid: p.Pid, sops: sops, woken: make(chan struct{}), blockNum: num, blockZero: zero}
	a.pending = append(a.pending, w)
	ns.mu.Unlock()
	werr := p.WaitWoken(w.woken, deadline)
	ns.mu.Lock()
	if w.done {
		return w.err
	}
	for i, x := range a.pending {
		if x == w {
			a.pending = append(a.pending[:i:i], a.pending[i+1:]...)
			break
		}
	}
	if werr == unix.ETIMEDOUT {
		return unix.EAGAIN
	}
	return unix.EINTR
}

// semExit applies pid's SEM_UNDO adjustments (exit_sem).
func (ns *NS) semExit(pid int) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for k, u := range ns.sem.undos {
		if k.pid != pid {
			continue
		}
		a := k.sma
		for i, adj := range u.adj {
			if adj == 0 {
				continue
			}
			v := min(max(a.sems[i].val+adj, 0), semVMX)
			a.sems[i].val, a.sems[i].pid = v, pid
		}
		u.uncharge()
		delete(ns.sem.undos, k)
		ns.updateQueue(a)
	}
}

func init() {
	kernel.ExitHook = func(k *kernel.Kernel, pid int) {
		if k == nil {
			return
		}
		nsMu.Lock()
		ns, _ := k.IPC.(*NS)
		nsMu.Unlock()
		if ns != nil {
			ns.semExit(pid)
		}
	}
}

// count is count_semcnt: the waiters blocked on semaphore n, for zero or
// for an increase.
func (a *SemArray) count(n int, zero bool) int {
	c := 0
	for _, w := range a.pending {
		if !w.done && w.blockNum == n && w.blockZero == zero {
			c++
		}
	}
	return c
}

// clearUndo zeroes every process's adjustment of a's semaphore n (every
// one when n < 0).
func (ns *NS) clearUndo(a *SemArray, n int) {
	for k, u := range ns.sem.undos {
		if k.sma != a {
			continue
		}
		for i := range u.adj {
			if n < 0 || i == n {
				u.adj[i] = 0
			}
		}
	}
}

// Semctl is semctl(2); arg is the union semun (a value or a pointer).
func (ns *NS) Semctl(p *kernel.Process, id, num, cmd int32, arg uint64) (uint64, error) {
	if id < 0 {
		return 0, unix.EINVAL
	}
	var setBuf, all []byte
	switch cmd {
	case ipcSet:
		setBuf = make([]byte, semidDsSize)
		if _, err := p.MM.CopyIn(arg, setBuf); err != nil {
			return 0, unix.EFAULT
		}
	case setAll:
		// The values are read before NS.mu, for as many semaphores as
		// the set has now; semctl checks the count again under it.
		ns.mu.Lock()
		a, err := ns.sem.t.check(id)
		n := 0
		if err == nil {
			n = len(a.sems)
		}
		ns.mu.Unlock()
		if err != nil {
			return 0, err
		}
		all = make([]byte, 2*n)
		if _, err := p.MM.CopyIn(arg, all); err != nil {
			return 0, unix.EFAULT
		}
	}
	ret, out, err := ns.semctl(p, id, num, cmd, arg, setBuf, all)
	return copyResult(p, arg, ret, out, err)
}

func (ns *NS) semctl(p *kernel.Process, id, num, cmd int32, arg uint64, setBuf, all []byte) (uint64, []byte, error) {
	if id < 0 {
		return 0, nil, unix.EINVAL
	}
	if cmd == setVal {
		if v := int32(arg); v > semVMX || v < 0 {
			return 0, nil, unix.ERANGE
		}
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	c := CredOf(p)
	switch cmd {
	case ipcInfo, semInfo:
		b := make([]byte, seminfoSize)
		usz, aem := uint32(semUSZ), uint32(semAEM)
		if cmd == semInfo {
			usz, aem = uint32(len(ns.sem.t.byIdx)), uint32(ns.sem.used)
		}
		for i, v := range []uint32{semMNS, semMNI, semMNS, semMNS, semMSL, semOPM, semOPM, usz, semVMX, aem} {
			abi.Put32(b[4*i:], v)
		}
		return uint64(max(0, ns.sem.t.maxIdx())), b, nil
	case ipcStat, semStat, semAny:
		a, ret, err := ns.sem.t.stat(c, id, cmd == ipcStat, cmd == semAny)
		if err != nil {
			return 0, nil, err
		}
		b := make([]byte, semidDsSize)
		putPerm(b, &a.Perm)
		abi.Put64(b[48:], uint64(a.otime))
		abi.Put64(b[64:], uint64(a.ctime))
		abi.Put64(b[80:], uint64(len(a.sems)))
		return ret, b, nil
	case getAll, setAll, getVal, getPID, getNCnt, getZCnt, setVal:
		a, err := ns.sem.t.check(id)
		if err != nil {
			return 0, nil, err
		}
		if cmd == setVal && (num < 0 || int(num) >= len(a.sems)) {
			return 0, nil, unix.EINVAL
		}
		acc := uint32(0o444)
		if cmd == setAll || cmd == setVal {
			acc = 0o222
		}
		if !c.allowed(&a.Perm, acc) {
			return 0, nil, unix.EACCES
		}
		switch cmd {
		case getAll:
			b := make([]byte, 2*len(a.sems))
			for i, s := range a.sems {
				binary.LittleEndian.PutUint16(b[2*i:], uint16(s.val))
			}
			return 0, b, nil
		case setAll:
			b := all
			if len(b) != 2*len(a.sems) {
				return 0, nil, unix.EIDRM // another set since the copy
			}
			for i := range a.sems {
				if binary.LittleEndian.Uint16(b[2*i:]) > semVMX {
					return 0, nil, unix.ERANGE
				}
			}
			for i := range a.sems {
				a.sems[i] = semaphore{val: int(binary.LittleEndian.Uint16(b[2*i:])), pid: p.Pid}
			}
			ns.clearUndo(a, -1)
			a.ctime = now()
			ns.updateQueue(a)
			return 0, nil, nil
		case setVal:
			ns.clearUndo(a, int(num))
			a.sems[num] = semaphore{val: int(int32(arg)), pid: p.Pid}
			a.ctime = now()
			ns.updateQueue(a)
			return 0, nil, nil
		}
		if num < 0 || int(num) >= len(a.sems) {
			return 0, nil, unix.EINVAL
		}
		switch cmd {
		case getVal:
			return uint64(a.sems[num].val), nil, nil
		case getPID:
			return uint64(a.sems[num].pid), nil, nil
		case getNCnt:
			return uint64(a.count(int(num), false)), nil, nil
		default:
			return uint64(a.count(int(num), true)), nil, nil
		}
	case ipcSet, ipcRMID:
		a, err := ns.sem.t.check(id)
		if err != nil {
			return 0, nil, err
		}
		if !c.owns(&a.Perm) {
			return 0, nil, unix.EPERM
		}
		if cmd == ipcRMID {
			ns.freeArray(a)
			return 0, nil, nil
		}
		uid, gid := abi.Le32(setBuf[4:]), abi.Le32(setBuf[8:])
		if uid == 0xffffffff || gid == 0xffffffff {
			return 0, nil, unix.EINVAL
		}
		a.UID, a.GID = uid, gid
		a.Mode = a.Mode&^permBits | uint32(binary.LittleEndian.Uint16(setBuf[20:]))&permBits
		a.ctime = now()
		return 0, nil, nil
	}
	return 0, nil, unix.EINVAL
}

// ProcSem is /proc/sysvipc/sem, in Linux's format.
func (ns *NS) ProcSem() []byte {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var b strings.Builder
	b.WriteString("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n")
	for i := 0; i <= ns.sem.t.maxIdx(); i++ {
		a, ok := ns.sem.t.byIdx[i]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n",
			a.Key, a.ID, a.Mode, len(a.sems), a.UID, a.GID, a.CUID, a.CGID, a.otime, a.ctime)
	}
	return []byte(b.String())
}
