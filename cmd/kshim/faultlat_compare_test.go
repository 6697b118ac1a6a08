package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCompareFaultlat(t *testing.T) {
	d := func(p50 float64) *latDist { return &latDist{N: 10, P50: p50, P90: p50, P99: p50, Max: p50} }
	base := &faultlatReport{Classes: []*flResult{
		{Class: "demand-zero", KshimGuest: d(100), KshimVMM: d(10)},
		{Class: "file", KshimGuest: d(100), KshimVMM: d(10)},
		{Class: "copy-on-write", KshimGuest: d(100)},
	}}
	now := &faultlatReport{Classes: []*flResult{
		{Class: "demand-zero", KshimGuest: d(149), KshimVMM: d(16)}, // guest +49%: fine; VMM +60%: regressed
		{Class: "file", KshimGuest: d(40), KshimVMM: d(5)},          // faster
		{Class: "copy-on-write", KshimVMM: d(3)},                    // guest view gone, VMM side new
		{Class: "stack-growth", KshimGuest: d(7)},                   // not in the baseline
	}}
	c := compareFaultlat(base, now, 0.5)
	if !c.Regressed {
		t.Fatal("a +60% VMM median not reported as a regression")
	}
	got := map[string]flComparison{}
	for _, r := range c.Results {
		got[r.Class+"/"+r.View] = r
	}
	for key, want := range map[string]struct {
		regressed bool
		note      string
	}{
		"demand-zero/kshim_guest":   {false, ""},
		"demand-zero/kshim_vmm":     {true, ""},
		"file/kshim_guest":          {false, ""},
		"file/kshim_vmm":            {false, ""},
		"copy-on-write/kshim_guest": {false, "absent now"},
		"copy-on-write/kshim_vmm":   {false, "absent in the baseline"},
		"stack-growth/kshim_guest":  {false, "not in the baseline"},
	} {
		r, ok := got[key]
		if !ok || r.Regressed != want.regressed || r.Note != want.note {
			t.Errorf("%s: %+v (present %v), want regressed %v note %q", key, r, ok, want.regressed, want.note)
		}
	}
	if r := got["file/kshim_guest"]; r.Ratio != 0.4 {
		t.Errorf("file ratio %v, want 0.4", r.Ratio)
	}
	var b bytes.Buffer
	c.Table(&b)
	if !strings.Contains(b.String(), "regressed: demand-zero/kshim_vmm") || !strings.Contains(b.String(), "REGRESSED (> +50%)") {
		t.Errorf("table:\n%s", b.String())
	}
	if c := compareFaultlat(base, base, 0.5); c.Regressed {
		t.Error("a report regressed against itself")
	}
}
