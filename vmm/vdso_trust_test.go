package vmm

import (
	"encoding/binary"
	"testing"

	"kshim/boot"
)

// TestTSCTrusted: the guest's clocks read the TSC only where the host
// kernel trusts it (its own clocksource, or kvm-clock over an invariant
// TSC); a kernel that fell back to hpet (TSC found unstable) is not. The
// CPU flags are read only for kvm-clock.
func TestTSCTrusted(t *testing.T) {
	inv := "flags\t\t: fpu tsc constant_tsc nonstop_tsc rep_good\n"
	for _, c := range []struct {
		src, cpu string
		want     bool
	}{
		{"tsc\n", "", true},
		{"", "", true},
		{"kvm-clock\n", inv, true},
		{"kvm-clock\n", "flags\t\t: fpu tsc\n", false},
		{"hpet\n", inv, false},
		{"acpi_pm\n", inv, false},
	} {
		read := false
		if got := tscTrusted(c.src, func() string { read = true; return c.cpu }); got != c.want {
			t.Errorf("tscTrusted(%q, %q) = %v, want %v", c.src, c.cpu, got, c.want)
		}
		// /proc/cpuinfo is read only where it decides (kvm-clock):
		// reading it cost every start-up ~0.15 ms.
		if kvm := c.src == "kvm-clock\n"; read != kvm {
			t.Errorf("tscTrusted(%q): cpuinfo read %v, want %v", c.src, read, kvm)
		}
	}
}

// TestVDSOWithoutTrustedTSC: on a host whose TSC is not trusted the vDSO
// is still mapped into programs (Linux always maps it; AT_SYSINFO_EHDR is
// there), with its vvar page disabled so that its clocks take the syscall.
// Before, such a host (make test-svm's 6.1 guest on hpet) got no vDSO.
func TestVDSOWithoutTrustedTSC(t *testing.T) {
	old := tscTrustedHere
	tscTrustedHere = func() bool { return false }
	t.Cleanup(func() { tscTrustedHere = old })
	c, _, _ := testMachine(t, []byte{0x0f, 0x0b})
	c.m.setupVDSO(c)
	v := c.m.VDSO()
	if v == nil || len(v.Frames) < 2 {
		t.Fatalf("no vDSO for the programs: %+v", v)
	}
	if c.m.vdso != nil {
		t.Fatal("the TSC clock was started on an untrusted TSC")
	}
	if en := binary.LittleEndian.Uint32(c.m.Mem.Page(v.Frames[0])[boot.VvarEnabled:]); en != 0 {
		t.Fatalf("vvar page enabled (%d): the guest would read an untrusted TSC", en)
	}
}
