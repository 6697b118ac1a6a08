package fs

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// seqFile opens a ProcSeq over a memfd for a generator whose text is
// *text at each call (err, when set, its error instead).
func seqFile(t *testing.T, direct bool, text *string, err *error) (*ProcSeq, int) {
	t.Helper()
	gen := func(FileOwner) ([]byte, error) {
		if err != nil && *err != nil {
			return nil, *err
		}
		return []byte(*text), nil
	}
	h, e := ProcMemfd([]byte(*text))
	if e != nil {
		t.Fatal(e)
	}
	t.Cleanup(func() { unix.Close(h) })
	return NewProcSeq(&ProcNode{Direct: direct}, gen), h
}

// readAt reads up to n bytes from h through s at off (-1: its position).
func readAt(t *testing.T, s *ProcSeq, h int, off int64, n int) string {
	t.Helper()
	b := make([]byte, n)
	got, err := s.Read(nil, h, off, uint64(n), func() (uint64, error) {
		r, err := HostRead(h, b, off)
		return uint64(max(r, 0)), err
	})
	if err != nil {
		t.Fatalf("read at %d: %v", off, err)
	}
	return string(b[:got])
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// TestProcSeqRereads: a read from 0 and a read elsewhere than the last
// one's end generate anew, a read where the last ended continues in its
// text (seq_read_iter), and many re-reads of texts of changing sizes
// leave the memfd the last text's size and no host fd behind.
func TestProcSeqRereads(t *testing.T) {
	text := "Name:\tfirst\nState:\tR\n"
	s, h := seqFile(t, false, &text, nil)
	if got := readAt(t, s, h, -1, 6); got != "Name:\t" {
		t.Fatalf("first read %q", got)
	}
	text = "Name:\tsecond\nState:\tS\n"
	if got := readAt(t, s, h, -1, 5); got != "first" {
		t.Fatalf("continued read %q, want the text of its start", got)
	}
	if got := readAt(t, s, h, 0, 12); got != "Name:\tsecond" {
		t.Fatalf("pread at 0 %q", got)
	}
	text = "Name:\tthird\nState:\tS\n"
	// The file position (11) is not where the pread ended (12).
	if got := readAt(t, s, h, -1, 3); got != "\nSt" {
		t.Fatalf("read elsewhere %q, want the new text at 11", got)
	}

	before := openFDs(t)
	for i := 0; i < 5000; i++ {
		text = strings.Repeat("x", (i%7)*10000)
		readAt(t, s, h, 0, 1)
		var st unix.Stat_t
		if err := unix.Fstat(h, &st); err != nil {
			t.Fatal(err)
		}
		if st.Size != int64(len(text)) {
			t.Fatalf("re-read %d: memfd size %d, want %d", i, st.Size, len(text))
		}
	}
	if after := openFDs(t); after != before {
		t.Fatalf("host fds %d -> %d after re-reads", before, after)
	}
}

// TestProcSeqGuestFD: the guest's host fd cannot change the text.
func TestProcSeqGuestFD(t *testing.T) {
	text := "abc\n"
	_, h := seqFile(t, false, &text, nil)
	if _, err := unix.Write(h, []byte("x")); err != unix.EBADF {
		t.Errorf("write: %v, want EBADF", err)
	}
	if err := unix.Ftruncate(h, 0); err == nil {
		t.Errorf("ftruncate succeeded")
	}
	if _, err := unix.FcntlInt(uintptr(h), unix.F_ADD_SEALS, unix.F_SEAL_WRITE); err == nil {
		t.Errorf("F_ADD_SEALS succeeded")
	}
	if _, err := unix.Mmap(h, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != unix.EACCES {
		t.Errorf("shared writable mmap: %v, want EACCES", err)
	}
}

// TestProcSeqSeek: seq_lseek's rules, and generic_file_llseek's of a
// file of size 0 for a Direct one.
func TestProcSeqSeek(t *testing.T) {
	text := "0123456789\n"
	var gerr error
	s, h := seqFile(t, false, &text, &gerr)
	for _, w := range []int{unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE, 7} {
		if _, err := s.Seek(nil, h, 0, w); err != unix.EINVAL {
			t.Errorf("whence %d: %v, want EINVAL", w, err)
		}
	}
	if _, err := s.Seek(nil, h, -1, unix.SEEK_SET); err != unix.EINVAL {
		t.Errorf("negative: %v, want EINVAL", err)
	}
	text = "abcdefghij\n"
	if r, err := s.Seek(nil, h, 4, unix.SEEK_SET); r != 4 || err != nil {
		t.Fatalf("lseek 4: %d %v", r, err)
	}
	text = "ABCDEFGHIJ\n"
	// The seek generated the text: the read there continues in it.
	if got := readAt(t, s, h, -1, 2); got != "ef" {
		t.Errorf("read after lseek %q, want the text of the seek", got)
	}
	gerr = unix.ESRCH
	if _, err := s.Seek(nil, h, 2, unix.SEEK_SET); err != unix.ESRCH {
		t.Errorf("lseek with a gone task: %v, want ESRCH", err)
	}
	if cur, _ := unix.Seek(h, 0, unix.SEEK_CUR); cur != 0 {
		t.Errorf("position after a failed lseek %d, want 0", cur)
	}
	if _, err := s.Read(nil, h, 0, 4, func() (uint64, error) { t.Error("read after a failed generation"); return 0, nil }); err != unix.ESRCH {
		t.Errorf("read with a gone task: %v, want ESRCH", err)
	}

	d, dh := seqFile(t, true, &text, nil)
	if r, err := d.Seek(nil, dh, 3, unix.SEEK_END); r != 3 || err != nil {
		t.Errorf("direct SEEK_END+3: %d %v, want 3", r, err)
	}
	if _, err := d.Seek(nil, dh, 0, unix.SEEK_DATA); err != unix.ENXIO {
		t.Errorf("direct SEEK_DATA: %v, want ENXIO", err)
	}
	text = "direct\n"
	if got := readAt(t, d, dh, 0, 3); got != "dir" {
		t.Fatalf("direct read %q", got)
	}
	text = "DIRECT\n"
	if got := readAt(t, d, dh, -1, 3); got != "ECT" {
		t.Errorf("direct continued read %q, want a new text", got)
	}
}
