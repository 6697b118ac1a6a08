// landlock.go: the files kshim itself may still open.
//
// After set-up kshim opens files only for the guest: paths resolved in the
// root (openat2 from the root fd), the host devices it serves by exact
// path, reopens of fds the guest holds (/proc/self/fd/N, /dev/stdin: the
// kernel checks the file the magic link leads to, so the stdio files kshim
// was handed need rules of their own), the program (/proc/self/exe) and
// the host's /proc/cpuinfo, stat, uptime and loadavg. Everything else is denied (EACCES), so a path-handling
// bug cannot reach the host's files. Landlock does not check fds opened
// before it (/dev/kvm, guest memory, the root fd), nor pipes and sockets,
// nor stat/readlink/chmod/chown (DAC and the identity cover those).
//
// Rights: without --rw the root is readable, plus WRITE_FILE because a
// read-only root still lets named pipes open for writing (as a read-only
// mount does); kshim's own EROFS check is what refuses regular files, and
// nothing can be created, removed, renamed or truncated. With --rw the
// root gets every file right except EXECUTE and making device nodes.
// EXECUTE is granted nowhere (kshim never executes a file).
//
// Mounts (bind sources, tmpfs roots) get the root's rights with --rw when
// writable, and the read-only root's when read-only: reading, plus
// WRITE_FILE so that FIFOs in them open for writing as on Linux's
// read-only mounts (kshim's EROFS, decided on an O_PATH look at the file
// before any open with write intent, refuses the rest, and no create,
// truncation or removal is granted); a bind-mounted file (a regular one)
// only the file rights, read-only ones only READ_FILE. Nothing else of
// the host is granted.
package sandbox

import (
	"os"
	"strconv"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

const (
	rootRead = ll.AccessFSReadFile | ll.AccessFSReadDir | ll.AccessFSIoctlDev |
		ll.AccessFSWriteFile // FIFOs (see above)
	rootWrite = ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeDir | ll.AccessFSMakeReg |
		ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeSym | ll.AccessFSRefer | ll.AccessFSTruncate
	devRights = ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
)

// HostDevices are the devices kshim opens by exact host path whatever the
// root holds (syscalls/fs/fspath.go hostDevices).
var HostDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// HostProcFiles are the host's /proc files kshim's /proc shows the guest,
// read only (syscalls/proc/sysfiles.go): the machine's, not a process's.
var HostProcFiles = []string{"/proc/cpuinfo", "/proc/stat", "/proc/uptime", "/proc/loadavg"}

func landlockRules(c Config) []landlock.Rule {
	root := c.Root
	if root == "" {
		root = "/"
	}
	var rules []landlock.Rule
	if c.Writable {
		rules = append(rules, landlock.PathAccess(rootRead|rootWrite, root))
	} else {
		rules = append(rules, landlock.PathAccess(rootRead, root))
	}
	for _, m := range c.Mounts {
		a := landlock.AccessFSSet(rootRead)
		switch {
		case m.Writable:
			a = rootRead | rootWrite
		case !m.Dir:
			a = ll.AccessFSReadFile // a regular file: no FIFO to write
		}
		if !m.Dir {
			a &= ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
		}
		rules = append(rules, landlock.PathAccess(a, m.Path))
	}
	rules = append(rules,
		landlock.PathAccess(devRights, HostDevices...).IgnoreIfMissing(),
		landlock.PathAccess(ll.AccessFSReadFile, HostProcFiles...).IgnoreIfMissing())
	if cgoEnabled {
		rules = append(rules, landlock.PathAccess(ll.AccessFSReadDir, "/proc/"+strconv.Itoa(os.Getpid())+"/task"))
	}
	if c.Exe != "" {
		rules = append(rules, landlock.PathAccess(ll.AccessFSReadFile, c.Exe).IgnoreIfMissing())
	}
	// The stdio files, with no more than the access they were handed
	// with, so reopening /dev/stdin cannot turn a read into a write.
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			continue
		}
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_PATH != 0 {
			continue
		}
		var a uint64
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
		case unix.S_IFCHR:
			a |= ll.AccessFSIoctlDev
		case unix.S_IFDIR:
			// A directory handed as stdio may be reopened to list it,
			// as the guest can list the fd itself. The rule covers the
			// tree below too (listing only); the file layer never looks
			// up paths below a handed directory outside the root.
			if fl&unix.O_ACCMODE != unix.O_WRONLY {
				if name := "/proc/self/fd/" + strconv.Itoa(fd); ruleTakes(name) {
					rules = append(rules, landlock.PathAccess(ll.AccessFSReadDir, name))
				}
			}
			continue
		default:
			continue // pipes and sockets are not Landlock's
		}
		switch fl & unix.O_ACCMODE {
		case unix.O_RDONLY:
			a |= ll.AccessFSReadFile
		case unix.O_WRONLY:
			a |= ll.AccessFSWriteFile
		case unix.O_RDWR:
			a |= ll.AccessFSReadFile | ll.AccessFSWriteFile
		}
		name := "/proc/self/fd/" + strconv.Itoa(fd)
		if ruleTakes(name) {
			rules = append(rules, landlock.PathAccess(landlock.AccessFSSet(a), name))
		}
	}
	return rules
}

// ruleTakes says whether Landlock takes a rule for the file at path: not
// for files of internal filesystems (a memfd handed as stdin), which it
// never restricts either.
func ruleTakes(path string) bool {
	attr := ll.RulesetAttr{HandledAccessFS: ll.AccessFSReadFile}
	rfd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return false // no Landlock: no rules at all
	}
	defer unix.Close(rfd)
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return ll.LandlockAddPathBeneathRule(rfd, &ll.PathBeneathAttr{ParentFd: fd, AllowedAccess: ll.AccessFSReadFile}, 0) == nil
}

// landlockRuleset builds the ruleset (opening each rule's path) while
// kshim still has its start-up identity: a root reachable only by root,
// say, can still be named. -1: nothing to enforce (no Landlock).
func landlockRuleset(rules []landlock.Rule) (fd int, flags uint32, err error) {
	// File rights only, downgraded to what the kernel has. Not the IPC
	// scopes nor network rights: before ABI 8 every thread enters a
	// domain of its own (AllThreadsLandlockRestrictSelf), and a scope
	// then refuses kshim's signals between its own threads (the vCPU
	// kicks) and its own abstract sockets; the guest's network is
	// confined by its network namespace and seccomp instead.
	cfg := landlock.V11
	cfg.HandledAccessNet, cfg.Scoped = 0, 0
	return cfg.BestEffort().NewRulesetFD(rules...)
}

// enforceLandlock puts every thread in the ruleset's domain (no_new_privs
// is set already) and closes it. It returns the kernel's ABI.
func enforceLandlock(fd int, flags uint32) (int, error) {
	if fd < 0 {
		return 0, nil
	}
	defer unix.Close(fd)
	abi := LandlockABI()
	if abi >= 8 {
		err := ll.LandlockRestrictSelf(fd, flags|ll.FlagRestrictSelfTSync)
		return abi, err
	}
	return abi, ll.AllThreadsLandlockRestrictSelf(fd, flags)
}

// restrictLandlock is landlockRuleset then enforceLandlock (tests).
func restrictLandlock(rules []landlock.Rule) (int, error) {
	fd, flags, err := landlockRuleset(rules)
	if err != nil {
		return 0, err
	}
	return enforceLandlock(fd, flags)
}

// LandlockABI is the kernel's Landlock ABI version (0: none).
func LandlockABI() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0
	}
	return v
}
