// Command kvmhold keeps one KVM VM with one vCPU (no in-kernel irqchip, as
// kshim makes them) open until it is killed. The SVM test guest
// (ci/svm/init) runs it in the background: KVM turns static keys of the
// host kernel on and off as the first VM or such vCPU comes and the last
// goes (preempt notifiers in __schedule, kvm_has_noapic_vcpu), and each
// toggle patches kernel text with int3 breakpoints; under QEMU's
// multi-threaded TCG that patching livelocked the guest kernel (both vCPUs
// looping between __schedule and the int3 handler with interrupts off).
// With one VM held open the keys stay on while the tests create and
// destroy theirs.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	kvmCreateVM   = 0xae01
	kvmCreateVCPU = 0xae41
)

func main() {
	kvm, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvmhold:", err)
		os.Exit(1)
	}
	ioctl := func(fd int, req uintptr) (int, error) {
		for {
			r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, 0)
			if e == unix.EINTR {
				continue // KVM_CREATE_VM can be interrupted by a signal
			}
			if e != 0 {
				return -1, e
			}
			return int(r), nil
		}
	}
	vm, err := ioctl(kvm, kvmCreateVM)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kvmhold: KVM_CREATE_VM:", err)
		os.Exit(1)
	}
	if _, err := ioctl(vm, kvmCreateVCPU); err != nil {
		fmt.Fprintln(os.Stderr, "kvmhold: KVM_CREATE_VCPU:", err)
		os.Exit(1)
	}
	fmt.Println("kvmhold: holding one VM and one vCPU")
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
