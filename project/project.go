// Package project owns loading flows from their files: each file read as
// flowd check reads one, parsed, checked on its own, then checked with the
// others it is loaded with (dsl.CheckProject: one name per flow, start
// targets, start cycles, group ties, field conflicts) and, when it has no
// errors, compiled. flowd check, flowd test and the REPL load through it, and
// so will the service and its hot reload.
package project

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// A Flow is one .flow file as loaded.
type Flow struct {
	Path    string
	Name    string // the file name its positions carry
	Source  []byte
	File    *dsl.File       // nil when it could not be read or parsed
	Diags   dsl.Diagnostics // its own, then the project's about it, sorted
	Program *interpreter.Program
}

// Failed reports whether the flow has errors: it has no program.
func (f *Flow) Failed() bool { return f.Program == nil }

// Runtime is the flow as the engine runs it.
func (f *Flow) Runtime() runtime.Flow { return runtime.Flow{Program: f.Program, Source: f.Source} }

// Options say how to load.
type Options struct {
	// Name gives the file name a flow's positions and runtime errors
	// carry; nil is its path.
	Name func(path string) string
	// NoCompile leaves the programs out: flowd check wants diagnostics only.
	NoCompile bool
}

// Load loads the files at paths, each once, in path order, and runs the
// project checks across those that parse.
func Load(paths []string, opts Options) []*Flow {
	paths = append([]string(nil), paths...)
	sort.Strings(paths) // the project checks blame a duplicate name on the later file
	var out []*Flow
	var parsed []*dsl.File
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		name := p
		if opts.Name != nil {
			name = opts.Name(p)
		}
		f := load(p, name, !opts.NoCompile)
		out = append(out, f)
		if f.File != nil {
			parsed = append(parsed, f.File)
		}
	}
	byName := map[string]*Flow{}
	for _, f := range out {
		byName[f.Name] = f
	}
	for _, d := range dsl.CheckProject(parsed) {
		if f := byName[d.Pos.Filename]; f != nil {
			f.Diags = append(f.Diags, d)
			if d.Severity == dsl.Error {
				f.Program = nil
			}
		}
	}
	for _, f := range out {
		f.Diags.Sort()
		f.Diags = f.Diags.Limit()
	}
	return out
}

// load reads, parses, checks and compiles one file; the cache spares a
// file whose source is the same as when it was last loaded so.
func load(path, name string, compile bool) *Flow {
	f := &Flow{Path: path, Name: name}
	src, err := dsl.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*fs.PathError); ok {
			msg = pe.Err.Error() // the path is the diagnostic's
		}
		f.Diags = dsl.Diagnostics{{Pos: lexer.Position{Filename: name}, Summary: msg}}
		return f
	}
	if c := cached(path, name, compile, src); c != nil {
		return c
	}
	f.Source = src
	file, err := dsl.Parse(name, src)
	if err != nil {
		f.Diags, _ = err.(dsl.Diagnostics)
		keep(path, name, compile, f)
		return f
	}
	f.File, f.Diags = file, dsl.Check(file)
	if compile && !f.Diags.HasErrors() {
		p, err := interpreter.Compile(file)
		if err != nil {
			f.Diags = append(f.Diags, &dsl.Diagnostic{Pos: lexer.Position{Filename: name}, Summary: err.Error()})
		}
		f.Program = p
	}
	keep(path, name, compile, f)
	return f
}

// Starts are the names of the flows f's start steps start.
func Starts(f *dsl.File) []string {
	var out []string
	dsl.Walk(f.Steps, func(st *dsl.Stmt) {
		if s, ok := st.Step.(*dsl.Start); ok {
			out = append(out, s.Flow.Value())
		}
	})
	return out
}

// Siblings are the .flow files of the folder of the file at path, sorted.
func Siblings(path string) []string {
	out, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.flow"))
	sort.Strings(out)
	return out
}

// A Head is what the start of a flow's file says, read without parsing
// the file: enough to decide whether to load it.
type Head struct {
	Name   string
	Manual bool // its trigger is manual: only a start step or a person starts it
}

// ReadHead reads a flow's head: from its first 4 KiB, or the whole file
// when a long comment comes first.
func ReadHead(path string) (Head, bool) {
	const head = 4 << 10
	src, err := textfile.Head(path, head)
	if err != nil {
		return Head{}, false
	}
	h, ok := parseHead(src)
	if !ok && len(src) == head {
		if src, err = dsl.ReadFile(path); err != nil {
			return Head{}, false
		}
		h, ok = parseHead(src)
	}
	return h, ok
}

// parseHead reads the flow's name from its first line that is not blank
// or a comment, `flow "NAME"`, and whether a `trigger manual` line follows.
func parseHead(src []byte) (Head, bool) {
	var h Head
	named := false
	for len(src) > 0 {
		line, rest, _ := bytes.Cut(src, []byte("\n"))
		src = rest
		l := strings.TrimSpace(string(line))
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case !named:
			after, ok := strings.CutPrefix(l, "flow ")
			if !ok {
				return Head{}, false
			}
			q, err := strconv.QuotedPrefix(strings.TrimSpace(after))
			if err != nil {
				return Head{}, false
			}
			if h.Name, err = strconv.Unquote(q); err != nil {
				return Head{}, false
			}
			named = true
		case l == "trigger manual" || strings.HasPrefix(l, "trigger manual "):
			h.Manual = true
		}
	}
	return h, named
}
