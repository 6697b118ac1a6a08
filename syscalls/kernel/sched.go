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
	// Slice is a fair task's own time slice as sched_setattr set it
	// (sched_runtime; 0: the host scheduler's base slice, hostSlice).
	Slice uint64
	// UtilMin and UtilMax are its utilization clamp requests, plus one
	// (0: the default), where the host kernel has clamping.
	UtilMin, UtilMax uint32
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
		s.ResetOnFork, s.Slice = false, 0
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

// SetScheduler is sched_setscheduler and sched_setparam for task q:
// policy -1 keeps q's (sched_setparam); the flag SchedResetOnFork in
// policy sets reset-on-fork. Kernel.Mu held.
func (p *Process) SetScheduler(q *Process, policy int, prio uint32) error {
	// The nice value and a custom slice stay (Linux's _sched_setscheduler).
	a := SchedAttr{Policy: policy &^ SchedResetOnFork, Priority: prio, Nice: int32(q.NiceOf()), Runtime: q.sched().Slice}
	if policy >= 0 && policy&SchedResetOnFork != 0 {
		a.Flags = schedFlagResetOnFork
	}
	return p.setSched(q, a)
}

// setSched is Linux's __sched_setscheduler for an unprivileged caller (p)
// on task q (a.Policy -1 keeps q's policy and reset-on-fork). Kernel.Mu
// held.
func (p *Process) setSched(q *Process, a SchedAttr) error {
	s := q.sched()
	policy, prio := a.Policy, a.Priority
	reset := a.Flags&schedFlagResetOnFork != 0
	if policy < 0 {
		reset, policy = s.ResetOnFork, s.Policy
	} else if !validPolicy(policy) {
		return unix.EINVAL
	}
	if a.Flags&^(schedFlagAll|schedFlagSugov) != 0 {
		return unix.EINVAL
	}
	if prio > maxRTPrio || policy == SchedDeadline && !checkparamDL(a) || rtPolicy(policy) != (prio != 0) {
		return unix.EINVAL
	}
	if !HostCapable(CapSysNice) {
		if fairPolicy(policy) && int(a.Nice) < q.NiceOf() {
			if lim, _ := q.Rlimit(unix.RLIMIT_NICE); uint64(20-a.Nice) > lim.Cur {
				return unix.EPERM
			}
		}
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
		if policy == SchedDeadline {
			return unix.EPERM // no unprivileged SCHED_DEADLINE at all
		}
		if s.ResetOnFork && !reset {
			return unix.EPERM
		}
		if a.Flags&schedFlagSugov != 0 {
			return unix.EINVAL
		}
	}
	if a.Flags&schedFlagUtilClamp != 0 {
		if !hostUclamp {
			return unix.EOPNOTSUPP // no utilization clamping on this kernel (uclamp_validate)
		}
		umin, umax := s.util()
		if a.Flags&0x20 != 0 {
			umin = a.UtilMin
		}
		if a.Flags&0x40 != 0 {
			umax = a.UtilMax
		}
		const none = ^uint32(0) // -1: back to the default
		if umin != none && umin > 1024 || umax != none && umax > 1024 || umin != none && umax != none && umin > umax {
			return unix.EINVAL
		}
		if a.Flags&0x20 != 0 {
			s.UtilMin = umin + 1 // -1 is 0: the default
		}
		if a.Flags&0x40 != 0 {
			s.UtilMax = umax + 1
		}
	}
	s.ResetOnFork = reset
	if a.Flags&schedFlagKeepParams != 0 {
		return nil // the policy and parameters stay (reset-on-fork does not)
	}
	s.Policy, s.RTPrio = policy, 0
	switch {
	case rtPolicy(policy):
		s.RTPrio = int(prio)
	case fairPolicy(policy):
		q.Attrs.Nice, q.Attrs.NiceSet = int(a.Nice), true
		s.Slice = 0
		if a.Runtime != 0 && hostSlice != 0 { // a custom slice, 0.1 to 100 ms
			s.Slice = min(max(a.Runtime, 100_000), 100_000_000)
		}
	}
	return nil
}

// sched_attr's flags (SCHED_FLAG_*).
const (
	schedFlagResetOnFork = 0x01
	schedFlagKeepPolicy  = 0x08
	schedFlagKeepParams  = 0x10
	schedFlagUtilClamp   = 0x20 | 0x40
	schedFlagAll         = 0x7f
	schedFlagSugov       = 0x10000000
	SchedAttrSize0       = 48 // SCHED_ATTR_SIZE_VER0
	SchedAttrSize1       = 56 // SCHED_ATTR_SIZE_VER1, what kshim fills
)

// SchedAttr is struct sched_attr (policy -1: keep the task's).
type SchedAttr struct {
	Policy                    int
	Flags                     uint64
	Nice                      int32
	Priority                  uint32
	Runtime, Deadline, Period uint64
	UtilMin, UtilMax          uint32
}

// fairPolicy is Linux's fair_policy (SCHED_NORMAL, SCHED_EXT, SCHED_BATCH).
func fairPolicy(p int) bool { return p == SchedNormal || p == SchedExt || p == SchedBatch }

// checkparamDL is Linux's __checkparam_dl with the default
// sched_deadline_period_{min,max}_us (100 µs, 4.19 s).
func checkparamDL(a SchedAttr) bool {
	if a.Flags&schedFlagSugov != 0 {
		return true
	}
	if a.Deadline == 0 || a.Runtime < 1<<10 || a.Deadline&(1<<63) != 0 || a.Period&(1<<63) != 0 {
		return false
	}
	period := a.Period
	if period == 0 {
		period = a.Deadline
	}
	if period < a.Deadline || a.Deadline < a.Runtime {
		return false
	}
	return period >= 100*1000 && period <= (1<<22)*1000
}

// hostUclamp is whether the host kernel clamps utilization (it reports a
// task's default maximum, 1024, through sched_getattr; 0 without
// CONFIG_UCLAMP_TASK), asked before kshim confines itself.
// hostSlice is the slice it reports for a fair task (its sched_runtime:
// the base slice, Linux 6.12 on; 0 before).
var hostUclamp, hostSlice = func() (bool, uint64) {
	var b [SchedAttrSize1]byte
	_, _, e := unix.RawSyscall6(unix.SYS_SCHED_GETATTR, 0, uintptr(unsafe.Pointer(&b[0])), SchedAttrSize1, 0, 0, 0)
	if e != 0 {
		return false, 0
	}
	return b[52]|b[53]|b[54]|b[55] != 0, uint64(b[24]) | uint64(b[25])<<8 | uint64(b[26])<<16 | uint64(b[27])<<24 |
		uint64(b[28])<<32 | uint64(b[29])<<40 | uint64(b[30])<<48 | uint64(b[31])<<56
}()

// GetAttr is sched_getattr's answer for q (Linux's get_params). Kernel.Mu
// held.
func (q *Process) GetAttr() SchedAttr {
	s := q.sched()
	a := SchedAttr{Policy: s.Policy}
	if s.ResetOnFork {
		a.Flags = schedFlagResetOnFork
	}
	if rtPolicy(s.Policy) {
		a.Priority = uint32(s.RTPrio)
	} else {
		a.Nice = int32(q.NiceOf())
		a.Runtime = hostSlice
		if s.Slice != 0 {
			a.Runtime = s.Slice
		}
	}
	if hostUclamp {
		a.UtilMin, a.UtilMax = s.util()
	}
	return a
}

// util is the task's utilization clamps (the defaults: 0 and 1024).
func (s *schedState) util() (umin, umax uint32) {
	umin, umax = 0, 1024
	if s.UtilMin != 0 {
		umin = s.UtilMin - 1
	}
	if s.UtilMax != 0 {
		umax = s.UtilMax - 1
	}
	return umin, umax
}

// SetAttr is sched_setattr of a on task q after the copy (KEEP_POLICY and
// KEEP_PARAMS as Linux's syscall applies them). Kernel.Mu held.
func (p *Process) SetAttr(q *Process, a SchedAttr) error {
	if a.Flags&schedFlagKeepPolicy != 0 {
		a.Policy = -1
	}
	if a.Flags&schedFlagKeepParams != 0 { // get_params
		g := q.GetAttr()
		if rtPolicy(g.Policy) {
			a.Priority = g.Priority
		} else {
			a.Nice, a.Runtime = g.Nice, g.Runtime
		}
	}
	return p.setSched(q, a)
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
