// Command gcpressure: allocation churn that makes the garbage collector run
// many times (and return memory with madvise), on several threads.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

type node struct {
	next *node
	data [64]byte
}

func build(n int) *node {
	var h *node
	for i := 0; i < n; i++ {
		h = &node{next: h}
		h.data[0] = byte(i)
	}
	return h
}

func count(h *node) int {
	c := 0
	for ; h != nil; h = h.next {
		c++
	}
	return c
}

func main() {
	debug.SetGCPercent(20)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	sums := make([]int, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < 30; r++ {
				sums[w] += count(build(20000))
				_ = make([]byte, 1<<20)
			}
		}(w)
	}
	wg.Wait()
	runtime.GC()
	debug.FreeOSMemory()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Println("sums", sums)
	fmt.Println("gc ran several times:", after.NumGC-before.NumGC >= 5)
	m := map[string][]int{}
	for i := 0; i < 50000; i++ {
		k := fmt.Sprint("k", i%1000)
		m[k] = append(m[k], i)
	}
	fmt.Println("map keys", len(m), "k7 len", len(m["k7"]))
}
