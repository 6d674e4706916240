package dsl

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
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
}

func errorAt(pos lexer.Position, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Error, Pos: pos, Summary: fmt.Sprintf(format, args...)}
}

func warningAt(pos lexer.Position, format string, args ...any) *Diagnostic {
	return &Diagnostic{Severity: Warning, Pos: pos, Summary: fmt.Sprintf(format, args...)}
}

// Error renders the diagnostic as file:line:col: severity: summary (detail).
func (d *Diagnostic) Error() string {
	s := fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Summary)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
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
// the source line, a caret under the column, and the detail.
//
//	flows/consent.flow:12:9: error: unknown label "consnt"
//	   12 |   jump to consnt max 3
//	      |           ^
//	      = did you mean "consent"?
func Render(w io.Writer, src []byte, ds Diagnostics) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", d.Pos, d.Severity, d.Summary)
		if line, ok := sourceLine(src, d.Pos.Line); ok {
			num := fmt.Sprint(d.Pos.Line)
			pad := strings.Repeat(" ", len(num))
			fmt.Fprintf(w, " %s | %s\n", num, expandTabs(line))
			fmt.Fprintf(w, " %s | %s^\n", pad, caretIndent(line, d.Pos.Column))
			if d.Detail != "" {
				fmt.Fprintf(w, " %s = %s\n", pad, d.Detail)
			}
		} else if d.Detail != "" {
			fmt.Fprintf(w, "  = %s\n", d.Detail)
		}
	}
}

func sourceLine(src []byte, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	lines := strings.Split(string(src), "\n")
	if n > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
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
