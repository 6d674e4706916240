package dsl_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowd/flowd/dsl"
)

// A chunk is one flow of a chunked test file.
type chunk struct {
	file  string // the test file
	start int    // line of the test file where the chunk starts
	src   []byte
	want  []*expectation
}

// An expectation is a `### "regexp"` note on a line of a chunk: some
// diagnostic on that line must match the regexp. `### col=N "regexp"` also
// requires the diagnostic to be at column N (counted in characters).
type expectation struct {
	line, col int
	rx        *regexp.Regexp
	used      bool
}

var reCol = regexp.MustCompile(`^col=(\d+)\s*`)

// readChunks splits a test file into chunks at lines holding only "---", and
// reads the expectations of each line. The notes are # comments, so the chunk
// is parsed with them in place. The last line of a chunk has no newline, so
// that "unexpected end of file" is reported on a line that can hold a note.
func readChunks(t *testing.T, path string) []*chunk {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []*chunk
	cur := &chunk{file: path, start: 1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n, line := 0, 0 // line of the test file, line within the chunk
	for sc.Scan() {
		n++
		text := sc.Text()
		if text == "---" {
			chunks = append(chunks, cur)
			cur, line = &chunk{file: path, start: n + 1}, 0
			continue
		}
		line++
		if line > 1 {
			cur.src = append(cur.src, '\n')
		}
		cur.src = append(cur.src, text...)
		i := strings.Index(text, "###")
		if i < 0 {
			continue
		}
		rest := strings.TrimSpace(text[i+3:])
		for rest != "" {
			e := &expectation{line: line}
			if m := reCol.FindStringSubmatch(rest); m != nil {
				e.col, _ = strconv.Atoi(m[1])
				rest = rest[len(m[0]):]
			}
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("%s:%d: want ### [col=N] \"regexp\" ..., got %q", path, n, text[i:])
			}
			s, _ := strconv.Unquote(q)
			if e.rx, err = regexp.Compile(s); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			cur.want = append(cur.want, e)
			rest = strings.TrimSpace(rest[len(q):])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return append(chunks, cur)
}

// message is what an expectation is matched against:
//
//	error: unknown label "consnt" (did you mean "consent"?)
func message(d *dsl.Diagnostic) string {
	s := d.Severity.String() + ": " + d.Summary
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// parseCheck parses a flow and, if it parses, checks it: the diagnostics a
// user of flowd check sees for one file.
func parseCheck(name string, src []byte) dsl.Diagnostics {
	f, err := dsl.Parse(name, src)
	if err != nil {
		return err.(dsl.Diagnostics)
	}
	return checkLabelled(f)
}

// checkLabelled checks f without the warnings about waiting steps without a
// label, which TestUnlabelledWaits tests: the other tests' flows are not
// about labels.
func checkLabelled(f *dsl.File) dsl.Diagnostics {
	var out dsl.Diagnostics
	for _, d := range dsl.Check(f) {
		if !strings.Contains(d.Summary, "without a label") {
			out = append(out, d)
		}
	}
	return out
}

// TestUnlabelledWaits: flowd check warns about each step where a run may
// stay paused without a label, since only a label lets flowd runs migrate
// move a paused run to the next version.
func TestUnlabelledWaits(t *testing.T) {
	src := "flow \"w\"\ntrigger manual\nask \"Name?\" save Name\nnamed: ask \"Again?\" save Again\nif Name == \"x\" {\n  wait 1h\n}\nassign team \"Support\"\nsend \"done\"\n"
	f, err := dsl.Parse("w.flow", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dsl.Check(f) {
		got = append(got, fmt.Sprintf("%d:%d %s: %s", d.Pos.Line, d.Pos.Column, d.Severity, d.Summary))
	}
	want := []string{
		"3:1 warning: an ask without a label: a run paused here stays on this version of the flow when it changes",
		"6:3 warning: a wait without a label: a run paused here stays on this version of the flow when it changes",
		"8:1 warning: an assign without a label: a run paused here stays on this version of the flow when it changes",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestErrors runs every flow of testdata/errors.flow through Parse and Check.
// Each diagnostic must match an expectation on its line, and each expectation
// must match a diagnostic, so a chunk without notes must check clean.
func TestErrors(t *testing.T) {
	chunks := readChunks(t, "testdata/errors.flow")
	if len(chunks) < 50 {
		t.Fatalf("read only %d chunks from testdata/errors.flow", len(chunks))
	}
	for _, c := range chunks {
		ds := parseCheck("errors.flow", c.src)
		for _, d := range ds {
			if d.Pos.Filename != "errors.flow" {
				t.Errorf("%s:%d: diagnostic %q is for file %q", c.file, c.start, d.Summary, d.Pos.Filename)
			}
			where := fmt.Sprintf("%s:%d:%d", c.file, c.start+d.Pos.Line-1, d.Pos.Column)
			found := false
			for _, e := range c.want {
				if !e.used && e.line == d.Pos.Line && e.rx.MatchString(message(d)) {
					if e.col != 0 && e.col != d.Pos.Column {
						t.Errorf("%s: %q is at column %d, want column %d", where, message(d), d.Pos.Column, e.col)
					}
					e.used, found = true, true
					break
				}
			}
			if !found {
				t.Errorf("%s: unexpected %s", where, message(d))
			}
		}
		for _, e := range c.want {
			if !e.used {
				t.Errorf("%s:%d: no diagnostic matches %q", c.file, c.start+e.line-1, e.rx)
			}
		}
	}
}

// TestDiagnosticsSorted checks that Check reports problems in source order,
// whatever order it finds them in.
func TestDiagnosticsSorted(t *testing.T) {
	src := "flow \"s\"\ntrigger manual\njump to nowhere max 1\nsend \"$Nope\"\nstop\nsend \"late\"\nwait 0s\n"
	ds := parseCheck("s.flow", []byte(src))
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%d:%d %s", d.Pos.Line, d.Pos.Column, d.Summary))
	}
	want := []string{
		`3:9 unknown label "nowhere"`,
		`4:8 unknown variable "Nope"`,
		`6:1 unreachable step`,
		`7:6 wait of 0s is too short; the minimum is 1s`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestParseInvalidUTF8 covers the one syntax error a text file cannot hold,
// between tokens and inside a string or a comment alike.
func TestParseInvalidUTF8(t *testing.T) {
	for src, want := range map[string]string{
		"flow \"a\"\ntrigger manual\nsend \"ok\" \xff\n": "bad.flow:3:11",
		"flow \"a\"\ntrigger manual\nsend \"caf\xe9\"\n": "bad.flow:3:10",
		"# caf\xe9\nflow \"a\"\n":                        "bad.flow:1:6",
	} {
		_, err := dsl.Parse("bad.flow", []byte(src))
		want += ": error: invalid UTF-8 encoding: .flow files are UTF-8 text"
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error = %v, want %s", src, err, want)
		}
	}
}

// TestRender checks the exact text flowd check prints for a diagnostic: the
// position and summary, the source line, a caret under the column (counted
// in characters, so multi-byte text before it does not shift it; a tab is
// shown as four spaces) and the hint.
func TestRender(t *testing.T) {
	src := "flow \"Consent\"\ntrigger manual\nconsent: send \"héllo 😀\"\n\tsend \"Ça va? $Consnt\"\njump to consnt max 3\n"
	ds := parseCheck("flows/consent.flow", []byte(src))
	var b strings.Builder
	dsl.Render(&b, []byte(src), ds)
	want := `flows/consent.flow:4:16: error: unknown variable "Consnt"
 4 |     send "Ça va? $Consnt"
   |                   ^
   = variables come from ask ... save NAME, http map ... to NAME and ai ... save NAME; write $$ for a dollar sign
flows/consent.flow:5:9: error: unknown label "consnt"
 5 | jump to consnt max 3
   |         ^
   = did you mean "consent"?
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

// TestRenderCaretAfterEmoji puts the error right after multi-byte characters
// inside a ${ } expression, where the checker maps expr's offset (in
// characters) back into the line.
func TestRenderCaretAfterEmoji(t *testing.T) {
	src := "flow \"x\"\ntrigger manual\nsend \"😀é ${contact.emial}\"\n"
	ds := parseCheck("x.flow", []byte(src))
	var b strings.Builder
	dsl.Render(&b, []byte(src), ds)
	want := `x.flow:3:20: error: unknown contact field "emial"
 3 | send "😀é ${contact.emial}"
   |                    ^
   = did you mean "email"?
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

// TestRenderWithoutSourceLine covers a diagnostic whose line is not in the
// source given (a project diagnostic rendered against another file): the
// summary and hint are still printed.
func TestRenderWithoutSourceLine(t *testing.T) {
	d := &dsl.Diagnostic{Severity: dsl.Warning, Summary: "something", Detail: "a hint"}
	d.Pos.Filename, d.Pos.Line, d.Pos.Column = "a.flow", 9, 2
	var b strings.Builder
	dsl.Render(&b, []byte("one line\n"), dsl.Diagnostics{d})
	want := "a.flow:9:2: warning: something\n  = a hint\n"
	if b.String() != want {
		t.Errorf("Render = %q, want %q", b.String(), want)
	}
}

// TestDiagnosticsError checks the error text of one and of several
// diagnostics, and that warnings alone are not an error.
func TestDiagnosticsError(t *testing.T) {
	src := "flow \"x\"\ntrigger manual\nstop\nsend \"a\"\njump to nowhere max 1\nsend \"$nope\"\n"
	ds := parseCheck("x.flow", []byte(src))
	want := `x.flow:4:1: warning: unreachable step (a step before it always ends the run), and 2 other diagnostic(s)`
	if got := ds.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if ds.Err() == nil || !ds.HasErrors() {
		t.Errorf("Err() = nil for diagnostics with errors")
	}
	warnings := ds[:1]
	if warnings.HasErrors() || warnings.Err() != nil {
		t.Errorf("a warning alone counts as an error")
	}
}

// TestDiagnosticJSON checks the JSON form that flowd check --json prints and
// the server will send: file, line, column, severity as a word, summary, and
// detail only when there is one.
func TestDiagnosticJSON(t *testing.T) {
	src := "flow \"x\"\ntrigger manual\nconsent: send \"hi\"\njump to consnt max 3\nhttp POST \"https://x.test\" body \"{}\"\n"
	ds := parseCheck("flows/x.flow", []byte(src))
	got, err := json.MarshalIndent(ds, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {
    "file": "flows/x.flow",
    "line": 4,
    "column": 9,
    "severity": "error",
    "summary": "unknown label \"consnt\"",
    "detail": "did you mean \"consent\"?"
  },
  {
    "file": "flows/x.flow",
    "line": 5,
    "column": 1,
    "severity": "warning",
    "summary": "request has a body but no Content-Type header",
    "detail": "add: header \"Content-Type\": \"application/json\""
  }
]`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	// A diagnostic without detail leaves the key out.
	one, _ := json.Marshal(&dsl.Diagnostic{Summary: "s"})
	if want := `{"file":"","line":0,"column":0,"severity":"error","summary":"s"}`; string(one) != want {
		t.Errorf("JSON = %s, want %s", one, want)
	}
}
