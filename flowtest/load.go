package flowtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowd/flowd/config"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/project"
	"github.com/flowd/flowd/runtime"
)

// Flows are what a .flowtest's cases run: its main flow and the flows of
// its folder that an event or a start step can reach.
type Flows struct {
	main  *interpreter.Program
	all   []runtime.Flow       // the main flow first
	known *interpreter.Program // the names a case may use: see knownNames
	// ws is the workspace file beside the flow, if there is one: its
	// timezone and business hours are the cases' too, as they are flowd
	// serve's
	ws *config.Workspace
}

// All returns the flows an engine runs for the .flowtest, the main flow
// first, each with its source.
func (fs *Flows) All() []runtime.Flow { return fs.all }

// LoadFlows loads, through the project loader, the flow at path and the
// flows of its folder a case can reach: those an event may start (any
// trigger but manual, drafts included, since selection names them) and
// those a start step of these names, transitively. The project checks run
// across them; the main flow must have no errors, and a sibling that has
// some is left out (flowd check reports it). Siblings nothing can reach are
// not loaded: a folder of large flows would cost each .flowtest their
// compiling. The flows' files are named, in diagnostics and runtime errors,
// relative to the folder base (the .flowtest's), so that a case passes from
// whatever directory it is run.
func LoadFlows(path, base string) (*interpreter.Program, *Flows, error) {
	path = filepath.Clean(path)
	name := func(p string) string { return relativeTo(base, p) }
	files := map[string]string{} // sibling flow name -> path
	var paths []string
	for _, s := range project.Siblings(path) {
		h, ok := project.ReadHead(s)
		if s == path || !ok || files[h.Name] != "" {
			continue
		}
		files[h.Name] = s
		if !h.Manual {
			paths = append(paths, s)
		}
	}
	for {
		loaded := project.Load(append([]string{path}, paths...), project.Options{Name: name})
		main, more := closure(path, loaded, files, &paths)
		if more {
			continue // start steps name flows not loaded yet
		}
		if main.Source == nil && len(main.Diags) > 0 { // not read
			return nil, nil, fmt.Errorf("%s: %s", path, main.Diags[0].Summary)
		}
		if main.Failed() {
			var b strings.Builder
			dsl.Render(&b, main.Source, main.Diags)
			return nil, nil, fmt.Errorf("%s does not compile:\n%s", path, b.String())
		}
		fs := &Flows{main: main.Program, all: []runtime.Flow{main.Runtime()}}
		if wsPath := filepath.Join(filepath.Dir(path), config.FileName); fileExists(wsPath) {
			ws, src, diags := config.Load(wsPath)
			if ws == nil {
				var b strings.Builder
				dsl.Render(&b, src, diags)
				return nil, nil, fmt.Errorf("the workspace file beside %s has errors:\n%s", path, b.String())
			}
			fs.ws = ws
		}
		for _, f := range loaded {
			if f.Path != path && !f.Failed() {
				fs.all = append(fs.all, f.Runtime())
			}
		}
		fs.known = knownNames(main.Program, fs.all)
		return main.Program, fs, nil
	}
}

// closure finds the main flow among those loaded and adds to paths the
// siblings their start steps name that are not loaded yet; more reports
// whether it added any.
func closure(path string, loaded []*project.Flow, files map[string]string, paths *[]string) (main *project.Flow, more bool) {
	have := map[string]bool{path: true}
	for _, p := range *paths {
		have[p] = true
	}
	need := func(p string) {
		if p != "" && !have[p] {
			have[p] = true
			*paths = append(*paths, p)
			more = true
		}
	}
	for _, f := range loaded {
		if f.Path == path {
			main = f
		}
		if f.File != nil {
			for _, name := range project.Starts(f.File) {
				need(files[name])
			}
		}
	}
	return main, more
}

// relativeTo names path relative to the folder base, when it can.
func relativeTo(base, path string) string {
	if rel, err := filepath.Rel(base, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
