package images

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestUMIP: sgdt, sidt, smsw, sldt and str give the program Linux's dummy
// answers, never the shim's descriptor tables. Native Linux is the oracle
// only where the CPU has UMIP (else it shows the host's real tables).
func TestUMIP(t *testing.T) {
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || !bytes.Contains(cpuinfo, []byte(" umip")) {
		t.Skip("the CPU has no UMIP: native Linux is no oracle for this")
	}
	kshim, dir := paths(t)
	requireBinaries(t, kshim, dir, true)
	prog := filepath.Join(dir, "umip")
	native := run([]string{prog}, baseEnv, "")
	guest := run([]string{kshim, "run", prog}, baseEnv, "")
	compare(t, "kshim", native, guest, false)
	if bytes.Contains(guest.stdout, []byte("0xffffffff8000")) {
		t.Errorf("the guest saw a shim address:\n%s", guest.stdout)
	}
}
