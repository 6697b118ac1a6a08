// timers.go: interval timers and POSIX timers (alarm, setitimer,
// getitimer, timer_create and friends), and timerfd.
//
// A process's timers live in its thread group. Each armed timer is a Go
// timer whose callback posts the signal as any sender does (under
// Kernel.mu): to the process, or to one thread for SIGEV_THREAD_ID. A
// timer whose last signal is still pending counts an overrun instead of
// queueing another (si_overrun, timer_getoverrun), as Linux does, and a
// timer re-armed or deleted drops its pending signal (Linux 6.13 on).
//
// Lifetime: POSIX timers go at execve and exit; ITIMER_REAL (alarm)
// survives execve; fork's child starts with none. Timers on CPU-time
// clocks (ITIMER_VIRTUAL, ITIMER_PROF, CLOCK_*_CPUTIME_ID) are not
// implemented (ENOSYS, logged once).
//
// Lock order: Kernel.mu, then threadGroup.tmu (timer state), then a
// Process's sigMu. A callback takes Kernel.mu first.
//
// timerfd is the host's: its expirations are host kernel state, read and
// polled like any host fd.
package syscalls

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4
	maxTimers     = 1 << 14
	timerAbstime  = 1
	siTimerCode   = 0xfffffffe // SI_TIMER (-2) as the guest's int
	maxSec        = int64(1<<63-1)/int64(time.Second) - 1
)

// gTimer is one timer: a POSIX timer or the process's ITIMER_REAL.
type gTimer struct {
	id       int
	clock    int
	notify   int // sigev_notify
	signo    int
	value    uint64 // sigev_value, for si_value
	tid      int    // SIGEV_THREAD_ID's target
	interval time.Duration
	due      time.Time // next expiry (monotonic); zero: disarmed
	t        *time.Timer
	gen      uint64 // bumps on every arm/disarm: a stale callback does nothing
	overrun  int    // expiries merged into the pending signal
	lastOver int    // overrun of the last signal posted (timer_getoverrun)
	info     []byte // the siginfo posted last, while it may still be pending
	drop     *atomic.Bool
}

// timerSet is a thread group's timers (guarded by tmu).
type timerSet struct {
	tmu    sync.Mutex
	posix  map[int]*gTimer
	nextID int
	real   *gTimer // ITIMER_REAL and alarm
}

// clockNow returns clock's current time (CLOCK_REALTIME, MONOTONIC,
// BOOTTIME and their variants) and whether kshim serves timers on it.
func clockNow(clock int) (time.Duration, bool) {
	var host int
	switch clock {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_ALARM:
		host = unix.CLOCK_REALTIME
	case unix.CLOCK_MONOTONIC:
		host = unix.CLOCK_MONOTONIC
	case unix.CLOCK_BOOTTIME, unix.CLOCK_BOOTTIME_ALARM:
		host = unix.CLOCK_BOOTTIME
	default:
		return 0, false
	}
	var ts unix.Timespec
	if unix.ClockGettime(int32(host), &ts) != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// arm (re)starts g: first expiry after d (<= 0: disarm), then every
// interval. tmu held.
func (s *timerSet) arm(p *Process, g *gTimer, d, interval time.Duration) {
	g.gen++
	if g.t != nil {
		g.t.Stop()
		g.t = nil
	}
	g.interval, g.due, g.overrun = interval, time.Time{}, 0
	if d <= 0 {
		return
	}
	g.due = time.Now().Add(d)
	gen := g.gen
	g.t = time.AfterFunc(d, func() { s.fire(p, g, gen) })
}

// remaining is how long until g next expires (0: disarmed). tmu held.
func (g *gTimer) remaining() time.Duration {
	if g.due.IsZero() {
		return 0
	}
	return max(time.Until(g.due), time.Nanosecond)
}

// fire is g's expiry: post its signal (or count an overrun) and re-arm
// an interval timer.
func (s *timerSet) fire(p *Process, g *gTimer, gen uint64) {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if gen != g.gen || p.proc.group == nil || len(p.proc.group.threads) == 0 {
		return
	}
	if g.interval > 0 {
		// The next expiry keeps the period; expiries the callback
		// missed count as overruns.
		next := g.due.Add(g.interval)
		for now := time.Now(); !next.After(now); next = next.Add(g.interval) {
			g.overrun++
		}
		g.due = next
		g.t = time.AfterFunc(time.Until(next), func() { s.fire(p, g, gen) })
	} else {
		g.due = time.Time{}
		g.t = nil
	}
	if g.notify == sigevNone {
		return
	}
	target := p.timerTarget(g)
	if target == nil {
		return
	}
	target.proc.sigMu.Lock()
	pending := target.sig.pending&bit(g.signo) != 0 && g.info != nil && sameBytes(target.sig.info[g.signo].Raw, g.info)
	if pending {
		// Still queued: merge this expiry into it.
		g.overrun++
		binary.LittleEndian.PutUint32(g.info[20:], uint32(g.overrun))
		g.lastOver = g.overrun
		target.proc.sigMu.Unlock()
		return
	}
	target.proc.sigMu.Unlock()
	info := make([]byte, 128)
	binary.LittleEndian.PutUint32(info[8:], siTimerCode)
	binary.LittleEndian.PutUint32(info[16:], uint32(g.id))
	binary.LittleEndian.PutUint32(info[20:], uint32(g.overrun))
	binary.LittleEndian.PutUint64(info[24:], g.value)
	if g.id < 0 { // ITIMER_REAL: a plain kernel SIGALRM
		info = make([]byte, 128)
		binary.LittleEndian.PutUint32(info[8:], 0x80) // SI_KERNEL
	}
	g.lastOver, g.overrun, g.info, g.drop = g.overrun, 0, info, nil
	si := Siginfo{Signo: int32(g.signo), Raw: info}
	if g.id >= 0 {
		g.drop = new(atomic.Bool)
		si.Drop = g.drop
	}
	target.post(g.signo, si)
}

// sameBytes reports whether a and b are the same slice (the pending
// siginfo is the one this timer posted).
func sameBytes(a, b []byte) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// timerTarget is the thread g's signal goes to. Kernel.mu held.
func (p *Process) timerTarget(g *gTimer) *Process {
	grp := p.proc.group
	if g.notify&sigevThreadID != 0 {
		t := p.proc.k.threads[g.tid]
		if t == nil || t.proc.group != grp {
			return nil
		}
		return t
	}
	return liveThread(grp.leader, g.signo)
}

// timers returns p's timer set.
func (p *Process) timers() *timerSet {
	return &p.proc.group.timers
}

// stopTimers ends the group's timers: all of them (exit), or the POSIX
// ones (execve).
func (s *timerSet) stopTimers(all bool) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	for id, g := range s.posix {
		g.gen++
		if g.t != nil {
			g.t.Stop()
		}
		delete(s.posix, id)
	}
	if all && s.real != nil {
		s.real.gen++
		if s.real.t != nil {
			s.real.t.Stop()
		}
		s.real = nil
	}
}

// Guest time formats.

func getTimespec(b []byte) (time.Duration, bool) {
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false
	}
	sec = min(sec, maxSec) // beyond ~292 years: as good as never
	return time.Duration(sec)*time.Second + time.Duration(nsec), true
}

func putTimespec(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
}

func getTimeval(b []byte) (time.Duration, bool) {
	sec, usec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, false
	}
	sec = min(sec, maxSec) // beyond ~292 years: as good as never
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, true
}

func putTimeval(b []byte, d time.Duration) {
	// Linux rounds a running timer's remainder up to the next microsecond.
	d = (d + time.Microsecond - 1) / time.Microsecond * time.Microsecond
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// copyOutTimer writes {interval, value} to addr as the guest's itimerval
// (put = putTimeval) or itimerspec (putTimespec).
func (p *Process) copyOutTimer(addr uint64, interval, value time.Duration, put func([]byte, time.Duration)) error {
	var b [32]byte
	put(b[:16], interval)
	put(b[16:], value)
	_, err := p.MM.CopyOut(addr, b[:])
	return err
}

// realTimer returns the group's ITIMER_REAL, made on first use. tmu held.
func (s *timerSet) realTimer() *gTimer {
	if s.real == nil {
		s.real = &gTimer{id: -1, notify: sigevSignal, signo: int(unix.SIGALRM), clock: unix.CLOCK_REALTIME}
	}
	return s.real
}

// setitimer(which, new, old).
func sysSetitimer(p *Process, _ *Regs, a *args) (uint64, error) {
	which := int(int32(a[0]))
	if which != unix.ITIMER_REAL {
		if which == unix.ITIMER_VIRTUAL || which == unix.ITIMER_PROF {
			return 0, p.unimplemented("setitimer on a CPU-time timer")
		}
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if a[1] != 0 {
		var b [32]byte
		if _, err := p.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		var ok1, ok2 bool
		interval, ok1 = getTimeval(b[:16])
		value, ok2 = getTimeval(b[16:])
		if !ok1 || !ok2 {
			return 0, unix.EINVAL
		}
	}
	s := p.timers()
	s.tmu.Lock()
	g := s.realTimer()
	oldInterval, oldValue := g.interval, g.remaining()
	if value == 0 {
		interval = 0
	}
	s.arm(p, g, value, interval)
	s.tmu.Unlock()
	if a[2] != 0 {
		return 0, p.copyOutTimer(a[2], oldInterval, oldValue, putTimeval)
	}
	return 0, nil
}

// getitimer(which, value).
func sysGetitimer(p *Process, _ *Regs, a *args) (uint64, error) {
	which := int(int32(a[0]))
	if which != unix.ITIMER_REAL {
		if which == unix.ITIMER_VIRTUAL || which == unix.ITIMER_PROF {
			return 0, p.unimplemented("getitimer on a CPU-time timer")
		}
		return 0, unix.EINVAL
	}
	s := p.timers()
	s.tmu.Lock()
	g := s.realTimer()
	interval, value := g.interval, g.remaining()
	s.tmu.Unlock()
	return 0, p.copyOutTimer(a[1], interval, value, putTimeval)
}

// alarm(seconds): ITIMER_REAL without an interval; returns the seconds
// left of the previous one (rounded as Linux: at least 1 if any).
func sysAlarm(p *Process, _ *Regs, a *args) (uint64, error) {
	s := p.timers()
	s.tmu.Lock()
	defer s.tmu.Unlock()
	g := s.realTimer()
	left := g.remaining()
	s.arm(p, g, time.Duration(uint32(a[0]))*time.Second, 0)
	secs := uint64((left + time.Second/2) / time.Second)
	if secs == 0 && left > 0 {
		secs = 1
	}
	return secs, nil
}

// timer_create(clockid, sevp, timerid).
func sysTimerCreate(p *Process, _ *Regs, a *args) (uint64, error) {
	clock := int(int32(a[0]))
	if _, ok := clockNow(clock); !ok {
		if clock == unix.CLOCK_PROCESS_CPUTIME_ID || clock == unix.CLOCK_THREAD_CPUTIME_ID || clock < 0 {
			return 0, p.unimplemented("timer_create on a CPU-time clock")
		}
		return 0, unix.EINVAL
	}
	if clock == unix.CLOCK_REALTIME_ALARM || clock == unix.CLOCK_BOOTTIME_ALARM {
		return 0, unix.EPERM // needs CAP_WAKE_ALARM, which the guest has not
	}
	g := &gTimer{clock: clock, notify: sigevSignal, signo: int(unix.SIGALRM)}
	if a[1] != 0 {
		// struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify
		// (4), then _sigev_thread._tid (4).
		var b [64]byte
		if _, err := p.MM.CopyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		g.value = binary.LittleEndian.Uint64(b[0:])
		g.signo = int(int32(binary.LittleEndian.Uint32(b[8:])))
		g.notify = int(int32(binary.LittleEndian.Uint32(b[12:])))
		g.tid = int(int32(binary.LittleEndian.Uint32(b[16:])))
		switch g.notify {
		case sigevNone:
		case sigevSignal, sigevThreadID:
			if g.signo < 1 || g.signo > nsig {
				return 0, unix.EINVAL
			}
			if g.notify == sigevThreadID {
				k := p.proc.k
				k.mu.Lock()
				t := k.threads[g.tid]
				ok := t != nil && t.proc.group == p.proc.group
				k.mu.Unlock()
				if !ok {
					return 0, unix.EINVAL
				}
			}
		default: // SIGEV_THREAD is glibc's, on top of SIGEV_THREAD_ID
			return 0, unix.EINVAL
		}
	}
	s := p.timers()
	s.tmu.Lock()
	if len(s.posix) >= maxTimers {
		s.tmu.Unlock()
		return 0, unix.EAGAIN
	}
	if s.posix == nil {
		s.posix = map[int]*gTimer{}
	}
	for s.posix[s.nextID] != nil {
		s.nextID = (s.nextID + 1) % maxTimers
	}
	g.id = s.nextID
	s.nextID = (s.nextID + 1) % maxTimers
	if a[1] == 0 {
		g.value = uint64(g.id) // sigev_value.sival_int = the timer id
	}
	s.posix[g.id] = g
	s.tmu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(g.id))
	if _, err := p.MM.CopyOut(a[2], b[:]); err != nil {
		s.tmu.Lock()
		delete(s.posix, g.id)
		s.tmu.Unlock()
		return 0, err
	}
	return 0, nil
}

// posixTimer looks up timer id. tmu held.
func (s *timerSet) posixTimer(id uint64) (*gTimer, error) {
	g := s.posix[int(int32(id))]
	if g == nil || int32(id) < 0 {
		return nil, unix.EINVAL
	}
	return g, nil
}

// dropPending discards g's signal if it is still pending: since Linux 6.13
// a timer re-armed or deleted before its signal is taken drops it then.
// Kernel.mu and tmu held.
func (p *Process) dropPending(g *gTimer) {
	if g.drop != nil {
		g.drop.Store(true) // it stays pending (sigpending shows it) but is never taken
	}
	g.info, g.drop = nil, nil
}

// timer_settime(timerid, flags, new, old).
func sysTimerSettime(p *Process, _ *Regs, a *args) (uint64, error) {
	var b [32]byte
	if _, err := p.MM.CopyIn(a[2], b[:]); err != nil {
		return 0, err
	}
	interval, ok1 := getTimespec(b[:16])
	value, ok2 := getTimespec(b[16:])
	if !ok1 || !ok2 {
		return 0, unix.EINVAL
	}
	k := p.proc.k
	k.mu.Lock()
	s := p.timers()
	s.tmu.Lock()
	g, err := s.posixTimer(a[0])
	if err != nil {
		s.tmu.Unlock()
		k.mu.Unlock()
		return 0, err
	}
	p.dropPending(g)
	oldInterval, oldValue := g.interval, g.remaining()
	d := value
	if a[1]&timerAbstime != 0 && value != 0 {
		now, _ := clockNow(g.clock)
		d = value - now
		if d <= 0 {
			d = time.Nanosecond // already due: expires at once
		}
	}
	if value == 0 {
		d, interval = 0, 0
	}
	s.arm(p, g, d, interval)
	s.tmu.Unlock()
	k.mu.Unlock()
	if a[3] != 0 {
		return 0, p.copyOutTimer(a[3], oldInterval, oldValue, putTimespec)
	}
	return 0, nil
}

// timer_gettime(timerid, curr).
func sysTimerGettime(p *Process, _ *Regs, a *args) (uint64, error) {
	s := p.timers()
	s.tmu.Lock()
	g, err := s.posixTimer(a[0])
	var interval, value time.Duration
	if err == nil {
		interval, value = g.interval, g.remaining()
	}
	s.tmu.Unlock()
	if err != nil {
		return 0, err
	}
	return 0, p.copyOutTimer(a[1], interval, value, putTimespec)
}

// timer_getoverrun(timerid).
func sysTimerGetoverrun(p *Process, _ *Regs, a *args) (uint64, error) {
	s := p.timers()
	s.tmu.Lock()
	defer s.tmu.Unlock()
	g, err := s.posixTimer(a[0])
	if err != nil {
		return 0, err
	}
	return uint64(g.lastOver), nil
}

// timer_delete(timerid).
func sysTimerDelete(p *Process, _ *Regs, a *args) (uint64, error) {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	s := p.timers()
	s.tmu.Lock()
	defer s.tmu.Unlock()
	g, err := s.posixTimer(a[0])
	if err != nil {
		return 0, err
	}
	p.dropPending(g)
	s.arm(p, g, 0, 0)
	delete(s.posix, g.id)
	return 0, nil
}

// timerfd_create(clockid, flags): the host's timerfd.
func sysTimerfdCreate(p *Process, _ *Regs, a *args) (uint64, error) {
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
	fd, err := p.newFD(h, flags&unix.TFD_CLOEXEC != 0, &openFile{kind: kindHost})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

// timerfd_settime(fd, flags, new, old).
func sysTimerfdSettime(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	var nv, ov unix.ItimerSpec
	if _, err := p.MM.CopyIn(a[2], itimerBytes(&nv)); err != nil {
		return 0, err
	}
	if err := unix.TimerfdSettime(e.host, int(int32(a[1])), &nv, &ov); err != nil {
		return 0, err
	}
	if a[3] != 0 {
		if _, err := p.MM.CopyOut(a[3], itimerBytes(&ov)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// timerfd_gettime(fd, curr).
func sysTimerfdGettime(p *Process, _ *Regs, a *args) (uint64, error) {
	e, err := p.entry(a[0])
	if err != nil {
		return 0, err
	}
	var cur unix.ItimerSpec
	if err := unix.TimerfdGettime(e.host, &cur); err != nil {
		return 0, err
	}
	_, err = p.MM.CopyOut(a[1], itimerBytes(&cur))
	return 0, err
}

// itimerBytes is the 32 bytes of an itimerspec, as the guest lays it out.
func itimerBytes(t *unix.ItimerSpec) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(t)), unsafe.Sizeof(*t))
}

// unimplemented logs once that a feature the guest asked for is not
// implemented and returns ENOSYS.
func (p *Process) unimplemented(what string) error {
	if !p.warnedWhat[what] {
		if p.warnedWhat == nil {
			p.warnedWhat = map[string]bool{}
		}
		p.warnedWhat[what] = true
		p.Log.WithField("what", what).Debug("not implemented: ENOSYS")
	}
	return unix.ENOSYS
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
