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

// An EngineWorld is a Sim that runs the engine of runtime/, the one that
// serves, on an embedded store of its own held in memory: a fake clock,
// stubbed, held or live HTTP, simulated agents, deliveries and AI
// outcomes. Its transcript is rendered from the contact's activity, which
// the engine recorded.
type EngineWorld struct {
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
}

// NewEngineWorld returns a world at now whose engine runs flows, the main
// flow among them: the contact has an open conversation, opened by the
// contact on whatsapp.
func NewEngineWorld(now time.Time, main *interpreter.Program, flows []runtime.Flow) (*EngineWorld, error) {
	st, err := stores.get()
	if err != nil {
		return nil, err
	}
	w := &EngineWorld{ctx: context.Background(), st: st, clock: runtime.NewFakeClock(now), loc: time.UTC, main: main,
		agents: &simAgents{made: map[string]bool{}}, http: &simHTTP{}, channel: &simChannel{}}
	w.e, err = runtime.New(w.ctx, st, flows, runtime.Config{Now: w.clock.Now, Directory: w.agents, MaxRuns: MaxRuns})
	if err != nil {
		stores.put(st)
		return nil, err
	}
	// one try a delivery: a simulated failure is final at once
	w.d = &runtime.Dispatcher{Engine: w.e, Channel: w.channel, HTTP: w.http, AI: simAI{}, Sheets: simSheets{w.channel}, MaxAttempts: 1}
	if err := w.handle(runtime.Seed{Contact: ContactID, Channel: "whatsapp", Tags: []string{}, Open: true}); err != nil {
		stores.put(st)
		return nil, err
	}
	return w, nil
}

// Engine is the world's engine.
func (w *EngineWorld) Engine() *runtime.Engine { return w.e }

// handle hands an event to the engine, then has the dispatcher do what it
// queued, as production would right after the commit.
func (w *EngineWorld) handle(ev runtime.Event) error {
	if err := w.e.Handle(w.ctx, ev); err != nil {
		return err
	}
	return w.d.Drain(w.ctx)
}

// Close implements Sim: the world's store is emptied for the next world.
func (w *EngineWorld) Close() error {
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

// SetField implements Sim.
func (w *EngineWorld) SetField(name string, value any) error {
	if name == "channel" {
		s, _ := value.(string)
		return w.handle(runtime.Seed{Contact: ContactID, Channel: s})
	}
	if s, ok := value.(string); ok {
		value = s
	}
	return w.handle(runtime.Seed{Contact: ContactID, Fields: map[string]any{name: value}})
}

// SetTags implements Sim.
func (w *EngineWorld) SetTags(tags []string) error {
	if tags == nil {
		tags = []string{}
	}
	return w.handle(runtime.Seed{Contact: ContactID, Tags: tags})
}

// SetConversation implements Sim: open (true or false) and previous (the
// conversations before the open one) are the engine's.
func (w *EngineWorld) SetConversation(name string, value any) error {
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
		if n < had {
			return fmt.Errorf("conversation previous: the contact already had %d conversations", had)
		}
		if n == had {
			return nil
		}
		// closed, earlier ones added, and opened again if it was open, so
		// that the latest is number n+1
		open, _ := conv["open"].(bool)
		return w.handle(runtime.Seed{Contact: ContactID, Close: true, Past: n - had - boolInt(open), Open: open})
	}
	return fmt.Errorf("conversation %s: the engine sets it itself (set open or previous)", name)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetAssignee implements Sim: the conversation is assigned to a user
// with the data the assignee lines give (email, name, status).
func (w *EngineWorld) SetAssignee(name string, value any) error {
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

// SetTimezone implements Sim: the clock keeps its wall-clock reading, so
// 10:00 UTC becomes 10:00 in loc.
func (w *EngineWorld) SetTimezone(loc *time.Location) error {
	n := w.clock.Now().In(w.loc)
	w.loc = loc
	w.e.SetLocation(loc)
	w.clock.Reset(time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), n.Nanosecond(), loc))
	return nil
}

// Timezone implements Sim.
func (w *EngineWorld) Timezone() *time.Location { return w.loc }

// SetNow implements Sim.
func (w *EngineWorld) SetNow(t time.Time) error {
	w.clock.Reset(t)
	return nil
}

// AddStub implements Sim.
func (w *EngineWorld) AddStub(s *Stub) { w.http.stubs = append(w.http.stubs, s) }

// SetAgentsOnline implements Sim: the agents made up so far change status,
// and those made up from now on start with it.
func (w *EngineWorld) SetAgentsOnline(online bool) error {
	status := "offline"
	if online {
		status = "online"
	}
	w.agents.status = status
	for _, id := range w.agents.sorted() {
		if err := w.handle(runtime.UserStatus{User: id, Status: status}); err != nil {
			return err
		}
	}
	return nil
}

// SetDeliveriesFail implements Sim.
func (w *EngineWorld) SetDeliveriesFail(fail bool) { w.channel.fail = fail }

// SetLimit implements Sim.
func (w *EngineWorld) SetLimit(limit interpreter.Work) { w.limit = limit }

// StartFlow implements Sim.
func (w *EngineWorld) StartFlow(p *interpreter.Program, trigger map[string]any) error {
	last, err := w.lastRun()
	if err != nil {
		return err
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
func (w *EngineWorld) lastRun() (int64, error) {
	var last int64
	err := w.runs(0, func(r *store.Run) bool { last = r.ID; return true })
	return last, err
}

// runs calls fn on the contact's runs after the id, in order, while it
// returns true.
func (w *EngineWorld) runs(after int64, fn func(*store.Run) bool) error {
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
func (w *EngineWorld) read1(fn func(store.Tx) error) error {
	tx, err := w.st.Begin(w.ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Say implements Sim.
func (w *EngineWorld) Say(text string) error {
	return w.handle(runtime.Message{Contact: ContactID, Text: interpreter.CleanText(text)})
}

// SendLocation implements Sim.
func (w *EngineWorld) SendLocation(lat, long float64) error {
	return w.handle(runtime.Message{Contact: ContactID, Location: &interpreter.Location{Lat: lat, Long: long}})
}

// AgentSays implements Sim.
func (w *EngineWorld) AgentSays(text string) error {
	return w.handle(runtime.AgentMessage{Contact: ContactID, User: "agent", Text: interpreter.CleanText(text)})
}

// ManualAssign implements Sim: the user, made up if need be, takes the
// conversation.
func (w *EngineWorld) ManualAssign(user string) error {
	user = interpreter.CleanText(user)
	if err := w.e.SeedUsers(w.ctx, []store.User{{ID: user, Name: user, Email: user, Status: "online"}}); err != nil {
		return err
	}
	return w.handle(runtime.ManualAssign{Contact: ContactID, User: user})
}

// Advance implements Sim. Past the world's limit no more timers fire,
// and the transcript says where the clock stopped.
func (w *EngineWorld) Advance(d time.Duration) error {
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

// AnswerAI implements Sim.
func (w *EngineWorld) AnswerAI(outcome string, vars map[string]string) error {
	var target *store.Run
	err := w.read1(func(tx store.Tx) error {
		runs, err := tx.ActiveRuns(ContactID)
		for _, r := range runs {
			if r.Wait == interpreter.WaitAI.String() && (target == nil || !r.Updated.Before(target.Updated)) {
				target = r
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if target == nil {
		return errors.New("no run is waiting for AI")
	}
	return w.handle(runtime.Result{Contact: ContactID, Run: target.ID,
		Input: interpreter.AIOutcome{Seq: target.WaitSeq, Outcome: outcome, Vars: vars}})
}

// Namespaces implements Sim.
func (w *EngineWorld) Namespaces(p *interpreter.Program) (contact, conversation, assignee map[string]any, err error) {
	return w.e.Namespaces(w.ctx, ContactID, p)
}

// MainRun implements Sim.
func (w *EngineWorld) MainRun() (status, wait string, vars map[string]any, ok bool) {
	if w.mainRun == 0 {
		return "", "", nil, false
	}
	var rec *store.Run
	if w.read1(func(tx store.Tx) (err error) { rec, err = tx.Run(w.mainRun); return err }) != nil {
		return "", "", nil, false
	}
	vars, err := runtime.RunVars(rec)
	if err != nil {
		vars = nil
	}
	return rec.Status, rec.Wait, vars, true
}

// Work implements Sim.
func (w *EngineWorld) Work() interpreter.Work { return w.e.Work() }

// Spent implements Sim.
func (w *EngineWorld) Spent() bool {
	done := w.e.Work()
	return w.limit.Instructions > 0 && done.Instructions >= w.limit.Instructions ||
		w.limit.ExprSteps > 0 && done.ExprSteps >= w.limit.ExprSteps
}

// EvalCondition implements Sim: an assert's work counts as the runs'.
func (w *EngineWorld) EvalCondition(prog *vm.Program, env map[string]any) (bool, error) {
	return w.e.EvalCondition(prog, env)
}

// Transcript implements Sim: the contact's activity since the last call,
// rendered, at most MaxTranscript lines and MaxTranscriptBytes.
func (w *EngineWorld) Transcript() []string {
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
func (w *EngineWorld) render(a store.Activity) (string, bool) {
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
