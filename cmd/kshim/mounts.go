// mounts.go: `kshim run`'s mount flags, in Docker's three spellings, each
// turned into the OCI mount shape (syscalls/fs/mount.Spec) the file layer
// takes:
//
//	--mount type=bind,source=H,destination=G[,readonly]   (docker run --mount)
//	--mount type=tmpfs,destination=G[,tmpfs-size=N][,tmpfs-mode=M]
//	--mount type=mqueue,destination=G                      (kshim's: the mqueue file system)
//	-v H:G[:ro|rw]  --volume H:G[:OPTS]                    (docker run -v)
//	--tmpfs G[:OPTS]                                       (docker run --tmpfs)
//
// Mounts apply in the order the flags are given, whatever the spelling.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"kshim/syscalls/fs/mount"
)

type mountFlags struct {
	specs []mount.Spec
	err   error // the first bad flag
}

// mountFlag is one spelling; each adds to the shared list, in order.
type mountFlag struct {
	all   *mountFlags
	parse func(string) (mount.Spec, error)
	name  string
}

func (f mountFlag) String() string { return "" }

func (f mountFlag) Set(v string) error {
	s, err := f.parse(v)
	if err == nil {
		_, err = mount.Parse(s)
	}
	if err != nil {
		if f.all.err == nil {
			f.all.err = fmt.Errorf("%s %s: %v", f.name, v, err)
		}
		return nil // reported once, as one line, by specs()
	}
	f.all.specs = append(f.all.specs, s)
	return nil
}

func addMountFlags(fs *flag.FlagSet) *mountFlags {
	m := &mountFlags{}
	fs.Var(mountFlag{m, parseMountFlag, "--mount"}, "mount",
		"mount into the guest: type=bind,source=HOST,destination=GUEST[,readonly] or type=tmpfs,destination=GUEST[,tmpfs-size=N][,tmpfs-mode=M] or type=mqueue,destination=GUEST; repeatable")
	vol := mountFlag{m, parseVolume, "--volume"}
	fs.Var(vol, "volume", "bind-mount HOST:GUEST[:ro] (as docker -v); repeatable")
	fs.Var(mountFlag{m, parseVolume, "-v"}, "v", "short for --volume")
	fs.Var(mountFlag{m, parseTmpfs, "--tmpfs"}, "tmpfs", "mount a tmpfs at GUEST[:size=N,mode=M,...] (its pages charged to --mem as used); repeatable")
	return m
}

// result is the mounts asked for, or the first bad flag's error; a bind
// source that does not exist on the host is one too. A tmpfs may be
// larger than --mem, as on Linux than RAM: its pages are charged to
// --mem as they are used.
// withShm adds the guest's own /dev/shm, a tmpfs as on every Linux system
// (POSIX shared memory and semaphores, e.g. Python's multiprocessing, make
// files there), unless a mount already covers it, the root has no
// /dev/shm directory, or kshim is not root (a tmpfs needs CAP_SYS_ADMIN).
// It is the guest's alone, sized as the other tmpfs mounts by default
// and charged to --mem by use.
func withShm(specs []mount.Spec, root string) []mount.Spec {
	for _, s := range specs {
		if d := strings.TrimRight(s.Destination, "/"); d == "/dev/shm" || d == "/dev" || d == "" {
			return specs
		}
	}
	if os.Geteuid() != 0 {
		return specs
	}
	if st, err := os.Stat(filepath.Join(root, "dev/shm")); err != nil || !st.IsDir() {
		return specs
	}
	return append(specs, mount.Spec{Type: "tmpfs", Source: "shm", Destination: "/dev/shm",
		Options: []string{"nosuid", "nodev", "mode=1777"}})
}

func (m *mountFlags) result() ([]mount.Spec, error) {
	if m.err != nil {
		return nil, m.err
	}
	if _, err := mount.NewTable(false, m.specs); err != nil {
		return nil, err
	}
	for _, s := range m.specs {
		if s.Type == "bind" {
			if _, err := os.Stat(s.Source); err != nil {
				return nil, fmt.Errorf("mount at %q: %v", s.Destination, err)
			}
		}
	}
	return m.specs, nil
}

// parseMountFlag reads docker's --mount syntax.
func parseMountFlag(v string) (mount.Spec, error) {
	s := mount.Spec{}
	ro := false
	for _, kv := range strings.Split(v, ",") {
		k, val, has := strings.Cut(kv, "=")
		switch k {
		case "type":
			if val != "bind" && val != "tmpfs" && val != "mqueue" {
				return s, fmt.Errorf("type %q (bind, tmpfs or mqueue)", val)
			}
			s.Type = val
		case "source", "src":
			s.Source = val
		case "destination", "dst", "target":
			s.Destination = val
		case "readonly", "ro":
			if !has {
				ro = true
				continue
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return s, fmt.Errorf("%s=%q is not true or false", k, val)
			}
			ro = b
		case "tmpfs-size":
			s.Options = append(s.Options, "size="+val)
		case "tmpfs-mode":
			s.Options = append(s.Options, "mode="+val)
		case "bind-propagation":
			s.Options = append(s.Options, val)
		default:
			return s, fmt.Errorf("unknown key %q (type, source, destination, readonly, tmpfs-size, tmpfs-mode)", k)
		}
	}
	if s.Type == "" {
		return s, fmt.Errorf("no type= (bind, tmpfs or mqueue)")
	}
	if s.Type == "bind" {
		s.Options = append(s.Options, "rbind")
	}
	if ro {
		s.Options = append(s.Options, "ro")
	}
	return s, nil
}

// parseVolume reads -v HOST:GUEST[:OPTS], OPTS a comma list (ro, rw, and
// the other mount options).
func parseVolume(v string) (mount.Spec, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return mount.Spec{}, fmt.Errorf("not HOST:GUEST[:ro]")
	}
	s := mount.Spec{Type: "bind", Source: parts[0], Destination: parts[1], Options: []string{"rbind"}}
	if len(parts) == 3 {
		s.Options = append(s.Options, strings.Split(parts[2], ",")...)
	}
	return s, nil
}

// parseTmpfs reads --tmpfs GUEST[:OPTS].
func parseTmpfs(v string) (mount.Spec, error) {
	dest, opts, has := strings.Cut(v, ":")
	s := mount.Spec{Type: "tmpfs", Source: "tmpfs", Destination: dest}
	if has {
		s.Options = strings.Split(opts, ",")
	}
	return s, nil
}
