// timers.go: interval timers and POSIX timers (alarm, setitimer,
// getitimer, timer_create and friends), and timerfd.
//
// A process's timers live in its thread group. Each armed timer is a Go
// timer whose callback posts the signal as any sender does (under
// Kernel.Mu): to the process, or to one thread for SIGEV_THREAD_ID. A
// timer whose last signal is still pending counts an overrun instead of
// queueing another (si_overrun, timer_getoverrun), as Linux does, and a
// timer re-armed or deleted drops its pending signal (Linux 6.13 on).
//
// Lifetime: POSIX timers go at execve and exit; ITIMER_REAL (alarm),
// ITIMER_VIRTUAL and ITIMER_PROF survive execve; fork's child starts with
// none. Timers on CPU-time clocks (ITIMER_VIRTUAL, ITIMER_PROF, POSIX
// timers on CPU clocks) are timercpu.go's: a poller, not Go timers.
//
// Lock order: Kernel.Mu, then threadGroup.Tmu (timer state), then a
// Process's SigMu. A callback takes Kernel.Mu first.
//
// timerfd is the host's: its expirations are host kernel state, read and
// polled like any host fd.
package kernel

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	SigevSignal   = 0
	SigevNone     = 1
	sigevThread   = 2
	SigevThreadID = 4
	MaxTimers     = 1 << 14
	TimerAbstime  = 1
	siTimerCode   = 0xfffffffe // SI_TIMER (-2) as the guest's int
	maxSec        = int64(1<<63-1)/int64(time.Second) - 1
	// maxOverrun is where si_overrun and timer_getoverrun saturate
	// (DELAYTIMER_MAX, INT_MAX); minRearm the shortest wait between two
	// expiries of a wall-clock timer.
	maxOverrun = 1<<31 - 1
	minRearm   = 50 * time.Microsecond
)

// GTimer is one timer: a POSIX timer or the process's ITIMER_REAL.
type GTimer struct {
	ID       int
	Clock    int
	Notify   int // sigev_notify
	Signo    int
	Value    uint64 // sigev_value, for si_value
	Tid      int    // SIGEV_THREAD_ID's target
	Interval time.Duration
	due      time.Time // next expiry (monotonic); zero: disarmed
	t        *time.Timer
	gen      uint64 // bumps on every arm/disarm: a stale callback does nothing
	overrun  int    // expiries merged into the pending signal
	LastOver int    // overrun of the last signal taken (settle; timer_getoverrun)
	info     []byte // the siginfo posted last, while it may still be pending
	drop     *atomic.Bool
	gone     *atomic.Bool // set once that siginfo has left its queue
	// CPU is the clock of a CPU-time timer (nil: a clock Go timers serve)
	// and cpuDue its value at the next expiry (0: disarmed): timercpu.go.
	CPU    *CPUClockRef
	cpuDue time.Duration
}

// timerSet is a thread group's timers (guarded by tmu).
type timerSet struct {
	Tmu    sync.Mutex
	Posix  map[int]*GTimer
	NextID int
	real   *GTimer // ITIMER_REAL and alarm
	// ITIMER_VIRTUAL and ITIMER_PROF, and whether the CPU-time poller
	// runs, with its wake-up (timercpu.go).
	virt, prof *GTimer
	polling    bool
	pollWake   chan struct{}
}

// ClockNow returns clock's current time (CLOCK_REALTIME, MONOTONIC,
// BOOTTIME and their variants) and whether kshim serves timers on it.
func ClockNow(clock int) (time.Duration, bool) {
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

// Arm (re)starts g: first expiry after d (<= 0: disarm), then every
// interval. tmu held (and Kernel.Mu before it for a CPU-time timer).
func (s *timerSet) Arm(p *Process, g *GTimer, d, interval time.Duration) {
	if g.CPU != nil {
		s.armCPU(p, g, d, interval) // timercpu.go
		return
	}
	g.gen++
	if g.t != nil {
		g.t.Stop()
		g.t = nil
	}
	g.Interval, g.due, g.overrun = interval, time.Time{}, 0
	if d <= 0 {
		return
	}
	g.due = time.Now().Add(d)
	gen := g.gen
	g.t = time.AfterFunc(d, func() { s.fire(p, g, gen) })
}

// Settle makes LastOver the overrun of the last signal g posted if it has
// been taken (timer_getoverrun: Linux sets it_overrun_last when the
// signal is delivered, not while expiries merge into a pending one). A
// taken siginfo is no longer written (postExpiry merges only into one not
// gone). tmu held.
func (g *GTimer) Settle() {
	if g.info != nil && g.gone != nil && g.gone.Load() && (g.drop == nil || !g.drop.Load()) {
		g.LastOver = int(binary.LittleEndian.Uint32(g.info[20:]))
	}
}

// Remaining is how long until g next expires (0: disarmed). tmu held
// (and Kernel.Mu before it for a CPU-time timer).
func (g *GTimer) Remaining() time.Duration {
	if g.CPU != nil {
		return g.cpuRemaining(time.Nanosecond) // timercpu.go: about to fire
	}
	if g.due.IsZero() {
		return 0
	}
	return max(time.Until(g.due), time.Nanosecond)
}

// fire is g's expiry: post its signal (or count an overrun) and re-arm
// an interval timer.
func (s *timerSet) fire(p *Process, g *GTimer, gen uint64) {
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	s.Tmu.Lock()
	defer s.Tmu.Unlock()
	if gen != g.gen || p.Proc.Group == nil || len(p.Proc.Group.threads) == 0 {
		return
	}
	if g.Interval > 0 {
		// The next expiry keeps the period; expiries the callback
		// missed count as overruns.
		next := g.due.Add(g.Interval)
		if late := time.Since(next); late >= 0 {
			n := late/g.Interval + 1 // by division: an interval may be 1 ns
			next = next.Add(n * g.Interval)
			g.overrun += int(min(n, maxOverrun))
		}
		g.due = next
		// At most one expiry each minRearm: the overruns count the rest
		// (Linux re-arms a timer only when its signal is taken).
		g.t = time.AfterFunc(max(time.Until(next), minRearm), func() { s.fire(p, g, gen) })
	} else {
		g.due = time.Time{}
		g.t = nil
	}
	p.postExpiry(g)
}

// postExpiry posts g's signal for an expiry (or counts an overrun while
// the last one is still pending). Kernel.Mu and tmu held.
func (p *Process) postExpiry(g *GTimer) {
	if g.Notify == SigevNone {
		return
	}
	target := p.timerTarget(g)
	if target == nil {
		return
	}
	// Still queued: merge this expiry into it (its siginfo's si_overrun
	// is g.info's). Checked and written under the lock of the queue it
	// is on, under which the taker marks it gone before reading it.
	lock := &target.Proc.SigMu
	if g.Notify&SigevThreadID == 0 && target.Proc.Group != nil {
		lock = &target.Proc.Group.sigMu
	}
	lock.Lock()
	if g.info != nil && g.gone != nil && !g.gone.Load() {
		g.overrun = min(g.overrun+1, maxOverrun)
		binary.LittleEndian.PutUint32(g.info[20:], uint32(g.overrun))
		lock.Unlock()
		return
	}
	lock.Unlock()
	g.Settle() // the signal before this one may have been taken
	info := make([]byte, 128)
	binary.LittleEndian.PutUint32(info[8:], siTimerCode)
	binary.LittleEndian.PutUint32(info[16:], uint32(g.ID))
	g.overrun = min(g.overrun, maxOverrun)
	binary.LittleEndian.PutUint32(info[20:], uint32(g.overrun))
	binary.LittleEndian.PutUint64(info[24:], g.Value)
	if g.ID < 0 { // ITIMER_REAL: a plain kernel SIGALRM
		info = make([]byte, 128)
		binary.LittleEndian.PutUint32(info[8:], 0x80) // SI_KERNEL
	}
	g.overrun, g.info, g.drop = 0, info, nil
	g.gone = new(atomic.Bool)
	si := Siginfo{Signo: int32(g.Signo), Raw: info, Gone: g.gone}
	if g.ID >= 0 {
		g.drop = new(atomic.Bool)
		si.Drop = g.drop
	}
	// A timer's siginfo is preallocated on Linux: never refused, never
	// counted against RLIMIT_SIGPENDING (sigqueue.go).
	if g.Notify&SigevThreadID != 0 {
		_ = target.send(g.Signo, si, true)
	} else {
		_ = target.postGroup(g.Signo, si)
	}
	if g.gone.Load() { // discarded at once (ignored): not pending
		g.info = nil
	}
}

// timerTarget is the thread g's signal goes to. Kernel.Mu held.
func (p *Process) timerTarget(g *GTimer) *Process {
	grp := p.Proc.Group
	if g.Notify&SigevThreadID != 0 {
		t := p.Proc.K.Threads[g.Tid]
		if t == nil || t.Proc.Group != grp {
			return nil
		}
		return t
	}
	return liveThread(grp.leader, g.Signo)
}

// Timers returns p's timer set.
func (p *Process) Timers() *timerSet {
	return &p.Proc.Group.timers
}

// stopTimers ends the group's timers: all of them (exit), or the POSIX
// ones (execve).
func (s *timerSet) stopTimers(all bool) {
	s.Tmu.Lock()
	defer s.Tmu.Unlock()
	for id, g := range s.Posix {
		g.gen++
		if g.t != nil {
			g.t.Stop()
		}
		delete(s.Posix, id)
	}
	if all && s.real != nil {
		s.real.gen++
		if s.real.t != nil {
			s.real.t.Stop()
		}
		s.real = nil
	}
	if all {
		s.virt, s.prof = nil, nil // the CPU-time poller then ends (timercpu.go)
	}
}

// Guest time formats.

func GetTimespec(b []byte) (time.Duration, bool) {
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false
	}
	sec = min(sec, maxSec) // beyond ~292 years: as good as never
	return time.Duration(sec)*time.Second + time.Duration(nsec), true
}

func PutTimespec(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
}

func GetTimeval(b []byte) (time.Duration, bool) {
	sec, usec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, false
	}
	sec = min(sec, maxSec) // beyond ~292 years: as good as never
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, true
}

func PutTimeval(b []byte, d time.Duration) {
	// Linux rounds a running timer's remainder up to the next microsecond.
	d = (d + time.Microsecond - 1) / time.Microsecond * time.Microsecond
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// CopyOutTimer writes {interval, value} to addr as the guest's itimerval
// (put = PutTimeval) or itimerspec (PutTimespec).
func (p *Process) CopyOutTimer(addr uint64, interval, value time.Duration, put func([]byte, time.Duration)) error {
	var b [32]byte
	put(b[:16], interval)
	put(b[16:], value)
	_, err := p.MM.CopyOut(addr, b[:])
	return err
}

// RealTimer returns the group's ITIMER_REAL, made on first use. tmu held.
func (s *timerSet) RealTimer() *GTimer {
	if s.real == nil {
		s.real = &GTimer{ID: -1, Notify: SigevSignal, Signo: int(unix.SIGALRM), Clock: unix.CLOCK_REALTIME}
	}
	return s.real
}

// PosixTimer looks up timer id. tmu held.
func (s *timerSet) PosixTimer(id uint64) (*GTimer, error) {
	g := s.Posix[int(int32(id))]
	if g == nil || int32(id) < 0 {
		return nil, unix.EINVAL
	}
	return g, nil
}

// DropPending discards g's signal if it is still pending: since Linux 6.13
// a timer re-armed or deleted before its signal is taken drops it then.
// Kernel.Mu and tmu held.
func (p *Process) DropPending(g *GTimer) {
	g.Settle() // a signal taken before keeps its count
	if g.drop != nil {
		g.drop.Store(true) // it stays pending (sigpending shows it) but is never taken
	}
	g.info, g.drop, g.gone = nil, nil, nil
}

// ItimerBytes is the 32 bytes of an itimerspec, as the guest lays it out.
func ItimerBytes(t *unix.ItimerSpec) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(t)), unsafe.Sizeof(*t))
}

// Unimplemented logs once that a feature the guest asked for is not
// implemented and returns ENOSYS.
func (p *Process) Unimplemented(what string) error {
	if !p.warnedWhat[what] {
		if p.warnedWhat == nil {
			p.warnedWhat = map[string]bool{}
		}
		p.warnedWhat[what] = true
		p.Log.WithField("what", what).Debug("not implemented: ENOSYS")
	}
	return unix.ENOSYS
}
