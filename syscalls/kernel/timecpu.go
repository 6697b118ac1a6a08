// timecpu.go: the CPU-time clocks: CLOCK_PROCESS_CPUTIME_ID,
// CLOCK_THREAD_CPUTIME_ID and those a guest names by pid or tid
// (clock_getcpuclockid, pthread_getcpuclockid: negative clock ids), and
// the posix dynamic clocks (fd clock ids), for clock_gettime,
// clock_getres and the CPU-time timers.
//
// Guest pids and tids are kshim's own numbers, not the host's, so such an
// id is never handed to the host: it is decoded as Linux's pid_for_clock
// does and read from the guest task's own accounting (cputime.go).
//
// Invariants:
//   - A thread clock names the caller (tid 0) or a thread of its own
//     process, else EINVAL; a process clock names any guest process (pid
//     0: the caller's; for reading, also the caller's own tid), else
//     EINVAL; clock type 3 (CPUCLOCK_MAX) is an fd clock, and the guest has
//     no posix clock devices: EINVAL.
//   - A process clock is the sum over its threads, those that have ended
//     included; which 1 (CPUCLOCK_VIRT) is the user time only, 0 (PROF)
//     and 2 (SCHED) user and system.
package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

const (
	cpuclockPerthread = 4 // CPUCLOCK_PERTHREAD_MASK
	cpuclockWhichMask = 3
	cpuclockProf      = 0
	cpuclockVirt      = 1
	cpuclockSched     = 2
	cpuclockMax       = 3 // also CLOCKFD: a dynamic (fd) clock
)

// hostTIDer is what vmm's VCPU offers beyond Task.
type hostTIDer interface{ HostTID() int }

func makeThreadClock(tid, which int) int32 {
	return int32(^tid<<3 | which | cpuclockPerthread)
}

// CPUClockRef is what a CPU clock id names: one thread, or a process
// (its leader), and which time (CPUCLOCK_PROF, VIRT or SCHED).
type CPUClockRef struct {
	Thread, Proc *Process
	Which        int
}

// ResolveCPUClock decodes clock id (CLOCK_PROCESS_CPUTIME_ID,
// CLOCK_THREAD_CPUTIME_ID or a negative one) as Linux's pid_for_clock;
// gettime allows a process clock by the caller's own tid.
func (p *Process) ResolveCPUClock(id int32, gettime bool) (CPUClockRef, error) {
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return CPUClockRef{Proc: p, Which: cpuclockSched}, nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return CPUClockRef{Thread: p, Which: cpuclockSched}, nil
	}
	if id >= 0 {
		return CPUClockRef{}, unix.EINVAL
	}
	which := int(id & cpuclockWhichMask)
	if which >= cpuclockMax {
		return CPUClockRef{}, unix.EINVAL
	}
	pid := int(^(id >> 3))
	thread := id&cpuclockPerthread != 0
	if pid == 0 {
		if thread {
			return CPUClockRef{Thread: p, Which: which}, nil
		}
		return CPUClockRef{Proc: p, Which: which}, nil
	}
	k := p.Proc.K
	if k == nil {
		switch {
		case pid != p.Pid:
			return CPUClockRef{}, unix.EINVAL
		case thread:
			return CPUClockRef{Thread: p, Which: which}, nil
		}
		return CPUClockRef{Proc: p, Which: which}, nil
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if thread {
		t := k.Threads[pid]
		if t == nil || t.Pid != p.Pid {
			return CPUClockRef{}, unix.EINVAL
		}
		return CPUClockRef{Thread: t, Which: which}, nil
	}
	if gettime && pid == p.Tid {
		return CPUClockRef{Proc: p, Which: which}, nil
	}
	l := k.Procs[pid]
	if l == nil || l.Proc.Group == nil {
		return CPUClockRef{}, unix.EINVAL
	}
	return CPUClockRef{Proc: l, Which: which}, nil
}

// Now is the clock's current value.
func (r CPUClockRef) Now() time.Duration {
	var u Rusage
	if r.Thread != nil {
		u = r.Thread.taskUsage()
	} else if k := r.Proc.Proc.K; k != nil && r.Proc.Proc.Group != nil {
		k.Mu.Lock()
		u = r.Proc.Proc.Group.usage()
		k.Mu.Unlock()
	} else {
		u = r.Proc.taskUsage()
	}
	if r.Which == cpuclockVirt {
		return u.User
	}
	return u.User + u.Sys
}

// Resolution is clock_getres's answer for the clock: 1 ns for SCHED (the
// scheduler's clock), a host tick for PROF and VIRT, as Linux's
// posix_cpu_clock_getres.
func (r CPUClockRef) Resolution() time.Duration {
	if r.Which == cpuclockSched {
		return time.Nanosecond
	}
	var ts unix.Timespec
	if unix.ClockGetres(int32(^0<<3|r.Which), &ts) == nil { // kshim's own process clock of that kind
		return time.Duration(ts.Nano())
	}
	return time.Second / 100
}
