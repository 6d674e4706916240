package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
)

func compileFlow(t *testing.T, src string) *interpreter.Program {
	t.Helper()
	p, ds, err := interpreter.CompileSource("test.flow", []byte(src))
	if err != nil {
		t.Fatalf("compile: %v %v", err, ds)
	}
	return p
}

// TestAssignTimeoutForgetsRequest: an assign that times out withdraws its
// request (CancelAssign), and the world forgets it; so do runs that end while
// their assign waits.
func TestAssignTimeoutForgetsRequest(t *testing.T) {
	p := compileFlow(t, "flow \"A\"\ntrigger manual\nexit on agent message\nassign team \"Support\" timeout 1h {\n  on timeout {\n    send \"nobody\"\n  }\n}\nask text \"more?\"\nassign user \"bob\"\n")
	w := New(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	w.AgentsOffline = true
	r := w.Start(p, nil)
	if len(w.pendingAssigns) != 1 {
		t.Fatalf("%d pending assigns, want 1", len(w.pendingAssigns))
	}
	w.Advance(time.Hour)
	if got := w.Transcript(); len(got) != 4 || got[2] != "bot: nobody" {
		t.Fatalf("transcript %q", got)
	}
	if len(w.pendingAssigns) != 0 {
		t.Errorf("%d pending assigns after the timeout, want 0", len(w.pendingAssigns))
	}
	w.Say("yes")
	if r.Wait != interpreter.WaitAssign || len(w.pendingAssigns) != 1 {
		t.Fatalf("run waits for %v with %d pending assigns", r.Wait, len(w.pendingAssigns))
	}
	w.AgentSays("hello") // exit on agent message
	if r.Status != interpreter.Done || len(w.pendingAssigns) != 0 {
		t.Errorf("run %v, %d pending assigns after the exit, want done and 0", r.Status, len(w.pendingAssigns))
	}
}

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
