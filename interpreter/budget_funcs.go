package interpreter

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr/vm/runtime"
	"github.com/flowd/flowd/dsl"
)

// The functions a patched expression calls instead of expr's own: each
// charges the meter, its first argument, before it builds anything.

// makeRange is flowd_range(meter, a, b), expr's a..b charged before it is
// built.
func makeRange(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	lo, hi := runtime.ToInt(args[1]), runtime.ToInt(args[2])
	if hi < lo {
		return []int{}, nil
	}
	n := hi - lo + 1
	if n <= 0 { // the count overflowed
		n = m.left + 1
	}
	if err := m.spend(n); err != nil {
		return nil, err
	}
	return runtime.MakeRange(lo, hi), nil
}

// toJSON is flowd_toJSON(meter, v), expr's toJSON charged for the text it
// makes. The text is indented, two spaces a level, so a value nested d
// deep costs 2d on each of its lines: a list of lists nested 10,000 deep,
// which a reduce builds in 10,000 steps, is 100 million characters long.
func toJSON(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 2 {
		return nil, err
	}
	if err := m.spendSize(args[1], true); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(args[1], "", "  ")
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// add is flowd_add(meter, a, b): a + b, charging a joined text's length
// before building it.
func add(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	a, ok1 := args[1].(string)
	b, ok2 := args[2].(string)
	if ok1 && ok2 {
		if err := m.spend(len(a) + len(b)); err != nil {
			return nil, err
		}
		return a + b, nil
	}
	return runtime.Add(args[1], args[2]), nil
}

// repeat is flowd_repeat(meter, s, n), expr's repeat charged before it allocates.
func repeat(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	s, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("repeat needs a text, not %s", kindOf(args[1]))
	}
	n := runtime.ToInt(args[2])
	if n < 0 {
		return nil, fmt.Errorf("repeat needs a count of 0 or more, not %d", n)
	}
	if n > 0 && len(s) > (m.left+1)/n {
		return nil, m.exceeded()
	}
	if err := m.spend(len(s) * n); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

// replace is flowd_replace(meter, s, old, new[, n]), charged for the text it
// makes.
func replace(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) < 4 || len(args) > 5 {
		return nil, errors.New("replace takes a text, what to replace, its replacement and an optional count")
	}
	s, ok1 := args[1].(string)
	old, ok2 := args[2].(string)
	repl, ok3 := args[3].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("replace needs three texts")
	}
	if err := m.spend(len(s)); err != nil { // counting the matches reads s
		return nil, err
	}
	n, limit := strings.Count(s, old), -1
	if len(args) == 5 {
		if limit = runtime.ToInt(args[4]); limit >= 0 && limit < n {
			n = limit
		}
	}
	if grow := len(repl) - len(old); grow > 0 && n > 0 && grow > (m.left+1)/n {
		return nil, m.exceeded()
	}
	if err := m.spend(len(s) + n*max(0, len(repl)-len(old))); err != nil {
		return nil, err
	}
	return strings.Replace(s, old, repl, limit), nil
}

// join is flowd_join(meter, list[, sep]), charged for the text it makes.
func join(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) < 2 || len(args) > 3 {
		return nil, errors.New("join takes a list and an optional separator")
	}
	sep := ""
	if len(args) == 3 {
		s, ok := args[2].(string)
		if !ok {
			return nil, errors.New("join's separator must be a text")
		}
		sep = s
	}
	rv := reflect.ValueOf(args[1])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("join needs a list, not %s", kindOf(args[1]))
	}
	parts := make([]string, rv.Len())
	size := len(sep) * max(0, len(parts)-1)
	for i := range parts {
		s, ok := rv.Index(i).Interface().(string)
		if !ok {
			return nil, errors.New("join needs a list of texts")
		}
		parts[i] = s
		size += len(s)
		if size > m.left {
			return nil, m.exceeded()
		}
	}
	if err := m.spend(size); err != nil {
		return nil, err
	}
	return strings.Join(parts, sep), nil
}

// A pattern is the compiled regular expression of a matches whose pattern is
// written in the flow, with the size of its program.
type pattern struct {
	re    *regexp.Regexp
	insts int
}

// compilePattern compiles src, refusing, before it compiles, a pattern over
// dsl.MaxPatternSize.
func compilePattern(src string) (*pattern, error) {
	size, err := dsl.PatternSize(src)
	if err != nil {
		return nil, err
	}
	if size > dsl.MaxPatternSize {
		return nil, dsl.ErrPatternTooBig
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	return &pattern{re: re, insts: max(size, 1)}, nil
}

// match is flowd_match(meter, s, pattern): s matches pattern, a text or, for
// a pattern written in the flow, compiled once. Go's regexp takes time in
// proportion to the text's length times the size of the pattern's program;
// both are charged before matching, and a pattern built at run time is
// charged for its compiling too.
func match(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 3 {
		return nil, err
	}
	if args[1] == nil || args[2] == nil {
		return false, nil // as expr's matches does
	}
	s, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("matches needs a text, not %s", kindOf(args[1]))
	}
	p, ok := args[2].(*pattern)
	if !ok {
		src, isText := args[2].(string)
		if !isText {
			return nil, fmt.Errorf("matches needs a pattern text, not %s", kindOf(args[2]))
		}
		if err := m.spend(16 * len(src)); err != nil { // parsing it, to know its size
			return nil, err
		}
		if p, err = compilePattern(src); err != nil {
			return nil, err
		}
	}
	if p.insts > 0 && len(s) > (m.left+1)/p.insts {
		return nil, m.exceeded()
	}
	if err := m.spend((len(s) + 1) * p.insts); err != nil {
		return nil, err
	}
	return p.re.MatchString(s), nil
}

// uniq is flowd_uniq(meter, list), expr's uniq (each item once, where it
// first comes) without its cost of comparing each item with every one kept:
// texts, booleans and nil are looked up by value, numbers by their float64
// value and then compared as expr compares them, and only lists and maps are
// compared one by one, each comparison charged.
func uniq(args ...any) (any, error) {
	m, err := metered(args)
	if err != nil || len(args) != 2 {
		return nil, errors.New("uniq takes a list")
	}
	rv := reflect.ValueOf(args[1])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("cannot uniq %s", rv.Kind())
	}
	out := []any{}
	seen := map[any][]any{} // by key, the items kept under it
	var others []any        // the items kept that have no key
	for i := range rv.Len() {
		item := rv.Index(i).Interface()
		key, keyed := uniqKey(item)
		kept := others
		if keyed {
			kept = seen[key]
		}
		dup, err := holds(m, kept, item)
		if err != nil {
			return nil, err
		}
		if dup {
			continue
		}
		if keyed {
			seen[key] = append(seen[key], item)
		} else {
			others = append(others, item)
		}
		out = append(out, item)
	}
	return out, nil
}

// holds reports whether kept has an item equal to item, charging each
// comparison item's size.
func holds(m *meter, kept []any, item any) (bool, error) {
	if err := m.spend(1); err != nil {
		return false, err
	}
	if len(kept) == 0 {
		return false, nil
	}
	w, err := weigh(item, m.left+1)
	if err != nil {
		return false, err
	}
	for _, k := range kept {
		if err := m.spend(w); err != nil {
			return false, err
		}
		if runtime.Equal(item, k) {
			return true, nil
		}
	}
	return false, nil
}

// uniqKey is the key under which uniq looks up an item, when it has one: a
// number's float64 value, so that 1 and 1.0 meet (expr's equality has them
// equal), and the value itself for texts, booleans and nil.
func uniqKey(v any) (any, bool) {
	switch v := v.(type) {
	case nil:
		return struct{}{}, true
	case string, bool:
		return v, true
	}
	if f, ok := number(v); ok {
		return f, true
	}
	return nil, false
}

// keys, values and toPairs are flowd_keys, flowd_values and flowd_toPairs:
// expr's own, charged for the map's size, in the keys' order instead of Go's
// random map order, so that the same HTTP answer always renders the same.
func keys(args ...any) (any, error) {
	return mapItems(args, "keys", func(k, _ reflect.Value) any { return k.Interface() })
}

func values(args ...any) (any, error) {
	return mapItems(args, "values", func(_, v reflect.Value) any { return v.Interface() })
}

func toPairs(args ...any) (any, error) {
	return mapItems(args, "toPairs", func(k, v reflect.Value) [2]any { return [2]any{k.Interface(), v.Interface()} })
}

// mapItems charges the map of a keys, values or toPairs call for its size
// and lists item(key, value) of each of its entries, in the order of keys:
// numbers by value, then texts, then any other key by its printed form.
func mapItems[T any](args []any, fn string, item func(k, v reflect.Value) T) ([]T, error) {
	m, err := metered(args)
	if err != nil || len(args) != 2 {
		return nil, fmt.Errorf("%s takes a map", fn)
	}
	rv := reflect.ValueOf(args[1])
	if rv.Kind() != reflect.Map {
		return nil, fmt.Errorf("%s needs a map, not %s", fn, kindOf(args[1]))
	}
	if err := m.spendSize(args[1], false); err != nil {
		return nil, err
	}
	ks := rv.MapKeys()
	sort.Slice(ks, func(i, j int) bool { return keyLess(ks[i].Interface(), ks[j].Interface()) })
	out := make([]T, len(ks))
	for i, k := range ks {
		out[i] = item(k, rv.MapIndex(k))
	}
	return out, nil
}

// keyLess orders map keys: numbers by value before texts, texts in byte
// order, and other keys after both, by their printed form.
func keyLess(a, b any) bool {
	rank := func(v any) int {
		if _, ok := number(v); ok {
			return 0
		}
		if _, ok := v.(string); ok {
			return 1
		}
		return 2
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	switch ra {
	case 0:
		x, _ := number(a)
		y, _ := number(b)
		return x < y
	case 1:
		return a.(string) < b.(string)
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}
