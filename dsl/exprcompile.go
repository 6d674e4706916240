package dsl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	exprchecker "github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	exprfile "github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// An ExprCompiler compiles many expressions with one expr-lang
// configuration, built once: expr.Compile builds a fresh one, with its table
// of builtins, for every expression, which made that most of the cost of
// checking a file full of short ${ } texts. It runs expr's own stages (parse,
// patch and check, optimize, compile) and guards them with exprTooDeep. An
// ExprCompiler must not be used by two goroutines at once.
type ExprCompiler struct {
	config *conf.Config
}

// NewExprCompiler makes a compiler for the given options, which come after
// exprOptions.
func NewExprCompiler(opts ...expr.Option) *ExprCompiler {
	config := conf.CreateNew()
	for _, op := range append(exprOptions(), opts...) {
		op(config)
	}
	for name := range config.Disabled {
		delete(config.Builtins, name)
	}
	config.Check()
	return &ExprCompiler{config: config}
}

// errExprTooDeep is returned by Compile for an expression that nests deeper
// than MaxExprDepth; the *exprfile.Error wrapping it gives the place.
var errExprTooDeep = errors.New("expression nests too deep")

// Compile compiles src as expr.Compile would with the compiler's options.
func (c *ExprCompiler) Compile(src string) (*vm.Program, error) {
	if off, deep := exprTooDeep(src); deep {
		e := &exprfile.Error{Location: exprfile.Location{From: off, To: off + 1}, Message: errExprTooDeep.Error()}
		e.Wrap(errExprTooDeep)
		return nil, e
	}
	tree, err := exprparser.ParseWithConfig(src, c.config)
	if err != nil {
		return nil, err
	}
	if err := refused(tree); err != nil {
		return nil, err
	}
	if _, err := new(exprchecker.Checker).PatchAndCheck(tree, c.config); err != nil {
		return nil, err
	}
	if c.config.Optimize {
		if err := optimizer.Optimize(&tree.Node, c.config); err != nil {
			var fe *exprfile.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	prog, err := compiler.Compile(tree, c.config)
	if err != nil {
		var fe *exprfile.Error
		if !errors.As(err, &fe) {
			// expr's compiler recovers its panics into an error that
			// carries the Go stack: the message is its first line
			msg, _, _ := strings.Cut(err.Error(), "\n")
			return nil, errors.New(msg)
		}
	}
	return prog, err
}

// reservedPrefix starts the names of the functions that the interpreter puts
// into expressions to enforce their budget; a flow cannot use such names.
const reservedPrefix = "flowd_"

// refused reports what an expression as written may not hold, before expr
// sees it: the names it must not reach ($env, expr's view of the whole
// environment, where the interpreter keeps the budget's meter, and the
// budget's functions), and patterns too big to compile.
func refused(tree *exprparser.Tree) error {
	var err error
	exprast.Walk(&tree.Node, visitor(func(n exprast.Node) {
		name := ""
		switch n := n.(type) {
		case *exprast.IdentifierNode:
			name = n.Value
		case *exprast.VariableDeclaratorNode:
			name = n.Name
		}
		if err == nil && (strings.HasPrefix(name, "$") || strings.HasPrefix(name, reservedPrefix)) {
			err = (&exprfile.Error{Location: n.Location(), Message: fmt.Sprintf("%s is reserved by flowd", name)}).Bind(tree.Source)
		}
		if b, ok := n.(*exprast.BinaryNode); ok && b.Operator == "matches" && err == nil {
			err = patternFits(b.Right, tree)
		}
	}))
	return err
}

// patternFits refuses a pattern written in the expression that would
// compile to more than MaxPatternSize instructions: expr compiles such a
// pattern when it compiles the expression.
func patternFits(n exprast.Node, tree *exprparser.Tree) error {
	s, ok := constText(n)
	if !ok {
		return nil
	}
	if size, err := PatternSize(s); err == nil && size > MaxPatternSize {
		return (&exprfile.Error{Location: n.Location(), Message: ErrPatternTooBig.Error()}).Bind(tree.Source)
	}
	return nil
}

// constText is the text of n when it is one written in the expression, or
// texts joined by +, which expr's optimizer joins before compiling.
func constText(n exprast.Node) (string, bool) {
	var parts []string
	var collect func(exprast.Node) bool
	collect = func(n exprast.Node) bool {
		switch n := n.(type) {
		case *exprast.StringNode:
			parts = append(parts, n.Value)
			return true
		case *exprast.BinaryNode:
			return n.Operator == "+" && collect(n.Left) && collect(n.Right)
		}
		return false
	}
	if !collect(n) {
		return "", false
	}
	return strings.Join(parts, ""), true
}

// Parse parses src with the compiler's options, without checking it.
func (c *ExprCompiler) Parse(src string) (*exprparser.Tree, error) {
	return exprparser.ParseWithConfig(src, c.config)
}
