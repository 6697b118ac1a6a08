// timecpu.go: clock_gettime and clock_getres for the CPU-time clocks a
// guest names by pid or tid, and fd clocks (negative clock ids). Package
// kernel (timecpu.go) maps them to host thread clocks, with the
// invariants; other clocks go to misc.go's handlers.
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

func sysClockGettimeCPU(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	id := int32(a[0])
	if id >= 0 {
		return sysClockGettime(p, r, a)
	}
	ids, err := p.CPUClock(id)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, c := range ids {
		var ts unix.Timespec
		if unix.ClockGettime(c, &ts) == nil { // a thread that just ended adds nothing
			sum += ts.Nano()
		}
	}
	_, err = p.MM.CopyOut(a[1], timespecBytes(sum))
	return 0, err
}

func sysClockGetresCPU(p *kernel.Process, r *kernel.Regs, a *args) (uint64, error) {
	id := int32(a[0])
	if id >= 0 {
		return sysClockGetres(p, r, a)
	}
	if _, err := p.CPUClock(id); err != nil {
		return 0, err
	}
	return sysClockGetres(p, r, &args{uint64(uint32(int32(unix.CLOCK_PROCESS_CPUTIME_ID))), a[1]})
}

func init() {
	table[unix.SYS_CLOCK_GETTIME] = sysClockGettimeCPU
	table[unix.SYS_CLOCK_GETRES] = sysClockGetresCPU
}
