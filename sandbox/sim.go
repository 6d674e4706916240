package sandbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// A Sim is a simulated world a flow test drives: one contact (id 1, on
// whatsapp, with an open conversation), a clock that moves only when told,
// stubbed HTTP, simulated agents and deliveries, running flows. The
// in-memory World and the EngineWorld, which runs the engine of runtime/
// on a store of its own, both implement it; flow tests run on either.
type Sim interface {
	// SetField sets a contact field (channel: the contact's channel),
	// already typed as the flow declares it.
	SetField(name string, value any) error
	SetTags(tags []string) error
	// SetConversation sets conversation data: open, previous, ...
	SetConversation(name string, value any) error
	// SetAssignee sets the assignee's data: email, name, status, ...
	SetAssignee(name string, value any) error
	SetTimezone(loc *time.Location) error
	Timezone() *time.Location
	// SetNow sets the clock; a timer it is set past fires at the next
	// Advance.
	SetNow(t time.Time) error
	AddStub(s *Stub)
	SetAgentsOnline(online bool) error
	// SetDeliveriesFail makes the messages of steps with on failure
	// undelivered (true) or delivered.
	SetDeliveriesFail(fail bool)
	// SetLimit bounds the work the world's runs may do in all: past it
	// Advance fires no more timers, and Spent reports it.
	SetLimit(w interpreter.Work)

	// StartFlow fires p's trigger for the contact: p starts, drafts
	// included, unless a run of it is active or its trigger's condition
	// is false for trigger; the transcript says which. p's run becomes
	// the main run.
	StartFlow(p *interpreter.Program, trigger map[string]any) error
	Say(text string) error
	SendLocation(lat, long float64) error
	AgentSays(text string) error
	ManualAssign(user string) error
	Advance(d time.Duration) error
	// AnswerAI answers the run that most recently waited for AI.
	AnswerAI(outcome string, vars map[string]string) error

	// Transcript returns the lines written since the last call.
	Transcript() []string
	// Namespaces are contact, conversation and assignee, as p reads them.
	Namespaces(p *interpreter.Program) (contact, conversation, assignee map[string]any, err error)
	// MainRun is the state of the run StartFlow last started: ok is false
	// when it started none.
	MainRun() (status, wait string, vars map[string]any, ok bool)
	Work() interpreter.Work
	Spent() bool
	EvalCondition(prog *vm.Program, env map[string]any) (bool, error)
	Close() error
}

var _ Sim = (*World)(nil)

// SetField implements Sim.
func (w *World) SetField(name string, value any) error {
	w.Contact[name] = value
	return nil
}

// SetTags implements Sim.
func (w *World) SetTags(tags []string) error {
	w.Contact["tags"] = tags
	return nil
}

// SetConversation implements Sim.
func (w *World) SetConversation(name string, value any) error {
	w.Conversation[name] = value
	return nil
}

// SetAssignee implements Sim.
func (w *World) SetAssignee(name string, value any) error {
	if w.Assignee == nil {
		w.Assignee = map[string]any{}
	}
	w.Assignee[name] = value
	return nil
}

// Unset removes a contact, conversation or assignee value (the REPL's
// :unset).
func (w *World) Unset(namespace, name string) {
	switch namespace {
	case "contact":
		delete(w.Contact, name)
	case "conversation":
		delete(w.Conversation, name)
	case "assignee":
		delete(w.Assignee, name)
	}
}

// Timezone implements Sim.
func (w *World) Timezone() *time.Location { return w.Location }

// SetNow implements Sim.
func (w *World) SetNow(t time.Time) error {
	w.Now = t
	return nil
}

// AddStub implements Sim.
func (w *World) AddStub(s *Stub) { w.Stubs = append(w.Stubs, s) }

// SetDeliveriesFail implements Sim.
func (w *World) SetDeliveriesFail(fail bool) { w.FailDelivery = fail }

// SetLimit implements Sim.
func (w *World) SetLimit(limit interpreter.Work) { w.Limit = limit }

// SetFlows replaces the flows start steps find (the REPL's :reload).
func (w *World) SetFlows(flows map[string]*interpreter.Program) { w.Flows = flows }

// SetLiveHTTP makes the http steps no stub matches call the real URL with
// c (nil: they do not).
func (w *World) SetLiveHTTP(c *runtime.HTTPClient) { w.LiveHTTP = c }

// SetHoldHTTP makes the http steps no stub matches wait for AnswerHTTP
// instead of failing.
func (w *World) SetHoldHTTP(hold bool) { w.HoldHTTP = hold }

// StartFlow implements Sim.
func (w *World) StartFlow(p *interpreter.Program, trigger map[string]any) error {
	if w.main != nil && w.main.Status == interpreter.Waiting {
		return errors.New("the flow is already running")
	}
	r, err := w.Enroll(p, trigger)
	w.main = r
	return err
}

// AnswerAI implements Sim.
func (w *World) AnswerAI(outcome string, vars map[string]string) error {
	r := w.Waiting(interpreter.WaitAI)
	if r == nil {
		return fmt.Errorf("no run is waiting for AI")
	}
	w.Answer(r, interpreter.AIOutcome{Seq: r.Seq(), Outcome: outcome, Vars: vars})
	return nil
}

// Namespaces implements Sim.
func (w *World) Namespaces(*interpreter.Program) (contact, conversation, assignee map[string]any, err error) {
	return w.Contact, w.Conversation, w.Assignee, nil
}

// MainRun implements Sim.
func (w *World) MainRun() (status, wait string, vars map[string]any, ok bool) {
	if w.main == nil {
		return "", "", nil, false
	}
	return w.main.Status.String(), w.main.Wait.String(), w.main.Vars, true
}

// Close implements Sim: a World holds nothing to release.
func (w *World) Close() error { return nil }
