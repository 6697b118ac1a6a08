// execcaps.go: Begin's cut of the exec capabilities (the bounding set, the
// ambient set) and no_new_privs on every thread in one round of signals,
// instead of one all-threads call per capability.
//
// An all-threads call (syscall.AllThreadsSyscall, which psx uses without
// cgo) stops the world and signals every other thread, then waits for each
// to run the call: ~70-130 us with the 4 threads kshim has when it
// starts, and far more on a loaded host, where each waits for every
// thread to be scheduled; the bounding set took 41 of them (~3 ms, up to
// hundreds of ms when the host was busy). Here each thread gets one
// signal, whose handler (execcaps_amd64.s) makes all the calls on it.
//
// Invariants:
//   - Every thread ends up cut: the caller cuts its own thread, then
//     signals each thread a listing of /proc/self/task shows, waits until
//     every signalled thread has run the handler, and lists again until a
//     listing shows no thread it has not signalled. A thread made while
//     this goes on is cloned from a thread that is either cut (and it
//     inherits the cut) or signalled but not yet handled, and then it is
//     in the thread list before its parent's handler runs, so in the next
//     listing. A last all-threads call (the Go runtime's own, which takes
//     the runtime's lock on new threads) then reads a dropped capability
//     on every thread, and the runtime kills kshim if any thread differs
//     from the caller's: a thread missed (it would have to exit in the
//     middle) is a crash, never a thread left uncut.
//   - The handler is kshim's only for the call (cutMu): cutSignal is a
//     realtime signal the Go runtime neither sends nor handles but keeps
//     unblocked on every thread, each thread is signalled once and the
//     caller waits for every signalled thread's handler, and the signal's
//     previous action is restored before cutAllThreads returns.
//     The handler runs on the thread's Go signal stack with every signal
//     blocked and touches no Go state.
//   - A failure before another thread is signalled changes nothing but
//     the caller's thread, whose cut the all-threads calls then repeat
//     (each is idempotent); any failure after is an error for Begin, so
//     Finish refuses and kshim runs nothing.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/psx"
)

// cutSignal is SIGRTMIN+2 (34, musl's SIGSYNCCALL): the Go runtime
// unblocks it on every thread it starts (for cgo with musl), so a signal
// mask kshim inherits cannot keep a thread from running the handler, as
// it could another realtime signal's; and a static kshim neither sends it
// nor handles it (its action is left as inherited, and restored as such).
// Not SIGRTMIN+1, the runtime's own all-threads signal.
const cutSignal = 34

// What the handler reads and counts (execcaps_amd64.s).
var (
	cutMask   uint64 // capabilities to drop from the bounding set
	cutDone   uint32 // threads whose handler made every call
	cutFailed uint32 // threads where a call failed
	cutMu     sync.Mutex
)

// errNoOneRound: the one-round cut could not start; only the caller's
// thread may have been changed.
var errNoOneRound = errors.New("one-round cut unavailable")

// kernelSigaction is the kernel's struct sigaction on x86-64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	saOnStack  = 0x08000000
	saRestart  = 0x10000000
	saRestorer = 0x04000000
)

// cutThisThread makes the handler's calls on the calling thread.
func cutThisThread(mask uint64) error {
	for c := 0; c < 64; c++ {
		if mask&(1<<c) != 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clearing the ambient set: %w", err)
	}
	return nil
}

func sigaction(sig int, act, old *kernelSigaction) error {
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// threadIDs lists the process's threads.
func threadIDs() ([]int, error) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// cutAllThreads drops the capabilities in mask (a non-empty subset of
// the bounding set) from the bounding set, sets no_new_privs and clears
// the ambient set, on every thread. errNoOneRound: nothing was done but
// on the caller's thread; use the all-threads calls.
func cutAllThreads(mask uint64) error {
	if !haveCutHandler || mask == 0 {
		return errNoOneRound
	}
	cutMu.Lock()
	defer cutMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	tids, err := threadIDs()
	if err != nil {
		return errNoOneRound // no /proc: nothing to list the threads by
	}
	if err := cutThisThread(mask); err != nil {
		return errNoOneRound
	}
	atomic.StoreUint64(&cutMask, mask)
	atomic.StoreUint32(&cutDone, 0)
	atomic.StoreUint32(&cutFailed, 0)
	act := kernelSigaction{handler: cutHandlerPC(), flags: saOnStack | saRestart | saRestorer,
		restorer: cutRestorerPC(), mask: ^uint64(0)}
	var old kernelSigaction
	if err := sigaction(cutSignal, &act, &old); err != nil {
		return errNoOneRound
	}
	defer sigaction(cutSignal, &old, nil)

	pid := unix.Getpid()
	signalled := map[int]bool{self: true}
	sent := uint32(0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		fresh := false
		for _, tid := range tids {
			if signalled[tid] {
				continue
			}
			fresh = true
			signalled[tid] = true
			if err := unix.Tgkill(pid, tid, cutSignal); err != nil {
				if err == unix.ESRCH {
					continue // gone
				}
				return fmt.Errorf("signalling thread %d: %w", tid, err)
			}
			sent++
		}
		if !fresh {
			break
		}
		for atomic.LoadUint32(&cutDone)+atomic.LoadUint32(&cutFailed) < sent {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d of %d threads did not cut their exec capabilities", sent-atomic.LoadUint32(&cutDone), sent)
			}
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
		if n := atomic.LoadUint32(&cutFailed); n != 0 {
			return fmt.Errorf("%d threads could not cut their exec capabilities", n)
		}
		if tids, err = threadIDs(); err != nil {
			return fmt.Errorf("listing the threads: %w", err)
		}
	}
	// The check on every thread, under the runtime's lock on new
	// threads: the first capability cut reads 0 here, and the runtime
	// kills kshim if it does not read 0 on another thread.
	low := 0
	for mask&(1<<low) == 0 {
		low++
	}
	r, _, e := psx.Syscall3(unix.SYS_PRCTL, unix.PR_CAPBSET_READ, uintptr(low), 0)
	if e != 0 || r != 0 {
		return fmt.Errorf("capability %d still in the bounding set (%d, %v)", low, r, e)
	}
	return nil
}
