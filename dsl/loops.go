package dsl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Flows set each other off through their triggers: A's step adds a tag
// whose trigger starts B, and B's step one that starts A (likewise fields,
// and conversations opened or closed). Each run enrols the contact in the
// next, without end; respond.io refuses to publish such flows ("Workflow
// loop detected"), and the engine stops them with its firing cap.
//
// The graph has a node per flow and per kind of change (tag added "VIP",
// field changed contact.city, conversation closed, ...): a flow points to
// the changes its steps make, a change to the flows whose triggers take it.
// Its size is linear in the steps and triggers, however many flows share a
// change, and its strongly connected components holding two flows or more
// are the loops. A flow that sets off only itself is Check's to report.

// A cause is a change a flow's step makes that a trigger may take.
type cause struct {
	pos    lexer.Position
	change string // the change node: tag added "VIP", field changed contact.city, ...
	what   string // how a diagnostic names the step: adds tag "VIP"
}

// causes lists what the steps of f change that triggers listen to; a tag
// a value decides ("$Tag") is left out: it may be any, or none.
func causes(f *File) []cause {
	var out []cause
	Walk(f.Steps, func(st *Stmt) {
		switch s := st.Step.(type) {
		case *TagStep:
			ev := map[string]string{"add": "tag added", "remove": "tag removed"}[s.Action]
			for _, tag := range s.Tags {
				if v, ok := literalText(tag); ok {
					out = append(out, cause{tag.Pos, fmt.Sprintf("%s %q", ev, v), fmt.Sprintf("%ss tag %q", s.Action, v)})
				}
			}
		case *Set:
			out = append(out, cause{s.Field.Pos, "field changed " + s.Field.String(), "sets " + s.Field.String()})
		case *Clear:
			out = append(out, cause{s.Field.Pos, "field changed " + s.Field.String(), "clears " + s.Field.String()})
		case *Ask:
			for _, o := range s.allOpts() {
				for _, tg := range o.Save {
					if tg.Ref != nil && len(tg.Ref.Parts) == 2 && tg.Ref.Parts[0] == "contact" {
						out = append(out, cause{tg.Ref.Pos, "field changed " + tg.Ref.String(), "saves the answer to " + tg.Ref.String()})
					}
				}
			}
		case *Open:
			out = append(out, cause{st.Pos, "conversation opened by flow", "opens a conversation"})
		case *Close:
			out = append(out, cause{st.Pos, "conversation closed", "closes the conversation"})
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

// listensTo are the change nodes f's trigger takes; "tag added *" stands
// for any tag, which every "tag added X" node points to.
func listensTo(f *File) []string {
	t := f.Trigger()
	if t == nil {
		return nil
	}
	switch ev := t.Event.(type) {
	case *TagEvent:
		if len(ev.Tags) == 0 {
			return []string{"tag " + ev.Action + " *"}
		}
		var out []string
		for _, tag := range ev.Tags {
			if v, ok := literalText(tag); ok {
				out = append(out, fmt.Sprintf("tag %s %q", ev.Action, v))
			}
		}
		return out
	case *FieldEvent:
		var out []string
		for _, r := range ev.Fields {
			out = append(out, "field changed "+r.String())
		}
		return out
	case *ConversationEvent:
		if ev.Action == "closed" {
			return []string{"conversation closed"}
		}
		if sourcesInclude(ev, "flow") {
			return []string{"conversation opened by flow"}
		}
	}
	return nil
}

// maxLoopReports bounds the flows a project's loops are reported on.
const maxLoopReports = 100

// triggerLoops warns each flow of a loop at the step that sets off the next
// flow, with the step of the flow before it that sets it off.
func triggerLoops(files []*File) Diagnostics {
	g := newLoopGraph(files)
	var ds Diagnostics
	for _, comp := range g.components() {
		for _, f := range comp {
			if len(ds) == maxLoopReports {
				return ds
			}
			if d := g.report(f, comp); d != nil {
				ds = append(ds, d)
			}
		}
	}
	return ds
}

// A loopGraph is the graph of flows and changes: nodes 0..len(files)-1 are
// the flows, the rest the changes.
type loopGraph struct {
	files  []*File
	names  []string         // of the change nodes, after the flows
	index  map[string]int   // change node by name
	out    [][]int          // edges
	causes map[[2]int]cause // flow -> change: the step that makes it
}

func newLoopGraph(files []*File) *loopGraph {
	g := &loopGraph{files: files, index: map[string]int{}, out: make([][]int, len(files)), causes: map[[2]int]cause{}}
	for i, f := range files {
		for _, c := range causes(f) {
			n := g.node(c.change)
			if _, dup := g.causes[[2]int{i, n}]; !dup {
				g.causes[[2]int{i, n}] = c
				g.out[i] = append(g.out[i], n)
			}
		}
		for _, name := range listensTo(f) {
			n := g.node(name)
			g.out[n] = append(g.out[n], i)
		}
	}
	return g
}

// node is the change node of the name, made on first use; a tag's points
// to the node of any tag.
func (g *loopGraph) node(name string) int {
	if i, ok := g.index[name]; ok {
		return i
	}
	i := len(g.files) + len(g.names)
	g.index[name] = i
	g.names = append(g.names, name)
	g.out = append(g.out, nil)
	for _, ev := range []string{"tag added ", "tag removed "} {
		if rest, ok := strings.CutPrefix(name, ev); ok && rest != "*" {
			g.out[i] = append(g.out[i], g.node(ev+"*"))
		}
	}
	return i
}

// components are the strongly connected components (Tarjan's) that hold
// two flows or more, each as its flows' indexes in order, the components
// in the order of their first flow.
func (g *loopGraph) components() [][]int {
	n := len(g.out)
	index, low := make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.out[v] {
			switch {
			case index[w] < 0:
				visit(w)
				low[v] = min(low[v], low[w])
			case onStack[w]:
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var flows []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			if w < len(g.files) {
				flows = append(flows, w)
			}
			if w == v {
				break
			}
		}
		if len(flows) > 1 {
			sort.Ints(flows)
			out = append(out, flows)
		}
	}
	for v := range g.files {
		if index[v] < 0 {
			visit(v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// path is the shortest path from one node to a flow node within the
// component (in, by node) for which stop holds, start first; nil when none.
func (g *loopGraph) path(from int, in map[int]bool, stop func(int) bool) []int {
	prev := map[int]int{from: -1}
	queue := []int{from}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.out[v] {
			if _, seen := prev[w]; seen || !(in[w] || w >= len(g.files)) {
				continue
			}
			prev[w] = v
			if w < len(g.files) && stop(w) {
				var p []int
				for x := w; x >= 0; x = prev[x] {
					p = append([]int{x}, p...)
				}
				return p
			}
			if w >= len(g.files) || in[w] {
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// report tells flow f of its loop: the step of f that sets off the next
// flow, and the step of the flow before f that sets f off.
func (g *loopGraph) report(f int, comp []int) *Diagnostic {
	in := map[int]bool{}
	for _, x := range comp {
		in[x] = true
	}
	ahead := g.path(f, in, func(w int) bool { return w != f })
	if ahead == nil {
		return nil
	}
	next := ahead[len(ahead)-1]
	back := g.path(next, in, func(w int) bool { return w == f })
	if back == nil {
		return nil
	}
	var loop []int // the flows, f first and last
	for _, x := range append(ahead, back[1:]...) {
		if x < len(g.files) {
			loop = append(loop, x)
		}
	}
	out := g.causes[[2]int{f, ahead[1]}]
	prev := loop[len(loop)-2]
	var into cause
	for i := len(back) - 2; i >= 0; i-- {
		if back[i] == prev {
			into = g.causes[[2]int{prev, back[i+1]}]
			break
		}
	}
	name := func(i int) string { return g.files[i].Name.Value() }
	tail := fmt.Sprintf("%q starts this flow again", name(next))
	if len(loop) > 3 {
		tail = fmt.Sprintf("through %d more flows this flow starts again", len(loop)-3)
	}
	names := make([]string, len(loop))
	for i, x := range loop {
		names[i] = fmt.Sprintf("%q", name(x))
	}
	d := warningAt(out.pos, "this step %s, which starts %q, and %s: a loop (Workflow loop detected)", out.what, name(next), tail)
	d.Detail = fmt.Sprintf("%s: %q %s, which starts %q again; loop: %s", into.pos, name(prev), into.what, name(f), strings.Join(names, " -> "))
	return d
}
