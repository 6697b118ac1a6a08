// pty.go: the guest's pseudo-terminals, /dev/ptmx and /dev/pts.
//
// The terminals are the host kernel's (its line discipline, termios,
// window size, hangup, poll), taken from a devpts instance private to
// kshim: a detached devpts mount (fsopen/fsmount, which needs root), made
// once at set-up before kshim confines itself, in no host mount namespace.
// Each devpts mount is an instance of its own, so the guest's pty numbers
// start at 0, and its /dev/pts lists only the guest's terminals.
//
// Invariants:
//   - "/dev/ptmx" and "/dev/pts[/NAME]" (lexically, after Clean, as the
//     served devices) are this instance's, whatever the root holds; the
//     instance's ptmx is the only way to make a pty. Without an instance
//     (kshim not started as root) /dev/ptmx is ENODEV and /dev/pts empty
//     of terminals (ENOENT below it).
//   - No host terminal but the instance's and those kshim was handed as
//     stdio is reached through a path (a handed one by its host name
//     /dev/pts/N, when the instance has no N, with no more access than
//     it was handed with, so ttyname(3) of an interactive stdin works): a
//     root lookup that lands on another devpts (a symlink to the host's
//     /dev/pts/N) is looked up again as the guest's /dev/pts/N, as /proc
//     is (fspath.go resolvedInRoot); in a mount's walk it is EACCES.
//   - Every host open of a terminal carries O_NOCTTY: a controlling
//     terminal is the guest's notion (kernel/tty.go), never kshim's.
//   - The instance's `max` bounds how many host ptys a guest can hold
//     (they count against the host's kernel.pty.max).
//   - pty fds are FromDevice: they read and write, and never change
//     (chmod, chown: EPERM).
package fs

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs/mount"
)

// PtyMax is the most ptys the guest may hold at once (devpts' max=).
const PtyMax = 256

type ptsState struct {
	once sync.Once
	fd   int    // O_PATH: the instance's root, -1 without one
	dev  uint64 // its st_dev
	err  error
	// ptmxMode is the host's /dev/pts/ptmx mode (devpts' ptmxmode, 0
	// by default), which kshim's check gives /dev/pts/ptmx: the
	// instance's own is 0666 for /dev/ptmx's sake.
	ptmxMode uint32
	// hostOpts are the host's /dev/pts options makeDevpts read (mode=,
	// gid=, ptmxmode=), for the listings (DevptsInfo).
	hostOpts [][2]string
	// handed are the host terminals kshim was handed as fds 0-2, by
	// their name under /dev/pts: a dup of each (its access mode the
	// one handed in). The guest's /dev/pts/N is one of them when the
	// instance has no N, so ttyname(3) of its stdin works; no other
	// host terminal is ever reached.
	handed map[string]int
}

var pts = ptsState{fd: -1}

// SetupPts makes the guest's devpts instance, once per kshim (every
// process of the guest shares it). Without privilege there is none.
func SetupPts() { setupPts(&mountinfo{}) }

// setupPts is SetupPts reading the host's mountinfo through mi.
func setupPts(mi *mountinfo) {
	pts.once.Do(func() {
		pts.handed = handedTerminals()
		fd, err := makeDevpts(mi)
		if err != nil {
			pts.err = err
			return
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			pts.err = err
			return
		}
		pts.fd, pts.dev = fd, st.Dev
	})
}

// PtsRule is the host path Landlock must grant for the instance ("" when
// there is none): its root through kshim's fd.
func PtsRule() string {
	if pts.fd < 0 {
		return ""
	}
	return "/proc/self/fd/" + abi.Itoa(pts.fd)
}

// makeDevpts mounts a new devpts instance, detached, with the host's
// /dev/pts options for the slaves' mode and group (so the guest's stat of
// them reads as Linux's there) and ptmxmode 0666 (kshim opens it after
// dropping to the guest's identity).
func makeDevpts(mi *mountinfo) (int, error) {
	sfd, err := unix.Fsopen("devpts", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(sfd)
	opts := [][2]string{{"ptmxmode", "0666"}, {"max", strconv.Itoa(PtyMax)}}
	pts.hostOpts = hostPtsOptionsFrom(mi)
	for _, o := range pts.hostOpts {
		if o[0] == "ptmxmode" {
			m, _ := strconv.ParseUint(o[1], 8, 32)
			pts.ptmxMode = uint32(m) & 0o777
			continue
		}
		opts = append(opts, o)
	}
	for _, o := range opts {
		if err := unix.FsconfigSetString(sfd, o[0], o[1]); err != nil {
			return -1, err
		}
	}
	if err := unix.FsconfigCreate(sfd); err != nil {
		return -1, err
	}
	return unix.Fsmount(sfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
}

// DevptsInfo is how the mount listings show the guest's devpts instance:
// its device and its options as Linux's devpts_show_options prints them
// (gid= when set, mode=, ptmxmode=, max=).
func DevptsInfo() mount.Info {
	i := mount.Info{Source: "devpts", FSType: "devpts", FSRoot: "/"}
	if pts.fd >= 0 {
		i.Major, i.Minor = unix.Major(pts.dev), unix.Minor(pts.dev)
	}
	mode, gid := "600", ""
	host := pts.hostOpts
	if pts.fd < 0 {
		host = hostPtsOptions() // no instance (or not made here): the host's
	}
	for _, o := range host {
		switch o[0] {
		case "mode":
			mode = o[1]
		case "gid":
			gid = "gid=" + o[1] + ","
		}
	}
	i.SuperOpts = gid + "mode=" + mode + ",ptmxmode=666,max=" + strconv.Itoa(PtyMax)
	return i
}

// DevptsDiffers lists the devpts options asked for (mount.Mount's
// DevptsOpts) that the guest's instance does not have ("" when none).
func DevptsDiffers(asked map[string]uint64) string {
	have := map[string]uint64{"mode": 0o600, "ptmxmode": 0o666, "max": PtyMax}
	for _, o := range hostPtsOptions() {
		base := 10
		if o[0] == "mode" {
			base = 8
		} else if o[0] != "gid" {
			continue
		}
		if n, err := strconv.ParseUint(o[1], base, 32); err == nil {
			have[o[0]] = n
		}
	}
	var out []string
	for _, k := range []string{"uid", "gid", "mode", "ptmxmode", "max"} {
		v, ok := asked[k]
		if !ok {
			continue
		}
		if h, set := have[k]; !set || h != v {
			if k == "mode" || k == "ptmxmode" {
				out = append(out, k+"="+strconv.FormatUint(v, 8))
			} else {
				out = append(out, k+"="+strconv.FormatUint(v, 10))
			}
		}
	}
	return strings.Join(out, ",")
}

// hostPtsOptions are the mode=, gid= and ptmxmode= options of the host's
// /dev/pts.
func hostPtsOptions() [][2]string { return hostPtsOptionsFrom(&mountinfo{}) }

func hostPtsOptionsFrom(mi *mountinfo) [][2]string {
	b, err := mi.read()
	if err != nil {
		return nil
	}
	var out [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[4] != "/dev/pts" {
			continue
		}
		i := 6
		for i < len(f) && f[i] != "-" {
			i++
		}
		if i+3 >= len(f) || f[i+1] != "devpts" {
			continue
		}
		out = nil // the last mount there is the one seen
		for _, o := range strings.Split(f[i+3], ",") {
			if k, v, ok := strings.Cut(o, "="); ok && (k == "mode" || k == "gid" || k == "ptmxmode") {
				out = append(out, [2]string{k, v})
			}
		}
	}
	return out
}

// handedTerminals records kshim's fds 0-2 that are host ptys (on a
// devpts), by their host name /dev/pts/N.
func handedTerminals() map[string]int {
	out := map[string]int{}
	for fd := 0; fd < 3; fd++ {
		var sf unix.Statfs_t
		if unix.Fstatfs(fd, &sf) != nil || sf.Type != unix.DEVPTS_SUPER_MAGIC {
			continue
		}
		hp, err := HostPathOf(fd)
		if err != nil || !strings.HasPrefix(hp, "/dev/pts/") {
			continue
		}
		if _, ok := out[hp]; ok {
			continue
		}
		if h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3); err == nil {
			out[hp] = h
		}
	}
	return out
}

// openHanded opens /dev/pts/name as the handed terminal of that host
// name, with no more access than it was handed with (EACCES, as mayReopen
// for other handed files), or ENOENT.
func openHanded(clean string, flags int) (Resolved, error) {
	h, ok := pts.handed[clean]
	if !ok {
		return Resolved{FD: -1}, unix.ENOENT
	}
	fl, err := unix.FcntlInt(uintptr(h), unix.F_GETFL, 0)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	grant := fl & unix.O_ACCMODE
	if flags&unix.O_PATH == 0 {
		acc := flags & unix.O_ACCMODE
		if acc != unix.O_WRONLY && grant == unix.O_WRONLY || acc != unix.O_RDONLY && grant == unix.O_RDONLY {
			return Resolved{FD: -1}, unix.EACCES
		}
	}
	fd, err := unix.Open("/proc/self/fd/"+abi.Itoa(h), flags&^(unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_EXCL)|unix.O_CLOEXEC|Noctty(flags), 0)
	if err != nil {
		return Resolved{FD: -1}, err
	}
	return Resolved{FD: fd, Guest: clean, Origin: FromHost, Grant: grant}, nil
}

// ptsPath says whether clean (a cleaned absolute guest path) is the
// guest's /dev/ptmx or in its /dev/pts, and the name below /dev/pts
// ("" for the directory, "ptmx" for /dev/ptmx).
func ptsPath(clean string) (string, bool) {
	switch {
	case clean == "/dev/ptmx":
		return "ptmx", true
	case clean == "/dev/pts":
		return "", true
	case strings.HasPrefix(clean, "/dev/pts/"):
		return clean[len("/dev/pts/"):], true
	}
	return "", false
}

// openPts opens name in the guest's devpts instance (see ptsPath).
func openPts(clean, name string, trailing bool, flags int, mode uint32) (Resolved, error) {
	fail := func(err error) (Resolved, error) { return Resolved{FD: -1}, err }
	if pts.fd < 0 {
		if clean == "/dev/ptmx" {
			return fail(unix.ENODEV) // no devpts to allocate from
		}
		if name == "" || strings.Contains(name, "/") || trailing {
			return fail(unix.ENOENT) // never the root's (the host's) /dev/pts
		}
		return openHanded(clean, flags)
	}
	rel := name
	if rel == "" {
		rel = "."
	} else if trailing {
		rel += "/"
	}
	if strings.Contains(name, "/") {
		return fail(unix.ENOTDIR) // devpts holds no directories
	}
	if name == "ptmx" && clean != "/dev/ptmx" && flags&unix.O_PATH == 0 {
		// /dev/pts/ptmx has the host's mode (root's node: the other
		// bits, which root passes).
		want := uint32(0)
		if flags&unix.O_ACCMODE != unix.O_WRONLY {
			want |= 4
		}
		if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
			want |= 2
		}
		if unix.Geteuid() != 0 && pts.ptmxMode&want != want {
			return fail(unix.EACCES)
		}
	}
	fd, err := Openat2(pts.fd, rel, flags|Noctty(flags), mode, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
	if err == unix.ENOENT && name != "" && !trailing {
		return openHanded(clean, flags) // a terminal kshim was handed?
	}
	if err != nil {
		return fail(err)
	}
	return Resolved{FD: fd, Guest: clean, Origin: FromDevice}, nil
}

// hostPtmxStat says whether the host file whose fstat is st is a ptmx
// node (5:2) other than the guest instance's: the host's /dev/ptmx reached by another path than
// "/dev/ptmx" (relative from /dev, a symlink, a bind mount). Opening it
// would allocate from the host's devpts, whose ptys the guest must not
// hold (they count against the host's kernel.pty.max and are visible
// there); the lookup is redirected to the guest's instance instead. The
// host open that found it made a pty its close at once frees.
func hostPtmxStat(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(5, 2) && (pts.fd < 0 || st.Dev != pts.dev)
}

// hostPtsStat says whether a file on a devpts whose fstat is st (ok
// false: the host would not tell) is on one other than the guest's.
func hostPtsStat(st *unix.Stat_t, ok bool) bool {
	return pts.fd < 0 || !ok || st.Dev != pts.dev
}

// Pty says whether host fd h is one of the guest's terminals: its index
// (the N of /dev/pts/N) and whether it is the master side.
func Pty(h int) (n int, master, ok bool) {
	var st unix.Stat_t
	if pts.fd < 0 || unix.Fstat(h, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		return 0, false, false
	}
	maj, min := unix.Major(st.Rdev), unix.Minor(st.Rdev)
	switch {
	case maj == 5 && min == 2:
		// The master: the instance's ptmx node (or the host's /dev/ptmx,
		// which the guest cannot open as such: its path is served here).
		v, err := unix.IoctlGetUint32(h, unix.TIOCGPTN)
		if err != nil || !samePts(h) {
			return 0, false, false
		}
		return int(v), true, true
	case maj >= 136 && maj < 144 && st.Dev == pts.dev:
		return int(maj-136)<<8 | int(min), false, true
	}
	return 0, false, false
}

// samePts says whether master h belongs to the guest's instance: its
// peer, opened by path in the instance, is the same terminal.
func samePts(h int) bool {
	// The master's own node is the instance's ptmx when the guest
	// opened it (the only way it can); fstat tells by st_dev.
	var st unix.Stat_t
	return unix.Fstat(h, &st) == nil && st.Dev == pts.dev
}

// PtyPeer opens the slave of guest master h (TIOCGPTPEER) with flags,
// never as kshim's controlling terminal.
func PtyPeer(h int, flags int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(h), uintptr(unix.TIOCGPTPEER), uintptr(flags|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// openTTY opens /dev/tty: the task's controlling terminal when it is one
// of the guest's ptys (the slave opened again; Linux names it /dev/tty),
// the host's /dev/tty (kshim's own terminal) for a task still in kshim's
// session, else ENXIO (a session with no terminal, as Linux's).
func (p *Task) openTTY(trailing bool, flags int) (Resolved, error) {
	n, pty, host := p.Owner.Ctty()
	switch {
	case pty:
		r, err := openPts("/dev/pts/"+abi.Itoa(n), abi.Itoa(n), trailing, flags, 0)
		r.Guest = "/dev/tty"
		return r, err
	case host:
		return openDevice("/dev/tty", trailing, flags)
	}
	// The node's own errors first (ENOTDIR, EEXIST); O_PATH opens it.
	r, err := openDevice("/dev/tty", trailing, flags&(unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CREAT|unix.O_EXCL)|unix.O_PATH)
	if err != nil || flags&unix.O_PATH != 0 {
		return r, err
	}
	r.Close()
	return Resolved{FD: -1}, unix.ENXIO
}

// ptyMasterOf is the index of the guest pty whose master e is, or -1.
func ptyMasterOf(e *FDEntry) int {
	if f := e.File; f == nil || f.Origin != FromDevice || f.Path != "/dev/ptmx" && f.Path != "/dev/pts/ptmx" {
		return -1
	}
	if n, master, ok := Pty(e.Host); ok && master {
		return n
	}
	return -1
}

// ptyGone says whether guest pty n is no more: Linux's pty_close removes
// the slave's node at the master's last close, before it hangs the slave
// up.
func ptyGone(n int) bool {
	var st unix.Stat_t
	return pts.fd >= 0 && unix.Fstatat(pts.fd, abi.Itoa(n), &st, unix.AT_SYMLINK_NOFOLLOW) == unix.ENOENT
}
