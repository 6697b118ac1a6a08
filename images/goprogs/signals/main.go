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

func spin(stop *bool, started chan<- struct{}) int {
	close(started)
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
	started := make(chan struct{})
	go func() { done <- spin(&stop, started) }()
	// Main runs on only if the spinning goroutine is preempted, here and
	// at the sleep's end. (Waiting for it to start: under a slow emulated
	// CPU the sleep could end before it first ran, and it then spun 0
	// times, natively too.)
	<-started
	time.Sleep(20 * time.Millisecond)
	stop = true
	fmt.Println("preempted, spun:", <-done > 0)
}
