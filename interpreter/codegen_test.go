package interpreter

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// update rewrites the expected sections of golden files with what the tests
// see:
//
//	go test ./interpreter -run Codegen -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the actual output")

// An archive is a txtar file: a comment, then sections that each start with a
// line "-- name --".
type archive struct {
	comment  string
	names    []string
	sections map[string]string
}

func parseArchive(data string) *archive {
	a := &archive{sections: map[string]string{}}
	cur := ""
	var b strings.Builder
	flush := func() {
		if cur == "" {
			a.comment = b.String()
		} else {
			a.sections[cur] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			a.names = append(a.names, cur)
			continue
		}
		b.WriteString(line)
	}
	flush()
	return a
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, name := range a.names {
		b.WriteString("-- " + name + " --\n")
		s := a.sections[name]
		b.WriteString(s)
		if s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestCodegen compiles the flow section of each testdata/codegen/*.txtar and
// compares the disassembly with its disasm section.
func TestCodegen(t *testing.T) {
	files, err := filepath.Glob("testdata/codegen/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no codegen tests: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(string(data))
			src, ok := a.sections["flow"]
			if !ok {
				t.Fatalf("%s has no flow section", file)
			}
			p := compileFlow(t, name+".flow", src)
			var b strings.Builder
			p.Disassemble(&b)
			got := b.String()
			if !utf8.ValidString(got) {
				t.Errorf("the disassembly is not valid UTF-8:\n%s", got)
			}
			checkPositions(t, p, src)
			if *update {
				if _, ok := a.sections["disasm"]; !ok {
					a.names = append(a.names, "disasm")
				}
				a.sections["disasm"] = got
				if err := os.WriteFile(file, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := a.sections["disasm"]
			if !ok {
				t.Fatalf("%s has no disasm section (run go test ./interpreter -run Codegen -update)", file)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: disassembly differs (-want +got); if intended, run go test ./interpreter -run Codegen -update\n%s", file, diff)
			}
		})
	}
}

// TestCodegenBundledFlows checks instruction positions on the bundled flows
// in ../flows, which use every step in realistic combinations; every bundled
// flow must compile.
func TestCodegenBundledFlows(t *testing.T) {
	files, _ := filepath.Glob("../flows/*.flow")
	if len(files) == 0 {
		t.Fatal("no bundled flows in ../flows")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := CompileSource(file, src)
			if err != nil {
				t.Fatalf("does not compile: %v", err)
			}
			checkPositions(t, p, string(src))
		})
	}
}

var labelPrefix = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_]*:\s*`)

// keywords are the words an instruction's source position must point at.
var keywords = map[Opcode][]string{
	SEND: {"send"}, ASK: {"ask"}, ASSIGN: {"assign"}, UNASSIGN: {"unassign"},
	TAG: {"tag"}, FIELD: {"set", "clear"}, OPEN: {"open"}, CLOSE: {"close"},
	COMMENT: {"comment"}, JUMP: {"jump"}, WAIT: {"wait"}, START: {"start"},
	DURING: {"during"}, HTTP: {"http"}, SHEET: {"sheet"}, AI: {"ai"}, END: {"stop"},
	// the jump out of a block belongs to the step that owns the block
	JMP: {"if", "send", "ask", "assign", "during", "http", "sheet", "ai"},
}

// checkPositions checks that every instruction has a position in the file and
// a step id, and that the position points at the step's keyword (a BRANCH: at
// its condition), after the step's label if it has one, whose name is then
// the step id.
func checkPositions(t *testing.T, p *Program, src string) {
	t.Helper()
	lines := strings.Split(src, "\n")
	if len(p.Pos) != len(p.Code) || len(p.Step) != len(p.Code) {
		t.Fatalf("%d instructions, %d positions, %d steps", len(p.Code), len(p.Pos), len(p.Step))
	}
	last := len(p.Code) - 1
	if p.Code[last].Op != END || p.StepID(last) != "" {
		t.Errorf("the last instruction is %v of step %q, want the final end of no step", p.Code[last].Op, p.StepID(last))
	}
	for pc, in := range p.Code {
		pos := p.Position(pc)
		if pos.Filename != p.File {
			t.Errorf("pc %d (%v): position in file %q, want %q", pc, in.Op, pos.Filename, p.File)
		}
		if pos.Line < 1 || pos.Line > len(lines) || pos.Column < 1 {
			t.Errorf("pc %d (%v): position %d:%d is outside the file (%d lines)", pc, in.Op, pos.Line, pos.Column, len(lines))
			continue
		}
		if pc == last {
			continue
		}
		step := p.StepID(pc)
		if step == "" {
			t.Errorf("pc %d (%v) at %d:%d has no step", pc, in.Op, pos.Line, pos.Column)
			continue
		}
		line := []rune(lines[pos.Line-1])
		if pos.Column-1 > len(line) {
			t.Errorf("pc %d (%v): column %d is past the end of line %d", pc, in.Op, pos.Column, pos.Line)
			continue
		}
		text := string(line[pos.Column-1:])
		if in.Op == BRANCH {
			if !strings.HasPrefix(text, p.ExprSrc[in.A]) {
				t.Errorf("pc %d (branch) at %d:%d points at %q, not at its condition %q", pc, pos.Line, pos.Column, text, p.ExprSrc[in.A])
			}
			continue
		}
		if label := labelPrefix.FindString(text); label != "" {
			name := strings.TrimRight(strings.TrimSpace(label), ":")
			if step != name {
				t.Errorf("pc %d (%v) at %d:%d: step id %q, want the label %q", pc, in.Op, pos.Line, pos.Column, step, name)
			}
			text = text[len(label):]
		} else if !regexp.MustCompile(`^#\d+$`).MatchString(step) {
			t.Errorf("pc %d (%v) at %d:%d: unlabelled step has id %q", pc, in.Op, pos.Line, pos.Column, step)
		}
		word, _, _ := strings.Cut(text, " ")
		want := keywords[in.Op]
		if !contains(want, word) {
			t.Errorf("pc %d (%v) at %d:%d points at %q, want one of %v", pc, in.Op, pos.Line, pos.Column, text, want)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
