// fsproc.go (fs): the nodes of kshim's /proc as the file side holds
// them (ProcNode, VirtualDir); the tree itself is generated from the
// guest's state by package proc (proc/fsproc.go, whose head gives
// its invariants). A node's callbacks get the FileOwner of the task that
// asks, which is a *kernel.Process.
package fs

import (
	"hash/fnv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// ProcNode is one entry of kshim's /proc.
type ProcNode struct {
	Path string // its guest path, e.g. /proc/1234/maps
	Mode uint32
	// Gen generates a file's contents.
	Gen func(p FileOwner) ([]byte, error)
	// Write takes one write(2) of n guest bytes at addr to the file (nil:
	// it takes none, EINVAL), as a procfs .write method: the count it
	// returns is what write returns. The file's snapshot is not changed.
	Write func(p FileOwner, addr, n uint64) (uint64, error)
	// Names lists a directory's entries; child looks one up (nil: none).
	Names func(p FileOwner) []string
	Child func(p FileOwner, name string) *ProcNode
	// Target is a symlink's readlink text.
	Target func(p FileOwner) (string, error)
	// Follow opens what a magic link leads to and rest below it. /proc/self
	// has none: it is an ordinary symlink to <pid>.
	Follow func(p FileOwner, rest string, flags int, mode uint32) (Resolved, error)
	// FDLink: a /proc/self/fd/N link, for guest fd fd.
	FDLink bool
	FD     int
	// DevLink: one of /dev's links into /proc/self/fd (fspath.go
	// devLink), whose stat is root's with the target's length as size.
	DevLink bool
	// Of is the process whose /proc/PID this node is in, when that is
	// not the reader's own (nil); its stat and access follow that
	// process (proc/pid.go).
	Of FileOwner
}

func (n *ProcNode) IsDir() bool  { return n.Mode&unix.S_IFMT == unix.S_IFDIR }
func (n *ProcNode) IsLink() bool { return n.Mode&unix.S_IFMT == unix.S_IFLNK }

// Sys says whether the node is one of kshim's /sys rather than /proc.
func (n *ProcNode) Sys() bool { return n.Path == "/sys" || strings.HasPrefix(n.Path, "/sys/") }

// VirtualDir is an open /proc directory: its entries, listed by the first
// getdents64 after open or a rewind (so /proc/self/fd shows the fd being
// read, as on Linux), and the position.
type VirtualDir struct {
	Mu      sync.Mutex
	Node    *ProcNode
	Entries []ProcDirent // nil until listed
	Pos     int
}

type ProcDirent struct {
	Name string
	Ino  uint64
	Typ  uint8 // DT_*
}

func ProcIno(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	return h.Sum64()>>1 | 1
}
