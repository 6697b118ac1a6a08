// vdso.go: the vDSO's data page (boot/vdso/vdso.c): what lets the guest
// read the time with rdtsc instead of an exit.
//
// Invariants:
//   - The VMM owns one vvar frame and the vDSO image's frames per machine;
//     every address space maps them read-only (guestmm.MapSpecial), so one
//     update reaches every task.
//   - The page holds (guest TSC, CLOCK_MONOTONIC) at one moment and the
//     TSC rate; seq is odd while the VMM rewrites it, and every rewrite
//     keeps the extrapolated time continuous, so CLOCK_MONOTONIC never
//     goes back. The rate starts as KVM's TSC frequency and is refined
//     against the host's clock over longer baselines later (refine).
//   - The guest TSC is the host's plus an offset KVM applies; it is read
//     once through the vCPU (MSR 0x10) next to the host TSC.
package vmm

import (
	"encoding/binary"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bobuhiro11/gokvm/kvm"
	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/guestmm"
	"kshim/syscalls/kernel"
)

const (
	msrTSC         = 0x10
	ioctlGetTSCKHz = 0xaea3 // _IO(KVMIO, 0xa3)
)

type vdsoState struct {
	frames    []uint64 // vvar, then the image
	tscOffset int64    // guest TSC - host TSC
	baseHost  int64    // host TSC at the first calibration point
	baseMono  int64    // CLOCK_MONOTONIC there (ns)
	hz        float64  // current rate estimate
	stop      chan struct{}
	done      chan struct{} // closed when refine has returned (Close waits: it writes guest memory)
}

func monoNS(clock int32) int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(clock, &ts)
	return ts.Nano()
}

// tscTrusted says whether the host kernel trusts its TSC as a clock: its
// clocksource is the TSC, or kvm-clock on a CPU whose TSC is invariant
// (constant_tsc, nonstop_tsc). A kernel that found the TSC unstable (it
// then runs on hpet, say) would see the guest's TSC-based clock drift
// from its own: the guest then uses the clock syscalls. Unreadable
// files say nothing against it.
// cpuinfo is called only for kvm-clock: reading /proc/cpuinfo (one
// CPUID-heavy text per CPU) took ~0.15 ms of every start-up.
func tscTrusted(clocksource string, cpuinfo func() string) bool {
	switch strings.TrimSpace(clocksource) {
	case "", "tsc":
		return true
	case "kvm-clock":
		info := cpuinfo()
		return strings.Contains(info, " constant_tsc") && strings.Contains(info, " nonstop_tsc")
	}
	return false
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// tscTrustedHere is tscTrusted for this host (a variable: tests take the
// untrusted branch on any host).
var tscTrustedHere = func() bool {
	return tscTrusted(readFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
		func() string { return readFile("/proc/cpuinfo") })
}

// setupVDSO loads the vDSO into guest memory and starts the clock, using
// vCPU c to learn the guest's TSC offset. The vDSO is mapped into every
// program once loaded, as Linux always maps it; when the clock cannot be
// served (the TSC is not trusted, or KVM does not say its rate) the vvar
// page stays disabled and its functions take the syscalls. Only when the
// frames cannot be allocated does the guest get no vDSO.
func (m *Machine) setupVDSO(c *VCPU) {
	img := boot.VDSO()
	n := (len(img) + guestmm.PageSize - 1) / guestmm.PageSize
	var frames []uint64
	for i := 0; i <= n; i++ {
		pa, err := m.Mem.Alloc()
		if err != nil {
			for _, f := range frames {
				m.Mem.Free(f)
			}
			return
		}
		frames = append(frames, pa)
	}
	for i := 0; i < n; i++ {
		copy(m.Mem.Page(frames[1+i]), img[i*guestmm.PageSize:])
	}
	m.vdsoFrames = frames
	if !tscTrustedHere() {
		return // the vvar page stays disabled: the guest's clocks take the syscall
	}
	msrs := &kvm.MSRS{NMSRs: 1, Entries: []kvm.MSREntry{{Index: msrTSC}}}
	h0 := cputicks()
	if err := kvm.GetMSRs(c.CPU.fd, msrs); err != nil {
		return // the vvar page stays disabled (zero)
	}
	h1 := cputicks()
	v := &vdsoState{frames: frames, tscOffset: int64(msrs.Entries[0].Data) - (h0+h1)/2, stop: make(chan struct{}), done: make(chan struct{})}
	// The rate KVM gives the guest's TSC (KVM_GET_TSC_KHZ: exact to a
	// kHz), refined against the host's clock later.
	khz, _, e := unix.Syscall(unix.SYS_IOCTL, c.CPU.fd, ioctlGetTSCKHz, 0)
	if e != 0 || khz == 0 {
		return
	}
	t0, m0 := cputicks(), monoNS(unix.CLOCK_MONOTONIC)
	v.baseHost, v.baseMono = t0, m0
	v.hz = float64(khz) * 1000
	m.vdso = v
	m.publish(t0, m0)
	go m.refine()
}

// publish writes the vvar page for the point (host TSC t, monotonic ns
// mono) and the current rate.
func (m *Machine) publish(t, mono int64) {
	v := m.vdso
	page := m.Mem.Page(v.frames[0])
	le := binary.LittleEndian
	seq := (*uint32)(unsafe.Pointer(&page[boot.VvarSeq]))
	atomic.AddUint32(seq, 1) // odd: being written
	const shift = 32
	le.PutUint32(page[boot.VvarShift:], shift)
	le.PutUint64(page[boot.VvarMult:], uint64(1e9*float64(uint64(1)<<shift)/v.hz))
	le.PutUint64(page[boot.VvarBaseTSC:], uint64(t+v.tscOffset))
	le.PutUint64(page[boot.VvarBaseMono:], uint64(mono))
	le.PutUint64(page[boot.VvarRealOff:], uint64(monoNS(unix.CLOCK_REALTIME)-monoNS(unix.CLOCK_MONOTONIC)))
	le.PutUint64(page[boot.VvarBootOff:], uint64(monoNS(unix.CLOCK_BOOTTIME)-monoNS(unix.CLOCK_MONOTONIC)))
	le.PutUint32(page[boot.VvarEnabled:], 1)
	atomic.AddUint32(seq, 1)
}

// refine re-measures the TSC rate against longer and longer baselines
// (1 s, 10 s, 100 s, then every 100 s). Each update starts from the time
// the old parameters give now, so the guest's clock stays continuous and
// only its rate changes.
func (m *Machine) refine() {
	v := m.vdso
	defer close(v.done)
	wait := time.Second
	for {
		select {
		case <-v.stop:
			return
		case <-time.After(wait):
		}
		t, mono := cputicks(), monoNS(unix.CLOCK_MONOTONIC)
		newHz := float64(t-v.baseHost) / (float64(mono-v.baseMono) / 1e9)
		page := m.Mem.Page(v.frames[0])
		le := binary.LittleEndian
		// Where the guest's clock is now, by the parameters it has.
		baseTSC := int64(le.Uint64(page[boot.VvarBaseTSC:]))
		baseMono := int64(le.Uint64(page[boot.VvarBaseMono:]))
		mult := le.Uint64(page[boot.VvarMult:])
		d := uint64(t + v.tscOffset - baseTSC)
		hi, lo := mul64(d, mult)
		now := baseMono + int64(hi<<32|lo>>32)
		v.hz = newHz
		m.publish(t, now)
		if wait < 100*time.Second {
			wait *= 10
		}
	}
}

func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	hi = a1*b1 + t>>32 + w1>>32
	lo = a * b
	return
}

// VDSO implements kernel.Host.
func (m *Machine) VDSO() *kernel.VDSO {
	if m.vdsoFrames == nil {
		return nil
	}
	return &kernel.VDSO{Frames: m.vdsoFrames}
}
