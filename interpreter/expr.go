package interpreter

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
)

// exprOptions are the expr-lang options every flow expression is compiled
// with. The checker in dsl has already type-checked each expression against
// the flow's declared names; at run time the environment is a map (namespaces
// and flow variables), and a name with no value yet reads as nil. The
// options of dsl.NewExprCompiler come first: now() is disabled because the VM's
// clock is injected (flows read system.now), and the size of an expression
// is bounded.
//
// Ordering comparisons (<, <=, >, >=) with a missing value are false rather
// than an error, as respond.io's Branch treats an empty field: `if
// contact.age > 17` sends a contact without an age down the else branch.
//
// Every evaluation is bounded in memory and work by dsl.ExprBudget: see
// budget.go.
func exprOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.Patch(missingIsFalse{}), // before the budget's patch, which charges what these calls compare
		expr.Function(orderFuncs["<"], orderFunc(func(c int) bool { return c < 0 })),
		expr.Function(orderFuncs["<="], orderFunc(func(c int) bool { return c <= 0 })),
		expr.Function(orderFuncs[">"], orderFunc(func(c int) bool { return c > 0 })),
		expr.Function(orderFuncs[">="], orderFunc(func(c int) bool { return c >= 0 })),
	}
	return append(opts, budgetOptions()...)
}

// newExprCompiler compiles flow expressions: conditions when asBool is set.
func newExprCompiler(asBool bool) *dsl.ExprCompiler {
	opts := exprOptions()
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return dsl.NewExprCompiler(opts...)
}

// eval runs an expression program under the budget of one evaluation, and
// what is left of the sprint's.
func (m *Machine) eval(prog *vm.Program, env map[string]any) (any, error) {
	m.meter.begin()
	defer func() { m.work.ExprSteps += int64(m.meter.end()) }()
	if err := m.meter.spend(len(prog.Bytecode)); err != nil { // each operation is a step
		return nil, err
	}
	m.vm.MemoryBudget = dsl.ExprBudget
	env[meterName] = &m.meter
	return m.vm.Run(prog, env)
}

// CompileCondition compiles a condition over named values as a flow's
// conditions are compiled, bounds included; flowd test's assert uses it.
func CompileCondition(src string) (*vm.Program, error) {
	conditions.Lock()
	defer conditions.Unlock()
	if conditions.c == nil {
		conditions.c = newExprCompiler(true)
	}
	return conditions.c.Compile(src)
}

// conditions is CompileCondition's compiler, built once: an ExprCompiler
// is for one goroutine at a time.
var conditions struct {
	sync.Mutex
	c *dsl.ExprCompiler
}

// EvalCondition runs a condition of CompileCondition over env under the
// budget of one evaluation.
func (m *Machine) EvalCondition(prog *vm.Program, env map[string]any) (bool, error) {
	m.meter.sprint = SprintExprBudget
	defer delete(env, meterName)
	v, err := m.eval(prog, env)
	if err != nil {
		return false, errors.New(exprMessage(err))
	}
	ok, _ := v.(bool)
	return ok, nil
}

// orderFuncs name the functions that replace the ordering operators.
var orderFuncs = map[string]string{"<": "flowd_lt", "<=": "flowd_le", ">": "flowd_gt", ">=": "flowd_ge"}

// missingIsFalse rewrites `a < b` into flowd_lt(a, b), and so on.
type missingIsFalse struct{}

func (missingIsFalse) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	if fn, ok := orderFuncs[b.Operator]; ok {
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{b.Left, b.Right}})
	}
}

func orderFunc(holds func(int) bool) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		if len(params) != 2 {
			return nil, fmt.Errorf("comparison takes 2 values")
		}
		c, ok, err := compare(params[0], params[1])
		if err != nil || !ok {
			return false, err
		}
		return holds(c), nil
	}
}

// compare orders two values: numbers of any kind, texts, times, durations.
// ok is false when either is missing (nil); values of different kinds are an
// error.
func compare(a, b any) (c int, ok bool, err error) {
	if a == nil || b == nil {
		return 0, false, nil
	}
	if x, isNum := number(a); isNum {
		if y, isNum := number(b); isNum {
			switch {
			case x < y:
				return -1, true, nil
			case x > y:
				return 1, true, nil
			}
			return 0, true, nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true, nil
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true, nil
		}
	}
	return 0, false, fmt.Errorf("cannot compare %s and %s", kindOf(a), kindOf(b))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case time.Duration:
		return float64(n), true
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case bool:
		return "true/false"
	case time.Time:
		return "a time"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func sortedVars(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
