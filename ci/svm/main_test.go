package main

import "testing"

// TestExpected: a listed row counts as expected only with the difference
// its entry names (outputs as make test-svm printed them), and an
// unlisted skip is a failure.
func TestExpected(t *testing.T) {
	aslr := "aslr_test.go:147: native: vdso=0x7ffd59fef000 outside [0x7efbbf6ff000, 0x7ffbfffff000)\n"
	root := "root_test.go:691: --rw root: handed-in objects inside it differ from native:\n" +
		"      first difference at line 10 (native 469 bytes, kshim 461 bytes)\n" +
		"  -   10   \"fchmodempty:1 -> EOPNOTSUPP\\n\"   (native)\n" +
		"  +   10   \"fchmodempty:1 -> ok\\n\"   (kshim)\n"
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
