package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY returns a new pseudo-terminal's master and slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// runOnTTY runs argv as a session leader whose controlling terminal is a
// new pty (stdin, stdout and stderr), and returns what it wrote there.
func runOnTTY(t *testing.T, argv []string) []byte {
	t.Helper()
	m, s := openPTY(t)
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.Env = baseEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := m.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break // EIO once the last slave fd is closed
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("%v: %v\n%s", argv, err, out.Bytes())
	}
	return out.Bytes()
}

// TestTTYForeground: tcsetpgrp/tcgetpgrp on the controlling terminal match
// native, and a guest process group never reaches the host terminal (a
// group that is not the guest's is EPERM, as Linux gives for a group
// outside the session).
func TestTTYForeground(t *testing.T) {
	kshim, dir := paths(t)
	requireBinaries(t, kshim, dir, true)
	prog := filepath.Join(dir, "tty_pgrp")
	native := runOnTTY(t, []string{prog})
	guest := runOnTTY(t, []string{kshim, "run", prog})
	if !bytes.Equal(native, guest) {
		t.Errorf("native:\n%s\nkshim:\n%s", native, guest)
	}
}
