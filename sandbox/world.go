// Package sandbox runs flows in a simulated world: the engine of runtime/
// on an in-memory store, with a fake clock, stubbed or held HTTP, and
// simulated agents, deliveries and AI outcomes. flowd test and the REPL
// are built on it. What it owns is the simulation (the executors' fake
// answers, the clock) and the transcript, rendered from the engine's
// activity log in the form flow tests expect:
//
//	bot: Do you accept? [ACCEPT AND CONTINUE]
//	* tag add "Consent: Privacy"
//	* end
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/sqlite"
)

// ContactID is the simulated contact's id.
const ContactID = "1"

// A World is a simulated world that flow tests and the REPL drive: one
// contact (id 1, on whatsapp, with an open conversation) and the engine of
// runtime/, the one that serves, on an embedded store of its own held in
// memory, with a fake clock, stubbed, held or live HTTP, simulated agents,
// deliveries and AI outcomes. Its transcript is rendered from the
// contact's activity, which the engine recorded.
type World struct {
	ctx   context.Context
	st    *sqlite.DB
	e     *runtime.Engine
	clock *runtime.FakeClock
	d     *runtime.Dispatcher
	loc   *time.Location
	limit interpreter.Work

	agents  *simAgents
	http    *simHTTP
	channel *simChannel

	main     *interpreter.Program // the flow StartFlow last started
	mainRun  int64                // its run, or 0
	assignee store.User           // what assignee lines set
	read     int64                // the activity rendered so far
	notes    []string             // transcript lines of the world's own
	flows    []runtime.Flow       // the flows the engine runs

	started        bool // the contact is set up: see ready
	noConversation bool // it starts without a conversation
}

// New returns a world at now whose engine runs flows, the main
// flow among them: the contact has an open conversation, opened by the
// contact on whatsapp.
func New(now time.Time, main *interpreter.Program, flows []runtime.Flow) (*World, error) {
	st, err := stores.get()
	if err != nil {
		return nil, err
	}
	w := &World{ctx: context.Background(), st: st, clock: runtime.NewFakeClock(now), loc: time.UTC, main: main,
		agents: &simAgents{made: map[string]bool{}}, http: &simHTTP{}, channel: &simChannel{},
		flows: append([]runtime.Flow(nil), flows...)}
	w.e, err = runtime.New(w.ctx, st, flows, runtime.Config{Now: w.clock.Now, Directory: w.agents, MaxRuns: MaxRuns, ExplainDrafts: true})
	if err != nil {
		stores.put(st)
		return nil, err
	}
	// one try a delivery: a simulated failure is final at once
	w.d = &runtime.Dispatcher{Engine: w.e, Channel: w.channel, HTTP: w.http, AI: simAI{}, Sheets: simSheets{w.channel}, MaxAttempts: 1}
	return w, nil
}

// ready sets the contact up before the world's first event or reading:
// on whatsapp, with an open conversation unless SetNoConversation said
// otherwise.
func (w *World) ready() error {
	if w.started {
		return nil
	}
	w.started = true
	return w.handle(runtime.Seed{Contact: ContactID, Channel: "whatsapp", Tags: []string{}, Open: !w.noConversation})
}

// event hands an event to the engine once the contact is set up.
func (w *World) event(ev runtime.Event) error {
	if err := w.ready(); err != nil {
		return err
	}
	return w.handle(ev)
}

// Engine is the world's engine.
func (w *World) Engine() *runtime.Engine { return w.e }

// handle hands an event to the engine, then has the dispatcher do what it
// queued, as production would right after the commit.
func (w *World) handle(ev runtime.Event) error {
	if err := w.e.Handle(w.ctx, ev); err != nil {
		return err
	}
	return w.d.Drain(w.ctx)
}

// Close: the world's store is emptied for the next world.
func (w *World) Close() error {
	stores.put(w.st)
	return nil
}

// stores keeps emptied in-memory stores for the next worlds: a case gets a
// fresh store without the cost of opening one.
var stores storePool

type storePool struct {
	mu   sync.Mutex
	free []*sqlite.DB
}

// maxFreeStores bounds the stores kept: one per case run at once.
const maxFreeStores = 8

func (p *storePool) get() (*sqlite.DB, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		st := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return st, nil
	}
	p.mu.Unlock()
	return sqlite.Open(":memory:")
}

func (p *storePool) put(st *sqlite.DB) {
	if st.Reset() != nil {
		st.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == maxFreeStores {
		st.Close()
		return
	}
	p.free = append(p.free, st)
}

// SetField sets a contact field, typed as the flow declares it;
// channel is the contact's channel.
func (w *World) SetField(name string, value any) error {
	if err := w.ready(); err != nil {
		return err
	}
	if name == "channel" {
		s, _ := value.(string)
		return w.handle(runtime.Seed{Contact: ContactID, Channel: s})
	}
	return w.handle(runtime.Seed{Contact: ContactID, Fields: map[string]any{name: value}})
}

// SetTags sets the contact's tags.
func (w *World) SetTags(tags []string) error {
	if err := w.ready(); err != nil {
		return err
	}
	if tags == nil {
		tags = []string{}
	}
	return w.handle(runtime.Seed{Contact: ContactID, Tags: tags})
}

// SetConversation: open (true or false) and previous (the
// conversations before the open one) are the engine's.
func (w *World) SetConversation(name string, value any) error {
	if err := w.ready(); err != nil {
		return err
	}
	switch name {
	case "open":
		open, ok := value.(bool)
		if !ok {
			return errors.New("conversation open is true or false")
		}
		return w.handle(runtime.Seed{Contact: ContactID, Open: open, Close: !open})
	case "previous":
		n, ok := value.(int)
		if !ok || n < 0 {
			return errors.New("conversation previous is a whole number")
		}
		_, conv, _, err := w.e.Namespaces(w.ctx, ContactID, w.main)
		if err != nil {
			return err
		}
		had, _ := conv["previous"].(int)
		open, _ := conv["open"].(bool)
		total := 0 // the contact's conversations so far
		if _, exists := conv["source"]; exists {
			total = had + 1
		}
		// n conversations before the open one, or before the next
		switch {
		case open && n == had, !open && n == total:
			return nil
		case n < total:
			return fmt.Errorf("conversation previous: the contact already had %d conversations", total)
		}
		return w.handle(runtime.Seed{Contact: ContactID, Close: true, Past: n - total, Open: open})
	}
	return fmt.Errorf("conversation %s: the engine sets it itself (set open or previous)", name)
}

// SetAssignee: the conversation is assigned to a user
// with the data the assignee lines give (email, name, status).
func (w *World) SetAssignee(name string, value any) error {
	if err := w.ready(); err != nil {
		return err
	}
	s := fmt.Sprint(value)
	u := &w.assignee
	u.ID = "assignee"
	switch name {
	case "email":
		u.Email = s
	case "name":
		u.Name = s
	case "status":
		u.Status = s
	default:
		return fmt.Errorf("assignee %s: set email, name or status", name)
	}
	if u.Status == "" {
		u.Status = "online"
	}
	if err := w.e.SeedUsers(w.ctx, []store.User{*u}); err != nil {
		return err
	}
	if err := w.e.Handle(w.ctx, runtime.UserStatus{User: u.ID, Status: u.Status}); err != nil {
		return err
	}
	return w.handle(runtime.Seed{Contact: ContactID, Assignee: u.ID})
}

// SetTimezone: the clock keeps its wall-clock reading, so
// 10:00 UTC becomes 10:00 in loc.
func (w *World) SetTimezone(loc *time.Location) error {
	n := w.clock.Now().In(w.loc)
	w.loc = loc
	w.e.SetLocation(loc)
	w.clock.Reset(time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), n.Nanosecond(), loc))
	return nil
}

// SetBusinessHours sets the workspace's business hours; nil is
// interpreter.DefaultBusinessHours.
func (w *World) SetBusinessHours(hours []interpreter.HoursSpec) { w.e.SetBusinessHours(hours) }

// Timezone is the workspace timezone.
func (w *World) Timezone() *time.Location { return w.loc }

// SetNow sets the clock, back or forth; a timer it is set past fires at
// the next Advance.
func (w *World) SetNow(t time.Time) error {
	w.clock.Reset(t)
	return nil
}

// AddStub adds an answer for http steps; the first that matches wins.
func (w *World) AddStub(s *Stub) { w.http.stubs = append(w.http.stubs, s) }

// SetAgentsOnline: the agents made up so far change status,
// and those made up from now on start with it. Assign steps without online
// only take an offline agent all the same, as respond.io's do.
func (w *World) SetAgentsOnline(online bool) error {
	status := "offline"
	if online {
		status = "online"
	}
	w.agents.status = status
	if w.agents.none { // agents join: the queued assignments go ahead
		w.agents.none = false
		if err := w.e.SeedUsers(w.ctx, nil); err != nil {
			return err
		}
	}
	for _, id := range w.agents.sorted() {
		if err := w.e.Handle(w.ctx, runtime.UserStatus{User: id, Status: status}); err != nil {
			return err
		}
	}
	return w.d.Drain(w.ctx)
}

// SetNoAgents makes the workspace one without agents: no assign step finds
// anyone, and each waits in the queue until agents come (SetAgentsOnline)
// or its timeout.
func (w *World) SetNoAgents() { w.agents.none = true }

// SetDeliveriesFail makes the messages and rows of steps with on failure
// undelivered (true), or delivered.
func (w *World) SetDeliveriesFail(fail bool) { w.channel.fail = fail }

// SetLimit bounds the work the world's runs may do in all: past it
// Advance fires no more timers, and Spent reports it.
func (w *World) SetLimit(limit interpreter.Work) { w.limit = limit }

// StartFlow starts p for the contact as its trigger would (drafts
// included): not while a run of it is active, and only when its trigger's
// condition holds for trigger; the transcript says why not. A flow
// triggered by a close starts with the conversation closed. Its run
// becomes the main run.
func (w *World) StartFlow(p *interpreter.Program, trigger map[string]any) error {
	if err := w.ready(); err != nil {
		return err
	}
	last, err := w.lastRun()
	if err != nil {
		return err
	}
	if p.Trigger != nil && p.Trigger.Event == interpreter.EventConversationClosed {
		// the flow starts as the close would start it: closed
		if err := w.handle(runtime.Seed{Contact: ContactID, Close: true}); err != nil {
			return err
		}
	}
	if err := w.handle(runtime.ManualStart{Contact: ContactID, Flow: p.Flow, Trigger: trigger, Drafts: true}); err != nil {
		return err
	}
	w.main, w.mainRun = p, 0
	return w.runs(last, func(r *store.Run) bool {
		if r.Flow == p.Flow {
			w.mainRun = r.ID
			return false
		}
		return true
	})
}

// lastRun is the id of the contact's latest run.
func (w *World) lastRun() (int64, error) {
	var last int64
	err := w.runs(w.mainRun, func(r *store.Run) bool { last = r.ID; return true }) // ids grow: none before the main run is later
	last = max(last, w.mainRun)
	return last, err
}

// runs calls fn on the contact's runs after the id, in order, while it
// returns true.
func (w *World) runs(after int64, fn func(*store.Run) bool) error {
	return w.read1(func(tx store.Tx) error {
		for {
			page, err := tx.Runs(ContactID, after, 1000)
			if err != nil {
				return err
			}
			for _, r := range page {
				if !fn(r) {
					return nil
				}
				after = r.ID
			}
			if len(page) < 1000 {
				return nil
			}
		}
	})
}

// read1 reads the store in a transaction of its own.
func (w *World) read1(fn func(store.Tx) error) error {
	tx, err := w.st.Begin(w.ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Say is a message from the contact, cleaned as any text from outside.
func (w *World) Say(text string) error {
	return w.event(runtime.Message{Contact: ContactID, Text: text}) // the engine cleans it
}

// SendLocation is a location from the contact.
func (w *World) SendLocation(lat, long float64) error {
	return w.event(runtime.Message{Contact: ContactID, Location: &interpreter.Location{Lat: lat, Long: long}})
}

// AgentSays is a message an agent writes to the contact.
func (w *World) AgentSays(text string) error {
	return w.event(runtime.AgentMessage{Contact: ContactID, User: "agent", Text: text}) // the engine cleans it
}

// ManualAssign: the user, made up if need be, takes the
// conversation.
func (w *World) ManualAssign(user string) error {
	if err := w.ready(); err != nil {
		return err
	}
	user = interpreter.CleanText(user)
	if err := w.e.SeedUsers(w.ctx, []store.User{{ID: user, Name: user, Email: user, Status: "online"}}); err != nil {
		return err
	}
	return w.handle(runtime.ManualAssign{Contact: ContactID, User: user})
}

// Advance moves the clock on by d, firing the timers that fall due. Past the world's limit no more timers fire,
// and the transcript says where the clock stopped.
func (w *World) Advance(d time.Duration) error {
	if err := w.ready(); err != nil {
		return err
	}
	if err := w.d.Drain(w.ctx); err != nil {
		return err
	}
	err := w.e.Advance(w.ctx, w.clock, w.clock.Now().Add(d), w.limit, w.d.Drain)
	var spent *runtime.SpentError
	if errors.As(err, &spent) {
		w.notes = append(w.notes, "* "+spent.Error())
		return nil
	}
	return err
}

// AnswerAI answers the run that most recently waited for AI.
func (w *World) AnswerAI(outcome string, vars map[string]string) error {
	return w.event(runtime.AIAnswer{Contact: ContactID, Turn: runtime.AITurn{Outcome: outcome, Values: vars}})
}

// Namespaces are contact, conversation and assignee as p reads them.
func (w *World) Namespaces(p *interpreter.Program) (contact, conversation, assignee map[string]any, err error) {
	if err := w.ready(); err != nil {
		return nil, nil, nil, err
	}
	return w.e.Namespaces(w.ctx, ContactID, p)
}

// RunState is what a flow test asserts on of a run.
type RunState struct {
	Status  string         // waiting, done, failed, stopped
	Wait    string         // what it waits for, or last waited for
	Program string         // the hash of the version it runs
	Vars    map[string]any // its variables where it waits or ended
	Trigger map[string]any // the trigger data it started with
}

// MainRun is the run StartFlow last started; ok is false when it started
// none.
func (w *World) MainRun() (RunState, bool) {
	if w.mainRun == 0 {
		return RunState{}, false
	}
	var rec *store.Run
	if w.read1(func(tx store.Tx) (err error) { rec, err = tx.Run(w.mainRun); return err }) != nil {
		return RunState{}, false
	}
	st := RunState{Status: rec.Status, Wait: rec.Wait, Program: rec.Program}
	st.Vars, _ = runtime.RunVars(rec)
	if json.Unmarshal(rec.Trigger, &st.Trigger) != nil {
		st.Trigger = nil
	}
	return st, true
}

// Work is what the world's runs have done so far.
func (w *World) Work() interpreter.Work { return w.e.Work() }

// Spent reports whether the runs did the work of the world's limit.
func (w *World) Spent() bool {
	done := w.e.Work()
	return w.limit.Instructions > 0 && done.Instructions >= w.limit.Instructions ||
		w.limit.ExprSteps > 0 && done.ExprSteps >= w.limit.ExprSteps
}

// EvalCondition: an assert's work counts as the runs'.
func (w *World) EvalCondition(prog *vm.Program, env map[string]any) (bool, error) {
	return w.e.EvalCondition(prog, env)
}

// Transcript: the contact's activity since the last call,
// rendered, at most MaxTranscript lines and MaxTranscriptBytes.
func (w *World) Transcript() []string {
	var lines []string
	size, cut := 0, false
	add := func(line string) {
		if cut {
			return
		}
		if len(lines) == MaxTranscript || size+len(line) > MaxTranscriptBytes {
			lines = append(lines, fmt.Sprintf("* transcript cut: more than %d lines or %s since the last look",
				MaxTranscript, textfile.Size(MaxTranscriptBytes)))
			cut = true
			return
		}
		lines = append(lines, line)
		size += len(line)
	}
	err := w.read1(func(tx store.Tx) error {
		for {
			page, err := tx.Activity(ContactID, w.read, 1000)
			if err != nil {
				return err
			}
			for _, a := range page {
				w.read = a.ID
				if line, ok := w.render(a); ok {
					add(line)
				}
			}
			if len(page) < 1000 {
				return nil
			}
		}
	})
	if err != nil {
		add("* transcript: " + err.Error())
	}
	for _, n := range w.notes {
		add(n)
	}
	w.notes = w.notes[:0]
	return lines
}

// render is an activity entry as a transcript line; entries that echo the
// lines a test gave (the contact's messages, an agent's, outside changes)
// are not shown.
func (w *World) render(a store.Activity) (string, bool) {
	switch a.Kind {
	case runtime.KindMessageIn, runtime.KindAgentMessage, runtime.KindEvent:
		return "", false
	case runtime.KindMessageOut:
		var m runtime.OutMessage
		if err := json.Unmarshal(a.Data, &m); err != nil || m.Message == nil {
			return "bot: " + Escape(a.Text), true
		}
		return "bot: " + renderMessage(m.Message, m.Channel), true
	case runtime.KindFlow:
		if a.RunID == w.mainRun && strings.HasPrefix(a.Text, "end ") {
			return "* end", true
		}
	}
	return "* " + a.Text, true
}
