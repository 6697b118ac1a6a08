package images

// fuzz_test.go: runs images/fuzz_syscalls.c (random syscalls, random
// rt_sigreturn frames, odd instructions, from a main thread, a second
// thread and a forked child) under kshim for a few seeds. The guest's own
// fate is not judged (it is fuzzed: it may die of a signal); kshim's is:
// no Go panic or fatal error, no VMM error (status 125 or a "task stopped"
// / triple fault / unexpected exit message), no hang (the guest's
// watchdog ends it; the test's timeout is a hang), and nothing changed on
// the host outside the scratch root: a canary file next to the root keeps
// its contents and times, so does the guest's executable (a copy next to
// the root), kshim's cwd (outside the root) stays empty, and without --rw
// the root itself is unchanged. As root, the run masks two paths of the
// root (a file and a directory holding fuzzSecret) and makes two
// read-only, and its path pool names them: the guest must never read the
// secret (it checks its buffers: exit status 5) and the read-only ones
// never change, --rw or not.
//
// Knobs (environment):
//
//	KSHIM_FUZZ_SEEDS=N       seeds 1..N (default 2; each runs with --rw
//	                         and without)
//	KSHIM_FUZZ_SEED=S        only seed S
//	KSHIM_FUZZ_CALLS=N       calls per task (default 1500)
//	KSHIM_FUZZ_SECONDS=N     time budget per run (default 3)
//	KSHIM_FUZZ_EXCLUDE=list  operations the guest leaves out (default:
//	                         fuzzExcludeKnown, which hit open kshim bugs);
//	                         "none" for none
//
// `make fuzz-long SEEDS=20 CALLS=200000` runs it long (EXCLUDE=none: with
// nothing left out). A failure names the seed and the exact command to run again
// (add FUZZ_TRACE=1 to the environment to see every operation on stderr).

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fuzzExcludeKnown are operations that hit open kshim bugs, left out by
// default so that `make test` passes; each says what it does to kshim.
// Empty: the classes once here (sigreturn:shim, insn:ud2 and the other
// #UD raisers, insn:in_e0/out_e0, path:dev, path:magic) were fixed, and
// runs with KSHIM_FUZZ_EXCLUDE=none pass. Their regression programs:
// sig_shimrip.c (the #UD frame a drain overwrote, RIPs in the stub page),
// port_io.c (user port I/O), fs_hostdev.c (host devices).
var fuzzExcludeKnown = []struct{ op, bug string }{}

// fuzzFileLimit is RLIMIT_FSIZE for kshim during the fuzz runs: the guest
// can write files under its root, and must not fill the host's disk. It
// must exceed the guest memory (kshim's memfd is one file).
const (
	fuzzMem       = "512M"
	fuzzFileLimit = 1 << 30
)

func TestFuzzSyscalls(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "fuzz_syscalls")
	requireFile(t, prog)

	seeds := []int{}
	if s := os.Getenv("KSHIM_FUZZ_SEED"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("KSHIM_FUZZ_SEED=%q: want an integer", s)
		}
		seeds = append(seeds, n)
	} else {
		for i := 1; i <= envInt(t, "KSHIM_FUZZ_SEEDS", 2); i++ {
			seeds = append(seeds, i)
		}
	}
	calls := envInt(t, "KSHIM_FUZZ_CALLS", 1500)
	secs := envInt(t, "KSHIM_FUZZ_SECONDS", 3)
	exclude := os.Getenv("KSHIM_FUZZ_EXCLUDE")
	switch exclude {
	case "":
		var ops []string
		for _, k := range fuzzExcludeKnown {
			ops = append(ops, k.op)
			t.Logf("left out: %s (known kshim bug: %s)", k.op, k.bug)
		}
		exclude = strings.Join(ops, ",")
	case "none":
		exclude = ""
	}
	if !strings.Contains(","+exclude+",", ",path:dev,") {
		t.Logf("path:dev is fuzzed: the host's /dev/null & co. are checked after each run " +
			"(a change fails the run, and is undone)")
	}

	// Keep the guest's files small (see fuzzFileLimit); Go ignores the
	// SIGXFSZ a write past it raises, so kshim just sees EFBIG.
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	if lim.Cur > fuzzFileLimit {
		lim.Cur = fuzzFileLimit
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) })

	var fails stressFailures
	total, guestDeaths, watchdogs := 0, 0, 0
	devs := hostDevices(t)
	for _, seed := range seeds {
		for _, rw := range []bool{true, false} {
			name := fmt.Sprintf("seed%d_ro", seed)
			if rw {
				name = fmt.Sprintf("seed%d_rw", seed)
			}
			total++
			r, hostErr := fuzzOnce(t, kshim, prog, seed, calls, secs, rw, exclude, name)
			if d := devs.restore(t); d != "" {
				hostErr = strings.TrimPrefix(hostErr+"; "+d, "; ")
			}
			kind := kshimFailure(r)
			if kind == "" && hostErr != "" {
				kind = "host changed outside the guest's root"
				r.stderr = append([]byte(hostErr+"\n"), r.stderr...)
			}
			switch {
			case kind != "":
				fails.add(kind, fmt.Sprintf("  seed %d (%s)\n%s", seed, name, describeRun(r)))
			case r.exit == 3:
				watchdogs++
				t.Logf("%s: the guest's watchdog ended it (a call blocked): %s", name, shellQuote(r.argv))
			case r.exit == 5:
				fails.add("the guest read a masked path's secret", fmt.Sprintf("  seed %d (%s)\n%s", seed, name, describeRun(r)))
			case r.exit == 4:
				fails.add("the guest's own memory changed under it (a call wrote or unmapped what it was not given)",
					fmt.Sprintf("  seed %d (%s)\n%s", seed, name, describeRun(r)))
			case r.exit >= 128:
				guestDeaths++
			case r.exit != 0:
				fails.add(fmt.Sprintf("guest fuzzer failed (exit status %d)", r.exit),
					fmt.Sprintf("  seed %d (%s)\n%s", seed, name, describeRun(r)))
			}
		}
	}
	t.Logf("%d runs: %d ended by a signal the fuzzing caused, %d by the watchdog", total, guestDeaths, watchdogs)
	fails.report(t, total)
}

// fuzzOnce runs the fuzzer once in a fresh scratch root next to a canary
// file, and checks the host around it afterwards.
func fuzzOnce(t *testing.T, kshim, prog string, seed, calls, secs int, rw bool, exclude, name string) (stressRun, string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	cwd := filepath.Join(base, "cwd")
	canary := filepath.Join(base, "canary")
	// The root is writable by anyone: kshim runs the guest as another
	// user (--user, default 65534).
	for _, d := range []string{root, filepath.Join(root, "dir"), cwd} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{root, filepath.Join(root, "dir")} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"file": "hello\n", "dir/file": "in dir\n", "empty": "", "big": strings.Repeat("0123456789abcdef", 4096),
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(root, n), []byte(c), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, n), 0o666); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	// Masked and read-only paths (as root: a masked directory is a
	// tmpfs), with a secret behind the masks that the guest must never
	// read (its leak_check: exit status 5) and read-only files that
	// must not change, --rw or not. Without them the same names hold
	// nothing secret.
	guard := os.Geteuid() == 0
	secret := "not secret: no masks\n"
	if guard {
		secret = fuzzSecret
	}
	for _, d := range []string{"mdir", "rodir"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(root, d), 0o777)
	}
	for n, c := range map[string]string{"masked": secret, "mdir/secret": secret, "ro": "read-only\n", "rodir/f": "read-only in dir\n"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte(c), 0o666); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(root, n), 0o666)
	}
	links := map[string]string{"link_out": canary, "link_up": "../..", "link_loop": "link_loop",
		"link_mdir": "/mdir", "link_ro": "rodir/f"}
	for n, target := range links {
		if err := os.Symlink(target, filepath.Join(root, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(canary, []byte("canary: must not change\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The guest runs from a copy next to the root: its own executable is
	// a host file outside the root too (reachable as /proc/self/exe).
	exe, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	prog = filepath.Join(base, "fuzz_syscalls")
	if err := os.WriteFile(prog, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(base)

	// --orphans=kill: when the first process ends (or its watchdog ends
	// it), nothing it left behind keeps the run going.
	argv := []string{kshim, "run", "--mem", fuzzMem, "--orphans=kill", "--root", root}
	if rw {
		argv = append(argv, "--rw")
	}
	if guard {
		argv = append(argv, "--masked-path", "/masked", "--masked-path", "/mdir", "--readonly-path", "/ro", "--readonly-path", "/rodir")
	}
	argv = append(argv, prog, strconv.Itoa(seed), strconv.Itoa(calls), strconv.Itoa(secs), canary, exclude)
	r := runKshim(argv, cwd, t.TempDir(), name, time.Duration(secs+60)*time.Second)

	after := snapshot(base)
	var diffs []string
	for p, b := range before {
		if p == "cwd" {
			continue // its mtime follows its entries, checked one by one
		}
		if rw && (p == "root" || strings.HasPrefix(p, "root/")) && !(guard && fuzzGuarded(p)) {
			continue
		}
		if a, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		} else if a != b {
			diffs = append(diffs, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !(rw && strings.HasPrefix(p, "root/") && !(guard && fuzzGuarded(p))) {
			diffs = append(diffs, "created "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
	}
	// Tidy up files the guest made read-only or undeletable-looking.
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return r, strings.Join(diffs, "; ")
}

// fuzzSecret is what the masked paths hold in a fuzz run: its start is
// the needle fuzz_syscalls.c's leak_check looks for.
const fuzzSecret = "FUZZSECRET-x: behind a mask\n"

// fuzzGuarded says whether snapshot path p (relative to the run's base)
// is a masked or read-only path of the run or below one: unchanged
// whatever --rw says.
func fuzzGuarded(p string) bool {
	for _, g := range []string{"root/masked", "root/mdir", "root/ro", "root/rodir"} {
		if p == g || strings.HasPrefix(p, g+"/") {
			return true
		}
	}
	return false
}

// snapshot describes every file under base (relative path -> type, mode,
// size, mtime, link target), for before/after comparison.
func snapshot(base string) map[string]string {
	m := map[string]string{}
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == base {
			return nil
		}
		rel, _ := filepath.Rel(base, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		desc := fmt.Sprintf("%v size=%d mtime=%d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			desc += " -> " + target
		}
		m[rel] = desc
		return nil
	})
	return m
}

// hostDevs remembers the owner, mode and times of the host devices a guest
// reaches by exact path (kshim passes them through), to notice and undo a
// change: they belong to the whole host.
type hostDevs map[string]syscall.Stat_t

var hostDevicePaths = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

func hostDevices(t *testing.T) hostDevs {
	t.Helper()
	d := hostDevs{}
	for _, p := range hostDevicePaths {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err == nil {
			d[p] = st
		}
	}
	return d
}

// restore puts back whatever changed since hostDevices and says what it
// was. /dev/tty's times are not compared: any process writing to its
// terminal updates them.
func (d hostDevs) restore(t *testing.T) string {
	t.Helper()
	var changed []string
	for p, old := range d {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			changed = append(changed, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		timesDiffer := p != "/dev/tty" && (st.Mtim != old.Mtim)
		if st.Mode == old.Mode && st.Uid == old.Uid && st.Gid == old.Gid && !timesDiffer {
			continue
		}
		changed = append(changed, fmt.Sprintf("%s: mode %o uid %d gid %d mtime %d -> mode %o uid %d gid %d mtime %d (restored)",
			p, old.Mode, old.Uid, old.Gid, old.Mtim.Sec, st.Mode, st.Uid, st.Gid, st.Mtim.Sec))
		os.Chown(p, int(old.Uid), int(old.Gid))
		os.Chmod(p, fs.FileMode(old.Mode&0o777)|modeBits(old.Mode))
		os.Chtimes(p, time.Unix(old.Atim.Unix()), time.Unix(old.Mtim.Unix()))
	}
	sort.Strings(changed)
	return strings.Join(changed, "; ")
}

// modeBits converts the setuid, setgid and sticky bits of a raw mode.
func modeBits(m uint32) fs.FileMode {
	var b fs.FileMode
	if m&syscall.S_ISUID != 0 {
		b |= fs.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		b |= fs.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		b |= fs.ModeSticky
	}
	return b
}
