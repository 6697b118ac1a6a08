// Command execchild: os/exec of another static binary (itself, with an
// argument), pipes to its stdin and from its stdout, and its exit status.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		in := bufio.NewScanner(os.Stdin)
		n := 0
		for in.Scan() {
			fmt.Println(strings.ToUpper(in.Text()))
			n++
		}
		fmt.Fprintln(os.Stderr, "child saw", n, "lines")
		os.Exit(3)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Println("executable:", err)
		return
	}
	cmd := exec.Command(self, "child")
	cmd.Stdin = strings.NewReader("one\ntwo\nthree\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Println("child exit code", ee.ExitCode())
	} else {
		fmt.Println("child err", err)
	}
	fmt.Print(string(out))
	fmt.Print(stderr.String())

	// A static shell (busybox-static, installed by make deps): kshim runs
	// static programs only.
	out, err = exec.Command("/bin/busybox", "sh", "-c", "echo from sh; exit 0").Output()
	fmt.Printf("sh: %q %v\n", out, err)
	if _, err := exec.Command("/nonexistent/prog").Output(); err != nil {
		fmt.Println("missing program fails:", errors.Is(err, os.ErrNotExist))
	}
}
