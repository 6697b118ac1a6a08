// timers.go: interval timers and POSIX timers (alarm, setitimer,
// getitimer, timer_create and friends), and timerfd.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose timers.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// putTimevalTrunc writes d as a timeval, microseconds truncated (Linux's
// put_itimerval of a CPU itimer's value).
func putTimevalTrunc(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// setitimer(which, new, old).
func sysSetitimer(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	which := int(int32(a[0]))
	if which != unix.ITIMER_REAL && which != unix.ITIMER_VIRTUAL && which != unix.ITIMER_PROF {
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if a[1] != 0 {
		var b [32]byte
		if _, err := p.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		var ok1, ok2 bool
		interval, ok1 = kernel.GetTimeval(b[:16])
		value, ok2 = kernel.GetTimeval(b[16:])
		if !ok1 || !ok2 {
			return 0, unix.EINVAL
		}
	}
	s := p.Timers()
	if which != unix.ITIMER_REAL { // kernel/timercpu.go
		k := p.Proc.K
		k.Mu.Lock()
		s.Tmu.Lock()
		oldValue, oldInterval := s.SetItimer(p, s.Itimer(p, which == unix.ITIMER_VIRTUAL), value, interval)
		s.Tmu.Unlock()
		k.Mu.Unlock()
		if a[2] != 0 {
			return 0, p.CopyOutTimer(a[2], oldInterval, oldValue, putTimevalTrunc)
		}
		return 0, nil
	}
	s.Tmu.Lock()
	g := s.RealTimer()
	oldInterval, oldValue := g.Interval, g.Remaining()
	if value == 0 {
		interval = 0
	}
	s.Arm(p, g, value, interval)
	s.Tmu.Unlock()
	if a[2] != 0 {
		return 0, p.CopyOutTimer(a[2], oldInterval, oldValue, kernel.PutTimeval)
	}
	return 0, nil
}

// getitimer(which, value).
func sysGetitimer(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	which := int(int32(a[0]))
	s := p.Timers()
	switch which {
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF: // kernel/timercpu.go
		k := p.Proc.K
		k.Mu.Lock()
		s.Tmu.Lock()
		interval, value := s.GetItimer(p, which == unix.ITIMER_VIRTUAL)
		s.Tmu.Unlock()
		k.Mu.Unlock()
		return 0, p.CopyOutTimer(a[1], interval, value, putTimevalTrunc)
	case unix.ITIMER_REAL:
	default:
		return 0, unix.EINVAL
	}
	s.Tmu.Lock()
	g := s.RealTimer()
	interval, value := g.Interval, g.Remaining()
	s.Tmu.Unlock()
	return 0, p.CopyOutTimer(a[1], interval, value, kernel.PutTimeval)
}

// alarm(seconds): ITIMER_REAL without an interval; returns the seconds
// left of the previous one (rounded as Linux: at least 1 if any).
func sysAlarm(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	s := p.Timers()
	s.Tmu.Lock()
	defer s.Tmu.Unlock()
	g := s.RealTimer()
	left := g.Remaining()
	s.Arm(p, g, time.Duration(uint32(a[0]))*time.Second, 0)
	secs := uint64((left + time.Second/2) / time.Second)
	if secs == 0 && left > 0 {
		secs = 1
	}
	return secs, nil
}

// timer_create(clockid, sevp, timerid).
func sysTimerCreate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	clock := int(int32(a[0]))
	var cpu *kernel.CPUClockRef
	if clock < 0 && clock&7 == 3 {
		return 0, unix.EOPNOTSUPP // CLOCKFD: a posix dynamic clock has no timers
	}
	if isCPUClock(int32(clock)) { // kernel/timercpu.go
		c, err := p.ResolveCPUClock(int32(clock), false)
		if err != nil {
			return 0, err
		}
		cpu = &c
	} else if _, ok := kernel.ClockNow(clock); !ok {
		return 0, unix.EINVAL
	}
	if clock == unix.CLOCK_REALTIME_ALARM || clock == unix.CLOCK_BOOTTIME_ALARM {
		return 0, unix.EPERM // needs CAP_WAKE_ALARM, which the guest has not
	}
	g := &kernel.GTimer{Clock: clock, Notify: kernel.SigevSignal, Signo: int(unix.SIGALRM), CPU: cpu}
	if a[1] != 0 {
		// struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify
		// (4), then _sigev_thread._tid (4).
		var b [64]byte
		if _, err := p.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		g.Value = binary.LittleEndian.Uint64(b[0:])
		g.Signo = int(int32(binary.LittleEndian.Uint32(b[8:])))
		g.Notify = int(int32(binary.LittleEndian.Uint32(b[12:])))
		g.Tid = int(int32(binary.LittleEndian.Uint32(b[16:])))
		switch g.Notify {
		case kernel.SigevNone:
		case kernel.SigevSignal, kernel.SigevThreadID:
			if g.Signo < 1 || g.Signo > kernel.Nsig {
				return 0, unix.EINVAL
			}
			if g.Notify == kernel.SigevThreadID {
				k := p.Proc.K
				k.Mu.Lock()
				t := k.Threads[g.Tid]
				ok := t != nil && t.Proc.Group == p.Proc.Group
				k.Mu.Unlock()
				if !ok {
					return 0, unix.EINVAL
				}
			}
		default: // SIGEV_THREAD is glibc's, on top of SIGEV_THREAD_ID
			return 0, unix.EINVAL
		}
	}
	s := p.Timers()
	s.Tmu.Lock()
	if len(s.Posix) >= kernel.MaxTimers {
		s.Tmu.Unlock()
		return 0, unix.EAGAIN
	}
	if s.Posix == nil {
		s.Posix = map[int]*kernel.GTimer{}
	}
	for s.Posix[s.NextID] != nil {
		s.NextID = (s.NextID + 1) % kernel.MaxTimers
	}
	g.ID = s.NextID
	s.NextID = (s.NextID + 1) % kernel.MaxTimers
	if a[1] == 0 {
		g.Value = uint64(g.ID) // sigev_value.sival_int = the timer id
	}
	s.Posix[g.ID] = g
	s.Tmu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(g.ID))
	if _, err := p.MM.CopyOut(a[2], b[:]); err != nil {
		s.Tmu.Lock()
		delete(s.Posix, g.ID)
		s.Tmu.Unlock()
		return 0, err
	}
	return 0, nil
}

// timer_settime(timerid, flags, new, old).
func sysTimerSettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	var b [32]byte
	if _, err := p.MM.CopyIn(a[2], b[:]); err != nil {
		return 0, err
	}
	interval, ok1 := kernel.GetTimespec(b[:16])
	value, ok2 := kernel.GetTimespec(b[16:])
	if !ok1 || !ok2 {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	k.Mu.Lock()
	s := p.Timers()
	s.Tmu.Lock()
	g, err := s.PosixTimer(a[0])
	if err != nil {
		s.Tmu.Unlock()
		k.Mu.Unlock()
		return 0, err
	}
	p.DropPending(g)
	oldInterval, oldValue := g.Interval, g.Remaining()
	d := value
	if a[1]&kernel.TimerAbstime != 0 && value != 0 {
		now := g.ClockValue()
		d = value - now
		if d <= 0 {
			d = time.Nanosecond // already due: expires at once
		}
	}
	if value == 0 {
		d, interval = 0, 0
	}
	s.Arm(p, g, d, interval)
	s.Tmu.Unlock()
	k.Mu.Unlock()
	if a[3] != 0 {
		return 0, p.CopyOutTimer(a[3], oldInterval, oldValue, kernel.PutTimespec)
	}
	return 0, nil
}

// timer_gettime(timerid, curr).
func sysTimerGettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	k := p.Proc.K
	k.Mu.Lock() // a CPU-time timer's clock is read under it
	s := p.Timers()
	s.Tmu.Lock()
	g, err := s.PosixTimer(a[0])
	var interval, value time.Duration
	if err == nil {
		interval, value = g.Interval, g.Remaining()
	}
	s.Tmu.Unlock()
	k.Mu.Unlock()
	if err != nil {
		return 0, err
	}
	return 0, p.CopyOutTimer(a[1], interval, value, kernel.PutTimespec)
}

// timer_getoverrun(timerid).
func sysTimerGetoverrun(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	s := p.Timers()
	s.Tmu.Lock()
	defer s.Tmu.Unlock()
	g, err := s.PosixTimer(a[0])
	if err != nil {
		return 0, err
	}
	g.Settle()
	return uint64(g.LastOver), nil
}

// timer_delete(timerid).
func sysTimerDelete(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	s := p.Timers()
	s.Tmu.Lock()
	defer s.Tmu.Unlock()
	g, err := s.PosixTimer(a[0])
	if err != nil {
		return 0, err
	}
	p.DropPending(g)
	s.Arm(p, g, 0, 0)
	delete(s.Posix, g.ID)
	return 0, nil
}

// timerfd_create(clockid, flags): the host's timerfd.
func sysTimerfdCreate(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	flags := int(a[1])
	if flags&^(unix.TFD_CLOEXEC|unix.TFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	clock := int(int32(a[0]))
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		return 0, unix.EPERM // needs CAP_WAKE_ALARM
	default:
		return 0, unix.EINVAL
	}
	h, err := unix.TimerfdCreate(clock, flags|unix.TFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	fd, err := p.NewFD(h, flags&unix.TFD_CLOEXEC != 0, &fs.OpenFile{Kind: fs.KindHost})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

// timerfd_settime(fd, flags, new, old).
func sysTimerfdSettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	var nv, ov unix.ItimerSpec
	if _, err := p.MM.CopyIn(a[2], kernel.ItimerBytes(&nv)); err != nil {
		return 0, err
	}
	if err := unix.TimerfdSettime(e.Host, int(int32(a[1])), &nv, &ov); err != nil {
		return 0, err
	}
	if a[3] != 0 {
		if _, err := p.MM.CopyOut(a[3], kernel.ItimerBytes(&ov)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// timerfd_gettime(fd, curr).
func sysTimerfdGettime(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	e, err := p.Entry(a[0])
	if err != nil {
		return 0, err
	}
	var cur unix.ItimerSpec
	if err := unix.TimerfdGettime(e.Host, &cur); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], kernel.ItimerBytes(&cur))
	return 0, err
}

func init() {
	for nr, h := range map[uint64]handler{
		unix.SYS_ALARM:            sysAlarm,
		unix.SYS_SETITIMER:        sysSetitimer,
		unix.SYS_GETITIMER:        sysGetitimer,
		unix.SYS_TIMER_CREATE:     sysTimerCreate,
		unix.SYS_TIMER_SETTIME:    sysTimerSettime,
		unix.SYS_TIMER_GETTIME:    sysTimerGettime,
		unix.SYS_TIMER_GETOVERRUN: sysTimerGetoverrun,
		unix.SYS_TIMER_DELETE:     sysTimerDelete,
		unix.SYS_TIMERFD_CREATE:   sysTimerfdCreate,
		unix.SYS_TIMERFD_SETTIME:  sysTimerfdSettime,
		unix.SYS_TIMERFD_GETTIME:  sysTimerfdGettime,
	} {
		table[nr] = h
	}
}
