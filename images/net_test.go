// net_test.go: the guest's network policy and where its unix sockets
// live. Spec tests, not differential ones: natively the program shares
// the host's network and file system, which is what these check kshim
// does not give the guest by default.
//
//   - TestNetPolicy: a TCP listener and an abstract unix socket of the
//     host (this test's) are unreachable from the guest by default
//     (ECONNREFUSED), reachable with --net host; --net none has no IP
//     sockets at all; NETLINK_ROUTE only in the guest's own namespace.
//   - TestNetGuestHidden: the guest's abstract unix name and TCP port are
//     not the host's.
//   - TestNetUnixPaths: unix socket paths resolve inside --root: symlinks
//     and ".." that climb, and host paths, never reach a socket or a
//     directory outside it; a bind lands inside the root; without --rw a
//     new name is EROFS.
//   - TestNetBusybox: busybox httpd, wget and nc talk to each other
//     inside one guest over its private loopback; rtnetlink and the
//     interface ioctls read the namespace and change nothing.
//   - TestNetLowPorts: ports below 1024 are the guest's in its private
//     namespace (native oracle: a namespace with ip_unprivileged_port_start=0).
//   - TestNetProcNet: /proc/net (netstat, ifconfig) shows the guest's namespace.
//   - TestNetFuzz: hostile arguments to every socket syscall end in an
//     errno or a result, never in a VMM error or a hang.
package images

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// probe runs net_probe under kshim with flags and returns its results by
// operation ("tcp 1234" -> "ECONNREFUSED").
func probe(t *testing.T, cwd string, flags []string, ops ...string) map[string]string {
	t.Helper()
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "net_probe")
	requireFile(t, prog)
	argv := append(append(append([]string{kshim, "run"}, flags...), prog), ops...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = cwd
	cmd.Env = baseEnv
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("kshim run net_probe %v: %v\nstdout:\n%s\nstderr:\n%s", ops, err, out.Bytes(), errb.Bytes())
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		op, r, ok := strings.Cut(line, " -> ")
		if !ok {
			t.Fatalf("unexpected output line %q", line)
		}
		res[op] = r
	}
	return res
}

func TestNetPolicy(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	abstract := "kshim-net-test-" + strconv.Itoa(os.Getpid())
	ul, err := net.Listen("unix", "@"+abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	go func() {
		for {
			c, err := ul.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ops := []string{"tcp", port, "abstract", abstract, "inet", "netlink"}
	cases := []struct {
		flags []string
		want  map[string]string
	}{
		{nil, map[string]string{"tcp " + port: "ECONNREFUSED", "abstract " + abstract: "ECONNREFUSED",
			"inet": "0", "netlink": "0"}},
		{[]string{"--net", "private"}, map[string]string{"tcp " + port: "ECONNREFUSED", "abstract " + abstract: "ECONNREFUSED"}},
		{[]string{"--net", "host"}, map[string]string{"tcp " + port: "0", "abstract " + abstract: "0",
			"inet": "0", "netlink": "EAFNOSUPPORT"}},
		{[]string{"--net", "none"}, map[string]string{"tcp " + port: "EAFNOSUPPORT", "abstract " + abstract: "ECONNREFUSED",
			"inet": "EAFNOSUPPORT", "netlink": "0"}},
	}
	for _, c := range cases {
		got := probe(t, ".", c.flags, ops...)
		for op, w := range c.want {
			if got[op] != w {
				t.Errorf("%v: %s -> %s, want %s", c.flags, op, got[op], w)
			}
		}
	}
}

// TestNetGuestHidden: the guest's own listeners (an abstract unix name,
// a TCP port on 127.0.0.1) are not reachable from the host by default.
func TestNetGuestHidden(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "net_probe")
	requireFile(t, prog)
	name := "kshim-net-guest-" + strconv.Itoa(os.Getpid())
	g := startGuest(t, kshim, "run", prog, "hold", name)
	out := g.readUntil("ready")
	var port int
	for _, l := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(l, "port "); ok {
			port, _ = strconv.Atoi(p)
		}
	}
	if port == 0 {
		t.Fatalf("no port from the guest: %q", out)
	}
	if c, err := net.Dial("unix", "@"+name); err == nil {
		c.Close()
		t.Errorf("the host reached the guest's abstract socket @%s", name)
	}
	// The guest's port is not taken on the host's loopback: the host can
	// listen on it itself (unless another program of the host's happens
	// to hold the same number, which the test then reports and skips).
	if ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		ln.Close()
	} else {
		t.Logf("port %d is in use on the host (%v): cannot tell", port, err)
	}
	rest, _ := g.finish()
	if want := "hold " + name + " -> 0\n"; !strings.HasSuffix(rest, want) {
		t.Errorf("guest: %q, want %q at the end (stderr %q)", rest, want, g.stderr.String())
	}
}

func TestNetUnixPaths(t *testing.T) {
	tmp := guestTempDir(t)
	root := filepath.Join(tmp, "root")
	outdir := filepath.Join(tmp, "outdir")
	for _, d := range []string{filepath.Join(root, "sub", "deep"), filepath.Join(root, "tmp"), outdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, tmp) // the guest's identity's, as kshim runs it
	// A host socket outside the root, and symlinks in the root that name
	// it or its directory by host path, by climbing, and absolutely.
	hostSock := filepath.Join(tmp, "host.sock")
	hl, err := net.Listen("unix", hostSock)
	if err != nil {
		t.Fatal(err)
	}
	defer hl.Close()
	links := map[string]string{
		"hostsock": hostSock,                 // host path of the socket
		"hostdir":  outdir,                   // host path of a directory
		"up":       "../../../../../..",      // climbs
		"sub/abs":  "/",                      // absolute
		"upsock":   "../host.sock",           // one level up: the socket
		"existing": "/etc/nothing-here.sock", // dangling, inside
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	rw := []string{"--root", root, "--rw"}
	got := probe(t, tmp, rw,
		"connect", "/hostsock",
		"connect", "/upsock",
		"connect", "/up/host.sock",
		"connect", "../host.sock",
		"connect", hostSock,
		"bind", "/hostdir/s1.sock",
		"bind", "/up/s2.sock",
		"bind", "/sub/abs/s3.sock",
		"bind", "../../s4.sock",
		"bind", "sub/deep/../../../s5.sock",
		"bind", "/tmp/s6.sock",
		"connect", "/tmp/s6.sock",
		"bind", "/existing",
	)
	want := map[string]string{
		"connect /hostsock":              "ENOENT",
		"connect /upsock":                "ENOENT",
		"connect /up/host.sock":          "ENOENT",
		"connect ../host.sock":           "ENOENT",
		"connect " + hostSock:            "ENOENT",
		"bind /hostdir/s1.sock":          "ENOENT",
		"bind /up/s2.sock":               "0",
		"bind /sub/abs/s3.sock":          "0",
		"bind ../../s4.sock":             "0",
		"bind sub/deep/../../../s5.sock": "0",
		"bind /tmp/s6.sock":              "0",
		"connect /tmp/s6.sock":           "ECONNREFUSED", // bound, not listening
		"bind /existing":                 "EADDRINUSE",
	}
	for op, w := range want {
		if got[op] != w {
			t.Errorf("%s -> %s, want %s", op, got[op], w)
		}
	}
	// The sockets are inside the root, nothing new is outside it.
	for _, n := range []string{"s2.sock", "s3.sock", "s4.sock", "s5.sock", "tmp/s6.sock"} {
		st, err := os.Lstat(filepath.Join(root, n))
		if err != nil || st.Mode()&os.ModeSocket == 0 {
			t.Errorf("%s is not a socket inside the root: %v", n, err)
		}
	}
	for _, d := range []string{tmp, outdir, filepath.Dir(tmp)} {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "s") && strings.HasSuffix(e.Name(), ".sock") {
				t.Errorf("a guest socket escaped the root: %s", filepath.Join(d, e.Name()))
			}
		}
	}

	// Read-only root: the lookup's errors first, then EADDRINUSE for an
	// existing name, then EROFS, as on a read-only mount (the answers of
	// a native run on a tmpfs remounted read-only).
	got = probe(t, tmp, []string{"--root", root},
		"bind", "/new.sock",
		"bind", "/s2.sock",
		"bind", "/nodir/x.sock",
		"bind", "/tmp",
		"bind", "/tmp/",
		"bind", "/s2.sock/",
		"bind", "/new/",
		"bind", ".",
		"bind", "/s2.sock/x",
		"connect", "/s2.sock",
	)
	want = map[string]string{
		"bind /new.sock":     "EROFS",
		"bind /s2.sock":      "EADDRINUSE",
		"bind /nodir/x.sock": "ENOENT",
		"bind /tmp":          "EADDRINUSE",
		"bind /tmp/":         "EADDRINUSE",
		"bind /s2.sock/":     "EADDRINUSE",
		"bind /new/":         "ENOENT",
		"bind .":             "EADDRINUSE",
		"bind /s2.sock/x":    "ENOTDIR",
		"connect /s2.sock":   "ECONNREFUSED",
	}
	for op, w := range want {
		if got[op] != w {
			t.Errorf("read-only: %s -> %s, want %s", op, got[op], w)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "new.sock")); err == nil {
		t.Errorf("a read-only root got a new socket")
	}
}

func TestNetBusybox(t *testing.T) {
	if _, err := os.Stat(busyboxBin); err != nil {
		t.Skipf("%s not installed (make deps)", busyboxBin)
	}
	kshim, _ := paths(t)
	requireFile(t, kshim)
	tmp := guestTempDir(t)
	www := filepath.Join(tmp, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	page := "served by busybox httpd inside the guest\n"
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	// The client sends from a file: busybox nc -l shuts its sending side
	// down as soon as its own stdin (/dev/null) ends, and a client that
	// sees that EOF before its stdin has data exits 0 without sending, so
	// `echo ... | nc` lost the line when the echo ran late (under load;
	// natively too, with the echo delayed 0.2 s). A regular file is
	// readable at once, and nc reads its stdin before the socket.
	if err := os.WriteFile(filepath.Join(tmp, "nc.in"), []byte("through nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A fixed port is safe: the guest has its own network namespace.
	script := `
busybox httpd -p 127.0.0.1:8080 -h ` + www + `
busybox nc -l -p 9000 > ` + tmp + `/nc.out &
i=0; while [ $i -lt 50 ]; do busybox wget -q -O - http://127.0.0.1:8080/index.html && break; i=$((i+1)); busybox usleep 100000; done
i=0; while [ $i -lt 50 ]; do busybox nc 127.0.0.1 9000 < ` + tmp + `/nc.in && break; i=$((i+1)); busybox usleep 100000; done
wait
cat ` + tmp + `/nc.out
`
	chownTree(t, tmp)
	// --orphans=kill: httpd runs on as a daemon; it ends with the script.
	r := run([]string{kshim, "run", "--rw", "--orphans=kill", busyboxBin, "sh", "-c", script}, baseEnv, "")
	if r.timedOut || r.err != nil || r.exit != 0 {
		t.Fatalf("kshim run busybox: %s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	if want := page + "through nc\n"; string(r.stdout) != want {
		t.Errorf("stdout %q, want %q\nstderr:\n%s", r.stdout, want, r.stderr)
	}

	// rtnetlink and the interface ioctls read the guest's namespace
	// (only lo, up); nothing changes it (RTM_NEW*: EPERM, SIOCSIF*:
	// ENOTTY).
	r = run([]string{kshim, "run", busyboxBin, "sh", "-c",
		"busybox ip -o link | busybox cut -d: -f2; busybox ip -4 -o addr show lo | busybox grep -c 'inet 127.0.0.1/8'; " +
			"busybox ifconfig lo | busybox grep -c 'UP LOOPBACK RUNNING'; " +
			"busybox ip link add kshimv0 type veth peer name kshimv1 2>&1; echo rc=$?; busybox ip -o link | busybox wc -l"}, baseEnv, "")
	want := " lo\n1\n1\nip: can't talk to rtnetlink: Operation not permitted\nrc=2\n1\n"
	if r.timedOut || r.err != nil || string(r.stdout) != want {
		t.Errorf("busybox ip/ifconfig: %s\nstdout %q, want %q\nstderr:\n%s", r.status(), r.stdout, want, r.stderr)
	}
}

// TestNetFuzz runs net_fuzz (random hostile arguments to every socket
// syscall) under kshim with a read-only root: every call must return,
// and kshim must end cleanly with the guest's status.
func TestNetFuzz(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	prog := filepath.Join(dir, "net_fuzz")
	requireFile(t, prog)
	for _, seed := range []string{"1", "2"} {
		r := run([]string{kshim, "run", prog, "10000", seed}, baseEnv, "")
		if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 || looksLikeGoCrash(r.stderr) ||
			string(r.stdout) != "10000 calls returned\n" {
			t.Errorf("seed %s: %s\nstdout:\n%s\nstderr:\n%s", seed, r.status(), clip(r.stdout), clip(r.stderr))
		}
	}
}

// TestNetLowPorts: in the guest's private network namespace every port is
// open to an unprivileged bind (ip_unprivileged_port_start=0 there, as
// container runtimes set it). The oracle is native Linux in a new
// namespace with that setting and loopback up, as the guest's user; with
// --net host the host's rule applies (compared with the host natively).
func TestNetLowPorts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the native side needs root for a network namespace")
	}
	tools := map[string]string{}
	for _, tool := range []string{"unshare", "ip", "setpriv"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed: no native oracle", tool)
		}
		tools[tool] = p
	}
	kshim, dir := paths(t)
	prog := filepath.Join(dir, "net_lowport")
	requireFile(t, prog)
	uid, gid := guestID()
	drop := tools["setpriv"] + " --reuid " + strconv.Itoa(uid) + " --regid " + strconv.Itoa(gid) + " --clear-groups "
	native := run([]string{tools["unshare"], "-n", "sh", "-c", tools["ip"] + " link set lo up && " +
		"echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec " + drop + prog}, baseEnv, "")
	if native.exit != 0 || !bytes.Contains(native.stdout, []byte("bind -> 0")) {
		t.Fatalf("native oracle failed: %s\n%s%s", native.status(), native.stdout, native.stderr)
	}
	compare(t, "kshim", native, run([]string{kshim, "run", prog}, baseEnv, ""), false)

	// The host's own namespace keeps the host's rule.
	hostNative := runNative([]string{prog}, baseEnv, "")
	compare(t, "kshim --net host", hostNative, run([]string{kshim, "run", "--net", "host", prog}, baseEnv, ""), false)
}

// TestNetProcNet: /proc/net is the guest's network namespace's, as netstat
// and ifconfig read it: a guest listener shows, the host's (this test's)
// does not, and loopback is the only interface; with --net host the
// host's listener shows.
func TestNetProcNet(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	requireFile(t, busyboxBin)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hostPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	script := `busybox nc -l -p 8080 & sleep 0.5; busybox netstat -tln; busybox ifconfig -a | grep -c 'Link encap'; kill %1`
	guestRun := func(flags ...string) string {
		argv := append(append([]string{kshim, "run"}, flags...), busyboxBin, "sh", "-c", script)
		r := run(argv, baseEnv, "")
		if r.exit != 0 {
			t.Fatalf("%v: %s\n%s%s", flags, r.status(), r.stdout, r.stderr)
		}
		return string(r.stdout)
	}
	out := guestRun()
	if !strings.Contains(out, ":8080 ") || !strings.Contains(out, "LISTEN") {
		t.Errorf("the guest's listener is not in its netstat:\n%s", out)
	}
	if strings.Contains(out, ":"+hostPort+" ") {
		t.Errorf("the host's listener on port %s shows in the guest's netstat:\n%s", hostPort, out)
	}
	if !strings.HasSuffix(out, "\n1\n") {
		t.Errorf("ifconfig -a should list loopback alone:\n%s", out)
	}
	if out := guestRun("--net", "host"); !strings.Contains(out, ":"+hostPort+" ") {
		t.Errorf("--net host: the host's listener on port %s is not in netstat:\n%s", hostPort, out)
	}
}
