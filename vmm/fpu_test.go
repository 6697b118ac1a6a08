package vmm

import "testing"

// TestInitFPU: execve's InitFPU leaves every FPU component in its initial
// state, the AVX registers' upper halves included, where ResetFPU (a
// signal handler's) keeps them.
func TestInitFPU(t *testing.T) {
	m := newSpareMachine(t, 16<<20)
	defer m.Close()
	c, err := m.NewVCPU()
	if err != nil {
		t.Fatal(err)
	}
	const ymmHi = 576 // the standard format's AVX component (CPUID 0xD, 2)
	img, err := c.arch.SaveAllFPU()
	if err != nil {
		t.Fatal(err)
	}
	for i := 160; i < 176; i++ { // xmm0
		img[i] = 0x11
	}
	for i := ymmHi; i < ymmHi+16; i++ { // ymm0's upper half
		img[i] = 0x22
	}
	img[xstateBV] |= 4
	if err := c.arch.RestoreFPU(img); err != nil {
		t.Skipf("this vCPU takes no AVX state: %v", err)
	}
	check := func(what string, wantYMM byte) {
		t.Helper()
		x, err := c.arch.SaveAllFPU()
		if err != nil {
			t.Fatal(err)
		}
		if fcw, mxcsr := uint16(x[0])|uint16(x[1])<<8, uint32(x[fxMXCSR])|uint32(x[fxMXCSR+1])<<8; fcw != 0x037f || mxcsr != 0x1f80 {
			t.Errorf("%s: FCW %#x MXCSR %#x, want 0x37f 0x1f80", what, fcw, mxcsr)
		}
		if x[160] != 0 {
			t.Errorf("%s: xmm0 holds %#x", what, x[160])
		}
		if got := x[ymmHi]; got != wantYMM && x[xstateBV]&4 != 0 {
			t.Errorf("%s: ymm0's upper half holds %#x, want %#x", what, got, wantYMM)
		}
	}
	if err := c.arch.ResetFPU(); err != nil {
		t.Fatal(err)
	}
	check("ResetFPU", 0x22)
	if err := c.arch.InitFPU(); err != nil {
		t.Fatal(err)
	}
	check("InitFPU", 0)
}
