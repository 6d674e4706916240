package interpreter

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxEvalAlloc bounds what one failing evaluation may allocate: the budget's
// million items or characters, a few bytes each.
const maxEvalAlloc = 64 << 20

// TestExprBudget: an expression that would build or do too much fails its
// run at the place that went past the budget, promptly and with bounded
// memory, instead of running for minutes or exhausting memory.
func TestExprBudget(t *testing.T) {
	work := "expression does too much work: one evaluation may take 1000000 steps"
	deep := "value nests more than 100 deep"
	cases := []struct {
		name, cond string
		col        int // of the failing call, after "if " at column 1
		msg        string
	}{
		// allocated a terabyte before expr's VM counted it
		{"repeat of a repeat", `len(repeat(repeat("a", 999000), 1000000)) > 0`, 8, work},
		// ran for nine minutes: 400,000 lowercasings of 500,000 characters
		{"loop over a big text", `(let s = repeat("A", 500000); count(1..400000, lower(s) == "x")) > 0`, 41, work},
		{"nested loops", `count(1..1000, count(1..1000, true) > 0) > 0`, 26, work},
		{"doubling a text", `(let a = repeat("x", 100000); let b = a + a; let c = b + b; let d = c + c; let e = d + d; len(e)) > 0`, 74, work},
		{"a pattern over a long text", `repeat("a", 200000) matches "(a|aa)*b"`, 24, work},
		{"replace that grows", `len(replace(repeat("a", 1000), "", repeat("b", 1000))) > 0`, 8, work},
		{"join with a long separator", `len(join(map(1..1000, "x"), repeat("y", 10000))) > 0`, 8, work},
		{"a big range", `len(string(1..999999)) > 0`, 16, work},
		// a method of a value runs as often as its loop, on arguments of any size
		{"a method in a loop", `(let f = repeat("2006", 100); count(1..10000, system.now.Format(f) != "")) > 0`, 68, work},
		// a text written in the flow is as costly as one built
		{"a long literal in a loop", `count(1..10000, upper("` + strings.Repeat("a", 200) + `") != "") > 0`, 20, work},
		// a value named once and compared 300 times
		{"a let compared again and again", `(let l = 1..900000; [` + strings.Repeat("0 in l, ", 300) + `]) != nil`, 30, work},
		// a list nested 9,000 deep is 80 million characters of indented JSON,
		// and printing a list nested 900,000 deep overflowed the stack: a
		// reduce cannot build either, and a deep value from elsewhere is
		// refused where it would be written or compared
		{"a reduce that nests", `len(reduce(1..9000, [#acc], 0)) > 0`, 24, deep},
		{"comparing deep lists", `reduce(1..90000, [#acc], 0) == reduce(1..90000, [#acc], 1)`, 21, deep},
		{"toJSON of a deep list", `len(toJSON(fromJSON(repeat("[", 5000) + repeat("]", 5000)))) > 0`, 8, deep},
		{"string of a deep list", `len(string(fromJSON(repeat("[", 5000) + repeat("]", 5000)))) > 0`, 15, deep},
		{"groupBy printed", `len(string(groupBy([fromJSON(repeat("[", 500) + repeat("]", 500))], 1))) > 0`, 15, deep},
		// split makes a list of texts, weighed by their bytes, not their count
		{"toJSON of split texts", `(let parts = split(repeat("a", 400000), ","); all(1..3000, (let x = toJSON(parts); true)))`, 72, work},
		{"toJSON of a wide list", `len(toJSON(map(1..20000, [[[[[[[[#]]]]]]]]))) > 0`, 8, work},
		// groupBy's and fromPairs' maps are weighed too: 2^24 paths through 24 maps
		{"maps that share", `len(string(reduce(1..24, fromPairs([[1, #acc], [2, #acc]]), 0))) > 0`, 29, work},
		// uniq compares each item with those kept: 200 million comparisons
		{"uniq of distinct lists", `len(uniq(map(1..20000, [#]))) > 0`, 8, work},
		// 40,000 slices of a 400,000-character text, each free to make
		{"a map of long slices", `(let s = repeat("a", 400000); len(sortBy(map(1..40000, s[(# * 7919) % 40000:]), #))) > 0`, 60, work},
		{"sortBy long keys", `(let s = repeat("a", 400000); let l = 1..40000; len(sortBy(l, s[# % 40000:]))) > 0`, 67, work},
		// compiled, this pattern made 3 million instructions and 700 MB
		{"a pattern built too big", `"a" matches repeat("a{1000}", 3000)`, 8, "pattern is too big: it would compile to more than 10000 instructions"},
		{"zones in a loop", `count(1..10000, timezone("Europe/Madrid") != nil) > 0`, 29, work},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := compileBody(t, "if "+c.cond+" {\n  send \"yes\"\n}\nsend \"after\"\n")
			s := newSession(t, p)
			alloc := allocated(func() { s.start() })
			s.wantFailure(3, c.col, "#1", c.msg)
			if alloc > maxEvalAlloc {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

// TestExprBudgetKeepsMeaning: the patch that charges the budget changes
// nothing that a flow can see.
func TestExprBudgetKeepsMeaning(t *testing.T) {
	for _, cond := range []string{
		`lower("ANA@ACME.COM") endsWith "@acme.com"`,
		`"ana@acme.com" matches "^.+@acme\\.com$" && !("x" matches "^y")`,
		`(let p = "^a+$"; "aaa" matches p)`,
		`"a" + "b" == "ab" && 1 + 2 == 3 && 1.5 + 1 == 2.5`,
		`join(["a", "b"], ",") == "a,b" && join(["a", "b"]) == "ab"`,
		`replace("aXbX", "X", "-") == "a-b-" && replace("aXbX", "X", "-", 1) == "a-bX"`,
		`repeat("ab", 3) == "ababab" && repeat("x", 0) == ""`,
		`uniq([1, 1.0, "a", "a", [1], [1], nil, nil, true, 2]) == [1, "a", [1], nil, true, 2] && len(uniq(1..1000)) == 1000`,
		`len(uniq([9007199254740993, 9007199254740992])) == 2 && len(uniq([1152921504606846976, float(1152921504606846976)])) == 1`,
		`len(uniq([system.now.Unix(), system.now.Unix() + 0.0])) == 1`,
		// in the keys' order, every time, not Go's random map order
		`all(1..20, keys({"b": 1, "a": 2, "c": 3}) == ["a", "b", "c"] && values({"b": 1, "a": 2, "c": 3}) == [2, 1, 3])`,
		`all(1..20, toPairs({"b": 1, "a": 2})[0][0] == "a" && keys(groupBy([3, 1, 2], #)) == [1, 2, 3])`,
		`len(sortBy(["bb", "a"], #)[0]) == 1 && len(groupBy(1..10, # % 2)) == 2 && reduce(1..4, #acc + #, 0) == 10`,
		`toJSON([1, {"a": [2]}]) == "[\n  1,\n  {\n    \"a\": [\n      2\n    ]\n  }\n]"`,
		`(let l = [1, 2]; 1 in l && l == [1, 2] && !(3 in l)) && len(system.now.Format("2006")) == 4`,
		`count(1..10, # > 5) == 5 && all(["a", "b"], # != "c") && 3..1 == []`,
		`sum(map(1..4, # * 2)) == 20 && len(filter(["a", "bb"], len(#) > 1)) == 1`,
		`system.now + duration("1h") > system.now`,
		`"VIP" in ["VIP", "Gold"] && any(["VIP"], # in ["VIP"])`,
		`reduce(1..5, #acc + #, 0) == 15 && sortBy([3, 1, 2], #)[0] == 1`,
		`len(toJSON({"a": [1, 2]})) > 0 && fromJSON("[1]")[0] == 1 && upper(trim(" x ")) == "X"`,
		`timezone("Europe/Madrid").String() == "Europe/Madrid"`,
	} {
		p := compileBody(t, "if "+cond+" {\n  send \"yes\"\n} else {\n  send \"no\"\n}\n")
		s := newSession(t, p)
		s.now = monday
		wantEffects(t, cond, s.start(), `send #2 "yes"`)
	}
}

// TestSprintExprBudget: the evaluations of one sprint share a budget, so
// that thousands of conditions, each within its own, still end.
func TestSprintExprBudget(t *testing.T) {
	// each evaluation takes 990,000 steps: the range, and the loop over it
	p := compileBody(t, "l: if count(1..330000, true) > 0 {\n  comment \"again\"\n}\njump to l max 10\n")
	s := newSession(t, p)
	effects := s.start()
	s.wantFailure(3, 14, "l", "expressions do too much work: one sprint's may take 10000000 steps together")
	if got := strings.Count(strings.Join(effects, "\n"), "again"); got != 10 {
		t.Errorf("%d comments before the budget ran out, want 10", got)
	}
}

// TestSharedListsAsText: lists that hold one another twice over are a few
// items to build and 2^40 leaves to write out; writing a value as text is
// charged for its size, counted out, before it is written.
func TestSharedListsAsText(t *testing.T) {
	lets := "let a0 = [[1]];"
	for i := 1; i <= 40; i++ {
		lets += fmt.Sprintf(" let a%d = [a%d, a%d];", i, i-1, i-1)
	}
	p := compileBody(t, "send \"x ${"+lets+" a40}\"\n")
	s := newSession(t, p)
	alloc := allocated(func() { s.start() })
	s.wantFailure(3, 11, "#1", "value is too big to write as text: more than 1000000 items and characters")
	if alloc > maxEvalAlloc {
		t.Errorf("allocated %d bytes", alloc)
	}
}

// TestBudgetCannotBeReached: what the budget's patch puts into expressions
// cannot be named in them, nor can the environment that holds the meter.
func TestBudgetCannotBeReached(t *testing.T) {
	for _, src := range []string{
		`flowd_cost($env["$meter"], true, -9000000000000000)`,
		`len(keys($env)) > 0`,
		`(let flowd_add = 1; "a" + "b" == "ab")`,
	} {
		if _, err := CompileCondition(src); err == nil || !strings.Contains(err.Error(), "is reserved by flowd") {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestWeighJSON: what toJSON is charged follows the length of the text it
// writes, however the value nests and whatever kind of list it is.
func TestWeighJSON(t *testing.T) {
	deep := any(0)
	for range MaxValueDepth {
		deep = []any{deep}
	}
	wide := map[string]any{}
	for i := range 500 {
		wide[fmt.Sprint("key", i)] = []any{"value", 1, map[string]any{"x": "y"}}
	}
	parts := strings.Split(strings.Repeat("a<b,", 1000), ",")
	for name, v := range map[string]any{"deep": deep, "wide": wide, "text": "hello", "empty": []any{}, "texts": parts, "numbers": []int{1, 22, 333333333}} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if w, err := measure(v, 1<<30, true); err != nil || w < len(b)/2 || w > 2*len(b)+4 {
			t.Errorf("%s: charged %d (%v) for %d characters", name, w, err, len(b))
		}
	}
	if _, err := measure([]any{deep}, 1<<30, true); err != errTooDeep {
		t.Errorf("one level deeper: %v", err)
	}
}
