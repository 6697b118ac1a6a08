package kernel

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestActionsConcurrent: a process's dispositions change on its own
// threads (sigaction, execve's reset) while other tasks read them to post
// a signal (ignores): every read sees one whole disposition, never part of
// one being written. Run it under the race detector too (`CGO_ENABLED=1 go
// test -race ./syscalls/kernel/`): the race build's fuzzer caught execve's
// reset writing them unguarded while another process's kill read them.
func TestActionsConcurrent(t *testing.T) {
	p := &Process{}
	p.Sig.Act = new(Actions)
	sig := int(unix.SIGUSR1)
	h := Sigaction{Handler: 0x401000, Flags: saSiginfo | saRestorer, Restorer: 0x402000, Mask: 0xff}
	ign := Sigaction{Handler: SigIgn, Flags: saRestart, Restorer: 0x403000, Mask: 0xf0}
	whole := map[Sigaction]bool{{}: true, h: true, ign: true, {Handler: SigIgn}: true}
	const rounds = 20000
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the process's own thread
		defer wg.Done()
		for i := 0; i < rounds; i++ {
			p.Sig.Act.Swap(sig, h)
			p.Sig.Act.Swap(sig, ign)
			if i%2 == 0 {
				p.resetSignalsForExec()
			}
		}
	}()
	bad := 0
	go func() { // a sender
		defer wg.Done()
		for i := 0; i < rounds; i++ {
			_ = p.ignores(sig)
			if !whole[p.Sig.Act.Get(sig)] {
				bad++
			}
			_ = p.Sig.Act.Copy() // a fork
		}
	}()
	wg.Wait()
	if bad != 0 {
		t.Errorf("%d of %d reads saw a disposition half written", bad, rounds)
	}
}

// TestPostBeforeFirstWait: a signal posted after a sleeper checked for
// pending signals, but before it first took its wake-up channel, still
// wakes it. The channel was made on a waiter's first use only, so such a
// post poked nothing and the sleeper slept to its deadline: a thread in
// nanosleep missed the SIGKILL of another thread's execve (de_thread) and
// the execve hung (exec_threads_main, ~1 run in 50 on a loaded host).
func TestPostBeforeFirstWait(t *testing.T) {
	p := &Process{}
	p.Sig.Act = new(Actions)
	if p.Interrupted() {
		t.Fatal("a new process has a signal pending")
	}
	sig := int(unix.SIGUSR1)
	if err := p.send(sig, Siginfo{Signo: int32(sig)}, false); err != nil {
		t.Fatalf("send: %v", err)
	}
	woke := make(chan struct{})
	go func() {
		p.AwaitPost(time.Now().Add(time.Hour))
		close(woke)
	}()
	select {
	case <-woke:
	case <-time.After(20 * time.Second):
		t.Fatal("AwaitPost slept through a signal posted before its first wait")
	}
}
