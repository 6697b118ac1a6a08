// Command timers: time.Sleep, tickers, timers and select with timeouts;
// prints only what does not depend on timing.
package main

import (
	"context"
	"fmt"
	"time"
)

func main() {
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("slept at least 20ms:", time.Since(start) >= 20*time.Millisecond)

	tk := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range tk.C {
		if ticks++; ticks == 5 {
			break
		}
	}
	tk.Stop()
	fmt.Println("ticks", ticks)

	never := make(chan int)
	select {
	case <-never:
		fmt.Println("impossible")
	case <-time.After(10 * time.Millisecond):
		fmt.Println("timeout fired")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	fmt.Println("context:", ctx.Err())

	done := make(chan bool)
	time.AfterFunc(5*time.Millisecond, func() { done <- true })
	fmt.Println("afterfunc ran:", <-done)
}
