// Command kvmhold keeps two KVM VMs with one vCPU each open until it is
// killed: one with no in-kernel irqchip, one with the split irqchip
// (KVM's local APIC, as kshim makes its vCPUs where it can: vmm/kvm.go).
// The SVM test guest (ci/svm/init) runs it in the background: KVM turns
// static keys of the host kernel on and off as the first VM or such vCPU
// comes and the last goes (preempt notifiers in __schedule,
// kvm_has_noapic_vcpu, and a software-disabled local APIC's
// apic_sw_disabled), and each toggle patches kernel text with int3
// breakpoints; under QEMU's multi-threaded TCG that patching livelocked
// the guest kernel (both vCPUs looping between __schedule and the int3
// handler with interrupts off). With the VMs held open the keys stay on
// while the tests create and destroy theirs.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	kvmCreateVM        = 0xae01
	kvmCreateVCPU      = 0xae41
	kvmEnableCap       = 0x4068aea3 // KVM_ENABLE_CAP on a VM
	kvmCapSplitIRQChip = 121
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
	held := "one VM and one vCPU"
	for _, lapic := range []bool{false, true} {
		vm, err := ioctl(kvm, kvmCreateVM)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kvmhold: KVM_CREATE_VM:", err)
			os.Exit(1)
		}
		if lapic {
			// KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP), as vmm/kvm.go does.
			var c [104]byte
			*(*uint32)(unsafe.Pointer(&c[0])) = kvmCapSplitIRQChip
			if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(vm), kvmEnableCap, uintptr(unsafe.Pointer(&c[0]))); e != 0 {
				fmt.Fprintln(os.Stderr, "kvmhold: no split irqchip:", e)
				unix.Close(vm)
				break // kshim's vCPUs then have no local APIC either
			}
		}
		if _, err := ioctl(vm, kvmCreateVCPU); err != nil {
			fmt.Fprintln(os.Stderr, "kvmhold: KVM_CREATE_VCPU:", err)
			os.Exit(1)
		}
		if lapic {
			held = "two VMs with one vCPU each, one with a local APIC"
		}
	}
	fmt.Println("kvmhold: holding " + held)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
