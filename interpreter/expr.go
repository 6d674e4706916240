package interpreter

import (
	"sort"

	"github.com/expr-lang/expr"
)

// exprOptions are the expr-lang options every flow expression is compiled
// with. The checker in dsl has already type-checked each expression against
// the flow's declared names; at run time the environment is a map (namespaces
// and flow variables), and a name with no value yet reads as nil. now() is
// disabled because the VM's clock is injected: flows read system.now.
func exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.DisableBuiltin("now"),
	}
}

func sortedVars(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
