// loader.go: building a program image in a fresh address space, in the
// order Linux's load_elf_binary builds it: the layout (randomized unless
// the personality has ADDR_NO_RANDOMIZE), the stack, the program's
// segments, its interpreter (PT_INTERP), brk, the vDSO, the initial stack.
//
// Invariants:
//   - Everything that can fail for a reason execve reports (the
//     interpreter missing, not executable, not an ELF) is found before
//     anything is mapped; the caller owns the new MM and throws it away on
//     any error, so the old image is never touched. Failures Linux meets
//     only past its point of no return are LateErrors: the caller kills
//     the process with SIGSEGV, as Linux does.
//   - The interpreter is looked up in the guest's root like every path
//     (fspath.go), relative to the cwd when relative, and mapped as
//     private mappings of its file (as Linux maps it), so /proc/self/maps
//     names it; the program itself is copied into anonymous memory.
//   - Randomness comes from the host's getrandom (crypto/rand); the
//     amounts are Linux x86-64's (guestmm/layout.go): mmap base and PIE
//     base 28 bits of pages, stack top 22 bits of pages plus a sub-page
//     shift below 8 KiB, brk up to 1 GiB, the vDSO wherever the mmap area
//     puts it.
package kernel

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	gopath "path"
	"strings"

	"golang.org/x/sys/unix"

	"kshim/boot"
	"kshim/ept"
	"kshim/guestmm"
	"kshim/syscalls/abi"
	"kshim/syscalls/fs"
)

// Image is a program loaded into a memory manager, ready to run.
type Image struct {
	Entry, SP uint64
	// Interp is the interpreter's host path ("" for a static program).
	Interp string
}

// VDSO is the vDSO the VMM provides: frames of its data page and image,
// mapped (the data page first) into every new image.
type VDSO struct {
	Frames []uint64 // the vvar page, then the image
}

const (
	// addrNoRandomize is the personality flag `setarch -R` sets: the
	// next images get the fixed layout.
	addrNoRandomize = 0x0040000
	// elfETDynBase is ELF_ET_DYN_BASE on x86-64 (2/3 of the user half),
	// where a PIE with an interpreter goes, before randomization.
	elfETDynBase = guestmm.UserTop / 3 * 2
	// brkRnd is arch_randomize_brk's range for a 64-bit process.
	brkRnd = 1 << 30
	// ehdrSize is the ELF header elf_read must get whole (EIO if short).
	ehdrSize = 64
)

// ExecError is a reason execve fails with the errno Linux gives; Err
// says what, without the errno's text.
type ExecError struct {
	Errno unix.Errno
	Err   error
}

func (e *ExecError) Error() string { return e.Err.Error() }
func (e *ExecError) Unwrap() error { return e.Err }

// LateError is a failure Linux meets after execve's point of no return
// (mapping the segments, loading the interpreter): the old image is gone
// by then, so Linux kills the process with SIGSEGV (force_fatal_sig).
// Running out of guest memory is not one: that stays ENOMEM.
type LateError struct{ Err error }

func (e *LateError) Error() string { return e.Err.Error() }
func (e *LateError) Unwrap() error { return e.Err }

// late marks err as found past the point of no return.
func late(err error) error {
	if err == nil || errors.Is(err, ept.ErrNoMemory) {
		return err
	}
	return &LateError{err}
}

func execErr(errno unix.Errno, format string, args ...any) error {
	return &ExecError{errno, fmt.Errorf(format, args...)}
}

// execFnFor is the name AT_EXECFN shows for execveat(dirfd, path): path
// itself when absolute or relative to the cwd, else /dev/fd/N[/path]
// (alloc_bprm).
func execFnFor(dirfd int, path string) string {
	switch {
	case dirfd == unix.AT_FDCWD || strings.HasPrefix(path, "/"):
		return path
	case path == "":
		return "/dev/fd/" + abi.Itoa(dirfd)
	}
	return "/dev/fd/" + abi.Itoa(dirfd) + "/" + path
}

// SetNoRandomize makes the process's images use the fixed layout, as
// personality(ADDR_NO_RANDOMIZE) does (`kshim run --no-aslr`).
func (p *Process) SetNoRandomize() { p.Attrs.Persona |= addrNoRandomize }

// hostRandom returns uniformly random 64-bit values from the host's
// getrandom.
func hostRandom() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on Linux (Go aborts instead)
	return abi.Le64(b[:])
}

// randomizePage is the kernel's randomize_page: a page-aligned address
// in [start, start+rangeBytes).
func randomizePage(start, rangeBytes uint64) uint64 {
	if a := pageUp(start); a != start {
		rangeBytes -= a - start
		start = a
	}
	if pages := rangeBytes / guestmm.PageSize; pages != 0 {
		start += hostRandom() % pages * guestmm.PageSize
	}
	return start
}

func pageUp(x uint64) uint64   { return (x + guestmm.PageSize - 1) &^ (guestmm.PageSize - 1) }
func pageDown(x uint64) uint64 { return x &^ (guestmm.PageSize - 1) }

// LoadImage loads the ELF img (read from r, parsed with bias 0) into the
// empty memory manager mm and builds its initial stack with argv, envp
// and the auxiliary vector. An *ExecError is a reason execve reports;
// errors wrapping unix.ENOMEM mean guest memory ran out.
func (p *Process) LoadImage(mm *guestmm.MM, r io.ReaderAt, img *boot.Image, argv, envp []string, execFn string, hwcap uint64, vdso *VDSO) (Image, error) {
	random := p.Attrs.Persona&addrNoRandomize == 0
	var interp *interpFile
	if img.HasInterp {
		var err error
		if interp, err = p.openInterp(img.Interp); err != nil {
			return Image{}, err
		}
		defer unix.Close(interp.fd)
	}

	layout := guestmm.FixedLayout()
	if random {
		layout = guestmm.RandomLayout(hostRandom)
	}
	if err := mm.SetLayout(layout); err != nil {
		return Image{}, err
	}
	mm.MapStack()
	if img.ExecStack {
		_ = mm.Mprotect(layout.StackTop-guestmm.PageSize, guestmm.PageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC)
	}

	// Linux's point of no return (begin_new_exec) is here: what fails
	// from now on kills the process.
	img, err := placeProgram(mm, img, random)
	if err != nil {
		return Image{}, late(err)
	}
	if err := p.loadProgram(mm, r, img); err != nil { // loadmap.go
		return Image{}, late(err)
	}
	entry, base := img.Entry, uint64(0)
	if interp != nil {
		if interp.late != nil {
			return Image{}, &LateError{interp.late}
		}
		if base, err = mapInterp(mm, interp); err != nil {
			return Image{}, late(err)
		}
		entry = interp.img.Entry + base
	}

	// A program without interpreter (static-pie, ld.so run as a
	// program) sits in the mmap area: its heap goes where a PIE would
	// be, randomized or not (Linux since 6.15). Otherwise, randomized,
	// a page of gap after .bss, then up to 1 GiB.
	brk, moved := img.BrkStart, false
	if img.Dyn && interp == nil {
		brk, moved = pageUp(elfETDynBase), true
	}
	if random {
		if !moved {
			brk += guestmm.PageSize
		}
		brk = randomizePage(brk, brkRnd)
	}
	mm.SetBrkStart(brk)

	spec := boot.StackSpec{
		Top:      layout.StackTop,
		Argv:     argv,
		Envp:     envp,
		ExecFn:   execFn,
		Platform: "x86_64",
		Aux:      boot.DefaultAux(img, unix.Getuid(), unix.Getgid(), hwcap, 0),
	}
	boot.SetAux(spec.Aux, boot.AT_BASE, base)
	// First, as Linux's ARCH_DLINFO puts them: the vDSO (below), then the
	// most a signal frame takes (glibc's sysconf(_SC_MINSIGSTKSZ)).
	spec.Aux = append([]boot.Aux{{Type: boot.AT_MINSIGSTKSZ, Val: p.MaxSigFrame()}}, spec.Aux...)
	if vdso != nil && len(vdso.Frames) > 1 {
		addr, err := mm.MapSpecial(0,
			guestmm.Special{Frames: vdso.Frames[:1], Prot: unix.PROT_READ, Name: "[vvar]"},
			guestmm.Special{Frames: vdso.Frames[1:], Prot: unix.PROT_READ | unix.PROT_EXEC, Name: "[vdso]"})
		if err != nil {
			return Image{}, late(err)
		}
		spec.Aux = append([]boot.Aux{{Type: boot.AT_SYSINFO_EHDR, Val: addr + guestmm.PageSize}}, spec.Aux...)
	}
	if random {
		spec.AlignShift = hostRandom() % boot.MaxAlignShift
	}
	if _, err := rand.Read(spec.Random[:]); err != nil {
		return Image{}, err
	}
	sp, data, err := spec.Build()
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) { // E2BIG for an argument too long, as copy_strings
			return Image{}, &ExecError{errno, err}
		}
		return Image{}, err
	}
	if err := mm.WriteAt(sp, data); err != nil {
		return Image{}, err
	}
	mm.StackAhead(sp) // the program's first frames, below (guestmm's around.go)
	// argv[0]'s pointer follows argc; the strings are contiguous (an
	// empty argv gets one empty string, as Build gives it).
	argLen := uint64(1)
	if len(argv) > 0 {
		argLen = 0
		for _, a := range argv {
			argLen += uint64(len(a)) + 1
		}
	}
	envLen := uint64(0) // the environment's strings follow argv's
	for _, e := range envp {
		envLen += uint64(len(e)) + 1
	}
	if len(data) >= 16 {
		start := binary.LittleEndian.Uint64(data[8:16])
		mm.SetArgs(start, start+argLen, start+argLen+envLen)
	}
	im := Image{Entry: entry, SP: sp}
	if interp != nil {
		im.Interp = interp.name
	}
	return im, nil
}

// placeProgram chooses the load bias of an ET_DYN program (load_elf_binary):
// with an interpreter (a PIE) at ELF_ET_DYN_BASE plus arch_mmap_rnd, without
// one (static-pie, an interpreter run as a program) wherever the mmap area
// has room, top-down. ET_EXEC images stay where they are.
func placeProgram(mm *guestmm.MM, img *boot.Image, random bool) (*boot.Image, error) {
	if !img.Dyn {
		return img, nil
	}
	first := pageDown(img.Segments[0].Vaddr)
	var bias uint64
	if img.HasInterp {
		bias = elfETDynBase
		if random {
			bias += guestmm.MmapRnd(hostRandom)
		}
		bias &^= img.Align - 1
		bias = pageDown(bias - first)
	} else {
		// Find the room as the kernel does, by mapping the whole span,
		// then give it back for boot.Load to fill.
		span := img.Span()
		addr, err := mm.Mmap(guestmm.MmapArgs{Len: span, Prot: unix.PROT_NONE,
			Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, FD: -1})
		if err != nil {
			return nil, err
		}
		if err := mm.Munmap(addr, span); err != nil {
			return nil, err
		}
		bias = (addr - first) &^ (img.Align - 1)
	}
	return img.Rebase(bias)
}

// interpFile is an opened, parsed program interpreter.
type interpFile struct {
	fd   int          // host fd, read-only
	name string       // host path, for the log
	file *fs.OpenFile // for /proc/self/maps (fs.MapsName)
	size int64
	img  *boot.Image // parsed at bias 0
	// late is why loading it will fail past the point of no return
	// (boot.ErrLate: its segments, its ELF type).
	late error
}

// openInterp opens and checks the interpreter as open_exec and
// load_elf_binary do, returning their errnos: lookup errors as they come
// (ENOENT, ENOTDIR, ELOOP...), EACCES for a file that is not a regular
// executable one, EIO when its ELF header is cut short, ELIBBAD when it is
// not an x86-64 ELF with sane program headers. Problems Linux finds only
// while loading it (its ELF type, its segments) are kept in late.
func (p *Process) openInterp(name string) (*interpFile, error) {
	if name == "" {
		return nil, execErr(unix.EACCES, "empty interpreter name") // what Linux answers
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer (EACCES).
	res, err := p.LookupFD(unix.AT_FDCWD, name, false, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		var errno unix.Errno
		if !errors.As(err, &errno) {
			errno = unix.ENOENT
		}
		return nil, &ExecError{errno, fmt.Errorf("interpreter %s", name)}
	}
	if res.FD < 0 {
		return nil, execErr(unix.EACCES, "interpreter %s: not a regular file", name)
	}
	ok := false
	defer func() {
		if !ok {
			res.Close()
		}
	}()
	var st unix.Stat_t
	if err := unix.Fstat(res.FD, &st); err != nil {
		return nil, execErr(unix.EIO, "interpreter %s: %v", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 || res.Mnt != nil && res.Mnt.NoExec {
		return nil, execErr(unix.EACCES, "interpreter %s: not an executable file", name)
	}
	if err := unix.Faccessat(res.FD, "", unix.X_OK, unix.AT_EMPTY_PATH); err != nil && err != unix.EINVAL {
		return nil, execErr(unix.EACCES, "interpreter %s: %v", name, err)
	}
	if st.Size < ehdrSize {
		return nil, execErr(unix.EIO, "interpreter %s: shorter than an ELF header", name)
	}
	img, err := boot.ParseInterp(fdReader(res.FD), st.Size)
	var lateErr error
	switch {
	case errors.Is(err, boot.ErrLate):
		lateErr = fmt.Errorf("interpreter %s: %w", name, err)
	case err != nil:
		return nil, execErr(unix.ELIBBAD, "interpreter %s: %v", name, err)
	}
	ok = true
	return &interpFile{fd: res.FD, name: fs.HostPath(res.FD),
		file: &fs.OpenFile{Path: res.Guest, Origin: res.Origin, Mnt: res.Mnt}, size: st.Size, img: img, late: lateErr}, nil
}

// mapInterp maps the interpreter as load_elf_interp does and returns its
// load address (AT_BASE): an ET_DYN one where the mmap area has room for
// its whole span (holes between segments unmapped again), its segments as
// private mappings of the file, the rest of a segment's last file page
// zeroed when the segment is writable (padzero), anonymous read-write
// memory for the bss beyond it (vm_brk_flags).
func mapInterp(mm *guestmm.MM, in *interpFile) (uint64, error) {
	img := in.img
	var base uint64
	if img.Dyn {
		span := img.Span()
		addr, err := mm.Mmap(guestmm.MmapArgs{Len: span, Prot: unix.PROT_NONE,
			Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, FD: -1})
		if err != nil {
			return 0, err
		}
		base = addr - pageDown(img.Segments[0].Vaddr)
		// Unmap the holes between segments first (the segments are
		// ascending and byte-disjoint), then map over the rest.
		prev := addr
		for _, s := range img.Segments {
			if start := pageDown(base + s.Vaddr); start > prev {
				if err := mm.Munmap(prev, start-prev); err != nil {
					return 0, err
				}
			}
			prev = max(prev, pageUp(base+s.Vaddr+s.Memsz))
		}
	}
	if err := mapSegments(mm, img, base, in.fd, in.name, "", in.file, false, nil); err != nil { // loadmap.go
		return 0, err
	}
	return base, nil
}

// StartScript resolves what `kshim run` starts when the file the user
// named (path, on the host; head its first bytes) is a `#!` script: the
// interpreter chain as execve follows it, each interpreter looked up
// inside the guest root, at most four levels, ending in an ELF. It
// returns that ELF open (the caller closes it) and parsed at bias 0, the
// argv it runs with, and sets the process's /proc/self/exe and name as
// execve would. Errors are *ExecErrors with execve's errno.
func (p *Process) StartScript(head []byte, path string, argv []string) (*os.File, *boot.Image, []string, error) {
	name := gopath.Base(path) // the process's name: the script's, as execve gives
	for depth := 0; ; depth++ {
		if depth > 4 {
			return nil, nil, nil, execErr(unix.ELOOP, "%s: too many levels of #! interpreters", path)
		}
		if len(head) < 2 || head[0] != '#' || head[1] != '!' {
			return nil, nil, nil, execErr(unix.ENOEXEC, "%s: not a #! script", path)
		}
		interp, arg, err := shebang(head[2:])
		if err != nil {
			return nil, nil, nil, execErr(unix.ENOEXEC, "%s: bad #! line", path)
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, path)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		res, err := p.LookupFD(unix.AT_FDCWD, interp, false, unix.O_RDONLY|unix.O_NONBLOCK)
		if err != nil {
			var errno unix.Errno
			if !errors.As(err, &errno) {
				errno = unix.ENOENT
			}
			return nil, nil, nil, &ExecError{errno, fmt.Errorf("interpreter %s", interp)}
		}
		if res.FD < 0 {
			return nil, nil, nil, execErr(unix.EACCES, "interpreter %s: not a regular file", interp)
		}
		f := os.NewFile(uintptr(res.FD), interp) // owns the fd from here
		var st unix.Stat_t
		if err := unix.Fstat(res.FD, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 ||
			res.Mnt != nil && res.Mnt.NoExec ||
			unix.Faccessat(res.FD, "", unix.X_OK, unix.AT_EMPTY_PATH) == unix.EACCES {
			f.Close()
			return nil, nil, nil, execErr(unix.EACCES, "interpreter %s: not an executable file", interp)
		}
		buf := make([]byte, 256)
		n, _ := f.ReadAt(buf, 0)
		if n >= 2 && buf[0] == '#' && buf[1] == '!' {
			f.Close()
			head, path, argv = buf[:n], interp, nargv
			continue
		}
		img, err := boot.Parse(f, st.Size, 0)
		if err != nil {
			f.Close()
			return nil, nil, nil, execErr(unix.ENOEXEC, "interpreter %s: %v", interp, err)
		}
		guest, host := res.Guest, fs.HostPath(res.FD)
		p.SetIdent(func() { p.Exe, p.ExeHostPath, p.Comm = guest, host, []byte(name) })
		return f, img, nargv, nil
	}
}
