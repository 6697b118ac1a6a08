package images

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"kshim/boot"
)

// TestFastAreaHostile: the fast syscall path's area is a page user code
// can write (vmm/fast.go). A program that scribbles over it still gets
// right answers from its syscalls, and one that waits in the fast stub
// forever (a request nobody posted, a budget that never runs out) is
// still killed: --timeout ends it with 124. The area is the vCPU's, which
// runs one task after another: the next finds nothing of the last one's
// calls there, and its jump to the stub's exit with the request number
// the last one left is a stray jump (SIGSEGV), not the return of that
// other process's call (its RIP and result).
func TestFastAreaHostile(t *testing.T) {
	kshim, prog := image(t, "fast_hostile")
	r := run([]string{kshim, "run", prog}, baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || string(r.stdout) != "ok\n" {
		t.Fatalf("scribbling: %s, stdout %q, want ok\nstderr:\n%s", r.status(), r.stdout, r.stderr)
	}
	r = run([]string{kshim, "run", prog, "leak", fmt.Sprintf("%#x", uint64(boot.FastDone))}, baseEnv, "")
	if want := "another process's arguments: not seen\nreplay: SIGSEGV\n"; r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || string(r.stdout) != want {
		t.Errorf("the next task on the vCPU: %s, stdout %q, want %q\nstderr:\n%s", r.status(), r.stdout, want, r.stderr)
	}
	if cpl3Direct(t, kshim) {
		// A request the program posts itself and never waits for in
		// the stub: the copy-on-write breaks its 1 MiB pread made on
		// the server are seen by its user code all the same, and the
		// parent's own copy stays its own. (on: auto may keep the
		// server asleep while make test loads the host.)
		// The program's own bursts of getppid (which wake a sleeping
		// server) may post over its request: then nothing was served,
		// consistently, and it tries again; or over its reply (the
		// server woke and took the request as the burst went on): the
		// pages are checked all the same, the result is not.
		want := "served yes, result 0x100000, old pages 0, file pages 256, parent's writes seen 0\n"
		unserved := "served no, result 0, old pages 256, file pages 0, parent's writes seen 0\n"
		overwritten := "served no, result 0, old pages 0, file pages 256, parent's writes seen 0\n"
		for try := 1; ; try++ {
			r = run([]string{kshim, "run", "--rw", "--fast-syscalls=on", prog, "cow"}, baseEnv, "")
			if out := string(r.stdout); r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || out != want && out != unserved && out != overwritten {
				t.Errorf("a request posted by hand: %s, stdout %q, want %q\nstderr:\n%s", r.status(), r.stdout, want, r.stderr)
				break
			}
			if string(r.stdout) == want || string(r.stdout) == overwritten {
				break
			}
			if try == 5 {
				t.Errorf("a request posted by hand: not served in %d tries", try)
				break
			}
		}
	}
	r = run([]string{kshim, "run", "--timeout", "2", prog, "hang", fmt.Sprintf("%#x", uint64(boot.FastPosted))}, baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 124 || string(r.stdout) != "spinning\n" {
		t.Fatalf("a wait that never ends: %s, stdout %q, want status 124\nstderr:\n%s", r.status(), r.stdout, r.stderr)
	}
}

// TestFastMemoryHostile: a program posts a memory call over 1 MiB of its
// pages to its fast area by hand and never waits for it in the stub, so
// it never exits for a flush: the call's effect must be its user code's
// at the reply (SIGSEGV on the unmapped pages and after mprotect to
// read-only, zeros after MADV_DONTNEED and MAP_FIXED), and the frames it
// freed must not reach another process while its vCPU may still map them
// (256 pages is past the host's limit of frames one operation
// invalidates: those changes were guest writes, which only an exit
// applies; the other process's pages were then read through the stale
// translations, 16320 of 16384 lines, and the writes after mprotect went
// through). Where the path is not PVM's there is no server: kshim only.
func TestFastMemoryHostile(t *testing.T) {
	kshim, prog := image(t, "fast_mmreuse")
	if !cpl3Direct(t, kshim) {
		t.Skip("no fast path here (not the cpl3-direct path)")
	}
	for _, c := range []struct{ how, want string }{
		{"munmap", "SIGSEGV\nother process's pages seen 0\n"},
		{"brk", "SIGSEGV\nother process's pages seen 0\n"},
		{"dontneed", "other process's pages seen 0\n"},
		{"fixed", "other process's pages seen 0\n"},
		{"mprotect", "SIGSEGV\nother process's pages seen 0\n"},
	} {
		// on: auto may keep the server asleep while make test loads
		// the host.
		r := run([]string{kshim, "run", "--timeout", "60", "--fast-syscalls=on", prog, c.how}, baseEnv, "")
		if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || string(r.stdout) != c.want {
			t.Errorf("%s: %s, stdout %q, want %q\nstderr:\n%s", c.how, r.status(), r.stdout, c.want, r.stderr)
		}
	}
}

// TestFastSyscallsUsed: where kshim takes the cpl3-direct path (PVM)
// --fast-syscalls=on answers getppid calls without exits (auto may not,
// when the host is busy: make test runs tests side by side), and off
// turns it off; without the path no mode has it. (That the answers are
// native's is the differential tests' job: they run with auto.)
func TestFastSyscallsUsed(t *testing.T) {
	kshim, prog := image(t, "bench_getppid")
	cpl3 := cpl3Direct(t, kshim)
	for _, mode := range []string{"on", "auto", "off"} {
		r := run([]string{kshim, "run", "--stats=json", "--fast-syscalls=" + mode, prog, "2000"}, baseEnv, "")
		if r.timedOut || r.err != nil || r.exit != 0 || !strings.HasPrefix(string(r.stdout), "getppid_ns=") {
			t.Fatalf("%s: %s, stdout %q\nstderr:\n%s", mode, r.status(), r.stdout, r.stderr)
		}
		fast := fastSyscalls(t, mode, r)
		switch {
		case mode == "off" && fast != 0:
			t.Errorf("--fast-syscalls=off: %d fast syscalls, want 0", fast)
		case mode == "on" && cpl3 && fast == 0:
			// How many depends on when the server gets a CPU: some.
			t.Errorf("cpl3-direct, --fast-syscalls=on: none of 10000 getppid calls fast")
		case mode != "off" && !cpl3 && fast != 0:
			t.Errorf("path without the fast stub, %s: %d fast syscalls, want 0", mode, fast)
		}
	}
}

// fastSyscalls is the fast_syscalls count of r's --stats=json report.
func fastSyscalls(t *testing.T, what string, r result) uint64 {
	t.Helper()
	var st struct {
		FastSyscalls uint64 `json:"fast_syscalls"`
	}
	i := strings.Index(string(r.stderr), "{")
	if i < 0 || json.Unmarshal(r.stderr[i:], &st) != nil {
		t.Fatalf("%s: no JSON report on stderr:\n%s", what, r.stderr)
	}
	return st.FastSyscalls
}

// TestFastVforkChild: a vfork child runs alone on its parent's memory
// while the parent waits, so the fast path may serve it (vmm/fast.go,
// VCPU.Away): with --fast-syscalls=on on the cpl3-direct path, some of a
// child's 40000 cheap calls are answered without an exit, beyond what
// the same program makes with a child that makes none. (That the
// answers and the memory the parent sees after are native's is the
// differential row's job.)
func TestFastVforkChild(t *testing.T) {
	fastServes(t, "fast_vfork", "20000", func(n string) string { return "child: " + n + " of " + n + " getppid" })
}

// TestFastThreads: a process's threads are served too, each while the
// others run (vmm/fast.go): with --fast-syscalls=on on the cpl3-direct
// path, some of fast_threads' workers' 31500 calls are answered without an
// exit, beyond what the program makes with workers that make none.
func TestFastThreads(t *testing.T) {
	fastServes(t, "fast_threads", "1500", func(n string) string { return "thread 2: " + n + " of " + n + " rounds right" })
}

// fastServes runs image name with --fast-syscalls=on, its argument "0"
// and then many (its calls to serve), each run's stdout holding want(n),
// and fails unless the second run has more fast syscalls than the first.
func fastServes(t *testing.T, name, many string, want func(n string) string) {
	kshim, prog := image(t, name)
	if !cpl3Direct(t, kshim) {
		t.Skip("no fast syscall path on this host")
	}
	fast := func(n string) uint64 {
		r := run([]string{kshim, "run", "--stats=json", "--fast-syscalls=on", prog, n}, baseEnv, "")
		if r.timedOut || r.err != nil || r.exit != 0 || !strings.Contains(string(r.stdout), want(n)) {
			t.Fatalf("%s %s: %s, stdout %q\nstderr:\n%s", name, n, r.status(), r.stdout, r.stderr)
		}
		return fastSyscalls(t, name+" "+n, r)
	}
	none, lots := fast("0"), fast(many)
	if lots <= none {
		t.Errorf("%s: %d fast syscalls with argument %s, %d with 0: its calls were never served", name, lots, many, none)
	}
	t.Logf("%s: %d fast syscalls (with 0: %d)", name, lots, none)
}

// TestFastStubJumps: a program may jump to any byte of the user stub
// page (ufast and the stubs before it) with registers of its choosing,
// request numbers of the fast area's included; whatever each such child
// gets (a fault, a syscall, a return), the VMM goes on: the parent reaps
// every child and says so.
func TestFastStubJumps(t *testing.T) {
	kshim, prog := image(t, "fast_jumps")
	r := run([]string{kshim, "run", prog, fmt.Sprintf("%#x", uint64(boot.UserText)), fmt.Sprintf("%#x", uint64(boot.FastEnd))}, baseEnv, "")
	want := fmt.Sprintf("done: %d jumps\n", boot.FastEnd-boot.UserText)
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || string(r.stdout) != want {
		t.Fatalf("%s, stdout %q, want %q\nstderr:\n%s", r.status(), r.stdout, want, r.stderr)
	}
}

// cpl3Direct reports whether kshim takes the cpl3-direct syscall path on
// this host (PVM) with the frame-invalidation protocol, where the fast
// path runs (vmm/fast.go startFast).
func cpl3Direct(t *testing.T, kshim string) bool {
	info, err := exec.Command(kshim, "info").CombinedOutput()
	if err != nil {
		t.Fatalf("kshim info: %v\n%s", err, info)
	}
	return strings.Contains(string(info), "syscall path: cpl3-direct") && strings.Contains(string(info), "old frames invalidated")
}
