package runtime

import (
	"slices"
	"sort"

	"github.com/flowd/flowd/interpreter"
)

// A Firing is an event as triggers see it: what happened, and the detail a
// trigger filters on.
type Firing struct {
	Event    string // interpreter.Event*
	Source   string // conversation opened or closed: contact, user, flow
	Tag      string // tag added or removed
	Field    string // field changed
	Shortcut string // shortcut
	Platform string // ad click
}

// listens reports whether t's event and filters take f, before its
// condition.
func listens(t *interpreter.Trigger, f Firing) bool {
	if t == nil || t.Event != f.Event {
		return false
	}
	switch f.Event {
	case interpreter.EventConversationOpened, interpreter.EventConversationClosed:
		return len(t.Sources) == 0 || slices.Contains(t.Sources, f.Source)
	case interpreter.EventTagAdded, interpreter.EventTagRemoved:
		return len(t.Tags) == 0 || slices.Contains(t.Tags, f.Tag)
	case interpreter.EventFieldChanged:
		return slices.Contains(t.Fields, f.Field)
	case interpreter.EventShortcut:
		return t.Shortcut == f.Shortcut
	case interpreter.EventAdClick:
		return t.Platform == "" || t.Platform == f.Platform
	}
	return true
}

// A Candidate check answers, for one flow and one contact, what selection
// needs beyond the trigger: whether a run of the flow is active, whether the
// contact was ever enrolled in it, and whether its condition holds.
type Candidate interface {
	Active(flow string) (bool, error)
	Enrolled(flow string) (bool, error)
	Matches(p *interpreter.Program) (bool, error)
}

// Select applies docs/language.md §8 to one firing: of the flows whose
// trigger takes it, drafts never enrol; a flow with a run still active is
// not entered again; once per contact consults the history; the condition
// must hold. Flows outside groups all start; of each group, only the first
// by priority, then by name, that passes. The result is in name order, and
// the error is the first a check returned (the flow it names is skipped).
func Select(flows []*interpreter.Program, f Firing, c Candidate) ([]*interpreter.Program, error) {
	var listening []*interpreter.Program
	for _, p := range flows {
		if !p.Draft && listens(p.Trigger, f) {
			listening = append(listening, p)
		}
	}
	sort.Slice(listening, func(i, j int) bool {
		a, b := listening[i], listening[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Flow < b.Flow
	})
	var out []*interpreter.Program
	var first error
	taken := map[string]bool{} // groups that already enrolled the contact
	for _, p := range listening {
		if p.Group != "" && taken[p.Group] {
			continue
		}
		ok, err := passes(p, c)
		if err != nil && first == nil {
			first = err
		}
		if !ok {
			continue
		}
		if p.Group != "" {
			taken[p.Group] = true
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Flow < out[j].Flow })
	return out, first
}

func passes(p *interpreter.Program, c Candidate) (bool, error) {
	if active, err := c.Active(p.Flow); err != nil || active {
		return false, err
	}
	if p.Trigger.Once {
		if ever, err := c.Enrolled(p.Flow); err != nil || ever {
			return false, err
		}
	}
	return c.Matches(p)
}
