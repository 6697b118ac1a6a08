package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/kernel"
)

// fakeMem is a Charger with a fixed budget.
type fakeMem struct{ charged, budget uint64 }

func (m *fakeMem) Charge(n uint64) error {
	if m.charged+n > m.budget {
		return unix.ENOMEM
	}
	m.charged += n
	return nil
}

func (m *fakeMem) Uncharge(n uint64) {
	if n > m.charged {
		panic("uncharge below zero")
	}
	m.charged -= n
}

// TestSandboxAccounting: whatever way fds come and go (install, dup over
// an open fd, fork's Clone, close-on-exec, close_range, exit), the
// sandbox's fd count follows the tables, the limit gives ENFILE for new
// files and EMFILE for dups and clones, and each pipe is charged once, as
// long as any fd holds it.
func TestSandboxAccounting(t *testing.T) {
	mem := &fakeMem{budget: 1 << 20}
	sb := fs.NewSandbox(fs.Limits{MaxTasks: 4, MaxFDs: 8, Mem: mem})
	tab := &fs.FDTable{}
	tab.Attach(sb)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	rf, wf := &fs.OpenFile{Kind: fs.KindHost}, &fs.OpenFile{Kind: fs.KindHost}
	if _, err := tab.Install(fs.FDEntry{Host: p[0], File: rf}, 0, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Install(fs.FDEntry{Host: p[1], File: wf, Cloexec: true}, 0, 100); err != nil {
		t.Fatal(err)
	}
	if sb.FDs() != 2 || mem.charged != fs.PipeDefSize || rf.Pipe == nil || rf.Pipe != wf.Pipe || rf.Pipe.Refs != 2 {
		t.Fatalf("after a pipe: fds %d, charged %d, refs %+v", sb.FDs(), mem.charged, rf.Pipe)
	}
	dup := func(fd int) int {
		e, _ := tab.Get(fd)
		h, err := unix.FcntlInt(uintptr(e.Host), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	for i := 0; i < 6; i++ {
		if _, err := tab.Install(fs.FDEntry{Host: dup(0), File: rf}, 0, 100); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tab.Install(fs.FDEntry{Host: dup(0), File: rf}, 0, 100); err != unix.EMFILE {
		t.Fatalf("dup past the limit: %v, want EMFILE", err)
	}
	h, _ := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if _, err := tab.Install(fs.FDEntry{Host: h, File: &fs.OpenFile{Kind: fs.KindHost}}, 0, 100); err != unix.ENFILE {
		t.Fatalf("open past the limit: %v, want ENFILE", err)
	}
	if err := tab.FileRoom(); err != unix.ENFILE {
		t.Fatalf("fileRoom at the limit: %v", err)
	}
	// dup2 over an open fd needs no room; onto a free one it does.
	if err := tab.InstallAt(3, fs.FDEntry{Host: dup(1), File: wf}); err != nil {
		t.Fatal(err)
	}
	if err := tab.InstallAt(50, fs.FDEntry{Host: dup(1), File: wf}); err != unix.EMFILE {
		t.Fatalf("dup2 onto a free fd past the limit: %v, want EMFILE", err)
	}
	if _, err := tab.Clone(); err != unix.EMFILE {
		t.Fatalf("fork past the limit: %v, want EMFILE", err)
	}
	tab.CloseRange(4, 100, false)
	if sb.FDs() != 4 || rf.Pipe.Refs != 4 {
		t.Fatalf("after close_range: fds %d, refs %d", sb.FDs(), rf.Pipe.Refs)
	}
	child, err := tab.Clone()
	if err != nil {
		t.Fatal(err)
	}
	if sb.FDs() != 8 || rf.Pipe.Refs != 8 || mem.charged != fs.PipeDefSize {
		t.Fatalf("after fork: fds %d, refs %d, charged %d", sb.FDs(), rf.Pipe.Refs, mem.charged)
	}
	child.CloseOnExec() // the write end at fd 1 (its dup at fd 3 is not close-on-exec)
	if sb.FDs() != 7 {
		t.Fatalf("after exec: fds %d, want 7", sb.FDs())
	}
	child.CloseAll()
	tab.CloseAll()
	if sb.FDs() != 0 || mem.charged != 0 || len(sb.Pipes) != 0 {
		t.Fatalf("after exit: fds %d, charged %d, pipes %d", sb.FDs(), mem.charged, len(sb.Pipes))
	}
}

// TestPipeCharges: a pipe that does not fit at 64 KiB gets 8 KiB, then
// pipe creation fails with ENFILE; F_SETPIPE_SZ charges growth (EPERM past
// the budget) and returns what a shrink frees.
func TestPipeCharges(t *testing.T) {
	mem := &fakeMem{budget: fs.PipeDefSize + fs.PipeMinSize + 4096}
	sb := fs.NewSandbox(fs.Limits{Mem: mem})
	k := kernel.NewKernel(nil)
	k.Sb = sb
	p := &kernel.Process{Task: fs.Task{Files: &fs.FDTable{Sb: sb}}}
	p.Owner = p
	p.Proc.K = k
	var a, b, c [2]int
	doneA, err := p.MakePipe(&a, unix.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	doneB, err := p.MakePipe(&b, unix.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if sz, _ := unix.FcntlInt(uintptr(b[0]), unix.F_GETPIPE_SZ, 0); sz != fs.PipeMinSize || mem.charged != fs.PipeDefSize+fs.PipeMinSize {
		t.Fatalf("second pipe: size %d, charged %d", sz, mem.charged)
	}
	if _, err := p.MakePipe(&c, unix.O_CLOEXEC); err != unix.ENFILE {
		t.Fatalf("third pipe: %v, want ENFILE", err)
	}
	fa := &fs.OpenFile{Kind: fs.KindHost}
	if _, err := p.NewFD(a[0], false, fa); err != nil {
		t.Fatal(err)
	}
	unix.Close(a[1])
	doneA()
	e, _ := p.Files.Get(0)
	if _, err := p.SetPipeSize(e, 2*fs.PipeDefSize); err != unix.EPERM {
		t.Fatalf("growth past the budget: %v, want EPERM", err)
	}
	if n, err := p.SetPipeSize(e, 4096); err != nil || n != 4096 || mem.charged != 4096+fs.PipeMinSize {
		t.Fatalf("shrink: %d, %v, charged %d", n, err, mem.charged)
	}
	if n, err := p.SetPipeSize(e, 8192); err != nil || n != 8192 || mem.charged != 8192+fs.PipeMinSize {
		t.Fatalf("grow within the budget: %d, %v, charged %d", n, err, mem.charged)
	}
	p.Files.CloseAll()
	unix.Close(b[0])
	unix.Close(b[1])
	doneB()
	if mem.charged != 0 || len(sb.Pipes) != 0 {
		t.Fatalf("charged %d, %d pipes after closing", mem.charged, len(sb.Pipes))
	}
}
