// Tests for the initial stack: build one, then read it back the way a
// program's startup code does, and (with gcc) compare the layout with the one
// the host kernel builds for a real process.

package boot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// parsedStack is what a process finds on its initial stack.
type parsedStack struct {
	argv, envp []string
	argvAddr   []uint64
	envpAddr   []uint64
	aux        []Aux // without AT_NULL
	auxEnd     uint64
}

// stackReader reads guest memory [sp, sp+len(data)).
type stackReader struct {
	t    *testing.T
	sp   uint64
	data []byte
}

func (r stackReader) u64(addr uint64) uint64 {
	r.t.Helper()
	if addr < r.sp || addr-r.sp+8 > uint64(len(r.data)) {
		r.t.Fatalf("read of %#x outside the stack [%#x, %#x)", addr, r.sp, r.sp+uint64(len(r.data)))
	}
	return binary.LittleEndian.Uint64(r.data[addr-r.sp:])
}

func (r stackReader) bytes(addr, n uint64) []byte {
	r.t.Helper()
	if addr < r.sp || addr-r.sp+n > uint64(len(r.data)) {
		r.t.Fatalf("read of [%#x, +%d) outside the stack", addr, n)
	}
	return r.data[addr-r.sp : addr-r.sp+n]
}

func (r stackReader) cstring(addr uint64) string {
	r.t.Helper()
	if addr < r.sp || addr-r.sp >= uint64(len(r.data)) {
		r.t.Fatalf("string at %#x outside the stack", addr)
	}
	b := r.data[addr-r.sp:]
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		r.t.Fatalf("unterminated string at %#x", addr)
	}
	return string(b[:i])
}

func (r stackReader) parse() parsedStack {
	r.t.Helper()
	var ps parsedStack
	w := r.sp
	argc := r.u64(w)
	w += 8
	if argc > uint64(len(r.data)) {
		r.t.Fatalf("argc %d", argc)
	}
	for i := uint64(0); i < argc; i++ {
		a := r.u64(w)
		ps.argvAddr = append(ps.argvAddr, a)
		ps.argv = append(ps.argv, r.cstring(a))
		w += 8
	}
	if r.u64(w) != 0 {
		r.t.Fatal("argv not NULL-terminated")
	}
	w += 8
	for a := r.u64(w); a != 0; a = r.u64(w) {
		ps.envpAddr = append(ps.envpAddr, a)
		ps.envp = append(ps.envp, r.cstring(a))
		w += 8
	}
	w += 8
	for typ := r.u64(w); typ != AT_NULL; typ = r.u64(w) {
		ps.aux = append(ps.aux, Aux{typ, r.u64(w + 8)})
		w += 16
	}
	ps.auxEnd = w + 16
	return ps
}

func auxVal(t *testing.T, aux []Aux, typ uint64) uint64 {
	t.Helper()
	for _, a := range aux {
		if a.Type == typ {
			return a.Val
		}
	}
	t.Fatalf("auxv has no entry %d", typ)
	return 0
}

const stackTestTop = 0x7ffffffff000

func stackTestImage() *Image {
	return &Image{Entry: 0x401bc0, Phdr: 0x400040, Phent: 56, Phnum: 10}
}

func TestBuildRoundTrip(t *testing.T) {
	var random [16]byte
	for i := range random {
		random[i] = byte(0xa0 + i)
	}
	// Vary one string's length so every alignment case is hit.
	for pad := 0; pad < 40; pad++ {
		spec := StackSpec{
			Top:      stackTestTop,
			Argv:     []string{"/bin/prog", "-x", strings.Repeat("y", pad), ""},
			Envp:     []string{"HOME=/root", "PATH=/bin:/usr/bin", ""},
			ExecFn:   "/bin/prog",
			Platform: "x86_64",
			Random:   random,
			Aux:      DefaultAux(stackTestImage(), 1000, 100, 0x178bfbff, 2),
			// A different arch_align_stack shift each time, 0 and
			// the largest included.
			AlignShift: uint64(pad*211) % MaxAlignShift,
		}
		if pad == 39 {
			spec.AlignShift = MaxAlignShift - 1
		}
		sp, data, err := spec.Build()
		if err != nil {
			t.Fatal(err)
		}
		if sp%16 != 0 {
			t.Fatalf("pad %d: sp %#x not 16-byte aligned", pad, sp)
		}
		if sp+uint64(len(data)) != stackTestTop {
			t.Fatalf("pad %d: data ends at %#x, want Top", pad, sp+uint64(len(data)))
		}
		r := stackReader{t, sp, data}
		ps := r.parse()
		if !sameStrings(ps.argv, spec.Argv) || !sameStrings(ps.envp, spec.Envp) {
			t.Fatalf("pad %d: argv %q envp %q", pad, ps.argv, ps.envp)
		}

		// Linux's order: the caller's entries with AT_RANDOM after
		// AT_SECURE (before AT_HWCAP2), then AT_EXECFN, AT_PLATFORM.
		if len(ps.aux) != len(spec.Aux)+3 {
			t.Fatalf("pad %d: %d aux entries", pad, len(ps.aux))
		}
		var types []uint64
		for _, a := range ps.aux {
			types = append(types, a.Type)
		}
		want := []uint64{AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY,
			AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM}
		if fmt.Sprint(types) != fmt.Sprint(want) {
			t.Errorf("auxv types %v, want %v", types, want)
		}
		for _, a := range spec.Aux {
			if auxVal(t, ps.aux, a.Type) != a.Val {
				t.Errorf("aux %d = %#x, want %#x", a.Type, auxVal(t, ps.aux, a.Type), a.Val)
			}
		}
		if got := r.bytes(auxVal(t, ps.aux, AT_RANDOM), 16); !bytes.Equal(got, random[:]) {
			t.Errorf("AT_RANDOM bytes %x", got)
		}
		execfn := auxVal(t, ps.aux, AT_EXECFN)
		if got := r.cstring(execfn); got != spec.ExecFn {
			t.Errorf("AT_EXECFN = %q", got)
		}
		if got := r.cstring(auxVal(t, ps.aux, AT_PLATFORM)); got != "x86_64" {
			t.Errorf("AT_PLATFORM = %q", got)
		}

		// Linux layout: zero word at the top, execfn below it, strings
		// contiguous below that with argv[0] lowest.
		if r.u64(stackTestTop-8) != 0 {
			t.Error("no zero word at the top")
		}
		if execfn != stackTestTop-8-uint64(len(spec.ExecFn))-1 {
			t.Errorf("execfn at %#x", execfn)
		}
		next := ps.argvAddr[0]
		for i, a := range append(ps.argvAddr, ps.envpAddr...) {
			if a != next {
				t.Fatalf("string %d at %#x, want %#x", i, a, next)
			}
			next += uint64(len(r.cstring(a))) + 1
		}
		if next != execfn {
			t.Errorf("strings end at %#x, execfn at %#x", next, execfn)
		}
		if plat, rnd := auxVal(t, ps.aux, AT_PLATFORM), auxVal(t, ps.aux, AT_RANDOM); plat != rnd+16 ||
			plat+uint64(len("x86_64"))+1 != (ps.argvAddr[0]-spec.AlignShift)&^15 || rnd < ps.auxEnd || rnd-ps.auxEnd >= 16 {
			t.Errorf("platform %#x random %#x auxv end %#x argv[0] %#x", plat, rnd, ps.auxEnd, ps.argvAddr[0])
		}
	}
}

func sameStrings(a, b []string) bool {
	return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b)
}

func TestBuildShiftBounds(t *testing.T) {
	spec := StackSpec{Top: stackTestTop, ExecFn: "/x", AlignShift: MaxAlignShift}
	if _, _, err := spec.Build(); err == nil {
		t.Error("a shift of MaxAlignShift was accepted")
	}
	aux := DefaultAux(stackTestImage(), 0, 0, 0, 0)
	if !SetAux(aux, AT_BASE, 0x7f0000000000) || auxVal(t, aux, AT_BASE) != 0x7f0000000000 {
		t.Error("SetAux(AT_BASE) did not take")
	}
	if SetAux(aux, AT_SYSINFO_EHDR, 1) {
		t.Error("SetAux set an entry DefaultAux does not have")
	}
}

func TestBuildEmptyArgvNoPlatform(t *testing.T) {
	spec := StackSpec{Top: stackTestTop, ExecFn: "/x"}
	sp, data, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	r := stackReader{t, sp, data}
	ps := r.parse()
	if len(ps.argv) != 1 || ps.argv[0] != "" || len(ps.envp) != 0 {
		t.Errorf("argv %q envp %q, want [\"\"] []", ps.argv, ps.envp)
	}
	for _, a := range ps.aux {
		if a.Type == AT_PLATFORM {
			t.Error("AT_PLATFORM without a platform")
		}
	}
	if r.cstring(auxVal(t, ps.aux, AT_EXECFN)) != "/x" {
		t.Error("bad AT_EXECFN")
	}
}

func TestBuildErrors(t *testing.T) {
	big := strings.Repeat("a", 100000)
	many := make([]string, 30)
	for i := range many {
		many[i] = big // 3 MB in total
	}
	for _, tc := range []struct {
		name string
		spec StackSpec
		want error
	}{
		{"argv-total", StackSpec{Top: stackTestTop, Argv: many}, unix.E2BIG},
		{"envp-total", StackSpec{Top: stackTestTop, Argv: []string{"x"}, Envp: many}, unix.E2BIG},
		{"one-long-arg", StackSpec{Top: stackTestTop, Argv: []string{strings.Repeat("a", 200000)}}, unix.E2BIG},
		{"many-empty-args", StackSpec{Top: stackTestTop, Argv: make([]string, 300000)}, unix.E2BIG},
		{"nul-in-arg", StackSpec{Top: stackTestTop, Argv: []string{"a\x00b"}}, unix.EINVAL},
		{"nul-in-execfn", StackSpec{Top: stackTestTop, ExecFn: "a\x00"}, unix.EINVAL},
		{"nul-in-platform", StackSpec{Top: stackTestTop, Platform: "x\x00"}, unix.EINVAL},
		{"top-unaligned", StackSpec{Top: stackTestTop - 8}, nil},
		{"top-zero", StackSpec{Top: 0, Argv: []string{"x"}}, nil},
		{"top-too-low", StackSpec{Top: 4096, Argv: []string{big}}, nil},
		{"aux-null", StackSpec{Top: stackTestTop, Aux: []Aux{{AT_NULL, 0}}}, nil},
		{"aux-random", StackSpec{Top: stackTestTop, Aux: []Aux{{AT_RANDOM, 1}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, data, err := tc.spec.Build()
			if err == nil {
				t.Fatalf("Build succeeded: sp %#x, %d bytes", sp, len(data))
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
		})
	}

	// Just under the limit works.
	ok := many[:20]
	if _, _, err := (&StackSpec{Top: stackTestTop, Argv: ok}).Build(); err != nil {
		t.Errorf("2 MB minus a bit: %v", err)
	}
}

const stackDumpC = `#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv, char **envp) {
	char **e = envp;
	while (*e) e++;
	uintptr_t execfn = 0, rnd = 0, plat = 0, auxend;
	Elf64_auxv_t *a = (Elf64_auxv_t *)(e + 1);
	for (; a->a_type != AT_NULL; a++) {
		if (a->a_type == AT_EXECFN) execfn = a->a_un.a_val;
		if (a->a_type == AT_RANDOM) rnd = a->a_un.a_val;
		if (a->a_type == AT_PLATFORM) plat = a->a_un.a_val;
	}
	auxend = (uintptr_t)(a + 1);
	printf("spmod %lu\n", (unsigned long)((uintptr_t)(argv - 1) % 16));
	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++) printf("str %ld\n", (long)(execfn - (uintptr_t)argv[i]));
	for (int i = 0; envp[i]; i++) printf("str %ld\n", (long)(execfn - (uintptr_t)envp[i]));
	printf("platrnd %ld\n", (long)(plat - rnd));
	printf("rndaux %d\n", rnd >= auxend);
	FILE *f = fopen("/proc/self/maps", "r");
	char l[512];
	unsigned long lo, hi;
	while (f && fgets(l, sizeof l, f))
		if (strstr(l, "[stack]") && sscanf(l, "%lx-%lx", &lo, &hi) == 2)
			printf("top %ld\n", (long)(hi - execfn));
	return 0;
}
`

// stackFacts summarizes a layout in terms that do not depend on the
// kernel's random stack placement.
func stackFacts(argc int, execfn, rnd, plat, auxEnd, top uint64, sp uint64, strs []uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "spmod %d\nargc %d\n", sp%16, argc)
	for _, s := range strs {
		fmt.Fprintf(&b, "str %d\n", execfn-s)
	}
	rndaux := 0
	if rnd >= auxEnd {
		rndaux = 1
	}
	fmt.Fprintf(&b, "platrnd %d\nrndaux %d\ntop %d\n", plat-rnd, rndaux, top-execfn)
	return b.String()
}

// TestBuildMatchesLinux runs a static program under the host kernel and
// checks that the position of every string relative to AT_EXECFN and to the
// stack top, and the alignment of sp, match what Build produces.
func TestBuildMatchesLinux(t *testing.T) {
	bin := gccBuild(t, stackDumpC, "-static")
	dir := t.TempDir()
	path := dir + "/stackdump"
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ argv, envp []string }{
		{[]string{"stackdump"}, []string{"A=1"}},
		{[]string{"prog", "one", "two three", ""}, []string{"HOME=/", "X=" + strings.Repeat("z", 37), "E="}},
		{[]string{"a", "bb", "ccc", "dddd", "eeeee"}, nil},
	} {
		cmd := exec.Command(path)
		cmd.Args = tc.argv
		cmd.Env = tc.envp
		if cmd.Env == nil {
			cmd.Env = []string{}
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("running %s: %v", path, err)
		}

		spec := StackSpec{Top: stackTestTop, Argv: tc.argv, Envp: tc.envp, ExecFn: path, Platform: "x86_64",
			Aux: DefaultAux(stackTestImage(), 0, 0, 0, 0)}
		sp, data, err := spec.Build()
		if err != nil {
			t.Fatal(err)
		}
		r := stackReader{t, sp, data}
		ps := r.parse()
		got := stackFacts(len(ps.argv), auxVal(t, ps.aux, AT_EXECFN), auxVal(t, ps.aux, AT_RANDOM),
			auxVal(t, ps.aux, AT_PLATFORM), ps.auxEnd, stackTestTop, sp, append(ps.argvAddr, ps.envpAddr...))
		if got != normalizeFacts(string(out)) {
			t.Errorf("argv %q envp %q:\nBuild:\n%s\nLinux:\n%s", tc.argv, tc.envp, got, out)
		}
	}
}

// normalizeFacts keeps the lines stackFacts produces, in order.
func normalizeFacts(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			if _, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				b.WriteString(sc.Text() + "\n")
			}
		}
	}
	return b.String()
}
