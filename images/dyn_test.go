package images

// Dynamically linked programs: the host's own (ls, sha256sum, sort, dash,
// python3, gcc) and build/images/dyn_* (images/dyn/), natively and under
// `kshim run`, byte for byte; a static program that execs dynamic ones;
// and execve's errnos for broken interpreters, natively and under kshim.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// interpPhdr returns the offset in file of the PT_INTERP program header.
func interpPhdr(t *testing.T, file []byte) int {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	phoff := int(binary.LittleEndian.Uint64(file[32:]))
	for i, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return phoff + i*56
		}
	}
	t.Fatal("no PT_INTERP")
	return 0
}

// patchInterp returns a copy of a dynamically linked ELF whose PT_INTERP
// names interp instead (NUL-padded; it must fit).
func patchInterp(t *testing.T, file []byte, interp string) []byte {
	t.Helper()
	b := append([]byte(nil), file...)
	ph := interpPhdr(t, b)
	off := binary.LittleEndian.Uint64(b[ph+8:])
	size := binary.LittleEndian.Uint64(b[ph+32:])
	if uint64(len(interp)) >= size {
		t.Fatalf("interpreter name %q does not fit in %d bytes", interp, size)
	}
	s := b[off : off+size]
	clear(s)
	copy(s, interp)
	return b
}

// shortTempLink makes a short-named symlink in /tmp to target (a test's
// temporary directory has too long a name for a patched PT_INTERP).
func shortTempLink(t *testing.T, target string) string {
	t.Helper()
	f, err := os.CreateTemp("/tmp", "ki")
	if err != nil {
		t.Fatal(err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(name) })
	return name
}

// dynProg is one dynamically linked differential row.
type dynProg struct {
	argv      []string
	env       []string
	stdin     string
	kshimArgs []string
	// mask replaces load addresses in the output (ldd-style tracing
	// prints them, and they are random natively and under kshim).
	mask bool
}

var hexAddr = regexp.MustCompile(`0x[0-9a-f]+`)

// printExecFn is Python printing its AT_EXECFN.
const printExecFn = "import ctypes; libc = ctypes.CDLL(None); libc.getauxval.restype = ctypes.c_ulong; " +
	"print('AT_EXECFN', ctypes.string_at(libc.getauxval(31)).decode())"

// gitEnv makes git's output the same every run: no configuration but
// this, fixed names and dates, TMPDIR and HOME in the guest's directory.
func gitEnv(tmp string) []string {
	return []string{"HOME=" + tmp, "TMPDIR=" + tmp, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=K Shim", "GIT_AUTHOR_EMAIL=k@example.org", "GIT_COMMITTER_NAME=K Shim",
		"GIT_COMMITTER_EMAIL=k@example.org", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z"}
}

func lookHost(t *testing.T, name string) string {
	t.Helper()
	for _, d := range []string{"/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// TestDynamic runs dynamically linked programs natively and under kshim.
func TestDynamic(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	tmp := guestTempDir(t)
	tree := filepath.Join(tmp, "tree")
	for _, d := range []string{"tree/sub", "tree/.hidden"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tree/b.txt", "tree/a.txt", "tree/sub/c", "tree/Zed"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte("content of "+f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(tmp, "script.sh")
	if err := os.WriteFile(script, []byte("#!/usr/bin/dash\necho script args: \"$@\"\nprintf '%s\\n' c a b | sort\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	execDyn := filepath.Join(dir, "exec_dyn")
	dlopenProg := filepath.Join(dir, "dyn_dlopen")
	requireFile(t, execDyn)
	requireFile(t, dlopenProg)
	libEnv := "LD_LIBRARY_PATH=" + filepath.Join(dir, "lib")
	// A copy of a dynamic program whose interpreter is fakeld.
	requireFile(t, filepath.Join(dir, "fakeld"))
	withFakeld := filepath.Join(tmp, "prog-fakeld")
	b := patchInterp(t, readFile(t, buildDynamic(t)), shortTempLink(t, filepath.Join(dir, "fakeld")))
	if err := os.WriteFile(withFakeld, b, 0o755); err != nil {
		t.Fatal(err)
	}

	rows := []struct {
		name string
		mk   func(t *testing.T) dynProg
	}{
		{"ls", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "ls"), "-a1F", tree, filepath.Join(tree, "sub")}}
		}},
		{"sha256sum", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "sha256sum"), filepath.Join(tree, "a.txt"), filepath.Join(tree, "sub/c")}}
		}},
		{"sort", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "sort"), "-r"}, stdin: stdinText()}
		}},
		{"dash", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "dash"), "-c",
				`echo $((6*7)); for i in 1 2 3; do echo line $i; done | sort -r; ls ` + tree + ` | wc -l; exit 3`}}
		}},
		{"perl", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "perl"), "-e", `
my %h = (b => 2, a => 1, c => 3);
print join(",", map { "$_=$h{$_}" } sort keys %h), "\n";
opendir(my $d, $ARGV[0]) or die; print join(" ", sort grep { !/^\./ } readdir $d), "\n";
open(my $f, "<", "$ARGV[0]/a.txt") or die; my $l = <$f>; $l =~ s/content of (\S+)/[$1]/; print $l;
printf("%05.1f %x %s\n", 3.14159, 255, scalar reverse "perl");
my @s = split /,/, "x,y,,z"; print scalar(@s), "\n";
exit 4;`, tree}}
		}},
		{"coreutils", func(t *testing.T) dynProg {
			// Several coreutils in one pipeline (each a dynamic program
			// the shell starts).
			return dynProg{argv: []string{lookHost(t, "dash"), "-c", `seq 1 20 | paste -sd+ | tee /dev/stderr | wc -c
printf 'b a\nc a\nb a\n' | sort | uniq -c | tr -s ' ' | cut -d' ' -f2-
head -c 11 ` + tree + `/a.txt | od -c | head -2; base64 ` + tree + `/b.txt; md5sum < ` + tree + `/sub/c
stat -c '%n %s %F' ` + tree + `/Zed; date -u -d @86400 +%F; factor 360; basename ` + tree + `/sub/c; expr 6 \* 7; env -i printenv | wc -l`}}
		}},
		{"git", func(t *testing.T) dynProg {
			// A repository made, committed to and read back in a fresh
			// directory (each side its own), with fixed names and dates.
			return dynProg{argv: []string{lookHost(t, "dash"), "-c", `set -e; d=$(mktemp -d); cd $d; git init -q -b main
printf 'one\n' > f; git add f; git commit -q -m first; printf 'two\n' >> f; mkdir s; echo x > s/g
git add -A; git commit -q -m second; git log --format='%H %an <%ae> %ad %s' --date=iso-strict
git cat-file -p HEAD^{tree}; git diff --stat HEAD~1; git show --format=%B HEAD~1 -- f; git status --short
echo y > s/g; git diff; git rev-parse --short HEAD; cd /; rm -rf $d`},
				env:       gitEnv(tmp),
				kshimArgs: []string{"--rw"}}
		}},
		{"git_direct", func(t *testing.T) dynProg {
			// git as the program itself, reading a repository the
			// guest's user made natively.
			repo := filepath.Join(tmp, "repo")
			mk := runNative([]string{lookHost(t, "dash"), "-c", `set -e; git init -q -b main ` + repo + `; cd ` + repo +
				`; echo hello > h; git add h; git commit -q -m "the commit"`}, append(append([]string(nil), baseEnv...), gitEnv(tmp)...), "")
			if mk.exit != 0 {
				t.Fatalf("making the repository: %s\n%s", mk.status(), mk.stderr)
			}
			return dynProg{argv: []string{lookHost(t, "git"), "-C", repo, "log", "--stat", "--format=%H %s %ad"}, env: gitEnv(tmp)}
		}},
		{"python3", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "python3"), "-c",
				`import json, hashlib; print(1); print(json.dumps({"a": [1, 2]}), hashlib.sha256(b"x").hexdigest())`}}
		}},
		{"python3_exec_errors", func(t *testing.T) dynProg {
			// execve's errnos seen from a dynamic program: an argument
			// longer than MAX_ARG_STRLEN, a missing program.
			return dynProg{argv: []string{lookHost(t, "python3"), "-c", `
import errno, os
for argv in (["/bin/true", "x" * 200000], ["/nonexistent/prog"]):
    try:
        os.execv(argv[0], argv)
    except OSError as e:
        print(errno.errorcode[e.errno])
`}}
		}},
		{"execfn_script", func(t *testing.T) dynProg {
			// AT_EXECFN is the script's name, not its interpreter's.
			py := filepath.Join(tmp, "execfn.py")
			src := "#!" + lookHost(t, "python3") + "\n" + printExecFn + "\n"
			if err := os.WriteFile(py, []byte(src), 0o755); err != nil {
				t.Fatal(err)
			}
			return dynProg{argv: []string{execDyn, py}}
		}},
		{"script_started", func(t *testing.T) dynProg {
			// `kshim run SCRIPT`: its #! interpreter from the guest root.
			return dynProg{argv: []string{script, "x", "y z"}}
		}},
		{"script_nested_started", func(t *testing.T) dynProg {
			outer := filepath.Join(tmp, "outer.sh")
			if err := os.WriteFile(outer, []byte("#!"+script+" opt\nnot reached\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dynProg{argv: []string{outer, "arg"}}
		}},
		{"script_execfn_started", func(t *testing.T) dynProg {
			py := filepath.Join(tmp, "execfn-start.py")
			if err := os.WriteFile(py, []byte("#!"+lookHost(t, "python3")+"\n"+printExecFn+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dynProg{argv: []string{py}}
		}},
		{"execfn_fexecve", func(t *testing.T) dynProg {
			// execveat(fd, "", AT_EMPTY_PATH): AT_EXECFN is /dev/fd/N.
			py := lookHost(t, "python3")
			return dynProg{argv: []string{py, "-c", "import os\nfd = os.open('" + py + "', os.O_RDONLY)\n" +
				"os.execve(fd, ['python3', '-c', " + strconv.Quote(printExecFn) + "], {'LC_ALL': 'C'})"}}
		}},
		{"dlopen_ld_library_path", func(t *testing.T) dynProg {
			return dynProg{argv: []string{dlopenProg}, env: []string{libEnv}}
		}},
		{"dlopen_no_library_path", func(t *testing.T) dynProg {
			// No LD_LIBRARY_PATH: the loader's own error, status 127.
			return dynProg{argv: []string{dlopenProg}}
		}},
		{"ldd_trace", func(t *testing.T) dynProg {
			return dynProg{argv: []string{dlopenProg}, env: []string{libEnv, "LD_TRACE_LOADED_OBJECTS=1"}, mask: true}
		}},
		{"static_execs_dynamic", func(t *testing.T) dynProg {
			return dynProg{argv: []string{execDyn, dlopenProg}, env: []string{libEnv}}
		}},
		{"static_execs_script", func(t *testing.T) dynProg {
			return dynProg{argv: []string{execDyn, script, "x", "y z"}}
		}},
		{"maps_interpreter", func(t *testing.T) dynProg {
			// ld.so and libc are private mappings of their files, with
			// Linux's protections, in Linux's order.
			return dynProg{argv: []string{lookHost(t, "dash"), "-c",
				`cat /proc/self/maps | grep -E 'ld-linux|libc\.so' | awk '{print $2, $6}'`}}
		}},
		{"ldd_script", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "bash"), lookHost(t, "ldd"), lookHost(t, "true"), dlopenProg},
				env: []string{libEnv}, mask: true}
		}},
		{"fake_interpreter", func(t *testing.T) dynProg {
			// The auxv an interpreter gets, seen by a minimal one.
			return dynProg{argv: []string{withFakeld, "a", "b c"}}
		}},
		{"fake_interpreter_via_exec", func(t *testing.T) dynProg {
			return dynProg{argv: []string{execDyn, withFakeld, "a"}}
		}},
		{"interpreter_fails_late", func(t *testing.T) dynProg {
			// An ET_REL "interpreter": Linux kills the program with
			// SIGSEGV past the point of no return; kshim exits 139.
			b := append([]byte(nil), readFile(t, "/lib64/ld-linux-x86-64.so.2")...)
			binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_REL))
			if err := os.WriteFile(filepath.Join(tmp, "ld-rel"), b, 0o755); err != nil {
				t.Fatal(err)
			}
			prog := filepath.Join(tmp, "prog-ld-rel")
			p := patchInterp(t, readFile(t, withFakeld), shortTempLink(t, filepath.Join(tmp, "ld-rel")))
			if err := os.WriteFile(prog, p, 0o755); err != nil {
				t.Fatal(err)
			}
			return dynProg{argv: []string{prog}}
		}},
		{"dynamic_execs_static", func(t *testing.T) dynProg {
			return dynProg{argv: []string{lookHost(t, "dash"), "-c", execDyn + " " + lookHost(t, "true")}}
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := row.mk(t)
			env := append(append([]string(nil), baseEnv...), p.env...)
			native := runNative(p.argv, env, p.stdin)
			guest := run(append(append([]string{kshim, "run"}, p.kshimArgs...), p.argv...), env, p.stdin)
			if p.mask {
				for _, r := range []*result{&native, &guest} {
					r.stdout = hexAddr.ReplaceAll(r.stdout, []byte("0xADDR"))
				}
			}
			if native.timedOut || native.err != nil {
				t.Fatalf("native: %s", native.status())
			}
			compare(t, "kshim", native, guest, false)
		})
	}
}

// TestInterpErrors: execve of programs whose interpreter is missing or
// broken fails with Linux's errno (a static exec_dyn reports it), natively
// and under kshim.
func TestInterpErrors(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	execDyn := filepath.Join(dir, "exec_dyn")
	requireFile(t, execDyn)
	tmp := guestTempDir(t)
	dyn := readFile(t, buildDynamic(t))
	ld := readFile(t, "/lib64/ld-linux-x86-64.so.2")
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	aarch64 := append([]byte(nil), ld...)
	binary.LittleEndian.PutUint16(aarch64[18:], uint16(elf.EM_AARCH64))
	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(fifo, 0o755); err != nil { // past the umask
		t.Fatal(err)
	}
	interpDir := filepath.Join(tmp, "adir")
	if err := os.Mkdir(interpDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		file func() []byte
	}{
		{"missing", func() []byte { return patchInterp(t, dyn, "/lib64/ld-kshim-missing.so") }},
		{"empty_name", func() []byte { return patchInterp(t, dyn, "") }},
		{"text_file", func() []byte {
			return patchInterp(t, dyn, shortTempLink(t, write("text", []byte("#!/bin/sh\necho hi\n"), 0o755)))
		}},
		{"long_text_file", func() []byte {
			return patchInterp(t, dyn, shortTempLink(t, write("text2", bytes.Repeat([]byte("not an ELF\n"), 20), 0o755)))
		}},
		{"not_executable", func() []byte { return patchInterp(t, dyn, shortTempLink(t, write("ld-noexec", ld, 0o644))) }},
		{"directory", func() []byte { return patchInterp(t, dyn, shortTempLink(t, interpDir)) }},
		{"fifo", func() []byte { return patchInterp(t, dyn, shortTempLink(t, fifo)) }},
		{"other_machine", func() []byte { return patchInterp(t, dyn, shortTempLink(t, write("ld-aarch64", aarch64, 0o755))) }},
		{"short_elf", func() []byte { return patchInterp(t, dyn, shortTempLink(t, write("ld-short", ld[:40], 0o755))) }},
		// Past the point of no return: the process dies of SIGSEGV.
		{"relocatable", func() []byte {
			b := append([]byte(nil), ld...)
			binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_REL))
			return patchInterp(t, dyn, shortTempLink(t, write("ld-rel", b, 0o755)))
		}},
		{"truncated_segments", func() []byte {
			return patchInterp(t, dyn, shortTempLink(t, write("ld-half", ld[:len(ld)/2], 0o755)))
		}},
		{"entry_outside", func() []byte {
			b := append([]byte(nil), ld...)
			binary.LittleEndian.PutUint64(b[24:], 0x7fffffff0000)
			return patchInterp(t, dyn, shortTempLink(t, write("ld-entry", b, 0o755)))
		}},
		{"interp_is_dynamic", func() []byte { return patchInterp(t, dyn, shortTempLink(t, write("ld-dyn", dyn, 0o755))) }},
		{"not_nul_terminated", func() []byte {
			b := append([]byte(nil), dyn...)
			ph := interpPhdr(t, b)
			off, size := binary.LittleEndian.Uint64(b[ph+8:]), binary.LittleEndian.Uint64(b[ph+32:])
			b[off+size-1] = 'X'
			return b
		}},
		{"too_long", func() []byte {
			b := append([]byte(nil), dyn...)
			binary.LittleEndian.PutUint64(b[interpPhdr(t, b)+32:], 4097)
			return b
		}},
	}
	cases = append(cases, struct {
		name string
		file func() []byte
	}{"program_fifo", nil})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prog := fifo // execve of a FIFO itself: EACCES, not a wait for a writer
			if c.file != nil {
				prog = write("prog-"+c.name, c.file(), 0o755)
			}
			argv := []string{execDyn, "-e", prog}
			native := runNative(argv, baseEnv, "")
			guest := run(append([]string{kshim, "run"}, argv...), baseEnv, "")
			if native.timedOut || native.err != nil {
				t.Fatalf("native: %s", native.status())
			}
			t.Logf("native: %s", strings.TrimSpace(string(native.stdout)))
			compare(t, "kshim", native, guest, false)
		})
	}
}

// TestGCCInside: gcc compiles and links a C file inside kshim (cc1, as,
// collect2 and ld, all dynamically linked, started by gcc), and the
// program it built behaves as one gcc built natively.
func TestGCCInside(t *testing.T) {
	kshim, _ := paths(t)
	requireFile(t, kshim)
	gcc := lookHost(t, "gcc")
	tmp := guestTempDir(t)
	src := filepath.Join(tmp, "hello.c")
	if err := os.WriteFile(src, []byte(`#include <stdio.h>
#include <math.h>
int main(int argc, char **argv) {
	printf("hello from gcc, argc=%d, sqrt(2)=%.4f\n", argc, sqrt(2.0));
	return 7;
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	nativeBin, guestBin := filepath.Join(tmp, "native"), filepath.Join(tmp, "guest")
	ctx, cancel := context.WithTimeout(context.Background(), 2*runTimeout)
	defer cancel()
	if b, err := exec.CommandContext(ctx, gcc, "-O2", "-o", nativeBin, src, "-lm").CombinedOutput(); err != nil {
		t.Fatalf("native gcc: %v\n%s", err, b)
	}
	env := append(append([]string(nil), baseEnv...), "TMPDIR="+tmp)
	r := run([]string{kshim, "run", "--rw", gcc, "-O2", "-o", guestBin, src, "-lm"}, env, "")
	if r.timedOut || r.err != nil || r.sig != 0 || r.exit != 0 {
		t.Fatalf("gcc under kshim: %s\nstdout:\n%s\nstderr:\n%s", r.status(), clip(r.stdout), clip(r.stderr))
	}
	want := runNative([]string{nativeBin, "a"}, baseEnv, "")
	if want.exit != 7 {
		t.Fatalf("natively built program: %s", want.status())
	}
	compare(t, "program gcc built under kshim", want, runNative([]string{guestBin, "a"}, baseEnv, ""), false)
	compare(t, "that program under kshim", want, run([]string{kshim, "run", guestBin, "a"}, baseEnv, ""), false)
}

// TestInterpFromRoot: the interpreter is looked up inside --root, not on
// the host: a root whose /lib64/ld-linux-x86-64.so.2 is fakeld (a minimal
// interpreter printing what it was handed) runs that in place of the
// host's loader, with the auxv Linux gives an interpreter; without it, 127.
func TestInterpFromRoot(t *testing.T) {
	kshim, dir := paths(t)
	requireFile(t, kshim)
	fake := filepath.Join(dir, "fakeld")
	requireFile(t, fake)
	root := guestTempDir(t)
	if err := os.MkdirAll(filepath.Join(root, "lib64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "lib64/ld-linux-x86-64.so.2"), readFile(t, fake), 0o755); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(root, "prog")
	if err := os.WriteFile(prog, readFile(t, buildDynamic(t)), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "argc=2\nAT_BASE_is_interpreter=1\nAT_PHENT=56\nAT_PHDR_is_program=1\nAT_ENTRY_is_program=1\nAT_EXECFN_is_argv0=1\n"
	for _, flags := range [][]string{nil, {"--no-aslr"}} {
		r := run(append(append([]string{kshim, "run", "--root", root}, flags...), prog, "x"), baseEnv, "")
		if r.exit != 0 || string(r.stdout) != want {
			t.Errorf("%v: %s, stdout %q, want %q\nstderr:\n%s", flags, r.status(), r.stdout, want, clip(r.stderr))
		}
	}
	// Without it in the root: 127, one line, as a shell.
	if err := os.Remove(filepath.Join(root, "lib64/ld-linux-x86-64.so.2")); err != nil {
		t.Fatal(err)
	}
	r := run([]string{kshim, "run", "--root", root, prog}, baseEnv, "")
	if r.exit != 127 || strings.Count(string(r.stderr), "\n") != 1 || !strings.Contains(string(r.stderr), "ld-linux-x86-64.so.2") {
		t.Errorf("missing interpreter in the root: %s, stderr %q", r.status(), r.stderr)
	}
}
