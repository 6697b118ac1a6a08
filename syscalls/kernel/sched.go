// sched.go: scheduling policies and priorities of the guest's tasks
// (sched_getscheduler, sched_setscheduler, sched_getparam,
// sched_setparam, and the policy sched_rr_get_interval answers for).
//
// Each task keeps its own policy, realtime priority and reset-on-fork
// flag, set and checked with Linux's rules for a task of the guest's
// identity (kshim runs the guest without CAP_SYS_NICE): SCHED_OTHER,
// SCHED_BATCH and SCHED_IDLE are allowed; SCHED_FIFO and SCHED_RR need
// RLIMIT_RTPRIO (else EPERM), as does raising a realtime priority beyond
// it; leaving SCHED_IDLE needs RLIMIT_NICE's allowance for the nice value;
// SCHED_DEADLINE is EPERM once valid; clearing reset-on-fork is EPERM.
// It is bookkeeping: the vCPU's host thread keeps kshim's own policy
// (kshim has no privilege to give it a realtime one, and the guest's
// choice must not change how the host schedules kshim).
//
// Invariants: the state lives in procAttrs (misc.go), guarded by
// Kernel.Mu; a task starts with the policy kshim's own thread had when it
// started; fork and clone copy it, less what reset-on-fork resets
// (Linux's sched_fork).
package kernel

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Policies and flags (include/uapi/linux/sched.h).
const (
	SchedNormal      = 0
	SchedFIFO        = 1
	SchedRR          = 2
	SchedBatch       = 3
	SchedIdle        = 5
	SchedDeadline    = 6
	SchedExt         = 7
	SchedResetOnFork = 0x40000000
	maxRTPrio        = 99
)

// schedState is a task's scheduling state.
type schedState struct {
	Policy      int
	RTPrio      int
	ResetOnFork bool
}

// hostSched is the policy kshim's main thread had at start, every guest
// task's first (asked before kshim confines itself).
var hostSched = func() schedState {
	s := schedState{}
	if pol, _, e := unix.RawSyscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0); e == 0 {
		s.Policy = int(pol) &^ SchedResetOnFork
		s.ResetOnFork = int(pol)&SchedResetOnFork != 0
	}
	var prio int32
	if _, _, e := unix.RawSyscall(unix.SYS_SCHED_GETPARAM, 0, uintptr(unsafe.Pointer(&prio)), 0); e == 0 {
		s.RTPrio = int(prio)
	}
	return s
}()

func rtPolicy(p int) bool { return p == SchedFIFO || p == SchedRR }

// validPolicy is Linux's valid_policy; SCHED_EXT only where the host
// kernel has it (it says so through sched_get_priority_max).
func validPolicy(p int) bool {
	switch p {
	case SchedNormal, SchedFIFO, SchedRR, SchedBatch, SchedIdle, SchedDeadline:
		return true
	case SchedExt:
		_, _, e := unix.RawSyscall(unix.SYS_SCHED_GET_PRIORITY_MAX, SchedExt, 0, 0)
		return e == 0
	}
	return false
}

// sched is q's state, its first use taking the start value. Kernel.Mu held.
func (q *Process) sched() *schedState {
	if !q.Attrs.SchedSet {
		q.Attrs.Sched, q.Attrs.SchedSet = hostSched, true
	}
	return &q.Attrs.Sched
}

// forked is what a new task of p (fork or clone) starts with: p's
// attributes, less what reset-on-fork resets. Kernel.Mu held.
func (a procAttrs) forked(p *Process) procAttrs {
	s := *p.sched()
	if s.ResetOnFork {
		if rtPolicy(s.Policy) || s.Policy == SchedDeadline {
			s.Policy, s.RTPrio = SchedNormal, 0
			a.Nice, a.NiceSet = 0, true
		} else if p.NiceOf() < 0 {
			a.Nice, a.NiceSet = 0, true
		}
		s.ResetOnFork = false
	}
	a.Sched, a.SchedSet = s, true
	return a
}

// SchedTask is the task a scheduler call's pid names (0: p). Kernel.Mu
// held.
func (p *Process) SchedTask(pid int) (*Process, error) {
	if pid < 0 {
		return nil, unix.EINVAL
	}
	if pid == 0 || pid == p.Tid {
		return p, nil
	}
	k := p.Proc.K
	if k == nil {
		return nil, unix.ESRCH
	}
	if t := k.Threads[pid]; t != nil {
		return t, nil
	}
	return nil, unix.ESRCH
}

// GetScheduler is sched_getscheduler's answer for q (reset-on-fork as
// the flag in the policy). Kernel.Mu held.
func (q *Process) GetScheduler() int {
	s := q.sched()
	if s.ResetOnFork {
		return s.Policy | SchedResetOnFork
	}
	return s.Policy
}

// GetPriority is sched_getparam's sched_priority for q. Kernel.Mu held.
func (q *Process) GetPriority() int {
	if s := q.sched(); rtPolicy(s.Policy) {
		return s.RTPrio
	}
	return 0
}

// SetScheduler is Linux's __sched_setscheduler for an unprivileged caller
// (p) on task q: policy -1 keeps q's (sched_setparam); the flag
// SchedResetOnFork in policy sets reset-on-fork. Kernel.Mu held.
func (p *Process) SetScheduler(q *Process, policy int, prio uint32) error {
	s := q.sched()
	reset := policy >= 0 && policy&SchedResetOnFork != 0
	policy &^= SchedResetOnFork
	if policy < 0 {
		reset, policy = s.ResetOnFork, s.Policy
	} else if !validPolicy(policy) {
		return unix.EINVAL
	}
	if prio > maxRTPrio || rtPolicy(policy) != (prio != 0) {
		return unix.EINVAL
	}
	if policy == SchedDeadline {
		return unix.EINVAL // no deadline parameters through this call (__checkparam_dl)
	}
	if !HostCapable(CapSysNice) {
		if rtPolicy(policy) {
			lim, _ := q.Rlimit(unix.RLIMIT_RTPRIO)
			if policy != s.Policy && lim.Cur == 0 {
				return unix.EPERM
			}
			if int(prio) > s.RTPrio && uint64(prio) > lim.Cur {
				return unix.EPERM
			}
		}
		if s.Policy == SchedIdle && policy != SchedIdle {
			// SCHED_IDLE counts as nice 20: leaving it is a nice reduction.
			if lim, _ := q.Rlimit(unix.RLIMIT_NICE); uint64(20-q.NiceOf()) > lim.Cur {
				return unix.EPERM
			}
		}
		if s.ResetOnFork && !reset {
			return unix.EPERM
		}
	}
	s.Policy, s.RTPrio, s.ResetOnFork = policy, 0, reset
	if rtPolicy(policy) {
		s.RTPrio = int(prio)
	}
	return nil
}

// RRInterval is what sched_rr_get_interval answers for q by its policy:
// 0 for SCHED_FIFO, Linux's RR_TIMESLICE (100 ms) for SCHED_RR; ok is
// false for the fair policies, whose slice is the host's. Kernel.Mu held.
func (q *Process) RRInterval() (ns int64, ok bool) {
	switch q.sched().Policy {
	case SchedFIFO:
		return 0, true
	case SchedRR:
		return 100_000_000, true
	}
	return 0, false
}
