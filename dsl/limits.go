package dsl

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	exprfile "github.com/expr-lang/expr/file"
	exprlexer "github.com/expr-lang/expr/parser/lexer"
)

// flowd's own limits on a flow's source, beyond respond.io's (check.go).
// They keep every stage linear and its recursion shallow whatever a file
// holds; docs/language.md, section 9, lists them with their messages.
const (
	// MaxFileSize is the largest .flow file: a flow at the cap parses and
	// checks in well under a second. respond.io allows 100 steps; 100 steps
	// take a few KiB.
	MaxFileSize = 256 << 10
	// MaxBlockDepth is how deep blocks ({ }) may nest.
	MaxBlockDepth = 50
	// MaxExprDepth is how deep brackets and prefix operators (!, not, -, +) may
	// nest in one expression.
	MaxExprDepth = 100
	// MaxExprNodes is how many parts (names, literals, operators, calls) one
	// expression may have.
	MaxExprNodes = 1000
	// ExprBudget bounds one evaluation of an expression: it may build at
	// most this many list and map items, and spend at most this many steps
	// (a step is an item a loop visits, times the size of the loop's body,
	// or a character a text function or operator reads or writes). The
	// interpreter enforces it; the checker refuses what is sure to exceed it.
	ExprBudget = 1_000_000
	// MaxDiagnostics is how many problems Check and CheckProject report for
	// one file; the rest are counted in a last diagnostic.
	MaxDiagnostics = 100
	// maxQuoted is how many characters of a token or value a message quotes.
	maxQuoted = 40
)

// exprOptions are the expr-lang options every flow expression is compiled
// with, by the checker and by the compiler: now() is off (flows read the
// injected clock as system.now) and an expression has at most MaxExprNodes
// parts. NewExprCompiler calls exprTooDeep first: expr's parser recurses on
// brackets.
func exprOptions() []expr.Option {
	return []expr.Option{expr.DisableBuiltin("now"), expr.MaxNodes(MaxExprNodes)}
}

// exprTooDeep reports whether brackets and prefix operators nest deeper than
// MaxExprDepth in src, and the offset, in characters, of the first that goes
// too deep. It reads src with expr's own lexer, which does not recurse, so
// that nothing recursive sees a million "(". A src that does not lex is not
// too deep: the compiler reports its error.
func exprTooDeep(src string) (offset int, deep bool) {
	toks, err := exprlexer.Lex(exprfile.NewSource(src))
	if err != nil {
		return 0, false
	}
	// each open bracket remembers the prefix operators before it
	var stack []int
	prefix, nested := 0, 0 // prefix operators before the current operand; their sum over stack
	operand := false       // the previous token ends an operand, so +, - and ! after it are binary
	for _, t := range toks {
		switch {
		case t.Kind == exprlexer.Bracket && strings.Contains("([{", t.Value):
			stack = append(stack, prefix)
			nested += prefix
			prefix, operand = 0, false
		case t.Kind == exprlexer.Bracket:
			if n := len(stack); n > 0 {
				prefix = 0
				nested -= stack[n-1]
				stack = stack[:n-1]
			}
			operand = true
		case t.Kind == exprlexer.Operator && !operand && isPrefixOp(t.Value):
			prefix++
		case t.Kind == exprlexer.Operator:
			prefix, operand = 0, false
		default:
			prefix, operand = 0, true
		}
		if len(stack)+nested+prefix > MaxExprDepth {
			return t.From, true
		}
	}
	return 0, false
}

func isPrefixOp(op string) bool { return op == "!" || op == "not" || op == "-" || op == "+" }

// quote quotes s for a message, eliding the middle of a long one so that a
// diagnostic stays one readable line: "aaaaaaaaaaaaaaaaaaa…aaaaaaaaaaaaaaaaaaa".
func quote(s string) string { return fmt.Sprintf("%q", elide(s)) }

// elide shortens s to about maxQuoted characters, keeping both ends.
func elide(s string) string { return Elide(s, maxQuoted) }

// MaxMessage is how many characters a diagnostic's summary or a runtime
// error's message keeps: one that quotes a huge name or pattern keeps both
// its ends.
const MaxMessage = 300

// Elide shortens s to about max characters by cutting out its middle, marked
// with "…".
func Elide(s string, max int) string {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	keep := max / 2
	return string(r[:keep]) + "…" + string(r[len(r)-keep:])
}
