package dsl

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// condition checks an if or when condition: it must compile and be boolean,
// and name at most maxConditions comparisons joined by && and ||.
func (c *checker) condition(e *Expr) {
	if n := countConditions(e.Src); n > maxConditions {
		c.errorf(e.Pos, "condition joins %d comparisons; the limit is %d", n, maxConditions)
	}
	c.compile(e.Src, e.Pos, true)
}

// countConditions counts the operands of the top-level chain of && and ||.
func countConditions(src string) int {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return 0
	}
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
			c.reference(seg.Value, t.PosAt(seg.Offset))
		case ExprSegment:
			if strings.TrimSpace(seg.Value) == "" {
				c.errorf(t.PosAt(seg.Offset-2), "empty ${ }")
				continue
			}
			c.compile(seg.Value, t.PosAt(seg.Offset), false)
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
			c.errorf(pos, "unknown variable %q", root).Detail = hintOr(didYouMean(root, c.scope.names()),
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
		d.Detail = didYouMean(parts[1], sortedKeys(fields))
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
func (c *checker) compile(src string, pos lexer.Position, asBool bool) {
	// now() is off: flows read the injected clock as system.now
	opts := []expr.Option{expr.Env(c.scope.env), expr.DisableBuiltin("now")}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	_, err := expr.Compile(src, opts...)
	if err == nil {
		return
	}
	var fe *file.Error
	if !errors.As(err, &fe) {
		// expr.AsBool reports a non-boolean result as a plain error, without a
		// position: it is about the whole condition.
		c.errorf(pos, "%s", notBool(err.Error()))
		return
	}
	at := AdvanceRunes(pos, src, fe.From)
	msg := fe.Message
	if m := reUnknownName.FindStringSubmatch(msg); m != nil && m[1] == "now" {
		c.errorf(at, "now() is not available in flows").Detail = "read the clock as system.now, which tests and the REPL can set"
		return
	}
	if m := reUnknownName.FindStringSubmatch(msg); m != nil {
		c.errorf(at, "unknown variable %q", m[1]).Detail = hintOr(didYouMean(m[1], c.scope.names()),
			"variables come from ask ... save NAME, http map ... to NAME and ai ... save NAME")
		return
	}
	if m := reNoField.FindStringSubmatch(msg); m != nil {
		ns := namespaceBefore(src, fe.From)
		d := c.errorf(at, "unknown %s field %q", ns, m[1])
		if fields, ok := c.scope.ns[ns]; ok {
			d.Detail = didYouMean(m[1], sortedKeys(fields))
		}
		return
	}
	c.errorf(at, "%s", notBool(msg))
}

// notBool rewords expr's complaint about a condition that is not boolean.
func notBool(msg string) string {
	if strings.HasPrefix(msg, "expected bool") {
		return "condition is not true or false: " + strings.TrimPrefix(msg, "expected bool, but got ")
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
