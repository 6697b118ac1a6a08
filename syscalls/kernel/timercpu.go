// timercpu.go: timers on CPU-time clocks: ITIMER_VIRTUAL (the process's
// user time), ITIMER_PROF (user and system) and POSIX timers on
// CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and the clocks of
// other processes and threads (timecpu.go, cputime.go).
//
// A CPU clock has no wall-clock deadline, so while any of a thread group's
// CPU-time timers is armed a poller goroutine checks them, as Linux checks
// them at every tick of the task that runs: it sleeps until the nearest
// could expire at the fastest the clock can advance (one CPU per thread
// it counts, at most the host's CPUs), at least 1 ms and at most 100 ms,
// and wakes early when a timer is armed. A task that reads a CPU clock
// checks them too (CheckCPUTimers), so one spinning on its clock does not
// outrun a late poller. An expiry posts the signal as
// any sender does, so a task running guest code is kicked out of KVM_RUN
// to take it.
//
// Linux's rules: setitimer adds a tick to a CPU itimer's first expiry
// (TICK_NSEC), an itimer that fires late is advanced by one interval per
// check, a POSIX CPU timer by as many as it missed (counted as overruns);
// a timer whose expiry has passed but has not fired reads as "about to
// fire": a tick for getitimer, 1 ns for timer_gettime. A timer on a clock
// whose task has ended stops advancing.
//
// Lock order as timers.go: Kernel.Mu, then threadGroup.Tmu; the poller
// takes both and reads the clocks under them (nowLocked).
package kernel

import (
	"time"

	"golang.org/x/sys/unix"
)

const (
	itimerVirtID = -2 // GTimer.ID of ITIMER_VIRTUAL and ITIMER_PROF (< 0: SI_KERNEL)
	itimerProfID = -3
)

// nowLocked is the clock's value with Kernel.Mu held.
func (r CPUClockRef) nowLocked() time.Duration {
	var u Rusage
	switch {
	case r.Thread != nil:
		u = r.Thread.taskUsage()
	case r.Proc.Proc.Group != nil:
		u = r.Proc.Proc.Group.usage()
	default:
		u = r.Proc.taskUsage()
	}
	if r.Which == cpuclockVirt {
		return u.User
	}
	return u.User + u.Sys
}

// rate is how many CPUs at most advance the clock at once.
func (r CPUClockRef) rate() int {
	if r.Thread != nil || r.Proc.Proc.Group == nil {
		return 1
	}
	return max(1, min(len(r.Proc.Proc.Group.threads), CPUs()))
}

// tickNS is TICK_NSEC, the host kernel's tick (what clock_getres says of
// a PROF clock).
func tickNS() time.Duration {
	return CPUClockRef{Which: cpuclockProf}.Resolution()
}

// Itimer returns the group's ITIMER_VIRTUAL (virt) or ITIMER_PROF, made
// on first use. Tmu held.
func (s *timerSet) Itimer(p *Process, virt bool) *GTimer {
	pp := &s.prof
	id, sig, which := itimerProfID, unix.SIGPROF, cpuclockProf
	if virt {
		pp, id, sig, which = &s.virt, itimerVirtID, unix.SIGVTALRM, cpuclockVirt
	}
	if *pp == nil {
		*pp = &GTimer{ID: id, Notify: SigevSignal, Signo: int(sig), CPU: &CPUClockRef{Proc: p.Proc.Group.leader, Which: which}}
	}
	return *pp
}

// SetItimer is setitimer's for ITIMER_VIRTUAL and ITIMER_PROF (Linux's
// set_cpu_itimer): the old value and interval, relative. Kernel.Mu and
// Tmu held.
func (s *timerSet) SetItimer(p *Process, g *GTimer, value, interval time.Duration) (oldValue, oldInterval time.Duration) {
	oldValue, oldInterval = g.cpuRemaining(tickNS()), g.Interval
	g.Interval = interval
	g.cpuDue = 0
	if value > 0 {
		g.cpuDue = g.CPU.nowLocked() + value + tickNS()
		s.startPoller(p)
	}
	return oldValue, oldInterval
}

// cpuRemaining is how much CPU time until g fires (0: disarmed; soon
// when the expiry has passed and not yet fired). Kernel.Mu and Tmu held.
func (g *GTimer) cpuRemaining(soon time.Duration) time.Duration {
	if g.cpuDue == 0 {
		return 0
	}
	now := g.CPU.nowLocked()
	if now >= g.cpuDue {
		return soon
	}
	return g.cpuDue - now
}

// ClockValue is the current value of g's clock (for TIMER_ABSTIME).
// Kernel.Mu held for a CPU clock.
func (g *GTimer) ClockValue() time.Duration {
	if g.CPU != nil {
		return g.CPU.nowLocked()
	}
	now, _ := ClockNow(g.Clock)
	return now
}

// armCPU (re)starts POSIX CPU timer g: first expiry after d of its
// clock (<= 0: disarm), then every interval. Kernel.Mu and Tmu held.
func (s *timerSet) armCPU(p *Process, g *GTimer, d, interval time.Duration) {
	g.Interval, g.overrun, g.cpuDue = interval, 0, 0
	if d <= 0 {
		return
	}
	g.cpuDue = g.CPU.nowLocked() + d
	s.startPoller(p)
}

// startPoller makes sure the group's poller runs and looks again at its
// timers now. Kernel.Mu and Tmu held.
func (s *timerSet) startPoller(p *Process) {
	if s.pollWake == nil {
		s.pollWake = make(chan struct{}, 1)
	}
	if s.polling {
		select {
		case s.pollWake <- struct{}{}:
		default:
		}
		return
	}
	s.polling = true
	go s.poll(p, s.pollWake)
}

// CheckCPUTimers fires the due CPU-time timers of p's group now, as
// Linux's tick does while the task runs: kshim calls it when the task
// reads a CPU clock, so a program spinning on its clock sees its timer
// fire within the spin even when the poller wakes late (a goroutine's
// sleep overran a 60 ms spin under emulation: itimer_cpu's overrun line).
func (p *Process) CheckCPUTimers() {
	k := p.Proc.K
	if k == nil || p.Proc.Group == nil {
		return
	}
	s := p.Timers()
	k.Mu.Lock()
	s.Tmu.Lock()
	if s.polling {
		s.checkCPU(p)
	}
	s.Tmu.Unlock()
	k.Mu.Unlock()
}

// poll is the poller: it fires the group's due CPU-time timers until none
// is armed or the group has ended.
func (s *timerSet) poll(p *Process, wake chan struct{}) {
	k := p.Proc.K
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		k.Mu.Lock()
		s.Tmu.Lock()
		wait, more := s.checkCPU(p)
		if !more {
			s.polling = false
		}
		s.Tmu.Unlock()
		k.Mu.Unlock()
		if !more {
			return
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-wake:
			if !t.Stop() {
				<-t.C
			}
		}
	}
}

// checkCPU fires the due CPU-time timers and says how long to sleep,
// and whether any is still armed. Kernel.Mu and Tmu held.
func (s *timerSet) checkCPU(p *Process) (wait time.Duration, more bool) {
	g := p.Proc.Group
	if g == nil || len(g.threads) == 0 {
		return 0, false
	}
	wait = 100 * time.Millisecond
	// Each clock is read once a check, however many timers use it (a
	// process's clock reads every thread's).
	seen := map[CPUClockRef]time.Duration{}
	clock := func(c *CPUClockRef) time.Duration {
		v, ok := seen[*c]
		if !ok {
			v = c.nowLocked()
			seen[*c] = v
		}
		return v
	}
	check := func(t *GTimer, itimer bool) {
		if t == nil || t.cpuDue == 0 {
			return
		}
		now := clock(t.CPU)
		if now >= t.cpuDue {
			switch {
			case t.Interval <= 0:
				t.cpuDue = 0
			case itimer:
				t.cpuDue += t.Interval // check_cpu_itimer: one interval a check
			default:
				t.cpuDue += t.Interval
				if t.cpuDue <= now { // bump_cpu_timer: the missed ones are overruns
					n := (now-t.cpuDue)/t.Interval + 1
					t.cpuDue += n * t.Interval
					t.overrun = int(min(int64(t.overrun)+int64(n), maxOverrun))
				}
			}
			p.postExpiry(t)
		}
		if t.cpuDue == 0 {
			return
		}
		more = true
		left := max(t.cpuDue-now, 0) / time.Duration(t.CPU.rate())
		wait = min(wait, left)
	}
	check(s.virt, true)
	check(s.prof, true)
	for _, t := range s.Posix {
		if t.CPU != nil {
			check(t, false)
		}
	}
	return max(wait, time.Millisecond), more
}

// GetItimer is getitimer's for ITIMER_VIRTUAL and ITIMER_PROF (Linux's
// get_cpu_itimer). Kernel.Mu and Tmu held.
func (s *timerSet) GetItimer(p *Process, virt bool) (interval, value time.Duration) {
	g := s.Itimer(p, virt)
	return g.Interval, g.cpuRemaining(tickNS())
}

// CPUSleep is clock_nanosleep on a CPU clock (Linux's posix_cpu_nsleep):
// it sleeps until clock c reads target or a signal for p is pending
// (EINTR, with how much of the clock was left), polling as the timers do.
func (p *Process) CPUSleep(c CPUClockRef, target time.Duration) (time.Duration, error) {
	k := p.Proc.K
	for {
		k.Mu.Lock()
		now, rate := c.nowLocked(), c.rate()
		k.Mu.Unlock()
		if now >= target {
			return 0, nil
		}
		if p.Interrupted() {
			return target - now, unix.EINTR
		}
		wait := min(max((target-now)/time.Duration(rate), time.Millisecond), 100*time.Millisecond)
		p.AwaitPost(time.Now().Add(wait))
	}
}
