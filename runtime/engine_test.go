package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

// A harness is an engine on a file store with a fake clock, and a reader
// of each contact's activity.
type harness struct {
	t     *testing.T
	path  string
	st    store.Store
	e     *runtime.Engine
	now   time.Time
	flows []runtime.Flow
	cfg   runtime.Config
	read  map[string]int64 // activity read so far, by contact
}

func compile(t *testing.T, srcs ...string) []runtime.Flow {
	t.Helper()
	var out []runtime.Flow
	for i, src := range srcs {
		p, _, err := interpreter.CompileSource(fmt.Sprintf("f%d.flow", i), []byte(src))
		if err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
		out = append(out, runtime.Flow{Program: p, Source: []byte(src)})
	}
	return out
}

func bundledFlows(t *testing.T) []runtime.Flow {
	t.Helper()
	files, _ := filepath.Glob("../flows/*.flow")
	var out []runtime.Flow
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := interpreter.CompileSource(f, src)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, runtime.Flow{Program: p, Source: src})
	}
	return out
}

func newHarness(t *testing.T, flows []runtime.Flow, users ...store.User) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "flowd.db"), now: t0, flows: flows, read: map[string]int64{}}
	h.cfg = runtime.Config{Now: func() time.Time { return h.now }}
	h.open()
	t.Cleanup(func() { h.st.Close() })
	if len(users) > 0 {
		tx, err := h.st.Begin(context.Background())
		h.must(err)
		for _, u := range users {
			h.must(tx.SaveUser(u))
		}
		h.must(tx.Commit())
	}
	return h
}

func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) open() {
	h.t.Helper()
	st, err := openTestStore(h.t, h.path)
	h.must(err)
	h.st = st
	h.e, err = runtime.New(context.Background(), st, h.flows, h.cfg)
	h.must(err)
}

// restart closes the store, as a process that stops does, and opens a new
// engine on the same file.
func (h *harness) restart() {
	h.t.Helper()
	h.must(h.st.Close())
	h.open()
}

func (h *harness) do(evs ...runtime.Event) {
	h.t.Helper()
	for _, ev := range evs {
		h.must(h.e.Handle(context.Background(), ev))
	}
}

// advance moves the clock on, firing the timers that fall due in order.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	end := h.now.Add(d)
	for {
		next, ok, err := h.e.NextTimer(context.Background())
		h.must(err)
		if !ok || next.After(end) {
			break
		}
		if next.After(h.now) {
			h.now = next
		}
		_, err = h.e.Tick(context.Background())
		h.must(err)
	}
	h.now = end
}

// lines is the contact's activity since the last call: "> text" for a
// message in, "< text" out, "agent: text", and "* text" for the rest.
func (h *harness) lines(contact string) []string {
	h.t.Helper()
	tx, err := h.st.Begin(context.Background())
	h.must(err)
	defer tx.Rollback()
	acts, err := tx.Activity(contact, h.read[contact], 10000)
	h.must(err)
	var out []string
	for _, a := range acts {
		h.read[contact] = a.ID
		switch a.Kind {
		case runtime.KindMessageIn:
			out = append(out, "> "+a.Text)
		case runtime.KindMessageOut:
			out = append(out, "< "+a.Text)
		case runtime.KindAgentMessage:
			out = append(out, "agent: "+a.Text)
		default:
			out = append(out, "* "+a.Text)
		}
	}
	return out
}

func (h *harness) want(contact string, want ...string) {
	h.t.Helper()
	got := h.lines(contact)
	if !slices.Equal(got, want) {
		h.t.Errorf("activity of %s:\n got %s\nwant %s", contact, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// inTx reads the store.
func (h *harness) inTx(fn func(store.Tx)) {
	h.t.Helper()
	tx, err := h.st.Begin(context.Background())
	h.must(err)
	defer tx.Rollback()
	fn(tx)
}

func (h *harness) runs(contact string) []*store.Run {
	var out []*store.Run
	h.inTx(func(tx store.Tx) {
		var err error
		out, err = tx.ActiveRuns(contact)
		h.must(err)
	})
	return out
}

func (h *harness) contact(id string) *store.Contact {
	var c *store.Contact
	h.inTx(func(tx store.Tx) {
		var err error
		c, err = tx.Contact(id)
		h.must(err)
	})
	return c
}

func (h *harness) conversation(id string) *store.Conversation {
	var c *store.Conversation
	h.inTx(func(tx store.Tx) {
		var err error
		c, err = tx.LastConversation(id)
		h.must(err)
	})
	return c
}

func msg(contact, text string) runtime.Message {
	return runtime.Message{Contact: contact, Channel: "whatsapp", Text: text}
}

const askFlow = `flow "Ask"
trigger conversation opened by contact

ask "What is your name?" save Name timeout 1h {
  on timeout {
    send "Too slow."
    stop
  }
}
set contact.firstname = "$Name"
send "Hello $Name!"
`

// The contact's first message opens a conversation and fires the flow;
// the next answers its question; the run ends, its effects applied to the
// contact and its messages queued in the outbox.
func TestFirstMessageAndAnswer(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?")
	if c := h.conversation("c1"); !c.Open || c.OpenedBy != "contact" || c.LastIncoming != "hi" {
		t.Errorf("conversation after the first message: %+v", c)
	}
	h.do(msg("c1", "Ana"))
	h.want("c1", "> Ana", `* set contact.firstname = "Ana"`, "< Hello Ana!", `* end "Ask"`)
	if c := h.contact("c1"); c.Fields["firstname"] != "Ana" || c.Channel != "whatsapp" {
		t.Errorf("contact after the answer: %+v", c)
	}
	if runs := h.runs("c1"); len(runs) != 0 {
		t.Errorf("runs still active: %+v", runs)
	}
	var texts []string
	h.inTx(func(tx store.Tx) {
		due, err := tx.DueOutbound(h.now, 10)
		h.must(err)
		for _, o := range due {
			texts = append(texts, o.Lane+" "+string(o.Payload))
		}
	})
	if len(texts) != 1 || !strings.Contains(texts[0], `"What is your name?"`) || !strings.Contains(texts[0], `"channel":"whatsapp"`) {
		t.Errorf("outbox heads: %q, want the question first, on whatsapp", texts)
	}
	// the same message again, now with the conversation open, starts nothing
	h.do(msg("c1", "hi again"))
	h.want("c1", "> hi again")
}

// A test stops the engine mid-conversation and opens a new one on the same
// file: the answer completes the run; a timer that fell due while it was
// stopped fires once.
func TestRestart(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	h.do(msg("c1", "hi"), msg("c2", "hi"))
	h.restart()
	h.do(msg("c1", "Bo"))
	h.want("c1", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?", "> Bo", `* set contact.firstname = "Bo"`, "< Hello Bo!", `* end "Ask"`)

	h.must(h.st.Close())
	h.now = h.now.Add(2 * time.Hour) // c2's timeout passes while no engine runs
	h.open()
	fired, err := h.e.Tick(context.Background())
	h.must(err)
	if fired != 1 {
		t.Errorf("Tick on start fired %d timers, want 1", fired)
	}
	h.want("c2", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?", "< Too slow.", `* end "Ask"`)
	if fired, _ := h.e.Tick(context.Background()); fired != 0 {
		t.Errorf("a second Tick fired %d", fired)
	}
	h.do(msg("c2", "late"))
	h.want("c2", "> late")
}

// On the bundled flows, a new contact's first message enrols the consent
// flow (group inbound, priority 1, once per contact); in a later
// conversation the contact is routed by VIP routing (priority 2) instead.
func TestBundledGroups(t *testing.T) {
	h := newHarness(t, bundledFlows(t), store.User{ID: "sam", Name: "Sam Lee", Email: "sam@example.com", Teams: []string{"Support"}, Status: "online"})
	h.do(msg("c1", "hi"))
	got := h.lines("c1")
	if len(got) < 5 || got[1] != `* not started: "Routing: VIP Contacts": group "inbound" went to "Request Consent: Privacy"` ||
		got[2] != `* started "Request Consent: Privacy" on conversation opened by contact` ||
		!strings.HasPrefix(got[3], "< Hi there! Before we continue") || !strings.HasPrefix(got[4], "< Do you accept") {
		t.Fatalf("first message: %q", got)
	}
	h.do(msg("c1", "ACCEPT AND CONTINUE"))
	h.want("c1", "> ACCEPT AND CONTINUE", "< Thank you! You have accepted our privacy policy. How can we help you today?",
		`* tag add "Consent: Privacy"`, `* end "Request Consent: Privacy"`)
	h.do(runtime.CloseConversation{Contact: "c1", By: "user"})
	h.lines("c1")

	h.do(msg("c1", "hello again"))
	got = h.lines("c1")
	want := []string{"> hello again", `* not started: "Request Consent: Privacy": once per contact`,
		`* started "Routing: VIP Contacts" on conversation opened by contact`, "< To help you faster, what is your email address?"}
	if !slices.Equal(got, want) {
		t.Fatalf("returning contact: %q, want %q", got, want)
	}
	h.do(msg("c1", "ana@example.com"))
	got = h.lines("c1")
	if !slices.Contains(got, `* set contact.email = "ana@example.com"`) || !slices.Contains(got, `* http GET https://crm.example.com/api/customers?email=ana%40example.com header "Authorization": "Bearer ****" header "Accept": "application/json"`) {
		t.Errorf("after the email: %q", got)
	}
	// the CRM never answers: the watchdog fails the step after its timeout
	h.advance(10*time.Second + runtime.WatchdogGrace)
	got = h.lines("c1")
	want = []string{`* comment "CRM lookup failed for ana@example.com; routed to Support without a VIP check."`,
		`* assign team "Support" round robin`, `* assigned "sam@example.com"`}
	if len(got) < 3 || !slices.Equal(got[:3], want) {
		t.Errorf("after the watchdog: %q, want %q", got, want)
	}
	if c := h.conversation("c1"); c.Assignee != "sam" || c.Team != "Support" {
		t.Errorf("assignee after the watchdog: %+v", c)
	}
}

// A draft never enrols on an event, though its trigger takes it.
func TestDraftNeverEnrols(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Draft"
trigger conversation opened
draft

send "draft speaking"
`))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi")
	h.do(runtime.ManualStart{Contact: "c1", Flow: "Draft", Drafts: true})
	h.want("c1", "< draft speaking", `* end "Draft"`)
}

// A flow's tag add fires another flow's tag added trigger, after its own
// sprint, with trigger.tag set.
func TestTagFromAnotherFlow(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Tagger"
trigger conversation opened

tag add "VIP"
send "tagged"
`, `flow "VIP Welcome"
trigger tag added "VIP"

send "Welcome, ${trigger.tag} (${trigger.type})"
`))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Tagger" on conversation opened by contact`, `* tag add "VIP"`, "< tagged", `* end "Tagger"`,
		`* started "VIP Welcome" on tag added "VIP"`, "< Welcome, VIP (tag added)", `* end "VIP Welcome"`)
	// a tag from outside does the same; a tag the contact has changes nothing
	h.do(runtime.TagChange{Contact: "c1", Remove: []string{"VIP"}}, runtime.TagChange{Contact: "c1", Add: []string{"VIP", "VIP"}})
	h.want("c1", `* started "VIP Welcome" on tag added "VIP"`, "< Welcome, VIP (tag added)", `* end "VIP Welcome"`)
}

// Two flows that set each other off are stopped by the per-contact cap,
// visibly.
func TestLoopStoppedByCap(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Ping"
trigger tag added "ping"

tag remove "ping"
tag add "pong"
`, `flow "Pong"
trigger tag added "pong"

tag remove "pong"
tag add "ping"
`))
	h.cfg.FiringCap = 6
	h.restart()
	h.do(msg("c1", "hi"), runtime.TagChange{Contact: "c1", Add: []string{"ping"}})
	got := h.lines("c1")
	ends := 0
	for _, l := range got {
		if strings.HasPrefix(l, "* end ") {
			ends++
		}
	}
	last := got[len(got)-1]
	if ends != 6 || !strings.Contains(last, "6 flows started for this contact within 10m0s; flows that set each other off?") {
		t.Errorf("loop: %d runs ended, last line %q", ends, last)
	}
}

const waitingFlow = `flow "Follow up"
trigger conversation opened
exit on %s

send "We will follow up."
wait 1h
send "Following up!"
`

// Each exit condition stops a waiting run, and its timer with it.
func TestExitConditions(t *testing.T) {
	for _, c := range []struct {
		cond string
		ev   runtime.Event
	}{
		{"contact message", msg("c1", "are you there?")},
		{"agent message", runtime.AgentMessage{Contact: "c1", User: "sam", Text: "Hi, Sam here"}},
		{"manual assignment", runtime.ManualAssign{Contact: "c1", User: "sam"}},
		{"manual stop", runtime.StopBot{Contact: "c1"}},
		{"conversation closed", runtime.CloseConversation{Contact: "c1", By: "user"}},
	} {
		t.Run(c.cond, func(t *testing.T) {
			h := newHarness(t, compile(t, fmt.Sprintf(waitingFlow, c.cond)), store.User{ID: "sam", Email: "sam@example.com", Status: "online"})
			h.do(msg("c1", "hi"))
			h.lines("c1")
			h.do(c.ev)
			got := h.lines("c1")
			want := fmt.Sprintf(`* exit "Follow up" on %s`, c.cond)
			if c.cond == "manual stop" {
				want = `* stopped "Follow up"`
			}
			if !slices.Contains(got, want) {
				t.Errorf("after the event: %q, want %q", got, want)
			}
			h.advance(2 * time.Hour)
			h.want("c1")
			if runs := h.runs("c1"); len(runs) != 0 {
				t.Errorf("still active: %+v", runs)
			}
		})
	}
	// without the condition the run goes on
	h := newHarness(t, compile(t, fmt.Sprintf(waitingFlow, "manual stop")))
	h.do(msg("c1", "hi"), msg("c1", "are you there?"))
	h.lines("c1")
	h.advance(2 * time.Hour)
	h.want("c1", "< Following up!", `* end "Follow up"`)
}

// Stopping the bot holds the stopped flows back for the rest of the
// conversation; the next conversation enrols again.
func TestStopBotHolds(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Menu"
trigger tag added
exit on manual stop

ask "Pick one" save X
`))
	h.do(msg("c1", "hi"), runtime.TagChange{Contact: "c1", Add: []string{"a"}}, runtime.StopBot{Contact: "c1"})
	h.lines("c1")
	h.do(runtime.TagChange{Contact: "c1", Add: []string{"b"}})
	h.want("c1", `* not started: "Menu": stopped by an agent for this conversation`)
	h.do(runtime.CloseConversation{Contact: "c1", By: "user"}, msg("c1", "back"), runtime.TagChange{Contact: "c1", Add: []string{"c"}})
	h.want("c1", "* conversation closed by user", "> back", `* started "Menu" on tag added "c"`, "< Pick one")
}

// A conversation whose agent spoke last closes after the auto-close time
// and fires conversation closed flows, which see it closed; the contact's
// answer to their question fires no conversation opened flows.
func TestAutoCloseAndCSAT(t *testing.T) {
	h := newHarness(t, compile(t, `flow "CSAT"
trigger conversation closed

ask rating "How did we do? (1-5)" save Score timeout 1d
send "Thanks! open=${conversation.open} type=${trigger.type} source=${trigger.source} score=$Score"
`, `flow "Greeter"
trigger conversation opened

send "Welcome!"
`))
	h.do(msg("c1", "hi"))
	h.do(runtime.AgentMessage{Contact: "c1", User: "sam", Text: "How can I help?"})
	h.lines("c1")
	h.advance(23 * time.Hour)
	h.want("c1")
	h.advance(time.Hour)
	h.want("c1", "* conversation closed: idle", `* started "CSAT" on conversation closed by user`, "< How did we do? (1-5)")
	if c := h.conversation("c1"); c.Open || c.ClosedBy != "user" {
		t.Errorf("after auto-close: %+v", c)
	}
	h.do(msg("c1", "5"))
	h.want("c1", "> 5", "< Thanks! open=true type=conversation closed source=user score=5", `* end "CSAT"`)
	if c := h.conversation("c1"); !c.Open || c.OpenedBy != "contact" {
		t.Errorf("the answer opens a conversation: %+v", c)
	}
	// a contact's reply to the agent stops the auto-close timer
	h.do(runtime.AgentMessage{Contact: "c1", User: "sam", Text: "Anything else?"}, msg("c1", "no"))
	h.lines("c1")
	h.advance(48 * time.Hour)
	h.want("c1")
}

// An assignment nobody can take waits, queued, until a user comes online;
// assignee.* then reads the user, with the team.
func TestAssignmentQueued(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Route"
trigger conversation opened

assign team "Support" round robin online only timeout 1h {
  on timeout {
    send "Nobody came."
    stop
  }
}
send "You have ${assignee.firstname} (${assignee.email}) of ${assignee.team}."
`), store.User{ID: "sam", Name: "Sam Lee", Email: "sam@example.com", Teams: []string{"Support"}, Status: "offline"},
		store.User{ID: "kim", Name: "Kim Ra", Email: "kim@example.com", Teams: []string{"Sales"}, Status: "online"})
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Route" on conversation opened by contact`, `* assign team "Support" round robin online only`, "* queued: no agent available")
	h.do(runtime.UserStatus{User: "sam", Status: "online"})
	h.want("c1", `* assigned "sam@example.com"`, "< You have Sam (sam@example.com) of Support.", `* end "Route"`)
	h.advance(2 * time.Hour)
	h.want("c1")

	// the next contact's request times out and is withdrawn: Sam coming
	// online again assigns nobody
	h.do(runtime.UserStatus{User: "sam", Status: "offline"}, msg("c2", "hi"))
	h.lines("c2")
	h.advance(time.Hour)
	h.want("c2", "< Nobody came.", `* end "Route"`)
	h.do(runtime.UserStatus{User: "sam", Status: "online"})
	h.want("c2")
	if c := h.conversation("c2"); c.Assignee != "" {
		t.Errorf("a withdrawn request was assigned: %+v", c)
	}
}

// One failing event of a batch is undone alone; the others commit.
func TestSavepointPerEvent(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	errs, err := h.e.HandleAll(context.Background(), []runtime.Event{
		msg("c1", "hi"),
		runtime.ManualAssign{Contact: "c1", User: "nobody"},
		msg("c2", "hi"),
	})
	h.must(err)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors: %v", errs)
	}
	h.want("c1", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?")
	h.want("c2", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?")
}

// A message delivered twice with the same key is taken once; a result for
// a wait the run has left changes nothing.
func TestDedupAndStaleAnswers(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	m := msg("c1", "hi")
	m.Key = "wamid.1"
	h.do(m, m)
	h.want("c1", "> hi", `* started "Ask" on conversation opened by contact`, "< What is your name?")
	run := h.runs("c1")[0]
	h.do(runtime.Result{Contact: "c1", Run: run.ID, Input: interpreter.Timeout{Seq: run.WaitSeq + 1}})
	h.want("c1")
	if again := h.runs("c1")[0]; again.Seq != run.Seq {
		t.Errorf("a stale timeout saved the run: seq %d -> %d", run.Seq, again.Seq)
	}
}

// A start step's flow starts before the rest of the starting run's effects
// are applied, so it sees the contact as it was.
func TestStartSeesTheContactBeforeLaterEffects(t *testing.T) {
	h := newHarness(t, compile(t, `flow "A"
trigger conversation opened
field city text

start "B"
set contact.city = "Lisbon"
send "A sees ${contact.city}"
`, `flow "B"
trigger manual
field city text

send "B sees ${contact.city ?? "nothing"} (parent ${trigger.parent})"
`))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "A" on conversation opened by contact`, `* start "B"`, "< B sees nothing (parent A)", `* end "B"`,
		`* set contact.city = "Lisbon"`, "< A sees Lisbon", `* end "A"`)
}
