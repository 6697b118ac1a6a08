// exec.go: loading a program image into a fresh address space (the first
// process and execve), and execve itself.
//
// Invariants:
//   - execve builds the whole new image (page tables, memory manager, ELF
//     segments, initial stack) before it touches the process: any failure
//     up to then returns an errno to the old image, as Linux does. After
//     the switch nothing can fail.
//   - Paths resolve inside the guest's root like every other lookup
//     (fspath.go); `#!` scripts re-run the lookup for their interpreter,
//     at most four levels deep (ELOOP beyond).
package kernel

import (
	"errors"
	"io"
	gopath "path"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

// argMax bounds argv plus envp (Linux: a quarter of the 8 MiB stack).
const argMax = 2 << 20

// stringArray reads a NULL-terminated array of C strings. The pointers
// are read a page's worth at a time (what one page holds is all readable
// or not), never past the page the next pointer ends in, so an array
// ending just before unmapped memory reads as on Linux.
func (p *Process) stringArray(addr uint64, total *int) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	var ptrs []byte
	for cur := addr; ; cur += 8 {
		if len(ptrs) == 0 {
			n := ((cur | (guestmm.PageSize - 1)) + 1 - cur) &^ 7 // whole pointers left in cur's page
			if n == 0 {
				n = 8 // one pointer across the page boundary
			}
			ptrs = make([]byte, n)
			if _, err := p.MM.CopyIn(cur, ptrs); err != nil {
				return nil, err
			}
		}
		ptr := abi.Le64(ptrs)
		ptrs = ptrs[8:]
		if ptr == 0 {
			return out, nil
		}
		s, err := p.MM.ReadString(ptr, argMax)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		if *total += len(s) + 1 + 8; *total > argMax {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

func (p *Process) Execve(dirfd int, pathAddr, argvAddr, envpAddr uint64, flags int, r *Regs) (uint64, error) {
	if p.Proc.K == nil || p.Proc.task == nil {
		return 0, unix.ENOSYS
	}
	path, err := p.PathArg(pathAddr)
	if err != nil {
		return 0, err
	}
	total := 0
	argv, err := p.stringArray(argvAddr, &total)
	if err != nil {
		return 0, err
	}
	envp, err := p.stringArray(envpAddr, &total)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT
	}
	ret, err := p.exec(dirfd, path, argv, envp, flags, r, 0, execFnFor(dirfd, path))
	if err == fs.ErrNoReturn {
		// Linux names the thread after the path execve was given (a
		// script's own name, "exe" for /proc/self/exe; "N" for fd N).
		name := gopath.Base(path)
		if path == "" {
			name = abi.Itoa(dirfd)
		}
		p.SetIdent(func() { p.Comm = []byte(name) })
	}
	return ret, err
}

// exec runs the program at path (relative to dirfd) in place of p's image;
// execFn is what AT_EXECFN shows (the name execve was given, also when a
// `#!` line runs an interpreter).
func (p *Process) exec(dirfd int, path string, argv, envp []string, flags int, r *Regs, depth int, execFn string) (uint64, error) {
	if depth > 4 {
		return 0, unix.ELOOP
	}
	oflags := unix.O_RDONLY | unix.O_NONBLOCK // a FIFO must not block: EACCES below
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		oflags |= unix.O_NOFOLLOW
	}
	res, err := p.LookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, oflags)
	if err != nil {
		return 0, err
	}
	defer res.Close()
	guestPath := res.Guest
	// Re-running the program itself (/proc/self/exe, opened by
	// followExe or below; /proc/PID/exe of another process running
	// the same file).
	sameExe := res.Origin == fs.FromExe && p.isOwnExe(res.FD)
	if res.FD < 0 {
		if res.Node == nil || !strings.HasSuffix(res.Node.Path, "/exe") {
			return 0, unix.EACCES
		}
		// /proc/self/exe: the running program.
		fd, err := p.OpenExe(unix.O_RDONLY, 0)
		if err != nil {
			return 0, unix.ENOENT
		}
		res.FD, guestPath, sameExe = fd, p.Exe, true
	}
	var st unix.Stat_t
	if err := unix.Fstat(res.FD, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 || res.Mnt != nil && res.Mnt.NoExec {
		return 0, unix.EACCES
	}
	if err := unix.Faccessat(res.FD, "", unix.X_OK, unix.AT_EMPTY_PATH); err != nil && err != unix.EINVAL {
		return 0, unix.EACCES
	}
	var head [256]byte
	n, _ := unix.Pread(res.FD, head[:], 0)
	if n >= 2 && head[0] == '#' && head[1] == '!' {
		interp, arg, err := shebang(head[2:max(n, 2)])
		if err != nil {
			return 0, err
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, path)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		return p.exec(unix.AT_FDCWD, interp, nargv, envp, 0, r, depth+1, execFn)
	}
	// A plain pread wrapper, not os.NewFile: an *os.File would close the
	// fd again from a finalizer, after res.close, when the number may
	// already belong to someone else.
	f := fdReader(res.FD)
	img, err := boot.Parse(f, st.Size, 0) // loader.go places it
	if err != nil {
		p.Log.WithError(err).WithField("path", path).Debug("execve: not a program kshim runs")
		switch {
		case errors.Is(err, boot.ErrNotELF), errors.Is(err, boot.ErrNotX86_64), errors.Is(err, boot.ErrCorrupt),
			errors.Is(err, boot.ErrInterp):
			return 0, unix.ENOEXEC
		}
		return 0, unix.EIO
	}
	t := p.Proc.task
	pt, err := t.NewAddressSpace()
	if err != nil {
		return 0, unix.ENOMEM
	}
	mm := p.MM.NewSibling(pt)
	im, err := p.LoadImage(mm, f, img, argv, envp, execFn, p.Proc.K.host.HWCap(), p.Proc.K.host.VDSO())
	if err != nil {
		p.Log.WithError(err).WithField("path", path).Debug("execve: loading the image failed")
		mm.Destroy()
		pt.Free()
		var ee *ExecError
		if errors.As(err, &ee) {
			return 0, ee.Errno
		}
		var le *LateError
		if errors.As(err, &le) {
			p.GroupExit(0, unix.SIGSEGV) // past Linux's point of no return
			return 0, fs.ErrNoReturn
		}
		if errors.Is(err, unix.ENOMEM) {
			return 0, unix.ENOMEM
		}
		return 0, unix.ENOEXEC
	}
	// The other threads end first (they run on the old tables).
	if err := p.deThread(); err != nil {
		mm.Destroy()
		pt.Free()
		return 0, err
	}
	// The point of no return.
	old := p.MM
	if err := t.Switch(pt); err != nil {
		mm.Destroy()
		pt.Free()
		return 0, unix.ENOMEM
	}
	exeHost := ""
	if h, err := fs.HostPathOf(res.FD); err == nil {
		exeHost = h
	}
	if sameExe {
		// The same program: its names stay as they were (the first
		// program's host path, outside the root, gets no guest path:
		// ExeGuest).
		guestPath, exeHost = p.Exe, p.ExeHostPath
	}
	// FileShrunk and /proc/PID read other processes' MM and names under it.
	p.Proc.K.Mu.Lock()
	p.noteRSS() // cputime.go: the old image's size counts in maxrss
	p.MM = mm
	p.Exe, p.ExeHostPath = guestPath, exeHost
	p.Proc.K.Mu.Unlock()
	dropMM(old, t, p.Pid) // a vfork child's parent goes on using it
	p.Files.CloseOnExec()
	p.Timers().stopTimers(false) // POSIX timers go; ITIMER_REAL stays
	p.resetSignalsForExec()
	p.TidAddr = 0
	p.RobustList, p.Rseq = 0, 0
	p.Attrs.Persona &^= readImpliesExec // Linux's set_personality_64bit
	p.Attrs.KeepCaps = false            // SECBIT_KEEP_CAPS ends at execve
	// FS.base and GS.base are 0 already: Switch zeroed them.
	if f, ok := p.Arch.(FullFPU); ok {
		_ = f.InitFPU() // the AVX registers too (fpu_flush_thread)
	} else {
		_ = p.Arch.ResetFPU()
	}
	*r = Regs{RIP: im.Entry, RSP: im.SP, RFLAGS: 0x202}
	p.execDone()
	return 0, fs.ErrNoReturn
}

// fdReader reads a host fd with pread; it does not own the fd.
type fdReader int

func (r fdReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := unix.Pread(int(r), b, off)
	if n < 0 {
		n = 0
	}
	if err == nil && n < len(b) {
		err = io.EOF
	}
	return n, err
}

// exeHost is the host path of the running program (for /proc/self/exe
// reopen).
func (p *Process) ExeHost() string {
	if p.ExeHostPath != "" {
		return p.ExeHostPath
	}
	return p.Exe
}

// shebang parses a `#!` line (after the #!): the interpreter and its one
// optional argument, as Linux splits it.
func shebang(b []byte) (interp, arg string, err error) {
	line := string(b)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if len(b) >= 254 {
		return "", "", unix.ENOEXEC // longer than Linux's buffer
	}
	line = strings.TrimLeft(line, " \t")
	line = strings.TrimRight(line, " \t\r")
	if line == "" {
		return "", "", unix.ENOEXEC
	}
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		interp, arg = line[:i], strings.TrimLeft(line[i:], " \t")
	} else {
		interp = line
	}
	return interp, arg, nil
}

// resetSignalsForExec: handled signals revert to the default action;
// ignored ones stay ignored; the mask and pending signals survive; the
// alternate stack goes.
func (p *Process) resetSignalsForExec() {
	p.Sig.Act.resetForExec() // under its lock: posters read it (ignores)
	p.Sig.AltSP, p.Sig.AltSize, p.Sig.AltOn, p.Sig.AltSetFlags = 0, 0, false, 0
}

// execDone lets a vfork parent go on.
func (p *Process) execDone() {
	k := p.Proc.K
	k.Mu.Lock()
	defer k.Mu.Unlock()
	if p.Proc.vforkDone != nil {
		close(p.Proc.vforkDone)
		p.Proc.vforkDone = nil
	}
	k.cond.Broadcast()
}

// openExe opens the running program by the host's name for it. A name
// inside the root is resolved from the root, as the guest's own paths
// are: with --rw the guest may since have put a symlink on that path,
// which the host would follow out of the root.
func (p *Process) OpenExe(flags int, mode uint32) (int, error) {
	return p.OpenExeAt(p.ExeHost(), p.ExeGuest(), flags, mode)
}

// isOwnExe says whether host fd h is the file p runs.
func (p *Process) isOwnExe(h int) bool {
	fd, err := p.OpenExe(unix.O_PATH, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var a, b unix.Stat_t
	return unix.Fstat(fd, &a) == nil && unix.Fstat(h, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

// ExeGuest is the guest path of the running program when it was found in
// the guest's tree (execve, an interpreter; the first program given by a
// host path inside the root), else "".
func (p *Process) ExeGuest() string {
	if p.ExeHostPath != "" {
		return p.Exe
	}
	if g, ok := p.FS.ToGuest(p.Exe); ok {
		return g
	}
	return ""
}

// OpenExeAt is OpenExe for a program whose host name is host and guest
// path guest (ExeGuest; another process's, for its /proc/PID/exe),
// resolved in p's root. With mounts it is looked up again by its guest
// path through them: the host's name for a file of a tmpfs or of a
// read-only path's clone is relative to that detached mount, and a name
// of the root's host directory may be what a mask hides; resolved from
// the root it would open whatever the root holds at that name (a masked
// secret, a host file).
func (p *Process) OpenExeAt(host, guest string, flags int, mode uint32) (int, error) {
	if p.FS.Mounted() && p.FS.Root >= 0 && guest != "" {
		// (No guest path: the first program, given by a host path
		// outside the root, is opened by that path below.)
		r, err := p.LookupAbs(guest, flags, mode)
		if err != nil {
			return -1, err
		}
		if r.FD < 0 {
			return -1, unix.EACCES // kshim's /proc or a device of its own
		}
		return r.FD, nil
	}
	if g, ok := p.FS.ToGuest(host); ok && p.FS.Root >= 0 {
		fd, err := fs.Openat2(p.FS.Root, g, flags, mode, unix.RESOLVE_IN_ROOT)
		if err == nil && fs.OnProc(fd) {
			unix.Close(fd)
			return -1, unix.EACCES
		}
		return fd, err
	}
	return unix.Open(host, flags|unix.O_CLOEXEC, mode)
}
