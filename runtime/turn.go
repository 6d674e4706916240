package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// Activity kinds: a contact's timeline, which flow tests read as their
// transcript.
const (
	KindMessageIn    = "message_in"
	KindMessageOut   = "message_out" // Data is the outbound message
	KindAgentMessage = "agent_message"
	KindTag          = "tag"
	KindField        = "field"
	KindAssign       = "assign"
	KindConversation = "conversation"
	KindStep         = "step"  // comment, http, sheet, ai
	KindEvent        = "event" // a change from outside: a conversation opened or closed, an assignment by hand
	KindFlow         = "flow"  // a run started, ended, stopped or not started
	KindError        = "error"
)

// Outbox lanes: each contact's items of one lane go out one at a time, in
// order.
const (
	laneMessage = "message"
	laneHTTP    = "http"
	laneSheet   = "sheet"
	laneAI      = "ai"
	laneAssign  = "assign" // queued assignments, which the engine gives out itself
)

// timerWatchdog answers a run's wait for an HTTP response or a delivery
// report that never came.
const timerWatchdog = "watchdog"

// A turn is one event being handled: the contact's records, loaded once
// and written back once, and the runs it touches.
type turn struct {
	e   *Engine
	tx  store.Tx
	m   *interpreter.Machine // the transaction's
	now time.Time
	// lastAssigned is the latest assignment of any user, as pick read it
	// under the assignment lock
	lastAssigned time.Time

	c            *store.Contact
	conv         *store.Conversation // the latest, open or closed; nil when none ever
	contactDirty bool
	convDirty    bool // the conversation changed
	convTouched  bool // only its last message fields did
	users        map[string]*store.User
	// addr is where the event came from, which the turn's messages go
	// back to; nil until a message needs it (see address).
	addr  *store.Address
	addrs []store.Address // the contact's, once read, and a sentinel

	runs    []*liveRun // the contact's active runs, and those the event starts
	queue   []pending  // inputs for runs, in order
	sprints []*sprint  // sprints whose effects are being applied, innermost last
	firings []firing   // triggers set off by flows' changes, to enrol after
	budget  interpreter.EventBudget
	freed   bool  // an assignee's slot freed: queued assignments may go ahead
	err     error // the first store error: the event fails
}

// A liveRun is a run the turn has in hand.
type liveRun struct {
	rec      *store.Run
	prog     *interpreter.Program
	cont     *interpreter.Continuation // while it waits
	trigger  map[string]any
	busy     bool // its effects are being applied
	ended    bool
	dirty    bool
	why      string        // what started it, to note as it starts: "on tag added \"VIP\""
	deadline time.Time     // of its current wait
	httpWait time.Duration // the timeout of the http step it waits at
}

type pending struct {
	r  *liveRun
	in interpreter.Input
}

// A sprint is a run's start or resume whose effects are being applied. A
// start step pushes the child's start on top of its parent's sprint, so
// that the child's first sprint runs before the rest of the parent's effects.
type sprint struct {
	r     *liveRun
	start bool
	out   interpreter.Outcome
	next  int
}

type firing struct {
	f      Firing
	data   map[string]any
	byFlow bool
}

// creates reports whether an event for a contact the store lacks creates it.
func creates(ev Event) bool {
	switch ev.(type) {
	case Message, AdClick, Webhook, Seed:
		return true
	}
	return false
}

func (e *Engine) newTurn(tx store.Tx, contactID string, ev Event) (*turn, error) {
	if contactID == "" {
		return nil, errors.New("the event names no contact")
	}
	if err := tx.LockContacts(contactID); err != nil {
		return nil, err
	}
	t := &turn{e: e, tx: tx, m: tx.(*watchTx).m, now: e.cfg.Now(), users: map[string]*store.User{}}
	t.budget.Begin(t.m.Work())
	if st := e.cache.take(contactID); st != nil {
		t.c, t.conv, t.runs, t.addrs = st.c, st.conv, st.runs, st.addrs
		return t, nil
	}
	c, conv, err := tx.ContactState(contactID)
	switch {
	case errors.Is(err, store.ErrNotFound) && creates(ev):
		c = &store.Contact{ID: contactID, Fields: map[string]any{}, Tags: []string{}, Created: t.now}
		t.contactDirty = true
	case err != nil:
		return nil, err
	}
	t.c, t.conv = c, conv
	recs, err := tx.ActiveRuns(contactID)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		t.load(rec)
	}
	return t, t.err
}

// load takes a waiting run in hand; one that cannot be resumed any more
// (its program is gone, its state damaged) ends, failed, visibly.
func (t *turn) load(rec *store.Run) {
	r := &liveRun{rec: rec, deadline: rec.Deadline}
	t.runs = append(t.runs, r)
	p, err := t.e.program(t.tx, rec.Program)
	if err == nil {
		r.prog = p
		r.cont, err = interpreter.Decode(rec.Cont)
	}
	if err == nil {
		// which resolves where it waits in this flowd's code, and moves a
		// run of an earlier flowd's program hash to today's
		err = r.cont.Bind(p)
		rec.Program = p.Hash
	}
	if err == nil && len(rec.Trigger) > 0 {
		err = json.Unmarshal(rec.Trigger, &r.trigger)
	}
	if err != nil {
		t.end(r, store.RunFailed, err.Error())
		t.note(r, KindError, "failed: "+err.Error(), nil)
	}
}

func (t *turn) fail(err error) {
	if err != nil && t.err == nil {
		t.err = err
	}
}

// note records an activity entry; r is the run it belongs to, or nil.
func (t *turn) note(r *liveRun, kind, text string, data []byte) {
	a := &store.Activity{ContactID: t.c.ID, At: t.now, Kind: kind, Text: text, Data: data}
	if r != nil {
		a.Flow, a.RunID = r.rec.Flow, r.rec.ID
	}
	t.fail(t.tx.AddActivity(a))
}

// run works until nothing is left: the sprints being applied, innermost
// first, then the queued inputs, then the triggers flows set off.
func (t *turn) run() error {
	for t.err == nil {
		switch {
		case len(t.sprints) > 0:
			t.step(t.sprints[len(t.sprints)-1])
		case len(t.queue) > 0:
			p := t.queue[0]
			t.queue = t.queue[1:]
			t.resume(p.r, p.in)
		case len(t.firings) > 0:
			f := t.firings[0]
			t.firings = t.firings[1:]
			t.enrolAll(f)
		default:
			return nil
		}
	}
	return t.err
}

// flush writes back what the turn changed.
func (t *turn) flush() error {
	active := t.runs[:0:0]
	for _, r := range t.runs {
		if r.dirty {
			if r.rec.Updated.Before(t.now) { // a pause stamp may be later
				r.rec.Updated = t.now
			}
			t.fail(t.tx.UpdateRun(r.rec))
			r.dirty = false
		}
		if !r.ended {
			active = append(active, r)
		}
	}
	if t.contactDirty {
		t.fail(t.tx.SaveContact(t.c))
	}
	switch {
	case t.convDirty:
		t.fail(t.tx.SaveConversation(t.conv))
	case t.convTouched:
		t.fail(t.tx.TouchConversation(t.conv))
	}
	if t.err == nil {
		t.e.cache.keep(t.c.ID, &contactState{c: t.c, conv: t.conv, runs: active, addrs: t.addrs}) // a contact's addresses never change
	}
	return t.err
}

// spent reports whether the event did all the work one event may; r, which
// was to go on next, then fails.
func (t *turn) spent(r *liveRun) bool {
	err := t.budget.Spent(r.rec.Flow, t.m.Work())
	if err == nil {
		return false
	}
	t.end(r, store.RunFailed, err.Error())
	t.note(r, KindError, "failed: "+err.Error(), nil)
	return true
}

func (t *turn) resume(r *liveRun, in interpreter.Input) {
	if r.ended || r.busy || r.cont == nil || t.spent(r) {
		return
	}
	out, err := t.m.Resume(r.prog, r.cont, t.context(r), in)
	if err != nil {
		t.end(r, store.RunFailed, err.Error())
		t.note(r, KindError, "failed: "+err.Error(), nil)
		return
	}
	if out.Ignored {
		return
	}
	if out.Status != interpreter.Waiting || out.Cont.Seq != r.cont.Seq {
		r.deadline = time.Time{} // the wait is over: a new one's timers come with the effects
	}
	r.busy = true
	t.sprints = append(t.sprints, &sprint{r: r, out: out})
}

// step goes on with the innermost sprint: it starts the run if it is yet
// to start, applies its effects until a start step pushes a child, and
// settles the run when they are all applied.
func (t *turn) step(s *sprint) {
	r := s.r
	if s.start {
		s.start = false
		if r.ended || t.spent(r) {
			t.sprints = t.sprints[:len(t.sprints)-1]
			return
		}
		if r.why != "" {
			t.note(r, KindFlow, fmt.Sprintf("started %q %s", r.prog.Flow, r.why), nil)
		}
		s.out = t.m.Start(r.prog, t.context(r))
	}
	depth := len(t.sprints)
	for s.next < len(s.out.Effects) && t.err == nil {
		e := s.out.Effects[s.next]
		s.next++
		t.apply(r, e)
		if len(t.sprints) > depth {
			return // a child starts first
		}
	}
	t.sprints = t.sprints[:depth-1]
	t.settle(r, s.out)
}

// settle stores the run's state after its sprint.
func (t *turn) settle(r *liveRun, out interpreter.Outcome) {
	r.busy = false
	if r.ended { // stopped while its effects were applied
		return
	}
	switch out.Status {
	case interpreter.Waiting:
		b, err := out.Cont.Encode(nil)
		if err != nil {
			t.end(r, store.RunFailed, err.Error())
			t.note(r, KindError, "failed: "+err.Error(), nil)
			return
		}
		r.cont = out.Cont
		r.rec.Cont, r.rec.Wait, r.rec.WaitSeq = b, out.Cont.Wait.String(), out.Cont.Seq
		switch out.Cont.Wait {
		case interpreter.WaitHTTP:
			t.watchdog(r, r.httpWait+WatchdogGrace)
		case interpreter.WaitDelivery:
			t.watchdog(r, DeliveryWatchdog)
		}
		r.rec.Deadline = r.deadline
		r.rec.Updated = t.pauseStamp()
		r.dirty = true
	case interpreter.Done:
		t.end(r, store.RunDone, "")
		r.rec.Vars = finalVars(r, out.Vars)
		t.note(r, KindFlow, fmt.Sprintf("end %q", r.rec.Flow), nil)
	case interpreter.Failed:
		t.end(r, store.RunFailed, out.Err.Error())
		r.rec.Vars = finalVars(r, out.Vars)
		t.note(r, KindError, "failed: "+out.Err.Error(), nil)
	}
}

// finalVars keeps an ended run's variables, encoded as a continuation's
// are: its history shows what it collected, and a flow test asserts on it.
func finalVars(r *liveRun, vars map[string]any) []byte {
	if len(vars) == 0 {
		return nil
	}
	b, err := (&interpreter.Continuation{Program: r.prog.Hash, Vars: vars}).Encode(nil)
	if err != nil {
		return nil // over the continuation's size limit: the run's end is what matters
	}
	return b
}

// RunVars are a stored run's variables: where it waits, or where it ended.
func RunVars(r *store.Run) (map[string]any, error) {
	b := r.Cont
	if b == nil {
		b = r.Vars
	}
	if b == nil {
		return map[string]any{}, nil
	}
	c, err := interpreter.Decode(b)
	if err != nil {
		return nil, err
	}
	if c.Vars == nil {
		return map[string]any{}, nil
	}
	return c.Vars, nil
}

func (t *turn) watchdog(r *liveRun, after time.Duration) {
	t.timer(r, timerWatchdog, r.cont.Seq, t.now.Add(after))
}

func (t *turn) timer(r *liveRun, kind string, seq uint32, at time.Time) {
	t.fail(t.tx.AddTimer(&store.Timer{ContactID: t.c.ID, Kind: kind, RunID: r.rec.ID, Seq: seq, At: at}))
	if r.deadline.IsZero() || at.Before(r.deadline) {
		r.deadline = at
	}
}

// end ends a run and drops what it waited on: its timers, and the
// assignment, AI reply or HTTP call it had asked for. Messages it sent
// still go out.
func (t *turn) end(r *liveRun, status, why string) {
	if r.ended {
		return
	}
	r.ended, r.dirty, r.cont = true, true, nil
	r.rec.Status, r.rec.Cont, r.rec.Err, r.rec.Deadline = status, nil, why, time.Time{}
	t.fail(t.tx.DeleteRunTimers(r.rec.ID, 0))
	t.fail(t.tx.WithdrawOutbound(r.rec.ID, laneAssign, laneAI, laneHTTP))
}

// exit stops the waiting runs whose flows exit on cond, but keep.
func (t *turn) exit(cond interpreter.Exit, keep *liveRun) {
	for _, r := range t.runs {
		if r != keep && !r.ended && !r.busy && r.prog.ExitsOn(cond) {
			t.end(r, store.RunStopped, "exit on "+cond.String())
			t.note(r, KindFlow, fmt.Sprintf("exit %q on %s", r.rec.Flow, cond), nil)
		}
	}
}

// active reports whether a run of the flow is active: about to start,
// running, or paused.
func (t *turn) active(flow string) bool {
	for _, r := range t.runs {
		if !r.ended && r.rec.Flow == flow {
			return true
		}
	}
	return false
}

// runByID is the contact's active run with the id, or nil.
func (t *turn) runByID(id int64) *liveRun {
	for _, r := range t.runs {
		if r.rec.ID == id && !r.ended {
			return r
		}
	}
	return nil
}

// pauseStamp is the time a run pauses at: now, or just after the latest
// pause of the contact's runs, so that the one that paused last is known
// when two pause in one event, or the clock has not moved (a test's).
func (t *turn) pauseStamp() time.Time {
	at := t.now
	for _, r := range t.runs {
		if !r.rec.Updated.Before(at) {
			at = r.rec.Updated.Add(time.Nanosecond)
		}
	}
	return at
}

// latestWaiting is, of the runs waiting for kind, the one that paused
// most recently, or nil: the run that gets the contact's message (a
// reply), or whose agent the contact talks to (AI).
func (t *turn) latestWaiting(kind interpreter.WaitKind) *liveRun {
	var target *liveRun
	for _, r := range t.runs {
		if r.ended || r.busy || r.cont == nil || r.cont.Wait != kind {
			continue
		}
		if target == nil || !r.rec.Updated.Before(target.rec.Updated) {
			target = r
		}
	}
	return target
}

// open opens a conversation, unless one is open; the caller fires the
// flows listening, when it should.
func (t *turn) open(by string) bool {
	if t.conv != nil && t.conv.Open {
		return false
	}
	if t.convDirty { // closed in this event: saved closed first, or the new one breaks the one-open rule
		t.fail(t.tx.SaveConversation(t.conv))
	}
	t.conv = &store.Conversation{ContactID: t.c.ID, Open: true, OpenedBy: by, OpenedAt: t.now}
	t.convDirty = true
	t.fail(t.tx.SaveConversation(t.conv)) // its ID, and the one-open rule, now
	return true
}

func (t *turn) fireOpened(by string, byFlow bool) {
	t.fire(Firing{Event: interpreter.EventConversationOpened, Source: by},
		map[string]any{"source": by}, byFlow)
}

// close closes the open conversation, stops the runs that exit on it, and
// fires the flows listening.
func (t *turn) close(by, category, summary string, byFlow bool) {
	if t.conv == nil || !t.conv.Open {
		return
	}
	c := t.conv
	c.Open, c.ClosedBy, c.ClosedAt, c.Category, c.Summary = false, by, t.now, category, summary
	t.convDirty = true
	t.freed = t.freed || c.Assignee != ""
	t.fail(t.tx.DeleteContactTimers(t.c.ID, store.TimerAutoClose))
	t.exit(interpreter.ExitConversationClosed, nil)
	t.fire(Firing{Event: interpreter.EventConversationClosed, Source: by},
		map[string]any{"source": by, "category": category, "summary": summary}, byFlow)
}

// fire sets off the flows whose triggers take f, once the sprints under way
// are over, in the order things happened: an ad click opens a conversation
// and then clicks, a flow's tag add fires after its sprint, as the next
// event would. byFlow says a flow's change set it off: the firing cap
// counts those.
func (t *turn) fire(f Firing, data map[string]any, byFlow bool) {
	t.firings = append(t.firings, firing{f: f, data: data, byFlow: byFlow})
}

func (t *turn) enrolAll(fr firing) {
	data := map[string]any{"type": fr.f.Event}
	for k, v := range fr.data {
		data[k] = v
	}
	t.selectAndEnrol(t.e.flows, fr, data)
}

// maxDraftsNamed bounds the drafts one selection's note names.
const maxDraftsNamed = 20

// selectAndEnrol starts the flows selection chooses for the firing, each
// named in the activity with what started it, and records those it passed
// over, with the reason: a test asserts on selection, and an operator sees
// why a flow did not start.
func (t *turn) selectAndEnrol(flows []*interpreter.Program, fr firing, data map[string]any) {
	chosen, passed, err := Selection(flows, fr.f, candidates{t, data})
	if err != nil {
		t.note(nil, KindError, "trigger: "+err.Error(), nil)
	}
	var drafts []string
	for _, p := range passed {
		if p.Why == whyDraft {
			drafts = append(drafts, p.Flow)
		} else {
			t.note(nil, KindFlow, p.String(), nil)
		}
	}
	switch {
	case !t.e.cfg.ExplainDrafts || len(drafts) == 0:
	case len(drafts) == 1:
		t.note(nil, KindFlow, Passed{drafts[0], whyDraft}.String(), nil)
	default:
		sort.Strings(drafts)
		more := ""
		if len(drafts) > maxDraftsNamed { // a workspace may have thousands
			more = fmt.Sprintf(" and %d more", len(drafts)-maxDraftsNamed)
			drafts = drafts[:maxDraftsNamed]
		}
		t.note(nil, KindFlow, "not started, drafts: "+quoteAll(drafts)+more, nil)
	}
	for i := len(chosen) - 1; i >= 0; i-- { // sprints stack: the first by name runs first
		t.enrol(chosen[i], data, fr.byFlow, nil, "on "+fr.f.String())
	}
}

// candidates answers Select's questions for the turn's contact.
type candidates struct {
	t    *turn
	data map[string]any
}

func (c candidates) Active(flow string) (bool, error) { return c.t.active(flow), nil }
func (c candidates) Enrolled(flow string) (bool, error) {
	return c.t.tx.Enrolled(c.t.c.ID, flow)
}
func (c candidates) Matches(p *interpreter.Program) (bool, error) {
	return c.t.m.Matches(p, c.t.context(&liveRun{prog: p, trigger: c.data}))
}

// held reports whether an agent stopped the flow for the open conversation.
func (t *turn) held(flow string) bool {
	return t.conv != nil && t.conv.Open && slices.Contains(t.conv.Held, flow)
}

// enrol starts a run of p with the trigger data; parent is the run whose
// start step starts it; why, when set, is noted: what started it. A start set off by a flow's change is refused past
// the contact's firing cap: flows that set each other off stop, visibly.
func (t *turn) enrol(p *interpreter.Program, data map[string]any, byFlow bool, parent *liveRun, why string) {
	if t.held(p.Flow) {
		t.note(parent, KindFlow, fmt.Sprintf("not started: %q: stopped by an agent for this conversation", p.Flow), nil)
		return
	}
	if max := t.e.cfg.MaxRuns; max > 0 && int(t.e.started.Load())+t.tx.(*watchTx).starting >= max {
		t.note(parent, KindError, fmt.Sprintf("not started: %q: a world may have %d runs in all", p.Flow, max), nil)
		return
	}
	if byFlow {
		n, err := t.tx.Enrolments(t.c.ID, t.now.Add(-t.e.cfg.FiringWindow))
		if t.fail(err); err != nil {
			return
		}
		if n >= t.e.cfg.FiringCap {
			t.note(nil, KindError, fmt.Sprintf("not started: %q: %d flows started for this contact within %s; flows that set each other off?",
				p.Flow, n, t.e.cfg.FiringWindow), nil)
			return
		}
	}
	trig, err := json.Marshal(data)
	if err != nil {
		t.fail(fmt.Errorf("trigger data of %q: %w", p.Flow, err))
		return
	}
	rec := &store.Run{ContactID: t.c.ID, Flow: p.Flow, Program: p.Hash, Status: store.RunWaiting,
		Wait: interpreter.WaitNone.String(), Trigger: trig, Started: t.now, Updated: t.now}
	if parent != nil {
		rec.Parent = parent.rec.ID
	}
	t.fail(t.tx.AddEnrolment(t.c.ID, p.Flow, t.now))
	t.fail(t.tx.InsertRun(rec))
	t.tx.(*watchTx).starting++
	r := &liveRun{rec: rec, prog: p, trigger: data, why: why}
	t.runs = append(t.runs, r)
	t.sprints = append(t.sprints, &sprint{r: r, start: true})
}
