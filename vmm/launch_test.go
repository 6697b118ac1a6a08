package vmm

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"

	"kshim/syscalls/kernel"
	"kshim/syscalls/net"
)

// TestExitAfterLeavesMemory: with ExitAfter (`kshim run`, which exits once
// the guest has) the last process's memory is left to the machine's close
// and the exit instead of being torn down VMA by VMA; without it (bench,
// faultlat and the OCI runtime run Launch and go on) it is torn down as
// before. The guest's status is the same either way.
func TestExitAfterLeavesMemory(t *testing.T) {
	prog, err := filepath.Abs("../build/images/exitcode")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("%s missing: make images", prog)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	for _, exitAfter := range []bool{false, true} {
		var first *kernel.Process
		res, err := Launch(Config{Path: prog, Argv: []string{prog, "7", "_exit"}, MemSize: 64 << 20, Log: log,
			Net: net.NetHost, ExitAfter: exitAfter,
			Ready: func(g *Guest) error { first = g.first; return nil }})
		if err != nil {
			t.Fatalf("ExitAfter %v: %v", exitAfter, err)
		}
		if res.ExitStatus != 7 || res.Signal != 0 {
			t.Errorf("ExitAfter %v: status %d, signal %v; want 7", exitAfter, res.ExitStatus, res.Signal)
		}
		if n := first.MM.Len(); exitAfter != (n > 0) {
			t.Errorf("ExitAfter %v: the process's memory has %d VMAs after its exit", exitAfter, n)
		}
	}
}
