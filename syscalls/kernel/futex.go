// futex.go: futex(2): wait, wake, requeue and the bitset variants, with
// timeouts, for the threads of a process.
//
// Invariants:
//   - A futex is named as Linux's get_futex_key names it: a private one
//     (FUTEX_PRIVATE_FLAG), or one in private memory, by (memory manager,
//     address), which the threads of a process share; one in shared memory
//     by what backs it (guestmm's SharedFutexKey: the host file or the
//     shared anonymous object, and the offset), so processes that map the
//     same memory meet there (process-shared mutexes, POSIX semaphores).
//   - Kernel.fmu guards the waiter lists. A waiter is queued under fmu
//     after the value check, so a wake that follows the waker's store
//     cannot be lost. Lock order: fmu, then the memory manager's lock (the
//     value is read with CopyIn).
//   - A waiter returns on a wake, its timeout, or a signal posted to its
//     thread (EINTR).
package kernel

import (
	"time"

	"golang.org/x/sys/unix"

	"kshim/guestmm"
)

const (
	FutexWait          = 0
	FutexWake          = 1
	FutexRequeue       = 3
	FutexCmpRequeue    = 4
	FutexWaitBitset    = 9
	FutexWakeBitset    = 10
	FutexPrivateFlag   = 128
	FutexClockRealtime = 256
	FutexBitsetAny     = 0xffffffff
)

type futexKey struct {
	mm   *guestmm.MM
	obj  any    // shared memory's backing (mm nil): ept.FileID or *guestmm.Object
	addr uint64 // the address in mm, or the byte offset in obj
}

// futexKeyOf names the futex at addr; Kernel.fmu need not be held.
func (p *Process) futexKeyOf(addr uint64, private bool) futexKey {
	if !private {
		if obj, off := p.MM.SharedFutexKey(addr); obj != nil {
			return futexKey{obj: obj, addr: off}
		}
	}
	return futexKey{mm: p.MM, addr: addr}
}

type futexWaiter struct {
	key    futexKey
	bitset uint32
	woken  chan struct{} // closed by the waker
}

type futexTable struct {
	q map[futexKey][]*futexWaiter
}

func (p *Process) futexLoad(addr uint64) (uint32, error) {
	var b [4]byte
	if _, err := p.MM.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

func (p *Process) FutexWait(addr uint64, private bool, val, bitset uint32, deadline time.Time) error {
	k := p.Proc.K
	if k == nil {
		return unix.ENOSYS
	}
	key := p.futexKeyOf(addr, private)
	k.fmu.Lock()
	cur, err := p.futexLoad(addr)
	if err != nil {
		k.fmu.Unlock()
		return err
	}
	if cur != val {
		k.fmu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{key: key, bitset: bitset, woken: make(chan struct{})}
	if k.futex.q == nil {
		k.futex.q = map[futexKey][]*futexWaiter{}
	}
	k.futex.q[key] = append(k.futex.q[key], w)
	k.fmu.Unlock()

	err = p.WaitWoken(w.woken, deadline)
	if err != nil && !k.futexCancel(w) {
		return nil // woken meanwhile
	}
	return err
}

// futexCancel takes w off its queue; false if a waker got there first.
func (k *Kernel) futexCancel(w *futexWaiter) bool {
	k.fmu.Lock()
	defer k.fmu.Unlock()
	ws := k.futex.q[w.key]
	for i, x := range ws {
		if x == w {
			k.futex.q[w.key] = append(ws[:i:i], ws[i+1:]...)
			if len(k.futex.q[w.key]) == 0 {
				delete(k.futex.q, w.key)
			}
			return true
		}
	}
	return false
}

func (p *Process) FutexWake(addr uint64, private bool, n int, bitset uint32) int {
	k := p.Proc.K
	if k == nil || n <= 0 {
		return 0
	}
	key := p.futexKeyOf(addr, private)
	k.fmu.Lock()
	defer k.fmu.Unlock()
	ws := k.futex.q[key]
	woken := 0
	keep := ws[:0]
	for _, w := range ws {
		if woken < n && w.bitset&bitset != 0 {
			close(w.woken)
			woken++
			continue
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		delete(k.futex.q, key)
	} else {
		k.futex.q[key] = keep
	}
	return woken
}

func (p *Process) FutexRequeue(addr, addr2 uint64, private bool, nwake, nmove int, cmp bool, val3 uint32) (uint64, error) {
	k := p.Proc.K
	if k == nil {
		return 0, unix.ENOSYS
	}
	key, key2 := p.futexKeyOf(addr, private), p.futexKeyOf(addr2, private)
	k.fmu.Lock()
	defer k.fmu.Unlock()
	if cmp {
		cur, err := p.futexLoad(addr)
		if err != nil {
			return 0, err
		}
		if cur != val3 {
			return 0, unix.EAGAIN
		}
	}
	ws := k.futex.q[key]
	delete(k.futex.q, key)
	done := 0
	var rest []*futexWaiter
	for _, w := range ws {
		switch {
		case done < nwake:
			close(w.woken)
			done++
		case nmove > 0:
			w.key = key2
			k.futex.q[key2] = append(k.futex.q[key2], w)
			nmove--
			done++
		default:
			rest = append(rest, w)
		}
	}
	if len(rest) > 0 {
		k.futex.q[key] = rest
	}
	if !cmp {
		return uint64(min(done, nwake)), nil // FUTEX_REQUEUE counts the woken only
	}
	return uint64(done), nil
}
