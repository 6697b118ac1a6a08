// Tests for the ELF loader: real gcc-built static executables compared with
// debug/elf's view, hand-built files for edge cases, and a malformed-input
// table that must produce the right error kind without panicking. Tests that
// need gcc (and a static libc) skip themselves when it is unavailable.

package boot

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const elfTestBias = 0x555555554000

const helloC = `#include <stdio.h>
int initialized = 42;
char bss[100000];
int main(int argc, char **argv) {
	bss[argc] = 1;
	printf("hello %d\n", initialized + bss[1]);
	return 0;
}
`

// gccBuild compiles src with gcc and flags into dir, skipping the test if
// gcc or the needed libraries are missing.
func gccBuild(t testing.TB, src string, flags ...string) []byte {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "prog")
	args := append([]string{"-O1", "-o", out, c}, flags...)
	if msg, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Skipf("gcc %v failed (no static libc?): %v\n%s", flags, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// elfFakePage is one 4 KiB guest page.
type elfFakePage struct {
	data [elfPage]byte
	prot int
}

// pageMem is a Memory that refuses to map a page twice or write to an
// unmapped page.
type pageMem map[uint64]*elfFakePage

func (m pageMem) MapAnon(addr, length uint64, prot int) error {
	if addr%elfPage != 0 || length%elfPage != 0 || length == 0 {
		return fmt.Errorf("unaligned map [%#x, +%#x)", addr, length)
	}
	for a := addr; a < addr+length; a += elfPage {
		if m[a] != nil {
			return fmt.Errorf("page %#x mapped twice", a)
		}
	}
	for a := addr; a < addr+length; a += elfPage {
		m[a] = &elfFakePage{prot: prot}
	}
	return nil
}

func (m pageMem) WriteAt(addr uint64, data []byte) error {
	for len(data) > 0 {
		p := m[elfPageDown(addr)]
		if p == nil {
			return fmt.Errorf("write to unmapped %#x", addr)
		}
		n := copy(p.data[addr%elfPage:], data)
		data = data[n:]
		addr += uint64(n)
	}
	return nil
}

// checkLoaded verifies that mem holds exactly what img asks for: every
// segment's file bytes, zeros elsewhere, and the union of the protections of
// the segments touching each page.
func checkLoaded(t *testing.T, file []byte, img *Image, mem pageMem) {
	t.Helper()
	want := map[uint64]int{}
	for _, s := range img.Segments {
		for a := elfPageDown(s.Vaddr); a < s.Vaddr+s.Memsz; a += elfPage {
			want[a] |= s.Prot
		}
	}
	if len(want) != len(mem) {
		t.Errorf("mapped %d pages, want %d", len(mem), len(want))
	}
	for a, prot := range want {
		p := mem[a]
		if p == nil {
			t.Errorf("page %#x not mapped", a)
			continue
		}
		if p.prot != prot {
			t.Errorf("page %#x prot %#x, want %#x", a, p.prot, prot)
		}
	}
	for a, p := range mem {
		for i := range p.data {
			addr := a + uint64(i)
			var wantByte byte
			for _, s := range img.Segments {
				if addr >= s.Vaddr && addr-s.Vaddr < s.Filesz {
					wantByte = file[s.Offset+addr-s.Vaddr]
				}
			}
			if p.data[i] != wantByte {
				t.Fatalf("byte at %#x = %#x, want %#x", addr, p.data[i], wantByte)
			}
		}
	}
}

func TestParseLoadGCC(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		bias  uint64
	}{
		{"static", []string{"-static"}, 0},
		{"static-pie", []string{"-static-pie"}, elfTestBias},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := gccBuild(t, helloC, tc.flags...)
			img, err := Parse(bytes.NewReader(file), int64(len(file)), elfTestBias)
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bias != tc.bias {
				t.Errorf("Bias = %#x, want %#x", img.Bias, tc.bias)
			}
			if img.Entry != f.Entry+tc.bias {
				t.Errorf("Entry = %#x, want %#x", img.Entry, f.Entry+tc.bias)
			}
			if img.Phnum != uint64(len(f.Progs)) || img.Phent != 56 {
				t.Errorf("Phnum, Phent = %d, %d", img.Phnum, img.Phent)
			}

			// Expected AT_PHDR: PT_PHDR, else where e_phoff lands.
			phoff := binary.LittleEndian.Uint64(file[32:])
			var wantPhdr uint64
			var loads []*elf.Prog
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD {
					loads = append(loads, p)
					if wantPhdr == 0 && p.Off <= phoff && phoff < p.Off+p.Filesz {
						wantPhdr = p.Vaddr + phoff - p.Off + tc.bias
					}
				}
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_PHDR {
					wantPhdr = p.Vaddr + tc.bias
				}
			}
			if wantPhdr == 0 || img.Phdr != wantPhdr {
				t.Errorf("Phdr = %#x, want %#x", img.Phdr, wantPhdr)
			}

			if len(img.Segments) != len(loads) {
				t.Fatalf("%d segments, want %d", len(img.Segments), len(loads))
			}
			var end uint64
			for i, p := range loads {
				s := img.Segments[i]
				want := Segment{p.Vaddr + tc.bias, p.Memsz, p.Filesz, p.Off, protOf(p.Flags)}
				if s != want {
					t.Errorf("segment %d = %+v, want %+v", i, s, want)
				}
				end = s.Vaddr + s.Memsz
			}
			if img.BrkStart != elfPageUp(end) {
				t.Errorf("BrkStart = %#x, want %#x", img.BrkStart, elfPageUp(end))
			}
			if img.ExecStack {
				t.Error("ExecStack set for a gcc default (non-executable) stack")
			}

			mem := pageMem{}
			if err := Load(bytes.NewReader(file), img, mem); err != nil {
				t.Fatal(err)
			}
			checkLoaded(t, file, img, mem)
		})
	}
}

// TestParseDynamic: a gcc PIE names its interpreter, parses at bias 0 and
// rebases to what Parse gives at that bias; the interpreter itself parses
// as an ET_DYN without one.
func TestParseDynamic(t *testing.T) {
	file := gccBuild(t, helloC)
	img, err := Parse(bytes.NewReader(file), int64(len(file)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !img.HasInterp || img.Interp != "/lib64/ld-linux-x86-64.so.2" || !img.Dyn || img.Align < elfPage {
		t.Fatalf("Interp %q (%v), Dyn %v, Align %#x", img.Interp, img.HasInterp, img.Dyn, img.Align)
	}
	moved, err := img.Rebase(elfTestBias)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(bytes.NewReader(file), int64(len(file)), elfTestBias)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(moved) != fmt.Sprint(want) {
		t.Errorf("Rebase gave\n%+v\nParse at that bias gave\n%+v", moved, want)
	}
	if img.Span() != want.Span() || img.Span() == 0 || img.Span()%elfPage != 0 {
		t.Errorf("Span %#x, rebased %#x", img.Span(), want.Span())
	}
	if _, err := img.Rebase(userAddrLimit - elfPage); err == nil {
		t.Error("Rebase past the user address space succeeded")
	}
	if _, err := want.Rebase(elfPage); err == nil {
		t.Error("Rebase of an already biased image succeeded")
	}
	ld, err := os.ReadFile(img.Interp)
	if err != nil {
		t.Skipf("no interpreter on this host: %v", err)
	}
	li, err := ParseInterp(bytes.NewReader(ld), int64(len(ld)))
	if err != nil {
		t.Fatal(err)
	}
	if li.HasInterp || !li.Dyn {
		t.Errorf("interpreter: HasInterp %v, Dyn %v", li.HasInterp, li.Dyn)
	}
}

// TestParseLate: segment problems and an interpreter's ELF type are the
// ones Linux meets past execve's point of no return (ErrLate); header
// problems are not, and a program's ELF type is not.
func TestParseLate(t *testing.T) {
	for _, tc := range badInputs() {
		err := tc.want
		_, got := Parse(bytes.NewReader(tc.data), int64(len(tc.data)), elfTestBias)
		late := errors.Is(got, ErrLate)
		segment := strings.Contains(got.Error(), "segment") || strings.Contains(got.Error(), "entry point") ||
			strings.Contains(got.Error(), "no loadable")
		if late != segment || late && !errors.Is(got, err) {
			t.Errorf("%s: %v: late %v", tc.name, got, late)
		}
	}
	rel := patchCopy(validSynth(), func(b []byte) { binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_REL)) })
	if _, err := Parse(bytes.NewReader(rel), int64(len(rel)), 0); !errors.Is(err, ErrNotELF) || errors.Is(err, ErrLate) {
		t.Errorf("program ET_REL: %v", err)
	}
	if _, err := ParseInterp(bytes.NewReader(rel), int64(len(rel))); !errors.Is(err, ErrNotELF) || !errors.Is(err, ErrLate) {
		t.Errorf("interpreter ET_REL: %v", err)
	}
}

// mkELF builds a little-endian x86-64 ET_EXEC file of size bytes with the
// given program headers at offset 64. The bytes after the headers carry a
// pattern so that copied data can be told apart from zeros.
func mkELF(entry uint64, size int, progs ...elf.Prog64) []byte {
	size = max(size, 64+56*len(progs))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	clear(b[7:16])
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[24:], entry)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint64(b[40:], 0)  // e_shoff
	le.PutUint32(b[48:], 0)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], uint16(len(progs)))
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], 0)
	le.PutUint16(b[62:], 0)
	for i, p := range progs {
		o := b[64+56*i:]
		le.PutUint32(o[0:], p.Type)
		le.PutUint32(o[4:], p.Flags)
		le.PutUint64(o[8:], p.Off)
		le.PutUint64(o[16:], p.Vaddr)
		le.PutUint64(o[24:], p.Paddr)
		le.PutUint64(o[32:], p.Filesz)
		le.PutUint64(o[40:], p.Memsz)
		le.PutUint64(o[48:], p.Align)
	}
	return b
}

func ptLoad(off, vaddr, filesz, memsz uint64, flags elf.ProgFlag) elf.Prog64 {
	return elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(flags), Off: off, Vaddr: vaddr,
		Paddr: vaddr, Filesz: filesz, Memsz: memsz, Align: elfPage}
}

var gnuStackRW = elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W), Align: 16}

// validSynth has a text segment and a data segment whose first page is the
// text segment's last page.
func validSynth() []byte {
	return mkELF(0x400100, 0x3000,
		ptLoad(0, 0x400000, 0x1800, 0x1800, elf.PF_R|elf.PF_X),
		ptLoad(0x1800, 0x401800, 0x800, 0x3000, elf.PF_R|elf.PF_W),
		gnuStackRW)
}

func TestLoadSharedPages(t *testing.T) {
	rx, rw := elf.PF_R|elf.PF_X, elf.PF_R|elf.PF_W
	for _, tc := range []struct {
		name  string
		file  []byte
		prots map[uint64]int
	}{
		{"two", validSynth(), map[uint64]int{
			0x400000: unix.PROT_READ | unix.PROT_EXEC,
			0x401000: unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC,
			0x402000: unix.PROT_READ | unix.PROT_WRITE,
			0x403000: unix.PROT_READ | unix.PROT_WRITE,
			0x404000: unix.PROT_READ | unix.PROT_WRITE,
		}},
		{"three-in-one-page", mkELF(0x400010, 0x1000,
			ptLoad(0, 0x400000, 0x100, 0x180, rx),
			ptLoad(0x200, 0x400200, 0x100, 0x100, elf.PF_R),
			ptLoad(0x400, 0x400400, 0x80, 0x200, rw)),
			map[uint64]int{0x400000: unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}},
		{"bss-only-and-gap", mkELF(0x400010, 0x1000,
			ptLoad(0, 0x400000, 0x100, 0x100, rx),
			ptLoad(0, 0x403000, 0, 0x1000, rw)),
			map[uint64]int{0x400000: unix.PROT_READ | unix.PROT_EXEC, 0x403000: unix.PROT_READ | unix.PROT_WRITE}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Parse(bytes.NewReader(tc.file), int64(len(tc.file)), 0)
			if err != nil {
				t.Fatal(err)
			}
			mem := pageMem{}
			if err := Load(bytes.NewReader(tc.file), img, mem); err != nil {
				t.Fatal(err)
			}
			checkLoaded(t, tc.file, img, mem)
			for a, prot := range tc.prots {
				if p := mem[a]; p == nil || p.prot != prot {
					t.Errorf("page %#x not mapped with prot %#x", a, prot)
				}
			}
		})
	}
}

func TestParseSynthFields(t *testing.T) {
	file := validSynth()
	img, err := Parse(bytes.NewReader(file), int64(len(file)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if img.Phdr != 0x400040 {
		t.Errorf("Phdr = %#x, want 0x400040 (computed from e_phoff)", img.Phdr)
	}
	if img.BrkStart != 0x405000 {
		t.Errorf("BrkStart = %#x", img.BrkStart)
	}
	if img.ExecStack {
		t.Error("ExecStack with a RW PT_GNU_STACK")
	}

	// Linux on x86-64 (5.8+) gives a non-executable stack when
	// PT_GNU_STACK is missing, and an executable one for PF_X.
	noStack := mkELF(0x400100, 0x3000, ptLoad(0, 0x400000, 0x1800, 0x1800, elf.PF_R|elf.PF_X))
	img, err = Parse(bytes.NewReader(noStack), int64(len(noStack)), 0)
	if err != nil || img.ExecStack {
		t.Errorf("no PT_GNU_STACK: ExecStack=%v err=%v", img != nil && img.ExecStack, err)
	}
	xStack := mkELF(0x400100, 0x3000, ptLoad(0, 0x400000, 0x1800, 0x1800, elf.PF_R|elf.PF_X),
		elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W | elf.PF_X)})
	img, err = Parse(bytes.NewReader(xStack), int64(len(xStack)), 0)
	if err != nil || !img.ExecStack {
		t.Errorf("PF_X PT_GNU_STACK: ExecStack=%v err=%v", img != nil && img.ExecStack, err)
	}

	// PT_PHDR wins over the computed address.
	withPhdr := mkELF(0x400100, 0x3000,
		elf.Prog64{Type: uint32(elf.PT_PHDR), Flags: uint32(elf.PF_R), Off: 64, Vaddr: 0x400040, Filesz: 112, Memsz: 112},
		ptLoad(0, 0x400000, 0x1800, 0x1800, elf.PF_R|elf.PF_X))
	// Make it ET_DYN to check the bias is applied everywhere.
	binary.LittleEndian.PutUint16(withPhdr[16:], uint16(elf.ET_DYN))
	img, err = Parse(bytes.NewReader(withPhdr), int64(len(withPhdr)), elfTestBias)
	if err != nil {
		t.Fatal(err)
	}
	if img.Phdr != 0x400040+elfTestBias || img.Entry != 0x400100+elfTestBias || img.Segments[0].Vaddr != 0x400000+elfTestBias {
		t.Errorf("biased image wrong: %+v", img)
	}
	if _, err := Parse(bytes.NewReader(withPhdr), int64(len(withPhdr)), elfTestBias+1); err == nil {
		t.Error("unaligned bias accepted")
	}
}

func patchCopy(b []byte, f func([]byte)) []byte {
	b = bytes.Clone(b)
	f(b)
	return b
}

type badCase struct {
	name string
	data []byte
	want error  // error kind
	msg  string // substring of the message, if not empty
}

// badInputs are malformed files that need no compiler.
func badInputs() []badCase {
	le := binary.LittleEndian
	valid := validSynth()
	rx := elf.PF_R | elf.PF_X
	return []badCase{
		{"empty", nil, ErrNotELF, "not an ELF executable"},
		{"text", []byte("#!/bin/sh\necho hello\n"), ErrNotELF, ""},
		{"magic-only", []byte("\x7fELF"), ErrCorrupt, ""},
		{"truncated-ident", valid[:10], ErrCorrupt, ""},
		{"truncated-header", valid[:40], ErrCorrupt, "truncated"},
		{"truncated-phdrs", valid[:64+70], ErrCorrupt, "program headers"},
		{"elf32", patchCopy(valid, func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), ErrNotX86_64, "32-bit"},
		{"bad-class", patchCopy(valid, func(b []byte) { b[elf.EI_CLASS] = 9 }), ErrCorrupt, ""},
		{"big-endian", patchCopy(valid, func(b []byte) { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB) }), ErrNotX86_64, "big-endian"},
		{"aarch64", patchCopy(valid, func(b []byte) { le.PutUint16(b[18:], uint16(elf.EM_AARCH64)) }), ErrNotX86_64,
			"ELF for another machine (EM_AARCH64)"},
		{"relocatable", patchCopy(valid, func(b []byte) { le.PutUint16(b[16:], uint16(elf.ET_REL)) }), ErrNotELF, "ET_REL"},
		{"core", patchCopy(valid, func(b []byte) { le.PutUint16(b[16:], uint16(elf.ET_CORE)) }), ErrNotELF, ""},
		{"interp-not-nul-terminated", mkELF(0x400100, 0x3000,
			elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 0x200, Filesz: 8},
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx)), ErrInterp, "not NUL-terminated"},
		{"interp-too-long", mkELF(0x400100, 0x3000,
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx),
			elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 0, Filesz: 4097}), ErrInterp, "4097 bytes"},
		{"interp-too-short", mkELF(0x400100, 0x3000,
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx),
			elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 0x200, Filesz: 1}), ErrInterp, "1 bytes"},
		{"interp-past-eof", mkELF(0x400100, 0x3000,
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx),
			elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 1 << 60, Filesz: 100}), ErrInterpRead, ""},
		{"filesz>memsz", mkELF(0x400100, 0x3000, ptLoad(0, 0x400000, 0x1800, 0x1000, rx)), ErrCorrupt, "exceeds memory size"},
		{"offset-past-eof", mkELF(0x400100, 0x3000, ptLoad(0x10000, 0x410000, 0x10, 0x10, rx)), ErrCorrupt,
			"truncated or corrupt ELF: segment 0 extends past end of file"},
		{"filesz-past-eof", mkELF(0x400100, 0x3000, ptLoad(0, 0x400000, 0x3001, 0x4000, rx)), ErrCorrupt, "past end of file"},
		{"offset-overflow", mkELF(0x400100, 0x3000, ptLoad(^uint64(0)-0xfff, 0x400000, 0x2000, 0x4000, rx)), ErrCorrupt, ""},
		{"entry-outside", mkELF(0x500000, 0x3000, ptLoad(0, 0x400000, 0x1800, 0x1800, rx)), ErrCorrupt, "entry point"},
		{"entry-in-data", mkELF(0x401900, 0x3000,
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx),
			ptLoad(0x1800, 0x401800, 0x800, 0x3000, elf.PF_R|elf.PF_W)), ErrCorrupt, "entry point"},
		{"phnum-absurd", patchCopy(valid, func(b []byte) { le.PutUint16(b[56:], 0xffff) }), ErrCorrupt, "too many program headers"},
		{"phnum-zero", patchCopy(valid, func(b []byte) { le.PutUint16(b[56:], 0) }), ErrCorrupt, "no program headers"},
		{"phnum-past-eof", patchCopy(valid, func(b []byte) { le.PutUint16(b[56:], 1000) }), ErrCorrupt, "past end of file"},
		{"phoff-huge", patchCopy(valid, func(b []byte) { le.PutUint64(b[32:], ^uint64(0)-10) }), ErrCorrupt, ""},
		{"phentsize", patchCopy(valid, func(b []byte) { le.PutUint16(b[54:], 32) }), ErrCorrupt, "entry size"},
		{"no-load", mkELF(0x400100, 0x3000, gnuStackRW), ErrCorrupt, "no loadable segments"},
		{"unsorted", mkELF(0x400100, 0x3000,
			ptLoad(0x1000, 0x401000, 0x100, 0x100, elf.PF_R),
			ptLoad(0, 0x400000, 0x200, 0x200, rx)), ErrCorrupt, "precedes"},
		{"overlap", mkELF(0x400100, 0x3000,
			ptLoad(0, 0x400000, 0x1800, 0x1800, rx),
			ptLoad(0x1000, 0x401000, 0x900, 0x900, elf.PF_R)), ErrCorrupt, "overlaps"},
		{"kernel-half", mkELF(0xffffffff80000100, 0x3000, ptLoad(0, 0xffffffff80000000, 0x1000, 0x1000, rx)), ErrCorrupt, "user address space"},
		{"end-past-user", mkELF(0x7ffffffff000-0x1000, 0x3000, ptLoad(0, 0x7ffffffff000-0x1000, 0x1000, 0x2000, rx)), ErrCorrupt, "user address space"},
		{"memsz-overflow", mkELF(0x400100, 0x3000, ptLoad(0, 0x400000, 0x1000, ^uint64(0)-0x1000, rx)), ErrCorrupt, ""},
		{"huge-span", mkELF(0x400100, 0x3000,
			ptLoad(0, 0x400000, 0x1000, 0x1000, rx),
			ptLoad(0x1000, 0x600000001000, 0x1000, 0x1000, elf.PF_R)), ErrCorrupt, "span"},
		{"align-not-pow2", mkELF(0x400100, 0x3000, func() elf.Prog64 {
			p := ptLoad(0, 0x400000, 0x1000, 0x1000, rx)
			p.Align = 0x3000
			return p
		}()), ErrCorrupt, "power of two"},
		{"offset-vaddr-mismatch", mkELF(0x400100, 0x3000, ptLoad(0x10, 0x400000, 0x1000, 0x1000, rx)), ErrCorrupt, "within a page"},
	}
}

// gccBadInputs are malformed files derived from real binaries.
func gccBadInputs(t testing.TB) []badCase {
	static := gccBuild(t, helloC, "-static")
	dynamic := gccBuild(t, helloC)
	return []badCase{
		{"gcc-aarch64", patchCopy(static, func(b []byte) { binary.LittleEndian.PutUint16(b[18:], uint16(elf.EM_AARCH64)) }),
			ErrNotX86_64, "ELF for another machine (EM_AARCH64)"},
		{"gcc-dynamic-interp-unterminated", patchCopy(dynamic, func(b []byte) {
			i := bytes.Index(b, []byte("/lib64/ld-linux-x86-64.so.2\x00"))
			if i < 0 {
				t.Fatal("no interpreter string in gcc's output")
			}
			b[i+len("/lib64/ld-linux-x86-64.so.2")] = 'X'
		}), ErrInterp, "not NUL-terminated"},
		{"gcc-truncated", static[:len(static)/2], ErrCorrupt, "past end of file"},
		{"gcc-elf32", patchCopy(static, func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), ErrNotX86_64, ""},
	}
}

func checkBad(t *testing.T, tc badCase) {
	t.Helper()
	img, err := Parse(bytes.NewReader(tc.data), int64(len(tc.data)), elfTestBias)
	if err == nil {
		t.Fatalf("Parse succeeded: %+v", img)
	}
	if !errors.Is(err, tc.want) {
		t.Errorf("error %q is not %q", err, tc.want)
	}
	if !strings.Contains(err.Error(), tc.msg) {
		t.Errorf("error %q does not mention %q", err, tc.msg)
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range badInputs() {
		t.Run(tc.name, func(t *testing.T) { checkBad(t, tc) })
	}
	t.Run("gcc", func(t *testing.T) {
		for _, tc := range gccBadInputs(t) {
			t.Run(tc.name, func(t *testing.T) { checkBad(t, tc) })
		}
	})
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) ReadAt([]byte, int64) (int, error) { return 0, r.err }

func TestReadErrors(t *testing.T) {
	ioErr := errors.New("disk on fire")
	_, err := Parse(errReader{ioErr}, 4096, 0)
	if !errors.Is(err, ioErr) || errors.Is(err, ErrCorrupt) {
		t.Errorf("Parse I/O error = %v", err)
	}

	// The file shrinks between Parse and Load.
	file := validSynth()
	img, err := Parse(bytes.NewReader(file), int64(len(file)), 0)
	if err != nil {
		t.Fatal(err)
	}
	err = Load(bytes.NewReader(file[:0x1900]), img, pageMem{})
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of a shrunken file: %v", err)
	}
	err = Load(errReader{ioErr}, img, pageMem{})
	if !errors.Is(err, ioErr) {
		t.Errorf("Load I/O error = %v", err)
	}
}

func TestLoadRejectsBadImage(t *testing.T) {
	for _, segs := range [][]Segment{
		{{Vaddr: 0x400000, Memsz: 0x1000, Filesz: 0x2000}},
		{{Vaddr: 0x400000, Memsz: 0}},
		{{Vaddr: 0x401000, Memsz: 0x1000}, {Vaddr: 0x400000, Memsz: 0x1000}},
		{{Vaddr: 0x400000, Memsz: 0x2000}, {Vaddr: 0x401000, Memsz: 0x1000}},
		{{Vaddr: ^uint64(0) - 0xfff, Memsz: 0x1000}},
		{{Vaddr: 0x400000, Memsz: 0x1000, Filesz: 0x10, Offset: 1 << 63}},
	} {
		if err := Load(bytes.NewReader(nil), &Image{Segments: segs}, pageMem{}); err == nil {
			t.Errorf("Load accepted %+v", segs)
		}
	}
}

// rangeMem is a Memory that only records ranges, so fuzzed images with
// huge bss cost nothing. It checks the same rules as pageMem.
type rangeMem struct {
	maps    []segMap
	written uint64
}

func (m *rangeMem) MapAnon(addr, length uint64, prot int) error {
	if addr%elfPage != 0 || length%elfPage != 0 || length == 0 || addr+length < addr {
		return fmt.Errorf("bad map [%#x, +%#x)", addr, length)
	}
	for _, o := range m.maps {
		if addr < o.addr+o.length && o.addr < addr+length {
			return fmt.Errorf("[%#x, +%#x) mapped twice", addr, length)
		}
	}
	m.maps = append(m.maps, segMap{addr, length, prot})
	return nil
}

func (m *rangeMem) WriteAt(addr uint64, data []byte) error {
	for end := addr + uint64(len(data)); addr < end; {
		i := sort.Search(len(m.maps), func(i int) bool { return m.maps[i].addr+m.maps[i].length > addr })
		if i == len(m.maps) || m.maps[i].addr > addr {
			return fmt.Errorf("write to unmapped %#x", addr)
		}
		addr = m.maps[i].addr + m.maps[i].length
	}
	m.written += uint64(len(data))
	return nil
}

// FuzzParse checks that Parse never panics, classifies every error, and
// only returns images Load can place. Go's minimizer is slow on the 12 KiB
// seeds; use -fuzzminimizetime=2s to keep long runs moving.
func FuzzParse(f *testing.F) {
	f.Add(validSynth())
	for _, tc := range badInputs() {
		f.Add(tc.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Parse(bytes.NewReader(data), int64(len(data)), elfTestBias)
		if err != nil {
			if !errors.Is(err, ErrNotELF) && !errors.Is(err, ErrNotX86_64) &&
				!errors.Is(err, ErrInterp) && !errors.Is(err, ErrInterpRead) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error of unknown kind: %v", err)
			}
			return
		}
		if err := checkSegments(img.Segments); err != nil {
			t.Fatalf("Parse returned a bad image: %v", err)
		}
		segs := img.Segments
		last := segs[len(segs)-1]
		if last.Vaddr+last.Memsz-elfPageDown(segs[0].Vaddr) > maxImageSpan || img.BrkStart != elfPageUp(last.Vaddr+last.Memsz) {
			t.Fatalf("bad span or brk: %+v", img)
		}
		if !inExec(segs, img.Entry) {
			t.Fatalf("entry %#x outside executable segments", img.Entry)
		}
		var filesz uint64
		for _, s := range segs {
			if s.Offset+s.Filesz > uint64(len(data)) {
				t.Fatalf("segment past EOF: %+v", s)
			}
			filesz += s.Filesz
		}
		mem := &rangeMem{}
		if err := Load(bytes.NewReader(data), img, mem); err != nil {
			t.Fatalf("Load after successful Parse: %v", err)
		}
		if mem.written != filesz {
			t.Fatalf("wrote %d bytes, want %d", mem.written, filesz)
		}
	})
}

// Compile-time check that the fakes satisfy Memory.
var (
	_ Memory      = pageMem{}
	_ Memory      = (*rangeMem)(nil)
	_ io.ReaderAt = errReader{}
)
