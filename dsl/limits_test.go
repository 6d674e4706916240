package dsl_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
)

const header = "flow \"x\"\ntrigger manual\n"

// diagnose parses and checks src as a whole .flow file and returns its
// diagnostics, with the bytes allocated on the way, so that a test can say
// that an input of any size costs a bounded amount.
func diagnose(t *testing.T, src string) (dsl.Diagnostics, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := dsl.Parse("x.flow", []byte(src))
	var ds dsl.Diagnostics
	if err != nil {
		ds = err.(dsl.Diagnostics)
	} else {
		ds = checkLabelled(f)
	}
	runtime.ReadMemStats(&after)
	return ds, after.TotalAlloc - before.TotalAlloc
}

// wantOne requires exactly one error, with this summary at line:col.
func wantOne(t *testing.T, ds dsl.Diagnostics, line, col int, summary string) {
	t.Helper()
	var errs dsl.Diagnostics
	for _, d := range ds {
		if d.Severity == dsl.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) != 1 || errs[0].Pos.Line != line || errs[0].Pos.Column != col || errs[0].Summary != summary {
		t.Fatalf("want one error %d:%d: %s\ngot %v", line, col, summary, ds)
	}
}

// maxAlloc is what checking any file may allocate: a few times the cap's
// worth of tokens and syntax tree, and far from the gigabytes that the
// unbounded inputs took.
const maxAlloc = 300 << 20

func TestFileSize(t *testing.T) {
	fill := func(n int) string {
		src := header + "stop\n"
		return src + strings.Repeat("# a comment line\n", n/17+1)[:n-len(src)]
	}
	if ds, _ := diagnose(t, fill(dsl.MaxFileSize)); ds.HasErrors() {
		t.Fatalf("a file at the cap: %v", ds)
	}
	ds, alloc := diagnose(t, fill(dsl.MaxFileSize+1))
	wantOne(t, ds, 1, 1, "file is 262145 bytes; the limit for a .flow file is 262144 (256 KiB)")
	if alloc > 1<<20 {
		t.Errorf("refusing a file over the cap allocated %d bytes", alloc)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.flow")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	_, err := dsl.ReadFile(zero)
	if err == nil || err.Error() != "read "+zero+": not a regular file but a character device" {
		t.Errorf("a link to /dev/zero: got %v", err)
	}
	if _, err := dsl.ReadFile(dir); err == nil || !strings.HasSuffix(err.Error(), "not a regular file but a directory") {
		t.Errorf("a directory: got %v", err)
	}
	// a named pipe would block the open until someone writes to it
	fifo := filepath.Join(dir, "pipe.flow")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dsl.ReadFile(fifo); err == nil || !strings.HasSuffix(err.Error(), "not a regular file but a named pipe") {
		t.Errorf("a named pipe: got %v", err)
	}
	big := filepath.Join(dir, "big.flow")
	if err := os.WriteFile(big, make([]byte, dsl.MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dsl.ReadFile(big); !errors.Is(err, textfile.ErrTooLarge) ||
		!strings.HasSuffix(err.Error(), "file is too large: 262145 bytes; the limit is 262144 (256 KiB)") {
		t.Errorf("a file over the cap: got %v", err)
	}
}

func TestBlockDepth(t *testing.T) {
	nest := func(n int) string {
		return header + strings.Repeat("if true {\n", n) + "stop\n" + strings.Repeat("}\n", n)
	}
	if ds, _ := diagnose(t, nest(dsl.MaxBlockDepth)); ds.HasErrors() {
		t.Fatalf("%d nested blocks: %v", dsl.MaxBlockDepth, ds)
	}
	// the 51st { is reported, however deep the file goes on, before the
	// parser, which recurses, sees any of it
	for _, n := range []int{dsl.MaxBlockDepth + 1, 20000} {
		ds, alloc := diagnose(t, nest(n))
		wantOne(t, ds, 2+dsl.MaxBlockDepth+1, 9, "blocks nest more than 50 deep")
		if alloc > maxAlloc {
			t.Errorf("%d nested blocks allocated %d bytes", n, alloc)
		}
	}
}

func TestExprDepth(t *testing.T) {
	cases := []struct {
		name         string
		open, close_ string
		prefix       string // before the nesting on the line: where column counting starts
		suffix       string
	}{
		{"brackets", "(", ")", "if ", " {}\n"},
		{"lists", "[", "]", "if len(", ") > 0 {}\n"},
		{"not", "!", "", "if ", " {}\n"},
		{"not word", "not ", "", "if ", " {}\n"},
		{"minus", "-", "", "if ", " > 0 {}\n"},
		{"interpolation", "(", ")", "set contact.country = \"${", "}\"\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := func(n int) string {
				atom := "true"
				if c.open == "[" || c.open == "-" || c.name == "interpolation" {
					atom = "1"
				}
				return header + c.prefix + strings.Repeat(c.open, n) + atom + strings.Repeat(c.close_, n) + c.suffix
			}
			if ds, _ := diagnose(t, src(dsl.MaxExprDepth-1)); ds.HasErrors() {
				t.Fatalf("nesting %d: %v", dsl.MaxExprDepth-1, ds)
			}
			big := (dsl.MaxFileSize - 100) / (len(c.open) + len(c.close_))
			for _, n := range []int{dsl.MaxExprDepth + 1, big} {
				ds, alloc := diagnose(t, src(n))
				// the first bracket or operator past the limit
				col := len([]rune(c.prefix)) + 1 + dsl.MaxExprDepth*len(c.open)
				if c.name == "lists" {
					col -= len(c.open) // len( is a bracket too
				}
				wantOne(t, ds, 3, col, "expression nests more than 100 deep")
				if alloc > maxAlloc {
					t.Errorf("nesting %d allocated %d bytes", n, alloc)
				}
			}
		})
	}
}

func TestExprNodes(t *testing.T) {
	sum := func(n int) string { return header + "set contact.country = \"${" + strings.Repeat("1+", n) + "1}\"\n" }
	if ds, _ := diagnose(t, sum(300)); ds.HasErrors() {
		t.Fatalf("601 parts: %v", ds)
	}
	ds, _ := diagnose(t, sum(100000))
	wantOne(t, ds, 3, 26, "expression has more than 1000 parts")
}

// TestExprTooBig: the checker refuses what one evaluation is sure to build
// past its budget.
func TestExprTooBig(t *testing.T) {
	ds, _ := diagnose(t, header+"if len(1..2000000) > 0 {}\n")
	wantOne(t, ds, 3, 8, "range 1..2000000 has 2000000 numbers; one evaluation may take 1000000 steps")
	ds, _ = diagnose(t, header+"send \"${repeat('ab', 600000)}\"\n")
	wantOne(t, ds, 3, 9, "repeat makes 1200000 bytes of text; one evaluation may take 1000000 steps")
	// exactly the budget is past it: the evaluation's own steps count too
	ds, _ = diagnose(t, header+"if len(1..1000000) > 0 {}\n")
	wantOne(t, ds, 3, 8, "range 1..1000000 has 1000000 numbers; one evaluation may take 1000000 steps")
	if ds, _ := diagnose(t, header+"if len(1..1000) > 0 && len(repeat('a', 1000)) > 0 {}\n"); ds.HasErrors() {
		t.Errorf("small literals: %v", ds)
	}
}

func TestDiagnosticsCapped(t *testing.T) {
	// 5000 errors, and a warning at line 1 that the flow has 5000 steps
	n := 5000
	ds, _ := diagnose(t, header+strings.Repeat("send \"$nope\"\n", n))
	if len(ds) != dsl.MaxDiagnostics+1 {
		t.Fatalf("got %d diagnostics, want %d", len(ds), dsl.MaxDiagnostics+1)
	}
	last := ds[len(ds)-1]
	want := "and 4901 more problems from here on (4901 errors, 0 warnings)"
	if last.Summary != want || last.Pos.Line != 2+dsl.MaxDiagnostics || last.Severity != dsl.Error {
		t.Errorf("last diagnostic: got %v, want %q at line %d", last, want, 2+dsl.MaxDiagnostics)
	}
	// Limit is idempotent and counts what an earlier Limit folded
	again := append(ds[:len(ds):len(ds)], &dsl.Diagnostic{Pos: ds[0].Pos, Summary: "extra"})
	again.Sort()
	if got := again.Limit(); got[len(got)-1].Summary != "and 4902 more problems from here on (4902 errors, 0 warnings)" {
		t.Errorf("limit of a limited list: %v", got[len(got)-1])
	}
}

func TestLongTokens(t *testing.T) {
	long := strings.Repeat("x", 200000)
	ds, _ := diagnose(t, header+"send \"a\" "+long+"\n")
	wantOne(t, ds, 3, 10, `unexpected "xxxxxxxxxxxxxxxxxxxx…xxxxxxxxxxxxxxxxxxxx"`)
	// the source line is shown around the caret
	var b bytes.Buffer
	dsl.Render(&b, []byte(header+"send \"a\" "+long+"\n"), ds)
	for _, line := range strings.Split(b.String(), "\n") {
		if n := len([]rune(line)); n > 140 {
			t.Errorf("rendered line of %d characters: %.80q...", n, line)
		}
	}
}

func TestControlCharacters(t *testing.T) {
	cases := []struct {
		name, src string
		line, col int
		summary   string
	}{
		{"NUL in a string", "send \"a\x00b\"\n", 3, 8, "control character U+0000 is not allowed in a .flow file"},
		{"ESC in a comment", "# \x1b[31mred\nstop\n", 3, 3, "control character U+001B is not allowed in a .flow file"},
		{"DEL", "send \"\x7f\"\n", 3, 7, "control character U+007F is not allowed in a .flow file"},
		{"C1 control", "send \"\u0085\"\n", 3, 7, "control character U+0085 is not allowed in a .flow file"},
		{"lone CR", "send \"a\rb\"\n", 3, 8, "control character U+000D is not allowed in a .flow file"},
		{"in a condition", "if contact.name == \"\x07\" {}\n", 3, 21, "control character U+0007 is not allowed in a .flow file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, _ := diagnose(t, header+c.src)
			wantOne(t, ds, c.line, c.col, c.summary)
		})
	}
	// tabs, newlines and CRLF line ends are text
	if ds, _ := diagnose(t, "flow \"x\"\r\ntrigger manual\r\nsend \"a\tb\r\nc\"\r\n"); len(ds) != 0 {
		t.Errorf("tab and CRLF: %v", ds)
	}
}

func TestBidiControls(t *testing.T) {
	// "Trojan Source": an override in a string or a comment reorders what a
	// reviewer sees; it is a warning, and a flow that has one still loads
	ds, _ := diagnose(t, header+"send \"abc\u202edef\" # x\u2066y\nstop\n")
	if len(ds) != 2 || ds.HasErrors() {
		t.Fatalf("want two warnings, got %v", ds)
	}
	for i, want := range []struct {
		col  int
		char string
	}{{10, "U+202E"}, {19, "U+2066"}} {
		if d := ds[i]; d.Pos.Line != 3 || d.Pos.Column != want.col || d.Summary != "bidirectional control character "+want.char {
			t.Errorf("warning %d: got %v", i, d)
		}
	}
	// the source line under a diagnostic shows them as U+FFFD, and so a
	// control character and a byte that is not UTF-8, keeping the caret
	// under its column
	src := header + "send \"abc\u202edef\x1b\xff\" # x\u2066y\nstop\n"
	ds, _ = diagnose(t, src)
	var b strings.Builder
	dsl.Render(&b, []byte(src), ds)
	if out := b.String(); strings.ContainsAny(out, "\u202e\u2066\x1b") || !strings.Contains(out, "3 | send \"abc\ufffddef\ufffd\ufffd\" # x\ufffdy\n   |              ^\n") {
		t.Errorf("rendered:\n%s", out)
	}
	// the marks that right-to-left text needs, and the joiners of emoji and
	// Persian, are fine
	if ds, _ := diagnose(t, header+"send \"\u200f\u05e9\u05dc\u05d5\u05dd \u200d\u200c\"\n"); len(ds) != 0 {
		t.Errorf("marks and joiners: %v", ds)
	}
}

// TestManyReferences: positions inside a long text are found in one pass, so
// a message made of thousands of references checks in linear time, and the
// last one is placed right.
func TestManyReferences(t *testing.T) {
	n := (dsl.MaxFileSize - 200) / len("$contact.firstname")
	src := header + "send \"" + strings.Repeat("$contact.firstname", n) + "$contact.nope\"\n"
	ds, alloc := diagnose(t, src)
	var unknown *dsl.Diagnostic
	for _, d := range ds {
		if strings.HasPrefix(d.Summary, "unknown contact field") {
			unknown = d
		}
	}
	if unknown == nil || unknown.Pos.Line != 3 || unknown.Pos.Column != 7+n*len("$contact.firstname")+len("$contact.") {
		t.Errorf("the last reference: got %v", unknown)
	}
	if alloc > maxAlloc {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestLongNames: a name of a hundred thousand characters is reported, but
// not compared letter by letter with the others for a hint, which took a
// minute, and its message keeps both ends of it.
func TestLongNames(t *testing.T) {
	a := "v" + strings.Repeat("a", 120000)
	b := "v" + strings.Repeat("a", 119999) + "b"
	ds, alloc := diagnose(t, header+"ask text \"q?\" save "+a+"\nif "+b+" == \"x\" {\n  stop\n}\n")
	if len(ds) != 1 || ds[0].Detail != "variables come from ask ... save NAME, http map ... to NAME and ai ... save NAME" {
		t.Fatalf("want one error without a hint, got %v", ds)
	}
	if n := len([]rune(ds[0].Summary)); n > dsl.MaxMessage+1 || !strings.HasPrefix(ds[0].Summary, `unknown variable "vaaa`) || !strings.HasSuffix(ds[0].Summary, `aab"`) {
		t.Errorf("summary of %d characters: %.60q...", n, ds[0].Summary)
	}
	if alloc > maxAlloc {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestManyBracesOnOneLine: the indentation of a line is found once, not at
// each of its braces (which made 60,000 braces after 130,000 blanks take 15 s).
func TestManyBracesOnOneLine(t *testing.T) {
	src := header + "send \"a\" " + strings.Repeat(" ", 100000) + strings.Repeat("{}", 60000) + "\n"
	ds, alloc := diagnose(t, src)
	wantOne(t, ds, 3, 100012, "unexpected \"{\"")
	if alloc > maxAlloc {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestLabelChain: a line of thousands of labels took seconds, as each
// syntax error's refinement found the next label's error and parsed the
// rest of the file again; refinement now looks a few steps deep.
func TestLabelChain(t *testing.T) {
	src := "A" + strings.Repeat(":A", 6000) + "0"
	ds, alloc := diagnose(t, src)
	if len(ds) != 1 || !ds.HasErrors() {
		t.Errorf("want one error, got %v", ds)
	}
	if alloc > maxAlloc {
		t.Errorf("allocated %d bytes", alloc)
	}
}
