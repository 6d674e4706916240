package dsl

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// A cause is a change a flow's step makes that a trigger may take: a tag
// added or removed, a contact field changed, a conversation opened or
// closed by the flow.
type cause struct {
	pos    lexer.Position
	event  string // tag added, tag removed, field changed, conversation opened, conversation closed
	detail string // the tag or the field; "" when a value decides it at run time
	what   string // how a diagnostic names the step: adds tag "VIP"
}

// causes lists what the steps of f change that triggers listen to.
func causes(f *File) []cause {
	var out []cause
	Walk(f.Steps, func(st *Stmt) {
		switch s := st.Step.(type) {
		case *TagStep:
			ev := map[string]string{"add": "tag added", "remove": "tag removed"}[s.Action]
			for _, tag := range s.Tags {
				v, ok := literalText(tag)
				what := fmt.Sprintf("%ss tag %q", s.Action, tag.Value())
				if !ok {
					v = ""
				}
				out = append(out, cause{tag.Pos, ev, v, what})
			}
		case *Set:
			out = append(out, cause{s.Field.Pos, "field changed", s.Field.String(), "sets " + s.Field.String()})
		case *Clear:
			out = append(out, cause{s.Field.Pos, "field changed", s.Field.String(), "clears " + s.Field.String()})
		case *Ask:
			for _, o := range s.allOpts() {
				for _, tg := range o.Save {
					if tg.Ref != nil && len(tg.Ref.Parts) == 2 && tg.Ref.Parts[0] == "contact" {
						out = append(out, cause{tg.Ref.Pos, "field changed", tg.Ref.String(), "saves the answer to " + tg.Ref.String()})
					}
				}
			}
		case *Open:
			out = append(out, cause{st.Pos, "conversation opened", "", "opens a conversation"})
		case *Close:
			out = append(out, cause{st.Pos, "conversation closed", "", "closes the conversation"})
		}
	})
	return out
}

// literalText is a text's value when no value fills it in.
func literalText(t *Text) (string, bool) {
	for _, s := range t.Segments() {
		if s.Kind != Literal {
			return "", false
		}
	}
	return t.Value(), true
}

// takes reports whether f's trigger takes the change c.
func takes(f *File, c cause) bool {
	t := f.Trigger()
	if t == nil {
		return false
	}
	switch ev := t.Event.(type) {
	case *TagEvent:
		if c.event != "tag "+ev.Action {
			return false
		}
		if len(ev.Tags) == 0 || c.detail == "" {
			return len(ev.Tags) == 0 // a tag a value decides may be any: no loop claimed
		}
		for _, tag := range ev.Tags {
			if v, ok := literalText(tag); ok && v == c.detail {
				return true
			}
		}
	case *FieldEvent:
		if c.event != "field changed" {
			return false
		}
		for _, r := range ev.Fields {
			if r.String() == c.detail {
				return true
			}
		}
	case *ConversationEvent:
		return c.event == "conversation "+ev.Action && (ev.Action == "closed" || sourcesInclude(ev, "flow"))
	}
	return false
}

// triggerLoops warns about flows that set each other off through their
// triggers: A's step adds a tag whose trigger starts B, and B's step one
// that starts A (likewise fields, and conversations opened or closed). Each
// run enrols the contact in the next, without end; respond.io refuses to
// publish such flows ("Workflow loop detected"), and the engine stops them
// with its firing cap. A flow that sets off itself is Check's to report.
// Each flow of a loop is told at the step that sets off the next, with the
// step of the flow before it.
func triggerLoops(files []*File) Diagnostics {
	type edge struct {
		to *File
		c  cause
	}
	edges := map[*File][]edge{}
	for _, f := range files {
		for _, c := range causes(f) {
			for _, g := range files {
				if g != f && takes(g, c) {
					edges[f] = append(edges[f], edge{g, c})
				}
			}
		}
	}
	var ds Diagnostics
	reported := map[[2]*File]bool{}
	for _, f := range files {
		for _, e := range edges[f] {
			if reported[[2]*File{f, e.to}] {
				continue
			}
			// a path from e.to back to f closes a loop
			back := pathBack(e.to, f, func(n *File) []*File {
				var out []*File
				for _, x := range edges[n] {
					out = append(out, x.to)
				}
				return out
			})
			if back == nil {
				continue
			}
			reported[[2]*File{f, e.to}] = true
			last := back[len(back)-2] // the flow whose step sets off f
			var into cause
			for _, x := range edges[last] {
				if x.to == f {
					into = x.c
					break
				}
			}
			names := make([]string, 0, len(back))
			for _, n := range back {
				names = append(names, fmt.Sprintf("%q", n.Name.Value()))
			}
			d := warningAt(e.c.pos, "this step %s, which starts %q, and %s: a loop (Workflow loop detected)",
				e.c.what, e.to.Name.Value(), loopTail(back, f))
			d.Detail = fmt.Sprintf("%s: %q %s, which starts %q again; loop: %q -> %s", into.pos, last.Name.Value(), into.what,
				f.Name.Value(), f.Name.Value(), strings.Join(names, " -> "))
			ds = append(ds, d)
		}
	}
	return ds
}

// loopTail says how the loop comes back: "which starts ..." phrasing for
// its summary.
func loopTail(back []*File, f *File) string {
	if len(back) == 2 {
		return fmt.Sprintf("%q starts this flow again", back[0].Name.Value())
	}
	return fmt.Sprintf("through %d more flows this flow starts again", len(back)-2)
}

// pathBack finds a path from start to goal along next, start first and
// goal last, or nil.
func pathBack(start, goal *File, next func(*File) []*File) []*File {
	prev := map[*File]*File{start: nil}
	queue := []*File{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range next(n) {
			if _, seen := prev[m]; seen {
				continue
			}
			prev[m] = n
			if m == goal {
				var path []*File
				for x := m; x != nil; x = prev[x] {
					path = append([]*File{x}, path...)
				}
				return path
			}
			queue = append(queue, m)
		}
	}
	return nil
}
