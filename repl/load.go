package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
	loader "github.com/flowd/flowd/project"
	"github.com/flowd/flowd/runtime"
)

// errCompile is wrapped by loadProject's error when the given file does not compile.
var errCompile = errors.New("does not compile")

// A flowFile is the latest version of a .flow file that compiled.
type flowFile struct {
	path string
	file *dsl.File // the header: trigger, group, draft
	prog *interpreter.Program
	src  []byte
}

// A project is the flows the REPL knows: the file it was given and its
// siblings, or every flow of the directory it was given.
type project struct {
	path  string // the file or directory given
	dir   bool
	files map[string]*flowFile // by path; only files that compiled at least once
	stale map[string]bool      // files that failed to compile when last read
}

// loadProject compiles the flows under path. It renders to errOut the
// diagnostics of the files that fail (in a directory: all of them; for a
// file: that file's), and fails when the given file, or every file of the
// directory, does not compile.
func loadProject(path string, errOut io.Writer) (*project, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	p := &project{path: path, dir: info.IsDir(), files: map[string]*flowFile{}, stale: map[string]bool{}}
	_, failed, err := p.load(errOut)
	switch {
	case err != nil:
		return nil, err
	case !p.dir && p.stale[path]:
		return nil, fmt.Errorf("%s %w", path, errCompile)
	case p.dir && len(p.files) == 0 && len(failed) > 0:
		return nil, fmt.Errorf("no flow in %s %w", path, errCompile)
	}
	return p, nil
}

// load (re)compiles every file, keeping the previous version of those that
// fail. It returns the files whose program changed and those that failed. It
// renders the diagnostics of the given file, of a directory's files, and of
// files that compiled before; a file's siblings that never compiled stay quiet.
func (p *project) load(errOut io.Writer) (changed, failed []string, err error) {
	paths, err := p.paths()
	if err != nil {
		return nil, nil, err
	}
	for _, f := range loader.Load(paths, loader.Options{}) {
		path := f.Path
		loud := p.dir || path == p.path || p.files[path] != nil
		p.stale[path] = f.Failed()
		if f.Failed() {
			if loud {
				render(errOut, f)
			}
			failed = append(failed, path)
			continue
		}
		ff := &flowFile{path: path, file: f.File, prog: f.Program, src: f.Source}
		if old := p.files[path]; old == nil || old.prog.Hash != ff.prog.Hash {
			changed = append(changed, path)
		}
		p.files[path] = ff
	}
	return changed, failed, nil
}

// render writes a flow's diagnostics under its source lines.
func render(w io.Writer, f *loader.Flow) {
	dsl.Render(w, f.Source, f.Diags)
}

// paths lists the .flow files of the project, the given file first.
func (p *project) paths() ([]string, error) {
	dir := p.path
	if !p.dir {
		dir = filepath.Dir(p.path)
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.flow"))
	if err != nil {
		return nil, err
	}
	sort.Strings(all)
	if p.dir {
		return all, nil
	}
	out := []string{p.path}
	for _, s := range all {
		if filepath.Clean(s) != filepath.Clean(p.path) {
			out = append(out, s)
		}
	}
	return out, nil
}

// runtimeFlows are the flows the engine runs, with their sources. A name
// defined twice goes to the first file by path.
func (p *project) runtimeFlows() []runtime.Flow {
	var out []runtime.Flow
	seen := map[string]bool{}
	for _, ff := range p.sorted() {
		if !seen[ff.prog.Flow] {
			seen[ff.prog.Flow] = true
			out = append(out, runtime.Flow{Program: ff.prog, Source: ff.src})
		}
	}
	return out
}

func (p *project) sorted() []*flowFile {
	out := make([]*flowFile, 0, len(p.files))
	for _, ff := range p.files {
		out = append(out, ff)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// byName finds a flow by its name.
func (p *project) byName(name string) (*flowFile, error) {
	var names []string
	for _, ff := range p.sorted() {
		if ff.prog.Flow == name {
			return ff, nil
		}
		names = append(names, ff.prog.Flow)
	}
	hint := ""
	if best := nearest(name, names); best != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return nil, fmt.Errorf("no flow is named %q%s", name, hint)
}

// pick chooses the flow to run: for a file, that file; in a directory, the
// named flow or else the first inbound flow.
func (p *project) pick(name string) (*flowFile, error) {
	switch {
	case name != "":
		return p.byName(name)
	case !p.dir:
		return p.files[p.path], nil
	}
	var inbound []*flowFile
	for _, ff := range p.sorted() {
		if isInbound(ff.file) {
			inbound = append(inbound, ff)
		}
	}
	if len(inbound) == 0 {
		return nil, fmt.Errorf("no flow in %s starts when the contact opens a conversation; name one with --flow", p.path)
	}
	sort.SliceStable(inbound, func(i, j int) bool {
		_, a := header(inbound[i].file)
		_, b := header(inbound[j].file)
		if a != b {
			return a < b
		}
		return inbound[i].prog.Flow < inbound[j].prog.Flow
	})
	return inbound[0], nil
}

// isInbound reports whether a flow is live and starts when the contact opens
// a conversation.
func isInbound(f *dsl.File) bool {
	if draft, _ := header(f); draft {
		return false
	}
	t := f.Trigger()
	if t == nil {
		return false
	}
	ev, ok := t.Event.(*dsl.ConversationEvent)
	if !ok || ev.Action != "opened" {
		return false
	}
	for _, s := range ev.Sources {
		if s.Name == "contact" {
			return true
		}
	}
	return len(ev.Sources) == 0
}

// header reads what picking a flow needs from its header: whether it is a
// draft, and its group priority (0 when it has none).
func header(f *dsl.File) (draft bool, priority int) {
	for _, h := range f.Header {
		switch h := h.(type) {
		case *dsl.Draft:
			draft = true
		case *dsl.Group:
			if h.Priority != nil {
				priority = h.Priority.Value
			}
		}
	}
	return draft, priority
}

// triggerData is what the flow's trigger provides when the REPL starts it: the
// contact opening a conversation, or the closest event of its trigger's kind.
func triggerData(f *dsl.File) map[string]any {
	t := f.Trigger()
	if t == nil {
		return map[string]any{"type": "manual", "parent": "repl"}
	}
	switch ev := t.Event.(type) {
	case *dsl.ConversationEvent:
		source := "contact"
		if len(ev.Sources) > 0 {
			source = ev.Sources[0].Name
		}
		return map[string]any{"type": "conversation " + ev.Action, "source": source}
	case *dsl.TagEvent:
		data := map[string]any{"type": "tag " + ev.Action}
		if len(ev.Tags) > 0 {
			data["tag"] = ev.Tags[0].Value()
		}
		return data
	case *dsl.ManualEvent:
		return map[string]any{"type": "manual", "parent": "repl"}
	case *dsl.ShortcutEvent:
		return map[string]any{"type": "shortcut", "user": "agent"}
	case *dsl.AdEvent:
		platform := "meta"
		if ev.Platform != nil {
			platform = ev.Platform.Name
		}
		return map[string]any{"type": "ad click", "platform": platform}
	case *dsl.FieldEvent:
		return map[string]any{"type": "field changed"}
	case *dsl.WebhookEvent:
		return map[string]any{"type": "webhook"}
	}
	return map[string]any{}
}
