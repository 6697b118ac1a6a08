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

func init() {
	table[unix.SYS_SCHED_GETSCHEDULER] = sysSchedGetscheduler
	table[unix.SYS_SCHED_SETSCHEDULER] = sysSchedSetscheduler
	table[unix.SYS_SCHED_GETPARAM] = sysSchedGetparam
	table[unix.SYS_SCHED_SETPARAM] = sysSchedSetparam
}
