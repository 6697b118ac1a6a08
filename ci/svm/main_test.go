package main

import (
	"strings"
	"testing"
)

// TestExpected: a listed row counts as expected only with the difference
// its entry names (outputs as make test-svm printed them), and an
// unlisted skip is a failure.
func TestExpected(t *testing.T) {
	aslr := "aslr_test.go:147: native: vdso=0x7ffd59fef000 outside [0x7efbbf6ff000, 0x7ffbfffff000)\n"
	root := "root_test.go:691: --rw root: handed-in objects inside it differ from native:\n" +
		"      first difference at line 10 (native 469 bytes, kshim 461 bytes)\n" +
		"  -   10   \"fchmodempty:1 -> EOPNOTSUPP\\n\"   (native)\n" +
		"  +   10   \"fchmodempty:1 -> ok\\n\"   (kshim)\n"
	pidfd := "diff_test.go:398: stdout differs (native vs kshim):\n" +
		"      first difference at line 11 (native 1377 bytes, kshim 1372 bytes)\n" +
		"         10   \"waitid(P_PIDFD, self) -> ECHILD\\n\"\n" +
		"      -   11   \"pidfd_send_signal flags 1 -> EINVAL\\n\"   (native)\n" +
		"      +   11   \"pidfd_send_signal flags 1 -> 0\\n\"   (kshim)\n" +
		"      1 line(s) differ\n"
	xattr := "diff_test.go:398: stdout differs (native vs kshim):\n" +
		"      first difference at line 29 (native 2332 bytes, kshim 2333 bytes)\n" +
		"      -   29   \"setxattr bad value, missing file -> ENOENT\\n\"   (native)\n" +
		"      +   29   \"setxattr bad value, missing file -> EFAULT\\n\"   (kshim)\n" +
		"      -   30   \"setxattr empty name, missing file -> ENOENT\\n\"   (native)\n" +
		"      +   30   \"setxattr empty name, missing file -> ERANGE\\n\"   (kshim)\n" +
		"      -   54   \"fgetxattr bad fd, empty name -> EBADF\\n\"   (native)\n" +
		"      +   54   \"fgetxattr bad fd, empty name -> ERANGE\\n\"   (kshim)\n" +
		"      3 line(s) differ\n"
	// The 6.1 guest's handler line varies (its timer_getoverrun too): either
	// form alone is the listed difference (fresh clone, 2026-11-30 00:20).
	timers := "diff_test.go:440: stdout differs (native vs kshim):\n" +
		"      first difference at line 14 (native 1271 bytes, kshim 1272 bytes)\n" +
		"         13   \"one-shot done: yes\\n\"\n" +
		"      -   14   \"handler: SI_TIMER yes, overrun > 0 no, timer_getoverrun > 0 yes\\n\"   (native)\n" +
		"      +   14   \"handler: SI_TIMER yes, overrun > 0 yes, timer_getoverrun > 0 yes\\n\"   (kshim)\n" +
		"      1 line(s) differ\n"
	timersNone := strings.Replace(timers, "> 0 no, timer_getoverrun > 0 yes", "> 0 no, timer_getoverrun > 0 no", 1)
	for _, c := range []struct {
		test, out string
		want      bool
	}{
		{"TestASLR/aslr", aslr, true},
		{"TestASLR/aslr", aslr + "aslr_test.go:148: kshim: vdso=0x0 outside [0x7efbbf6ff000, 0x7ffbfffff000)\n", false},
		{"TestASLR/aslr", aslr + "aslr_test.go:147: native: mmap=0x1 outside [0x2, 0x3)\n", false},
		{"TestASLR/aslr_dyn", "error: fork/exec /kshim/build/images/aslr_dyn: no such file or directory", false},
		{"TestRootHandedInside", root, true},
		{"TestRootHandedInside", root + "root_test.go:659: I/O on handed-in objects differs from native:\n", false},
		{"TestNoASLR/aslr", aslr, false},
		{"TestDifferential/pidfd", pidfd, true},
		{"TestDifferential/pidfd", strings.Replace(pidfd, "1 line(s)", "2 line(s)", 1), false},
		{"TestDifferential/pidfd", pidfd + "diff_test.go:410: status differs: native exit status 0, kshim exit status 1\n", false},
		{"TestDifferential/pidfd", strings.Replace(pidfd, "-> 0", "-> EPERM", 1), false},
		{"TestDifferential/timers", timers, true},
		{"TestDifferential/timers", timersNone, true},
		{"TestDifferential/timers", strings.Replace(timers, "> 0 yes, timer_getoverrun > 0 yes\\n\"   (kshim)", "> 0 no, timer_getoverrun > 0 yes\\n\"   (kshim)", 1), false},
		{"TestDifferential/timers", strings.Replace(timers, "1 line(s)", "2 line(s)", 1), false},
		{"TestDifferential/xattr", xattr, true},
		{"TestDifferential/xattr", strings.Replace(xattr, "ERANGE\\n\"   (kshim)\n      -   54", "EINVAL\\n\"   (kshim)\n      -   54", 1), false},
		{"TestDifferential/xattr", strings.Replace(xattr, "3 line(s)", "4 line(s)", 1), false},
	} {
		if got := isExpected("images", c.test, c.out); got != c.want {
			t.Errorf("isExpected(%s, %q) = %v, want %v", c.test, c.out, got, c.want)
		}
	}
	s := &suiteRun{name: "images", tests: map[string]*testResult{
		"TestASLR":          {action: "fail", parent: true},
		"TestASLR/aslr":     {action: "fail"},
		"TestGCCInside":     {action: "skip"},
		"TestTTYForeground": {action: "skip"},
		"TestHello":         {action: "pass"},
	}}
	s.tests["TestASLR/aslr"].output.WriteString(aslr)
	c, failed, _, exp := s.rows()
	if c.pass != 1 || c.expected != 1 || c.skip != 1 || c.fail != 1 || len(exp) != 1 || len(failed) != 1 {
		t.Errorf("rows: %+v, failed %q, expected %q", c, failed, exp)
	}
}

// TestSlowest: each row's time comes from its result line (test2json
// gives no Elapsed for -test.v=test2json input), and slowest ranks them.
func TestSlowest(t *testing.T) {
	s := &suiteRun{name: "images", tests: map[string]*testResult{}}
	f, err := newT2J("images", s)
	if err != nil {
		t.Skip("go tool test2json:", err)
	}
	for _, l := range []string{"\x16=== RUN   TestA", "\x16=== RUN   TestA/x", "\x16--- PASS: TestA/x (2.50s)",
		"\x16=== RUN   TestA/y", "\x16--- FAIL: TestA/y (7.25s)", "\x16--- FAIL: TestA (9.80s)", "\x16=== RUN   TestB",
		"\x16--- PASS: TestB (0.40s)", "\x16FAIL"} {
		f.write(l + "\n")
	}
	f.close()
	if got, want := s.slowest(2), "TestA/y 7s, TestA/x 2s"; got != want {
		t.Errorf("slowest(2) = %q, want %q", got, want)
	}
}
