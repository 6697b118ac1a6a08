package syscalls

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/fs/mount"
	"kshim/syscalls/kernel"
)

// readNode reads the kshim-served file at path.
func readNode(t *testing.T, p *kernel.Process, path string) (string, error) {
	t.Helper()
	r, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0)
	if err != nil {
		return "", err
	}
	defer r.Close()
	if r.Node == nil {
		return "", unix.EINVAL // not kshim's: the host's file
	}
	h, _, err := p.OpenNode(r.Node, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer unix.Close(h)
	b := make([]byte, 256)
	n, err := unix.Read(h, b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n]), nil
}

// TestSysfs: /sys is kshim's, with or without mounts and whatever the
// root holds there (a symlink into the root's /sys too): the CPU lists
// agree with the guest's CPU count, the rest is ENOENT, nothing is
// writable, statfs says sysfs; a type=sysfs mount at /sys is accepted and
// listed where the table has it, and files under /sys have its mount ID.
func TestSysfs(t *testing.T) {
	dir, specs := mountFixture(t)
	root := filepath.Join(dir, "root")
	// The root's own /sys (a host directory): kshim's is served instead.
	if err := os.MkdirAll(filepath.Join(root, "sys/devices/system/cpu"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sys/devices/system/cpu/online"), []byte("0-99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/sys/devices/system/cpu/present", filepath.Join(root, "etc/cpus")); err != nil {
		t.Fatal(err)
	}
	want := "0\n"
	if n := kernel.CPUs(); n > 1 {
		want = "0-" + strconv.Itoa(n-1) + "\n"
	}
	withSys := append(append([]mount.Spec{}, specs...), mount.Spec{Type: "sysfs", Source: "sysfs", Destination: "/sys",
		Options: []string{"ro", "nosuid", "nodev", "noexec"}})
	for _, c := range []struct {
		name   string
		mounts []mount.Spec
	}{{"no mounts", nil}, {"mounts", specs}, {"sysfs mount", withSys}} {
		p := testProcess(t, fs.Files{Root: root, Mounts: c.mounts})
		paths := []string{"/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible",
			"/sys/devices/system/cpu/present", "/sys/devices/../devices/system/cpu/online"}
		if c.mounts != nil {
			// kshim's walk follows the root's symlinks itself; without
			// mounts the host does, in the root's own /sys (as /proc).
			paths = append(paths, "/etc/cpus")
		}
		for _, path := range paths {
			if got, err := readNode(t, p, path); err != nil || got != want {
				t.Errorf("%s: %s: %q, %v; want %q", c.name, path, got, err, want)
			}
		}
		if got, err := readNode(t, p, "/sys/devices/system/cpu/offline"); err != nil || got != "\n" {
			t.Errorf("%s: offline: %q, %v", c.name, got, err)
		}
		if _, err := p.Lookup(unix.AT_FDCWD, "/sys/devices/system/cpu/cpu"+strconv.Itoa(kernel.CPUs()-1), unix.O_PATH|unix.O_DIRECTORY, 0); err != nil {
			t.Errorf("%s: the last CPU's directory: %v", c.name, err)
		}
		for _, path := range []string{"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
			"/sys/devices/system/cpu/cpu" + strconv.Itoa(kernel.CPUs())} {
			if _, err := p.Lookup(unix.AT_FDCWD, path, unix.O_RDONLY, 0); err != unix.ENOENT {
				t.Errorf("%s: %s: %v, want ENOENT", c.name, path, err)
			}
		}
		r, err := p.Lookup(unix.AT_FDCWD, "/sys/devices/system/cpu/online", unix.O_WRONLY, 0)
		if err == nil {
			_, _, err = p.OpenNode(r.Node, unix.O_WRONLY)
			r.Close()
		}
		if err != unix.EACCES {
			t.Errorf("%s: open online for writing: %v, want EACCES", c.name, err)
		}
		r, err = p.Lookup(unix.AT_FDCWD, "/sys/devices", unix.O_PATH, 0)
		if err != nil {
			t.Fatal(err)
		}
		sf, err := p.StatfsOf(r.FD, r.Node, r.Origin, r.Mnt)
		if err != nil || sf.Type != unix.SYSFS_MAGIC || sf.Flags&unix.ST_RDONLY == 0 {
			t.Errorf("%s: statfs /sys/devices: type %#x flags %#x, %v", c.name, sf.Type, sf.Flags, err)
		}
		id, ok := p.MountID(r)
		r.Close()
		b, err := p.ProcMounts(true)
		if err != nil {
			t.Fatal(err)
		}
		var sysLine string
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if f := strings.Fields(l); len(f) > 4 && f[4] == "/sys" {
				if sysLine != "" {
					t.Errorf("%s: /sys listed twice:\n%s", c.name, b)
				}
				sysLine = l
			}
		}
		f := strings.Fields(sysLine)
		if len(f) < 10 || !ok || f[0] != strconv.FormatUint(id, 10) || !strings.HasPrefix(f[5], "ro,nosuid,nodev,noexec") ||
			f[7] != "sysfs" || f[8] != "sysfs" {
			t.Errorf("%s: /sys's mountinfo line %q (mount ID of /sys/devices %d, %v):\n%s", c.name, sysLine, id, ok, b)
		}
		if c.name == "sysfs mount" {
			// Listed in the table's order: after the binds, before /proc.
			lines := strings.Split(string(b), "\n")
			if !strings.Contains(lines[len(specs)+1], " /sys ") || !strings.Contains(lines[len(specs)+2], " /proc ") {
				t.Errorf("a sysfs mount not listed in order:\n%s", b)
			}
		}
	}
}

// TestSysfsHostLink: with the host's / as the root, a symlink that leads
// the host's resolution into the host's sysfs gives kshim's file of that
// name instead (never the host's).
func TestSysfsHostLink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/sys", filepath.Join(dir, "s")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/sys/devices/system/cpu/cpu0/topology/core_id", filepath.Join(dir, "core")); err != nil {
		t.Fatal(err)
	}
	p := testProcess(t, fs.Files{Root: "/"})
	r, err := p.Lookup(unix.AT_FDCWD, filepath.Join(dir, "s/devices/system/cpu/online"), unix.O_RDONLY, 0)
	if err != nil || r.Node == nil || r.Node.Path != "/sys/devices/system/cpu/online" {
		t.Errorf("through a link to /sys: %+v, %v; want kshim's online", r, err)
	}
	r.Close()
	// The host has it; kshim's /sys does not.
	if _, err := os.Stat("/sys/devices/system/cpu/cpu0/topology/core_id"); err == nil {
		if r, err := p.Lookup(unix.AT_FDCWD, filepath.Join(dir, "core"), unix.O_RDONLY, 0); err != unix.ENOENT {
			r.Close()
			t.Errorf("a host sysfs file through a link: %+v, %v; want ENOENT", r, err)
		}
	}
}
