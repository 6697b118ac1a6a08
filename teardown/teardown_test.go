package teardown

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const childEnv = "KSHIM_TEARDOWN_TEST_CHILD"

// TestMain runs the child processes of TestHelper: Start, report the
// helper's pid, wait for the go-ahead on stdin, Exit(7). "tamper" then
// points the helper's pollfd at a pipe that never turns readable, as a
// compromised VMM could.
func TestMain(m *testing.M) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	pid := Start()
	if Ready() != nil || !Active() {
		pid = 0
	}
	if mode == "tamper" && pid != 0 {
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil || unix.Dup2(p[0], int(w.pfd.Fd)) != nil {
			fmt.Println("tamper failed")
			os.Exit(1)
		}
	}
	fmt.Println(pid)
	bufio.NewReader(os.Stdin).ReadString('\n')
	Exit(7)
}

// status returns the fields of /proc/pid/status.
func status(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("helper %d: %v", pid, err)
	}
	f := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			f[k] = strings.TrimSpace(v)
		}
	}
	return f
}

// TestHelper: the helper waits confined (no_new_privs, the filter, every
// signal blocked) while kshim runs; Exit reports the status and closes
// the handed files at once; the helper is gone once kshim is, also when
// its pollfd was tampered with.
func TestHelper(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the helper is amd64 only")
	}
	for _, mode := range []string{"exit", "tamper"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode)
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			r := bufio.NewReader(out)
			line, err := r.ReadString('\n')
			pid, perr := strconv.Atoi(strings.TrimSpace(line))
			if err != nil || perr != nil || pid <= 0 {
				t.Fatalf("child said %q (%v): want the helper's pid", line, err)
			}
			st := status(t, pid)
			want := map[string]string{"PPid": strconv.Itoa(cmd.Process.Pid), "NoNewPrivs": "1", "Seccomp": "2", "SigBlk": "fffffffffffbfeff", "Threads": "1"}
			for k, v := range want {
				if st[k] != v {
					t.Errorf("helper's %s: %q, want %q", k, st[k], v)
				}
			}
			if !strings.HasPrefix(st["State"], "S") {
				t.Errorf("helper's state %q, want sleeping (it is killed if its filter refuses its wait)", st["State"])
			}
			hfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatalf("pidfd of the helper: %v", err)
			}
			defer unix.Close(hfd)

			in.Write([]byte("\n"))
			if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
				t.Errorf("child's stdout after the pid: %q, %v; want its end", rest, err)
			}
			if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 7 {
				t.Errorf("child: %v, want status 7", err)
			}
			// A hang check, not a timing one: the helper exits once it
			// sees kshim gone (at most its poll period later).
			fds := []unix.PollFd{{Fd: int32(hfd), Events: unix.POLLIN}}
			deadline := time.Now().Add(20 * time.Second)
			for {
				n, err := unix.Poll(fds, 1000)
				if n == 1 {
					break
				}
				if err != nil && err != unix.EINTR || time.Now().After(deadline) {
					t.Fatalf("helper %d still there after kshim's exit (%v)", pid, err)
				}
			}
		})
	}
}

// TestFilter runs the helper's filter on seccomp_data: its calls pass,
// any other call, another architecture's or an x32 one is killed.
// (x/net/bpf's VM loads big-endian: the data is laid out so.)
func TestFilter(t *testing.T) {
	if !supported {
		t.Skip("no helper on " + runtime.GOARCH)
	}
	prog, err := helperFilter()
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	insns, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("the filter does not disassemble")
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	for _, nr := range Allowed {
		if got := ret(t, vm, uint32(nr), auditArch); got != unix.SECCOMP_RET_ALLOW {
			t.Errorf("call %d: %#x, want allowed", nr, got)
		}
		if got := ret(t, vm, uint32(nr)|0x40000000, auditArch); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("x32 call %d: %#x, want killed", nr, got)
		}
		if got := ret(t, vm, uint32(nr), unix.AUDIT_ARCH_I386); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("i386 call %d: %#x, want killed", nr, got)
		}
	}
	for _, nr := range []uint32{unix.SYS_GETPID, unix.SYS_PTRACE, unix.SYS_WRITE, unix.SYS_PPOLL, unix.SYS_KILL, unix.SYS_EXECVE, unix.SYS_CLONE, unix.SYS_MPROTECT} {
		if got := ret(t, vm, nr, auditArch); got != unix.SECCOMP_RET_KILL_PROCESS {
			t.Errorf("call %d: %#x, want killed", nr, got)
		}
	}
}

// ret is the filter's action for call nr on arch.
func ret(t *testing.T, vm *bpf.VM, nr, arch uint32) uint32 {
	t.Helper()
	data := make([]byte, 64) // struct seccomp_data
	binary.BigEndian.PutUint32(data[0:], nr)
	binary.BigEndian.PutUint32(data[4:], arch)
	v, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}
