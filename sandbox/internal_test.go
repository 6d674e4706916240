package sandbox

import (
	"strings"
	"testing"
)

// TestGlobMatch: a stub's * matches any run of characters, / and ? included,
// in time linear in the URL, whatever the pattern.
func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"https://crm.example/*", "https://crm.example/a/b?x=1", true},
		{"*crm*", "https://crm.example/", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*a", "a", false},
		{"a*b", "ab", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*[a-z]", "x", false}, // no classes: [ is itself
		{"*", "", true},
	} {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
	// took a minute with path.Match: a long class after a star
	long := "*[" + strings.Repeat("b", 1<<20) + "]"
	if globMatch(long, "https://crm.example/"+strings.Repeat("a", 8100)) {
		t.Error("matched")
	}
}
