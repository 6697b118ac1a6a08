package boot

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// defines reads the `#define NAME VALUE` lines of a C or assembler file
// whose value is a number, or BASE+number of another such name.
func defines(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^#define\s+(\w+)\s+([\w+]+)`)
	out := map[string]uint64{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		var v uint64
		ok := true
		for _, term := range strings.Split(m[2], "+") {
			if n, err := strconv.ParseUint(strings.TrimSuffix(term, "UL"), 0, 64); err == nil {
				v += n
			} else if n, found := out[term]; found {
				v += n
			} else {
				ok = false
			}
		}
		if ok {
			out[m[1]] = v
		}
	}
	return out
}

// TestLayoutMirrors: the addresses, ports and fast-area fields that
// stubs.S and the test programs' fast_area.h repeat from layout.go (the
// assembler and C cannot import them) still say what layout.go says.
func TestLayoutMirrors(t *testing.T) {
	want := map[string]uint64{
		"PORT_SYSCALL": PortSyscall, "PORT_EXCEPTION": PortException, "PORT_BOOT": PortBoot,
		"FLUSH_AREA": FlushArea, "UFLUSH_FIRST": UserFlush, "FLUSH_TOKEN": FlushToken,
		"FAST_AREA": FastArea,
		"FA_SEQ":    FastArea + FastSeq, "FA_NR": FastArea + FastNR, "FA_ARGS": FastArea + FastArgs,
		"FA_RCX": FastArea + FastRCX, "FA_R11": FastArea + FastR11, "FA_RSP": FastArea + FastRSP,
		"FA_BUDGET": FastArea + FastBudget, "FA_VIA": FastArea + FastVia, "FA_DONE": FastArea + FastDoneAt,
		"FA_RESULT": FastArea + FastResult, "FA_FLAG": FastArea + FastFlag, "FA_AWAKE": FastArea + FastAwake,
		"FA_SPINS": FastArea + FastSpins, "FA_BITMAP": FastArea + FastBitmap,
	}
	got := defines(t, "stubs.S")
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("stubs.S %s = %#x (defined: %v), layout.go says %#x", name, g, ok, v)
		}
	}
	// fast_area.h gives the fields as offsets from FAST_AREA.
	h := defines(t, "../images/fast_area.h")
	for name, v := range want {
		if name != "FAST_AREA" && !strings.HasPrefix(name, "FA_") {
			continue
		}
		if name != "FAST_AREA" {
			v -= FastArea
		}
		if g, ok := h[name]; ok && g != v {
			t.Errorf("images/fast_area.h %s = %#x, layout.go says %#x", name, g, v)
		}
	}
	if len(h) < 10 {
		t.Errorf("images/fast_area.h: %d defines read, want its layout", len(h))
	}
}
