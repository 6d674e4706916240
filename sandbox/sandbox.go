// Package sandbox runs flows against a simulated world held in memory: one
// contact with its fields and tags, its conversation and assignee, a fake
// clock with timers, stubbed, live or held HTTP, and simulated agents. The REPL
// and flow tests are built on it. As a service does, it stores every paused
// run only in its encoded continuation and decodes it again on each input.
//
// Everything that happens is written to a transcript, one line per event,
// in the form flow tests expect:
//
//	bot: Do you accept? [ACCEPT AND CONTINUE]
//	* tag add "Consent: Privacy"
//	* end
package sandbox

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// A World is the simulated contact, conversation and clock.
type World struct {
	Flows        map[string]*interpreter.Program        // by flow name, for start steps
	Find         func(name string) *interpreter.Program // when set, finds the flows Flows lacks; nil: none
	Contact      map[string]any
	Conversation map[string]any
	Assignee     map[string]any
	Now          time.Time
	Location     *time.Location // workspace timezone

	Stubs         []*Stub             // answers for http steps, first match wins
	LiveHTTP      *runtime.HTTPClient // when set, unmatched http steps make real calls
	HoldHTTP      bool                // unmatched http steps wait for AnswerHTTP instead of failing
	Exchanges     []Exchange          // every answered http step, in order
	AgentsOffline bool                // assign steps wait for their timeout
	FailDelivery  bool                // messages with on failure are reported undelivered

	// Limit, when set, is the work the world's runs may do in all. Each
	// event is bounded on its own, but an Advance can fire timers without
	// end (a flow that waits a second and loops, over a year of waiting):
	// past the limit it fires no more, and Spent reports it.
	Limit interpreter.Work

	Runs []*Run // every run, in the order they started
	main *Run   // the run StartFlow started last

	waiting []*Run // the runs that were Waiting when last looked at: see live

	lines          []string
	lineBytes      int  // the bytes of lines
	cut            bool // lines is full until the next Transcript
	timers         []timer
	queue          []pending
	sprints        []*sprint // sprints whose effects are being applied, innermost last
	pendingAssigns []pendingAssign
	held           []*HeldRequest
	order          int
	event          interpreter.EventBudget // of the event being handled
	machine        interpreter.Machine
}

// A Run is one flow run in the world.
type Run struct {
	Program *interpreter.Program
	Trigger map[string]any
	Cont    []byte // the encoded continuation while waiting
	// Status is Waiting from the moment the run is created until it ends:
	// while it is about to start, while its effects are being applied and
	// while it is paused (then Cont is set).
	Status  interpreter.Status
	Err     error
	Child   bool           // started by another flow's start step
	Vars    map[string]any // the variables at the last wait
	Wait    interpreter.WaitKind
	waitSeq uint32
	order   int // when it last paused, for picking who gets a reply
}

type timer struct {
	at  time.Time
	run *Run
	seq uint32
}

type pending struct {
	run *Run
	in  interpreter.Input
}

// A sprint is a run's start or resume whose effects the world is applying.
// A start step pushes the child's start on top of its parent's sprint, so
// that the child's first sprint runs, and shows in the transcript, before the
// rest of the parent's effects, without the Go stack growing with each start.
type sprint struct {
	run   *Run
	start bool                // the run is yet to start: out is not computed
	out   interpreter.Outcome // when !start
	next  int                 // the effects applied so far
}

// New returns a world at the given time with an empty contact and an open
// conversation.
func New(now time.Time) *World {
	return &World{
		Flows:        map[string]*interpreter.Program{},
		Contact:      map[string]any{"id": "1", "channel": "whatsapp", "tags": []string{}},
		Conversation: map[string]any{"open": true, "source": "contact", "previous": 0},
		Now:          now,
		Location:     time.UTC,
	}
}

// Work returns what the world's runs have done so far.
func (w *World) Work() interpreter.Work { return w.machine.Work() }

// EvalCondition runs a condition of interpreter.CompileCondition over env
// on the world's machine, so that its work counts in the world's (an
// assert of flowd test).
func (w *World) EvalCondition(prog *vm.Program, env map[string]any) (bool, error) {
	return w.machine.EvalCondition(prog, env)
}

// Spent reports whether the world's runs have done the work of Limit.
func (w *World) Spent() bool {
	done := w.machine.Work()
	return w.Limit.Instructions > 0 && done.Instructions >= w.Limit.Instructions ||
		w.Limit.ExprSteps > 0 && done.ExprSteps >= w.Limit.ExprSteps
}

// MaxRuns is how many runs one world may have in all, and MaxTranscript how
// many transcript lines it keeps between two reads: with a year of timers
// to fire, flows that wait and start each other could otherwise fill memory
// with runs and lines before a work limit stops them.
const (
	MaxRuns       = 10_000
	MaxTranscript = 100_000
	// MaxTranscriptBytes bounds those lines' bytes: a line can be a
	// megabyte (a sheet row of long values, escaped).
	MaxTranscriptBytes = 16 << 20
)

// full reports, in the transcript, that the world has had MaxRuns runs and
// starts no more.
func (w *World) full(flow string) bool {
	if len(w.Runs) < MaxRuns {
		return false
	}
	w.logf("* not started: %q: a world may have %d runs in all", flow, MaxRuns)
	return true
}

// Transcript returns the lines written since the last call.
func (w *World) Transcript() []string {
	out := w.lines
	w.lines, w.lineBytes, w.cut = nil, 0, false
	return out
}

func (w *World) logf(format string, args ...any) {
	if w.cut {
		return
	}
	line := fmt.Sprintf(format, args...)
	if len(w.lines) == MaxTranscript || w.lineBytes+len(line) > MaxTranscriptBytes {
		w.lines = append(w.lines, fmt.Sprintf("* transcript cut: more than %d lines or %s since the last look",
			MaxTranscript, textfile.Size(MaxTranscriptBytes)))
		w.cut = true
		return
	}
	w.lines = append(w.lines, line)
	w.lineBytes += len(line)
}

// Start starts a run of p, whatever its trigger's condition says; Enroll
// applies it.
func (w *World) Start(p *interpreter.Program, trigger map[string]any) *Run {
	r := w.newRun(p, trigger, false)
	w.drain()
	return r
}

// Enroll starts a run of p as its trigger would: unless a run of the flow is
// still active, and only when the trigger's `when` condition holds for the
// world and the trigger data. A flow that is not started is reported in the
// transcript and gives a nil run; the error is the condition's. Drafts are
// started: they are meant to be tried and tested.
func (w *World) Enroll(p *interpreter.Program, trigger map[string]any) (*Run, error) {
	if w.active(p.Flow) {
		w.logf("* not started: %q is already running", p.Flow)
		return nil, nil
	}
	if w.full(p.Flow) {
		return nil, nil
	}
	ok, err := w.machine.Matches(p, w.context(&Run{Program: p, Trigger: trigger}))
	if err != nil {
		return nil, err
	}
	if !ok {
		w.logf("* not started: trigger condition is false")
		return nil, nil
	}
	return w.Start(p, trigger), nil
}

// newRun adds a run of p that starts on the next drain, before any queued
// input.
func (w *World) newRun(p *interpreter.Program, trigger map[string]any, child bool) *Run {
	r := &Run{Program: p, Trigger: trigger, Child: child, Status: interpreter.Waiting}
	w.Runs = append(w.Runs, r)
	w.waiting = append(w.waiting, r)
	w.sprints = append(w.sprints, &sprint{run: r, start: true})
	return r
}

// live returns the runs still Waiting, oldest first. A run that ends never
// waits again, so it is dropped from the list at the first look after: what
// the world looks through is its live runs, not every run it has had, which
// a flow that waits and starts another makes by the hundred thousand.
func (w *World) live() []*Run {
	kept := w.waiting[:0]
	for _, r := range w.waiting {
		if r.Status == interpreter.Waiting {
			kept = append(kept, r)
		}
	}
	clear(w.waiting[len(kept):])
	w.waiting = kept
	return kept
}

// active reports whether a run of the flow is still active: about to start,
// running, or paused. respond.io does not start a flow again for a contact
// while it is.
func (w *World) active(flow string) bool {
	for _, r := range w.live() {
		if r.Program.Flow == flow && r.Status == interpreter.Waiting {
			return true
		}
	}
	return false
}

// Say delivers a message from the contact. It answers the run that most
// recently asked a question; runs with `exit on contact message` stop. The
// text is cleaned first, as any text from outside (interpreter.CleanText).
func (w *World) Say(text string) error {
	w.inbound(interpreter.Message{Text: interpreter.CleanText(text)})
	return nil
}

// SendLocation delivers a location message from the contact.
func (w *World) SendLocation(lat, long float64) error {
	w.inbound(interpreter.Message{Location: &interpreter.Location{Lat: lat, Long: long}})
	return nil
}

func (w *World) inbound(msg interpreter.Message) {
	w.Conversation["last_incoming"] = msg.Text
	w.Conversation["last_incoming_at"] = w.Now
	var target *Run
	for _, r := range w.live() {
		if r.Status == interpreter.Waiting && r.Wait == interpreter.WaitReply && (target == nil || r.order > target.order) {
			target = r
		}
	}
	w.exit(interpreter.ExitContactMessage, target)
	if target != nil {
		w.queue = append(w.queue, pending{target, msg})
		w.drain()
	}
}

// Stop ends a waiting run at once, as an agent stopping it by hand would: its
// timers are cancelled and its held http request, if any, is dropped.
func (w *World) Stop(r *Run) {
	if r.Status != interpreter.Waiting {
		return
	}
	r.Status, r.Cont = interpreter.Done, nil
	w.forget(r)
	w.logf("* stopped %q", r.Program.Flow)
}

// AgentSays records a message from an agent: runs with `exit on agent
// message` stop, as respond.io's exit conditions do.
func (w *World) AgentSays(text string) error {
	text = interpreter.CleanText(text)
	w.Conversation["last_outgoing"] = text
	w.Conversation["last_outgoing_source"] = "user"
	w.exit(interpreter.ExitAgentMessage, nil)
	return nil
}

// ManualAssign assigns the conversation by hand: runs with `exit on manual
// assignment` stop.
func (w *World) ManualAssign(user string) error {
	user = interpreter.CleanText(user)
	w.Assignee = interpreter.Agent{ID: user, Name: user, Email: user, Status: "online"}.Values()
	w.exit(interpreter.ExitManualAssignment, nil)
	return nil
}

// exit stops the waiting runs that have the exit condition, except keep.
func (w *World) exit(cond interpreter.Exit, keep *Run) {
	for _, r := range w.live() {
		if r == keep || r.Status != interpreter.Waiting {
			continue
		}
		if r.Program.ExitsOn(cond) {
			r.Status, r.Cont = interpreter.Done, nil
			w.forget(r)
			w.logf("* exit %q on %s", r.Program.Flow, cond)
		}
	}
}

// Answer delivers any input to a run (HTTP responses, AI outcomes, ...).
func (w *World) Answer(r *Run, in interpreter.Input) {
	w.queue = append(w.queue, pending{r, in})
	w.drain()
}

// Waiting returns the most recently paused run waiting for kind, or nil.
func (w *World) Waiting(kind interpreter.WaitKind) *Run {
	var target *Run
	for _, r := range w.live() {
		if r.Status == interpreter.Waiting && r.Wait == kind && (target == nil || r.order > target.order) {
			target = r
		}
	}
	return target
}

// SetAgentsOnline brings agents online (true) or takes them offline. Coming
// online answers the assign steps that were queued.
func (w *World) SetAgentsOnline(online bool) error {
	w.AgentsOffline = !online
	if !online {
		return nil
	}
	for _, r := range w.live() {
		if r.Status == interpreter.Waiting && r.Wait == interpreter.WaitAssign {
			w.assignNow(r)
		}
	}
	w.drain()
	return nil
}

// assignNow gives a waiting assign step its agent.
func (w *World) assignNow(r *Run) {
	a := w.assignee(r)
	w.logf("* assigned %q", a.Email)
	w.Assignee = a.Values()
	w.queue = append(w.queue, pending{r, interpreter.AssignResult{Seq: r.waitSeq, User: a}})
}

// Seq is the sequence number the run's current wait expects in answers.
func (r *Run) Seq() uint32 { return r.waitSeq }

// Advance moves the clock forward, firing due timers in time order. A timer
// that was already due (the clock was set past it) fires at the current
// time: the clock never moves back.
func (w *World) Advance(d time.Duration) error {
	end := w.Now.Add(d)
	for {
		sort.SliceStable(w.timers, func(i, j int) bool { return w.timers[i].at.Before(w.timers[j].at) })
		if len(w.timers) == 0 || w.timers[0].at.After(end) {
			break
		}
		if w.Spent() {
			w.logf("* timers stopped at %s: the runs did all the work they may", w.Now.In(w.Location).Format(time.RFC3339))
			return nil // the clock stays where the work ran out
		}
		t := w.timers[0]
		w.timers = w.timers[1:]
		if t.at.After(w.Now) {
			w.Now = t.at
		}
		w.queue = append(w.queue, pending{t.run, interpreter.Timeout{Seq: t.seq}})
		w.drain()
	}
	if end.After(w.Now) {
		w.Now = end
	}
	return nil
}

// SetTimezone changes the workspace timezone, keeping the clock's
// wall-clock reading: 10:00 UTC becomes 10:00 in loc.
func (w *World) SetTimezone(loc *time.Location) error {
	n := w.Now.In(w.Location)
	w.Location = loc
	w.Now = time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), n.Nanosecond(), loc)
	return nil
}

// NextTimer returns when the next timer fires, if any; a time before Now
// is a timer that fires on the next Advance.
func (w *World) NextTimer() (time.Time, bool) {
	if len(w.timers) == 0 {
		return time.Time{}, false
	}
	next := w.timers[0].at
	for _, t := range w.timers {
		if t.at.Before(next) {
			next = t.at
		}
	}
	return next, true
}

func (w *World) context(r *Run) *interpreter.Context {
	return &interpreter.Context{
		Contact: w.Contact, Assignee: w.Assignee, Conversation: w.Conversation,
		Trigger: r.Trigger, Now: w.Now, Location: w.Location,
	}
}

// drain runs the world until nothing is left to do: it finishes the sprints
// being applied, innermost first, then resumes runs with their queued inputs.
// Each resume decodes the run's continuation from its encoded form.
func (w *World) drain() {
	w.event.Begin(w.machine.Work()) // each drain handles one event and what follows from it
	for {
		if n := len(w.sprints); n > 0 {
			w.step(w.sprints[n-1])
			continue
		}
		if len(w.queue) == 0 {
			return
		}
		p := w.queue[0]
		w.queue = w.queue[1:]
		r := p.run
		if r.Status != interpreter.Waiting || r.Cont == nil {
			continue
		}
		if w.eventSpent(r) {
			continue
		}
		cont, err := interpreter.Decode(r.Cont)
		if err != nil {
			r.Status, r.Err = interpreter.Failed, err
			w.forget(r)
			w.logf("* failed: %v", err)
			continue
		}
		out, err := w.machine.Resume(r.Program, cont, w.context(r), p.in)
		if err != nil {
			r.Status, r.Err = interpreter.Failed, err
			w.forget(r)
			w.logf("* failed: %v", err)
			continue
		}
		if out.Ignored {
			continue
		}
		w.sprints = append(w.sprints, &sprint{run: r, out: out})
	}
}

// step goes on with the sprint s, the innermost: it starts the run if it is
// yet to start, and applies its effects until they are all applied, then
// stores the run's new state, or until a start step pushes a child's start.
func (w *World) step(s *sprint) {
	r := s.run
	if s.start {
		s.start = false
		if r.Status != interpreter.Waiting || w.eventSpent(r) { // stopped before it started
			w.sprints = w.sprints[:len(w.sprints)-1]
			return
		}
		s.out = w.machine.Start(r.Program, w.context(r))
	}
	depth := len(w.sprints)
	for s.next < len(s.out.Effects) {
		e := s.out.Effects[s.next]
		s.next++
		w.apply(r, e)
		if len(w.sprints) > depth {
			return // a child starts first
		}
	}
	w.sprints = w.sprints[:depth-1]
	w.settle(r, s.out)
}

// eventSpent reports whether the event being handled has done all the work
// one event may; it then fails r, which was to run next.
func (w *World) eventSpent(r *Run) bool {
	err := w.event.Spent(r.Program.Flow, w.machine.Work())
	if err == nil {
		return false
	}
	r.Status, r.Cont, r.Err = interpreter.Failed, nil, err
	w.forget(r)
	w.logf("* failed: %v", r.Err)
	return true
}

// settle stores the run's state after a sprint whose effects are applied.
func (w *World) settle(r *Run, out interpreter.Outcome) {
	r.Status = out.Status
	switch out.Status {
	case interpreter.Waiting:
		b, err := out.Cont.Encode(nil)
		if err != nil {
			r.Status, r.Err = interpreter.Failed, err
			w.forget(r)
			w.logf("* failed: %v", err)
			return
		}
		r.Cont = b
		r.Wait = out.Cont.Wait
		r.waitSeq = out.Cont.Seq
		r.Vars = out.Cont.Vars
		w.order++
		r.order = w.order
		// answers the world gives at once
		switch r.Wait {
		case interpreter.WaitDelivery:
			w.queue = append(w.queue, pending{r, interpreter.Delivery{Seq: r.waitSeq, OK: !w.FailDelivery, Err: failText(w.FailDelivery)}})
		case interpreter.WaitAssign:
			if !w.AgentsOffline {
				w.assignNow(r)
			}
		}
	case interpreter.Done:
		r.Cont = nil
		r.Vars = out.Vars
		w.forget(r)
		if r.Child {
			w.logf("* end %q", r.Program.Flow)
		} else {
			w.logf("* end")
		}
	case interpreter.Failed:
		r.Cont = nil
		r.Vars = out.Vars
		r.Err = out.Err
		w.forget(r)
		w.logf("* failed: %v", out.Err)
	}
}

func failText(fail bool) string {
	if fail {
		return "delivery failed"
	}
	return ""
}

// assignee picks who an assign step gets: the named user, or an agent of the
// team.
func (w *World) assignee(r *Run) interpreter.Agent {
	user := func(email, team string) interpreter.Agent {
		return interpreter.Agent{ID: email, Name: email, Email: email, Status: "online", Team: team}
	}
	for i := len(w.pendingAssigns) - 1; i >= 0; i-- {
		if w.pendingAssigns[i].run == r {
			a := w.pendingAssigns[i].effect
			w.pendingAssigns = append(w.pendingAssigns[:i], w.pendingAssigns[i+1:]...)
			switch a.Kind {
			case "user":
				return user(a.Target, "")
			case "team":
				return user("agent@"+slug(a.Target), a.Target)
			}
			return user("agent@workspace", "")
		}
	}
	return user("agent", "")
}

func slug(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "-"))
}

// forget drops what the world keeps for a run that ended: its timers and
// its assign requests. (Its held http request is dropped by HeldHTTP.)
func (w *World) forget(r *Run) {
	kept := w.timers[:0]
	for _, t := range w.timers {
		if t.run != r {
			kept = append(kept, t)
		}
	}
	w.timers = kept
	w.dropAssigns(func(a pendingAssign) bool { return a.run == r })
}

// dropAssigns removes the pending assign requests for which drop is true.
func (w *World) dropAssigns(drop func(pendingAssign) bool) {
	kept := w.pendingAssigns[:0]
	for _, a := range w.pendingAssigns {
		if !drop(a) {
			kept = append(kept, a)
		}
	}
	w.pendingAssigns = kept
}

// apply carries out one effect on the world and writes it to the transcript.
func (w *World) apply(r *Run, e interpreter.Effect) {
	switch e := e.(type) {
	case *interpreter.SendMessage:
		channel := e.Channel
		if channel == "" {
			channel = channelOf(w.Contact)
		}
		w.logf("bot: %s", renderMessage(e, channel))
		w.Conversation["last_outgoing"] = e.Text
		w.Conversation["last_outgoing_source"] = "flow"
		w.Conversation["last_outgoing_at"] = w.Now
		if e.Question && e.Seq != 0 && w.FailDelivery {
			// a question whose ask has on failure: report it undelivered
			w.queue = append(w.queue, pending{r, interpreter.Delivery{Seq: e.Seq, Err: "delivery failed"}})
		}
	case *interpreter.StartTimer:
		w.timers = append(w.timers, timer{at: w.Now.Add(e.After), run: r, seq: e.Seq})
	case *interpreter.CancelTimer:
		kept := w.timers[:0]
		for _, t := range w.timers {
			if t.run != r || t.seq != e.Seq {
				kept = append(kept, t)
			}
		}
		w.timers = kept
	case *interpreter.AddTags:
		w.Contact["tags"] = interpreter.WithTags(w.tags(), e.Tags)
		w.logf("* tag add %s", quoteAll(e.Tags))
	case *interpreter.RemoveTags:
		w.Contact["tags"] = interpreter.WithoutTags(w.tags(), e.Tags)
		w.logf("* tag remove %s", quoteAll(e.Tags))
	case *interpreter.SetField:
		w.Contact[e.Field] = interpreter.FieldValue(r.Program.FieldTypes[e.Field], e.Value)
		w.logf("* set contact.%s = %q", e.Field, e.Value)
	case *interpreter.ClearField:
		delete(w.Contact, e.Field)
		w.logf("* clear contact.%s", e.Field)
	case *interpreter.Assign:
		w.logf("* %s", renderAssign(e))
		w.pendingAssigns = append(w.pendingAssigns, pendingAssign{r, e})
		if w.AgentsOffline {
			w.logf("* queued: no agent available")
		}
	case *interpreter.CancelAssign:
		// the assign timed out: nobody is to be assigned for it any more
		w.dropAssigns(func(a pendingAssign) bool { return a.run == r && a.effect.Seq == e.Seq })
	case *interpreter.Unassign:
		w.Assignee = nil
		w.logf("* unassign")
	case *interpreter.OpenConversation:
		w.Conversation["open"] = true
		w.logf("* open conversation")
	case *interpreter.CloseConversation:
		w.Conversation["open"] = false
		line := "* close conversation"
		if e.Category != "" {
			line += fmt.Sprintf(" category %q", e.Category)
		}
		if e.Summary != "" {
			line += fmt.Sprintf(" summary %q", e.Summary)
		}
		w.logf("%s", line)
	case *interpreter.AddComment:
		w.logf("* comment %q", e.Text)
	case *interpreter.StartFlow:
		w.logf("* start %q", e.Flow)
		p, ok := w.Flows[e.Flow]
		if !ok && w.Find != nil {
			p = w.Find(e.Flow)
			ok = p != nil
		}
		if !ok {
			w.logf("* failed: no flow is named %q", e.Flow)
			return
		}
		if p.Draft {
			w.logf("* not started: %q is a draft", e.Flow)
			return
		}
		if w.active(p.Flow) { // this run's own flow, or one that started it, is active too
			w.logf("* not started: %q is already running", e.Flow)
			return
		}
		if w.full(e.Flow) {
			return
		}
		if err := w.event.Start(e.Flow); err != nil {
			w.logf("* not started: %v", err)
			return
		}
		w.newRun(p, map[string]any{"type": "manual", "parent": r.Program.Flow}, true)
	case *interpreter.HTTPRequest:
		w.logf("* http %s", e.Describe())
		resp, stub, ok := w.http(e)
		if !ok {
			w.held = append(w.held, &HeldRequest{Run: r, Request: e})
			return
		}
		w.respond(r, e, resp, stub)
	case *interpreter.SheetRow:
		var cols []string
		for _, c := range e.Columns {
			cols = append(cols, fmt.Sprintf("%q: %q", c[0], c[1]))
		}
		line := fmt.Sprintf("* sheet %q", e.Spreadsheet)
		if e.Tab != "" {
			line += fmt.Sprintf(" tab %q", e.Tab)
		}
		w.logf("%s {%s}", line, strings.Join(cols, ", "))
	case *interpreter.AIReply:
		w.logf("* ai reply %q", e.Instructions)
	case *interpreter.StopAI:
		// the idle timer ended the ai reply; the run no longer waits for AI,
		// so Waiting(WaitAI) does not find it and nothing else is kept
	case *interpreter.AIHandoff:
		w.Assignee = interpreter.Agent{ID: e.Agent, Name: e.Agent, Status: "online"}.Values() // an AI agent has no email
		w.logf("* ai handoff %q", e.Agent)
	}
}

type pendingAssign struct {
	run    *Run
	effect *interpreter.Assign
}

func (w *World) tags() []string {
	t, _ := w.Contact["tags"].([]string)
	return t
}

func channelOf(contact map[string]any) string {
	s, _ := contact["channel"].(string)
	return s
}

// renderMessage writes a message as the contact would see it on channel:
// the channel's variant if there is one, newlines as \n, choices in brackets.
func renderMessage(m *interpreter.SendMessage, channel string) string {
	text, choices, attach := m.Text, m.Choices, m.Attachments
	for _, v := range m.Variants {
		if v.Channel == channel {
			if v.Template != "" {
				text = fmt.Sprintf("[template %s %s %s]", v.Template, v.Language, strings.Join(v.Params, ", "))
			} else {
				text = v.Text
			}
			if v.Choices != nil {
				choices = v.Choices
			}
			if v.Attachments != nil {
				attach = v.Attachments
			}
		}
	}
	out := Escape(text)
	if len(choices) > 0 {
		out += " [" + strings.Join(choices, " | ") + "]"
	}
	if len(attach) > 0 {
		out += " (attach " + strings.Join(attach, ", ") + ")"
	}
	if m.Channel != "" {
		out += " (via " + m.Channel + ")"
	}
	return out
}

// Escape keeps a text on one transcript line, as a .flowtest can write it,
// and harmless to print: newlines show as \n, the whitespace that ends it
// (which a .flowtest line cannot end with) as \x20 for a space, \t and \r,
// and what a terminal would act on or reorder as escapes: control
// characters (\x1b), bidirectional controls (\u202e) and invalid UTF-8
// bytes (\xff).
func Escape(s string) string {
	body := strings.TrimRight(s, " \t\r")
	var b strings.Builder
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRuneInString(body[i:])
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, body[i])
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || dsl.IsBidiControl(r): // C1 as \u0085, apart from the bad byte \x85
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(body[i : i+n])
		}
		i += n
	}
	b.WriteString(strings.NewReplacer(" ", `\x20`, "\t", `\t`, "\r", `\r`).Replace(s[len(body):]))
	return b.String()
}

func renderAssign(a *interpreter.Assign) string {
	if a.Kind == "workspace" {
		return "assign workspace " + assignOpts(a)
	}
	return strings.TrimSpace(fmt.Sprintf("assign %s %q %s", a.Kind, a.Target, assignOpts(a)))
}

func assignOpts(a *interpreter.Assign) string {
	var opts []string
	if a.Logic != "" {
		opts = append(opts, a.Logic)
	}
	if a.OnlineOnly {
		opts = append(opts, "online only")
	}
	if a.MaxOpen > 0 {
		opts = append(opts, "max open "+strconv.Itoa(a.MaxOpen))
	}
	return strings.Join(opts, " ")
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}
