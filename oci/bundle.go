// bundle.go: reading an OCI bundle (config.json and its rootfs) into the
// Plan the container's kshim runs from. Everything a bundle asks for is
// either honoured, or refused here with one clear error, or (for settings
// with no meaning for a guest without a kernel of its own, see
// docs/ARCHITECTURE.md, "OCI runtime") ignored with a logged reason.
//
// Invariants:
//   - LoadBundle reads only: it creates nothing, so a refused bundle
//     leaves nothing behind.
//   - Every path in the plan is absolute on the host (rootfs) or a guest
//     path inside the rootfs (cwd, mount destinations); nothing from
//     config.json is ever resolved on the host outside the rootfs.
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"kshim/syscalls/fs"
	"kshim/syscalls/fs/mount"
)

// DefaultMem is the guest memory of a container without a memory limit
// (memory is allocated lazily; this is a ceiling, not a reservation).
const DefaultMem = 1 << 30

// Plan is what a container runs with, resolved from its bundle. It is
// written to the state directory by create and read by the container's
// kshim (init.go), so it holds only plain data.
type Plan struct {
	ID       string
	Bundle   string // absolute
	Rootfs   string // absolute host path
	Readonly bool
	Process  specs.Process
	Hostname string
	Mem      uint64
	MaxTasks int // pids limit (0: kshim's default)
	// Net is the network namespace: "host" (none in the spec: the
	// host's), "new" (a namespace without a path) or the path of one to
	// join.
	Net         string
	Mounts      []mount.Spec      // for kshim's mount table (syscalls/fs/mount)
	Sysctl      map[string]string // net.* only, set in the container's namespace
	Hooks       *specs.Hooks
	Annotations map[string]string

	// MaskedPaths and ReadonlyPaths are linux.maskedPaths and
	// linux.readonlyPaths: absolute guest paths, applied over the mounts
	// (syscalls/fs/fsguard.go).
	MaskedPaths, ReadonlyPaths []string
	// Log and LogFormat are the global --log and --log-format, for the
	// container's own kshim.
	Log, LogFormat string
}

// BundleError is a bundle kshim cannot run; its message is the one line
// the engine shows the user.
type BundleError struct{ msg string }

func (e *BundleError) Error() string { return e.msg }

func bundleErr(format string, a ...any) error { return &BundleError{fmt.Sprintf(format, a...)} }

// validSysctl: a parameter name that stays below /proc/sys. Compiled at
// first use (as validID): at init every `kshim run` paid for them.
var validSysctl = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)+$`)
})

// validID is runc's rule for container ids.
var validID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+\-.]+$`) })

// CheckID refuses ids that could not name a state directory safely.
func CheckID(id string) error {
	if id == "" || id == "." || id == ".." || !validID().MatchString(id) || len(id) > 1024 {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// LoadBundle reads bundle/config.json and checks it. warn receives each
// setting kshim accepts but does not apply, with the reason.
func LoadBundle(bundle string, warn func(string)) (*Plan, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, bundleErr("bundle %s: %v", bundle, err)
	}
	b, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, bundleErr("bundle %s: no config.json", abs)
		}
		return nil, bundleErr("bundle %s: config.json: %v", abs, err)
	}
	var s specs.Spec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&s); err != nil {
		return nil, bundleErr("bundle %s: config.json is not valid JSON: %v", abs, err)
	}
	return planFrom(abs, &s, warn)
}

// planFrom checks spec s of the bundle at abs and resolves it.
func planFrom(abs string, s *specs.Spec, warn func(string)) (*Plan, error) {
	if !strings.HasPrefix(s.Version, "1.") {
		return nil, bundleErr("config.json: ociVersion %q is not 1.x", s.Version)
	}
	p := &Plan{Bundle: abs, Hostname: s.Hostname, Mem: DefaultMem, Net: "host",
		Hooks: s.Hooks, Annotations: s.Annotations}
	if s.Root == nil || s.Root.Path == "" {
		return nil, bundleErr("config.json: no root.path")
	}
	p.Rootfs = s.Root.Path
	if !filepath.IsAbs(p.Rootfs) {
		p.Rootfs = filepath.Join(abs, p.Rootfs)
	}
	st, err := os.Stat(p.Rootfs)
	if err != nil {
		return nil, bundleErr("config.json: root.path %s: %v", p.Rootfs, unwrapPathErr(err))
	}
	if !st.IsDir() {
		return nil, bundleErr("config.json: root.path %s is not a directory", p.Rootfs)
	}
	p.Readonly = s.Root.Readonly
	if s.Process == nil {
		return nil, bundleErr("config.json: no process")
	}
	if err := checkProcess(s.Process, warn); err != nil {
		return nil, err
	}
	p.Process = *s.Process
	if s.Hooks != nil && (len(s.Hooks.CreateContainer) > 0 || len(s.Hooks.StartContainer) > 0) {
		return nil, bundleErr("config.json: createContainer and startContainer hooks run inside the container's namespaces, which a kshim guest does not have (prestart, createRuntime, poststart and poststop are supported)")
	}
	for _, m := range s.Mounts {
		mt, err := checkMount(abs, m, warn)
		if err != nil {
			return nil, err
		}
		if mt != nil {
			p.Mounts = append(p.Mounts, *mt)
		}
	}
	p.Mounts = unhidden(p.Mounts, warn)
	if l := s.Linux; l != nil {
		if err := linuxPlan(p, l, warn); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// unhidden drops each mount that a later one hides (at the same place or
// above it): on Linux the later mount covers it, and kshim's mount table
// does not stack mounts. CRI, for one, mounts a pod's /dev/shm over the
// default tmpfs there.
func unhidden(ms []mount.Spec, warn func(string)) []mount.Spec {
	var out []mount.Spec
	for i, m := range ms {
		hidden := false
		for _, later := range ms[i+1:] {
			if later.Destination == m.Destination || strings.HasPrefix(m.Destination, strings.TrimSuffix(later.Destination, "/")+"/") {
				hidden = true
				warn(fmt.Sprintf("mount at %s hidden by the later mount at %s", m.Destination, later.Destination))
				break
			}
		}
		if !hidden {
			out = append(out, m)
		}
	}
	return out
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkProcess checks process: what kshim applies and what it refuses.
func checkProcess(pr *specs.Process, warn func(string)) error {
	if len(pr.Args) == 0 || pr.Args[0] == "" {
		return bundleErr("config.json: process.args is empty")
	}
	if pr.CommandLine != "" {
		return bundleErr("config.json: process.commandLine is for Windows")
	}
	if pr.Cwd == "" {
		pr.Cwd = "/"
	}
	if !filepath.IsAbs(pr.Cwd) {
		return bundleErr("config.json: process.cwd %q is not an absolute path", pr.Cwd)
	}
	for _, e := range pr.Env {
		if !strings.Contains(e, "=") {
			return bundleErr("config.json: process.env entry %q is not NAME=VALUE", e)
		}
	}
	for _, r := range pr.Rlimits {
		if _, ok := rlimitNames[r.Type]; !ok {
			return bundleErr("config.json: process.rlimits: unknown type %q", r.Type)
		}
		if r.Soft > r.Hard {
			return bundleErr("config.json: process.rlimits: %s soft limit above its hard limit", r.Type)
		}
	}
	if pr.ApparmorProfile != "" || pr.SelinuxLabel != "" {
		warn("process.apparmorProfile/selinuxLabel not applied: the guest's file access is kshim's, which confines itself with Landlock and seccomp")
	}
	if pr.IOPriority != nil || pr.Scheduler != nil || pr.ExecCPUAffinity != nil {
		return bundleErr("config.json: process.ioPriority, scheduler and execCPUAffinity are not supported by kshim")
	}
	return nil
}

// rlimitNames maps the spec's names to Linux's resource numbers.
var rlimitNames = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

// Rlimits converts process.rlimits (already checked) for vmm.Config.
func Rlimits(pr *specs.Process) map[int]unix.Rlimit {
	if len(pr.Rlimits) == 0 {
		return nil
	}
	m := map[int]unix.Rlimit{}
	for _, r := range pr.Rlimits {
		m[rlimitNames[r.Type]] = unix.Rlimit{Cur: r.Soft, Max: r.Hard}
	}
	return m
}

// skippedMount says whether m is one of the file systems engines mount
// into every container that have nothing to show in a kshim guest: it has
// no cgroup file system (its /sys is kshim's own, a mount of the table).
// Its devpts at /dev/pts and mqueue at /dev/mqueue are mounts of the table.
func skippedMount(m specs.Mount) bool {
	switch {
	case m.Destination == "/sys/fs/cgroup" && (m.Type == "cgroup" || m.Type == "cgroup2"):
	default:
		return false
	}
	return true
}

// checkMount passes a mount to kshim's mount table (bind, tmpfs, proc,
// sysfs, devpts, mqueue),
// checked now so that a bad one is refused at create; the defaults above
// are left out.
func checkMount(bundle string, m specs.Mount, warn func(string)) (*mount.Spec, error) {
	if !filepath.IsAbs(m.Destination) {
		return nil, bundleErr("config.json: mount destination %q is not an absolute path", m.Destination)
	}
	m.Destination = filepath.Clean(m.Destination)
	if skippedMount(m) {
		warn(fmt.Sprintf("%s (%s) not mounted: a kshim guest has none to show", m.Destination, m.Type))
		return nil, nil
	}
	if (m.Type == "bind" || m.Type == "" || m.Type == "none") && m.Source != "" && !filepath.IsAbs(m.Source) {
		m.Source = filepath.Join(bundle, m.Source) // relative to the bundle, as runc takes it
	}
	if isBind(m) {
		// mount(2) ignores a bind's file-system data (size=, mode=...), and
		// runc passes it along: accepted, and said to be ignored.
		var opts, dropped []string
		for _, o := range m.Options {
			if strings.Contains(o, "=") {
				dropped = append(dropped, o)
			} else {
				opts = append(opts, o)
			}
		}
		if len(dropped) > 0 {
			warn(fmt.Sprintf("bind mount at %s: options %s ignored, as Linux ignores them for a bind", m.Destination, strings.Join(dropped, ",")))
			m.Options = opts
		}
	}
	sp := mount.Spec{Type: m.Type, Source: m.Source, Destination: m.Destination, Options: m.Options}
	pm, err := mount.Parse(sp)
	if err != nil {
		return nil, bundleErr("config.json: %v", err)
	}
	if pm.Kind == mount.Devpts {
		if d := fs.DevptsDiffers(pm.DevptsOpts); d != "" {
			warn(fmt.Sprintf("/dev/pts options %s not applied: the guest's devpts instance has %s", d, fs.DevptsInfo().SuperOpts))
		}
	}
	return &sp, nil
}

// isBind says whether m is a bind mount (its type, or a bind option
// without another type).
func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	if m.Type != "" && m.Type != "none" {
		return false
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// defaultDevices are the device nodes kshim serves whatever the rootfs
// holds.
var defaultDevices = map[string]bool{"/dev/null": true, "/dev/zero": true, "/dev/full": true,
	"/dev/random": true, "/dev/urandom": true, "/dev/tty": true}

// linuxPlan reads the linux section.
func linuxPlan(p *Plan, l *specs.Linux, warn func(string)) error {
	for _, ns := range l.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace:
			p.Net = "new"
			if ns.Path != "" {
				p.Net = ns.Path
			}
		case specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace:
			// The guest's process table, System V IPC (none yet), host
			// name and file tree are kshim's own already; joining
			// another's (ns.Path) cannot mean more.
			if ns.Path != "" {
				warn(fmt.Sprintf("%s namespace %s not joined: a kshim guest has its own", ns.Type, ns.Path))
			}
		case specs.UserNamespace:
			return bundleErr("config.json: user namespaces are not supported by kshim (the guest's identity is kshim's host identity, process.user)")
		case specs.TimeNamespace:
			return bundleErr("config.json: time namespaces are not supported by kshim")
		default:
			return bundleErr("config.json: unknown namespace type %q", ns.Type)
		}
	}
	for _, ps := range []struct {
		name string
		in   []string
		out  *[]string
	}{{"readonlyPaths", l.ReadonlyPaths, &p.ReadonlyPaths}, {"maskedPaths", l.MaskedPaths, &p.MaskedPaths}} {
		for _, g := range ps.in {
			// runc takes a relative one inside its working directory, the
			// rootfs; the spec wants absolute paths: refused, not guessed.
			if !filepath.IsAbs(g) || strings.IndexByte(g, 0) >= 0 {
				return bundleErr("config.json: linux.%s: %q is not an absolute path", ps.name, g)
			}
			*ps.out = append(*ps.out, filepath.Clean(g))
		}
	}
	if len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0 {
		return bundleErr("config.json: uid/gid mappings are not supported by kshim (no user namespace)")
	}
	for _, d := range l.Devices {
		if !defaultDevices[d.Path] {
			return bundleErr("config.json: device %s: kshim serves only /dev/null, zero, full, random, urandom and tty", d.Path)
		}
	}
	for k, v := range l.Sysctl {
		// The network namespace is the guest's own (kshim runs in it):
		// its net.* parameters are the guest's to set. No other kernel
		// parameter belongs to the guest.
		if !strings.HasPrefix(k, "net.") || p.Net == "host" || !validSysctl().MatchString(k) {
			return bundleErr("config.json: linux.sysctl %s: kshim sets only net.* parameters, and only in the container's own network namespace", k)
		}
		if p.Sysctl == nil {
			p.Sysctl = map[string]string{}
		}
		p.Sysctl[k] = v
	}
	if l.Personality != nil && l.Personality.Domain != specs.PerLinux {
		return bundleErr("config.json: personality %s is not supported by kshim (x86-64 only)", l.Personality.Domain)
	}
	if l.IntelRdt != nil {
		return bundleErr("config.json: linux.intelRdt is not supported by kshim")
	}
	if r := l.Resources; r != nil {
		if m := r.Memory; m != nil && m.Limit != nil && *m.Limit > 0 {
			p.Mem = uint64(*m.Limit)
		}
		if r.Pids != nil && r.Pids.Limit > 0 {
			p.MaxTasks = int(r.Pids.Limit)
		}
		if r.CPU != nil || r.BlockIO != nil || len(r.HugepageLimits) > 0 || r.Network != nil || r.Rdma != nil {
			warn("cpu, blkio, hugepage, network and rdma resources not applied: kshim does not manage cgroups (the engine's cgroup of the shim applies)")
		}
	}
	if l.Seccomp != nil {
		warn("linux.seccomp not applied to the guest: its syscalls never reach the host kernel (kshim's personality answers them), and kshim confines itself with its own seccomp filter")
	}
	return nil
}
