package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// An ended run keeps its variables, which the store lists with the
// contact's other runs.
func TestEndedRunKeepsVars(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	h.do(msg("c1", "hi"), msg("c1", "Ana"))
	h.inTx(func(tx store.Tx) {
		runs, err := tx.Runs("c1", 0, 10)
		h.must(err)
		if len(runs) != 1 || runs[0].Status != store.RunDone {
			t.Fatalf("runs: %+v", runs)
		}
		vars, err := runtime.RunVars(runs[0])
		h.must(err)
		if vars["Name"] != "Ana" {
			t.Errorf("vars of the ended run: %v, want Name Ana", vars)
		}
	})
}

const greetV1 = `flow "Greet"
trigger conversation opened

ask "Name?" save Name
send "v1: hello $Name"
`

const greetV2 = `flow "Greet"
trigger conversation opened

ask "Your name, please?" save Name
send "v2: hello $Name"
`

// Replacing the flows starts new runs in the new version; a run paused in
// the old one finishes in it, also after a restart on the new version
// alone (compiled again from the stored source, which today's checks warn
// about: warnings never stop a stored source). A flow left out starts no
// new runs.
func TestReplaceFlows(t *testing.T) {
	if _, diags, err := interpreter.CompileSource("greet.flow", []byte(greetV1)); err != nil || len(diags) == 0 {
		t.Fatalf("greetV1 compiles with warnings (an ask without a label): %v, %v", diags, err)
	}
	h := newHarness(t, compile(t, greetV1))
	h.do(msg("c0", "hi"), msg("c1", "hi"))
	h.must(h.e.Replace(context.Background(), compile(t, greetV2)))
	h.do(msg("c2", "hi"), msg("c1", "Ana"))
	h.want("c1", "> hi", `* started "Greet" on conversation opened by contact`, "< Name?", "> Ana", "< v1: hello Ana", `* end "Greet"`)
	h.want("c2", "> hi", `* started "Greet" on conversation opened by contact`, "< Your name, please?")

	h.do(msg("c3", "hi"))
	h.flows = compile(t, greetV2)
	h.restart()
	h.do(msg("c3", "Bo"))
	h.want("c3", "> hi", `* started "Greet" on conversation opened by contact`, "< Your name, please?", "> Bo", "< v2: hello Bo", `* end "Greet"`)
	h.do(msg("c0", "Di"))
	h.want("c0", "> hi", `* started "Greet" on conversation opened by contact`, "< Name?", "> Di", "< v1: hello Di", `* end "Greet"`)

	h.do(msg("c4", "hi"))
	h.must(h.e.Replace(context.Background(), nil))
	h.do(msg("c5", "hi"), msg("c4", "Cy"))
	h.want("c5", "> hi")
	h.want("c4", "> hi", `* started "Greet" on conversation opened by contact`, "< Your name, please?", "> Cy", "< v2: hello Cy", `* end "Greet"`)
	if h.e.Flow("Greet") != nil || len(h.e.Flows()) != 0 {
		t.Errorf("flows after replacing with none: %v", h.e.Flows())
	}
}

// The workspace timezone changes between events.
func TestSetLocation(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Clock"
trigger conversation opened

send "$system.current_time $system.timezone"
`))
	h.do(msg("c1", "hi"))
	lisbon, err := time.LoadLocation("Asia/Tokyo")
	h.must(err)
	h.e.SetLocation(lisbon)
	h.do(runtime.CloseConversation{Contact: "c1", By: "user"}, msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Clock" on conversation opened by contact`, "< 09:00:00 UTC", `* end "Clock"`, "* conversation closed by user", "> hi", `* started "Clock" on conversation opened by contact`,
		"< 18:00:00 Asia/Tokyo", `* end "Clock"`)
}

// simAgents is a simulation's directory: any user or team member a step
// names exists, online.
type simAgents struct{}

func (simAgents) Users() []store.User { return nil }
func (simAgents) Named(a *interpreter.Assign) []store.User {
	switch a.Kind {
	case "user":
		return []store.User{{ID: a.Target, Name: a.Target, Email: a.Target, Status: "online"}}
	case "team":
		id := "agent@" + strings.ToLower(a.Target)
		return []store.User{{ID: id, Name: id, Email: id, Teams: []string{a.Target}, Status: "online"}}
	}
	return nil
}

// A directory seeds the store; status and last assignment stay the
// store's across a restart, while name, email and teams follow the
// directory. A simulation's directory makes up the users steps name.
func TestDirectory(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Route"
trigger conversation opened

assign team "Support" online only
send "${assignee.name} of ${assignee.team}"
`))
	h.cfg.Directory = runtime.Users{{ID: "sam", Name: "Sam Lee", Email: "sam@example.com", Teams: []string{"Support"}}}
	h.restart()
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Route" on conversation opened by contact`, `* assign team "Support" round robin online only`, "* queued: no agent available")
	h.do(runtime.UserStatus{User: "sam", Status: "online"})
	h.want("c1", `* assigned "sam@example.com"`, "< Sam Lee of Support", `* end "Route"`)

	h.cfg.Directory = runtime.Users{{ID: "sam", Name: "Samuel Lee", Email: "sam@example.com", Teams: []string{"Support"}, Status: "offline"}}
	h.restart()
	h.inTx(func(tx store.Tx) {
		u, err := tx.User("sam")
		h.must(err)
		if u.Name != "Samuel Lee" || u.Status != "online" || !u.LastAssigned.Equal(t0) {
			t.Errorf("after a restart with a new directory: %+v, want the new name, still online, assigned at %v", u, t0)
		}
	})

	s := newHarness(t, compile(t, `flow "Route"
trigger conversation opened

assign team "Billing"
send "${assignee.email} of ${assignee.team}"
`))
	s.cfg.Directory = simAgents{}
	s.restart()
	s.do(msg("c1", "hi"))
	s.want("c1", "> hi", `* started "Route" on conversation opened by contact`, `* assign team "Billing" round robin`, `* assigned "agent@billing"`, "< agent@billing of Billing", `* end "Route"`)
}

// A seeded contact starts as it was, firing nothing: on the bundled flows,
// a contact seeded with an earlier conversation and the consent flow done
// is routed by VIP routing, not asked for consent again.
func TestSeed(t *testing.T) {
	h := newHarness(t, bundledFlows(t))
	h.do(runtime.Seed{Contact: "c1", Fields: map[string]any{"firstname": "Ana"}, Tags: []string{"Consent: Privacy"},
		Channel: "whatsapp", Past: 2, Enrolled: []string{"Request Consent: Privacy"}})
	h.want("c1")
	if c := h.conversation("c1"); c.Open || c.Number != 2 {
		t.Errorf("after seeding two earlier conversations: %+v", c)
	}
	h.do(msg("c1", "hello"))
	h.want("c1", "> hello", `* not started: "Request Consent: Privacy": once per contact`,
		`* started "Routing: VIP Contacts" on conversation opened by contact`, "< To help you faster, what is your email address?")
	if c := h.conversation("c1"); !c.Open || c.Number != 3 {
		t.Errorf("the new conversation: %+v, want the third, open", c)
	}

	h.do(runtime.Seed{Contact: "c2", Open: true, Fields: map[string]any{"email": "x@example.com"}})
	h.do(runtime.Seed{Contact: "c2", Fields: map[string]any{"email": nil}, Close: true})
	h.want("c2")
	if c := h.contact("c2"); len(c.Fields) != 0 {
		t.Errorf("a cleared field is still there: %v", c.Fields)
	}
	if c := h.conversation("c2"); c.Open || c.Number != 1 {
		t.Errorf("seeded open then closed: %+v", c)
	}
	if err := h.e.Handle(context.Background(), runtime.Seed{Contact: "c2", Open: true, Assignee: "nobody"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("seeding an unknown assignee: %v", err)
	}
}

// fakeChannel fails the first fails deliveries, then takes them.
type fakeChannel struct {
	fails int
	got   []string
}

func (c *fakeChannel) Deliver(_ context.Context, id, contact string, m runtime.OutMessage) (string, error) {
	if c.fails > 0 {
		c.fails--
		return "", errors.New("503 from the channel")
	}
	c.got = append(c.got, contact+": "+m.Message.Text)
	return "", nil
}

// In synchronous mode the dispatcher delivers what a turn queued and hands
// an http step's answer, from a server on 127.0.0.1, to its run before the
// next event; a delivery that keeps failing is retried with backoff and
// then takes the send's failure branch.
func TestDispatcherSynchronous(t *testing.T) {
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"tier": "gold", "got": %q}`, string(b))
	}))
	defer crm.Close()
	h := newHarness(t, compile(t, fmt.Sprintf(`flow "CRM"
trigger conversation opened

http POST "%s/lookup" body "id=$contact.id" {
  map "$.tier" to Tier
  on failure {
    send "CRM down"
  }
}
send "tier $Tier" {
  on failure {
    comment "the tier did not go out"
  }
}
`, crm.URL)))
	clock := runtime.NewFakeClock(t0)
	h.cfg.Now = clock.Now
	h.restart()
	ch := &fakeChannel{}
	d := &runtime.Dispatcher{Engine: h.e, Channel: ch, HTTP: &runtime.HTTPClient{}, MaxAttempts: 3}
	h.do(msg("c1", "hi"))
	h.must(d.Drain(context.Background()))
	got := h.lines("c1")
	if !slices.Contains(got, "* http -> 200") || got[len(got)-2] != "< tier gold" {
		t.Fatalf("after the drain: %q", got)
	}
	if !slices.Equal(ch.got, []string{"c1: tier gold"}) {
		t.Errorf("delivered: %q", ch.got)
	}

	ch.fails = 3
	h.do(runtime.CloseConversation{Contact: "c1", By: "user"}, msg("c1", "again"))
	h.must(d.Drain(context.Background()))
	h.lines("c1")
	h.must(h.e.Advance(context.Background(), clock, t0.Add(time.Minute), interpreter.Work{}, d.Drain))
	h.want("c1", `* comment "the tier did not go out"`, `* end "CRM"`)
	h.inTx(func(tx store.Tx) {
		if due, _ := tx.DueOutbound(clock.Now(), 10); len(due) != 0 {
			t.Errorf("still due: %+v", due)
		}
	})
}

// Advancing a simulated clock stops once the runs did the work allowed: a
// flow that waits a second and loops does not run for a year.
func TestAdvanceStopsWhenSpent(t *testing.T) {
	loops := ""
	for _, l := range []string{"a", "b", "c", "d", "e"} {
		loops = l + ": wait 1s\n" + loops + "jump to " + l + " max 9\n"
	}
	h := newHarness(t, compile(t, "flow \"Tick\"\ntrigger conversation opened\n\n"+loops))
	clock := runtime.NewFakeClock(t0)
	h.cfg.Now = clock.Now
	h.restart()
	h.do(msg("c1", "hi"))
	limit := h.e.Work()
	limit.Instructions += 50
	err := h.e.Advance(context.Background(), clock, t0.AddDate(1, 0, 0), limit, nil)
	var spent *runtime.SpentError
	if !errors.As(err, &spent) || !strings.Contains(err.Error(), "timers stopped at 2026-03-02T09:") {
		t.Fatalf("Advance a year: %v, want a SpentError within the first minutes", err)
	}
	if clock.Now().After(t0.Add(time.Hour)) {
		t.Errorf("the clock went on to %v", clock.Now())
	}
}

// An engine with MaxRuns starts no more runs than that, and says so.
func TestMaxRuns(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Hi"
trigger conversation opened

send "hi"
`))
	h.cfg.MaxRuns = 2
	h.restart()
	h.do(msg("c1", "a"), msg("c2", "a"), msg("c3", "a"))
	h.want("c3", "> a", `* not started: "Hi": a world may have 2 runs in all`)
}

// StopRun ends one run by hand, whatever its exits, with its timers; the
// engine still has the version it ran.
func TestStopRun(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	h.do(msg("c1", "hi"))
	run := h.runs("c1")[0]
	h.lines("c1")
	h.do(runtime.StopRun{Contact: "c1", Run: run.ID})
	h.want("c1", `* stopped "Ask"`)
	if runs := h.runs("c1"); len(runs) != 0 {
		t.Errorf("still waiting: %+v", runs)
	}
	h.advance(2 * time.Hour)
	h.want("c1")
	if p, err := h.e.Program(context.Background(), run.Program); err != nil || p.Flow != "Ask" {
		t.Errorf("Program(%s) = %v, %v", run.Program, p, err)
	}
}

// Two runs that ask in one event: the contact's answer goes to the one
// that asked last, though the clock has not moved.
func TestReplyGoesToTheLastAsker(t *testing.T) {
	h := newHarness(t, compile(t, `flow "A"
trigger conversation opened

start "B"
ask "A asks" save X
send "A got $X"
`, `flow "B"
trigger manual

ask "B asks" save Y
send "B got $Y"
`))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "A" on conversation opened by contact`, `* start "B"`, "< B asks", "< A asks")
	h.do(msg("c1", "one"))
	h.want("c1", "> one", "< A got one", `* end "A"`)
	h.do(msg("c1", "two"))
	h.want("c1", "> two", "< B got two", `* end "B"`)
}

// finalChannel answers every delivery with a 4xx.
type finalChannel struct{ tries int }

func (c *finalChannel) Deliver(context.Context, string, string, runtime.OutMessage) (string, error) {
	c.tries++
	return "", &runtime.StatusError{Service: "channel", Status: 400, Body: "bad contact"}
}

// A final error (a 4xx) is not tried again: the send's failure branch runs
// at once.
func TestDispatcherFinalError(t *testing.T) {
	h := newHarness(t, compile(t, `flow "F"
trigger conversation opened

send "hi" {
  on failure {
    comment "not delivered"
  }
}
`))
	ch := &finalChannel{}
	d := &runtime.Dispatcher{Engine: h.e, Channel: ch, MaxAttempts: 5}
	h.do(msg("c1", "hi"))
	h.must(d.Drain(context.Background()))
	if got := h.lines("c1"); ch.tries != 1 || got[len(got)-2] != `* comment "not delivered"` {
		t.Errorf("%d tries, activity %q", ch.tries, got)
	}
}

// Seeding earlier conversations is bounded: each is a row.
func TestSeedPastBounded(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	err := h.e.Handle(context.Background(), runtime.Seed{Contact: "c1", Past: runtime.MaxSeedPast + 1})
	if err == nil || !strings.Contains(err.Error(), "earlier conversations; at most 1000") {
		t.Errorf("Seed with %d earlier conversations: %v", runtime.MaxSeedPast+1, err)
	}
}

// A contact's messages go out in order, a lane's due items in one pass;
// after one that fails, the others wait for its next try untried, and go
// after it.
func TestLaneInOrder(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Three"
trigger conversation opened by contact

send "one"
send "two"
send "three"
`))
	ch := &fakeChannel{fails: 1}
	d := &runtime.Dispatcher{Engine: h.e, Channel: ch}
	h.do(msg("c1", "hi"))
	n, err := d.Pass(context.Background())
	h.must(err)
	if n != 3 || len(ch.got) != 0 {
		t.Fatalf("first pass: %d items taken, %q delivered; want 3 taken, none delivered", n, ch.got)
	}
	if n, _ := d.Pass(context.Background()); n != 0 {
		t.Fatalf("%d items taken again before the first one's next try", n)
	}
	h.now = h.now.Add(runtime.Backoff(1) + time.Second)
	n, err = d.Pass(context.Background())
	h.must(err)
	if want := []string{"c1: one", "c1: two", "c1: three"}; n != 3 || !slices.Equal(ch.got, want) {
		t.Errorf("after the retry: %d items taken, %q delivered; want 3, %q", n, ch.got, want)
	}
}
