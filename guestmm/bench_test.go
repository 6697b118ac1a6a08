// bench_test.go: range-map operations on address spaces of 10k and 100k
// VMAs.
//
// The map is n VMAs of vmaPages pages each, packed just below MmapBase
// (where mmap without MAP_FIXED searches first), alternating PROT_READ and
// PROT_READ|PROT_WRITE so that no two neighbours merge. CheckAll is off
// (Check is O(mapped pages)). Run with
//
//	go test -run XXX -bench . -benchtime 2000x ./guestmm
package guestmm

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"

	"kshim/ept"
)

const vmaPages = 4

var benchSizes = []int{10_000, 100_000}

// benchMM builds an address space of n VMAs and returns it with the start
// of the block.
func benchMM(b *testing.B, n int) (*MM, uint64) {
	b.Helper()
	mem, err := ept.NewMemory(2 << 30) // lazily backed
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mem.Close() })
	area := make([]byte, 1<<20)
	q := ept.NewFlushQueue(area)
	q.Drain = func() error { binary.LittleEndian.PutUint64(area, 0); return nil }
	pt, err := ept.NewPageTable(mem, q, 0xffff888000000000)
	if err != nil {
		b.Fatal(err)
	}
	mm := New(mem, pt)
	base := uint64(MmapBase) - uint64(n)*vmaPages*PageSize
	for i := 0; i < n; i++ {
		if _, err := mm.Mmap(MmapArgs{Addr: benchVMA(base, i), Len: vmaPages * PageSize, Prot: benchProt(i),
			Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED}); err != nil {
			b.Fatal(err)
		}
	}
	if got := mm.Len(); got != n {
		b.Fatalf("built %d VMAs, want %d (neighbours merged?)", got, n)
	}
	return mm, base
}

func benchVMA(base uint64, i int) uint64 { return base + uint64(i)*vmaPages*PageSize }

func benchProt(i int) int {
	if i%2 == 0 {
		return unix.PROT_READ
	}
	return unix.PROT_READ | unix.PROT_WRITE
}

func forSizes(b *testing.B, f func(b *testing.B, mm *MM, base uint64, n int)) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vmas=%d", n), func(b *testing.B) {
			mm, base := benchMM(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			f(b, mm, base, n)
		})
	}
}

// FindVMA of random addresses inside the block (every one a hit).
func BenchmarkFindVMA(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		r := rand.New(rand.NewSource(1))
		addrs := make([]uint64, 4096)
		for i := range addrs {
			addrs[i] = base + uint64(r.Int63n(int64(n)*vmaPages))*PageSize
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, ok := mm.FindVMA(addrs[i%len(addrs)]); !ok {
				b.Fatal("miss")
			}
		}
	})
}

// mmap of two pages without MAP_FIXED (the free-range search: the block
// fills everything from MmapBase down), then munmap of it.
func BenchmarkMmapMunmap(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		for i := 0; i < b.N; i++ {
			a, err := mm.Mmap(MmapArgs{Len: 2 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS})
			if err != nil {
				b.Fatal(err)
			}
			if err := mm.Munmap(a, 2*PageSize); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The same search after a hole opens in the middle of the block that is
// too small for the request: each iteration unmaps a VMA in the middle,
// maps eight pages without MAP_FIXED (which do not fit the four-page hole),
// unmaps them and maps the VMA back. This defeats findFree's cache of where
// the last search ended.
func BenchmarkMmapAfterHole(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		mid := n / 2
		for i := 0; i < b.N; i++ {
			v := benchVMA(base, mid+i%64*2)
			if err := mm.Munmap(v, vmaPages*PageSize); err != nil {
				b.Fatal(err)
			}
			a, err := mm.Mmap(MmapArgs{Len: 8 * PageSize, Prot: unix.PROT_READ, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS})
			if err != nil {
				b.Fatal(err)
			}
			if a >= base {
				b.Fatalf("8 pages placed at %#x, inside the block", a)
			}
			if err := mm.Munmap(a, 8*PageSize); err != nil {
				b.Fatal(err)
			}
			if _, err := mm.Mmap(MmapArgs{Addr: v, Len: vmaPages * PageSize, Prot: benchProt(mid + i%64*2),
				Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A hole that opens and is filled again leaves findFree's cache with a
// stale bound on the holes above it (holeMax), so the next small mmap
// without MAP_FIXED searches from MmapBase again, down through the whole
// block: each iteration unmaps a VMA in the middle, maps it back with
// MAP_FIXED, then maps and unmaps two pages without MAP_FIXED.
func BenchmarkMmapAfterRefill(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		mid := n / 2
		for i := 0; i < b.N; i++ {
			j := mid + i%64
			v := benchVMA(base, j)
			if err := mm.Munmap(v, vmaPages*PageSize); err != nil {
				b.Fatal(err)
			}
			if _, err := mm.Mmap(MmapArgs{Addr: v, Len: vmaPages * PageSize, Prot: benchProt(j),
				Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED}); err != nil {
				b.Fatal(err)
			}
			a, err := mm.Mmap(MmapArgs{Len: 2 * PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE, Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS})
			if err != nil {
				b.Fatal(err)
			}
			if err := mm.Munmap(a, 2*PageSize); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// mprotect of one page in the middle of a VMA in the middle of the map
// (a split into three), then back (a merge into one).
func BenchmarkMprotectSplitRestore(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		mid := n / 2
		v := benchVMA(base, mid) + PageSize
		for i := 0; i < b.N; i++ {
			if err := mm.Mprotect(v, PageSize, unix.PROT_NONE); err != nil {
				b.Fatal(err)
			}
			if err := mm.Mprotect(v, PageSize, benchProt(mid)); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if got := mm.Len(); got != n {
			b.Fatalf("%d VMAs after the mprotects, want %d", got, n)
		}
	})
}

// munmap of a VMA in the middle of the map and mmap(MAP_FIXED) of it again.
func BenchmarkMunmapMmapFixed(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		mid := n / 2
		for i := 0; i < b.N; i++ {
			j := mid + i%64
			v := benchVMA(base, j)
			if err := mm.Munmap(v, vmaPages*PageSize); err != nil {
				b.Fatal(err)
			}
			if _, err := mm.Mmap(MmapArgs{Addr: v, Len: vmaPages * PageSize, Prot: benchProt(j),
				Flags: unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// HandleFault (a write) on a never-touched page: the last page of a VMA,
// so fault-around has nothing more to map and one fault is one page. The
// VMAs are visited in a scattered order; when all have been touched, the
// block is emptied with MADV_DONTNEED (off the clock).
func BenchmarkHandleFault(b *testing.B) {
	forSizes(b, func(b *testing.B, mm *MM, base uint64, n int) {
		order := rand.New(rand.NewSource(1)).Perm(n)
		for i := 0; i < b.N; i++ {
			if i > 0 && i%n == 0 {
				b.StopTimer()
				if err := mm.Madvise(base, uint64(n)*vmaPages*PageSize, unix.MADV_DONTNEED); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			j := order[i%n]
			acc := Write
			if benchProt(j)&unix.PROT_WRITE == 0 {
				acc = Read
			}
			if res, kind := mm.HandleFault(benchVMA(base, j)+(vmaPages-1)*PageSize, acc); res != Resolved || kind != KindDemandZero {
				b.Fatalf("fault: %v %v", res, kind)
			}
		}
	})
}
