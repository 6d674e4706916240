package interpreter

import (
	"fmt"
	"unicode/utf8"

	"github.com/flowd/flowd/dsl"
)

// The limits of a run, which docs/language.md (section 9) lists. Going past
// one fails the run with a RuntimeError at the step, or at the text, that
// went past it; the only exception is a text people read, which is cut.
const (
	// MaxSprintSends is how many messages (questions included) one sprint
	// may send.
	MaxSprintSends = 100
	// MaxSprintStarts is how many start steps one sprint may take.
	MaxSprintStarts = 10
	// MaxEventStarts is how many runs start steps may start, directly or
	// through chains of flows that start others, from one event (a message,
	// a timer): an EventBudget refuses the starts past it.
	MaxEventStarts = 25
	// MaxEventInstructions and MaxEventExprSteps bound what all the sprints
	// one event sets off may do together: its run's, those of the runs its
	// start steps start, those of the answers given at once (a stubbed HTTP
	// call). An EventBudget fails the runs that would resume or start past
	// them, so that an event costs about a second at most, however its
	// flows chain.
	MaxEventInstructions = 5 * DefaultBudget
	MaxEventExprSteps    = SprintExprBudget
	// MaxSprintText is how many bytes of text one sprint may render, all
	// its messages, comments, tags, field values and requests together.
	MaxSprintText = 1 << 20
	// MaxVarSize is the most a variable may hold: its encoded size in the
	// continuation (the bytes of a text; the JSON of an HTTP value).
	MaxVarSize = 16 << 10
	// MaxContactTags is how many tags a contact may have; a tag step that
	// would give it more fails. (Each tag step reads the whole list.)
	MaxContactTags = 1000
	// MaxContactFields is how many fields, standard and custom, a contact
	// may have: a flow declares its custom fields, but the admin API may
	// name any, and each turn reads them all.
	MaxContactFields = 200
	// MaxContinuation is the largest encoded continuation: what a paused
	// run keeps.
	MaxContinuation = 64 << 10
)

// ellipsis marks a text people read that was cut at its limit.
const ellipsis = "…"

// cut returns s cut to at most max characters, marked with the ellipsis.
func cut(s string, max int) string {
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + ellipsis
		}
		n++
	}
	return s
}

// tooLong is the error of a value longer than its use allows.
func tooLong(u dsl.TextUse) error {
	return fmt.Errorf("%s is longer than %d characters once its values are filled in", u.What, u.Max)
}

// overLimit reports whether s has more than max characters, counting no
// further than needed.
func overLimit(s string, max int) bool {
	if len(s) <= max {
		return false
	}
	return utf8.RuneCountInString(s) > max
}
