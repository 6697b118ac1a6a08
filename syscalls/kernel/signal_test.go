package kernel

import (
	"sync"
	"testing"

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
