package sandbox

// Each layer is tested alone in a child process (the test binary run
// again with sandboxChild set), since confinement cannot be undone: the
// child installs one layer while it still runs as root with every
// capability (when the tests run as root), so a refusal can only come from
// that layer, then tries calls and prints "name errno" lines that the
// parent checks. images/sandbox_test.go checks a running kshim as a whole.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const sandboxChild = "KSHIM_SANDBOX_TEST_CHILD"

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(syscall.Errno); ok {
		return unix.ErrnoName(e)
	}
	if pe, ok := err.(*os.PathError); ok {
		return errName(pe.Err)
	}
	if le, ok := err.(*os.LinkError); ok {
		return errName(le.Err)
	}
	if se, ok := err.(*os.SyscallError); ok {
		return errName(se.Err)
	}
	return err.Error()
}

func errno(_, _ uintptr, e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// TestMain runs the child's part when asked to.
func TestMain(m *testing.M) {
	switch os.Getenv(sandboxChild) {
	case "":
		os.Exit(m.Run())
	case "seccomp":
		seccompChild()
	case "landlock":
		landlockChild(os.Getenv("KSHIM_SANDBOX_TEST_DIR"))
	case "landlock-mounts":
		landlockMountsChild(os.Getenv("KSHIM_SANDBOX_TEST_DIR"))
	case "apply":
		applyChild(os.Getenv("KSHIM_SANDBOX_TEST_DIR"))
	case "begin":
		beginChild(os.Getenv("KSHIM_SANDBOX_TEST_DIR"))
	case "begin-churn":
		beginChurnChild()
	case "prepare":
		prepareChild(os.Getenv("KSHIM_SANDBOX_TEST_DIR"), os.Getenv("KSHIM_SANDBOX_TEST_PREPARE"))
	}
	os.Exit(0)
}

func report(name string, err error) { fmt.Printf("%s %s\n", name, errName(err)) }

func seccompChild() {
	dir, err := os.MkdirTemp("", "kshim-seccomp")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := setNoNewPrivs(); err != nil {
		panic(err)
	}
	if _, err := installSeccomp(); err != nil {
		fmt.Println("install", errName(err))
		return
	}
	// Allowed: what kshim does while serving a guest.
	f, err := os.Create(filepath.Join(dir, "f"))
	report("allowed:create", err)
	if err == nil {
		_, err = f.Write([]byte("x"))
		report("allowed:write", err)
		f.Close()
	}
	report("allowed:getpid", errno(syscall.RawSyscall(unix.SYS_GETPID, 0, 0, 0)))
	report("allowed:tgkill-self", unix.Tgkill(os.Getpid(), unix.Gettid(), 0))
	// A goroutine that keeps its thread locked takes the thread with it
	// when it ends, so the next one needs a new thread: clone(CLONE_THREAD).
	for i := 0; i < 2; i++ {
		done := make(chan error)
		go func() {
			runtime.LockOSThread()
			done <- nil
		}()
		report("allowed:new-thread", <-done)
	}

	// Refused: each would succeed (or fail otherwise) as root without the
	// filter.
	argv0, _ := unix.BytePtrFromString("/bin/true")
	argv := []*byte{argv0, nil}
	report("execve", errno(syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(&argv[0])), 0)))
	report("fork", errno(syscall.RawSyscall(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0)))
	report("clone-newuser-thread", errno(syscall.RawSyscall(unix.SYS_CLONE, unix.CLONE_THREAD|unix.CLONE_VM|unix.CLONE_SIGHAND|unix.CLONE_NEWUSER, 0, 0)))
	report("clone3", errno(syscall.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)))
	report("ptrace", errno(syscall.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)))
	report("mount", unix.Mount("none", dir, "tmpfs", 0, ""))
	report("unshare", unix.Unshare(unix.CLONE_NEWUSER))
	report("setns", errno(syscall.RawSyscall(unix.SYS_SETNS, 0, 0, 0)))
	report("bpf", errno(syscall.RawSyscall(unix.SYS_BPF, 0, 0, 0)))
	report("perf_event_open", errno(syscall.RawSyscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, 0, 0, 0, 0)))
	report("process_vm_readv", errno(syscall.RawSyscall6(unix.SYS_PROCESS_VM_READV, 1, 0, 0, 0, 0, 0)))
	report("kexec_load", errno(syscall.RawSyscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0, 0, 0)))
	report("init_module", errno(syscall.RawSyscall(unix.SYS_INIT_MODULE, 0, 0, 0)))
	report("keyctl", errno(syscall.RawSyscall6(unix.SYS_KEYCTL, 0, 0, 0, 0, 0, 0)))
	report("setuid", errno(syscall.RawSyscall(unix.SYS_SETUID, 0, 0, 0)))
	report("socket-packet", errno(syscall.RawSyscall(unix.SYS_SOCKET, unix.AF_PACKET, unix.SOCK_RAW, 0)))
	report("kill-other", errno(syscall.RawSyscall(unix.SYS_KILL, 1, 0, 0)))
	report("tgkill-other", errno(syscall.RawSyscall(unix.SYS_TGKILL, 1, 1, 0)))
	report("ioctl-TIOCSTI", errno(syscall.RawSyscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, 0)))
	report("fcntl-F_SETOWN", errno(syscall.RawSyscall(unix.SYS_FCNTL, 1, unix.F_SETOWN, 1)))
	report("prctl-PR_SET_DUMPABLE", errno(syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 1, 0, 0, 0, 0)))
	report("prlimit64-set", errno(syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&unix.Rlimit{Cur: 64, Max: 64})), 0, 0, 0)))
	report("mmap-exec", errno(syscall.RawSyscall6(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)))
	report("mknodat-chardev", unix.Mknodat(unix.AT_FDCWD, filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	report("mknodat-blockdev", unix.Mknodat(unix.AT_FDCWD, filepath.Join(dir, "blk"), unix.S_IFBLK|0o666, int(unix.Mkdev(7, 0))))
	report("allowed:mknodat-fifo", unix.Mknodat(unix.AT_FDCWD, filepath.Join(dir, "fifo"), unix.S_IFIFO|0o666, 0))
	report("landlock_create_ruleset", errno(syscall.RawSyscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, 1)))
	report("seccomp", errno(syscall.RawSyscall(unix.SYS_SECCOMP, 0, 0, 0)))
	// The 32-bit ABI (int 0x80) and x32 are other syscall tables: the
	// filter checks the architecture, so they are refused as a whole.
}

func runChild(t *testing.T, kind string, env ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), sandboxChild+"="+kind), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v\n%s\nstderr:\n%.2000s", kind, err, out, stderr.String())
	}
	res := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok {
			res[k] = v
		}
	}
	return res
}

// TestSeccompRefuses: the allowlist lets kshim's own calls through and
// refuses (EPERM) what kshim never needs: exec, new processes, namespaces,
// tracing, mounts, kernel code, another process's memory or signals.
func TestSeccompRefuses(t *testing.T) {
	res := runChild(t, "seccomp")
	if v, ok := res["install"]; ok {
		t.Fatalf("installing the filter: %s", v)
	}
	for k, v := range res {
		if strings.HasPrefix(k, "allowed:") {
			if v != "ok" {
				t.Errorf("%s: %s, want ok", k, v)
			}
		} else if k == "clone3" {
			if v != "ENOSYS" {
				t.Errorf("clone3: %s, want ENOSYS (so that glibc falls back to clone)", v)
			}
		} else if v != "EPERM" {
			t.Errorf("%s: %s, want EPERM (refused by the filter)", k, v)
		}
	}
	for _, k := range []string{"allowed:create", "allowed:new-thread", "execve", "fork", "ptrace", "mount", "unshare",
		"bpf", "process_vm_readv", "kexec_load", "init_module", "keyctl", "setuid", "mmap-exec", "ioctl-TIOCSTI"} {
		if _, ok := res[k]; !ok {
			t.Errorf("no result for %s (the child stopped early?): %v", k, res)
		}
	}
}

func landlockChild(dir string) {
	root := filepath.Join(dir, "root")
	abi, err := restrictLandlock(landlockRules(Config{Root: root}))
	if err != nil {
		fmt.Println("install", errName(err))
		return
	}
	fmt.Println("abi", abi)
	open := func(name, path string, flag int) {
		f, err := os.OpenFile(path, flag, 0o644)
		if err == nil {
			f.Close()
		}
		report(name, err)
	}
	open("allowed:root-file", filepath.Join(root, "in.txt"), os.O_RDONLY)
	open("allowed:root-dir", root, os.O_RDONLY)
	open("allowed:dev-null-write", "/dev/null", os.O_WRONLY)
	open("allowed:cpuinfo", "/proc/cpuinfo", os.O_RDONLY)
	open("outside-file", filepath.Join(dir, "secret.txt"), os.O_RDONLY)
	open("etc-passwd", "/etc/passwd", os.O_RDONLY)
	open("proc-self-status", "/proc/self/status", os.O_RDONLY)
	open("dev-kvm", "/dev/kvm", os.O_RDWR)
	open("create-in-readonly-root", filepath.Join(root, "new.txt"), os.O_WRONLY|os.O_CREATE)
	open("truncate-in-readonly-root", filepath.Join(root, "in.txt"), os.O_WRONLY|os.O_TRUNC)
	report("mkdir-in-readonly-root", os.Mkdir(filepath.Join(root, "d"), 0o755))
	report("unlink-in-readonly-root", os.Remove(filepath.Join(root, "in.txt")))
}

func landlockMountsChild(dir string) {
	p := func(name string) string { return filepath.Join(dir, name) }
	mounts := []MountRule{{Path: p("ro"), Dir: true}, {Path: p("rw"), Writable: true, Dir: true}, {Path: p("file")}}
	// A detached tmpfs, named as kshim names it: by its fd.
	tmpfs := -1
	if sfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC); err == nil {
		if unix.FsconfigCreate(sfd) == nil {
			tmpfs, _ = unix.Fsmount(sfd, unix.FSMOUNT_CLOEXEC, 0)
		}
		unix.Close(sfd)
	}
	if tmpfs >= 0 {
		mounts = append(mounts, MountRule{Path: "/proc/self/fd/" + strconv.Itoa(tmpfs), Writable: true, Dir: true})
	}
	abi, err := restrictLandlock(landlockRules(Config{Root: p("root"), Mounts: mounts}))
	if err != nil {
		fmt.Println("install", errName(err))
		return
	}
	fmt.Println("abi", abi)
	open := func(name, path string, flag int) {
		f, err := os.OpenFile(path, flag, 0o644)
		if err == nil {
			f.Close()
		}
		report(name, err)
	}
	open("allowed:ro-read", p("ro/in.txt"), os.O_RDONLY)
	open("allowed:ro-dir", p("ro"), os.O_RDONLY)
	open("ro-truncate", p("ro/in.txt"), os.O_WRONLY|os.O_TRUNC)
	// A FIFO in a read-only mount opens for writing, as on Linux (kshim
	// refuses regular files itself, EROFS, before any host open).
	open("allowed:ro-fifo-write", p("ro/fifo"), os.O_RDWR)
	open("ro-create", p("ro/new.txt"), os.O_WRONLY|os.O_CREATE)
	report("ro-mkdir", os.Mkdir(p("ro/d"), 0o755))
	open("allowed:rw-write", p("rw/in.txt"), os.O_WRONLY|os.O_TRUNC)
	open("allowed:rw-create", p("rw/new.txt"), os.O_WRONLY|os.O_CREATE)
	report("allowed:rw-mkdir", os.Mkdir(p("rw/d"), 0o755))
	open("allowed:file-read", p("file"), os.O_RDONLY)
	open("file-write", p("file"), os.O_WRONLY)
	open("beside", p("beside.txt"), os.O_RDONLY)
	open("parent-dir", dir, os.O_RDONLY)
	if tmpfs >= 0 {
		fd, err := unix.Openat(tmpfs, "t", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
		}
		report("allowed:tmpfs-create", err)
	}
}

// TestLandlockMounts: the guest's mounts are granted exactly: a read-only
// bind only reading, a writable one everything the --rw root gets, a
// bound file only itself, a tmpfs by its fd; nothing beside them.
func TestLandlockMounts(t *testing.T) {
	if LandlockABI() == 0 {
		t.Skip("the kernel has no Landlock")
	}
	dir := t.TempDir()
	for _, d := range []string{"root", "ro", "rw"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"ro/in.txt", "rw/in.txt", "file", "beside.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(dir, "ro/fifo"), 0o666); err != nil {
		t.Fatal(err)
	}
	res := runChild(t, "landlock-mounts", "KSHIM_SANDBOX_TEST_DIR="+dir)
	if v, ok := res["install"]; ok {
		t.Fatalf("restricting: %s", v)
	}
	want := map[string]string{
		"allowed:ro-read": "ok", "allowed:ro-dir": "ok", "ro-truncate": "EACCES", "allowed:ro-fifo-write": "ok", "ro-create": "EACCES", "ro-mkdir": "EACCES",
		"allowed:rw-write": "ok", "allowed:rw-create": "ok", "allowed:rw-mkdir": "ok",
		"allowed:file-read": "ok", "file-write": "EACCES", "beside": "EACCES", "parent-dir": "EACCES",
	}
	if os.Geteuid() == 0 {
		want["allowed:tmpfs-create"] = "ok"
	}
	for k, w := range want {
		if res[k] != w {
			t.Errorf("%s: %q, want %s", k, res[k], w)
		}
	}
}

// TestLandlockConfinesFiles: once restricted to a root, kshim itself
// cannot open a host file outside it (EACCES), nor change the read-only
// root, even as root with every capability; the root, the host devices and
// /proc/cpuinfo stay open to it.
func TestLandlockConfinesFiles(t *testing.T) {
	if LandlockABI() == 0 {
		t.Skip("the kernel has no Landlock")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root", "in.txt"), []byte("in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runChild(t, "landlock", "KSHIM_SANDBOX_TEST_DIR="+dir)
	if v, ok := res["install"]; ok {
		t.Fatalf("restricting: %s", v)
	}
	if res["abi"] == "" || res["abi"] == "0" {
		t.Fatalf("Landlock not in force: %v", res)
	}
	want := map[string]string{
		"allowed:root-file": "ok", "allowed:root-dir": "ok", "allowed:dev-null-write": "ok", "allowed:cpuinfo": "ok",
		"outside-file": "EACCES", "etc-passwd": "EACCES", "proc-self-status": "EACCES", "dev-kvm": "EACCES",
		"create-in-readonly-root": "EACCES", "truncate-in-readonly-root": "EACCES",
		"mkdir-in-readonly-root": "EACCES", "unlink-in-readonly-root": "EACCES",
	}
	for k, w := range want {
		if res[k] != w {
			t.Errorf("%s: %q, want %s", k, res[k], w)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "root", "in.txt")); err != nil || string(b) != "in" {
		t.Errorf("the read-only root's file changed: %q, %v", b, err)
	}
}

// TestCapString: what Report says is kept.
func TestCapString(t *testing.T) {
	if got := capString(fileCaps); got != "chown,dac_override,dac_read_search,fowner,fsetid" {
		t.Errorf("capString(fileCaps) = %q", got)
	}
	if got := capString(0); got != "none" {
		t.Errorf("capString(0) = %q", got)
	}
}

func applyChild(dir string) {
	var user *Identity
	if os.Getenv("KSHIM_SANDBOX_TEST_USER") != "" {
		user = &Nobody
	}
	rep, err := Apply(Config{Root: filepath.Join(dir, "root"), User: user})
	if err != nil {
		fmt.Println("apply", err)
		return
	}
	fmt.Println("uid", os.Getuid())
	fmt.Println("gid", os.Getgid())
	eff, perm, _, err := capSets()
	report("capget", err)
	fmt.Printf("caps %x/%x\n", eff, perm)
	fmt.Println("landlock", rep.LandlockABI)
	// The filter refuses even asking about itself.
	_, err = unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	report("prctl-PR_GET_SECCOMP", err)
	f, err := os.Open(filepath.Join(dir, "root", "in.txt"))
	if err == nil {
		f.Close()
	}
	report("allowed:root-file", err)
	_, err = os.Open(filepath.Join(dir, "secret.txt"))
	report("outside-file", err)
	report("execve", syscall.Exec("/bin/true", []string{"true"}, nil))
}

// applyTree makes DIR/root/in.txt and DIR/secret.txt, readable by all, in
// a directory every user can reach, and a copy of the test binary there.
func applyTree(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"root/in.txt": "in", "secret.txt": "secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "sandbox.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

// TestApply: the whole of Apply, as kshim uses it. As root with the
// default identity: uid and gid 65534, no capability, the seccomp filter
// and Landlock in force. Started unprivileged (as 65534 from the start, as a
// user in the kvm group would run kshim): no identity change, and every
// other layer still goes on (no CAP_SETPCAP is needed for them).
func TestApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (to start the child as root and as another user)")
	}
	if cgoEnabled {
		if _, err := Apply(Config{}); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Fatalf("Apply in a cgo build: %v, want a refusal", err)
		}
		t.Skip("Apply refuses cgo builds (checked); kshim is built with CGO_ENABLED=0")
	}
	dir, bin := applyTree(t)
	for _, c := range []struct {
		name string
		cred *syscall.Credential
		env  string
	}{
		{"root_to_nobody", nil, "KSHIM_SANDBOX_TEST_USER=1"},
		{"unprivileged", &syscall.Credential{Uid: 65534, Gid: 65534}, "KSHIM_SANDBOX_TEST_USER="},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-test.run=^$")
			cmd.Env = append(os.Environ(), sandboxChild+"=apply", "KSHIM_SANDBOX_TEST_DIR="+dir, c.env)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			want := []string{"uid 65534", "gid 65534", "capget ok", "caps 0/0", "prctl-PR_GET_SECCOMP EPERM",
				"allowed:root-file ok", "execve EPERM"}
			if LandlockABI() > 0 {
				want = append(want, "outside-file EACCES", fmt.Sprintf("landlock %d", LandlockABI()))
			}
			for _, w := range want {
				if !strings.Contains(string(out), w+"\n") {
					t.Errorf("want %q in:\n%s", w, out)
				}
			}
		})
	}
}

// openStatus opens /proc/self/task/TID/status of every thread, so that
// they can still be read once Landlock is in force.
func openStatus() map[string]*os.File {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		panic(err)
	}
	files := map[string]*os.File{}
	for _, task := range tasks {
		if f, err := os.Open(filepath.Join("/proc/self/task", task.Name(), "status")); err == nil {
			files[task.Name()] = f
		}
	}
	return files
}

// threadStatus prints, for each thread's status file, the fields named.
func threadStatus(files map[string]*os.File, prefix string, fields ...string) {
	for tid, f := range files {
		b := make([]byte, 1<<16)
		n, err := f.ReadAt(b, 0)
		if n == 0 {
			fmt.Printf("%s:%s:read %s\n", prefix, tid, errName(err))
			continue
		}
		for _, line := range strings.Split(string(b[:n]), "\n") {
			k, v, _ := strings.Cut(line, ":")
			for _, want := range fields {
				if k == want {
					fmt.Printf("%s:%s:%s %s\n", prefix, tid, k, strings.TrimSpace(v))
				}
			}
		}
	}
}

func beginChild(dir string) {
	// Already absent from the bounding set (as in a container): Begin
	// skips it and cuts the rest.
	if err := allThreadsPrctl(unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN, 0); err != nil {
		panic(err)
	}
	// More threads than a bare test binary has: each must be cut.
	block := make(chan struct{})
	defer close(block)
	for i := 0; i < 3; i++ {
		holdThread(block)
	}
	var before, after kernelSigaction
	if err := sigaction(cutSignal, nil, &before); err != nil {
		panic(err)
	}
	p := Begin(Config{User: &Nobody})
	report("begin", p.err)
	// The one round of signals did it (the other threads each ran the
	// handler), and the signal's action is the Go runtime's again.
	fmt.Println("handled", atomic.LoadUint32(&cutDone), "failed", atomic.LoadUint32(&cutFailed))
	if err := sigaction(cutSignal, nil, &after); err != nil {
		panic(err)
	}
	fmt.Println("action-restored", before == after && after.handler != cutHandlerPC())
	files := openStatus()
	threadStatus(files, "begun", "CapBnd", "CapAmb", "NoNewPrivs", "CapEff")
	// Finishing as another identity (uid 0 would keep the file
	// capabilities Begin cut) is refused.
	_, err := p.Finish(Config{Root: filepath.Join(dir, "root")})
	fmt.Println("finish-other", err != nil)
	rep, err := p.Finish(Config{Root: filepath.Join(dir, "root"), User: &Nobody})
	report("finish", err)
	if err == nil {
		fmt.Println("uid", rep.UID)
	}
	threadStatus(files, "finished", "CapBnd", "CapEff", "Seccomp")
}

// out2line is the line of out that starts with prefix ("" if none).
func out2line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestBegin: Begin alone (as kshim runs it when it starts) leaves every
// thread with no capability in the bounding or ambient set and
// no_new_privs, but the effective set as it was (set-up still needs it);
// Finish then confines as Apply does, and refuses another identity than
// Begin's (whose bounding set would be wrong).
func TestBegin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (to cut the bounding set)")
	}
	if cgoEnabled {
		t.Skip("Begin and Finish refuse cgo builds (TestApply checks); kshim is built with CGO_ENABLED=0")
	}
	dir, bin := applyTree(t)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), sandboxChild+"=begin", "KSHIM_SANDBOX_TEST_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	zero := "0000000000000000"
	threads := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		parts := strings.Split(k, ":")
		if len(parts) != 3 {
			continue
		}
		threads[parts[0]+parts[1]] = true
		switch parts[0] + ":" + parts[2] {
		case "begun:CapBnd", "begun:CapAmb", "finished:CapBnd", "finished:CapEff":
			if v != zero {
				t.Errorf("%s: %s, want %s", k, v, zero)
			}
		case "begun:NoNewPrivs":
			if v != "1" {
				t.Errorf("%s: %s, want 1", k, v)
			}
		case "begun:CapEff":
			if v == zero {
				t.Errorf("%s: %s: Begin dropped the effective set set-up still needs", k, v)
			}
		case "begun:read", "finished:read":
			t.Errorf("%s: %s", k, v)
		case "finished:Seccomp":
			if v != "2" {
				t.Errorf("%s: %s, want 2 (filter)", k, v)
			}
		}
	}
	var handled, failed int
	if _, err := fmt.Sscanf(out2line(string(out), "handled "), "handled %d failed %d", &handled, &failed); err != nil ||
		failed != 0 || handled < 3 {
		t.Errorf("one round of signals: %d threads handled, %d failed (%v); want the 3 or more others, none failed:\n%s", handled, failed, err, out)
	}
	for _, w := range []string{"begin ok", "finish-other true", "finish ok", "uid 65534", "action-restored true"} {
		if !strings.Contains(string(out), w+"\n") {
			t.Errorf("want %q in:\n%s", w, out)
		}
	}
	if len(threads) < 8 { // 4 threads or more, before and after
		t.Errorf("status of %d threads, want 4 or more each time:\n%s", len(threads), out)
	}
}

// holdThread starts a goroutine that locks a thread of its own and keeps
// it until block is closed, and returns once it has.
func holdThread(block <-chan struct{}) {
	started := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		close(started)
		<-block
	}()
	<-started
}

// beginChurnChild runs Begin while new threads keep being made (each
// goroutine below locks a thread of its own and keeps it), then reports
// every thread's bounding set and no_new_privs.
func beginChurnChild() {
	stop := make(chan struct{})
	block := make(chan struct{})
	made := make(chan int, 1)
	go func() {
		n := 0
		defer func() { made <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n == maxChurn {
				// A slow Begin (a loaded host) would otherwise reach the
				// Go runtime's 10000-thread limit, which ends the child.
				<-stop
				return
			}
			holdThread(block)
			n++
		}
	}()
	time.Sleep(2 * time.Millisecond) // the churn under way
	p := Begin(Config{User: &Nobody})
	report("begin", p.err)
	close(stop)
	fmt.Println("made", <-made)
	threadStatus(openStatus(), "begun", "CapBnd", "NoNewPrivs")
	close(block)
}

// maxChurn bounds the threads beginChurnChild holds.
const maxChurn = 3000

// TestBeginThreadsMadeMeanwhile: threads made while Begin cuts the
// others (cloned from threads cut or not yet) all end up cut.
func TestBeginThreadsMadeMeanwhile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (to cut the bounding set)")
	}
	if cgoEnabled {
		t.Skip("Begin refuses cgo builds (TestApply checks)")
	}
	for round := 0; round < 5; round++ {
		res := runChild(t, "begin-churn")
		if res["begin"] != "ok" {
			t.Fatalf("begin: %s", res["begin"])
		}
		threads := 0
		for k, v := range res {
			parts := strings.Split(k, ":")
			if len(parts) != 3 || parts[0] != "begun" {
				continue
			}
			threads++
			if parts[2] == "CapBnd" && v != "0000000000000000" || parts[2] == "NoNewPrivs" && v != "1" {
				t.Errorf("round %d, thread %s: %s %s", round, parts[1], parts[2], v)
			}
		}
		if threads < 8 {
			t.Errorf("round %d: %d status lines (%s threads made during Begin)", round, threads, res["made"])
		}
	}
}

// openFDs counts the process's open fds (by fcntl: /proc/self/fd is out
// of Landlock's reach once it is in force).
func openFDs() int {
	n := 0
	for fd := 0; fd < 1024; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// prepareChild runs Begin, Prepare on another goroutine for the root
// named by prepared ("root": DIR/root, as Finish then; "dir": DIR, which
// also holds secret.txt), then Finish for DIR/root, and reports what the
// confined process can open and whether an fd was left behind.
func prepareChild(dir, prepared string) {
	c := Config{Root: filepath.Join(dir, "root"), User: &Nobody}
	p := Begin(c)
	report("begin", p.err)
	pc := c
	if prepared == "dir" {
		pc.Root = dir
	}
	fds := openFDs()
	done := make(chan struct{})
	go func() {
		p.Prepare(pc)
		close(done)
	}()
	<-done
	fmt.Println("prepared", p.ll != nil && p.ll.err == nil && (LandlockABI() == 0 || p.ll.fd >= 0))
	rep, err := p.Finish(c)
	report("finish", err)
	if err != nil {
		return
	}
	fmt.Println("landlock", rep.LandlockABI)
	fmt.Println("fds-left", openFDs()-fds)
	f, err := os.Open(filepath.Join(dir, "root", "in.txt"))
	if err == nil {
		f.Close()
	}
	report("allowed:root-file", err)
	_, err = os.Open(filepath.Join(dir, "secret.txt"))
	report("outside-file", err)
}

// TestPrepare: Landlock's ruleset built ahead by Prepare (on another
// goroutine, as launch does it while the probe runs) is the one Finish
// enforces when it names the same files, and is dropped (closed) for a
// ruleset of Finish's own when it does not: a ruleset prepared for a
// wider root must never be what confines kshim.
func TestPrepare(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (to cut the bounding set and switch identity)")
	}
	if cgoEnabled {
		t.Skip("Begin and Finish refuse cgo builds (TestApply checks)")
	}
	if LandlockABI() == 0 {
		t.Skip("no Landlock on this kernel")
	}
	dir, bin := applyTree(t)
	for _, prepared := range []string{"root", "dir"} {
		t.Run(prepared, func(t *testing.T) {
			cmd := exec.Command(bin, "-test.run=^$")
			cmd.Env = append(os.Environ(), sandboxChild+"=prepare", "KSHIM_SANDBOX_TEST_DIR="+dir, "KSHIM_SANDBOX_TEST_PREPARE="+prepared)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			for _, w := range []string{"begin ok", "prepared true", "finish ok", fmt.Sprintf("landlock %d", LandlockABI()),
				"fds-left 0", "allowed:root-file ok", "outside-file EACCES"} {
				if !strings.Contains(string(out), w+"\n") {
					t.Errorf("want %q in:\n%s", w, out)
				}
			}
		})
	}
}

// TestGeneratedAllowedCalls: the count the report gives (generated with
// the filter, so that no start works it out) is the allowlist's.
func TestGeneratedAllowedCalls(t *testing.T) {
	if n := AllowedCalls(); filterAllowedCalls != n {
		t.Errorf("filter_gen.go says %d syscalls allowed, the allowlist has %d: run `go generate ./sandbox`", filterAllowedCalls, n)
	}
}
