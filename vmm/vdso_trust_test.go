package vmm

import "testing"

// TestTSCTrusted: the guest's clocks read the TSC only where the host
// kernel trusts it (its own clocksource, or kvm-clock over an invariant
// TSC); a kernel that fell back to hpet (TSC found unstable) is not.
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
		if got := tscTrusted(c.src, c.cpu); got != c.want {
			t.Errorf("tscTrusted(%q, %q) = %v, want %v", c.src, c.cpu, got, c.want)
		}
	}
}
