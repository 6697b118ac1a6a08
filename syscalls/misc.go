// misc.go: process and system information, time, exit, and the
// attributes a process carries besides memory, files and signals (name,
// personality, nice value, I/O priority).
//
// Invariants: a thread's name and personality are touched only by the
// thread itself; nice values and I/O priorities, which other processes
// read and set (getpriority, ioprio_set on a pid or group), only under
// Kernel.mu. Neither changes how the host schedules the vCPU's thread.
package syscalls

import (
	"encoding/binary"
	"path"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

func sysExit(p *Process, r *Regs, a *args) (uint64, error) {
	p.Exited, p.ExitStatus = true, int(a[0]&0xff)
	return 0, errNoReturn
}

func sysUname(p *Process, _ *Regs, a *args) (uint64, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, err
	}
	p.utsName(&u) // uts.go: the guest's own names
	if p.attrs.persona&perMask == perLinux32 {
		u.Machine = [65]byte{'i', '6', '8', '6'} // Linux's override_architecture
	}
	_, err := p.MM.CopyOut(a[0], unsafe.Slice((*byte)(unsafe.Pointer(&u)), unsafe.Sizeof(u)))
	return 0, err
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func sysGetrandom(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[2]&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|unix.GRND_INSECURE) != 0 ||
		a[2]&(unix.GRND_RANDOM|unix.GRND_INSECURE) == unix.GRND_RANDOM|unix.GRND_INSECURE {
		return 0, unix.EINVAL
	}
	n := min(a[1], 1<<25)
	buf := make([]byte, n)
	got, err := unix.Getrandom(buf, int(a[2]))
	if err != nil {
		return 0, err
	}
	c, err := p.MM.CopyOut(a[0], buf[:got])
	if err != nil && c == 0 {
		return 0, err
	}
	return uint64(c), nil
}

func sysClockGettime(p *Process, _ *Regs, a *args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(a[0]), &ts); err != nil {
		return 0, err
	}
	b := make([]byte, 16)
	put64(b, uint64(ts.Sec))
	put64(b[8:], uint64(ts.Nsec))
	_, err := p.MM.CopyOut(a[1], b)
	return 0, err
}

func sysClockGetres(p *Process, _ *Regs, a *args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGetres(int32(a[0]), &ts); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	b := make([]byte, 16)
	put64(b, uint64(ts.Sec))
	put64(b[8:], uint64(ts.Nsec))
	_, err := p.MM.CopyOut(a[1], b)
	return 0, err
}

func sysGettimeofday(p *Process, _ *Regs, a *args) (uint64, error) {
	var tv unix.Timeval
	if err := unix.Gettimeofday(&tv); err != nil {
		return 0, err
	}
	if a[0] != 0 {
		b := make([]byte, 16)
		put64(b, uint64(tv.Sec))
		put64(b[8:], uint64(tv.Usec))
		if _, err := p.MM.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		if _, err := p.MM.CopyOut(a[1], make([]byte, 8)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysTime(p *Process, _ *Regs, a *args) (uint64, error) {
	var tv unix.Timeval
	if err := unix.Gettimeofday(&tv); err != nil {
		return 0, err
	}
	if a[0] != 0 {
		b := make([]byte, 8)
		put64(b, uint64(tv.Sec))
		if _, err := p.MM.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	return uint64(tv.Sec), nil
}

func sysGetpid(p *Process, _ *Regs, _ *args) (uint64, error) { return uint64(p.Pid), nil }

func sysGetppid(*Process, *Regs, *args) (uint64, error) { return uint64(unix.Getppid()), nil }

// rlimitMu guards every process's rlimits map: a process's threads share
// theirs (thread.go) and run syscalls in parallel; a forked child gets a
// copy (task.go).
var rlimitMu sync.Mutex

// childRlimits is the rlimits map for a new task of p: the same map for a
// thread (made now if p has none yet, so the threads share it), a copy
// for a forked child.
func (p *Process) childRlimits(thread bool) map[int]unix.Rlimit {
	rlimitMu.Lock()
	defer rlimitMu.Unlock()
	if p.rlimits == nil {
		p.rlimits = map[int]unix.Rlimit{}
	}
	if thread {
		return p.rlimits
	}
	c := make(map[int]unix.Rlimit, len(p.rlimits))
	for k, v := range p.rlimits {
		c[k] = v
	}
	return c
}

// Resource limits start as the VMM's own; the guest may lower them.
func (p *Process) rlimit(res int) (unix.Rlimit, error) {
	rlimitMu.Lock()
	defer rlimitMu.Unlock()
	if p.rlimits == nil {
		p.rlimits = map[int]unix.Rlimit{}
	}
	if l, ok := p.rlimits[res]; ok {
		return l, nil
	}
	var l unix.Rlimit
	if err := unix.Getrlimit(res, &l); err != nil {
		return l, err
	}
	p.rlimits[res] = l
	return l, nil
}

const rlimNLimits = 16

func sysPrlimit(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[0] != 0 && a[0] != uint64(p.Pid) {
		return 0, unix.ESRCH
	}
	res := int(a[1])
	if res < 0 || res >= rlimNLimits {
		return 0, unix.EINVAL
	}
	old, err := p.rlimit(res)
	if err != nil {
		return 0, err
	}
	if a[2] != 0 {
		b := make([]byte, 16)
		if _, err := p.MM.CopyIn(a[2], b); err != nil {
			return 0, err
		}
		n := unix.Rlimit{Cur: le64(b), Max: le64(b[8:])}
		if n.Cur > n.Max {
			return 0, unix.EINVAL
		}
		if n.Max > old.Max && unix.Geteuid() != 0 {
			return 0, unix.EPERM
		}
		defer func() {
			rlimitMu.Lock()
			p.rlimits[res] = n
			rlimitMu.Unlock()
		}()
	}
	if a[3] != 0 {
		b := make([]byte, 16)
		put64(b, old.Cur)
		put64(b[8:], old.Max)
		if _, err := p.MM.CopyOut(a[3], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysGetrlimit(p *Process, r *Regs, a *args) (uint64, error) {
	return sysPrlimit(p, r, &args{0, a[0], 0, a[1]})
}

const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

func sysArchPrctl(p *Process, _ *Regs, a *args) (uint64, error) {
	switch a[0] {
	case archSetFS, archSetGS:
		if a[1] >= 0x7ffffffff000 {
			return 0, unix.EPERM
		}
		if a[0] == archSetFS {
			return 0, p.Arch.SetFSBase(a[1])
		}
		return 0, p.Arch.SetGSBase(a[1])
	case archGetFS, archGetGS:
		v := p.Arch.FSBase()
		if a[0] == archGetGS {
			v = p.Arch.GSBase()
		}
		b := make([]byte, 8)
		put64(b, v)
		_, err := p.MM.CopyOut(a[1], b)
		return 0, err
	}
	return 0, unix.EINVAL
}

func sysSetTidAddress(p *Process, _ *Regs, a *args) (uint64, error) {
	p.tidAddr = a[0]
	return uint64(p.Pid), nil
}

func sysSetRobustList(p *Process, _ *Regs, a *args) (uint64, error) {
	if a[1] != 24 {
		return 0, unix.EINVAL
	}
	p.robustList = a[0]
	return 0, nil
}

// rseq registration. One vCPU and no preemption inside user code yet, so
// the only state to keep is the CPU number the area reports (always 0).

func sysRseq(p *Process, _ *Regs, a *args) (uint64, error) {
	addr, length, flags, sig := a[0], uint32(a[1]), int(a[2]), uint32(a[3])
	const unregister = 1
	if flags&unregister != 0 {
		if flags&^unregister != 0 {
			return 0, unix.EINVAL
		}
		if p.rseq == 0 || p.rseq != addr {
			return 0, unix.EINVAL
		}
		if length != p.rseqLen || sig != p.rseqSig {
			return 0, unix.EPERM
		}
		p.rseq = 0
		return 0, nil
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	if p.rseq != 0 {
		if addr != p.rseq || length != p.rseqLen {
			return 0, unix.EINVAL
		}
		if sig != p.rseqSig {
			return 0, unix.EPERM
		}
		return 0, unix.EBUSY
	}
	if addr%32 != 0 || length < 32 {
		return 0, unix.EINVAL
	}
	// cpu_id_start (u32 at 0) and cpu_id (u32 at 4) = 0; rseq_cs stays.
	if _, err := p.MM.CopyOut(addr, make([]byte, 8)); err != nil {
		return 0, err
	}
	p.rseq, p.rseqLen, p.rseqSig = addr, length, sig
	return 0, nil
}

// prctl options kshim implements; the others are EINVAL (logged once), as
// Linux answers an option it does not know.
const (
	prSetName = 15
	prGetName = 16
	commLen   = 16 // TASK_COMM_LEN, with the NUL
)

// commName is the thread's name (comm): what PR_SET_NAME set, else the
// program's base name, cut to 15 bytes as Linux keeps it.
func (p *Process) commName() string {
	c := string(p.comm)
	if p.comm == nil {
		c = path.Base(p.Exe)
	}
	if len(c) > commLen-1 {
		c = c[:commLen-1]
	}
	return c
}

func sysPrctl(p *Process, _ *Regs, a *args) (uint64, error) {
	switch a[0] {
	case prSetName:
		// strncpy_from_user of at most 15 bytes: a longer name is cut.
		name, err := p.MM.ReadString(a[1], commLen-1)
		if err == unix.ENAMETOOLONG {
			b := make([]byte, commLen-1)
			if _, err = p.MM.CopyIn(a[1], b); err == nil {
				name = string(b)
			}
		}
		if err != nil {
			return 0, err
		}
		p.comm = append([]byte{}, name...) // non-nil even when empty
		return 0, nil
	case prGetName:
		b := make([]byte, commLen)
		copy(b, p.commName())
		_, err := p.MM.CopyOut(a[1], b)
		return 0, err
	}
	if key := 2<<32 | a[0]; !p.warned[key] {
		p.warned[key] = true
		p.Log.WithField("option", a[0]).Debug("unimplemented prctl option: EINVAL")
	}
	return 0, unix.EINVAL
}

// sysinfo: the host's figures, except memory, which is the guest's own
// (--mem, as /proc/meminfo shows it), and the number of guest processes.
func sysSysinfo(p *Process, _ *Regs, a *args) (uint64, error) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0, err
	}
	if p.PhysMem != nil {
		total, used := p.PhysMem.Size(), p.PhysMem.Used()
		si.Totalram, si.Freeram = total, total-min(used, total)
		si.Sharedram, si.Bufferram, si.Totalswap, si.Freeswap = 0, 0, 0, 0
		si.Totalhigh, si.Freehigh, si.Unit = 0, 0, 1
	}
	if k := p.proc.k; k != nil {
		k.mu.Lock()
		si.Procs = uint16(min(len(k.threads), 0xffff))
		k.mu.Unlock()
	}
	_, err := p.MM.CopyOut(a[0], unsafe.Slice((*byte)(unsafe.Pointer(&si)), unsafe.Sizeof(si)))
	return 0, err
}

// procAttrs are what fork and clone copy besides memory, files and
// signals: the personality (per thread on Linux, kept across exec for a
// 64-bit program but for READ_IMPLIES_EXEC) and the nice value and I/O
// priority (kshim's own bookkeeping: they do not change how the host
// schedules the vCPU's thread). Kernel.mu guards nice and ioprio, which
// other processes read and set.
type procAttrs struct {
	persona  uint32
	nice     int    // -20..19
	niceSet  bool   // false: still the VMM's own nice value
	ioprio   uint32 // IOPRIO_PRIO_VALUE(class, data)
	ioprioOK bool   // false: still the VMM's own I/O priority
}

const (
	perMask          = 0xff
	perLinux32       = 0x0008
	readImpliesExec  = 0x0400000
	personalityQuery = 0xffffffff
)

func sysPersonality(p *Process, _ *Regs, a *args) (uint64, error) {
	old := p.attrs.persona
	if uint32(a[0]) != personalityQuery {
		p.attrs.persona = uint32(a[0])
	}
	return uint64(old), nil
}

// getgroups: the VMM's supplementary groups are the guest's.
func sysGetgroups(p *Process, _ *Regs, a *args) (uint64, error) {
	size := int(int32(a[0]))
	if size < 0 {
		return 0, unix.EINVAL
	}
	gids, err := unix.Getgroups()
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return uint64(len(gids)), nil
	}
	if size < len(gids) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(gids))
	for i, g := range gids {
		put32(b[4*i:], uint32(g))
	}
	if _, err := p.MM.CopyOut(a[1], b); err != nil {
		return 0, err
	}
	return uint64(len(gids)), nil
}

// niceOf is q's nice value; Kernel.mu held when there is a Kernel.
func (q *Process) niceOf() int {
	if !q.attrs.niceSet {
		// The raw syscall answers 20 - nice.
		if v, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err == nil {
			q.attrs.nice = 20 - v
		}
		q.attrs.niceSet = true
	}
	return q.attrs.nice
}

// ioprioOf is q's I/O priority; Kernel.mu held when there is a Kernel.
func (q *Process) ioprioOf() uint32 {
	if !q.attrs.ioprioOK {
		const whoProcess = 1
		if v, _, e := unix.Syscall(unix.SYS_IOPRIO_GET, whoProcess, 0, 0); e == 0 {
			q.attrs.ioprio = uint32(v)
		}
		q.attrs.ioprioOK = true
	}
	return q.attrs.ioprio
}

// prioTargets returns the processes getpriority/setpriority's (which, who)
// names, as Linux does for PRIO_PROCESS, PRIO_PGRP and PRIO_USER (every
// guest process has the VMM's uid). Kernel.mu held when there is one.
func (p *Process) prioTargets(which, who int) ([]*Process, error) {
	k := p.proc.k
	var all []*Process
	if k == nil {
		all = []*Process{p}
	} else {
		for _, q := range k.threads {
			all = append(all, q)
		}
	}
	var out []*Process
	switch which {
	case unix.PRIO_PROCESS:
		if who == 0 {
			return []*Process{p}, nil
		}
		for _, q := range all {
			if q.Tid == who {
				out = append(out, q)
			}
		}
	case unix.PRIO_PGRP:
		if who == 0 {
			who = pgidOf(p)
		}
		for _, q := range all {
			if pgidOf(q) == who || k == nil && who == p.Pid {
				out = append(out, q)
			}
		}
	case unix.PRIO_USER:
		if who == 0 || who == unix.Getuid() {
			out = all
		}
	default:
		return nil, unix.EINVAL
	}
	if len(out) == 0 {
		return nil, unix.ESRCH
	}
	return out, nil
}

// pgidOf is q's process group: its thread group leader's.
func pgidOf(q *Process) int {
	if g := q.proc.group; g != nil {
		return g.leader.proc.pgid
	}
	return q.proc.pgid
}

// lockTable takes Kernel.mu (if there is a Kernel) and returns its unlock.
func (p *Process) lockTable() func() {
	if k := p.proc.k; k != nil {
		k.mu.Lock()
		return k.mu.Unlock
	}
	return func() {}
}

// getpriority(which, who) answers 20 - the lowest nice value among the
// targets (the raw syscall's 1..40; libc converts).
func sysGetpriority(p *Process, _ *Regs, a *args) (uint64, error) {
	defer p.lockTable()()
	ts, err := p.prioTargets(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	best := 19
	for _, q := range ts {
		best = min(best, q.niceOf())
	}
	return uint64(20 - best), nil
}

// setpriority(which, who, nice): a lower nice value than a target has
// needs CAP_SYS_NICE or RLIMIT_NICE's allowance (EACCES).
func sysSetpriority(p *Process, _ *Regs, a *args) (uint64, error) {
	nice := max(-20, min(19, int(int32(a[2]))))
	lim, _ := p.rlimit(unix.RLIMIT_NICE)
	defer p.lockTable()()
	ts, err := p.prioTargets(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	for _, q := range ts {
		if nice < q.niceOf() && uint64(20-nice) > lim.Cur && !hostCapable(capSysNice) {
			return 0, unix.EACCES
		}
	}
	for _, q := range ts {
		q.attrs.nice, q.attrs.niceSet = nice, true
	}
	return 0, nil
}

// I/O priorities (ioprio_get/ioprio_set): IOPRIO_WHO_* are
// PRIO_PROCESS/PGRP/USER's numbers plus one.
const (
	ioprioClassShift = 13
	ioprioClassRT    = 1
	ioprioClassBE    = 2
	ioprioClassIdle  = 3
	ioprioNrLevels   = 8
)

func sysIoprioGet(p *Process, _ *Regs, a *args) (uint64, error) {
	defer p.lockTable()()
	ts, err := p.prioTargets(int(int32(a[0]))-1, int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	// Linux's ioprio_best: a class set beats none, then lower classes
	// (RT < BE < IDLE), then lower levels.
	best := uint32(0)
	for _, q := range ts {
		if v := q.ioprioOf(); best == 0 || v != 0 && v < best {
			best = v
		}
	}
	return uint64(best), nil
}

func sysIoprioSet(p *Process, _ *Regs, a *args) (uint64, error) {
	// Linux's ioprio_check_cap. The level is the data's low three bits
	// (the rest are hints), so no level is out of range any more; only
	// the class "none" insists on level 0.
	v := uint32(a[2])
	class, level := v>>ioprioClassShift, v&(ioprioNrLevels-1)
	switch class {
	case 0:
		if level != 0 {
			return 0, unix.EINVAL
		}
	case ioprioClassRT:
		if !hostCapable(capSysAdmin) && !hostCapable(capSysNice) {
			return 0, unix.EPERM
		}
	case ioprioClassBE, ioprioClassIdle:
	default:
		return 0, unix.EINVAL
	}
	defer p.lockTable()()
	ts, err := p.prioTargets(int(int32(a[0]))-1, int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	for _, q := range ts {
		q.attrs.ioprio, q.attrs.ioprioOK = v, true
	}
	return 0, nil
}

// Capabilities the VMM's own privileges stand for.
const (
	capSysAdmin = 21
	capSysNice  = 23
)

// hostCapable reports whether the VMM holds capability c (effective).
func hostCapable(c uint) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
