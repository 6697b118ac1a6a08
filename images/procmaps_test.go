package images

// /proc/self/maps of a dynamically linked program (python3): every file
// mapping's offset, and whether its device and inode are the file's own
// stat, natively and under kshim, byte for byte; and the offsets of
// libc.so.6's and the program's lines are those of their PT_LOAD segments
// (readelf -l), relro splits included. The static case is the
// differential row proc_maps_file.

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mapsScript prints, in address order, each maps line naming a file:
// name, permissions, offset, and whether dev:inode are os.stat's.
const mapsScript = `import os
for l in open('/proc/self/maps').read().splitlines():
    f = l.split(None, 5)
    if len(f) < 6 or not f[5].startswith('/') or f[5].endswith(' (deleted)'):
        continue
    st = os.stat(f[5])
    maj, mn = (int(x, 16) for x in f[3].split(':'))
    same = os.major(st.st_dev) == maj and os.minor(st.st_dev) == mn and st.st_ino == int(f[4])
    print(f[5], f[1], f[2], 'stat' if same else 'not stat: ' + f[3] + ' ' + f[4])
`

func TestProcMapsDynamic(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	py := lookHost(t, "python3")
	argv := []string{py, "-c", mapsScript}
	native := runNative(argv, baseEnv, "")
	if native.exit != 0 || native.err != nil {
		t.Fatalf("native: %s\n%s", native.status(), native.stderr)
	}
	got := run(append([]string{kshim, "run"}, argv...), baseEnv, "")
	compare(t, "kshim", native, got, false)

	// The offsets against the ELF program headers, for libc and for the
	// program itself (whose .data kshim copies at load).
	byFile := map[string][]uint64{}
	for _, l := range strings.Split(strings.TrimSpace(string(got.stdout)), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		off, err := strconv.ParseUint(f[2], 16, 64)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		byFile[f[0]] = append(byFile[f[0]], off)
	}
	checked := 0
	for name, offs := range byFile {
		if !strings.HasSuffix(name, "/libc.so.6") && !strings.Contains(name, "/python3") {
			continue
		}
		checked++
		ef, err := elf.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var loads []*elf.Prog
		for _, p := range ef.Progs {
			if p.Type == elf.PT_LOAD && p.Filesz > 0 {
				loads = append(loads, p)
			}
		}
		ef.Close()
		have := map[uint64]bool{}
		for _, o := range offs {
			have[o] = true
			in := false
			for _, p := range loads {
				in = in || o >= p.Off&^0xfff && o < p.Off+p.Filesz
			}
			if !in {
				t.Errorf("%s: a mapping at file offset %#x, in no PT_LOAD segment", name, o)
			}
		}
		for _, p := range loads {
			if !have[p.Off&^0xfff] {
				t.Errorf("%s: no mapping starts at PT_LOAD offset %#x (page of %#x); got %x", name, p.Off&^0xfff, p.Off, offs)
			}
		}
	}
	if checked < 2 {
		t.Errorf("libc.so.6 and the program not both in maps:\n%s", got.stdout)
	}
}

// TestProcMapsHidden runs proc_maps_file from outside the guest's root,
// whose file the guest cannot name or stat: its segments show no name,
// offset, device or inode (as anonymous memory), nothing of the host file;
// a copy inside the root shows its guest name, its segments' offsets and
// the copy's device and inode (the host's, which the guest's stat gives).
func TestProcMapsHidden(t *testing.T) {
	kshim, dir := paths(t)
	prog := filepath.Join(dir, "proc_maps_file")
	requireFile(t, kshim)
	requireFile(t, prog)
	root := guestTempDir(t)
	for _, d := range []string{"proc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(root, "prog")
	if err := os.WriteFile(inside, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// The lines of the program's segments: the first ones, below the heap
	// (a static non-PIE program).
	segments := func(out []byte) []string {
		var segs []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "00") && !strings.Contains(l, "[") {
				segs = append(segs, strings.SplitN(l, " ", 2)[1])
			}
		}
		return segs
	}
	out := run([]string{kshim, "run", "--root", root, prog, "dump"}, baseEnv, "")
	if out.exit != 0 || out.err != nil {
		t.Fatalf("outside the root: %s\n%s", out.status(), out.stderr)
	}
	segs := segments(out.stdout)
	if len(segs) == 0 {
		t.Fatalf("no segment lines:\n%s", out.stdout)
	}
	for _, s := range segs {
		if f := strings.Fields(s); len(f) != 4 || f[1] != "00000000" || f[2] != "00:00" || f[3] != "0" {
			t.Errorf("a segment of a program outside the root shows %q, want no offset, device, inode or name", s)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(inside, &st); err != nil {
		t.Fatal(err)
	}
	devino := fmt.Sprintf("%02x:%02x %d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	out = run([]string{kshim, "run", "--root", root, inside, "dump"}, baseEnv, "")
	if out.exit != 0 || out.err != nil {
		t.Fatalf("inside the root: %s\n%s", out.status(), out.stderr)
	}
	segs = segments(out.stdout)
	offs := map[string]bool{}
	for _, s := range segs {
		f := strings.Fields(s)
		if len(f) == 4 && f[1]+" "+f[2]+" "+f[3] == "00000000 00:00 0" {
			continue // the bss past the last file page: anonymous
		}
		if len(f) != 5 || f[2]+" "+f[3] != devino || f[4] != "/prog" {
			t.Errorf("a segment of /prog shows %q, want %s /prog", s, devino)
			continue
		}
		offs[f[1]] = true
	}
	if len(segs) < 3 || len(offs) < 3 {
		t.Errorf("want the segments' distinct offsets, got:\n%s", strings.Join(segs, "\n"))
	}
}
