package images

// Address-space layout randomization: build/images/aslr (static), aslr_spie
// (static-pie) and aslr_dyn (dynamically linked PIE) print the addresses
// ASLR moves. The same statistics are computed over several runs natively
// and under kshim: which fields vary, over how many bits, inside which
// ranges; with randomization off (`kshim run --no-aslr`, or
// personality(ADDR_NO_RANDOMIZE) then execve, as `setarch -R`) two runs
// must agree, and agree with native Linux's fixed layout where kshim's
// layout is Linux's (everything but the vDSO's size).

import (
	"math/bits"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	userTop    = 0x7ffffffff000
	etDynBase  = 0x555555554000
	aslrRuns   = 6
	tib        = uint64(1) << 40
	gib        = uint64(1) << 30
	stackRange = 16*gib + 16<<10 // STACK_RND_MASK pages plus the sub-page shifts
)

// aslrOut is one run's NAME=value lines.
type aslrOut map[string]string

func (o aslrOut) addr(t *testing.T, name string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(o[name], "0x"), 16, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, o[name], err)
	}
	return v
}

func runASLR(t *testing.T, argv []string) aslrOut {
	t.Helper()
	r := run(argv, baseEnv, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
		t.Fatalf("%q: %s\nstdout:\n%s\nstderr:\n%s", argv, r.status(), clip(r.stdout), clip(r.stderr))
	}
	out := aslrOut{}
	for _, l := range strings.Split(strings.TrimSpace(string(r.stdout)), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%q: bad line %q", argv, l)
		}
		out[k] = v
	}
	return out
}

// field says how one printed address is randomized on Linux x86-64.
type field struct {
	name string
	// minTopBit: the highest bit that differs between runs is at least
	// this (the range is 2^(minTopBit+k)); 0: the field is fixed.
	minTopBit int
	// subPage: some bit below 12 varies (the stack's sub-page shift).
	subPage bool
	// lo, hi bound every value (0, 0: unchecked).
	lo, hi uint64
}

func aslrFields(bin string) []field {
	mmapLo := userTop - 16*gib - 9<<20 - tib - gib
	mmapHi := userTop - 16*gib
	stack := []field{
		{"stack", 28, true, userTop - stackRange - 1<<20, userTop},
		{"argv0", 28, false, userTop - stackRange, userTop},
		{"execfn", 28, false, userTop - stackRange, userTop},
		{"random", 28, true, userTop - stackRange, userTop},
		{"mmap", 32, false, mmapLo, mmapHi},
		{"vdso", 32, false, mmapLo, mmapHi},
	}
	switch bin {
	case "aslr": // ET_EXEC: fixed code, brk after .bss plus up to 1 GiB
		return append(stack, field{"main", 0, false, 0x400000, 0x500000},
			field{"brk", 24, false, 0x400000, 0x500000 + gib + 1<<20})
	case "aslr_spie": // in the mmap area; brk moved to ELF_ET_DYN_BASE
		return append(stack, field{"main", 32, false, mmapLo, mmapHi},
			field{"brk", 24, false, etDynBase, etDynBase + gib + 1<<20})
	default: // PIE at ELF_ET_DYN_BASE + 28 bits of pages, ld.so in the mmap area
		return append(stack, field{"main", 32, false, etDynBase, etDynBase + tib + 1<<20},
			field{"brk", 32, false, etDynBase, etDynBase + tib + gib + 1<<20},
			field{"base", 32, false, mmapLo, mmapHi})
	}
}

// checkSpread applies Linux's randomization pattern to runs of one binary.
func checkSpread(t *testing.T, who, bin string, runs []aslrOut) {
	t.Helper()
	for _, f := range aslrFields(bin) {
		var diff uint64
		first := runs[0].addr(t, f.name)
		distinct := map[uint64]bool{}
		for _, r := range runs {
			v := r.addr(t, f.name)
			diff |= v ^ first
			distinct[v] = true
			if f.hi != 0 && (v < f.lo || v >= f.hi) {
				t.Errorf("%s: %s=%#x outside [%#x, %#x)", who, f.name, v, f.lo, f.hi)
			}
		}
		top := bits.Len64(diff) - 1
		switch {
		case f.minTopBit == 0 && diff != 0:
			t.Errorf("%s: %s varies (bits %#x) but is fixed on Linux", who, f.name, diff)
		case f.minTopBit != 0 && top < f.minTopBit:
			t.Errorf("%s: %s varies only up to bit %d over %d runs (want at least bit %d): %#x",
				who, f.name, top, len(runs), f.minTopBit, diff)
		case f.minTopBit != 0 && len(distinct) < len(runs)-1:
			t.Errorf("%s: %s took only %d values in %d runs", who, f.name, len(distinct), len(runs))
		}
		if f.subPage && diff&0xff0 == 0 {
			t.Errorf("%s: %s has no sub-page randomization over %d runs (%#x)", who, f.name, len(runs), diff)
		}
		if !f.subPage && f.minTopBit != 0 && f.name != "execfn" && f.name != "argv0" && diff&0xfff != 0 {
			t.Errorf("%s: %s varies below a page (%#x)", who, f.name, diff)
		}
	}
	if runs[0]["random_bytes"] == runs[1]["random_bytes"] {
		t.Errorf("%s: AT_RANDOM bytes repeat between runs: %s", who, runs[0]["random_bytes"])
	}
}

// TestASLR: several runs natively and under kshim show the same
// randomization: each field varies over the bits Linux varies, inside
// Linux's ranges (the native runs check the test's own expectations).
func TestASLR(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	for _, bin := range []string{"aslr", "aslr_spie", "aslr_dyn"} {
		t.Run(bin, func(t *testing.T) {
			path := filepath.Join(dir, bin)
			requireFile(t, path)
			var native, guest []aslrOut
			for i := 0; i < aslrRuns; i++ {
				native = append(native, runASLR(t, []string{path}))
				guest = append(guest, runASLR(t, []string{kshim, "run", path}))
			}
			checkSpread(t, "native", bin, native)
			checkSpread(t, "kshim", bin, guest)
			for _, g := range guest {
				if g["persona"] != "0" {
					t.Errorf("kshim: personality %s, want 0", g["persona"])
				}
			}
		})
	}
}

// fixedFields are the addresses kshim's fixed layout shares with Linux's:
// all but the ones below the vDSO, which is smaller in kshim, and the
// stack pointer and AT_RANDOM, which depend on the auxv's length.
var fixedFields = []string{"execfn", "argv0", "main", "brk", "base"}

// TestNoASLR: with randomization off, by flag or by personality before
// execve, runs repeat their layout exactly, and it is Linux's.
func TestNoASLR(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	for _, bin := range []string{"aslr", "aslr_spie", "aslr_dyn"} {
		t.Run(bin, func(t *testing.T) {
			path := filepath.Join(dir, bin)
			launcher := filepath.Join(dir, "aslr")
			requireFile(t, path)
			native := runASLR(t, []string{launcher, "norandom-exec", path})
			if native["persona"] != "0x40000" {
				t.Fatalf("native: personality %s after personality(ADDR_NO_RANDOMIZE)", native["persona"])
			}
			for _, how := range []struct {
				name string
				argv []string
			}{
				{"flag", []string{kshim, "run", "--no-aslr", path}},
				{"personality", []string{kshim, "run", launcher, "norandom-exec", path}},
			} {
				a, b := runASLR(t, how.argv), runASLR(t, how.argv)
				for k := range a {
					if k != "random_bytes" && a[k] != b[k] {
						t.Errorf("%s: %s differs between runs: %s, %s", how.name, k, a[k], b[k])
					}
				}
				if a["random_bytes"] == b["random_bytes"] {
					t.Errorf("%s: AT_RANDOM bytes repeat: %s", how.name, a["random_bytes"])
				}
				if a["persona"] != "0x40000" {
					t.Errorf("%s: personality %s, want 0x40000 (ADDR_NO_RANDOMIZE)", how.name, a["persona"])
				}
				for _, k := range fixedFields {
					if a[k] != native[k] {
						t.Errorf("%s: %s=%s, native Linux without randomization %s", how.name, k, a[k], native[k])
					}
				}
				if a["vdso"] == "0" || a["mmap"] == "0" {
					t.Errorf("%s: vdso %s mmap %s", how.name, a["vdso"], a["mmap"])
				}
			}
		})
	}
}
