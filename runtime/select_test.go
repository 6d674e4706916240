package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
)

// bundled compiles every flow of flows/.
func bundled(t *testing.T) []*interpreter.Program {
	t.Helper()
	files, _ := filepath.Glob("../flows/*.flow")
	var out []*interpreter.Program
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := interpreter.CompileSource(f, src)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// history is a contact's side of selection: the flows it is running and
// the flows it was ever enrolled in.
type history struct {
	active, enrolled []string
	ctx              *interpreter.Context
	m                interpreter.Machine
}

func (h *history) Active(flow string) (bool, error)   { return slices.Contains(h.active, flow), nil }
func (h *history) Enrolled(flow string) (bool, error) { return slices.Contains(h.enrolled, flow), nil }
func (h *history) Matches(p *interpreter.Program) (bool, error) {
	return h.m.Matches(p, h.ctx)
}

func names(ps []*interpreter.Program) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Flow)
	}
	return out
}

// TestSelectBundled: on the bundled flows, a new contact's first
// conversation goes to the consent flow (group "inbound", priority 1, once
// per contact), a returning contact's to VIP routing (priority 2); drafts
// never enrol; a flow with an active run is not entered again, and the group
// then passes to the next flow.
func TestSelectBundled(t *testing.T) {
	flows := bundled(t)
	opened := Firing{Event: interpreter.EventConversationOpened, Source: "contact"}
	ctx := &interpreter.Context{Contact: map[string]any{"id": "1", "tags": []string{}}, Conversation: map[string]any{"open": true},
		Trigger: map[string]any{"type": "conversation opened", "source": "contact"}, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		name             string
		active, enrolled []string
		want             []string
	}{
		{"new contact", nil, nil, []string{"Request Consent: Privacy"}},
		{"returning contact", nil, []string{"Request Consent: Privacy"}, []string{"Routing: VIP Contacts"}},
		{"consent still running", []string{"Request Consent: Privacy"}, nil, []string{"Routing: VIP Contacts"}},
		{"both running", []string{"Request Consent: Privacy", "Routing: VIP Contacts"}, []string{"Request Consent: Privacy"}, nil},
	} {
		got, err := Select(flows, opened, &history{active: c.active, enrolled: c.enrolled, ctx: ctx})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, names(got), c.want)
		}
	}
	// a conversation opened by a user enrols none of the inbound flows
	got, _ := Select(flows, Firing{Event: interpreter.EventConversationOpened, Source: "user"}, &history{ctx: ctx})
	if len(got) != 0 {
		t.Errorf("opened by a user: %v", names(got))
	}
	for _, p := range flows {
		if p.Draft {
			if got, _ := Select([]*interpreter.Program{p}, Firing{Event: p.Trigger.Event, Source: "contact"}, &history{ctx: ctx}); len(got) != 0 {
				t.Errorf("draft %q enrolled", p.Flow)
			}
		}
	}
}

// TestSelectFilters: a trigger takes only its event's detail.
func TestSelectFilters(t *testing.T) {
	src := "flow \"VIP\"\ntrigger tag added \"VIP\"\nsend \"hi\"\n"
	p, _, err := interpreter.CompileSource("vip.flow", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := &history{ctx: &interpreter.Context{Now: time.Now()}}
	for tag, want := range map[string]int{"VIP": 1, "Gold": 0} {
		got, _ := Select([]*interpreter.Program{p}, Firing{Event: interpreter.EventTagAdded, Tag: tag}, h)
		if len(got) != want {
			t.Errorf("tag added %q: %d flows, want %d", tag, len(got), want)
		}
	}
	if got, _ := Select([]*interpreter.Program{p}, Firing{Event: interpreter.EventTagRemoved, Tag: "VIP"}, h); len(got) != 0 {
		t.Error("tag removed fired a tag added trigger")
	}
}
