package interpreter

import "fmt"

// An EventBudget bounds what one event (a contact's message, a timer, an
// answer) and all it sets off may do, across the sprints of every run it
// touches: start MaxEventStarts runs through start steps, and do
// MaxEventInstructions and MaxEventExprSteps of work. What applies the
// effects of runs keeps one, begun at each event; a sprint alone is bounded
// by the Machine, but flows that start each other are not.
type EventBudget struct {
	started int
	begun   Work // the machine's work when the event began
}

// Begin readies the budget for a new event; done is the machine's work so
// far.
func (b *EventBudget) Begin(done Work) { *b = EventBudget{begun: done} }

// Start counts a run that a start step of the event starts; past
// MaxEventStarts it says why the run is not started.
func (b *EventBudget) Start(flow string) error {
	if b.started == MaxEventStarts {
		return fmt.Errorf("%q: one event may start at most %d flows (flows that start each other?)", flow, MaxEventStarts)
	}
	b.started++
	return nil
}

// Spent says, when the event has done all its work, why the run of flow
// that was to go on next fails instead; done is the machine's work so far.
func (b *EventBudget) Spent(flow string, done Work) error {
	if done.Instructions-b.begun.Instructions < MaxEventInstructions && done.ExprSteps-b.begun.ExprSteps < MaxEventExprSteps {
		return nil
	}
	return fmt.Errorf("%q: this event did all the work one event may (%d instructions, %d expression steps); a loop between flows?",
		flow, MaxEventInstructions, MaxEventExprSteps)
}
