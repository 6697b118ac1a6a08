// misc.go: process and system information, time, exit, and the
// attributes a process carries besides memory, files and signals (name,
// personality, nice value, I/O priority).
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose misc.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysExit(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	p.Exited, p.ExitStatus = true, int(a[0]&0xff)
	return 0, fs.ErrNoReturn
}

func sysUname(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, err
	}
	p.UtsName(&u) // uts.go: the guest's own names
	if p.Attrs.Persona&kernel.PerMask == kernel.PerLinux32 {
		u.Machine = [65]byte{'i', '6', '8', '6'} // Linux's override_architecture
	}
	_, err := p.MM.CopyOut(a[0], unsafe.Slice((*byte)(unsafe.Pointer(&u)), unsafe.Sizeof(u)))
	return 0, err
}

func sysGetrandom(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
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

func sysClockGettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(a[0]), &ts); err != nil {
		return 0, err
	}
	b := make([]byte, 16)
	abi.Put64(b, uint64(ts.Sec))
	abi.Put64(b[8:], uint64(ts.Nsec))
	_, err := p.MM.CopyOut(a[1], b)
	return 0, err
}

func sysClockGetres(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGetres(int32(a[0]), &ts); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	b := make([]byte, 16)
	abi.Put64(b, uint64(ts.Sec))
	abi.Put64(b[8:], uint64(ts.Nsec))
	_, err := p.MM.CopyOut(a[1], b)
	return 0, err
}

func sysGettimeofday(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var tv unix.Timeval
	if err := unix.Gettimeofday(&tv); err != nil {
		return 0, err
	}
	if a[0] != 0 {
		b := make([]byte, 16)
		abi.Put64(b, uint64(tv.Sec))
		abi.Put64(b[8:], uint64(tv.Usec))
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

func sysTime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var tv unix.Timeval
	if err := unix.Gettimeofday(&tv); err != nil {
		return 0, err
	}
	if a[0] != 0 {
		b := make([]byte, 8)
		abi.Put64(b, uint64(tv.Sec))
		if _, err := p.MM.CopyOut(a[0], b); err != nil {
			return 0, err
		}
	}
	return uint64(tv.Sec), nil
}

func sysGetpid(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) { return uint64(p.Pid), nil }

func sysPrlimit(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[0] != 0 && a[0] != uint64(p.Pid) {
		return 0, unix.ESRCH
	}
	res := int(a[1])
	if res < 0 || res >= kernel.RlimNLimits {
		return 0, unix.EINVAL
	}
	old, err := p.Rlimit(res)
	if err != nil {
		return 0, err
	}
	if a[2] != 0 {
		b := make([]byte, 16)
		if _, err := p.MM.CopyIn(a[2], b); err != nil {
			return 0, err
		}
		n := unix.Rlimit{Cur: abi.Le64(b), Max: abi.Le64(b[8:])}
		if n.Cur > n.Max {
			return 0, unix.EINVAL
		}
		if n.Max > old.Max && unix.Geteuid() != 0 {
			return 0, unix.EPERM
		}
		defer func() {
			kernel.RlimitMu.Lock()
			p.Rlimits[res] = n
			kernel.RlimitMu.Unlock()
		}()
	}
	if a[3] != 0 {
		b := make([]byte, 16)
		abi.Put64(b, old.Cur)
		abi.Put64(b[8:], old.Max)
		if _, err := p.MM.CopyOut(a[3], b); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysGetrlimit(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	return sysPrlimit(p, r, &args{0, a[0], 0, a[1]})
}

func sysArchPrctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	switch a[0] {
	case kernel.ArchSetFS, kernel.ArchSetGS:
		if a[1] >= 0x7ffffffff000 {
			return 0, unix.EPERM
		}
		if a[0] == kernel.ArchSetFS {
			return 0, p.Arch.SetFSBase(a[1])
		}
		return 0, p.Arch.SetGSBase(a[1])
	case kernel.ArchGetFS, kernel.ArchGetGS:
		v := p.Arch.FSBase()
		if a[0] == kernel.ArchGetGS {
			v = p.Arch.GSBase()
		}
		b := make([]byte, 8)
		abi.Put64(b, v)
		_, err := p.MM.CopyOut(a[1], b)
		return 0, err
	}
	return 0, unix.EINVAL
}

func sysSetTidAddress(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.TidAddr = a[0]
	return uint64(p.Pid), nil
}

func sysSetRobustList(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[1] != 24 {
		return 0, unix.EINVAL
	}
	p.RobustList = a[0]
	return 0, nil
}

// rseq registration. One vCPU and no preemption inside user code yet, so
// the only state to keep is the CPU number the area reports (always 0).

func sysRseq(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	addr, length, flags, sig := a[0], uint32(a[1]), int(a[2]), uint32(a[3])
	const unregister = 1
	if flags&unregister != 0 {
		if flags&^unregister != 0 {
			return 0, unix.EINVAL
		}
		if p.Rseq == 0 || p.Rseq != addr {
			return 0, unix.EINVAL
		}
		if length != p.RseqLen || sig != p.RseqSig {
			return 0, unix.EPERM
		}
		p.Rseq = 0
		return 0, nil
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	if p.Rseq != 0 {
		if addr != p.Rseq || length != p.RseqLen {
			return 0, unix.EINVAL
		}
		if sig != p.RseqSig {
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
	p.Rseq, p.RseqLen, p.RseqSig = addr, length, sig
	return 0, nil
}

func sysPrctl(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	switch a[0] {
	case kernel.PrSetName:
		// strncpy_from_user of at most 15 bytes: a longer name is cut.
		name, err := p.MM.ReadString(a[1], kernel.CommLen-1)
		if err == unix.ENAMETOOLONG {
			b := make([]byte, kernel.CommLen-1)
			if _, err = p.MM.CopyIn(a[1], b); err == nil {
				name = string(b)
			}
		}
		if err != nil {
			return 0, err
		}
		p.SetIdent(func() { p.Comm = append([]byte{}, name...) }) // non-nil even when empty
		return 0, nil
	case unix.PR_SET_KEEPCAPS, unix.PR_GET_KEEPCAPS:
		return prctlKeepCaps(p, a)
	case unix.PR_SET_DUMPABLE:
		// SUID_DUMP_DISABLE or SUID_DUMP_USER; the address space's, so
		// every thread's, and a new one at exec is dumpable again. It
		// decides whether the guest's other processes may look into
		// this one's /proc/PID (proc/pid.go).
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		p.MM.SetDumpable(a[1] == 1)
		return 0, nil
	case unix.PR_GET_DUMPABLE:
		if p.MM.Dumpable() {
			return 1, nil
		}
		return 0, nil
	case kernel.PrGetName:
		b := make([]byte, kernel.CommLen)
		copy(b, p.CommName())
		_, err := p.MM.CopyOut(a[1], b)
		return 0, err
	}
	if key := 2<<32 | a[0]; !p.Warned[key] {
		p.Warned[key] = true
		p.Log.WithField("option", a[0]).Debug("unimplemented prctl option: EINVAL")
	}
	return 0, unix.EINVAL
}

// sysinfo: the host's figures, except memory, which is the guest's own
// (--mem, as /proc/meminfo shows it), and the number of guest processes.
func sysSysinfo(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
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
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		si.Procs = uint16(min(len(k.Threads), 0xffff))
		k.Mu.Unlock()
	}
	_, err := p.MM.CopyOut(a[0], unsafe.Slice((*byte)(unsafe.Pointer(&si)), unsafe.Sizeof(si)))
	return 0, err
}

func sysPersonality(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	old := p.Attrs.Persona
	if uint32(a[0]) != kernel.PersonalityQuery {
		p.Attrs.Persona = uint32(a[0])
	}
	return uint64(old), nil
}

// getgroups: the VMM's supplementary groups are the guest's.
func sysGetgroups(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
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
		abi.Put32(b[4*i:], uint32(g))
	}
	if _, err := p.MM.CopyOut(a[1], b); err != nil {
		return 0, err
	}
	return uint64(len(gids)), nil
}

// getpriority(which, who) answers 20 - the lowest nice value among the
// targets (the raw syscall's 1..40; libc converts).
func sysGetpriority(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	defer p.LockTable()()
	ts, err := p.PrioTargets(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	best := 19
	for _, q := range ts {
		best = min(best, q.NiceOf())
	}
	return uint64(20 - best), nil
}

// setpriority(which, who, nice): a lower nice value than a target has
// needs CAP_SYS_NICE or RLIMIT_NICE's allowance (EACCES).
func sysSetpriority(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	nice := max(-20, min(19, int(int32(a[2]))))
	lim, _ := p.Rlimit(unix.RLIMIT_NICE)
	defer p.LockTable()()
	ts, err := p.PrioTargets(int(int32(a[0])), int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	for _, q := range ts {
		if nice < q.NiceOf() && uint64(20-nice) > lim.Cur && !kernel.HostCapable(kernel.CapSysNice) {
			return 0, unix.EACCES
		}
	}
	for _, q := range ts {
		q.Attrs.Nice, q.Attrs.NiceSet = nice, true
	}
	return 0, nil
}

func sysIoprioGet(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	defer p.LockTable()()
	ts, err := p.PrioTargets(int(int32(a[0]))-1, int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	// Linux's ioprio_best: a class set beats none, then lower classes
	// (RT < BE < IDLE), then lower levels.
	best := uint32(0)
	for _, q := range ts {
		if v := q.IoprioOf(); best == 0 || v != 0 && v < best {
			best = v
		}
	}
	return uint64(best), nil
}

func sysIoprioSet(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	// Linux's ioprio_check_cap. The level is the data's low three bits
	// (the rest are hints), so no level is out of range any more; only
	// the class "none" insists on level 0.
	v := uint32(a[2])
	class, level := v>>kernel.IoprioClassShift, v&(kernel.IoprioNrLevels-1)
	switch class {
	case 0:
		if level != 0 {
			return 0, unix.EINVAL
		}
	case kernel.IoprioClassRT:
		if !kernel.HostCapable(kernel.CapSysAdmin) && !kernel.HostCapable(kernel.CapSysNice) {
			return 0, unix.EPERM
		}
	case kernel.IoprioClassBE, kernel.IoprioClassIdle:
	default:
		return 0, unix.EINVAL
	}
	defer p.LockTable()()
	ts, err := p.PrioTargets(int(int32(a[0]))-1, int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	for _, q := range ts {
		q.Attrs.Ioprio, q.Attrs.IoprioOK = v, true
	}
	return 0, nil
}
