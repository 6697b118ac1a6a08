package images

// sysvipc_test.go: real programs on kshim's System V IPC (syscalls/ipc):
// util-linux's ipcmk/ipcs, and PostgreSQL, which creates a SysV shared
// memory segment at start. The native oracle runs in a private IPC
// namespace (`unshare -i`'s CLONE_NEWIPC) as the guest's identity, so it
// starts from the empty namespace a kshim guest has. Keys ipcmk picks at
// random are masked; everything else is compared byte for byte.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// runNativeIPC is runNative in a new IPC namespace (root only: else "").
func runNativeIPC(t *testing.T, script string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a private IPC namespace for the native run needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = baseEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: guestCred(), Unshareflags: syscall.CLONE_NEWIPC}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("native: %v\n%s", err, out)
	}
	return string(out)
}

func runKshimIPC(t *testing.T, kshim, script string) string {
	t.Helper()
	r := run([]string{kshim, "run", "--rw", "/bin/sh", "-c", script}, baseEnv, "")
	if r.err != nil || r.timedOut || r.exit != 0 || r.sig != 0 {
		t.Fatalf("kshim: %s\nstdout:\n%s\nstderr:\n%s", r.status(), r.stdout, r.stderr)
	}
	return string(r.stdout) + string(r.stderr)
}

// ipcKeys masks ipcs's key column (random keys from ipcmk, ftok'd ones).
var ipcKeys = regexp.MustCompile(`(?m)^0x[0-9a-f]{8} `)

// ipcPids masks the creator's pid in `ipcs -i`.
var ipcPids = regexp.MustCompile(`cpid=[0-9]+`)

func TestSysVIpcmk(t *testing.T) {
	kshim, _ := paths(t)
	for _, bin := range []string{"/usr/bin/ipcmk", "/usr/bin/ipcs", "/usr/bin/ipcrm"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s: %v", bin, err)
		}
	}
	script := "ipcmk -M 4096 && ipcmk -M 100 -p 0640 && ipcs -m && ipcs -m -u && ipcs -m -l && " +
		"ipcrm -m 0 && ipcs -m && ipcs -m -i 1 | grep -v _time && " +
		"ipcmk -S 3 -p 0660 && ipcs -s && ipcs -s -u && ipcs -s -l && ipcs -s -i 0 | grep -v time && ipcrm -s 0 && ipcs -s && " +
		"ipcmk -Q -p 0620 && ipcs -q && ipcs -q -u && ipcs -q -l && ipcs -q -i 0 | grep -v time && ipcrm -q 0 && ipcs"
	native := ipcPids.ReplaceAllString(ipcKeys.ReplaceAllString(runNativeIPC(t, script), "KEY "), "cpid=PID")
	got := ipcPids.ReplaceAllString(ipcKeys.ReplaceAllString(runKshimIPC(t, kshim, script), "KEY "), "cpid=PID")
	if got != native {
		t.Errorf("ipcmk/ipcs differ\nnative:\n%s\nkshim:\n%s", native, got)
	}
}

// TestPostgres runs initdb, starts postgres (its SysV segment), queries it
// with psql and stops it, natively and under kshim: the same output.
func TestPostgres(t *testing.T) {
	kshim, _ := paths(t)
	for _, bin := range []string{"/usr/local/bin/initdb", "/usr/local/bin/pg_ctl", "/usr/local/bin/postgres", "/usr/bin/psql", "/usr/bin/ipcs"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s: %v", bin, err)
		}
	}
	script := func(dir string) string {
		d := filepath.Join(dir, "data")
		return strings.Join([]string{
			"/usr/local/bin/initdb -D " + d + " -U postgres --no-sync >/dev/null 2>&1",
			"/usr/local/bin/pg_ctl -D " + d + " -w -s -l " + dir + "/log -o '-k " + dir + " -c listen_addresses=' start",
			"psql -h " + dir + " -U postgres -Atc 'select 1'",
			// The attach count follows the server's processes of the
			// moment (natively too): owner, perms and size only.
			"ipcs -m | tail -n +4 | awk '{print $3, $4, $5}'",
			"/usr/local/bin/pg_ctl -D " + d + " -w -s stop",
			"ipcs -m | tail -n +4",
		}, " && ")
	}
	nd, kd := guestTempDir(t), guestTempDir(t)
	native := ipcKeys.ReplaceAllString(runNativeIPC(t, script(nd)), "KEY ")
	got := ipcKeys.ReplaceAllString(runKshimIPC(t, kshim, script(kd)), "KEY ")
	if got != native {
		log, _ := os.ReadFile(filepath.Join(kd, "log"))
		t.Errorf("postgres differs\nnative:\n%s\nkshim:\n%s\nkshim's server log:\n%s", native, got, log)
	}
	if !strings.HasPrefix(got, "1\n") {
		t.Errorf("psql under kshim did not answer 1:\n%s", got)
	}
}
