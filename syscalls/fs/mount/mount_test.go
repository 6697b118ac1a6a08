package mount

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []struct {
		s    Spec
		want Mount
	}{
		{Spec{Type: "bind", Source: "/srv//data/", Destination: "/data/", Options: []string{"rbind", "ro", "rprivate"}},
			Mount{Kind: Bind, Dest: "/data", Source: "/srv/data", ReadOnly: true, Recursive: true}},
		{Spec{Type: "none", Source: "/x", Destination: "/y", Options: []string{"bind"}},
			Mount{Kind: Bind, Dest: "/y", Source: "/x"}},
		{Spec{Type: "tmpfs", Source: "shm", Destination: "/dev/shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			Mount{Kind: Tmpfs, Dest: "/dev/shm", NoSuid: true, NoExec: true, NoDev: true, Mode: 0o1777, Size: 64 << 20}},
		{Spec{Type: "tmpfs", Destination: "/run", Options: []string{"mode=755", "size=1"}},
			Mount{Kind: Tmpfs, Dest: "/run", Mode: 0o755, Size: 4096}},
		{Spec{Type: "tmpfs", Destination: "/t"}, Mount{Kind: Tmpfs, Dest: "/t", Mode: 0o1777, Size: 0}}, // the file layer sets it,
		{Spec{Type: "proc", Source: "proc", Destination: "/proc", Options: []string{"nosuid", "noexec", "nodev"}},
			Mount{Kind: Proc, Dest: "/proc", NoSuid: true, NoExec: true, NoDev: true}},
		{Spec{Type: "sysfs", Source: "sysfs", Destination: "/sys", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			Mount{Kind: Sysfs, Dest: "/sys", NoSuid: true, NoExec: true, NoDev: true, ReadOnly: true}},
		{Spec{Type: "devpts", Source: "devpts", Destination: "/dev/pts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			Mount{Kind: Devpts, Dest: "/dev/pts", NoSuid: true, NoExec: true, DevptsOpts: map[string]uint64{"ptmxmode": 0o666, "mode": 0o620, "gid": 5}}},
		{Spec{Type: "mqueue", Source: "mqueue", Destination: "/dev/mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			Mount{Kind: Mqueue, Dest: "/dev/mqueue", NoSuid: true, NoExec: true, NoDev: true}},
	}
	for _, c := range good {
		m, err := Parse(c.s)
		if err != nil {
			t.Errorf("%+v: %v", c.s, err)
			continue
		}
		w := c.want
		if m.Kind != w.Kind || m.Dest != w.Dest || m.Source != w.Source || m.ReadOnly != w.ReadOnly ||
			m.Recursive != w.Recursive || m.NoSuid != w.NoSuid || m.NoDev != w.NoDev || m.NoExec != w.NoExec ||
			(w.Kind == Tmpfs && (m.Size != w.Size || m.Mode != w.Mode)) ||
			fmt.Sprint(m.DevptsOpts) != fmt.Sprint(w.DevptsOpts) {
			t.Errorf("%+v: got %+v, want %+v", c.s, m, w)
		}
	}
	bad := []struct {
		s   Spec
		msg string
	}{
		{Spec{Type: "bind", Source: "/x", Destination: "rel"}, "absolute guest path"},
		{Spec{Type: "bind", Source: "x", Destination: "/y"}, "absolute host path"},
		{Spec{Type: "bind", Source: "/x", Destination: "/"}, "over the root"},
		{Spec{Type: "bind", Source: "/x", Destination: "/y", Options: []string{"ro", "bogus"}}, `unknown option "bogus"`},
		{Spec{Type: "bind", Source: "/x", Destination: "/y", Options: []string{"size=1m"}}, "take no key=value"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"bind"}}, "bind mounts only"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"size=0"}}, "size 0"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"size=10%"}}, "%"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"size=12q"}}, "not a size"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"size=99999999999g"}}, "too large"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"mode=9"}}, "octal"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"nr_inodes=5"}}, "unknown tmpfs option"},
		{Spec{Type: "sysfs", Destination: "/sysfs"}, "only at /sys"},
		{Spec{Type: "tmpfs", Destination: "/sys/fs/cgroup"}, "kshim's own"},
		{Spec{Type: "ext4", Destination: "/y"}, `type "ext4" is not supported`},
		{Spec{Type: "", Source: "/x", Destination: "/y"}, "no type"},
		{Spec{Type: "proc", Destination: "/p"}, "only at /proc"},
		{Spec{Type: "tmpfs", Destination: "/proc/x"}, "kshim's own"},
		{Spec{Type: "bind", Source: "/x", Destination: "/dev/null"}, "devices kshim serves"},
		{Spec{Type: "bind", Source: "/x\x00", Destination: "/y"}, "NUL"},
		{Spec{Type: "devpts", Destination: "/pts"}, "only at /dev/pts"},
		{Spec{Type: "devpts", Destination: "/dev/pts", Options: []string{"mode=888"}}, "not a number"},
		{Spec{Type: "devpts", Destination: "/dev/pts", Options: []string{"size=1m"}}, "unknown devpts option"},
		{Spec{Type: "tmpfs", Destination: "/y", Options: []string{"newinstance"}}, `unknown option "newinstance"`},
		{Spec{Type: "mqueue", Destination: "/dev/mqueue", Options: []string{"size=1m"}}, "take no key=value"},
		{Spec{Type: "mqueue", Destination: "/proc/mq"}, "kshim's own"},
	}
	for _, c := range bad {
		_, err := Parse(c.s)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: got %v, want an error with %q", c.s, err, c.msg)
		}
	}
}

func TestTable(t *testing.T) {
	tb, err := NewTable(false, []Spec{
		{Type: "tmpfs", Destination: "/dev"},
		{Type: "tmpfs", Destination: "/dev/shm"},
		{Type: "bind", Source: "/h/data", Destination: "/srv/data", Options: []string{"ro"}},
		{Type: "bind", Source: "/h/f", Destination: "/etc/hosts"},
	})
	if err != nil {
		t.Fatal(err)
	}
	root, dev, shm, data := tb.Root(), tb.At("/dev"), tb.At("/dev/shm"), tb.At("/srv/data")
	if root.Dest != "/" || !root.ReadOnly || dev == nil || shm == nil || data == nil || tb.Len() != 4 {
		t.Fatalf("table %+v", tb.Mounts())
	}
	if shm.Parent != dev.ID || dev.Parent != root.ID || data.Parent != root.ID {
		t.Errorf("parents: shm %d dev %d (%d) data %d root %d", shm.Parent, dev.ID, dev.Parent, data.Parent, root.ID)
	}
	find := []struct {
		p   string
		m   *Mount
		rel string
	}{
		{"/", root, ""}, {"/dev", dev, ""}, {"/dev/x", dev, "x"}, {"/dev/shm/a/b", shm, "a/b"},
		{"/devx", root, "devx"}, {"/srv", root, "srv"}, {"/srv/data", data, ""}, {"/srv/datax/y", root, "srv/datax/y"},
	}
	for _, c := range find {
		m, rel := tb.Find(c.p)
		if m != c.m || rel != c.rel {
			t.Errorf("Find(%q) = %s %q, want %s %q", c.p, m.Dest, rel, c.m.Dest, c.rel)
		}
	}
	// Walking: in through mount points, out through "..".
	m, rel := tb.Child(root, "", "dev")
	if m != dev || rel != "" {
		t.Errorf("Child(/, dev) = %s %q", m.Dest, rel)
	}
	m, rel = tb.Child(dev, "", "shm")
	if m != shm || rel != "" {
		t.Errorf("Child(/dev, shm) = %s %q", m.Dest, rel)
	}
	m, rel = tb.Child(root, "srv", "data")
	if m != data || rel != "" {
		t.Errorf("Child(/srv, data) = %s %q", m.Dest, rel)
	}
	m, rel = tb.Child(data, "a", "b")
	if m != data || rel != "a/b" {
		t.Errorf("Child(data a, b) = %s %q", m.Dest, rel)
	}
	dd := []struct {
		m      *Mount
		rel    string
		wm     *Mount
		wantRl string
	}{
		{root, "", root, ""}, {root, "a/b", root, "a"}, {root, "a", root, ""},
		{dev, "", root, ""}, {shm, "", dev, ""}, {data, "", root, "srv"}, {data, "x/y", data, "x"},
	}
	for _, c := range dd {
		m, rel := tb.Dotdot(c.m, c.rel)
		if m != c.wm || rel != c.wantRl {
			t.Errorf("Dotdot(%s, %q) = %s %q, want %s %q", c.m.Dest, c.rel, m.Dest, rel, c.wm.Dest, c.wantRl)
		}
	}
	if !tb.MountPoint(root, "dev") || !tb.MountPoint(dev, "shm") || tb.MountPoint(root, "srv") || !tb.MountPoint(data, "") {
		t.Error("MountPoint")
	}
	if data.Guest("a/b") != "/srv/data/a/b" || root.Guest("a") != "/a" || root.Guest("") != "/" {
		t.Error("Guest")
	}
}

func TestTableRefusesHiding(t *testing.T) {
	for _, specs := range [][]Spec{
		{{Type: "tmpfs", Destination: "/dev/shm"}, {Type: "tmpfs", Destination: "/dev"}},
		{{Type: "tmpfs", Destination: "/a"}, {Type: "tmpfs", Destination: "/a/"}},
	} {
		if _, err := NewTable(true, specs); err == nil || !strings.Contains(err.Error(), "would hide") {
			t.Errorf("%+v: %v", specs, err)
		}
	}
}

func TestFormat(t *testing.T) {
	tb, err := NewTable(false, []Spec{
		{Type: "tmpfs", Source: "shm", Destination: "/dev/shm", Options: []string{"nosuid", "nodev", "noexec", "size=65536k"}},
		{Type: "tmpfs", Destination: "/run", Options: []string{"mode=755", "uid=0", "gid=5", "noatime", "size=64m"}},
		{Type: "bind", Source: "/h/my dir", Destination: "/my\tdata\\", Options: []string{"ro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := tb.Mounts()
	got := ms[0].MountsLine(Info{Source: "/dev/root", FSType: "ext4", SuperOpts: "errors=remount-ro"}) +
		ms[1].MountsLine(Info{Source: "shm", FSType: "tmpfs"}) +
		ms[2].MountsLine(Info{Source: "tmpfs", FSType: "tmpfs"}) +
		ms[3].MountsLine(Info{Source: "/dev/sda1", FSType: "ext4"})
	want := "/dev/root / ext4 ro,relatime,errors=remount-ro 0 0\n" +
		"shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0\n" +
		"tmpfs /run tmpfs rw,noatime,size=65536k,mode=755,uid=0,gid=5 0 0\n" +
		"/dev/sda1 /my\\011data\\134 ext4 ro,relatime 0 0\n"
	if got != want {
		t.Errorf("mounts:\n%s\nwant:\n%s", got, want)
	}
	got = ms[1].MountinfoLine(Info{Source: "shm", FSType: "tmpfs", Major: 0, Minor: 45}) +
		ms[3].MountinfoLine(Info{Source: "/dev/sda1", FSType: "ext4", Major: 8, Minor: 1, FSRoot: "/h/my dir"})
	want = "22 21 0:45 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n" +
		"24 21 8:1 /h/my\\040dir /my\\011data\\134 ro,relatime - ext4 /dev/sda1 rw\n"
	if got != want {
		t.Errorf("mountinfo:\n%s\nwant:\n%s", got, want)
	}
}

// TestGuarded: masks cover what they hide, read-only paths go before the
// mounts below them (which stay on them), and IDs and parents follow the
// new order; nothing of kshim's own is guarded.
func TestGuarded(t *testing.T) {
	tb, err := NewTable(true, []Spec{
		{Type: "tmpfs", Destination: "/dev"},
		{Type: "bind", Source: "/h/a", Destination: "/srv/a"},
		{Type: "bind", Source: "/h/b", Destination: "/srv/b"},
		{Type: "tmpfs", Destination: "/data/inner"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dests := func() string {
		var d []string
		for _, m := range tb.Mounts() {
			d = append(d, fmt.Sprintf("%d:%d:%s", m.ID, m.Parent, m.Dest))
		}
		return strings.Join(d, " ")
	}
	ro := &Mount{Kind: Bind, Dest: "/data", ReadOnly: true}
	if got, err := tb.Insert(ro); err != nil || got != ro {
		t.Fatalf("Insert /data: %v %v", got, err)
	}
	if d := dests(); d != "21:20:/ 22:21:/dev 23:21:/srv/a 24:21:/srv/b 25:21:/data 26:25:/data/inner" {
		t.Errorf("after Insert /data: %s", d)
	}
	if m, rel := tb.Find("/data/x"); m != ro || rel != "x" || !m.Guarded {
		t.Errorf("Find /data/x: %s %q", m.Dest, rel)
	}
	// At a mount: that mount becomes read-only.
	a := tb.At("/srv/a")
	if got, err := tb.Insert(&Mount{Kind: Bind, Dest: "/srv/a"}); err != nil || got != a || !a.ReadOnly || !a.Guarded {
		t.Errorf("Insert /srv/a: %v %v %+v", got, err, a)
	}
	mask := &Mount{Kind: Tmpfs, Dest: "/srv", ReadOnly: true}
	if err := tb.Cover(mask); err != nil {
		t.Fatal(err)
	}
	if d := dests(); d != "21:20:/ 22:21:/dev 23:21:/data 24:23:/data/inner 25:21:/srv" {
		t.Errorf("after Cover /srv: %s", d)
	}
	if tb.At("/srv/a") != nil || tb.At("/srv/b") != nil {
		t.Error("the covered mounts are still there")
	}
	if m, rel := tb.Find("/srv/a/f"); m != mask || rel != "a/f" {
		t.Errorf("Find /srv/a/f: %s %q", m.Dest, rel)
	}
	for p, want := range map[string]bool{"/": true, "/srv": false, "/data": true, "/dat": false, "/dev": false, "/x": false} {
		if tb.Guards(p) != want {
			t.Errorf("Guards(%s) = %v", p, !want)
		}
	}
	tb.Insert(&Mount{Kind: Bind, Dest: "/a/b/c"})
	for p, want := range map[string]bool{"/a": true, "/a/b": true, "/a/b/c": false, "/a/bc": false} {
		if tb.Guards(p) != want {
			t.Errorf("Guards(%s) = %v", p, !want)
		}
	}
	for _, bad := range []*Mount{
		{Kind: Bind, Dest: "/proc/kcore"}, {Kind: Tmpfs, Dest: "/sys/firmware"}, {Kind: Bind, Dest: "/dev/null"},
		{Kind: Bind, Dest: "/"}, {Kind: Bind, Dest: "rel"}, {Kind: Bind, Dest: "/a/../b"}, {Kind: Proc, Dest: "/x"},
	} {
		if err := tb.Cover(bad); err == nil {
			t.Errorf("Cover %s %s accepted", bad.Kind, bad.Dest)
		}
		if _, err := tb.Insert(bad); err == nil {
			t.Errorf("Insert %s %s accepted", bad.Kind, bad.Dest)
		}
	}
}

// Above follows every change of the table: a walk's shortcut (fs's run)
// skips the mount checks below directories it lacks, so a masked or
// read-only path added after the config's mounts must enter it too.
func TestAboveFollowsChanges(t *testing.T) {
	tb, err := FromMounts(true, []Mount{{Kind: Tmpfs, Dest: "/dev/shm"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/", "/dev"} {
		if !tb.Above(d) {
			t.Errorf("Above(%q) = false with a mount at /dev/shm", d)
		}
	}
	if tb.Above("/etc") || tb.Above("/dev/shm") {
		t.Errorf("Above: /etc %v, /dev/shm %v; want false", tb.Above("/etc"), tb.Above("/dev/shm"))
	}
	if err := tb.Cover(&Mount{Kind: Bind, Dest: "/etc/secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Insert(&Mount{Kind: Bind, Dest: "/usr/share/ro/file"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/etc", "/usr", "/usr/share", "/usr/share/ro"} {
		if !tb.Above(d) {
			t.Errorf("Above(%q) = false after a guarded mount below it", d)
		}
	}
}
