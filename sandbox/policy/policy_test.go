package policy

import (
	"os"
	"testing"

	"kshim/sandbox"
)

// TestGeneratedFilter: the program kshim loads (sandbox.Filter, from the
// generated filter_gen.go) is the one the library compiles from the
// allowlist as it is now, for any pid.
func TestGeneratedFilter(t *testing.T) {
	for _, pid := range []int{1, 2, 300, os.Getpid(), 1 << 22, 0x7fffffff} {
		want, err := Program(pid)
		if err != nil {
			t.Fatal(err)
		}
		got := sandbox.Filter(pid)
		if len(got) != len(want) {
			t.Fatalf("pid %d: sandbox/filter_gen.go has %d instructions, the allowlist compiles to %d: run `go generate ./sandbox`", pid, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("pid %d: instruction %d is %+v in sandbox/filter_gen.go, %+v compiled from the allowlist: run `go generate ./sandbox`", pid, i, got[i], want[i])
			}
		}
	}
}
