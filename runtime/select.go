package runtime

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

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

// A Passed is a flow whose trigger took a firing but which selection did
// not start, and why: "is a draft", "is already running", "once per
// contact", "trigger condition is false", or the group another flow took.
type Passed struct {
	Flow, Why string
}

// Select applies docs/language.md §8 to one firing: of the flows whose
// trigger takes it, drafts never enrol; a flow with a run still active is
// not entered again; once per contact consults the history; the condition
// must hold. Flows outside groups all start; of each group, only the first
// by priority, then by name, that passes. The result is in name order, and
// the error is the first a check returned (the flow it names is skipped).
func Select(flows []*interpreter.Program, f Firing, c Candidate) ([]*interpreter.Program, error) {
	out, _, err := Selection(flows, f, c)
	return out, err
}

// Selection is Select, with the flows it passed over, in the order it
// looked at them, each with the reason.
func Selection(flows []*interpreter.Program, f Firing, c Candidate) (chosen []*interpreter.Program, passed []Passed, err error) {
	var listening []*interpreter.Program
	for _, p := range flows {
		if listens(p.Trigger, f) {
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
	taken := map[string]string{} // group -> the flow that took the contact
	for _, p := range listening {
		if p.Draft {
			passed = append(passed, Passed{p.Flow, whyDraft})
			continue
		}
		if by, ok := taken[p.Group]; ok && p.Group != "" {
			passed = append(passed, Passed{p.Flow, fmt.Sprintf("group %q went to %q", p.Group, by)})
			continue
		}
		why, e := passes(p, c)
		if e != nil && err == nil {
			err = e
		}
		if why != "" {
			passed = append(passed, Passed{p.Flow, why})
			continue
		}
		if p.Group != "" {
			taken[p.Group] = p.Flow
		}
		chosen = append(chosen, p)
	}
	sort.Slice(chosen, func(i, j int) bool { return chosen[i].Flow < chosen[j].Flow })
	return chosen, passed, err
}

// whyDraft is why a draft never starts on an event.
const whyDraft = "is a draft"

// String is how the activity log shows it: not started: "Flow": once per
// contact.
func (p Passed) String() string {
	if strings.HasPrefix(p.Why, "is ") {
		return fmt.Sprintf("not started: %q %s", p.Flow, p.Why)
	}
	return fmt.Sprintf("not started: %q: %s", p.Flow, p.Why)
}

// String is how the activity log names a firing: tag added "VIP",
// conversation opened by contact.
func (f Firing) String() string {
	s := f.Event
	switch {
	case f.Source != "":
		s += " by " + f.Source
	case f.Tag != "":
		s += " " + strconv.Quote(f.Tag)
	case f.Field != "":
		s += " " + strconv.Quote(f.Field)
	case f.Shortcut != "":
		s += " " + strconv.Quote(f.Shortcut)
	case f.Platform != "":
		s += " " + f.Platform
	}
	return s
}

// passes says why p may not start for the contact, or "" when it may.
func passes(p *interpreter.Program, c Candidate) (string, error) {
	if active, err := c.Active(p.Flow); err != nil || active {
		return "is already running", err
	}
	if p.Trigger.Once {
		if ever, err := c.Enrolled(p.Flow); err != nil || ever {
			return "once per contact", err
		}
	}
	ok, err := c.Matches(p)
	switch {
	case err != nil:
		return "trigger condition failed: " + err.Error(), err
	case !ok:
		return "trigger condition is false", nil
	}
	return "", nil
}
