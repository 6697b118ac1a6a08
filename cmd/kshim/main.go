// Command kshim runs unmodified static Linux x86-64 programs in a KVM vCPU
// without a guest kernel.
//
//	kshim run [--mem SIZE] [--root DIR] [--rw] [--net private|none|host] [--log-level LEVEL] [--check-invariants] PROG [ARGS...]
//	kshim info
//	kshim bench [--json] [--peers LIST] ...
//	kshim faultlat [--json] [--plot FILE.png|svg] ...
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/syscalls"
	"kshim/vmm"
)

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: kshim <command> [options]

commands:
  run [--mem SIZE] [--root DIR] [--rw] [--net private|none|host] [--log-level LEVEL] [--check-invariants] PROG [ARGS...]
        run a static x86-64 Linux program in a microVM; exits with its status.
        The guest sees DIR (default /) as its root, read-only unless --rw.
        --net: private (default: own network namespace, loopback only),
        none (no IP sockets) or host (the host's network)
  info  probe /dev/kvm and print what kshim would use
  bench [--json|--markdown] [--peers native,qemu-user,runsc-ptrace|none] [--rounds N]
        [--scale F] [--only NAMES] [--images DIR] [--kshim BIN] [--busybox BIN]
        guest micro-benchmarks under kshim and its peers: medians, spread, ratios to native
  faultlat [--json|--markdown] [--plot FILE.png|FILE.svg] [--n N] [--images DIR]
        fault latency per fault class, from the VMM's side and the guest's view
`)
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(cmdRun(os.Args[2:]))
	case "info":
		os.Exit(cmdInfo(os.Args[2:]))
	case "bench":
		os.Exit(cmdBench(os.Args[2:]))
	case "faultlat":
		os.Exit(cmdFaultlat(os.Args[2:]))
	case "-h", "--help", "help":
		usage(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "kshim: unknown command %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(2)
	}
}

// parseSize reads sizes like 512M, 2G, 1048576.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || n > (1<<46)/mult {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M or 2G)", s)
	}
	return n * mult, nil
}

func newLogger(level string) (*logrus.Logger, error) {
	log := logrus.New()
	log.SetOutput(os.Stderr)
	lv, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("bad --log-level %q (panic, fatal, error, warn, info, debug, trace)", level)
	}
	log.SetLevel(lv)
	return log, nil
}

func cmdRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	mem := fs.String("mem", "1G", "guest memory size (e.g. 512M, 4G)")
	level := fs.String("log-level", "warn", "log level: error, warn, info, debug, trace")
	check := fs.Bool("check-invariants", false, "verify memory-manager invariants after every operation (slow)")
	root := fs.String("root", "/", "host directory the guest sees as its root directory")
	rw := fs.Bool("rw", false, "let the guest change files under its root (default: read-only, EROFS)")
	netFlag := fs.String("net", "private", "guest network: private (own namespace, loopback only), none (no IP sockets), host")
	fs.Usage = func() { usage(os.Stderr) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "kshim run: missing program")
		return 2
	}
	size, err := parseSize(*mem)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: --mem: %v\n", err)
		return 2
	}
	log, err := newLogger(*level)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 2
	}
	netMode, err := syscalls.ParseNetMode(*netFlag)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 2
	}
	prog := fs.Arg(0)
	res, err := vmm.Launch(vmm.Config{
		Path: prog, Argv: fs.Args(), Env: os.Environ(), MemSize: size,
		CheckInvariants: *check, Log: log, Root: *root, Writable: *rw, Net: netMode,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		var le *vmm.LoadError
		if errors.As(err, &le) {
			return le.Status
		}
		return 125
	}
	log.WithFields(logrus.Fields{"syscalls": res.Stats.Syscalls, "page_faults": res.Stats.PageFaults}).Debug("guest exited")
	if res.Signal != 0 {
		fmt.Fprintf(os.Stderr, "kshim: %s: %s\n", prog, signalDescription(res.Signal))
		return 128 + int(res.Signal)
	}
	return res.ExitStatus
}

// signalDescription is the shell's wording for a death by signal.
func signalDescription(s unix.Signal) string {
	d := unix.SignalName(s)
	switch s {
	case unix.SIGSEGV:
		return "Segmentation fault"
	case unix.SIGABRT:
		return "Aborted"
	case unix.SIGBUS:
		return "Bus error"
	case unix.SIGFPE:
		return "Floating point exception"
	case unix.SIGILL:
		return "Illegal instruction"
	case unix.SIGKILL:
		return "Killed"
	case unix.SIGTRAP:
		return "Trace/breakpoint trap"
	}
	if d == "" {
		return fmt.Sprintf("killed by signal %d", int(s))
	}
	return "killed by " + d
}

func cmdInfo(args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "kshim info: takes no arguments")
		return 2
	}
	m, err := vmm.NewMachine(64 << 20)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 1
	}
	defer m.Close()
	path, err := m.Probe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 1
	}
	fmt.Printf("syscall path: %s\n", path)
	return 0
}
