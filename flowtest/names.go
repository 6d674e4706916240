package flowtest

import (
	"fmt"
	"sort"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// A misspelled name in a test must fail the case, not read as nil and
// pass: `assert Scroe == nil` and `contact firstnme = Ana` name nothing
// the flow has.

// knownNames are the names a case's lines may use: the main flow's
// variables, and the contact fields any of the flows declares.
func knownNames(main *interpreter.Program, flows []runtime.Flow) *interpreter.Program {
	fields := map[string]string{}
	for _, f := range flows {
		for k, v := range f.Program.FieldTypes {
			fields[k] = v
		}
	}
	for k, v := range main.FieldTypes {
		fields[k] = v
	}
	return &interpreter.Program{Flow: main.Flow, Vars: main.Vars, FieldTypes: fields}
}

// runFields are the names run.* has in an assert.
var runFields = map[string]dsl.Type{"status": dsl.TypeText, "wait": dsl.TypeText}

// fieldsOf are the names a namespace has for the flow p; nil for one whose
// names are not known before the run (trigger).
func fieldsOf(p *interpreter.Program, namespace string) []string {
	var out []string
	add := func(m map[string]dsl.Type) {
		for k := range m {
			out = append(out, k)
		}
	}
	switch namespace {
	case "contact":
		add(dsl.ContactFields)
		for k := range p.FieldTypes {
			out = append(out, k)
		}
	case "conversation":
		add(dsl.ConversationFields)
	case "assignee":
		add(dsl.AssigneeFields)
	case "run":
		add(runFields)
	default:
		return nil
	}
	sort.Strings(out)
	return out
}

// CheckField says whether a setup line's field is one the flow has: a
// contact field it declares or a standard one, a conversation's or an
// assignee's.
func CheckField(p *interpreter.Program, namespace, name string) error {
	known := fieldsOf(p, namespace)
	if known == nil {
		return nil
	}
	for _, k := range known {
		if k == name {
			return nil
		}
	}
	return unknown(fmt.Sprintf("%s has no field %q", namespace, name), name, known)
}

func unknown(what, name string, candidates []string) error {
	if best := dsl.Nearest(name, candidates); best != "" {
		return fmt.Errorf("%s (did you mean %q?)", what, best)
	}
	return fmt.Errorf("%s", what)
}

// checkNames says whether every name an assert reads exists: a namespace
// or a variable of the flow p at the top, a field the namespace has after
// it.
func checkNames(p *interpreter.Program, code string) error {
	tree, err := parser.Parse(code)
	if err != nil {
		return nil // the compiler reports it
	}
	var c nameCollector
	ast.Walk(&tree.Node, &c)
	top := []string{"contact", "conversation", "assignee", "trigger", "run"}
	top = append(top, p.Vars...)
	for _, id := range c.idents {
		if c.callees[id] || c.lets[id.Value] || contains(top, id.Value) {
			continue
		}
		return unknown(fmt.Sprintf("unknown name %q", id.Value), id.Value, top)
	}
	for _, m := range c.members {
		ns := m.Node.(*ast.IdentifierNode).Value
		prop, ok := m.Property.(*ast.StringNode)
		known := fieldsOf(p, ns)
		if !ok || known == nil || c.lets[ns] || contains(known, prop.Value) {
			continue
		}
		return unknown(fmt.Sprintf("%s has no field %q", ns, prop.Value), prop.Value, known)
	}
	return nil
}

// nameCollector gathers an expression's names: identifiers, members of an
// identifier, the callees of calls and the names of lets.
type nameCollector struct {
	idents  []*ast.IdentifierNode
	members []*ast.MemberNode
	callees map[*ast.IdentifierNode]bool
	lets    map[string]bool
}

func (c *nameCollector) Visit(node *ast.Node) {
	if c.callees == nil {
		c.callees, c.lets = map[*ast.IdentifierNode]bool{}, map[string]bool{}
	}
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		c.idents = append(c.idents, n)
	case *ast.MemberNode:
		if _, ok := n.Node.(*ast.IdentifierNode); ok {
			c.members = append(c.members, n)
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			c.callees[id] = true
		}
	case *ast.VariableDeclaratorNode:
		c.lets[n.Name] = true
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
