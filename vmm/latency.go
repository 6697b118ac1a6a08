// latency.go: an optional recorder of how long the VMM takes to handle
// each exception and syscall exit (`kshim faultlat`, `kshim bench`). Off (nil) unless a caller sets
// Config.Latency; a nil recorder costs one nil check per exception.
//
// What is measured: TSC cycles (runtime.cputicks, which is RDTSCP or
// LFENCE;RDTSC on amd64) from the moment Machine.Run sees the exit (right
// after KVM_RUN returned and the port was decoded) to the moment the exit
// is handled and the loop goes back into KVM_RUN (only the dirty-register
// check is left between the two): Cycles. The hardware exit and re-entry
// are not in it; they are in Since, the cycles from the previous resume to
// this exit (KVM_RUN entry, guest code, the exit, KVM_RUN return): for a
// guest that does nothing between two syscalls, Since is the raw exit
// round trip. TSCHz converts cycles to time.
package vmm

import (
	"sync"
	"time"
	_ "unsafe" // go:linkname

	"kshim/guestmm"
)

//go:linkname cputicks runtime.cputicks
func cputicks() int64

// Classes of recorded exits besides guestmm.FaultKind's names.
const (
	ClassSyscall = "syscall" // a syscall exit
	ClassSignal  = "signal"  // a fault that became a signal for the guest
	ClassOOM     = "oom"     // guest memory exhausted
	ClassOther   = "other"   // not a page fault (#UD, #GP, ...)
)

// LatencySample is one exception exit.
type LatencySample struct {
	Class  string // guestmm.FaultKind name, or ClassSignal, ClassOOM, ClassOther
	Addr   uint64 // faulting address (CR2) of a page fault
	Cycles uint64 // TSC cycles from the exit to the resume
	Since  uint64 // TSC cycles from the previous resume to this exit (0 for the first)
}

// LatencyRecorder collects LatencySamples. Not safe for concurrent use: one
// recorder per running machine.
type LatencyRecorder struct {
	Samples []LatencySample
	cur     LatencySample
	last    int64 // cputicks at the last resume
}

// NewLatencyRecorder returns an empty recorder.
func NewLatencyRecorder() *LatencyRecorder { return &LatencyRecorder{} }

// begin marks an exit of the given class (refined by fault); the result
// goes to end.
func (r *LatencyRecorder) begin(class string) int64 {
	if r == nil {
		return 0
	}
	t := cputicks()
	r.cur = LatencySample{Class: class}
	if r.last != 0 {
		r.cur.Since = uint64(t - r.last)
	}
	return t
}

// fault classifies the exit begun last as a page fault.
func (r *LatencyRecorder) fault(res guestmm.FaultResult, kind guestmm.FaultKind, addr uint64) {
	if r == nil {
		return
	}
	r.cur.Addr = addr
	switch res {
	case guestmm.Resolved:
		r.cur.Class = kind.String()
	case guestmm.OOM:
		r.cur.Class = ClassOOM
	default:
		r.cur.Class = ClassSignal
	}
}

// end records the exit begun at t0, just before the vCPU is resumed.
func (r *LatencyRecorder) end(t0 int64) {
	if r == nil {
		return
	}
	now := cputicks()
	r.cur.Cycles = uint64(now - t0)
	r.last = now
	r.Samples = append(r.Samples, r.cur)
}

var tscOnce struct {
	sync.Once
	hz float64
}

// TSCHz is the TSC frequency, calibrated once against the monotonic clock
// over 20 ms.
func TSCHz() float64 {
	tscOnce.Do(func() {
		t := time.Now()
		c0 := cputicks()
		for time.Since(t) < 20*time.Millisecond {
		}
		c1 := cputicks()
		tscOnce.hz = float64(c1-c0) / time.Since(t).Seconds()
	})
	return tscOnce.hz
}
