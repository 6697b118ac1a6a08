// Command goroutines: goroutines on several threads, channels, a mutex,
// sync/atomic and a WaitGroup; deterministic output.
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var n atomic.Int64
	shared := map[int]int{}
	results := make(chan int, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := 0
			for j := 0; j < 50000; j++ {
				s += (j * i) % 7
				n.Add(1)
			}
			mu.Lock()
			shared[i] = s
			mu.Unlock()
			results <- s
		}(i)
	}
	wg.Wait()
	close(results)
	var all []int
	for r := range results {
		all = append(all, r)
	}
	sort.Ints(all)
	fmt.Println("sums", all)
	fmt.Println("atomic", n.Load(), "map", len(shared))

	// A pipeline of unbuffered channels.
	src := make(chan int)
	sq := make(chan int)
	go func() {
		for i := 1; i <= 100; i++ {
			src <- i
		}
		close(src)
	}()
	go func() {
		for v := range src {
			sq <- v * v
		}
		close(sq)
	}()
	total := 0
	for v := range sq {
		total += v
	}
	fmt.Println("pipeline", total)
}
