package dsl

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Severity tells errors, which stop a flow from loading, from warnings, which
// do not.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// A Diagnostic is one problem found in a .flow file.
type Diagnostic struct {
	Severity Severity       `json:"severity"`
	Pos      lexer.Position `json:"-"`
	Summary  string         `json:"summary"`          // one line, lower case: unknown label "consnt"
	Detail   string         `json:"detail,omitempty"` // a hint: did you mean "consent"?

	// more is, for the diagnostic Limit puts last, how many errors and
	// warnings it stands for
	more struct{ errors, warnings int }
}

func errorAt(pos lexer.Position, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Error, Pos: pos, Summary: Elide(fmt.Sprintf(format, args...), MaxMessage)}
}

func warningAt(pos lexer.Position, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Warning, Pos: pos, Summary: Elide(fmt.Sprintf(format, args...), MaxMessage)}
}

// Error renders the diagnostic as file:line:col: severity: summary (detail);
// a diagnostic about a whole file (line 0) has no line and column.
func (d *Diagnostic) Error() string {
	s := fmt.Sprintf("%s: %s: %s", d.where(), d.Severity, d.Summary)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

func (d *Diagnostic) where() string {
	if d.Pos.Line == 0 && d.Pos.Filename != "" {
		return d.Pos.Filename
	}
	return d.Pos.String()
}

// MarshalJSON gives the position as file, line and column.
func (d *Diagnostic) MarshalJSON() ([]byte, error) {
	type plain Diagnostic
	return json.Marshal(struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Column int    `json:"column"`
		*plain
	}{d.Pos.Filename, d.Pos.Line, d.Pos.Column, (*plain)(d)})
}

// Diagnostics is a list of problems, sorted by position once complete.
type Diagnostics []*Diagnostic

// Error renders the first diagnostic and counts the rest.
func (ds Diagnostics) Error() string {
	switch len(ds) {
	case 0:
		return "no diagnostics"
	case 1:
		return ds[0].Error()
	}
	return fmt.Sprintf("%s, and %d other diagnostic(s)", ds[0].Error(), len(ds)-1)
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns the diagnostics as an error if any of them is an error, else nil.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// Sort orders diagnostics by file, then position.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// Render writes each diagnostic as a compiler does: the position and summary,
// the source line, a caret under the column, and the detail. A long source
// line is shown around the caret.
//
//	flows/consent.flow:12:9: error: unknown label "consnt"
//	   12 |   jump to consnt max 3
//	      |           ^
//	      = did you mean "consent"?
func Render(w io.Writer, src []byte, ds Diagnostics) {
	var lines []int // where each line starts, computed once
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", d.where(), d.Severity, d.Summary)
		if lines == nil && d.Pos.Line > 0 {
			lines = lineStarts(src)
		}
		if line, ok := sourceLine(src, lines, d.Pos.Line); ok {
			num := fmt.Sprint(d.Pos.Line)
			pad := strings.Repeat(" ", len(num))
			line, col := window(line, d.Pos.Column)
			line = visible(line)
			fmt.Fprintf(w, " %s | %s\n", num, expandTabs(line))
			fmt.Fprintf(w, " %s | %s^\n", pad, caretIndent(line, col))
			if d.Detail != "" {
				fmt.Fprintf(w, " %s = %s\n", pad, d.Detail)
			}
		} else if d.Detail != "" {
			fmt.Fprintf(w, "  = %s\n", d.Detail)
		}
	}
}

// visible shows a source line safely on a terminal: a control character
// other than a tab, a bidirectional control, which would reorder what the
// reader sees, and a byte that is not UTF-8 each show as U+FFFD, one
// character for one, so that the caret stays under its column.
func visible(line string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) || IsBidiControl(r) {
			return utf8.RuneError
		}
		return r
	}, line)
}

// lineStarts lists the offset at which each line of src starts.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func sourceLine(src []byte, starts []int, n int) (string, bool) {
	if n < 1 || n > len(starts) {
		return "", false
	}
	end := len(src)
	if n < len(starts) {
		end = starts[n] - 1
	}
	return strings.TrimRight(string(src[starts[n-1]:end]), "\r"), true
}

// windowWidth is how many characters of a source line Render shows.
const windowWidth = 120

// window cuts a long line down to windowWidth characters around column col,
// marking the cuts with "…", and returns the column within the cut line.
func window(line string, col int) (string, int) {
	r := []rune(line)
	if len(r) <= windowWidth {
		return line, col
	}
	from := max(0, min(col-1-windowWidth/2, len(r)-windowWidth))
	to := min(len(r), from+windowWidth)
	cut := string(r[from:to])
	if from > 0 {
		cut = "…" + cut
		col = col - from + 1
	}
	if to < len(r) {
		cut += "…"
	}
	return cut, col
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

// caretIndent is the blank space that puts a caret under column col (counted in
// characters) of line, as displayed with expandTabs.
func caretIndent(line string, col int) string {
	var b strings.Builder
	for i, r := range []rune(line) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteString("    ")
		} else if utf8.RuneLen(r) > 0 {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// Limit keeps the first MaxDiagnostics diagnostics of each file of a sorted
// list and replaces the rest of that file's with one that counts them.
func (ds Diagnostics) Limit() Diagnostics {
	var out Diagnostics
	for i := 0; i < len(ds); {
		j := i
		for j < len(ds) && ds[j].Pos.Filename == ds[i].Pos.Filename {
			j++
		}
		file := ds[i:j]
		if len(file) <= MaxDiagnostics {
			out = append(out, file...)
		} else {
			out = append(out, file[:MaxDiagnostics]...)
			out = append(out, moreDiagnostics(file[MaxDiagnostics:]))
		}
		i = j
	}
	return out
}

// moreDiagnostics is the diagnostic that stands for the ones not shown,
// counting those an earlier Limit folded into one.
func moreDiagnostics(rest Diagnostics) *Diagnostic {
	d := &Diagnostic{Severity: Warning, Pos: rest[0].Pos}
	for _, r := range rest {
		switch {
		case r.more.errors+r.more.warnings > 0:
			d.more.errors += r.more.errors
			d.more.warnings += r.more.warnings
		case r.Severity == Error:
			d.more.errors++
		default:
			d.more.warnings++
		}
	}
	if d.more.errors > 0 {
		d.Severity = Error
	}
	d.Summary = fmt.Sprintf("and %d more problems from here on (%d errors, %d warnings)",
		d.more.errors+d.more.warnings, d.more.errors, d.more.warnings)
	d.Detail = fmt.Sprintf("only the first %d problems of a file are listed; fix those and check again", MaxDiagnostics)
	return d
}
