package dsl

import (
	"fmt"
	"sort"
	"strings"
)

// CheckProject reports problems that span flows: two flows with one name, a
// start step naming a flow that does not exist or cannot be started, flows that
// start each other in a cycle, and group members with equal priority. Each
// file should already have passed Parse; Check reports the rest.
func CheckProject(files []*File) Diagnostics {
	var ds Diagnostics
	byName := map[string]*File{}
	names := []string{}
	for _, f := range files {
		name := f.Name.Value()
		if prev, ok := byName[name]; ok {
			d := errorAt(f.Name.Pos, "flow %q is also defined in %s", name, prev.Filename())
			ds = append(ds, d)
			continue
		}
		byName[name] = f
		names = append(names, name)
	}
	// start targets: they must exist and have a manual trigger.
	edges := map[string][]string{}
	for _, f := range files {
		Walk(f.Steps, func(st *Stmt) {
			s, ok := st.Step.(*Start)
			if !ok {
				return
			}
			target := s.Flow.Value()
			tf, ok := byName[target]
			switch {
			case !ok:
				d := errorAt(s.Flow.Pos, "no flow is named %q", target)
				d.Detail = didYouMean(target, names)
				ds = append(ds, d)
			case !isManual(tf):
				d := errorAt(s.Flow.Pos, "flow %q cannot be started by another flow", target)
				d.Detail = "its trigger must be: trigger manual (" + tf.Filename() + ")"
				ds = append(ds, d)
			case isDraft(tf):
				d := warningAt(s.Flow.Pos, "flow %q is a draft: starting it does nothing", target)
				d.Detail = "remove the draft line from " + tf.Filename()
				ds = append(ds, d)
			default:
				edges[f.Name.Value()] = append(edges[f.Name.Value()], target)
			}
		})
	}
	ds = append(ds, fieldConflicts(files)...)
	ds = append(ds, startCycles(byName, edges)...)
	ds = append(ds, groupTies(files)...)
	ds = append(ds, triggerLoops(files)...)
	ds.Sort()
	return ds.Limit()
}

func isManual(f *File) bool {
	t := f.Trigger()
	if t == nil {
		return false
	}
	_, ok := t.Event.(*ManualEvent)
	return ok
}

// startCycles reports each flow that can, through start steps, start itself.
func startCycles(byName map[string]*File, edges map[string][]string) Diagnostics {
	var ds Diagnostics
	for _, name := range sortedKeys(edges) {
		// depth-first search from name, looking for a path back to it
		seen := map[string]bool{}
		var path []string
		var visit func(n string) bool
		visit = func(n string) bool {
			for _, m := range edges[n] {
				if m == name {
					path = append(path, m)
					return true
				}
				if !seen[m] {
					seen[m] = true
					path = append(path, m)
					if visit(m) {
						return true
					}
					path = path[:len(path)-1]
				}
			}
			return false
		}
		if visit(name) {
			f := byName[name]
			d := errorAt(f.Name.Pos, "flow %q starts itself through start steps", name)
			var b strings.Builder
			fmt.Fprintf(&b, "cycle: %q", name)
			for i, p := range path { // a long cycle is named by its ends
				if i < maxCycleShown || i == len(path)-1 {
					fmt.Fprintf(&b, " -> %q", p)
				} else if i == maxCycleShown {
					fmt.Fprintf(&b, " -> … (%d flows)", len(path)-1-maxCycleShown)
				}
			}
			d.Detail = b.String()
			ds = append(ds, d)
		}
	}
	return ds
}

// maxCycleShown is how many flows of a cycle of start steps its error
// names before it counts the rest.
const maxCycleShown = 10

// groupTies warns about flows of one group that share a priority and a trigger,
// since then their order falls back to their names.
func groupTies(files []*File) Diagnostics {
	type key struct{ group, event string }
	byPrio := map[key]map[int][]*File{}
	for _, f := range files {
		g, prio := groupOf(f)
		if g == nil || f.Trigger() == nil {
			continue
		}
		k := key{g.Name.Value(), eventKind(f.Trigger().Event)}
		if byPrio[k] == nil {
			byPrio[k] = map[int][]*File{}
		}
		byPrio[k][prio] = append(byPrio[k][prio], f)
	}
	var ds Diagnostics
	for _, m := range byPrio {
		for prio, fs := range m {
			sort.Slice(fs, func(i, j int) bool { return fs[i].Name.Value() < fs[j].Name.Value() })
			// one warning for each flow that ties with one before it: a
			// warning for each pair made 12 million for 5,000 flows
			for j, b := range fs {
				for _, a := range fs[:j] {
					if !sameEvents(a.Trigger().Event, b.Trigger().Event) {
						continue
					}
					g, _ := groupOf(b)
					d := warningAt(g.Pos, "flows %q and %q share group %q and priority %d", a.Name.Value(), b.Name.Value(), g.Name.Value(), prio)
					d.Detail = "give each a distinct priority so the order does not depend on names"
					ds = append(ds, d)
					break
				}
			}
		}
	}
	return ds
}

// sameEvents reports whether two triggers of one kind can fire on the same
// event: conversation triggers only when their sources overlap.
func sameEvents(a, b Event) bool {
	ca, ok1 := a.(*ConversationEvent)
	cb, ok2 := b.(*ConversationEvent)
	if !ok1 || !ok2 || len(ca.Sources) == 0 || len(cb.Sources) == 0 {
		return true
	}
	for _, s := range ca.Sources {
		if sourcesInclude(cb, s.Name) {
			return true
		}
	}
	return false
}

func isDraft(f *File) bool {
	for _, h := range f.Header {
		if _, ok := h.(*Draft); ok {
			return true
		}
	}
	return false
}

// fieldConflicts reports a custom field declared with different types in
// different flows: the workspace has one field of one type.
func fieldConflicts(files []*File) Diagnostics {
	type decl struct {
		typ  string
		file *File
	}
	first := map[string]decl{}
	var ds Diagnostics
	for _, f := range files {
		for _, h := range f.Header {
			fd, ok := h.(*FieldDecl)
			if !ok {
				continue
			}
			prev, seen := first[fd.Name.Name]
			if !seen {
				first[fd.Name.Name] = decl{fd.Type.Name, f}
				continue
			}
			if prev.typ != fd.Type.Name {
				d := errorAt(fd.Type.Pos, "field %s is declared %s here but %s in %s", fd.Name.Name, fd.Type.Name, prev.typ, prev.file.Filename())
				d.Detail = "a contact field has one type in the whole workspace"
				ds = append(ds, d)
			}
		}
	}
	return ds
}

// groupOf returns a flow's group and its priority (0 when not given).
func groupOf(f *File) (*Group, int) {
	for _, h := range f.Header {
		if g, ok := h.(*Group); ok {
			if g.Priority != nil {
				return g, g.Priority.Value
			}
			return g, 0
		}
	}
	return nil, 0
}

// eventKind names the kind of event a trigger listens to, for grouping.
func eventKind(e Event) string {
	switch e := e.(type) {
	case *ConversationEvent:
		return "conversation " + e.Action
	case *TagEvent:
		return "tag " + e.Action
	case *FieldEvent:
		return "field"
	case *WebhookEvent:
		return "webhook"
	case *ManualEvent:
		return "manual"
	case *ShortcutEvent:
		return "shortcut"
	case *AdEvent:
		return "ad"
	}
	return ""
}
