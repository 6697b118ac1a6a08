// thread.go: threads. clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND...) runs a
// new task on another vCPU in the same address space; thread exit, group
// exit, thread-directed signals and the scheduler calls threads use.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose thread.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

func sysGettid(p *kernel.Process, _ *kernel.Regs, _ *args) (uint64, error) { return uint64(p.Tid), nil }

func sysSetTidAddress2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.TidAddr = a[0]
	return uint64(p.Tid), nil
}

func sysExitThread(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.Exited, p.ExitStatus = true, int(a[0]&0xff)
	return 0, fs.ErrNoReturn
}

func sysExitGroup(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	p.GroupExit(int(a[0]&0xff), 0)
	return 0, fs.ErrNoReturn
}

func sysTgkill2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.KillThread(int(int32(a[0])), int(int32(a[1])), int(int32(a[2])))
}

func sysTkill2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	return p.KillThread(-1, int(int32(a[0])), int(int32(a[1])))
}

// affinityTarget is the thread a sched_*affinity pid names (0: the
// caller); Kernel.Mu held when there is a kernel.
func affinityTarget(p *kernel.Process, pid int) (*kernel.Process, error) {
	if pid == 0 || pid == p.Tid {
		return p, nil
	}
	if k := p.Proc.K; k != nil {
		if t := k.Threads[pid]; t != nil {
			return t, nil
		}
	}
	return nil, unix.ESRCH // find_process_by_pid: negative pids too
}

// cpuMaskSize is the kernel's cpumask size in bytes (whole longs).
func cpuMaskSize() int { return (kernel.CPUs() + 63) / 64 * 8 }

// sched_getaffinity(pid, len, mask): the thread's mask as set, else every
// CPU kshim may use (kernel.CPUs, as /sys/devices/system/cpu says).
func sysSchedGetaffinity(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	size := cpuMaskSize()
	if a[1] < uint64(size) || a[1]%8 != 0 {
		return 0, unix.EINVAL
	}
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		defer k.Mu.Unlock()
	}
	t, err := affinityTarget(p, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	mask := make([]byte, size)
	if t.Attrs.Affinity != nil {
		copy(mask, t.Attrs.Affinity)
	} else {
		for i := 0; i < kernel.CPUs(); i++ {
			mask[i/8] |= 1 << (i % 8)
		}
	}
	if _, err := p.MM.CopyOut(a[2], mask); err != nil {
		return 0, err
	}
	return uint64(size), nil
}

// sched_setaffinity(pid, len, mask): a shorter mask is zero-filled, a
// longer one cut (get_user_cpu_mask); CPUs the host lacks are dropped and
// an empty result is EINVAL. Kept for sched_getaffinity and inherited by
// fork and clone; the vCPU's host thread is not pinned.
func sysSchedSetaffinity(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	size := cpuMaskSize()
	mask := make([]byte, size)
	if _, err := p.MM.CopyIn(a[2], mask[:min(a[1], uint64(size))]); err != nil {
		return 0, err
	}
	n, any := kernel.CPUs(), false
	for i := range mask {
		for b := 0; b < 8; b++ {
			if i*8+b >= n {
				mask[i] &^= 1 << b
			}
		}
		any = any || mask[i] != 0
	}
	if k := p.Proc.K; k != nil {
		k.Mu.Lock()
		defer k.Mu.Unlock()
	}
	t, err := affinityTarget(p, int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if !any {
		return 0, unix.EINVAL
	}
	t.Attrs.Affinity = mask
	return 0, nil
}

func sysSchedYield(*kernel.Process, *kernel.Regs, *args) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// eventfd2(initval, flags) and eventfd(initval): a host eventfd, like a
// pipe the guest's fd table holds (the Go runtime's netpoller uses one).
func sysEventfd2(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	flags := int(a[1])
	if flags&^(unix.EFD_CLOEXEC|unix.EFD_NONBLOCK|unix.EFD_SEMAPHORE) != 0 {
		return 0, unix.EINVAL
	}
	h, err := unix.Eventfd(uint(uint32(a[0])), flags|unix.EFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	fd, err := p.NewFD(h, flags&unix.EFD_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

func sysEventfd(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	return sysEventfd2(p, r, &args{a[0], 0})
}

// nanosleep(req, rem).
func sysNanosleep(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	d, err := p.TimespecIn(a[0])
	if err != nil {
		return 0, err
	}
	left, err := p.SleepUntil(time.Now().Add(d))
	if err == unix.EINTR {
		if werr := p.TimespecOut(a[1], left); werr != nil {
			return 0, werr
		}
	}
	return 0, err
}

// cpuNanosleep is clock_nanosleep on CLOCK_PROCESS_CPUTIME_ID or another
// CPU clock (kernel/timercpu.go): the caller's own thread clock, which
// cannot advance while it sleeps, is EINVAL, as in posix_cpu_nsleep.
func cpuNanosleep(p *kernel.Process, a *args) (uint64, error) {
	clock := int32(a[0])
	d, err := p.TimespecIn(a[2]) // the copy and the value first; other flags are ignored
	if err != nil {
		return 0, err
	}
	if clock < 0 && clock&4 != 0 {
		if pid := int(^(clock >> 3)); pid == 0 || pid == p.Tid {
			return 0, unix.EINVAL
		}
	}
	c, err := p.ResolveCPUClock(clock, false)
	if err != nil {
		return 0, err
	}
	target := d
	if a[1]&unix.TIMER_ABSTIME == 0 {
		target += c.Now()
	}
	left, err := p.CPUSleep(c, target)
	if err == unix.EINTR && a[1]&unix.TIMER_ABSTIME == 0 {
		if werr := p.TimespecOut(a[3], left); werr != nil {
			return 0, werr
		}
	}
	return 0, err
}

// clock_nanosleep(clock, flags, req, rem).
func sysClockNanosleep(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	clock := int32(a[0])
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	default:
		if isCPUClock(clock) {
			return cpuNanosleep(p, a)
		}
		return 0, unix.EINVAL
	}
	if a[1]&^uint64(unix.TIMER_ABSTIME) != 0 {
		return 0, unix.EINVAL
	}
	d, err := p.TimespecIn(a[2])
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(d)
	if a[1]&unix.TIMER_ABSTIME != 0 {
		var now unix.Timespec
		_ = unix.ClockGettime(clock, &now)
		deadline = time.Now().Add(d - time.Duration(now.Nano()))
	}
	left, err := p.SleepUntil(deadline)
	if err == unix.EINTR && a[1]&unix.TIMER_ABSTIME == 0 {
		if werr := p.TimespecOut(a[3], left); werr != nil {
			return 0, werr
		}
	}
	return 0, err
}
