// pidfd.go: pidfds: pidfd_open, pidfd_send_signal, CLONE_PIDFD and
// waitid(P_PIDFD).
//
// A pidfd is a guest fd whose host fd is an eventfd that kshim writes
// when the process it names ends (becomes a zombie), so poll, select and
// epoll see it readable then, as Linux's pidfd_poll reports an exited
// process. The openFile records the process (its thread-group leader);
// the fd is otherwise opaque: read and write are EINVAL (pidfd_fops has
// neither).
//
// Invariants:
//   - Each pidfd of a live process has one host dup of its eventfd in
//     pidfdWatchers, written and closed when the process ends (task.go's
//     exit calls pidfdExited under Kernel.Mu); a pidfd of a process that
//     has already ended is made readable at once and needs none. So a
//     pidfd the guest closes early still holds one host fd of kshim's
//     until its process ends; at most maxPidfdWatch such fds are held
//     (then pidfd_open of a live process is EMFILE).
//   - pidfd_send_signal also takes an fd of a /proc/<pid> directory, as
//     Linux does.
//   - Signals sent through a pidfd follow kill's and rt_sigqueueinfo's
//     rules (a forged si_code only to the sender's own process); a process
//     that has ended is ESRCH. PIDFD_SIGNAL_THREAD sends to the leader
//     thread, PIDFD_SIGNAL_PROCESS_GROUP to the process's group as
//     kill(-pgid) does (with kill's siginfo, not the caller's).
//   - A pidfd names the leader's Process: after a non-leader thread's
//     execve takes over the pid (de_thread), the pidfds opened before it
//     no longer reach the process (ESRCH) nor turn readable (a known
//     difference from Linux).
package kernel

import (
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

const pidfdNonblock = unix.O_NONBLOCK // PIDFD_NONBLOCK

// pidfdWatchers maps a live process (its leader) to the kshim-owned
// eventfd dups to write when it ends; pidfdWatching counts them, at most
// maxPidfdWatch (a guest that opens and closes pidfds of a process that
// never ends gets EMFILE there, not kshim's own fds exhausted).
var (
	pidfdWatchers = map[*Process][]int{}
	pidfdWatching int
)

const maxPidfdWatch = 4096

var pidfdWatchMu sync.Mutex // with Kernel.mu held, for the map itself

// pidfdExited is called with Kernel.mu held when leader's process ends.
func pidfdExited(leader *Process) {
	pidfdWatchMu.Lock()
	fds := pidfdWatchers[leader]
	delete(pidfdWatchers, leader)
	pidfdWatching -= len(fds)
	pidfdWatchMu.Unlock()
	one := [8]byte{1}
	for _, h := range fds {
		_, _ = unix.Write(h, one[:])
		unix.Close(h)
	}
}

// pidfdHost makes the host side of a pidfd for leader (Kernel.mu held):
// an eventfd, already readable when leader has ended, else watched.
func pidfdHost(leader *Process, nonblock bool) (int, error) {
	flags := unix.EFD_CLOEXEC
	if nonblock {
		flags |= unix.EFD_NONBLOCK
	}
	h, err := unix.Eventfd(0, flags)
	if err != nil {
		return -1, err
	}
	if leader.Proc.zombie {
		one := [8]byte{1}
		_, _ = unix.Write(h, one[:])
	} else {
		pidfdWatchMu.Lock()
		defer pidfdWatchMu.Unlock()
		if pidfdWatching >= maxPidfdWatch {
			unix.Close(h)
			return -1, unix.EMFILE
		}
		w, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			unix.Close(h)
			return -1, err
		}
		pidfdWatchers[leader] = append(pidfdWatchers[leader], w)
		pidfdWatching++
	}
	return h, nil
}

// installPidfd gives host pidfd h for leader a guest fd (close-on-exec,
// as every pidfd). Kernel.mu not held.
func (p *Process) installPidfd(h int, leader *Process) (uint64, error) {
	fd, err := p.NewFD(h, true, &fs.OpenFile{Kind: fs.KindHost, Path: "anon_inode:[pidfd]", Pidfd: leader})
	if err != nil {
		unix.Close(h)
		return 0, err
	}
	return fd, nil
}

// PidfdOpen is pidfd_open(pid, flags).
func (p *Process) PidfdOpen(a [6]uint64) (uint64, error) {
	if a[1]&^uint64(pidfdNonblock) != 0 {
		return 0, unix.EINVAL
	}
	pid := int(int32(a[0]))
	if pid <= 0 {
		return 0, unix.EINVAL
	}
	k := p.Proc.K
	if k == nil {
		return 0, unix.ENOSYS
	}
	k.Mu.Lock()
	l := k.Procs[pid]
	if l == nil {
		err := unix.ESRCH
		if k.Threads[pid] != nil {
			err = unix.EINVAL // a thread, not a process (no PIDFD_THREAD)
		}
		k.Mu.Unlock()
		return 0, err
	}
	h, err := pidfdHost(l, a[1]&pidfdNonblock != 0)
	k.Mu.Unlock()
	if err != nil {
		return 0, err
	}
	return p.installPidfd(h, l)
}

// pidfdTarget is the process a guest pidfd names (EBADF otherwise).
func (p *Process) pidfdTarget(fd uint64) (*Process, error) {
	e, err := p.Entry(fd)
	if err != nil {
		return nil, err
	}
	if n := e.File.Node; n != nil && e.File.Pidfd == nil {
		// A /proc/<pid> directory fd names its process too
		// (tgid_pidfd_to_pid); it may have ended since.
		pid, err := strconv.Atoi(strings.TrimPrefix(n.Path, "/proc/"))
		if !n.IsDir() || err != nil || n.Path != "/proc/"+abi.Itoa(pid) {
			return nil, unix.EBADF
		}
		if k := p.Proc.K; k != nil {
			k.Mu.Lock()
			l := k.Procs[pid]
			k.Mu.Unlock()
			if l != nil {
				return l, nil
			}
		}
		return nil, unix.ESRCH
	}
	l, ok := e.File.Pidfd.(*Process)
	if !ok {
		return nil, unix.EBADF
	}
	return l, nil
}

// pidfd_send_signal's scopes (Linux 6.9): one at most.
const (
	pidfdSignalThread       = 1
	pidfdSignalThreadGroup  = 2
	pidfdSignalProcessGroup = 4
)

// pidfd_send_signal(pidfd, sig, info, flags).
// PidfdSendSignal is pidfd_send_signal(pidfd, sig, info, flags).
func (p *Process) PidfdSendSignal(a [6]uint64) (uint64, error) {
	scope := a[3]
	if scope&^(pidfdSignalThread|pidfdSignalThreadGroup|pidfdSignalProcessGroup) != 0 || scope&(scope-1) != 0 {
		return 0, unix.EINVAL
	}
	l, err := p.pidfdTarget(a[0])
	if err != nil {
		return 0, err
	}
	sig := int(int32(a[1]))
	if sig < 0 || sig > Nsig {
		return 0, unix.EINVAL
	}
	info := Siginfo{Signo: int32(sig), Code: SiUser, Pid: uint32(p.Pid), UID: uint32(unix.Getuid()), FromKill: true}
	if a[2] != 0 {
		raw := make([]byte, 128)
		if _, err := p.MM.CopyIn(a[2], raw); err != nil {
			return 0, unix.EFAULT
		}
		if int32(abi.Le32(raw[0:])) != int32(sig) {
			return 0, unix.EINVAL // the info must be for this signal
		}
		code := int32(abi.Le32(raw[8:]))
		if (code >= 0 || code == SiTkill) && l.Pid != p.Pid {
			return 0, unix.EPERM
		}
		info = Siginfo{Signo: int32(sig), Code: code, Raw: raw, FromKill: true}
	}
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if l.Proc.zombie || k.Procs[l.Pid] != l {
		return 0, unix.ESRCH
	}
	switch {
	case scope == pidfdSignalProcessGroup:
		k.Mu.Unlock()
		defer k.Mu.Lock()
		return p.KillOthers(-l.Proc.Pgid, sig) // as kill(-pgid): a plain siginfo
	case sig == 0:
	case scope == pidfdSignalThread && l.Proc.Group != nil && l.Proc.Group.threads[l]:
		return 0, l.send(sig, info, false) // the leader thread itself
	default:
		return 0, l.postGroup(sig, info) // the process (sigqueue.go)
	}
	return 0, nil
}

// PidfdEAGAIN marks a waitid on a non-blocking pidfd (an option bit
// outside the guest's, which sysWaitid checked first).
const PidfdEAGAIN = 1 << 40

// PidfdWait is waitid(P_PIDFD)'s target and whether its pidfd is
// non-blocking (then an unwaitable child is EAGAIN, not a wait).
func (p *Process) PidfdWait(fd uint64) (*Process, bool, error) {
	if int32(fd) < 0 {
		return nil, false, unix.EINVAL
	}
	e, err := p.Entry(fd)
	if err != nil {
		return nil, false, err
	}
	l, ok := e.File.Pidfd.(*Process)
	if !ok {
		return nil, false, unix.EBADF
	}
	fl, err := unix.FcntlInt(uintptr(e.Host), unix.F_GETFL, 0)
	return l, err == nil && fl&unix.O_NONBLOCK != 0, nil
}
