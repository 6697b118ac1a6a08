package vmm

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"

	"kshim/syscalls/net"
)

// TestTaskThreadsReused: a task's host thread goes back to the Go
// runtime when the task ends (vmm/task.go Start), so a guest that forks
// and reaps one child after another does not make a thread per child.
func TestTaskThreadsReused(t *testing.T) {
	prog, err := filepath.Abs("../build/images/mm_forkloop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("%s missing: make images", prog)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	const forks = 100
	var m *Machine
	res, err := Launch(Config{Path: prog, Argv: []string{prog, "100"}, MemSize: 64 << 20, Log: log, Net: net.NetHost,
		Ready: func(g *Guest) error { m = g.m; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitStatus != 0 || res.Signal != 0 {
		t.Fatalf("mm_forkloop: status %d, signal %v", res.ExitStatus, res.Signal)
	}
	m.mu.Lock()
	threads := len(m.taskThreads)
	m.mu.Unlock()
	if threads >= forks/2 {
		t.Fatalf("%d forks ran on %d host threads: the tasks' threads are not reused", forks, threads)
	}
}
