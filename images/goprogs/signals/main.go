// Command signals: os/signal delivery of a signal the program sends
// itself, and a goroutine blocked in a long loop still preempted (the
// runtime's SIGURG preemption between threads).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func spin(stop *bool) int {
	n := 0
	for !*stop {
		n++
	}
	return n
}

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	fmt.Println("got", <-c)

	runtime.GOMAXPROCS(1)
	stop := false
	done := make(chan int)
	go func() { done <- spin(&stop) }()
	time.Sleep(20 * time.Millisecond) // needs the spinning goroutine preempted
	stop = true
	fmt.Println("preempted, spun:", <-done > 0)
}
