// timecpu.go: clock_gettime and clock_getres for the CPU-time clocks
// (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, those a guest names
// by pid or tid) and fd clocks (negative clock ids). Package kernel
// (timecpu.go, cputime.go) resolves them and keeps the guest tasks' CPU
// time, with the invariants; other clocks go to misc.go's handlers.
package syscalls

import (
	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/kernel"
)

func timespecBytes(ns int64) []byte {
	b := make([]byte, 16)
	abi.Put64(b, uint64(ns/1e9))
	abi.Put64(b[8:], uint64(ns%1e9))
	return b
}

func isCPUClock(id int32) bool {
	return id < 0 || id == unix.CLOCK_PROCESS_CPUTIME_ID || id == unix.CLOCK_THREAD_CPUTIME_ID
}

func sysClockGettimeCPU(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	id := int32(a[0])
	if !isCPUClock(id) {
		return sysClockGettime(p, r, a)
	}
	c, err := p.ResolveCPUClock(id, true)
	if err != nil {
		return 0, err
	}
	now := c.Now()
	p.CheckCPUTimers()
	_, err = p.MM.CopyOut(a[1], timespecBytes(int64(now)))
	return 0, err
}

func sysClockGetresCPU(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	id := int32(a[0])
	if !isCPUClock(id) {
		return sysClockGetres(p, r, a)
	}
	c, err := p.ResolveCPUClock(id, true)
	if err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	_, err = p.MM.CopyOut(a[1], timespecBytes(int64(c.Resolution())))
	return 0, err
}

func init() {
	table[unix.SYS_CLOCK_GETTIME] = sysClockGettimeCPU
	table[unix.SYS_CLOCK_GETRES] = sysClockGetresCPU
}
