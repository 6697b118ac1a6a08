// timecpu.go: the CPU-time clocks a guest names by pid or tid
// (clock_getcpuclockid, pthread_getcpuclockid: negative clock ids) and
// the posix dynamic clocks (fd clock ids), for clock_gettime and
// clock_getres.
//
// Guest pids and tids are kshim's own numbers, not the host's, so such an
// id is never handed to the host as it is (it would name an unrelated host
// process or a kshim fd): it is decoded as Linux's pid_for_clock does and
// mapped to the host threads that run the guest's tasks (each task is one
// host thread, vmm's VCPU.HostTID).
//
// Invariants:
//   - A thread clock names the caller (tid 0) or a thread of its own
//     process, else EINVAL; a process clock names any live guest process
//     (pid 0: the caller's), else EINVAL; clock type 3 (CPUCLOCK_MAX) is
//     an fd clock, and the guest has no posix clock devices: EINVAL.
//   - The caller's own process reads the host's process clock (kshim's
//     whole CPU time, the clock CLOCK_PROCESS_CPUTIME_ID already gives);
//     another process's is the sum of its live threads' host thread
//     clocks (threads that have ended no longer count: a known
//     difference from Linux, which keeps their time in the process).
//   - Timers on CPU clocks (timer_create, ITIMER_VIRTUAL/PROF) are not
//     served (ENOSYS/EINVAL as before).
package kernel

import (
	"golang.org/x/sys/unix"
)

const (
	cpuclockPerthread = 4 // CPUCLOCK_PERTHREAD_MASK
	cpuclockWhichMask = 3
	cpuclockMax       = 3 // also CLOCKFD: a dynamic (fd) clock
)

// hostTIDer is what vmm's VCPU offers beyond Task.
type hostTIDer interface{ HostTID() int }

func makeThreadClock(tid, which int) int32 {
	return int32(^tid<<3 | which | cpuclockPerthread)
}

// CPUClock maps a negative guest clock id to the host thread clock ids
// to add up (or the host's process clock for the caller's own process).
func (p *Process) CPUClock(id int32) ([]int32, error) {
	which := int(id & cpuclockWhichMask)
	if which >= cpuclockMax {
		return nil, unix.EINVAL
	}
	pid := int(^(id >> 3))
	thread := id&cpuclockPerthread != 0
	own := int32(^0<<3 | which) // MAKE_PROCESS_CPUCLOCK(0, which)
	if pid == 0 {
		if thread {
			return []int32{own | cpuclockPerthread}, nil
		}
		return []int32{own}, nil
	}
	k := p.Proc.K
	if k == nil {
		if pid == p.Pid {
			return []int32{own}, nil
		}
		return nil, unix.EINVAL
	}
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if thread {
		t := k.Threads[pid]
		if t == nil || t.Pid != p.Pid {
			return nil, unix.EINVAL
		}
		if t == p {
			return []int32{own | cpuclockPerthread}, nil
		}
		h, ok := t.Proc.task.(hostTIDer)
		if !ok || h.HostTID() == 0 {
			return nil, unix.EINVAL
		}
		return []int32{makeThreadClock(h.HostTID(), which)}, nil
	}
	if pid == p.Pid || pid == p.Tid {
		return []int32{own}, nil // the caller's own process, also by its own tid (gettime)
	}
	l := k.Procs[pid]
	if l == nil || l.Proc.zombie || l.Proc.Group == nil {
		return nil, unix.EINVAL
	}
	var ids []int32
	for t := range l.Proc.Group.threads {
		if h, ok := t.Proc.task.(hostTIDer); ok && h.HostTID() != 0 {
			ids = append(ids, makeThreadClock(h.HostTID(), which))
		}
	}
	return ids, nil
}
