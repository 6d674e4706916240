package dsl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// condition checks an if or when condition: it must compile and be boolean,
// and name at most maxConditions comparisons joined by && and ||.
func (c *checker) condition(e *Expr) *exprparser.Tree {
	tree := c.compile(e.Src, e.Pos, true)
	if tree == nil {
		return nil
	}
	if n := countConditions(tree); n > maxConditions {
		c.errorf(e.Pos, "condition joins %d comparisons; the limit is %d", n, maxConditions)
	}
	return tree
}

// countConditions counts the operands of the top-level chain of && and ||.
func countConditions(tree *exprparser.Tree) int {
	var count func(n exprast.Node) int
	count = func(n exprast.Node) int {
		if b, ok := n.(*exprast.BinaryNode); ok {
			switch b.Operator {
			case "&&", "||", "and", "or":
				return count(b.Left) + count(b.Right)
			}
		}
		return 1
	}
	return count(tree.Node)
}

// text checks the interpolations in a text: references must name something in
// scope, and ${ } expressions must compile.
func (c *checker) text(t *Text) {
	for _, seg := range t.Segments() {
		switch seg.Kind {
		case RefSegment:
			c.reference(seg.Value, seg.Pos)
		case ExprSegment:
			if strings.TrimSpace(seg.Value) == "" {
				c.errorf(t.PosAt(seg.Offset-2), "empty ${ }")
				continue
			}
			c.compile(seg.Value, seg.Pos, false)
		}
	}
}

// reference checks a $reference such as contact.firstname or CustomerType.
func (c *checker) reference(ref string, pos lexer.Position) {
	parts := strings.Split(ref, ".")
	root := parts[0]
	fields, isNS := c.scope.ns[root]
	if !isNS {
		if _, ok := c.scope.vars[root]; !ok {
			c.errorf(pos, "unknown variable %q", root).Detail = hintOr(c.didYouMean(root, c.scope.names()),
				"variables come from ask ... save NAME, http map ... to NAME and ai ... save NAME; write $$ for a dollar sign")
			return
		}
		return // a variable; deeper parts index into its value at run time
	}
	if len(parts) == 1 {
		c.errorf(pos, "$%s needs a field, such as $%s.%s", root, root, sortedKeys(fields)[0])
		return
	}
	if _, ok := fields[parts[1]]; !ok {
		fpos := pos
		fpos.Advance(root + ".")
		d := c.errorf(fpos, "unknown %s field %q", root, parts[1])
		d.Detail = c.didYouMean(parts[1], sortedKeys(fields))
		if d.Detail == "" && root == "contact" {
			d.Detail = "declare custom fields in the header: field " + parts[1] + " text"
		}
		return
	}
	if len(parts) > 2 && fields[parts[1]] != TypeAny {
		fpos := pos
		fpos.Advance(root + "." + parts[1])
		c.errorf(fpos, "%s.%s has no fields", root, parts[1])
	}
}

var (
	reUnknownName = regexp.MustCompile(`^unknown name (\S+)`)
	reNoField     = regexp.MustCompile(`has no field (\S+)$`)
)

// compile type-checks an expression with expr-lang against the flow's scope and
// reports errors at their position in the .flow file. pos is where src starts.
// It returns the expression's syntax tree when it compiles.
func (c *checker) compile(src string, pos lexer.Position, asBool bool) *exprparser.Tree {
	ec := c.scope.compiler(asBool)
	if _, err := ec.Compile(src); err != nil {
		c.compileError(err, src, pos)
		return nil
	}
	tree, err := ec.Parse(src)
	if err != nil {
		return nil
	}
	c.tooBig(tree, src, pos)
	return tree
}

// tooBig reports what an expression is sure to build past the budget of one
// evaluation (ExprBudget): a literal range of more numbers, a repeat of a
// literal text into more characters.
func (c *checker) tooBig(tree *exprparser.Tree, src string, pos lexer.Position) {
	exprast.Walk(&tree.Node, visitor(func(n exprast.Node) {
		switch n := n.(type) {
		case *exprast.BinaryNode:
			lo, ok1 := n.Left.(*exprast.IntegerNode)
			hi, ok2 := n.Right.(*exprast.IntegerNode)
			if n.Operator == ".." && ok1 && ok2 && int64(hi.Value)-int64(lo.Value)+1 >= ExprBudget { // with its own steps, past it
				c.errorf(AdvanceRunes(pos, src, lo.Location().From), "range %d..%d has %d numbers; one evaluation may take %d steps",
					lo.Value, hi.Value, int64(hi.Value)-int64(lo.Value)+1, ExprBudget).Detail = fmt.Sprintf("to test a span, write x >= %d && x <= %d", lo.Value, hi.Value)
			}
		case *exprast.BuiltinNode:
			if n.Name != "repeat" || len(n.Arguments) != 2 {
				return
			}
			s, ok1 := n.Arguments[0].(*exprast.StringNode)
			k, ok2 := n.Arguments[1].(*exprast.IntegerNode)
			if ok1 && ok2 && int64(len(s.Value))*int64(k.Value) >= ExprBudget {
				c.errorf(AdvanceRunes(pos, src, n.Location().From), "repeat makes %d bytes of text; one evaluation may take %d steps",
					int64(len(s.Value))*int64(k.Value), ExprBudget)
			}
		}
	}))
}

// visitor adapts a function to expr's ast.Visitor.
type visitor func(exprast.Node)

func (v visitor) Visit(n *exprast.Node) { v(*n) }

// compileError reports expr's compile error at its place in the .flow file,
// in an author's words where expr's would puzzle.
func (c *checker) compileError(err error, src string, pos lexer.Position) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		// expr.AsBool reports a non-boolean result as a plain error, without a
		// position: it is about the whole condition.
		c.errorf(pos, "%s", notBool(err.Error()))
		return
	}
	at := AdvanceRunes(pos, src, fe.From)
	msg := fe.Message
	switch {
	case errors.Is(err, errExprTooDeep):
		c.errorf(at, "expression nests more than %d deep", MaxExprDepth).Detail =
			"brackets and !, not and - nest; simplify it, or split it into several steps"
		return
	case strings.HasPrefix(msg, `unexpected token Operator("#`):
		c.errorf(at, "a # comment cannot go inside a condition's brackets").Detail =
			"# there is expr's element of a loop (filter(list, # > 1)); put the comment above the step"
		return
	case strings.Contains(msg, "exceeds maximum allowed nodes"):
		c.errorf(pos, "expression has more than %d parts", MaxExprNodes).Detail = "split it into several steps"
		return
	}
	if m := reUnknownName.FindStringSubmatch(msg); m != nil && m[1] == "now" {
		c.errorf(at, "now() is not available in flows").Detail = "read the clock as system.now, which tests and the REPL can set"
		return
	}
	if m := reUnknownName.FindStringSubmatch(msg); m != nil {
		c.errorf(at, "unknown variable %q", m[1]).Detail = hintOr(c.didYouMean(m[1], c.scope.names()),
			"variables come from ask ... save NAME, http map ... to NAME and ai ... save NAME")
		return
	}
	if m := reNoField.FindStringSubmatch(msg); m != nil {
		ns := namespaceBefore(src, fe.From)
		d := c.errorf(at, "unknown %s field %q", ns, m[1])
		if fields, ok := c.scope.ns[ns]; ok {
			d.Detail = c.didYouMean(m[1], sortedKeys(fields))
		}
		return
	}
	msg, hint := TypeMessage(msg)
	c.errorf(at, "%s", notBool(msg)).Detail = hint
}

// notBool rewords expr's complaint about a condition that is not boolean.
func notBool(msg string) string {
	if strings.HasPrefix(msg, "expected bool") {
		return "condition is not true or false: it is " + typeWord(strings.TrimPrefix(msg, "expected bool, but got "))
	}
	return msg
}

// AdvanceRunes moves pos forward over the first n characters of src.
func AdvanceRunes(pos lexer.Position, src string, n int) lexer.Position {
	if n <= 0 {
		return pos
	}
	i := 0
	for k := 0; k < n && i < len(src); k++ {
		_, size := utf8.DecodeRuneInString(src[i:])
		i += size
	}
	pos.Advance(src[:i])
	return pos
}

// namespaceBefore finds the name before the dot that precedes character n of src:
// for `contact.emial` and n at "emial" it returns "contact".
func namespaceBefore(src string, n int) string {
	r := []rune(src)
	if n > len(r) {
		n = len(r)
	}
	end := n
	for end > 0 && (r[end-1] == '.' || r[end-1] == '?' || r[end-1] == ' ') {
		end--
	}
	start := end
	for start > 0 && isIdentPart(r[start-1]) {
		start--
	}
	return string(r[start:end])
}
