// timeset.go: setting the clocks (clock_settime, settimeofday) and the
// scheduler's fixed answers (sched_get_priority_min/max,
// sched_rr_get_interval).
//
// The guest has no CAP_SYS_TIME (kshim drops every capability but the
// file ones), so setting the time is what an unprivileged Linux process
// gets: the arguments are checked as kernel/time/posix-timers.c and
// time.c check them (the clock, then the copy, then the value), then
// EPERM. The scheduler's priority ranges are the host kernel's constants; a
// round-robin interval follows the task's policy as package kernel keeps
// it (sched.go), the host's for the vCPU's own thread under a fair one
// (the guest's threads stay SCHED_OTHER host threads).
package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

// timeSettodMax is TIME_SETTOD_SEC_MAX: KTIME_SEC_MAX less 30 years.
const timeSettodMax = 9223372036 - 30*365*24*3600

// clock_settime(clock, tp): only CLOCK_REALTIME and the CPU clocks have a
// clock_set (others EINVAL before the copy); the realtime value is
// checked (timespec64_valid_settod), then the capability: EPERM. A CPU
// clock can never be set (posix_cpu_clock_set: EPERM once valid).
func sysClockSettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	id := int32(a[0])
	switch {
	case id == unix.CLOCK_REALTIME:
	case id < 0: // CLOCK_PROCESS/THREAD_CPUTIME_ID have no clock_set: EINVAL
		if _, err := p.ResolveCPUClock(id, true); err != nil {
			return 0, err
		}
	default:
		return 0, unix.EINVAL
	}
	var b [16]byte
	if _, err := p.MM.CopyIn(a[1], b[:]); err != nil {
		return 0, unix.EFAULT
	}
	if id == unix.CLOCK_REALTIME {
		if sec, nsec := int64(abi.Le64(b[:])), int64(abi.Le64(b[8:])); sec < 0 || sec > timeSettodMax || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
	}
	return 0, unix.EPERM
}

// settimeofday(tv, tz).
func sysSettimeofday(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	if a[0] != 0 {
		var b [16]byte
		if _, err := p.MM.CopyIn(a[0], b[:]); err != nil {
			return 0, unix.EFAULT
		}
		if sec, usec := int64(abi.Le64(b[:])), int64(abi.Le64(b[8:])); sec < 0 || sec > timeSettodMax || usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
	}
	if a[1] != 0 {
		var tz [8]byte
		if _, err := p.MM.CopyIn(a[1], tz[:]); err != nil {
			return 0, unix.EFAULT
		}
	}
	return 0, unix.EPERM // before the time zone's range is checked
}

// schedPriority is sched_get_priority_max (max) and _min: constants of
// the host kernel's policies (which policies exist is its to say: SCHED_EXT
// from 6.12), asked of it.
func schedPriority(a *args, max bool) (uint64, error) {
	nr := uintptr(unix.SYS_SCHED_GET_PRIORITY_MIN)
	if max {
		nr = unix.SYS_SCHED_GET_PRIORITY_MAX
	}
	r, _, e := unix.Syscall(nr, uintptr(int32(a[0])), 0, 0)
	if e != 0 {
		return 0, e
	}
	return uint64(r), nil
}

// sched_rr_get_interval(pid, tp): by the task's policy (kernel/sched.go):
// 0 for SCHED_FIFO, 100 ms for SCHED_RR; for the fair policies its host
// thread's slice, which is what the calling thread's host call answers
// for pid 0.
func sysSchedRRGetInterval(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	unlock := p.LockTable()
	t, err := p.SchedTask(int(int32(a[0])))
	var rr int64
	var fixed bool
	if err == nil {
		rr, fixed = t.RRInterval()
	}
	unlock()
	if err != nil {
		return 0, err
	}
	ts := unix.NsecToTimespec(rr)
	if !fixed {
		if _, _, e := unix.Syscall(unix.SYS_SCHED_RR_GET_INTERVAL, 0, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
			return 0, e
		}
	}
	var b [16]byte
	abi.Put64(b[:], uint64(ts.Sec))
	abi.Put64(b[8:], uint64(ts.Nsec))
	_, err = p.MM.CopyOut(a[1], b[:])
	return 0, err
}

func init() {
	table[unix.SYS_CLOCK_SETTIME] = sysClockSettime
	table[unix.SYS_SETTIMEOFDAY] = sysSettimeofday
	table[unix.SYS_SCHED_GET_PRIORITY_MAX] = func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return schedPriority(a, true) }
	table[unix.SYS_SCHED_GET_PRIORITY_MIN] = func(_ *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) { return schedPriority(a, false) }
	table[unix.SYS_SCHED_RR_GET_INTERVAL] = sysSchedRRGetInterval
}
