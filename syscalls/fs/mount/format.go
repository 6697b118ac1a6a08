// format.go: /proc/mounts and /proc/self/mountinfo lines, as Linux's
// fs/proc_namespace.c prints them.
package mount

import (
	"fmt"
	"strings"
)

// Info is a mount's host side as the listings show it, which the file
// layer fills in: the file system's source and type, its device numbers,
// and the root of the mount inside that file system.
type Info struct {
	Source, FSType string
	Major, Minor   uint32
	FSRoot         string // "/" for a whole file system
	// SuperOpts are the file system's own options after rw/ro (without a
	// leading comma: "errors=remount-ro"); a tmpfs's are made here.
	// SBReadOnly: the file system itself is read-only (a tmpfs's is
	// the mount's).
	SuperOpts  string
	SBReadOnly bool
}

// mountOpts are the per-mount flags (show_mnt_opts): rw or ro, then
// nosuid, nodev, noexec, noatime, nodiratime, relatime.
func (m *Mount) mountOpts(sbRO bool) string {
	var b strings.Builder
	if m.ReadOnly || sbRO {
		b.WriteString("ro")
	} else {
		b.WriteString("rw")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{
		{m.NoSuid, "nosuid"}, {m.NoDev, "nodev"}, {m.NoExec, "noexec"},
		{m.Atime == "noatime", "noatime"}, {m.NoDirAtime, "nodiratime"},
		{m.Atime == "relatime", "relatime"},
	} {
		if f.on {
			b.WriteString("," + f.name)
		}
	}
	return b.String()
}

// superOpts are the file system's options (tmpfs's show_options).
func (m *Mount) superOpts(i Info) string {
	if m.Kind != Tmpfs {
		return i.SuperOpts
	}
	s := fmt.Sprintf("size=%dk", m.Size>>10)
	if m.Mode != 0o1777 {
		s += fmt.Sprintf(",mode=%03o", m.Mode)
	}
	if m.UID >= 0 {
		s += fmt.Sprintf(",uid=%d", m.UID)
	}
	if m.GID >= 0 {
		s += fmt.Sprintf(",gid=%d", m.GID)
	}
	return s
}

// MountsLine is the mount's line of /proc/mounts (with its newline).
func (m *Mount) MountsLine(i Info) string {
	opts := m.mountOpts(i.SBReadOnly || m.Kind == Tmpfs && m.ReadOnly)
	if so := m.superOpts(i); so != "" {
		opts += "," + so
	}
	return fmt.Sprintf("%s %s %s %s 0 0\n", mangle(i.Source), mangle(m.Dest), mangle(i.FSType), opts)
}

// MountinfoLine is the mount's line of /proc/self/mountinfo: no optional
// fields (the guest's mounts propagate nowhere); the super options start
// with the file system's own rw/ro (a tmpfs's is the mount's).
func (m *Mount) MountinfoLine(i Info) string {
	sb := "rw"
	if i.SBReadOnly || m.Kind == Tmpfs && m.ReadOnly {
		sb = "ro"
	}
	if so := m.superOpts(i); so != "" {
		sb += "," + so
	}
	root := i.FSRoot
	if root == "" {
		root = "/"
	}
	return fmt.Sprintf("%d %d %d:%d %s %s %s - %s %s %s\n", m.ID, m.Parent, i.Major, i.Minor,
		mangle(root), mangle(m.Dest), m.mountOpts(false), mangle(i.FSType), mangle(i.Source), sb)
}

// mangle escapes what would break a listing's fields (seq_file's
// mangle with " \t\n\\"): as a 3-digit octal escape.
func mangle(s string) string {
	if !strings.ContainsAny(s, " \t\n\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
