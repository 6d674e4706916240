package interpreter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		want []PathElem // nil: malformed
	}{
		{"$", []PathElem{}},
		{"$.phone", []PathElem{{Key: "phone", Index: -1}}},
		{"$.custom_fields.phone", []PathElem{{Key: "custom_fields", Index: -1}, {Key: "phone", Index: -1}}},
		{"$.data.contacts[1].firstName", []PathElem{{Key: "data", Index: -1}, {Key: "contacts", Index: -1}, {Index: 1}, {Key: "firstName", Index: -1}}},
		{"$[0][2]", []PathElem{{Index: 0}, {Index: 2}}},
		{"phone", nil},
		{"$phone", nil},
		{"$.a[", nil},
		{"$.a[-1]", nil},
		{"$.a[x]", nil},
		{"$.a]", []PathElem{{Key: "a]", Index: -1}}},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.path)
		if tt.want == nil {
			if err == nil {
				t.Errorf("ParsePath(%q) = %v, want an error", tt.path, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.path, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParsePath(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
}

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
