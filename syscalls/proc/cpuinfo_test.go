package proc

import "testing"

// TestGuestCPUInfo: /proc/cpuinfo keeps the blocks of the host CPUs kshim
// may use, renumbered from 0; text of another layout stays the host's.
func TestGuestCPUInfo(t *testing.T) {
	host := "processor\t: 0\napicid\t\t: 0\n\nprocessor\t: 1\napicid\t\t: 2\n\nprocessor\t: 2\napicid\t\t: 4\n\n"
	got := string(guestCPUInfo([]byte(host), []int{1, 2}))
	want := "processor\t: 0\napicid\t\t: 2\n\nprocessor\t: 1\napicid\t\t: 4\n\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := string(guestCPUInfo([]byte(host), []int{0, 1, 2})); got != host {
		t.Errorf("all CPUs: got %q", got)
	}
	other := "Processor\t: AArch64\nBogoMIPS\t: 48\n"
	if got := string(guestCPUInfo([]byte(other), []int{0})); got != other {
		t.Errorf("another layout: got %q", got)
	}
}
