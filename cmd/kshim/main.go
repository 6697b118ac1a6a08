// Command kshim runs unmodified Linux x86-64 programs (static or
// dynamically linked) in a KVM vCPU without a guest kernel.
//
//	kshim run [--mem SIZE] [--root DIR] [--rw] [--net private|none|host] [--no-aslr] [--orphans wait|kill] [--env K=V]... [--clear-env] [--hostname NAME]
//	          [--timeout DURATION] [--max-tasks N] [--max-fds N] [--user UID[:GID]] [--no-sandbox]
//	          [--log-level LEVEL] [--check-invariants] [--stats[=json]] PROG [ARGS...]
//	kshim info
//	kshim bench [--json] [--peers LIST] ...
//	kshim faultlat [--json] [--plot FILE.png|svg] [--compare BASELINE.json] ...
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"kshim/oci"
	sysfs "kshim/syscalls/fs"
	sysnet "kshim/syscalls/net"
	"kshim/teardown"
	"kshim/vmm"
)

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: kshim <command> [options]

commands:
  run [--mem SIZE] [--root DIR] [--rw] [--mount SPEC|-v HOST:GUEST[:ro]|--tmpfs GUEST[:OPTS]]... [--masked-path G]... [--readonly-path G]... [--net private|none|host] [--no-aslr] [--orphans wait|kill] [--env K=V]... [--clear-env]
      [--hostname NAME] [--timeout DURATION] [--max-tasks N] [--max-fds N] [--no-shm]
      [--fast-syscalls auto|on|off] [--teardown helper|inline] [--user UID[:GID]] [--no-sandbox] [--log-level LEVEL] [--check-invariants] [--stats[=json]] PROG [ARGS...]
        run an x86-64 Linux program in a microVM; exits with its status
        (127 when PROG, named without a slash, is not in PATH).
        The guest sees DIR (default /) as its root, read-only unless --rw;
        --mount type=bind,source=H,destination=G[,readonly], -v H:G[:ro] and
        --tmpfs G[:size=N,mode=M] mount host paths and tmpfs (pages charged to --mem) into it,
        --mount type=mqueue,destination=G the POSIX message queues' file system,
        and the guest has a tmpfs of its own at /dev/shm unless --no-shm;
        --masked-path G hides G (a file reads as /dev/null, a directory is
        empty and read-only) and --readonly-path G makes it read-only, over
        the mounts (a G that does not exist is left alone);
        --net: private (default: own network namespace, loopback only),
        none (no IP sockets) or host (the host's network);
        a dynamic program's or #! script's interpreter is taken from inside DIR;
        --no-aslr: fixed addresses, as setarch -R (personality ADDR_NO_RANDOMIZE);
        it gets kshim's environment (none with --clear-env) plus --env's,
        and is killed after --timeout (status 124). kshim confines itself
        once set up (seccomp, Landlock, and as root the identity UID:GID,
        default 65534:65534); --no-sandbox does not; --stats prints run
        statistics to stderr at exit; --fast-syscalls: answer simple calls
        without a VMM exit, from a host thread watching the guest (auto:
        where exits are costly, the PVM path, while the host has a CPU to
        spare; on: whatever the host's load; off)
  info  probe /dev/kvm and print what kshim would use, confinement included
  bench [--json|--markdown] [--peers native,qemu-user,runsc-ptrace|none] [--rounds N]
        [--scale F] [--only NAMES] [--images DIR] [--kshim BIN] [--busybox BIN]
        guest micro-benchmarks under kshim and its peers: medians, spread, ratios to native
  faultlat [--json|--markdown] [--plot FILE.png|FILE.svg] [--n N] [--images DIR]
           [--compare BASELINE.json [--threshold F]] [--fault-around measured|linux]
        fault latency per fault class, from the VMM's side and the guest's view;
        --json includes the raw samples; --compare exits 1 when a class's p50
        exceeds a saved --json baseline's by more than F (default 0.5);
        --fault-around=linux maps ahead only as Linux would, to time single faults
`)
}

// mainStart is when main was entered (`run --stats`'s first phase).
var mainStart time.Time

func main() {
	mainStart = time.Now()
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	if a := os.Args[1]; oci.Commands[a] || strings.HasPrefix(a, "-") && a != "-h" && a != "--help" {
		// runc's command line: global flags, then an OCI verb (oci/cli.go).
		os.Exit(oci.Main(os.Args[1:]))
	}
	switch os.Args[1] {
	case "run":
		// teardown.Exit: the handed files closed, the release left to
		// the helper cmdRun may have made (package teardown).
		teardown.Exit(cmdRun(os.Args[2:]))
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
	if lv >= logrus.DebugLevel {
		// A trace is read as a timeline: exits come microseconds apart.
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000000"})
	}
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
	orphans := fs.String("orphans", "wait", "when the first process ends: wait for the others (as on Linux) or kill them (as a container's init)")
	var envs envList
	fs.Var(&envs, "env", "set NAME=VALUE in the guest's environment (NAME alone: kshim's value); repeatable")
	var masked, roPaths envList
	fs.Var(&masked, "masked-path", "hide GUEST (absolute, after the mounts): a file reads as /dev/null, a directory as an empty read-only tmpfs (OCI linux.maskedPaths); repeatable")
	fs.Var(&roPaths, "readonly-path", "make GUEST (absolute, after the mounts) read-only (OCI linux.readonlyPaths); repeatable")
	clearEnv := fs.Bool("clear-env", false, "start the guest's environment empty instead of kshim's")
	hostname := fs.String("hostname", "", "the guest's host name (uname nodename; default: the host's)")
	timeout := fs.String("timeout", "0", "kill the whole guest after DURATION (e.g. 10, 1.5m, 2h30m; 0: never); exit status 124")
	maxTasks := fs.Int("max-tasks", sysfs.DefaultMaxTasks, "tasks (threads) the whole guest may have; clone/fork beyond: EAGAIN")
	maxFDs := fs.Int("max-fds", 0, "open fds in all guest processes together; beyond: ENFILE (default 65536, less if kshim's RLIMIT_NOFILE is lower)")
	confine := confineFlags(fs)
	noASLR := fs.Bool("no-aslr", false, "no address-space randomization, as setarch -R (personality ADDR_NO_RANDOMIZE)")
	var stats statsFlag
	fs.Var(&stats, "stats", "at exit, print run statistics to stderr (--stats=json for JSON)")
	netFlag := fs.String("net", "private", "guest network: private (own namespace, loopback only), none (no IP sockets), host")
	mounts := addMountFlags(fs)
	fastFlag := fs.String("fast-syscalls", "auto", "answer simple syscalls without a VMM exit, from a host thread watching the guest (auto: where exits are costly, PVM, while the host has a CPU to spare; on: whatever the host's load; off)")
	teardownFlag := fs.String("teardown", "helper", "who releases the VM and guest memory at the end: helper (a process made at start that outlives kshim by the release, so that the caller has the exit status first; like any orphan it needs init, or the nearest subreaper, to reap it) or inline (kshim, before it exits)")
	noShm := fs.Bool("no-shm", false, "no tmpfs of its own at /dev/shm (by default the guest gets one, as Linux has, when kshim runs as root)")
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
	env, err := guestEnv(os.Environ(), *clearEnv, envs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: --env: %v\n", err)
		return 2
	}
	if len(*hostname) > 64 || strings.IndexByte(*hostname, 0) >= 0 {
		fmt.Fprintf(os.Stderr, "kshim: --hostname: %q is not a host name (at most 64 bytes)\n", *hostname)
		return 2
	}
	limit, err := parseDuration(*timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: --timeout: %v\n", err)
		return 2
	}
	if *maxTasks < 1 || *maxFDs < 0 {
		fmt.Fprintln(os.Stderr, "kshim: --max-tasks must be at least 1, --max-fds at least 0 (0: the default)")
		return 2
	}
	if *orphans != "wait" && *orphans != "kill" {
		fmt.Fprintf(os.Stderr, "kshim: --orphans: %q is neither wait nor kill\n", *orphans)
		return 2
	}
	netMode, err := sysnet.ParseNetMode(*netFlag)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: --net: %v\n", err)
		return 2
	}
	fastMode, ok := vmm.ParseFastMode(*fastFlag)
	if !ok {
		fmt.Fprintf(os.Stderr, "kshim: --fast-syscalls: %q is not auto, on or off\n", *fastFlag)
		return 2
	}
	switch *teardownFlag {
	case "helper":
		// Made before the sandbox, the machine and any guest code.
		teardown.Start()
	case "inline":
	default:
		fmt.Fprintf(os.Stderr, "kshim: --teardown: %q is neither helper nor inline\n", *teardownFlag)
		return 2
	}
	mountSpecs, err := mounts.result()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 2
	}
	if !*noShm {
		mountSpecs = withShm(mountSpecs, *root)
	}
	box, err := confine()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		return 2
	}
	prog := fs.Arg(0)
	path, err := lookPath(prog, env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %s: %v\n", prog, err)
		return 127 // the shell's status for a command not found
	}
	if limit > 0 {
		// A task stuck in a host call that the kill cannot end must not
		// keep kshim alive: a few seconds after the limit, exit anyway
		// (the guest's tasks are kshim's threads and go with it).
		time.AfterFunc(limit+5*time.Second, func() {
			fmt.Fprintf(os.Stderr, "kshim: %s: timed out after %v\n", prog, limit)
			teardown.Exit(124)
		})
	}
	relay := newRelay()
	var rs *vmm.RunStats
	if stats != "" {
		rs = vmm.NewRunStats()
		rs.MarkAt(vmm.PhaseMain, mainStart)
	}
	res, err := vmm.Launch(vmm.Config{
		Path: path, Argv: fs.Args(), Env: env, MemSize: size,
		CheckInvariants: *check, Log: log, Root: *root, Writable: *rw, Sandbox: box, NoASLR: *noASLR, Stats: rs, Net: netMode, FastSyscalls: fastMode,
		KillOrphans: *orphans == "kill", Mounts: mountSpecs, MaskedPaths: masked, ReadonlyPaths: roPaths,
		MaxTasks: *maxTasks, MaxFDs: *maxFDs, Timeout: limit, Hostname: *hostname,
		ExitAfter: true, // cmdRun's caller exits with the guest's status
		// and leaves the release to the helper (main's teardown.Exit),
		// which must run confined before guest code does.
		LeaveClose: teardown.Active(),
		Ready: func(g *vmm.Guest) error {
			if err := teardown.Ready(); err != nil {
				return err
			}
			return relay.start(g)
		},
		Ignored: relay.ignored,
	})
	// Last on stderr, after kshim's own line for a guest killed by a
	// signal, a timeout or an error: --stats=json ends stderr with one
	// JSON object.
	defer writeStats(os.Stderr, stats, rs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kshim: %v\n", err)
		var le *vmm.LoadError
		if errors.As(err, &le) {
			return le.Status
		}
		return 125
	}
	log.WithFields(logrus.Fields{"syscalls": res.Stats.Syscalls, "page_faults": res.Stats.PageFaults}).Debug("guest exited")
	if res.TimedOut {
		// timeout(1)'s status; the guest was killed (SIGKILL).
		fmt.Fprintf(os.Stderr, "kshim: %s: timed out after %v\n", prog, limit)
		return 124
	}
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
	fmt.Print(confinementInfo()) // also when /dev/kvm is unusable
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
	// The page-table change protocol, measured by the probe (vmm/pteprobe.go).
	switch {
	case m.HostWrites():
		fmt.Println("page-table changes: host writes, guest invlpg (edits seen after an invlpg: nested paging)")
	case m.Invalidates():
		fmt.Printf("page-table changes: host writes, old frames invalidated from the host, at most %d per operation, guest re-writes beyond (shadow paging that drops a frame's translations on MADV_DONTNEED)\n", m.InvalidateMax())
	default:
		fmt.Println("page-table changes: guest re-writes each changed entry, then invlpg (edits not seen after an invlpg: shadow paging)")
	}
	return 0
}

// envList is --env, repeatable.
type envList []string

func (l *envList) String() string     { return strings.Join(*l, " ") }
func (l *envList) Set(s string) error { *l = append(*l, s); return nil }

// guestEnv is the guest's environment: base (kshim's own) unless clear,
// then each NAME=VALUE set in order (replacing NAME where it is, else
// appended, as env(1) does), and a bare NAME copied from base when set
// there (as docker run -e NAME does).
func guestEnv(base []string, clear bool, sets []string) ([]string, error) {
	var env []string
	if !clear {
		env = append(env, base...)
	}
	for _, kv := range sets {
		name, _, ok := strings.Cut(kv, "=")
		if name == "" {
			return nil, fmt.Errorf("%q: want NAME=VALUE or NAME", kv)
		}
		if !ok {
			kv = ""
			for _, b := range base {
				if strings.HasPrefix(b, name+"=") {
					kv = b
					break
				}
			}
			if kv == "" {
				continue // not set: nothing to pass
			}
		}
		replaced := false
		for i, e := range env {
			if strings.HasPrefix(e, name+"=") {
				env[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			env = append(env, kv)
		}
	}
	return env, nil
}

// lookPath finds a program named without a slash in the directories of the
// guest environment's PATH, as execvp(3) does (its default PATH when the
// environment has none); a name with a slash is taken as it is. The program
// is a host file (kshim hands it in; its interpreter and libraries come from
// the guest root), so the search is on the host, as for sudo or timeout.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	if name == "" {
		return "", errors.New("no such file or directory")
	}
	dirs := "/bin:/usr/bin" // glibc execvp's default
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			dirs = v
		}
	}
	var denied error
	for _, d := range strings.Split(dirs, ":") {
		if d == "" {
			d = "." // an empty entry is the working directory
		}
		c := filepath.Join(d, name)
		st, err := os.Stat(c)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if st.Mode()&0o111 == 0 {
			denied = errors.New("permission denied") // execvp goes on, and reports EACCES at the end
			continue
		}
		if !strings.HasPrefix(c, "/") && !strings.HasPrefix(c, ".") {
			c = "./" + c // keep it a path, not a name to search again
		}
		return c, nil
	}
	if denied != nil {
		return "", denied
	}
	return "", errors.New("command not found in PATH")
}

// parseDuration reads --timeout as timeout(1) does (a number of seconds,
// possibly fractional, with an optional s, m, h or d suffix) or as a Go
// duration (1m30s). 0 means none.
func parseDuration(s string) (time.Duration, error) {
	unit := time.Second
	num := s
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 's':
			num = s[:n-1]
		case 'm':
			unit, num = time.Minute, s[:n-1]
		case 'h':
			unit, num = time.Hour, s[:n-1]
		case 'd':
			unit, num = 24*time.Hour, s[:n-1]
		}
	}
	if f, err := strconv.ParseFloat(num, 64); err == nil {
		if f < 0 || f*float64(unit) > float64(1<<62) || f != f {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(f * float64(unit)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (want e.g. 10, 2.5s, 1m, 1h30m)", s)
	}
	return d, nil
}
