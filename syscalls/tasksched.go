// tasksched.go: sched_getscheduler, sched_setscheduler, sched_getparam and
// sched_setparam: each guest task's own policy and priority, kept and
// checked by package kernel (sched.go, with its invariants); the host
// thread's policy does not change. (The file name sorts after table.go,
// whose init makes the table this init adds to.)
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

// sched_getscheduler(pid).
func sysSchedGetscheduler(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	defer p.LockTable()()
	t, err := p.SchedTask(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return uint64(t.GetScheduler()), nil
}

// sched_getparam(pid, param).
func sysSchedGetparam(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid := int(int32(a[0]))
	if a[1] == 0 || pid < 0 {
		return 0, unix.EINVAL
	}
	unlock := p.LockTable()
	t, err := p.SchedTask(pid)
	var prio int
	if err == nil {
		prio = t.GetPriority()
	}
	unlock()
	if err != nil {
		return 0, err
	}
	var b [4]byte
	abi.Put32(b[:], uint32(prio))
	_, err = p.MM.CopyOut(a[1], b[:])
	return 0, err
}

// setScheduler is Linux's do_sched_setscheduler: the pointer and pid
// first, the copy, the task, then the policy's rules.
func setScheduler(p *kernel.Process, pid, policy int, param uint64) (uint64, error) {
	if param == 0 || pid < 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if _, err := p.MM.CopyIn(param, b[:]); err != nil {
		return 0, err
	}
	defer p.LockTable()()
	t, err := p.SchedTask(pid)
	if err != nil {
		return 0, err
	}
	return 0, p.SetScheduler(t, policy, abi.Le32(b[:]))
}

// sched_setscheduler(pid, policy, param).
func sysSchedSetscheduler(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	policy := int(int32(a[1]))
	if policy < 0 {
		return 0, unix.EINVAL
	}
	return setScheduler(p, int(int32(a[0])), policy, a[2])
}

// sched_setparam(pid, param): the task's policy stays.
func sysSchedSetparam(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return setScheduler(p, int(int32(a[0])), -1, a[1])
}

// sched_getattr(pid, attr, size, flags): as much of struct sched_attr as
// the caller's size takes (at most kshim's 56 bytes), with size set to it.
func sysSchedGetattr(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid, usize := int(int32(a[0])), uint32(a[2])
	if a[1] == 0 || pid < 0 || usize > 4096 || usize < kernel.SchedAttrSize0 || a[3] != 0 {
		return 0, unix.EINVAL
	}
	unlock := p.LockTable()
	t, err := p.SchedTask(pid)
	var at kernel.SchedAttr
	if err == nil {
		at = t.GetAttr()
	}
	unlock()
	if err != nil {
		return 0, err
	}
	n := min(usize, kernel.SchedAttrSize1)
	b := make([]byte, kernel.SchedAttrSize1)
	abi.Put32(b[0:], n)
	abi.Put32(b[4:], uint32(at.Policy))
	abi.Put64(b[8:], at.Flags)
	abi.Put32(b[16:], uint32(at.Nice))
	abi.Put32(b[20:], at.Priority)
	abi.Put64(b[24:], at.Runtime)
	abi.Put64(b[32:], at.Deadline)
	abi.Put64(b[40:], at.Period)
	abi.Put32(b[48:], at.UtilMin)
	abi.Put32(b[52:], at.UtilMax)
	_, err = p.MM.CopyOut(a[1], b[:n])
	return 0, err
}

// sched_setattr(pid, attr, flags): Linux's sched_copy_attr (size 0 is
// the first version's; a size out of range, or bytes past kshim's struct
// that are not zero, is E2BIG with the size kshim knows written back),
// then the rules SetScheduler applies.
func sysSchedSetattr(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	pid := int(int32(a[0]))
	if a[1] == 0 || pid < 0 || a[2] != 0 {
		return 0, unix.EINVAL
	}
	var sb [4]byte
	if _, err := p.MM.CopyIn(a[1], sb[:]); err != nil {
		return 0, err
	}
	size := abi.Le32(sb[:])
	if size == 0 {
		size = kernel.SchedAttrSize0
	}
	e2big := func() (uint64, error) {
		abi.Put32(sb[:], kernel.SchedAttrSize1)
		_, _ = p.MM.CopyOut(a[1], sb[:])
		return 0, unix.E2BIG
	}
	if size < kernel.SchedAttrSize0 || size > 4096 {
		return e2big()
	}
	b := make([]byte, size)
	if _, err := p.MM.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	if size > kernel.SchedAttrSize1 {
		for _, c := range b[kernel.SchedAttrSize1:] {
			if c != 0 {
				return e2big()
			}
		}
	}
	b = append(b, make([]byte, kernel.SchedAttrSize1)...) // a short struct reads as zeros
	at := kernel.SchedAttr{Policy: int(int32(abi.Le32(b[4:]))), Flags: abi.Le64(b[8:]),
		Nice: int32(abi.Le32(b[16:])), Priority: abi.Le32(b[20:]),
		Runtime: abi.Le64(b[24:]), Deadline: abi.Le64(b[32:]), Period: abi.Le64(b[40:]),
		UtilMin: abi.Le32(b[48:]), UtilMax: abi.Le32(b[52:])}
	if at.Flags&0x60 != 0 && size < kernel.SchedAttrSize1 {
		return 0, unix.EINVAL // utilization clamps need the second version's fields
	}
	at.Nice = max(-20, min(19, at.Nice))
	if at.Policy < 0 {
		return 0, unix.EINVAL
	}
	defer p.LockTable()()
	t, err := p.SchedTask(pid)
	if err != nil {
		return 0, err
	}
	return 0, p.SetAttr(t, at)
}

func init() {
	table[unix.SYS_SCHED_GETATTR] = sysSchedGetattr
	table[unix.SYS_SCHED_SETATTR] = sysSchedSetattr
	table[unix.SYS_SCHED_GETSCHEDULER] = sysSchedGetscheduler
	table[unix.SYS_SCHED_SETSCHEDULER] = sysSchedSetscheduler
	table[unix.SYS_SCHED_GETPARAM] = sysSchedGetparam
	table[unix.SYS_SCHED_SETPARAM] = sysSchedSetparam
}
