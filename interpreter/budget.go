package interpreter

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/flowd/flowd/dsl"
)

// The budget of one evaluation of a condition or ${ } (dsl.ExprBudget).
//
// expr-lang bounds what an evaluation builds: its VM counts the items of
// the lists, maps and ranges it makes against MemoryBudget, before making
// them. It does not bound the work of loops or of text: a loop over a
// 400,000-number range that lowercases a 500,000-character text each time
// runs for minutes, and repeat and string concatenation allocate first and
// count after, or never. So every expression is compiled with a patch
// (costPatch) that routes that work through functions that charge a meter
// first, and fail once the meter is spent:
//
//   - a range a..b charges its length before it is built;
//   - a loop (all, any, filter, map, count, reduce, ...) charges, when it
//     starts, the length of its collection times the size of its body;
//   - a text or list function charges the size of its arguments;
//   - repeat, replace, join and + on texts charge the size of what they are
//     about to build;
//   - matches charges the text's length times the size of the pattern's
//     program, since Go's regexp matches in that time;
//   - toJSON charges the text it writes, indentation included;
//   - a method of a value (a time's Format) charges its arguments' size;
//   - inside the body of a loop or a let, comparisons, contains,
//     startsWith, endsWith and in charge the size of their operands, which
//     the loop multiplies, or the let's value can make big;
//   - a text written in the flow counts like one built, when it is longer
//     than smallText;
//   - and every evaluation charges one step for each of its operations.
//
// Outside loops an operator runs once per node, and an expression has at
// most dsl.MaxExprNodes nodes, so what is not charged is bounded anyway:
// the values it reads are flow variables (MaxVarSize) or built, and charged.
//
// The evaluations of one sprint share SprintExprBudget, so that a sprint of
// thousands of conditions is bounded too.

// meterName is the name, in an evaluation's environment, of the meter the
// patched functions charge. It cannot be written in a .flow file.
const meterName = "$meter"

// SprintExprBudget is what all the evaluations of one sprint may spend
// together: with the instruction budget allowing thousands of conditions in
// a sprint, a budget per evaluation alone would not bound the sprint.
const SprintExprBudget = 10 * dsl.ExprBudget

// A meter is the budget left to the evaluation under way, and to the
// sprint. A Machine has one: it fills the sprint's at the start of each
// sprint, and the evaluation's before each evaluation.
type meter struct {
	left   int // for this evaluation: at most dsl.ExprBudget, and no more than the sprint has left
	sprint int // for the rest of the sprint, not counting this evaluation's spending
	start  int // left when the evaluation started
}

// chargeText charges to the sprint the writing of a list or map as text:
// an expression can build, in a few steps, lists that hold one another many
// times over, whose JSON is exponentially long.
func (m *Machine) chargeText(v any) error {
	switch v.(type) {
	case nil, string, bool, int, float64:
		return nil
	}
	limit := min(dsl.ExprBudget, m.meter.sprint)
	w, err := weigh(v, limit)
	if err != nil {
		return err
	}
	if w > limit {
		if limit < dsl.ExprBudget {
			return errSprintBudget
		}
		return fmt.Errorf("value is too big to write as text: more than %d items and characters", dsl.ExprBudget)
	}
	m.meter.sprint -= w
	m.work.ExprSteps += int64(w)
	return nil
}

// errBudget and errSprintBudget are the run-time errors of an evaluation
// that spent its budget, or the sprint's.
var (
	errBudget       = fmt.Errorf("expression does too much work: one evaluation may take %d steps", dsl.ExprBudget)
	errSprintBudget = fmt.Errorf("expressions do too much work: one sprint's may take %d steps together", SprintExprBudget)
)

// begin readies the meter for an evaluation.
func (m *meter) begin() {
	m.left = min(dsl.ExprBudget, m.sprint)
	m.start = m.left
}

// end charges the evaluation's spending to the sprint, and returns it.
func (m *meter) end() int {
	spent := min(m.start-m.left, m.start) // a failed evaluation spent all it had
	m.sprint -= spent
	return spent
}

func (m *meter) spend(n int) error {
	if n < 0 {
		n = 0 // nothing gives budget back
	}
	m.left -= n
	if m.left < 0 {
		return m.exceeded()
	}
	return nil
}

// spendSize charges v's size: what weigh counts, or, asJSON, what toJSON
// writes.
func (m *meter) spendSize(v any, asJSON bool) error {
	n, err := measure(v, m.left+1, asJSON)
	if err != nil {
		return err
	}
	return m.spend(n)
}

// exceeded is the error for a spent meter: the evaluation's budget, or the
// sprint's when that was less.
func (m *meter) exceeded() error {
	if m.start < dsl.ExprBudget {
		return errSprintBudget
	}
	return errBudget
}

// metered returns the meter passed as a patched function's first argument.
func metered(args []any) (*meter, error) {
	if len(args) > 0 {
		if m, ok := args[0].(*meter); ok {
			return m, nil
		}
	}
	return nil, errors.New("expression run without its budget")
}

// budgetOptions are the options that install the budget: the patch and the
// functions it calls. Those without a type are typed any: the checker in
// dsl has typed the expression as it is written, before this patch.
func budgetOptions() []expr.Option {
	return []expr.Option{
		expr.Patch(costPatch{}),
		function("flowd_loop", passThrough, chargeLoop),
		function("flowd_size", passThrough, chargeSize),
		function("flowd_cost", passThrough, chargeFixed),
		function("flowd_add", nil, add),
		function("flowd_range", nil, makeRange),
		function("flowd_repeat", nil, repeat),
		function("flowd_replace", nil, replace),
		function("flowd_join", nil, join),
		function("flowd_toJSON", returns(""), toJSON),
		function("flowd_uniq", returns([]any{}), uniq),
		function("flowd_keys", returns([]any{}), keys),
		function("flowd_values", returns([]any{}), values),
		function("flowd_toPairs", returns([][2]any{}), toPairs),
		function("flowd_match", nil, match),
	}
}

// function registers a patched function. validate, when set, gives the
// call's type from its arguments' types.
func function(name string, validate func([]reflect.Type) (reflect.Type, error), fn func(args ...any) (any, error)) expr.Option {
	return func(c *conf.Config) {
		c.Functions[name] = &builtin.Function{Name: name, Func: fn, Validate: validate}
	}
}

// returns types a call as v's type, whatever its arguments.
func returns(v any) func([]reflect.Type) (reflect.Type, error) {
	t := reflect.TypeOf(v)
	return func([]reflect.Type) (reflect.Type, error) { return t, nil }
}

// passThrough types flowd_loop(meter, x, ...) and flowd_size(meter, x) as x,
// so that a wrapped value keeps its type for the checker.
func passThrough(args []reflect.Type) (reflect.Type, error) {
	if len(args) < 2 {
		return nil, errors.New("missing argument")
	}
	return args[1], nil
}

// chargeLoop is flowd_loop(meter, collection, weight): it charges the
// collection's length times weight, the size of the loop's body.
func chargeLoop(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	weight, _ := args[2].(int)
	if err := m.spend(length(args[1]) * max(weight, 1)); err != nil {
		return nil, err
	}
	return args[1], nil
}

// chargeFixed is flowd_cost(meter, x, n): it charges n steps.
func chargeFixed(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	n, _ := args[2].(int)
	if err := m.spend(max(n, 0)); err != nil {
		return nil, err
	}
	return args[1], nil
}

// chargeSize is flowd_size(meter, x): it charges x's size, counted through
// nested lists and maps.
func chargeSize(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 2 {
		return nil, err
	}
	if err := m.spendSize(args[1], false); err != nil {
		return nil, err
	}
	return args[1], nil
}

// length is the number of items of a list or map, the bytes of a text, or 1.
func length(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case []any:
		return len(v)
	case []int:
		return len(v)
	case []string:
		return len(v)
	case map[string]any:
		return len(v)
	case nil:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len()
	}
	return 1
}

// MaxValueDepth is how deep the lists and maps of a value may nest where
// an expression hands it to code that recurses (writing it as text,
// comparing it, sorting it): a reduce builds a list nested 100,000 deep in
// a few steps, and Go's printing of it overflows the stack, which no
// recover catches.
const MaxValueDepth = 100

// errTooDeep is the error of a value nested deeper than MaxValueDepth.
var errTooDeep = fmt.Errorf("value nests more than %d deep", MaxValueDepth)

// weigh is the size of v: a byte of text, a digit of a number, and an item
// of a list or map count one each. It stops counting past limit, and fails
// for a value nested deeper than MaxValueDepth.
func weigh(v any, limit int) (int, error) { return measure(v, limit, false) }

// measure is weigh, or, when asJSON is set, the length of v written as
// toJSON writes it: indented two spaces a level, each item on its line,
// texts quoted and escaped (< is six characters).
func measure(v any, limit int, asJSON bool) (int, error) {
	type item struct {
		v     any
		depth int
	}
	n := 0
	stack := []item{{v, 0}}
	// each pushes x's items, or counts them when they are not containers
	each := func(x any, depth int) {
		if !isContainer(x) {
			n += scalarSize(x, asJSON)
			return
		}
		stack = append(stack, item{x, depth})
	}
	for len(stack) > 0 && n <= limit {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.depth >= MaxValueDepth { // x is the 101st list or map nested
			return n, errTooDeep
		}
		line := 1 // an item's separator, or its line's end
		if asJSON {
			line += 2 * (x.depth + 1)
			n += 2 + 2*x.depth // the brackets, the closing one's indentation
		}
		switch v := x.v.(type) {
		case []any:
			for _, e := range v {
				n += line
				each(e, x.depth+1)
			}
		case map[string]any:
			for k, e := range v {
				n += line + scalarSize(k, asJSON)
				each(e, x.depth+1)
			}
		default: // []int, []string, groupBy's map[any][]any, toPairs' [][2]any, ...
			rv := reflect.ValueOf(v)
			switch rv.Kind() {
			case reflect.Slice, reflect.Array:
				for i := 0; i < rv.Len() && n <= limit; i++ {
					n += line
					each(rv.Index(i).Interface(), x.depth+1)
				}
			case reflect.Map:
				for it := rv.MapRange(); it.Next() && n <= limit; {
					n += line
					each(it.Key().Interface(), x.depth+1)
					each(it.Value().Interface(), x.depth+1)
				}
			default:
				n += scalarSize(v, asJSON)
			}
		}
	}
	return n, nil
}

// isContainer reports whether measure must look inside e.
func isContainer(e any) bool {
	switch e.(type) {
	case nil, string, bool, int, int64, float64, time.Time, time.Duration:
		return false
	}
	rv := reflect.ValueOf(e)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return true
	}
	return false
}

// scalarSize is what a value that is not a list or map counts: a text its
// bytes (quoted and escaped, as JSON), a number its digits, anything else
// its length, or one.
func scalarSize(v any, asJSON bool) int {
	switch v := v.(type) {
	case string:
		if asJSON {
			return 2 + len(v) + 5*strings.Count(v, "<") + 5*strings.Count(v, ">") + 5*strings.Count(v, "&") +
				strings.Count(v, `"`) + strings.Count(v, `\`)
		}
		return len(v)
	case int:
		return digits(int64(v))
	case int64:
		return digits(v)
	case float64:
		return 8 // most print shorter; the longest, 24
	}
	return max(length(v), 1)
}

// digits is how many characters n prints as.
func digits(n int64) int {
	d := 1
	if n < 0 {
		d++
	}
	for n /= 10; n != 0; n /= 10 {
		d++
	}
	return d
}

// costPatch rewrites an expression so that its costly work charges the
// meter; see the comment at the top of this file. It keeps no state: expr
// calls it for every node, children first.
type costPatch struct{}

// loops are expr's builtins that run a closure over a collection.
var loops = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
	"count": true, "sum": true, "groupBy": true, "sortBy": true, "reduce": true,
}

// builds are the loops whose body's results make what the loop returns, or
// are kept and compared (sort and group keys): each result is charged its
// size. So a reduce cannot nest a list deeper than MaxValueDepth, and a
// map of slices of one long text, each free to make, costs what it holds.
var builds = map[string]bool{"map": true, "reduce": true, "sortBy": true, "groupBy": true}

// sized are the builtins whose work grows with the size of their arguments.
var sized = map[string]bool{
	"len": true, "string": true, "trim": true, "trimPrefix": true, "trimSuffix": true,
	"upper": true, "lower": true, "split": true, "splitAfter": true, "indexOf": true,
	"lastIndexOf": true, "hasPrefix": true, "hasSuffix": true, "max": true, "min": true,
	"mean": true, "median": true, "fromJSON": true, "toBase64": true,
	"fromBase64": true, "take": true,
	"fromPairs": true, "reverse": true, "concat": true, "flatten": true,
	"sort": true, "int": true, "float": true, "duration": true, "date": true,
}

// loadsZone is what a builtin that loads a timezone (timezone(name), or date
// with a timezone) costs on top: time.LoadLocation reads the zone's file,
// some 100 steps' worth of time.
const loadsZone = 100

// rebuilt are the builtins replaced by versions that charge before they
// allocate.
var rebuilt = map[string]string{
	"repeat": "flowd_repeat", "replace": "flowd_replace", "join": "flowd_join", "toJSON": "flowd_toJSON",
	"uniq": "flowd_uniq", "keys": "flowd_keys", "values": "flowd_values", "toPairs": "flowd_toPairs",
}

func (costPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BuiltinNode:
		switch {
		case loops[n.Name] && len(n.Arguments) > 0:
			weight := 1
			for _, arg := range n.Arguments[1:] {
				if cl, ok := arg.(*ast.PredicateNode); ok {
					weight += countNodes(cl.Node) // patched already, its charges counted too
					ast.Walk(&cl.Node, comparisons{})
					if builds[n.Name] {
						cl.Node = charged(cl.Node)
					}
				}
			}
			n.Arguments[0] = call(n.Arguments[0], "flowd_loop", n.Arguments[0], &ast.IntegerNode{Value: weight})
		case rebuilt[n.Name] != "":
			ast.Patch(node, call(n, rebuilt[n.Name], n.Arguments...))
		case sized[n.Name] || n.Name == "timezone":
			for i, arg := range n.Arguments {
				n.Arguments[i] = charged(arg)
			}
			if n.Name == "timezone" || n.Name == "date" && len(n.Arguments) == 3 {
				n.Arguments[0] = call(n.Arguments[0], "flowd_cost", n.Arguments[0], &ast.IntegerNode{Value: loadsZone})
			}
		}
	case *ast.CallNode:
		if _, named := n.Callee.(*ast.IdentifierNode); !named { // a method of a value, such as a time's Format
			for i, arg := range n.Arguments {
				n.Arguments[i] = charged(arg)
			}
		}
	case *ast.VariableDeclaratorNode:
		ast.Walk(&n.Expr, comparisons{})
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			if !isNumber(n.Left) && !isNumber(n.Right) {
				ast.Patch(node, call(n, "flowd_add", n.Left, n.Right))
			}
		case "..":
			ast.Patch(node, call(n, "flowd_range", n.Left, n.Right))
		case "matches":
			right := n.Right
			if s, ok := right.(*ast.StringNode); ok {
				if p, err := compilePattern(s.Value); err == nil {
					right = &ast.ConstantNode{Value: p}
					right.SetLocation(s.Location())
				}
			}
			ast.Patch(node, call(n, "flowd_match", n.Left, right))
		}
	}
}

// comparisons charges the operands of the comparisons in the body of a loop
// or of a let, where one comparison runs again and again: once per item, or
// on a value a let names, which can be as big as a budget and compared
// hundreds of times (`let l = 1..900000; [0 in l, 0 in l, ...]`). Other
// comparisons run once per node, on flow variables (MaxVarSize) or values
// charged as they were built.
type comparisons struct{}

func (comparisons) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=", "contains", "startsWith", "endsWith", "in", "not in":
			n.Left, n.Right = charged(n.Left), charged(n.Right)
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && isOrderFunc(id.Value) {
			for i, arg := range n.Arguments {
				n.Arguments[i] = charged(arg)
			}
		}
	}
}

func isOrderFunc(name string) bool {
	for _, fn := range orderFuncs {
		if fn == name {
			return true
		}
	}
	return false
}

// smallText is the length under which a text written in a flow is not
// charged as an argument: an evaluation's operations are charged one step
// each anyway.
const smallText = 64

// charged wraps n in flowd_size, unless it is a literal whose size is small,
// or is charged already.
func charged(n ast.Node) ast.Node {
	switch n := n.(type) {
	case *ast.StringNode:
		if len(n.Value) < smallText {
			return n
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return n
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "flowd_size" {
			return n
		}
	}
	return call(n, "flowd_size", n)
}

// call makes a call of a patched function with the meter and args, placed
// where at is, so that an error points at the code that caused it.
func call(at ast.Node, fn string, args ...ast.Node) ast.Node {
	meterNode := &ast.IdentifierNode{Value: meterName}
	meterNode.SetLocation(at.Location())
	callee := &ast.IdentifierNode{Value: fn}
	callee.SetLocation(at.Location())
	c := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{meterNode}, args...)}
	c.SetLocation(at.Location())
	return c
}

func isNumber(n ast.Node) bool {
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return true
	}
	return false
}

// countNodes is the number of nodes of a tree.
func countNodes(n ast.Node) int {
	c := nodeCounter(0)
	ast.Walk(&n, &c)
	return int(c)
}

type nodeCounter int

func (c *nodeCounter) Visit(*ast.Node) { *c++ }
