package oci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/syscalls/fs/mount"
)

// bundle writes config (a config.json's text) and a rootfs directory
// into a new bundle directory.
func bundle(t *testing.T, config string) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Mkdir(filepath.Join(d, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if config != "" {
		if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

const good = `{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"rootfs"},"hostname":"h",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs"},
  {"destination":"/sys","type":"sysfs","source":"sysfs"},{"destination":"/run","type":"tmpfs","source":"tmpfs"}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"mount"}],
  "resources":{"memory":{"limit":268435456},"pids":{"limit":50}}}}`

func TestLoadBundleGood(t *testing.T) {
	var warned []string
	p, err := LoadBundle(bundle(t, good), func(w string) { warned = append(warned, w) })
	if err != nil {
		t.Fatal(err)
	}
	if p.Mem != 256<<20 || p.MaxTasks != 50 || p.Net != "new" || p.Hostname != "h" || p.Readonly {
		t.Errorf("plan %+v", p)
	}
	if !filepath.IsAbs(p.Rootfs) || filepath.Base(p.Rootfs) != "rootfs" {
		t.Errorf("rootfs %q", p.Rootfs)
	}
	if len(warned) != 0 {
		t.Errorf("warnings %q, want none", warned)
	}
	var dests []string
	for _, m := range p.Mounts {
		dests = append(dests, m.Destination)
	}
	if strings.Join(dests, " ") != "/proc /dev /sys /run" {
		t.Errorf("mounts %q, want /proc /dev /sys /run for kshim's mount table", dests)
	}
}

func TestLoadBundleNet(t *testing.T) {
	for _, c := range []struct{ ns, want string }{
		{`[]`, "host"},
		{`[{"type":"network"}]`, "new"},
		{`[{"type":"network","path":"/var/run/netns/x"}]`, "/var/run/netns/x"},
	} {
		cfg := `{"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},"linux":{"namespaces":` + c.ns + `}}`
		p, err := LoadBundle(bundle(t, cfg), func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		if p.Net != c.want {
			t.Errorf("namespaces %s: net %q, want %q", c.ns, p.Net, c.want)
		}
		if p.Mem != DefaultMem {
			t.Errorf("no limit: mem %d", p.Mem)
		}
	}
}

// Each bad bundle gets one error naming what is wrong.
func TestLoadBundleErrors(t *testing.T) {
	base := func(repl ...string) string {
		s := good
		for i := 0; i+1 < len(repl); i += 2 {
			if !strings.Contains(s, repl[i]) {
				t.Fatalf("no %q in the config", repl[i])
			}
			s = strings.Replace(s, repl[i], repl[i+1], 1)
		}
		return s
	}
	cases := []struct {
		name, config, want string
	}{
		{"no config.json", "", "no config.json"},
		{"bad json", `{"ociVersion":`, "not valid JSON"},
		{"version", base(`"1.0.2"`, `"0.9"`), "not 1.x"},
		{"no root", base(`"root":{"path":"rootfs"},`, ``), "no root.path"},
		{"missing rootfs", base(`"path":"rootfs"`, `"path":"nothere"`), "no such file or directory"},
		{"rootfs a file", base(`"path":"rootfs"`, `"path":"config.json"`), "is not a directory"},
		{"no process", base(`"process":{"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/bin"],"cwd":"/"},`, ``), "no process"},
		{"empty args", base(`"args":["sh"]`, `"args":[]`), "process.args is empty"},
		{"relative cwd", base(`"cwd":"/"`, `"cwd":"tmp"`), "not an absolute path"},
		{"bad env", base(`"PATH=/bin"`, `"PATH"`), "not NAME=VALUE"},
		{"user ns", base(`{"type":"pid"}`, `{"type":"user"}`), "user namespaces are not supported"},
		{"mount type", base(`{"destination":"/sys"`, `{"destination":"/data","type":"9p","source":"x"},{"destination":"/sys"`), `type "9p" is not supported`},
		{"mount option", base(`{"destination":"/sys"`, `{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["size=lots"]},{"destination":"/sys"`), `"size=lots"`},
		{"mount in proc", base(`{"destination":"/sys"`, `{"destination":"/proc/sys","type":"bind","source":"/tmp","options":["rbind"]},{"destination":"/sys"`), "/proc is kshim's own"},
		{"device", base(`"resources"`, `"devices":[{"path":"/dev/sda","type":"b","major":8,"minor":0}],"resources"`), "device /dev/sda"},
		{"sysctl", base(`"resources"`, `"sysctl":{"kernel.shmmax":"1"},"resources"`), "linux.sysctl kernel.shmmax"},
		{"sysctl host net", base(`"resources"`, `"sysctl":{"net.ipv4.ip_forward":"1"},"resources"`, `{"type":"network"},`, ``), "only in the container's own network namespace"},
		{"sysctl path", base(`"resources"`, `"sysctl":{"net.ipv4/../../x":"1"},"resources"`), "linux.sysctl"},
		{"rlimit", base(`"cwd":"/"`, `"cwd":"/","rlimits":[{"type":"RLIMIT_BOGUS","soft":1,"hard":1}]`), "unknown type"},
		{"rlimit order", base(`"cwd":"/"`, `"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]`), "soft limit above"},
		{"relative masked path", base(`"resources"`, `"maskedPaths":["/proc/kcore","masked-relpath"],"resources"`), `linux.maskedPaths: "masked-relpath" is not an absolute path`},
		{"relative read-only path", base(`"resources"`, `"readonlyPaths":["readonly-relpath"],"resources"`), `linux.readonlyPaths: "readonly-relpath" is not an absolute path`},
		{"createContainer hook", base(`"hostname":"h",`, `"hostname":"h","hooks":{"createContainer":[{"path":"/bin/true"}]},`), "createContainer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadBundle(bundle(t, c.config), func(string) {})
			if err == nil {
				t.Fatalf("accepted")
			}
			if _, ok := err.(*BundleError); !ok {
				t.Errorf("error %T, want *BundleError", err)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line with %q", err, c.want)
			}
		})
	}
}

func TestRlimits(t *testing.T) {
	p, err := LoadBundle(bundle(t, strings.Replace(good, `"cwd":"/"`, `"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":100,"hard":200}]`, 1)), func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	got := Rlimits(&p.Process)
	if len(got) != 1 || got[unix.RLIMIT_NOFILE] != (unix.Rlimit{Cur: 100, Max: 200}) {
		t.Errorf("rlimits %v", got)
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"abc", "a-b_c.d+1", strings.Repeat("f", 64)} {
		if err := CheckID(id); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../x", "a b", "a\x00"} {
		if CheckID(id) == nil {
			t.Errorf("%q accepted", id)
		}
	}
}

func TestProcStart(t *testing.T) {
	st, ok := procStart(os.Getpid())
	if !ok || st == 0 {
		t.Fatalf("own process: %d %v", st, ok)
	}
	if st2, _ := procStart(os.Getpid()); st2 != st {
		t.Errorf("start time changed: %d %d", st, st2)
	}
	if _, ok := procStart(1 << 30); ok {
		t.Errorf("a pid that cannot exist is alive")
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"9": unix.SIGKILL, "KILL": unix.SIGKILL, "SIGTERM": unix.SIGTERM, "hup": unix.SIGHUP} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "NOPE", "-1", "99"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// A relative bind source is the bundle's, as runc takes it.
func TestBindSource(t *testing.T) {
	d := bundle(t, strings.Replace(good, `{"destination":"/sys"`, `{"destination":"/data","type":"bind","source":"vol","options":["rbind","ro"]},{"destination":"/sys"`, 1))
	p, err := LoadBundle(d, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	m := p.Mounts[len(p.Mounts)-3] // before /sys and /run
	if m.Destination != "/data" || m.Source != filepath.Join(d, "vol") || strings.Join(m.Options, ",") != "rbind,ro" {
		t.Errorf("bind mount %+v", m)
	}
}

// A later mount at or above an earlier one hides it (CRI's /dev/shm).
func TestHiddenMounts(t *testing.T) {
	var warned []string
	got := unhidden([]mount.Spec{{Destination: "/dev/shm", Type: "tmpfs"}, {Destination: "/a/b", Type: "tmpfs"},
		{Destination: "/dev/shm", Type: "bind", Source: "/x"}, {Destination: "/a", Type: "tmpfs"}, {Destination: "/ab", Type: "tmpfs"}},
		func(w string) { warned = append(warned, w) })
	var dests []string
	for _, m := range got {
		dests = append(dests, m.Type+":"+m.Destination)
	}
	if strings.Join(dests, " ") != "bind:/dev/shm tmpfs:/a tmpfs:/ab" || len(warned) != 2 {
		t.Errorf("kept %q, warned %q", dests, warned)
	}
}

// TestGuardedPaths: linux.maskedPaths and readonlyPaths reach the plan
// (cleaned, in order) for the file layer (syscalls/fs/fsguard.go), with
// no warning that they are ignored.
func TestGuardedPaths(t *testing.T) {
	cfg := strings.Replace(good, `"resources"`, `"maskedPaths":["/proc/kcore","/masked-dir/","/a//b"],"readonlyPaths":["/proc/sys","/ro/../ro-file"],"resources"`, 1)
	var warned []string
	p, err := LoadBundle(bundle(t, cfg), func(w string) { warned = append(warned, w) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.MaskedPaths, " ") != "/proc/kcore /masked-dir /a/b" || strings.Join(p.ReadonlyPaths, " ") != "/proc/sys /ro-file" {
		t.Errorf("masked %q, read-only %q", p.MaskedPaths, p.ReadonlyPaths)
	}
	if len(warned) != 0 {
		t.Errorf("warnings %q", warned)
	}
}

// A bind mount's key=value options are ignored with a warning, as
// mount(2) ignores a bind's file-system data (runtime-tools' mounts test
// gives every mount mode= and size=).
func TestBindDataOptions(t *testing.T) {
	cfg := strings.Replace(good, `{"destination":"/run"`, `{"destination":"/data","source":"/etc","options":["bind","mode=755","size=1k","ro"]},{"destination":"/run"`, 1)
	var warned []string
	p, err := LoadBundle(bundle(t, cfg), func(w string) { warned = append(warned, w) })
	if err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "mode=755,size=1k ignored") {
		t.Errorf("warnings %q", warned)
	}
	for _, m := range p.Mounts {
		if m.Destination == "/data" && strings.Join(m.Options, ",") != "bind,ro" {
			t.Errorf("options %q", m.Options)
		}
	}
	// A tmpfs's are its own, checked as before.
	bad := strings.Replace(good, `{"destination":"/run","type":"tmpfs","source":"tmpfs"}`, `{"destination":"/run","type":"tmpfs","source":"tmpfs","options":["color=red"]}`, 1)
	if _, err := LoadBundle(bundle(t, bad), func(string) {}); err == nil {
		t.Error("a tmpfs option kshim does not know was accepted")
	}
}
