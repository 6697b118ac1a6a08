package vmm

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const rlimitChild = "KSHIM_VMM_RLIMIT_CHILD"

// In the child (the test binary started again by TestCallerRlimits), print
// what each way of finding the caller's limit finds, and exit.
func init() {
	if os.Getenv(rlimitChild) == "" {
		return
	}
	v, ok := execNofile()
	fmt.Printf("exec %d %v\n", v, ok)
	v, ok = shellNofile()
	fmt.Printf("shell %d %v\n", v, ok)
	fmt.Printf("caller %v\n", callerRlimits()[unix.RLIMIT_NOFILE].Cur)
	os.Exit(0)
}

// TestCallerRlimits: started with a soft RLIMIT_NOFILE below the hard
// limit (which the Go runtime raises to the hard limit less one), kshim
// finds the one it was started with, through the child stopped at its
// execve as through the shell; started with it at the hard limit, there
// is nothing to find. (images' TestRunNofileSoft checks the guest's view.)
func TestCallerRlimits(t *testing.T) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Max < 2000 {
		t.Skipf("hard RLIMIT_NOFILE %d: too low to lower the soft limit below it", l.Max)
	}
	for _, c := range []struct {
		soft string
		want []string
	}{
		{"1000", []string{"exec 1000 true", "shell 1000 true", "caller 1000"}},
		{fmt.Sprint(l.Max), []string{"caller 0"}}, // the runtime did not raise it
	} {
		cmd := exec.Command("/bin/sh", "-c", "ulimit -Sn "+c.soft+` && exec "$0" -test.run=^$`, os.Args[0])
		cmd.Env = append(os.Environ(), rlimitChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("soft %s: %v\n%s", c.soft, err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w+"\n") {
				t.Errorf("soft %s: want %q in:\n%s", c.soft, w, out)
			}
		}
	}
}
