// futex.go: futex(2): wait, wake, requeue and the bitset variants, with
// timeouts, for the threads of a process.
//
// The handlers: they decode arguments, copy guest memory in and out
// and call into package kernel, whose futex.go holds the state they act on
// with its invariants and lock order.
package syscalls

import (
	"time"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

func sysFutex(p *kernel.Process, _ *kernel.Regs, a *args) (uint64, error) {
	addr, op, val := a[0], int(a[1]), uint32(a[2])
	cmd := op &^ (kernel.FutexPrivateFlag | kernel.FutexClockRealtime)
	private := op&kernel.FutexPrivateFlag != 0
	if addr%4 != 0 {
		return 0, unix.EINVAL
	}
	switch cmd {
	case kernel.FutexWait, kernel.FutexWaitBitset:
		bitset := uint32(kernel.FutexBitsetAny)
		if cmd == kernel.FutexWaitBitset {
			bitset = uint32(a[5])
			if bitset == 0 {
				return 0, unix.EINVAL
			}
		}
		var deadline time.Time
		if a[3] != 0 {
			var ts [16]byte
			if _, err := p.MM.CopyIn(a[3], ts[:]); err != nil {
				return 0, err
			}
			sec, nsec := int64(abi.Le64(ts[:])), int64(abi.Le64(ts[8:]))
			if sec < 0 || nsec < 0 || nsec >= 1e9 {
				return 0, unix.EINVAL
			}
			d := time.Duration(sec)*time.Second + time.Duration(nsec)
			if cmd == kernel.FutexWaitBitset {
				// An absolute time on CLOCK_MONOTONIC, or CLOCK_REALTIME.
				clock := unix.CLOCK_MONOTONIC
				if op&kernel.FutexClockRealtime != 0 {
					clock = unix.CLOCK_REALTIME
				}
				var now unix.Timespec
				_ = unix.ClockGettime(int32(clock), &now)
				d -= time.Duration(now.Nano())
			}
			deadline = time.Now().Add(d)
		}
		return 0, p.FutexWait(addr, private, val, bitset, deadline)
	case kernel.FutexWake, kernel.FutexWakeBitset:
		bitset := uint32(kernel.FutexBitsetAny)
		if cmd == kernel.FutexWakeBitset {
			if bitset = uint32(a[5]); bitset == 0 {
				return 0, unix.EINVAL
			}
		}
		return uint64(p.FutexWake(addr, private, int(int32(val)), bitset)), nil
	case kernel.FutexRequeue, kernel.FutexCmpRequeue:
		n2 := int(int32(a[3])) // val2 travels in the timeout argument
		if int32(val) < 0 || n2 < 0 || a[4]%4 != 0 {
			return 0, unix.EINVAL
		}
		return p.FutexRequeue(addr, a[4], private, int(val), n2, cmd == kernel.FutexCmpRequeue, uint32(a[5]))
	}
	return 0, unix.ENOSYS
}
