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
package syscalls

import (
	"crypto/rand"
	"errors"
	"io"
	gopath "path"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/guestmm"
)

// Image is a program loaded into a memory manager, ready to run.
type Image struct {
	Entry, SP uint64
}

// VDSO is the vDSO the VMM provides: frames of its data page and image,
// mapped at Addr (the data page) in every new image.
type VDSO struct {
	Addr   uint64
	Frames []uint64 // the vvar page, then the image
}

// LoadImage loads the parsed ELF img (read from r) into the empty memory
// manager mm and builds its initial stack with argv, envp and the
// auxiliary vector. Errors wrapping unix.ENOMEM mean guest memory ran out.
func LoadImage(mm *guestmm.MM, r interface {
	ReadAt([]byte, int64) (int, error)
}, img *boot.Image, argv, envp []string, execFn string, hwcap uint64, vdso *VDSO) (Image, error) {
	if err := boot.Load(r, img, mm); err != nil {
		return Image{}, err
	}
	mm.SetBrkStart(img.BrkStart)
	mm.MapStack()
	if img.ExecStack {
		_ = mm.Mprotect(guestmm.StackTop-guestmm.PageSize, guestmm.PageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC)
	}
	spec := boot.StackSpec{
		Top:      guestmm.StackTop,
		Argv:     argv,
		Envp:     envp,
		ExecFn:   execFn,
		Platform: "x86_64",
		Aux:      boot.DefaultAux(img, unix.Getuid(), unix.Getgid(), hwcap, 0),
	}
	if vdso != nil && len(vdso.Frames) > 1 {
		if err := mm.MapFrames(vdso.Addr, vdso.Frames[:1], unix.PROT_READ, "[vvar]"); err != nil {
			return Image{}, err
		}
		if err := mm.MapFrames(vdso.Addr+guestmm.PageSize, vdso.Frames[1:], unix.PROT_READ|unix.PROT_EXEC, "[vdso]"); err != nil {
			return Image{}, err
		}
		// First, as Linux puts it (ARCH_DLINFO).
		spec.Aux = append([]boot.Aux{{Type: boot.AT_SYSINFO_EHDR, Val: vdso.Addr + guestmm.PageSize}}, spec.Aux...)
	}
	if _, err := rand.Read(spec.Random[:]); err != nil {
		return Image{}, err
	}
	sp, data, err := spec.Build()
	if err != nil {
		return Image{}, err
	}
	if err := mm.WriteAt(sp, data); err != nil {
		return Image{}, err
	}
	return Image{Entry: img.Entry, SP: sp}, nil
}

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
		ptr := le64(ptrs)
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

func sysExecve(p *Process, r *Regs, a *args) (uint64, error) {
	return p.execve(unix.AT_FDCWD, a[0], a[1], a[2], 0, r)
}

func sysExecveat(p *Process, r *Regs, a *args) (uint64, error) {
	if a[4]&^uint64(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	return p.execve(dirfdArg(a[0]), a[1], a[2], a[3], int(a[4]), r)
}

func (p *Process) execve(dirfd int, pathAddr, argvAddr, envpAddr uint64, flags int, r *Regs) (uint64, error) {
	if p.proc.k == nil || p.proc.task == nil {
		return 0, unix.ENOSYS
	}
	path, err := p.pathArg(pathAddr)
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
	ret, err := p.exec(dirfd, path, argv, envp, flags, r, 0)
	if err == errNoReturn {
		// Linux names the thread after the path execve was given (a
		// script's own name, "exe" for /proc/self/exe; "N" for fd N).
		name := gopath.Base(path)
		if path == "" {
			name = itoa(dirfd)
		}
		p.comm = []byte(name)
	}
	return ret, err
}

// exec runs the program at path (relative to dirfd) in place of p's image.
func (p *Process) exec(dirfd int, path string, argv, envp []string, flags int, r *Regs, depth int) (uint64, error) {
	if depth > 4 {
		return 0, unix.ELOOP
	}
	oflags := unix.O_RDONLY
	if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
		oflags |= unix.O_NOFOLLOW
	}
	res, err := p.lookupFD(dirfd, path, flags&unix.AT_EMPTY_PATH != 0, oflags)
	if err != nil {
		return 0, err
	}
	defer res.close()
	guestPath := res.guest
	if res.fd < 0 {
		if res.node == nil || !strings.HasSuffix(res.node.path, "/exe") {
			return 0, unix.EACCES
		}
		// /proc/self/exe: the running program.
		fd, err := p.openExe(unix.O_RDONLY, 0)
		if err != nil {
			return 0, unix.ENOENT
		}
		res.fd, guestPath = fd, p.Exe
	}
	var st unix.Stat_t
	if err := unix.Fstat(res.fd, &st); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return 0, unix.EACCES
	}
	if err := unix.Faccessat(res.fd, "", unix.X_OK, unix.AT_EMPTY_PATH); err != nil && err != unix.EINVAL {
		return 0, unix.EACCES
	}
	var head [256]byte
	n, _ := unix.Pread(res.fd, head[:], 0)
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
		return p.exec(unix.AT_FDCWD, interp, nargv, envp, 0, r, depth+1)
	}
	// A plain pread wrapper, not os.NewFile: an *os.File would close the
	// fd again from a finalizer, after res.close, when the number may
	// already belong to someone else.
	f := fdReader(res.fd)
	img, err := boot.Parse(f, st.Size, guestmm.DynBase)
	if err != nil {
		p.Log.WithError(err).WithField("path", path).Debug("execve: not a program kshim runs")
		switch {
		case errors.Is(err, boot.ErrDynamic):
			return 0, unix.ENOENT // the interpreter does not exist for us
		case errors.Is(err, boot.ErrNotELF), errors.Is(err, boot.ErrNotX86_64), errors.Is(err, boot.ErrCorrupt):
			return 0, unix.ENOEXEC
		}
		return 0, unix.EIO
	}
	t := p.proc.task
	pt, err := t.NewAddressSpace()
	if err != nil {
		return 0, unix.ENOMEM
	}
	mm := p.MM.NewSibling(pt)
	execFn := path
	if depth > 0 && len(argv) > 0 {
		execFn = path
	}
	im, err := LoadImage(mm, f, img, argv, envp, execFn, p.proc.k.host.HWCap(), p.proc.k.host.VDSO())
	if err != nil {
		p.Log.WithError(err).WithField("path", path).Debug("execve: loading the image failed")
		mm.Destroy()
		pt.Free()
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
	p.proc.k.mu.Lock() // fileShrunk reads other processes' MM under it
	p.MM = mm
	p.proc.k.mu.Unlock()
	old.Destroy()
	old.PageTable().Free()
	p.Exe = guestPath
	p.exeHostPath = ""
	if h, err := hostPathOf(res.fd); err == nil {
		p.exeHostPath = h
	}
	p.files.CloseOnExec()
	p.timers().stopTimers(false) // POSIX timers go; ITIMER_REAL stays
	p.resetSignalsForExec()
	p.tidAddr = 0
	p.robustList, p.rseq = 0, 0
	p.attrs.persona &^= readImpliesExec // Linux's set_personality_64bit
	_ = p.Arch.SetFSBase(0)
	_ = p.Arch.SetGSBase(0)
	_ = p.Arch.ResetFPU()
	*r = Regs{RIP: im.Entry, RSP: im.SP, RFLAGS: 0x202}
	p.execDone()
	return 0, errNoReturn
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
func (p *Process) exeHost() string {
	if p.exeHostPath != "" {
		return p.exeHostPath
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
	for i := range p.sig.act {
		if p.sig.act[i].handler != sigIgn {
			p.sig.act[i] = sigaction{}
		} else {
			p.sig.act[i].flags, p.sig.act[i].restorer, p.sig.act[i].mask = 0, 0, 0
		}
	}
	p.sig.altSP, p.sig.altSize, p.sig.altOn = 0, 0, false
}

// execDone lets a vfork parent go on.
func (p *Process) execDone() {
	k := p.proc.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if p.proc.vforkDone != nil {
		close(p.proc.vforkDone)
		p.proc.vforkDone = nil
	}
	k.cond.Broadcast()
}
