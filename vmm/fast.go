// fast.go: the fast syscall path. On PVM an exit to the VMM costs ~26 µs
// (the hypervisor's vcpu_load/vcpu_put trap to the outer hypervisor, and
// the `out` is emulated), while a guest `syscall` that stays in the guest
// costs ~1.4 µs, and a round trip through shared memory to a host thread
// that is already looking costs little more. So where the probe finds the
// cpl3-direct path, LSTAR is boot.FastEntry (stubs.S ufast): a syscall
// the server may take is written to the vCPU's fast area (boot.FastArea,
// a user page) and the guest spins on the reply, never leaving KVM_RUN;
// one host thread (fastServer) watches the open areas, runs the call with
// the personality's own handler, and writes the result. Anything it may
// not take, or no server awake, exits as before.
//
// Ownership of a task (the only thing that makes this safe):
//   - A slot is closed, open or busy (fastSlot.state). The vCPU's goroutine
//     opens it right before KVM_RUN and closes it right after (CAS open
//     -> closed, waiting while busy); other vCPUs may run the task's
//     tables meanwhile (its threads: see fastOpen). The server takes a
//     request only by CAS open -> busy and gives it back open. So the
//     task's state (kernel.Process, its MM, its flush queue) has one
//     owner at a time, and the CASes order their accesses.
//   - What the guest writes in the area is read once into a copy (its
//     arguments are untrusted as any syscall's). What the server did is
//     recorded on the host side (served, flag, regs): an exit from the
//     stub is checked against that, never against the area, and takes
//     the record's reply (fastNone after). Each task on the vCPU starts
//     with the area and the record reset (fastSlot.reset): the page is
//     user memory of every task the vCPU runs in turn.
//   - A call may run on the server only if its handler cannot block, reads
//     no register but the arguments, RIP, RFLAGS and RSP, and changes none
//     but RAX, or the reply makes the guest exit so the VMM returns as
//     from any syscall (syscalls.Fast; the server compares the registers).
//     A present page-table entry it changes (a copy-on-write break in a
//     CopyOut, an munmap) is made visible before the reply: the vCPU may
//     run user code meanwhile (a request posted by hand), so the path
//     needs the frame-invalidation protocol, the call invalidates every
//     old frame (ept.FlushQueue.SetConcurrent) and the frames it frees
//     go to no one before that (ept.Memory.Hold). A change still queued
//     for the guest (a huge page's) makes the reply ask for the exit. A request taken
//     while the queue is not empty is left (the guest is applying it, in
//     kflush: a hostile guest posts before an exit), so the server never
//     queues while the guest consumes.
//   - Pending signals, a group stop, a queued flush: the reply asks for the
//     exit and the VMM delivers them (kernel.Process.ReturnWork).
//
// Lock order: none held across the hand-off; the server takes the locks a
// handler takes, as the task's goroutine would.
package vmm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/syscalls"
	"kshim/syscalls/kernel"
)

// FastMode chooses the fast syscall path: FastAuto uses it where the
// probe finds the cpl3-direct path (PVM) and the host has a CPU to spare
// for the server (beside kshim's vCPUs running user code); FastOff never;
// FastOn wherever the path allows, whatever the CPUs (the server still
// sleeps when no call comes).
type FastMode int

const (
	FastAuto FastMode = iota
	FastOff
	FastOn
)

// ParseFastMode reads auto, on or off.
func ParseFastMode(s string) (FastMode, bool) {
	switch s {
	case "auto", "":
		return FastAuto, true
	case "on":
		return FastOn, true
	case "off":
		return FastOff, true
	}
	return FastAuto, false
}

const (
	slotClosed int32 = iota
	slotOpen
	slotBusy
)

// What the server did with the request it took.
const (
	fastNone     = iota // none taken since the task began, or its exit came
	fastReturned        // the guest returned to user code with the result
	fastExit            // ran; the guest exits at FastDone for the return
	fastLeft            // not run: the VMM runs it at the guest's exit
)

// fastSlot is one vCPU's fast area and the host's record of it.
type fastSlot struct {
	c     *VCPU
	area  []byte
	state atomic.Int32
	// Owned by the vCPU's goroutine while closed, by the server while
	// busy: the task and the last request taken with its outcome.
	p      *kernel.Process
	served uint64
	nr     uint64
	flag   int
	regs   kernel.Regs
	// calls and ns count what the server ran, for `run --stats`; taken by
	// the vCPU's goroutine (fastTake).
	calls map[uint64]*nsCount
	n     uint64
}

// fastServer is the host thread that answers posted requests.
type fastServer struct {
	slots atomic.Pointer[[]*fastSlot]
	mu    sync.Mutex // slot registration
	// bell is the server's wake-up: wakeUp sets it from 0 and wakes a
	// futex wait on it; the server takes it back (ring, sleep).
	bell  atomic.Uint32
	stop  chan struct{}
	done  chan struct{}
	awake atomic.Bool
	// open counts the open slots: vCPUs running user code, each a busy
	// host thread. The server watches only while they leave a CPU free.
	open atomic.Int32
	// lastSlow is when the last call the server could have taken came by
	// the exit (fastWake).
	lastSlow atomic.Int64
	// A request the server never took before the guest gave up means it
	// was not running (the host's other work had its CPU): it then sleeps
	// until backoffUntil, for backoff, which doubles while that repeats
	// and is reset by a watch without it (starve, run).
	backoffUntil atomic.Int64
	backoff      atomic.Int64
	starved      atomic.Bool
	ncpu         int32
	// always: FastOn, the CPUs are not counted.
	always bool
	// wakerCPU is the host CPU the vCPU thread that last woke the server
	// ran on (wakeUp); allowed, the CPUs the server's thread may use,
	// and pinned, the mask it set itself (empty: none yet) (moveOff).
	wakerCPU atomic.Int32
	allowed  unix.CPUSet
	pinned   unix.CPUSet
	// idleNS is how long it watches with nothing posted before it sleeps;
	// spins, the guest's budget of pause loops before it gives up
	// (measured by the server before it first wakes).
	idleNS int64
	spins  atomic.Uint64
	// tid is the server's host thread (set as it starts, before any
	// slot opens); serving, the vCPU whose task's call it runs (nil
	// between calls): a stop it makes is that vCPU's (vcpuOfThread).
	tid     atomic.Int32
	serving atomic.Pointer[VCPU]
}

// fastIdle: how long the server keeps watching after the last request. A
// request it catches saves an exit (~26 µs here); python3's start-up posts
// one every ~80 µs on average, in bursts.
const fastIdle = 300 * time.Microsecond

// fastYieldAfter: idle this long, the server yields its CPU at each look
// at the clock (sched_yield: at once back when nothing else wants it).
const fastYieldAfter = int64(10 * time.Microsecond)

// fastNoneOpen: how long the server watches while no vCPU runs user code:
// through the VMM's side of most exits (a fault-around's or an openat's
// 15-100 µs, not just a lone fault's ~5 µs), shorter than an exec or a
// fork. At 10 µs nearly every exit put the server to sleep, and the
// calls after it took exits until two came close enough to wake it
// again: python3 -c pass made 121 exits where it makes 83 now (medians
// of 20 interleaved runs: wall 33.2 -> 30.5 ms; git log 51.4 -> 49.4,
// gcc hello 124 -> 116, go_goroutines 26.4 -> 23.7 ms; the busybox
// pipeline and a static hello unchanged). It yields its CPU meanwhile
// (fastYieldAfter), so kshim's own threads still get it.
const fastNoneOpen = int64(300 * time.Microsecond)

// fastBackoffMin and fastBackoffMax bound how long the server sleeps
// after it was found not running (starve).
const (
	fastBackoffMin = int64(time.Millisecond)
	fastBackoffMax = int64(64 * time.Millisecond)
)

// fastWakeGap: a call the server could have taken wakes it when the last
// such call came by the exit less than this before (two exits' worth).
const fastWakeGap = int64(60 * time.Microsecond)

// fastWait: how long the guest spins for a reply before it exits: about
// four exits' worth here, longer than most calls take on the server (a
// file mmap, a getdents64), so a server the host has preempted costs at
// most that much more than the exit would have, and then sleeps (starve;
// a call the server is still running is waited for by the VMM:
// fastClose).
const fastWait = 100 * time.Microsecond

// startFast decides, once the path is probed, whether this machine uses
// the fast path, and starts its server.
func (m *Machine) startFast() {
	if m.fastMode == FastOff || m.fast != nil {
		return
	}
	if _, ok := m.path.(cpl3Path); !ok {
		return // VMX/SVM: an exit costs a few µs, the stub runs at CPL 0
	}
	if !m.invalidate {
		// The server changes entries while the vCPU runs: only an
		// invalidation drops the old translations there (a hostile
		// program need not wait in the stub for its exit's flush).
		return
	}
	if m.fastMode == FastAuto && runtime.NumCPU() < 2 {
		return // the server would take the guest's only CPU
	}
	s := &fastServer{
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		idleNS: int64(fastIdle),
		ncpu:   int32(runtime.NumCPU()),
	}
	s.slots.Store(&[]*fastSlot{})
	s.always = m.fastMode == FastOn
	m.fast = s
	go s.run()
	m.fitProcs() // a P for the server (procs.go)
}

// pauseNS measures one turn of the guest's wait loop (a pause and a
// compare), which the host runs at the same speed.
func pauseNS() int64 {
	const n = 2000
	t := nanotime()
	for i := 0; i < n; i++ {
		cpuPause()
	}
	ns := (nanotime() - t) / n
	if ns < 1 {
		ns = 1
	}
	return ns
}

// cpuPause is the PAUSE instruction (pause_amd64.s).
func cpuPause()

func (m *Machine) stopFast() {
	if s := m.fast; s != nil {
		close(s.stop)
		s.ring()
		<-s.done
	}
}

// fastSlotFor registers c's area with the server (once per vCPU).
func (c *VCPU) fastSlotFor() *fastSlot {
	s := c.m.fast
	if s == nil {
		return nil
	}
	if c.fast != nil {
		return c.fast
	}
	sl := &fastSlot{c: c, area: c.page(boot.FastArea)}
	sl.reset(s.spins.Load())
	s.mu.Lock()
	list := append(append([]*fastSlot(nil), *s.slots.Load()...), sl)
	s.slots.Store(&list)
	s.mu.Unlock()
	c.fast = sl
	return sl
}

// fastBitmap is the area's bitmap of the calls the guest may post.
var fastBitmap = func() (b [boot.FastCalls / 8]byte) {
	for nr := uint64(0); nr < boot.FastCalls; nr++ {
		if syscalls.Fast(nr) {
			b[nr/8] |= 1 << (nr % 8)
		}
	}
	return b
}()

// reset makes the area and the host's record of it a new task's (the
// slot closed): the page is a user page every task on the vCPU shares
// in turn, so nothing of the last task's stays there (its last call's
// arguments and result, its scribbles over the bitmap, the budget or
// the rest of the page), nor in the record (its last reply must not
// answer a jump of the next task's to the stub's exit); the bitmap and
// the measured budget are the VMM's (0 before the server first wakes:
// its wake-up writes it before any guest may post).
func (sl *fastSlot) reset(spins uint64) {
	clear(sl.area)
	copy(sl.area[boot.FastBitmap:], fastBitmap[:])
	putU64(sl.area[boot.FastSpins:], spins)
	atomic.StoreUint64(&sl.served, 0)
	sl.nr, sl.flag, sl.regs = 0, fastNone, kernel.Regs{}
}

// fastOpen lends the task to the server for one KVM_RUN.
func (c *VCPU) fastOpen() {
	sl := c.fast
	if sl == nil || sl.p == nil {
		return
	}
	// A task whose tables other vCPUs run too (threads) is served as one
	// alone: the server's changes are frame invalidations, which drop
	// every vCPU's translations before the reply, as a stop would have
	// them dropped; it stops the others only for a record (ept's
	// queueWrite, as the task's vCPU: vcpuOfThread), and another's stop
	// waits only for the task's vCPU to leave the guest (leftGuest comes
	// before fastClose's wait for the server).
	awake := uint8(0)
	// Not after a request the server never took (starve): it is not
	// running, and each post would cost the guest the whole budget
	// again until the server next looks and goes to sleep.
	if c.m.fast.awake.Load() && !c.m.fast.starved.Load() {
		awake = 1
	}
	sl.area[boot.FastAwake] = awake
	c.m.fast.open.Add(1)
	sl.state.Store(slotOpen)
}

// fastClose takes the task back after KVM_RUN: at once, unless the server
// is running a call for it, which cannot block.
func (c *VCPU) fastClose() {
	sl := c.fast
	if sl == nil {
		return
	}
	for !sl.state.CompareAndSwap(slotOpen, slotClosed) {
		if sl.state.Load() == slotClosed {
			return
		}
		cpuPause()
	}
	c.m.fast.open.Add(-1)
}

// fastBegin and fastEnd bracket a task's run on c.
func (c *VCPU) fastBegin(p *kernel.Process) {
	if sl := c.fastSlotFor(); sl != nil {
		sl.reset(c.m.fast.spins.Load())
		sl.p = p
	}
}

func (c *VCPU) fastEnd() {
	if sl := c.fast; sl != nil {
		c.fastClose()
		sl.p = nil
		clear(sl.calls)
		sl.n = 0
		sl.area[boot.FastAwake] = 0
	}
}

// fastTake moves the server's counts of c's calls into st.
func (c *VCPU) fastTake(st *Stats) {
	sl := c.fast
	if sl == nil || sl.n == 0 {
		return
	}
	if st.task != nil {
		for nr, k := range sl.calls {
			st.task.fastCall(nr, k.n, k.ns)
		}
	}
	st.FastSyscalls += sl.n
	clear(sl.calls)
	sl.n = 0
}

// fastWake asks the server to watch again: a call it could have taken
// came by the exit (the guest found no server awake).
func (c *VCPU) fastWake(nr uint64) {
	s := c.fastWaker()
	if s == nil {
		return
	}
	// Only while syscalls come close together (any call by the exit
	// counts): a task that makes one now and then (a short-lived child, a
	// program between phases) would have the server spin for nothing, on
	// a CPU kshim's own work wants.
	now := nanotime()
	if prev := s.lastSlow.Swap(now); now-prev > fastWakeGap || !syscalls.Fast(nr) {
		return
	}
	s.wakeIfFree(now)
}

// fastStart wakes the server as a program starts (its first run, an
// execve): its loader's burst of calls comes next (a python3 start-up
// made 13 calls by the exit, ~1.2 ms, before two came close enough to
// wake the server).
func (c *VCPU) fastStart() {
	if s := c.fastWaker(); s != nil {
		s.wakeIfFree(nanotime())
	}
}

// fastWaker is c's machine's server when it sleeps, else nil.
func (c *VCPU) fastWaker() *fastServer {
	s := c.m.fast
	if s == nil || s.awake.Load() {
		return nil
	}
	return s
}

// wakeIfFree wakes the server unless it would take a CPU a running guest
// needs (the caller about to run again) or it backs off (starve).
func (s *fastServer) wakeIfFree(now int64) {
	if s.cpuFree(1) && now >= s.backoffUntil.Load() {
		s.wakeUp()
	}
}

// wakeUp wakes the server from the calling vCPU thread (moveOff: the CPU
// it runs on).
func (s *fastServer) wakeUp() {
	s.wakerCPU.Store(int32(hostCPU()))
	s.ring()
}

// FUTEX_WAIT and FUTEX_WAKE with FUTEX_PRIVATE_FLAG (linux/futex.h).
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// ring wakes the server's sleep. A futex, not a channel: a goroutine
// locked to its thread, woken through the Go scheduler, waited for a P
// (a thread in KVM_RUN holds its own until sysmon takes it): 0.1-0.25 ms
// after a static hello's first run, 0.9-1.5 ms after python3's, whose
// loader meanwhile made a dozen calls by the exit. The futex wakes the
// thread itself, and a P is idle for it (procs.go).
func (s *fastServer) ring() {
	if s.bell.CompareAndSwap(0, 1) {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.bell)), futexWakePrivate, 1, 0, 0, 0)
	}
}

// sleep waits until the server is rung (or stopped: stopFast rings too)
// and takes the bell back; false once stopped.
func (s *fastServer) sleep() bool {
	for !s.bell.CompareAndSwap(1, 0) {
		// A blocking call (the runtime hands the P on meanwhile).
		// EAGAIN: rung between the look and the wait; EINTR: a
		// signal to this thread; either way, look again.
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&s.bell)), futexWaitPrivate, 0, 0, 0, 0)
	}
	select {
	case <-s.stop:
		return false
	default:
		return true
	}
}

// hostCPU is the host CPU the calling thread runs on (getcpu), -1 when
// unknown.
func hostCPU() int {
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 {
		return -1
	}
	return int(cpu)
}

// moveOff keeps the server's thread off the CPU of the vCPU thread that
// woke it. The host scheduler wakes a thread on its waker's CPU, and
// there the server shared that CPU with the guest spinning for its reply:
// every wake-up of a python3 start-up traced placed it so, and each
// request then waited out the budget (starve) until the host's time
// slice moved one of them. So the thread's mask leaves that CPU out
// (migrating it at once) while another is allowed; the vCPU threads
// keep their own masks, so the host still balances them. The thread
// never goes back to the Go runtime with the mask (run leaves it locked).
func (s *fastServer) moveOff() {
	waker := int(s.wakerCPU.Load())
	if s.allowed.Count() < 2 || waker < 0 || !s.allowed.IsSet(waker) {
		return
	}
	want := s.allowed
	want.Clear(waker)
	if s.pinned == want {
		return
	}
	if unix.SchedSetaffinity(0, &want) == nil {
		s.pinned = want
	}
}

// starve notes a request the server never took before its guest gave up.
func (s *fastServer) starve() {
	if s.starved.Swap(true) {
		return // one per watch
	}
	b := min(max(2*s.backoff.Load(), fastBackoffMin), fastBackoffMax)
	s.backoff.Store(b)
	s.backoffUntil.Store(nanotime() + b)
}

// cpuFree reports whether a host CPU is left for the server beside the
// vCPUs running user code and extra more (a caller about to run again):
// watching would otherwise take one from a guest.
func (s *fastServer) cpuFree(extra int32) bool {
	return s.always || s.open.Load()+extra < s.ncpu || s.ncpu < 2
}

func (s *fastServer) run() {
	defer close(s.done)
	// Locked for good: the thread ends with the goroutine, taking the
	// CPU mask moveOff may have set with it.
	runtime.LockOSThread()
	s.tid.Store(int32(unix.Gettid()))
	// Off the start-up path: the guests post nothing before the first
	// wake-up, and the areas get the budget with it (setAwake).
	s.spins.Store(max(1, uint64(fastWait)/uint64(pauseNS())))
	for _, cpu := range kernel.HostCPUs() { // the process's mask, as it started
		s.allowed.Set(cpu)
	}
	for s.sleep() {
		s.moveOff()
		s.setAwake(true)
		last := nanotime()
		lastOpen := last
		for turn := 0; ; turn++ {
			took := false
			for _, sl := range *s.slots.Load() {
				if sl.try() {
					took = true
				}
			}
			if took {
				last = nanotime()
				continue
			}
			if turn%64 == 0 {
				now := nanotime()
				if s.open.Load() > 0 {
					lastOpen = now
				}
				// Nothing posted for a while; no task in user code
				// (none can post: an exec, a wait, the set-up or the
				// end, where kshim's own threads want the CPUs); or
				// no CPU to spare.
				if now-last > s.idleNS || now-lastOpen > fastNoneOpen || !s.cpuFree(0) || s.starved.Load() {
					break
				}
				select {
				case <-s.stop:
					s.setAwake(false)
					return
				default:
				}
				if now-last > fastYieldAfter {
					// Idle a while: let a host thread that wants this
					// CPU have it (a task woken from a wait, kshim's
					// own work), rather than wait for its time slice.
					unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
				}
			}
			cpuPause()
		}
		s.setAwake(false)
		// A request posted while it was going to sleep: take it now
		// rather than let the guest wait out its budget.
		for _, sl := range *s.slots.Load() {
			sl.try()
		}
		if !s.starved.Swap(false) {
			s.backoff.Store(0)
		}
	}
}

// setAwake tells the guests whether to post. The flag is a hint: a
// guest that posts to a server gone to sleep exits when its budget runs
// out, and the VMM then runs the call.
func (s *fastServer) setAwake(on bool) {
	s.awake.Store(on)
	v := uint8(0)
	if on {
		v = 1
	}
	for _, sl := range *s.slots.Load() {
		putU64(sl.area[boot.FastSpins:], s.spins.Load())
		if !on || sl.state.Load() != slotClosed {
			// Closed slots set theirs at the next open.
			sl.area[boot.FastAwake] = v
		}
	}
}

func (sl *fastSlot) seq() uint64 {
	return atomic.LoadUint64((*uint64)(unsafe.Pointer(&sl.area[boot.FastSeq])))
}

// try takes and serves the slot's request, if one is posted.
func (sl *fastSlot) try() bool {
	if sl.state.Load() != slotOpen || sl.seq() == atomic.LoadUint64(&sl.served) {
		return false
	}
	if !sl.state.CompareAndSwap(slotOpen, slotBusy) {
		return false
	}
	seq := sl.seq()
	if seq == sl.served {
		sl.state.Store(slotOpen)
		return false
	}
	sl.serve(seq)
	sl.state.Store(slotOpen)
	return true
}

// serve runs request seq (the server owns the slot).
func (sl *fastSlot) serve(seq uint64) {
	a := sl.area
	u := kernel.Regs{
		RAX: getU64(a[boot.FastNR:]),
		RDI: getU64(a[boot.FastArgs:]),
		RSI: getU64(a[boot.FastArgs+8:]),
		RDX: getU64(a[boot.FastArgs+16:]),
		R10: getU64(a[boot.FastArgs+24:]),
		R8:  getU64(a[boot.FastArgs+32:]),
		R9:  getU64(a[boot.FastArgs+40:]),
		RCX: getU64(a[boot.FastRCX:]),
		R11: getU64(a[boot.FastR11:]),
		RSP: getU64(a[boot.FastRSP:]),
	}
	u.RIP, u.RFLAGS = u.RCX, userFlags(u.R11)
	atomic.StoreUint64(&sl.served, seq)
	sl.nr = u.RAX
	p := sl.p
	switch {
	case sl.c.Flush.Pending() || !syscalls.FastArgs(p, u.RAX, u.RDI, u.RSI, u.RDX, u.R10):
		// Pending: the guest has yet to apply its flush queue, so it
		// is in kflush, not waiting in the stub (a request posted
		// before an exit and taken at the next entry). A record the
		// call queued now could be lost to kflush1's plain store of
		// the count (ept/flush.go): the call is the VMM's.
		sl.flag = fastLeft
	default:
		t := nanotime()
		before := u
		p.NoWait, p.WouldWait = true, false
		// The vCPU runs meanwhile, maybe user code (a request posted
		// by hand, not from the stub): every changed entry's old frame
		// is invalidated before the call returns, and no frame it frees
		// goes to anyone before that (stale translations of it).
		q, mem := sl.c.Flush, sl.c.m.Mem
		q.SetConcurrent(true)
		mem.Hold()
		// The tables' writes from the server's thread go to the task's
		// queue, and a stop it makes is the task's vCPU's.
		srv, pt := sl.c.m.fast, p.MM.PageTable()
		pt.SetServer(srv.tid.Load(), q)
		srv.serving.Store(sl.c)
		syscalls.Syscall(p, &u)
		srv.serving.Store(nil)
		pt.SetServer(0, nil)
		err := q.Invalidate() // changes outside an operation's end too
		mem.Unhold()
		q.SetConcurrent(false)
		if err != nil {
			// As EndOp: a vCPU must not run on a stale translation.
			panic("vmm: invalidating the fast path's changed frames: " + err.Error())
		}
		p.NoWait = false
		ns := uint64(nanotime() - t)
		if p.WouldWait {
			// It would have waited, and stopped before any effect:
			// the task's thread runs it again (fastExit).
			u = before
			sl.flag = fastLeft
			break
		}
		before.RAX = u.RAX
		sl.flag = fastReturned
		if u != before || p.ReturnWork() || sl.c.Flush.Pending() {
			sl.flag = fastExit
		}
		sl.n++
		if sl.c.m.stats != nil {
			if sl.calls == nil {
				sl.calls = map[uint64]*nsCount{}
			}
			k := sl.calls[sl.nr]
			if k == nil {
				k = &nsCount{}
				sl.calls[sl.nr] = k
			}
			k.n++
			k.ns += ns
		}
	}
	sl.regs = u
	putU64(a[boot.FastResult:], u.RAX)
	flag := uint64(0)
	if sl.flag != fastReturned {
		flag = 1
	}
	putU64(a[boot.FastFlag:], flag)
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&a[boot.FastDoneAt])), seq)
}

// userFlags is RFLAGS as user code has it: IF is always set there (a
// fast return leaves it clear in the guest, where CPL 3 cannot set it, but
// user code runs as if it were).
func userFlags(f uint64) uint64 { return f | flagIF }

// fastExit handles the stub's exits (the vCPU's goroutine owns the slot
// again): at FastWait the guest stopped waiting, at FastDone the reply
// asked for the VMM's return. RAX is the request the guest waited for.
// It returns the number of a call it ran itself (ran).
func (c *VCPU) fastExit(p *kernel.Process, st *Stats) (nr uint64, ran bool, err error) {
	r, err := c.CPU.Regs()
	if err != nil {
		return 0, false, err
	}
	_, waited := fastRIP(r.RIP)
	if waited && st.task != nil {
		st.task.fastWaits++
	}
	sl := c.fast
	u := (*kernel.Regs)(unsafe.Pointer(r))
	seq := r.RAX
	c.Flush.Applied()
	switch {
	case sl == nil || seq == 0:
		return 0, false, c.fastStray(p, r)
	case seq == sl.served && (sl.flag == fastExit || sl.flag == fastReturned && waited):
		// Run by the server: return as from any syscall with what the
		// call left (a restart's RIP and RAX included). A reply that
		// returned to user code comes here only from the wait (a kick
		// or the budget's end as the reply came); at FastDone it is a
		// jump, as is a second exit for one reply (fastNone).
		ran := sl.regs
		u.RAX, u.RIP, u.RFLAGS = ran.RAX, ran.RIP, userFlags(r.R11)
		sl.flag = fastNone
	case seq == sl.served && sl.flag == fastLeft || seq != sl.served && waited:
		// Left to the VMM, or never taken (the server is kept from
		// taking it now: served moves past it). The number is the one
		// the guest posted; the arguments are still in its registers.
		nr = sl.nr
		if seq != sl.served {
			nr = getU64(sl.area[boot.FastNR:])
			atomic.StoreUint64(&sl.served, sl.seq())
			if c.m.fast.awake.Load() {
				c.m.fast.starve() // posted to a server that never came
			}
		}
		sl.flag = fastNone
		u.RAX, u.RIP, u.RFLAGS = nr, r.RCX, userFlags(r.R11)
		st.Syscalls++
		ran = true
		syscalls.Syscall(p, u)
		c.fastWake(nr)
	default:
		// FastDone with no reply of the server's behind it: a jump.
		return 0, false, c.fastStray(p, r)
	}
	c.syscallReturn(p, r)
	return nr, ran, nil
}

// atFastExit reports whether the syscall port's exit came from ufast.
func (c *VCPU) atFastExit() bool {
	r, err := c.CPU.Regs()
	if err != nil {
		return false
	}
	ok, _ := fastRIP(r.RIP)
	return ok
}

// fastStray: a program jumped to one of ufast's exits. Natively the stub
// page is kernel memory: the fault a jump there gives (strayEntry's, at
// the syscall entry: where the jump landed is not known).
func (c *VCPU) fastStray(p *kernel.Process, r *kvm.Regs) error {
	return c.strayEntry(p, r, false)
}

// lstar is c's syscall entry: ufast where the machine uses the fast path.
func (c *VCPU) lstar() uint64 {
	if c.fastSlotFor() != nil {
		return boot.FastEntry
	}
	return boot.SyscallEntry
}

// fastRIP reports whether an exit at rip is one of ufast's (at the `out`,
// or past it where the host reports that); waited, whether at FastWait
// or anywhere in the wait before it (a kick: RAX is the request there
// too).
func fastRIP(rip uint64) (ok, waited bool) {
	switch {
	case rip >= boot.FastPosted && rip <= boot.FastWait+2:
		return true, true
	case rip == boot.FastDone, rip == boot.FastDone+2:
		return true, false
	}
	return false, false
}
