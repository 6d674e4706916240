package interpreter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompileDefaults: the defaults the compiler fills in.
func TestCompileDefaults(t *testing.T) {
	p := compileBody(t, `field city text
field vip checkbox
assign team "Support"
assign user "a@example.com"
http GET "https://x.example"
ai reply "x"
jump to end max 3
end: stop
`)
	if a := p.Assigns[0]; a.Timeout != DefaultAssignTimeout || a.Logic != "round robin" || a.TimeoutPC != -1 {
		t.Errorf("team assign: timeout %v logic %q timeout pc %d", a.Timeout, a.Logic, a.TimeoutPC)
	}
	if a := p.Assigns[1]; a.Logic != "" {
		t.Errorf("user assign has logic %q", a.Logic)
	}
	if h := p.HTTPs[0]; h.Timeout.Seconds() != 10 || h.Failure != -1 {
		t.Errorf("http: timeout %v failure %d", h.Timeout, h.Failure)
	}
	if a := p.AIs[0]; a.Idle != DefaultAIIdle || len(a.Branches) != 0 {
		t.Errorf("ai: idle %v branches %v", a.Idle, a.Branches)
	}
	if j := p.Jumps[0]; j.Label != "end" || j.Max != 3 {
		t.Errorf("jump %+v", j)
	}
	if diff := cmp.Diff(map[string]string{"city": "text", "vip": "checkbox"}, p.FieldTypes); diff != "" {
		t.Errorf("field types (-want +got):\n%s", diff)
	}
	if p.UsesSystem {
		t.Error("UsesSystem without system.*")
	}
	if p2 := compileBody(t, "comment \"$system.current_time\"\n"); !p2.UsesSystem {
		t.Error("UsesSystem false with $system.current_time")
	}
	if p2 := compileBody(t, "if system.now.Hour() > 3 {\n  stop\n}\n"); !p2.UsesSystem {
		t.Error("UsesSystem false with system.now in a condition")
	}
	if p.Hash == compileBody(t, "stop\n").Hash || len(p.Hash) != 16 {
		t.Errorf("hash %q", p.Hash)
	}
}
