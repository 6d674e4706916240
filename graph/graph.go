// Package graph draws a flow as a diagram: one node per step, edges for the
// path a run takes, branches labelled. It renders Mermaid (for Markdown, which
// GitHub displays) and Graphviz DOT.
package graph

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/flowd/flowd/dsl"
)

// A Graph is the control flow of one flow.
type Graph struct {
	Nodes []*Node
	Edges []Edge
}

// A Node is a step, the trigger, or the end.
type Node struct {
	ID    string
	Label string
	Shape Shape
}

// Shape hints at what a node is.
type Shape int

const (
	Box      Shape = iota // an action
	Decision              // if, during: a choice with no waiting
	Wait                  // a step that waits: ask, assign, http, wait, ai
	Terminal              // the trigger and the end
)

// An Edge goes from one node to the next, optionally labelled with its branch.
type Edge struct {
	From, To string
	Label    string
}

type builder struct {
	g      *Graph
	ids    map[*dsl.Stmt]string // statement -> node id
	labels map[string]string    // step label -> node id
	end    *Node
	n      int
}

// Build computes the graph of a parsed flow.
func Build(f *dsl.File) *Graph {
	b := &builder{g: &Graph{}, ids: map[*dsl.Stmt]string{}, labels: map[string]string{}}
	start := b.node(triggerLabel(f.Trigger()), Terminal)
	b.end = &Node{ID: "done", Label: "end", Shape: Terminal} // "end" is a Mermaid keyword
	// labels first, so that forward jumps find their target
	b.assignIDs(f.Steps)
	first := b.seq(f.Steps, b.end.ID)
	b.edge(start.ID, first, "")
	b.g.Nodes = append(b.g.Nodes, b.end)
	// edges were drawn from the last step back; list them in step order
	order := map[string]int{}
	for i, n := range b.g.Nodes {
		order[n.ID] = i
	}
	sort.SliceStable(b.g.Edges, func(i, j int) bool { return order[b.g.Edges[i].From] < order[b.g.Edges[j].From] })
	return b.g
}

func (b *builder) node(label string, shape Shape) *Node {
	b.n++
	n := &Node{ID: "n" + strconv.Itoa(b.n), Label: label, Shape: shape}
	b.g.Nodes = append(b.g.Nodes, n)
	return n
}

func (b *builder) edge(from, to, label string) {
	b.g.Edges = append(b.g.Edges, Edge{From: from, To: to, Label: label})
}

// assignIDs makes a node for every statement, in source order, before any
// edge is drawn.
func (b *builder) assignIDs(stmts []*dsl.Stmt) {
	dsl.Walk(stmts, func(st *dsl.Stmt) {
		n := b.node(stepLabel(st), shapeOf(st.Step))
		b.ids[st] = n.ID
		if st.Label != nil {
			b.labels[st.Label.Name] = n.ID
		}
	})
}

// seq draws the edges of a list of statements whose run continues at next
// afterwards, and returns the id of the first node (next if the list is empty).
func (b *builder) seq(stmts []*dsl.Stmt, next string) string {
	for i := len(stmts) - 1; i >= 0; i-- {
		next = b.stmt(stmts[i], next)
	}
	return next
}

func (b *builder) stmt(st *dsl.Stmt, next string) string {
	id := b.ids[st]
	switch s := st.Step.(type) {
	case *dsl.Stop:
		b.edge(id, b.end.ID, "")
	case *dsl.Jump:
		label := "jump"
		if s.Max != nil {
			label = fmt.Sprintf("jump (at most %d)", s.Max.Value)
		}
		if target, ok := b.labels[s.Target.Name]; ok {
			b.edge(id, target, label)
		}
		b.edge(id, next, "once spent")
	case *dsl.If:
		b.edge(id, b.seq(s.Then.Stmts, next), "yes")
		otherwise := next
		// else-if arms become their own decision nodes, drawn from the last
		for i := len(s.Elses) - 1; i >= 0; i-- {
			e := s.Elses[i]
			body := b.seq(e.Block.Stmts, next)
			if e.Cond == nil {
				otherwise = body
				continue
			}
			n := b.node("if "+short(e.Cond.Src), Decision)
			b.edge(n.ID, body, "yes")
			b.edge(n.ID, otherwise, "no")
			otherwise = n.ID
		}
		b.edge(id, otherwise, "no")
	default:
		present := map[string]bool{}
		for _, on := range dsl.Branches(st.Step) {
			present[on.Name.Name] = true
			b.edge(id, b.seq(on.Block.Stmts, next), on.Name.Name)
		}
		if !present["inside"] {
			b.edge(id, next, successLabel(st.Step))
		}
		if _, during := st.Step.(*dsl.During); during && !present["outside"] {
			b.edge(id, next, "outside")
		}
		if ends := endingBranches(st.Step, present); len(ends) > 0 {
			b.edge(id, b.end.ID, strings.Join(ends, ", "))
		}
	}
	return id
}

// endingBranches are the outcomes of a step that end the run because the
// step has no branch for them: an ask's invalid reply and timeout, an
// assignment's timeout, an AI reply's failures.
func endingBranches(s dsl.Step, present map[string]bool) []string {
	var outcomes []string
	switch s := s.(type) {
	case *dsl.Ask:
		outcomes = []string{"invalid"}
		for _, o := range s.Options() {
			if o.Timeout != nil {
				outcomes = append(outcomes, "timeout")
			}
		}
	case *dsl.Assign:
		outcomes = []string{"timeout"}
	case *dsl.AI:
		if s.Mode == "reply" {
			outcomes = []string{"human", "unable", "idle", "failure"}
		}
	}
	var missing []string
	for _, o := range outcomes {
		if !present[o] {
			missing = append(missing, o)
		}
	}
	return missing
}

func successLabel(s dsl.Step) string {
	switch s := s.(type) {
	case *dsl.Ask:
		return "answered"
	case *dsl.Assign:
		return "assigned"
	case *dsl.HTTP:
		return "ok"
	case *dsl.During:
		return "inside"
	case *dsl.Wait:
		return "after " + s.For.Raw
	case *dsl.AI:
		if s.Mode == "reply" {
			return "success"
		}
	}
	return ""
}

func shapeOf(s dsl.Step) Shape {
	switch s.(type) {
	case *dsl.If, *dsl.During:
		return Decision
	case *dsl.Ask, *dsl.Assign, *dsl.HTTP, *dsl.Wait:
		return Wait
	case *dsl.AI:
		if s.(*dsl.AI).Mode == "reply" {
			return Wait
		}
	case *dsl.Stop:
		return Terminal
	}
	return Box
}

func triggerLabel(t *dsl.Trigger) string {
	if t == nil {
		return "no trigger"
	}
	switch ev := t.Event.(type) {
	case *dsl.ConversationEvent:
		out := "conversation " + ev.Action
		for i, s := range ev.Sources {
			if i == 0 {
				out += " by "
			} else {
				out += ", "
			}
			out += s.Name
		}
		return out
	case *dsl.TagEvent:
		return "tag " + ev.Action
	case *dsl.FieldEvent:
		return "field changed"
	case *dsl.WebhookEvent:
		return "webhook"
	case *dsl.ManualEvent:
		return "started by another flow"
	case *dsl.ShortcutEvent:
		return "shortcut " + ev.Name.Value()
	case *dsl.AdEvent:
		return "ad click"
	}
	return "trigger"
}

// stepLabel is a one-line summary of a step.
func stepLabel(st *dsl.Stmt) string {
	prefix := ""
	if st.Label != nil {
		prefix = st.Label.Name + ": "
	}
	var s string
	switch x := st.Step.(type) {
	case *dsl.Send:
		s = "send " + short(x.Text.Value())
	case *dsl.Ask:
		s = "ask " + x.AskType() + " " + short(x.Prompt.Value())
	case *dsl.Assign:
		s = "assign " + x.Kind
		if x.Target != nil {
			s += " " + x.Target.Value()
		}
	case *dsl.Unassign:
		s = "unassign"
	case *dsl.If:
		s = "if " + short(x.Cond.Src)
	case *dsl.TagStep:
		var tags []string
		for _, t := range x.Tags {
			tags = append(tags, t.Value())
		}
		s = "tag " + x.Action + " " + strings.Join(tags, ", ")
	case *dsl.Set:
		s = "set " + x.Field.String()
	case *dsl.Clear:
		s = "clear " + x.Field.String()
	case *dsl.Open:
		s = "open conversation"
	case *dsl.Close:
		s = "close conversation"
	case *dsl.CommentStep:
		s = "comment " + short(x.Text.Value())
	case *dsl.Jump:
		s = "jump to " + x.Target.Name
	case *dsl.Wait:
		s = "wait " + x.For.Raw
	case *dsl.Start:
		s = "start " + x.Flow.Value()
	case *dsl.During:
		var hours []string
		for _, h := range x.Hours {
			days := h.FirstDay.Name
			if h.LastDay != nil {
				days += "-" + h.LastDay.Name
			}
			hours = append(hours, days+" "+h.From.Value+"-"+h.To.Value)
		}
		s = "during " + strings.Join(hours, ", ")
		if x.Business {
			s = "during business hours"
		}
		if x.Range != nil {
			s = "during " + x.Range.StartDate + " .. " + x.Range.EndDate
		}
	case *dsl.HTTP:
		s = "http " + x.Method.Name + " " + short(x.URL.Value())
	case *dsl.Sheet:
		s = "sheet row"
	case *dsl.AI:
		s = "ai " + x.Mode
	case *dsl.Stop:
		s = "stop"
	}
	return prefix + s
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// Mermaid writes the graph as a Mermaid flowchart.
func (g *Graph) Mermaid(w io.Writer) {
	fmt.Fprintln(w, "flowchart TD")
	for _, n := range g.Nodes {
		label := mermaidText(n.Label)
		switch n.Shape {
		case Decision:
			fmt.Fprintf(w, "  %s{\"%s\"}\n", n.ID, label)
		case Wait:
			fmt.Fprintf(w, "  %s[/\"%s\"/]\n", n.ID, label)
		case Terminal:
			fmt.Fprintf(w, "  %s([\"%s\"])\n", n.ID, label)
		default:
			fmt.Fprintf(w, "  %s[\"%s\"]\n", n.ID, label)
		}
	}
	for _, e := range g.Edges {
		if e.Label == "" {
			fmt.Fprintf(w, "  %s --> %s\n", e.From, e.To)
		} else {
			fmt.Fprintf(w, "  %s -->|\"%s\"| %s\n", e.From, mermaidText(e.Label), e.To)
		}
	}
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

// DOT writes the graph in Graphviz's DOT language.
func (g *Graph) DOT(w io.Writer) {
	fmt.Fprintln(w, "digraph flow {")
	fmt.Fprintln(w, "  node [fontname=\"Helvetica\"];")
	for _, n := range g.Nodes {
		shape := map[Shape]string{Box: "box", Decision: "diamond", Wait: "parallelogram", Terminal: "oval"}[n.Shape]
		fmt.Fprintf(w, "  %s [label=%s, shape=%s];\n", n.ID, strconv.Quote(n.Label), shape)
	}
	for _, e := range g.Edges {
		if e.Label == "" {
			fmt.Fprintf(w, "  %s -> %s;\n", e.From, e.To)
		} else {
			fmt.Fprintf(w, "  %s -> %s [label=%s];\n", e.From, e.To, strconv.Quote(e.Label))
		}
	}
	fmt.Fprintln(w, "}")
}
