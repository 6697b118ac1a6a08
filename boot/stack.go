// Initial process stack, laid out as Linux's fs/exec.c and
// fs/binfmt_elf.c:create_elf_tables build it on x86-64. The random stack
// top is the caller's (Top); the random sub-page shift (arch_align_stack)
// is AlignShift.
//
// From Top downward:
//
//	8-byte zero word
//	execfn string              <- AT_EXECFN
//	envp strings, then argv strings; ascending memory holds
//	argv[0] .. argv[n-1] then envp[0] .. envp[m-1]
//	AlignShift bytes, then pad to 16
//	platform string            <- AT_PLATFORM (if any)
//	16 random bytes            <- AT_RANDOM
//	pad so that sp is 16-byte aligned
//	auxv pairs, AT_NULL last
//	envp pointers, NULL
//	argv pointers, NULL
//	argc                       <- sp
//
// Strings are C strings, so they may not contain NUL bytes.

package boot

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Auxiliary vector entry types (include/uapi/linux/auxvec.h).
const (
	AT_NULL          = 0
	AT_IGNORE        = 1
	AT_EXECFD        = 2
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_NOTELF        = 10
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_PLATFORM      = 15
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_BASE_PLATFORM = 24
	AT_RANDOM        = 25
	AT_HWCAP2        = 26
	AT_EXECFN        = 31
	AT_SYSINFO_EHDR  = 33
	AT_MINSIGSTKSZ   = 51
)

const (
	// maxArgBytes caps argv, envp and execfn strings plus their pointers,
	// like Linux with the default 8 MiB stack rlimit (rlimit/4).
	maxArgBytes = 2 << 20
	// maxArgStrlen is Linux's MAX_ARG_STRLEN (32 pages) per string.
	maxArgStrlen = 32 * elfPage
	// MaxAlignShift bounds StackSpec.AlignShift (arch_align_stack's
	// get_random_u32_below(8192)).
	MaxAlignShift = 8192
)

// Aux is one auxiliary vector entry.
type Aux struct{ Type, Val uint64 }

// StackSpec describes the initial stack of a new process.
type StackSpec struct {
	Top        uint64 // exclusive top of the stack segMap, page aligned
	Argv, Envp []string
	ExecFn     string // the path AT_EXECFN points to
	Platform   string // AT_PLATFORM string, "x86_64"; omitted if empty
	Random     [16]byte
	// AlignShift is arch_align_stack's random shift below the strings,
	// less than MaxAlignShift (0 with randomization off).
	AlignShift uint64

	// Aux holds every entry except AT_RANDOM, AT_EXECFN, AT_PLATFORM and
	// AT_NULL, which Build adds with the addresses it chose: AT_RANDOM
	// after AT_SECURE (if any), the others at the end.
	Aux []Aux
}

// DefaultAux returns the auxiliary vector Linux gives a static executable,
// in Linux's order, without the entries Build adds itself. AT_SYSINFO_EHDR
// (the vDSO) is the caller's to add, first, when it maps one.
func DefaultAux(img *Image, uid, gid int, hwcap, hwcap2 uint64) []Aux {
	return []Aux{
		{AT_HWCAP, hwcap},
		{AT_PAGESZ, elfPage},
		{AT_CLKTCK, 100}, // USER_HZ
		{AT_PHDR, img.Phdr},
		{AT_PHENT, img.Phent},
		{AT_PHNUM, img.Phnum},
		{AT_BASE, 0}, // the interpreter's load address, if any (SetAux)
		{AT_FLAGS, 0},
		{AT_ENTRY, img.Entry},
		{AT_UID, uint64(uid)},
		{AT_EUID, uint64(uid)},
		{AT_GID, uint64(gid)},
		{AT_EGID, uint64(gid)},
		{AT_SECURE, 0},
		{AT_HWCAP2, hwcap2},
	}
}

// SetAux sets the value of the entry of type typ in aux; it reports
// whether there was one.
func SetAux(aux []Aux, typ, val uint64) bool {
	for i := range aux {
		if aux[i].Type == typ {
			aux[i].Val = val
			return true
		}
	}
	return false
}

// Build lays out the stack and returns the initial rsp (sp, pointing at argc,
// 16-byte aligned) and the bytes to place at [sp, Top). As Linux does since
// 5.18, an empty Argv is replaced by a single empty argv[0], so programs that
// start at argv[1] never walk into envp.
func (s *StackSpec) Build() (sp uint64, data []byte, err error) {
	if s.Top%elfPage != 0 {
		return 0, nil, fmt.Errorf("boot: stack top %#x not page aligned", s.Top)
	}
	for _, a := range s.Aux {
		switch a.Type {
		case AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM:
			return 0, nil, fmt.Errorf("boot: auxv entry %d is added by Build", a.Type)
		}
	}
	argv := s.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}

	// Check sizes first, in 64-bit arithmetic that cannot overflow
	// because every term is capped before it is added.
	total := uint64(len(argv)+len(s.Envp)) * 8 // pointers count, as in Linux
	for _, list := range [][]string{argv, s.Envp, {s.ExecFn}} {
		for _, a := range list {
			if strings.IndexByte(a, 0) >= 0 {
				return 0, nil, fmt.Errorf("boot: argument contains a NUL byte: %w", unix.EINVAL)
			}
			if len(a)+1 > maxArgStrlen {
				return 0, nil, fmt.Errorf("boot: argument longer than %d bytes: %w", maxArgStrlen, unix.E2BIG)
			}
			total += uint64(len(a)) + 1
			if total > maxArgBytes {
				return 0, nil, fmt.Errorf("boot: arguments and environment exceed %d bytes: %w", maxArgBytes, unix.E2BIG)
			}
		}
	}
	if strings.IndexByte(s.Platform, 0) >= 0 || len(s.Platform) >= elfPage {
		return 0, nil, fmt.Errorf("boot: bad platform string: %w", unix.EINVAL)
	}
	if s.AlignShift >= MaxAlignShift {
		return 0, nil, fmt.Errorf("boot: stack shift %d too large", s.AlignShift)
	}

	var strBytes uint64 // argv and envp strings
	for _, list := range [][]string{argv, s.Envp} {
		for _, a := range list {
			strBytes += uint64(len(a)) + 1
		}
	}
	nAux := uint64(len(s.Aux)) + 3 // + AT_RANDOM, AT_EXECFN, AT_NULL
	if s.Platform != "" {
		nAux++
	}
	// argc, argv..., NULL, envp..., NULL, then auxv pairs.
	words := 1 + uint64(len(argv)) + 1 + uint64(len(s.Envp)) + 1 + 2*nAux
	need := 8 + uint64(len(s.ExecFn)) + 1 + strBytes + s.AlignShift + 15 +
		uint64(len(s.Platform)) + 1 + 16 + words*8 + 15
	if need > s.Top {
		return 0, nil, fmt.Errorf("boot: stack of %d bytes does not fit below %#x", need, s.Top)
	}

	// Walk down from Top computing addresses, as create_elf_tables does.
	p := s.Top - 8
	p -= uint64(len(s.ExecFn)) + 1
	execfn := p
	p -= strBytes
	strStart := p
	p -= s.AlignShift
	p &^= 15
	var platform uint64
	if s.Platform != "" {
		p -= uint64(len(s.Platform)) + 1
		platform = p
	}
	p -= 16
	random := p

	// create_elf_tables' order: AT_RANDOM right after AT_SECURE (before
	// AT_HWCAP2), AT_EXECFN and AT_PLATFORM after the rest.
	aux := make([]Aux, 0, nAux)
	at := len(s.Aux)
	for i, a := range s.Aux {
		if a.Type == AT_SECURE {
			at = i + 1
		}
	}
	aux = append(aux, s.Aux[:at]...)
	aux = append(aux, Aux{AT_RANDOM, random})
	aux = append(aux, s.Aux[at:]...)
	aux = append(aux, Aux{AT_EXECFN, execfn})
	if s.Platform != "" {
		aux = append(aux, Aux{AT_PLATFORM, platform})
	}
	aux = append(aux, Aux{AT_NULL, 0})

	// The padding goes above auxv so that sp itself is aligned, as
	// STACK_ROUND does.
	sp = (p - words*8) &^ 15

	data = make([]byte, s.Top-sp)
	le := binary.LittleEndian
	put := func(addr, v uint64) { le.PutUint64(data[addr-sp:], v) }

	copy(data[execfn-sp:], s.ExecFn)
	addr := strStart
	w := sp
	put(w, uint64(len(argv)))
	w += 8
	for _, list := range [][]string{argv, s.Envp} {
		for _, a := range list {
			copy(data[addr-sp:], a)
			put(w, addr)
			w += 8
			addr += uint64(len(a)) + 1
		}
		w += 8 // NULL terminator; data is already zero
	}
	for _, a := range aux {
		put(w, a.Type)
		put(w+8, a.Val)
		w += 16
	}
	if s.Platform != "" {
		copy(data[platform-sp:], s.Platform)
	}
	copy(data[random-sp:], s.Random[:])
	return sp, data, nil
}
