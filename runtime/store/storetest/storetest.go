// Package storetest is the contract every store backend passes: one suite,
// called from each backend's tests with a way to open it, so that the
// engine can count on the same behaviour from all of them.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/google/go-cmp/cmp"
)

// Open gives a new, empty store, and a function that opens the same
// database again once the first is closed.
type Open func(t *testing.T) (s store.Store, reopen func() store.Store)

// Exercise runs the contract suite, in a subtest named after the backend.
func Exercise(t *testing.T, open Open) {
	s, _ := open(t)
	name := s.Name()
	s.Close()
	t.Run(name, func(t *testing.T) {
		for _, c := range []struct {
			name string
			fn   func(*testing.T, Open)
		}{
			{"Contacts", contacts},
			{"Conversations", conversations},
			{"Users", users},
			{"RunCompareAndSwap", runs},
			{"Programs", programs},
			{"Enrolments", enrolments},
			{"Activity", activity},
			{"ActivityPages", activityPages},
			{"Timers", timers},
			{"Outbox", outbox},
			{"Withdrawals", withdrawals},
			{"Queued", queued},
			{"Dedup", dedup},
			{"Channels", channels},
			{"Prune", prune},
			{"Erase", erase},
			{"Claims", claims},
			{"HandOff", handOff},
			{"ClaimsPastClaimed", claimsPastClaimed},
			{"Locks", locks},
			{"ConcurrentWriters", concurrentWriters},
			{"Savepoints", savepoints},
			{"WritesReadBack", writesReadBack},
			{"Durable", durable},
		} {
			t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
		}
	})
}

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// inTx runs fn in a transaction of a fresh store and commits it.
func inTx(t *testing.T, open Open, fn func(store.Tx)) store.Store {
	t.Helper()
	s, _ := open(t)
	t.Cleanup(func() { s.Close() })
	tx := begin(t, s)
	fn(tx)
	must(t, tx.Commit())
	return s
}

func begin(t *testing.T, s store.Store) store.Tx {
	t.Helper()
	tx, err := s.Begin(context.Background())
	must(t, err)
	return tx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func same(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func contacts(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		_, err := tx.Contact("1")
		wantIs(t, "missing contact", err, store.ErrNotFound)
		c := &store.Contact{ID: "1", Fields: map[string]any{"firstname": "Ana", "guests": 3.0, "member": true},
			Tags: []string{"VIP", "A"}, Channel: "whatsapp", Channels: []string{"whatsapp", "sms"}, Created: t0}
		must(t, tx.SaveContact(c))
		got, err := tx.Contact("1")
		must(t, err)
		same(t, "contact read back", c, got)
		c.Tags = nil
		c.Fields = map[string]any{}
		must(t, tx.SaveContact(c))
		got, err = tx.Contact("1")
		must(t, err)
		if got.Tags == nil || len(got.Tags) != 0 || len(got.Fields) != 0 {
			t.Errorf("a contact without tags reads %#v, want empty tags", got)
		}
		// what is saved is the contact as it was then, whatever the
		// caller changes after
		c.Fields["firstname"], c.Tags = "Bo", []string{"B"}
		must(t, tx.SaveContact(c))
		c.Fields["firstname"], c.Tags[0] = "Cy", "C"
		got, err = tx.Contact("1")
		must(t, err)
		if got.Fields["firstname"] != "Bo" || !slices.Equal(got.Tags, []string{"B"}) {
			t.Errorf("a contact changed after it was saved reads %v %v, want Bo [B]", got.Fields, got.Tags)
		}
	})
}

func conversations(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		_, err := tx.OpenConversation("1")
		wantIs(t, "no open conversation", err, store.ErrNotFound)
		c := &store.Conversation{ContactID: "1", Open: true, OpenedBy: "contact", OpenedAt: t0,
			LastIncoming: "hi", LastIncomingAt: t0}
		must(t, tx.SaveConversation(c))
		if c.ID == 0 {
			t.Fatal("SaveConversation set no ID")
		}
		got, err := tx.OpenConversation("1")
		must(t, err)
		same(t, "open conversation", c, got)
		second := &store.Conversation{ContactID: "1", Open: true, OpenedBy: "user", OpenedAt: t0}
		wantIs(t, "a second open conversation", tx.SaveConversation(second), store.ErrConflict)

		c.Open, c.ClosedBy, c.ClosedAt, c.Category, c.Summary = false, "flow", t0.Add(time.Hour), "Resolved", "ok"
		must(t, tx.SaveConversation(c))
		_, err = tx.OpenConversation("1")
		wantIs(t, "after close", err, store.ErrNotFound)
		c.LastOutgoing, c.LastOutgoingAt, c.LastOutgoingSource, c.Assignee = "bye", t0.Add(time.Hour), "flow", "ignored"
		must(t, tx.TouchConversation(c))
		c.Assignee = ""
		last, err := tx.LastConversation("1")
		must(t, err)
		same(t, "the closed conversation is the last, touched: its last message fields only", c, last)
		next := &store.Conversation{ContactID: "1", Open: true, OpenedBy: "contact", OpenedAt: t0.Add(2 * time.Hour),
			Held: []string{"Welcome"}}
		must(t, tx.SaveConversation(next))
		last, err = tx.LastConversation("1")
		must(t, err)
		same(t, "the new conversation is the last, with its held flows", next, last)
		_, err = tx.LastConversation("2")
		wantIs(t, "no conversation ever", err, store.ErrNotFound)
		n, err := tx.Conversations("1")
		must(t, err)
		if n != 2 || c.Number != 1 || next.Number != 2 {
			t.Errorf("Conversations = %d, numbers %d and %d, want 2, 1 and 2", n, c.Number, next.Number)
		}
		_, _, err = tx.ContactState("1")
		wantIs(t, "the state of a contact not saved", err, store.ErrNotFound)
		contact := &store.Contact{ID: "1", Fields: map[string]any{"city": "Porto"}, Tags: []string{}, Channel: "sms", Channels: []string{"sms"}}
		must(t, tx.SaveContact(contact))
		gotContact, gotConv, err := tx.ContactState("1")
		must(t, err)
		same(t, "contact state: the contact", contact, gotContact)
		same(t, "contact state: its latest conversation", next, gotConv)
		must(t, tx.SaveContact(&store.Contact{ID: "2", Fields: map[string]any{}}))
		if _, conv, err := tx.ContactState("2"); err != nil || conv != nil {
			t.Errorf("contact state of a contact without conversations: %v, %v", conv, err)
		}
	})
}

func users(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		ana := store.User{ID: "ana", Name: "Ana", Email: "ana@example.com", Teams: []string{"Support"}, Status: "online", LastAssigned: t0}
		bo := store.User{ID: "bo", Name: "Bo", Email: "bo@example.com", Teams: []string{}, Status: "offline"}
		must(t, tx.SaveUser(bo))
		must(t, tx.SaveUser(ana))
		got, err := tx.Users()
		must(t, err)
		same(t, "users, by id", []store.User{ana, bo}, got)
		one, err := tx.User("ana")
		must(t, err)
		same(t, "one user", &ana, one)
		_, err = tx.User("cy")
		wantIs(t, "missing user", err, store.ErrNotFound)
		for i, contact := range []string{"1", "2", "3"} {
			assignee := "ana"
			if i == 2 {
				assignee = "bo"
			}
			must(t, tx.SaveConversation(&store.Conversation{ContactID: contact, Open: true, Assignee: assignee}))
		}
		must(t, tx.SaveConversation(&store.Conversation{ContactID: "4", Open: false, Assignee: "bo"}))
		counts, err := tx.OpenCounts()
		must(t, err)
		same(t, "open counts", map[string]int{"ana": 2, "bo": 1}, counts)
	})
}

func runs(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		r := &store.Run{ContactID: "1", Flow: "F", Program: "abc", Status: store.RunWaiting, Cont: []byte("FLC1"),
			Wait: "reply", WaitSeq: 1, Deadline: t0.Add(5 * time.Minute), Trigger: []byte(`{"type":"manual"}`), Started: t0, Updated: t0}
		must(t, tx.InsertRun(r))
		other := &store.Run{ContactID: "1", Flow: "G", Program: "def", Status: store.RunWaiting, Wait: "timer", Started: t0, Updated: t0}
		must(t, tx.InsertRun(other))
		must(t, tx.InsertRun(&store.Run{ContactID: "2", Flow: "F", Program: "abc", Status: store.RunWaiting}))
		got, err := tx.Run(r.ID)
		must(t, err)
		same(t, "run read back", r, got)

		active, err := tx.ActiveRuns("1")
		must(t, err)
		if len(active) != 2 || active[0].ID != r.ID || active[1].ID != other.ID {
			t.Errorf("ActiveRuns = %v, want the two runs of contact 1, oldest first", active)
		}
		waiting, err := tx.WaitingRuns("F", 0, 10)
		must(t, err)
		if len(waiting) != 2 || waiting[0].ID != r.ID || waiting[1].ContactID != "2" {
			t.Errorf("WaitingRuns of F = %v, want both contacts' runs, oldest first", waiting)
		}
		if page, _ := tx.WaitingRuns("F", r.ID, 1); len(page) != 1 || page[0].ContactID != "2" {
			t.Errorf("WaitingRuns of F after the first, limit 1 = %v", page)
		}

		// two loads of the run: the first save wins, the stale one changes nothing
		a, _ := tx.Run(r.ID)
		b, _ := tx.Run(r.ID)
		a.Cont, a.WaitSeq = []byte("FLC2"), 2
		must(t, tx.UpdateRun(a))
		b.Status, b.Cont = store.RunDone, nil
		wantIs(t, "stale update", tx.UpdateRun(b), store.ErrConflict)
		got, _ = tx.Run(r.ID)
		if string(got.Cont) != "FLC2" || got.Status != store.RunWaiting || got.Seq != a.Seq {
			t.Errorf("after a stale update the run is %+v, want the first save's", got)
		}
		a.Status, a.Cont, a.Vars = store.RunDone, nil, []byte("FLCvars")
		must(t, tx.UpdateRun(a))
		all, err := tx.Runs("1", 0, 10)
		must(t, err)
		if len(all) != 2 || all[0].ID != a.ID || all[0].Status != store.RunDone || string(all[0].Vars) != "FLCvars" || all[1].ID != other.ID {
			t.Errorf("Runs of contact 1 = %+v", all)
		}
		if page, _ := tx.Runs("1", a.ID, 1); len(page) != 1 || page[0].ID != other.ID {
			t.Errorf("Runs after the first, limit 1 = %+v", page)
		}
		active, _ = tx.ActiveRuns("1")
		if len(active) != 1 || active[0].ID != other.ID {
			t.Errorf("ActiveRuns after the run ended = %v", active)
		}
		a.Status = store.RunWaiting
		wantIs(t, "an ended run saved as waiting", tx.UpdateRun(a), store.ErrConflict)
		_, err = tx.Run(999)
		wantIs(t, "missing run", err, store.ErrNotFound)
	})
}

func programs(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		p := store.Program{Hash: "abc", Flow: "F", File: "f.flow", Source: []byte("flow \"F\"\n"), Added: t0}
		must(t, tx.SaveProgram(p))
		must(t, tx.SaveProgram(store.Program{Hash: "abc", Flow: "changed", Source: []byte("x"), Added: t0}))
		got, err := tx.Program("abc")
		must(t, err)
		same(t, "program kept by hash: the first source stays", &p, got)
		_, err = tx.Program("zzz")
		wantIs(t, "missing program", err, store.ErrNotFound)
	})
}

func enrolments(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		ok, err := tx.Enrolled("1", "F")
		must(t, err)
		if ok {
			t.Error("enrolled before any enrolment")
		}
		must(t, tx.AddEnrolment("1", "F", t0))
		must(t, tx.AddEnrolment("1", "F", t0.Add(time.Hour)))
		for _, c := range []struct {
			contact, flow string
			want          bool
		}{{"1", "F", true}, {"1", "G", false}, {"2", "F", false}} {
			got, err := tx.Enrolled(c.contact, c.flow)
			must(t, err)
			if got != c.want {
				t.Errorf("Enrolled(%s, %s) = %v", c.contact, c.flow, got)
			}
		}
		must(t, tx.AddEnrolment("1", "G", t0.Add(2*time.Hour)))
		for since, want := range map[time.Duration]int{0: 3, time.Hour: 2, 90 * time.Minute: 1, 3 * time.Hour: 0} {
			n, err := tx.Enrolments("1", t0.Add(since))
			must(t, err)
			if n != want {
				t.Errorf("Enrolments since t0+%v = %d, want %d", since, n, want)
			}
		}
	})
}

func activity(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		var ids []int64
		for i, text := range []string{"hi", "Welcome!", "tag VIP"} {
			a := &store.Activity{ContactID: "1", At: t0.Add(time.Duration(i) * time.Second), Kind: "message_in", Flow: "F", RunID: 7, Text: text}
			if i == 1 {
				a.Data = []byte(`{"text":"Welcome!"}`)
			}
			must(t, tx.AddActivity(a))
			ids = append(ids, a.ID)
		}
		must(t, tx.AddActivity(&store.Activity{ContactID: "2", At: t0, Kind: "message_in", Text: "other"}))
		all, err := tx.Activity("1", 0, 10)
		must(t, err)
		if len(all) != 3 || all[0].Text != "hi" || all[2].Text != "tag VIP" || !all[1].At.Equal(t0.Add(time.Second)) ||
			string(all[1].Data) != `{"text":"Welcome!"}` || all[0].Data != nil {
			t.Errorf("Activity = %+v", all)
		}
		page, err := tx.Activity("1", ids[0], 1)
		must(t, err)
		if len(page) != 1 || page[0].ID != ids[1] {
			t.Errorf("Activity after %d, limit 1 = %+v", ids[0], page)
		}
		back, err := tx.ActivityBefore("1", 0, 2)
		must(t, err)
		if len(back) != 2 || back[0].ID != ids[2] || back[1].ID != ids[1] || string(back[1].Data) != `{"text":"Welcome!"}` {
			t.Errorf("ActivityBefore latest, limit 2 = %+v", back)
		}
		if back, _ = tx.ActivityBefore("1", ids[1], 10); len(back) != 1 || back[0].ID != ids[0] {
			t.Errorf("ActivityBefore %d = %+v", ids[1], back)
		}
	})
}

// activityPages pages through a contact's activity that several
// transactions added, each with another contact's entries between its
// own, both ways and a page at a time.
func activityPages(t *testing.T, open Open) {
	s, _ := open(t)
	defer s.Close()
	var want []string
	for i := range 5 {
		tx := begin(t, s)
		must(t, tx.LockContacts("1", "2"))
		for j := range i%3 + 1 {
			text := fmt.Sprint(i, ".", j)
			must(t, tx.AddActivity(&store.Activity{ContactID: "1", At: t0, Kind: "note", Text: text}))
			must(t, tx.AddActivity(&store.Activity{ContactID: "2", At: t0, Kind: "note", Text: "other " + text}))
			want = append(want, text)
		}
		must(t, tx.Commit())
	}
	tx := begin(t, s)
	defer tx.Rollback()
	for _, limit := range []int{1, 2, 3, 100} {
		var got []string
		for after := int64(0); ; {
			page, err := tx.Activity("1", after, limit)
			must(t, err)
			if len(page) > limit {
				t.Fatalf("Activity(after %d, limit %d): %d entries", after, limit, len(page))
			}
			for _, a := range page {
				got = append(got, a.Text)
				after = a.ID
			}
			if len(page) < limit || len(got) > len(want) {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Activity a page of %d at a time: %q, want %q", limit, got, want)
		}
		got = got[:0]
		for before := int64(0); ; {
			page, err := tx.ActivityBefore("1", before, limit)
			must(t, err)
			for _, a := range page {
				got = append(got, a.Text)
				before = a.ID
			}
			if len(page) < limit || len(got) > len(want) {
				break
			}
		}
		slices.Reverse(got)
		if !slices.Equal(got, want) {
			t.Errorf("ActivityBefore a page of %d at a time, reversed: %q, want %q", limit, got, want)
		}
	}
}

func timers(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		if _, ok, err := tx.NextTimer(t0); err != nil || ok {
			t.Errorf("NextTimer with no timers: %v %v", ok, err)
		}
		add := func(tm store.Timer) store.Timer {
			must(t, tx.AddTimer(&tm))
			return tm
		}
		late := add(store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: 1, Seq: 1, At: t0.Add(time.Hour)})
		soon := add(store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: 1, Seq: 2, At: t0.Add(time.Minute)})
		close := add(store.Timer{ContactID: "2", Kind: store.TimerAutoClose, At: t0.Add(2 * time.Minute)})
		add(store.Timer{ContactID: "3", Kind: store.TimerRun, RunID: 3, Seq: 1, At: t0.Add(24 * time.Hour)})

		next, ok, err := tx.NextTimer(t0)
		must(t, err)
		if !ok || !next.Equal(soon.At) {
			t.Errorf("NextTimer = %v %v, want %v", next, ok, soon.At)
		}
		due, err := tx.DueTimers(t0.Add(time.Hour), 10)
		must(t, err)
		same(t, "due timers, soonest first", []store.Timer{soon, close, late}, due)
		due, _ = tx.DueTimers(t0.Add(time.Hour), 1)
		if len(due) != 1 {
			t.Errorf("DueTimers limit 1 gave %d", len(due))
		}
		claimed, err := tx.ClaimTimers(t0.Add(time.Hour), t0.Add(2*time.Hour), 2)
		must(t, err)
		same(t, "claimed, soonest first", []store.Timer{soon, close}, claimed)
		claimed, err = tx.ClaimTimers(t0.Add(time.Hour), t0.Add(2*time.Hour), 10)
		must(t, err)
		same(t, "claimed next: what no claim holds", []store.Timer{late}, claimed)
		if claimed, _ = tx.ClaimTimers(t0.Add(time.Hour), t0.Add(2*time.Hour), 10); len(claimed) != 0 {
			t.Errorf("claimed while all are: %+v", claimed)
		}
		if due, _ = tx.DueTimers(t0.Add(time.Hour), 10); len(due) != 3 {
			t.Errorf("due timers, claimed or not: %+v", due)
		}

		must(t, tx.DeleteRunTimers(1, 2))
		must(t, tx.DeleteContactTimers("2", store.TimerAutoClose))
		due, _ = tx.DueTimers(t0.Add(time.Hour), 10)
		same(t, "after deleting one seq and the auto-close", []store.Timer{late}, due)
		must(t, tx.DeleteRunTimers(1, 0))
		wantIs(t, "a timer deleted twice (fired by another)", tx.DeleteTimer(due[0].ID), store.ErrNotFound)
		due, _ = tx.DueTimers(t0.Add(25*time.Hour), 10)
		if len(due) != 1 || due[0].ContactID != "3" {
			t.Errorf("left: %+v, want contact 3's timer", due)
		}
		// several at once, one of them gone, one added since the last
		// read (a backend may hold it still)
		fresh := add(store.Timer{ContactID: "4", Kind: store.TimerRun, RunID: 4, Seq: 1, At: t0})
		gone, err := tx.DeleteTimers([]int64{due[0].ID, late.ID, fresh.ID})
		if want := []bool{false, true, false}; err != nil || !slices.Equal(gone, want) {
			t.Errorf("DeleteTimers = %v, %v; want %v", gone, err, want)
		}
		if due, _ = tx.DueTimers(t0.Add(25*time.Hour), 10); len(due) != 0 {
			t.Errorf("left after DeleteTimers: %+v", due)
		}
	})
}

func outbox(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		add := func(contact, lane, text string) *store.Outbound {
			o := &store.Outbound{ContactID: contact, Lane: lane, Kind: "send_message", Payload: []byte(`"` + text + `"`), NextAt: t0, Created: t0}
			must(t, tx.Enqueue(o))
			return o
		}
		a1, a2 := add("1", "message", "a1"), add("1", "message", "a2")
		h1 := add("1", "http", "h1")
		b1 := add("2", "message", "b1")
		heads := func() []string {
			due, err := tx.DueOutbound(t0, 10)
			must(t, err)
			var out []string
			for _, o := range due {
				out = append(out, string(o.Payload))
			}
			slices.Sort(out)
			return out
		}
		same(t, "one head per contact and lane", []string{`"a1"`, `"b1"`, `"h1"`}, heads())

		// a1 fails and is retried later: a2 waits behind it, b1 does not
		a1.Attempts, a1.NextAt, a1.Err = 1, t0.Add(time.Minute), "503"
		must(t, tx.UpdateOutbound(a1))
		b1.Status, b1.Attempts = store.OutDelivered, 1
		must(t, tx.UpdateOutbound(b1))
		same(t, "a retry holds back its contact's lane", []string{`"h1"`}, heads())
		if next, ok, err := tx.NextOutbound(t0); err != nil || !ok || !next.Equal(a1.NextAt) {
			t.Errorf("NextOutbound = %v %v %v, want the retry at %v", next, ok, err, a1.NextAt)
		}
		due, _ := tx.DueOutbound(t0.Add(time.Minute), 10)
		if len(due) != 2 || due[0].ID != h1.ID || due[1].ID != a1.ID || due[1].Attempts != 1 || due[1].Err != "503" {
			t.Errorf("at the retry: %+v", due)
		}
		a1.Status = store.OutDelivered
		must(t, tx.UpdateOutbound(a1))
		h1.Status = store.OutFailed
		must(t, tx.UpdateOutbound(h1))
		due, _ = tx.DueOutbound(t0, 10)
		if len(due) != 1 || due[0].ID != a2.ID {
			t.Errorf("after a1 is delivered: %+v, want a2", due)
		}
		if _, ok, err := tx.NextOutbound(t0); err != nil || ok {
			t.Errorf("NextOutbound with only a2, due now: %v %v, want none later", ok, err)
		}
	})
}

func queued(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		add := func(contact string, run int64, seq uint32, status string) *store.Outbound {
			o := &store.Outbound{ContactID: contact, Lane: "assign", Kind: "assign", RunID: run, Seq: seq,
				Payload: []byte(`{}`), Status: status, NextAt: t0, Created: t0}
			must(t, tx.Enqueue(o))
			return o
		}
		q1, q2 := add("1", 1, 1, store.OutQueued), add("2", 2, 1, store.OutQueued)
		add("3", 3, 1, store.OutQueued)
		ids := func() (out []int64) {
			got, err := tx.Queued("assign", 10)
			must(t, err)
			for _, o := range got {
				out = append(out, o.ID)
			}
			return out
		}
		if due, _ := tx.DueOutbound(t0, 10); len(due) != 0 {
			t.Errorf("queued work is not due for delivery: %+v", due)
		}
		must(t, tx.WithdrawOutbound(3, "assign"))
		same(t, "queued, oldest first, without the withdrawn", []int64{q1.ID, q2.ID}, ids())
		pending := &store.Outbound{ContactID: "1", Lane: "ai", Kind: "ai_reply", RunID: 1, Seq: 2, Payload: []byte(`{}`), NextAt: t0, Created: t0}
		must(t, tx.Enqueue(pending))
		must(t, tx.WithdrawOutbound(1, "assign"))
		same(t, "the run's assignment withdrawn", []int64{q2.ID}, ids())
		due, _ := tx.DueOutbound(t0, 10)
		if len(due) != 1 || due[0].ID != pending.ID {
			t.Errorf("another lane of the run stays due: %+v", due)
		}
		must(t, tx.WithdrawOutbound(1, "ai"))
		if due, _ := tx.DueOutbound(t0, 10); len(due) != 0 {
			t.Errorf("the ai lane withdrawn, still due: %+v", due)
		}
		// several lanes at once, of work queued in this very transaction
		h := &store.Outbound{ContactID: "4", Lane: "http", Kind: "http", RunID: 4, Seq: 1, Payload: []byte(`{}`), NextAt: t0, Created: t0}
		m := &store.Outbound{ContactID: "4", Lane: "message", Kind: "send_message", RunID: 4, Payload: []byte(`{}`), NextAt: t0, Created: t0}
		must(t, tx.Enqueue(h))
		must(t, tx.Enqueue(m))
		must(t, tx.WithdrawOutbound(4, "assign", "ai", "http"))
		if due, _ := tx.DueOutbound(t0, 10); len(due) != 1 || due[0].ID != m.ID {
			t.Errorf("after withdrawing the run's http and ai work: %+v, want only its message", due)
		}
	})
}

func dedup(t *testing.T, open Open) {
	inTx(t, open, func(tx store.Tx) {
		for i, want := range []bool{false, true, true} {
			seen, err := tx.Seen("whatsapp:wamid.1", t0)
			must(t, err)
			if seen != want {
				t.Errorf("Seen, call %d = %v", i, seen)
			}
		}
		if seen, _ := tx.Seen("whatsapp:wamid.2", t0); seen {
			t.Error("a new key was seen")
		}
		for i, want := range []bool{false, true} { // the webhook joins a key's parts with NUL
			if seen, err := tx.Seen("ch1\x00m-1", t0); err != nil || seen != want {
				t.Errorf("a key with a NUL byte, call %d: %v, %v", i, seen, err)
			}
		}
		// several at once: as one after another
		keys := []string{"ch1\x00m-2", "whatsapp:wamid.1", "ch1\x00m-3", "ch1\x00m-2"}
		seen, err := tx.SeenAll(keys, t0)
		if want := []bool{false, true, false, true}; err != nil || !slices.Equal(seen, want) {
			t.Errorf("SeenAll(%q) = %v, %v; want %v", keys, seen, err, want)
		}
		if seen, err := tx.Seen("ch1\x00m-3", t0); err != nil || !seen {
			t.Errorf("a key SeenAll recorded, then Seen: %v, %v", seen, err)
		}
	})
}

func savepoints(t *testing.T, open Open) {
	s := inTx(t, open, func(tx store.Tx) {
		must(t, tx.Savepoint("event_1"))
		must(t, tx.SaveContact(&store.Contact{ID: "kept", Fields: map[string]any{}}))
		must(t, tx.Release("event_1"))
		must(t, tx.Savepoint("event_2"))
		must(t, tx.SaveContact(&store.Contact{ID: "undone", Fields: map[string]any{}}))
		must(t, tx.RollbackTo("event_2"))
		must(t, tx.Savepoint("event_3"))
		must(t, tx.SaveContact(&store.Contact{ID: "also kept", Fields: map[string]any{}}))
		must(t, tx.Release("event_3"))
		// an identity added, then undone: the address names no one again
		addr := store.Address{ChannelID: "ch", Channel: "sms", ExternalID: "+60177"}
		must(t, tx.Savepoint("event_4"))
		_, err := tx.Identity("ch", "+60177")
		wantIs(t, "an identity not added yet", err, store.ErrNotFound)
		undone, created, err := tx.Identify(addr, t0)
		must(t, err)
		must(t, tx.RollbackTo("event_4"))
		_, err = tx.Identity("ch", "+60177")
		wantIs(t, "an identity undone with its savepoint", err, store.ErrNotFound)
		again, createdAgain, err := tx.Identify(addr, t0)
		must(t, err)
		if !created || !createdAgain || again == "" {
			t.Errorf("identified %q (created %v), undone, then %q (created %v)", undone, created, again, createdAgain)
		}
		if err := tx.Savepoint("bad name; drop table x"); err == nil {
			t.Error("a savepoint name that is not an identifier was taken")
		}
	})
	// a rolled back transaction leaves nothing
	tx := begin(t, s)
	must(t, tx.SaveContact(&store.Contact{ID: "rolled back", Fields: map[string]any{}}))
	must(t, tx.Rollback())

	tx = begin(t, s)
	defer tx.Rollback()
	for id, want := range map[string]error{"kept": nil, "undone": store.ErrNotFound, "also kept": nil, "rolled back": store.ErrNotFound} {
		if _, err := tx.Contact(id); !errors.Is(err, want) {
			t.Errorf("contact %q after the savepoints: %v, want %v", id, err, want)
		}
	}
}

// writesReadBack: what a transaction wrote, it reads back, changes and
// undoes to a savepoint, however the backend holds it until the commit.
func writesReadBack(t *testing.T, open Open) {
	s := inTx(t, open, func(tx store.Tx) {
		tm := &store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: 1, Seq: 1, At: t0}
		must(t, tx.AddTimer(tm))
		must(t, tx.AddTimer(&store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: 1, Seq: 2, At: t0}))
		must(t, tx.DeleteRunTimers(1, 1))
		if due, _ := tx.DueTimers(t0, 10); len(due) != 1 || due[0].Seq != 2 || due[0].ID == tm.ID {
			t.Errorf("timers after deleting seq 1 of two just added: %+v", due)
		}
		o := &store.Outbound{ContactID: "1", Lane: "message", Kind: "send_message", Payload: []byte(`"a"`), NextAt: t0, Created: t0}
		must(t, tx.Enqueue(o))
		o.Status = store.OutDelivered
		must(t, tx.UpdateOutbound(o))
		if due, _ := tx.DueOutbound(t0, 10); len(due) != 0 {
			t.Errorf("delivered just after being queued, still due: %+v", due)
		}
		must(t, tx.Savepoint("sp"))
		must(t, tx.AddActivity(&store.Activity{ContactID: "1", At: t0, Kind: "note", Text: "undone"}))
		must(t, tx.AddTimer(&store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: 2, Seq: 1, At: t0}))
		must(t, tx.RollbackTo("sp"))
		a := &store.Activity{ContactID: "1", At: t0, Kind: "note", Text: "kept"}
		must(t, tx.AddActivity(a))
		acts, _ := tx.Activity("1", 0, 10)
		if len(acts) != 1 || acts[0].Text != "kept" || acts[0].ID != a.ID {
			t.Errorf("activity after a rollback to the savepoint: %+v", acts)
		}
		if due, _ := tx.DueTimers(t0, 10); len(due) != 1 {
			t.Errorf("timers after the rollback: %+v", due)
		}
	})
	// ids stay unique across transactions, committed or not
	tx := begin(t, s)
	a := &store.Activity{ContactID: "1", At: t0, Kind: "note", Text: "rolled back"}
	must(t, tx.AddActivity(a))
	must(t, tx.Rollback())
	tx = begin(t, s)
	defer tx.Rollback()
	b := &store.Activity{ContactID: "1", At: t0, Kind: "note", Text: "second"}
	must(t, tx.AddActivity(b))
	acts, _ := tx.Activity("1", 0, 10)
	if len(acts) != 2 || acts[1].ID != b.ID || acts[0].ID >= b.ID {
		t.Errorf("activity of two transactions: %+v", acts)
	}
}

func durable(t *testing.T, open Open) {
	s, reopen := open(t)
	if reopen == nil {
		s.Close()
		t.Skipf("%s: a store that lives in memory cannot be reopened", s.Name())
	}
	tx := begin(t, s)
	r := &store.Run{ContactID: "1", Flow: "F", Program: "abc", Status: store.RunWaiting, Cont: []byte("FLC"), Wait: "reply", WaitSeq: 3}
	must(t, tx.InsertRun(r))
	must(t, tx.AddTimer(&store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: r.ID, Seq: 3, At: t0}))
	must(t, tx.Commit())
	uncommitted := begin(t, s)
	must(t, uncommitted.SaveContact(&store.Contact{ID: "lost", Fields: map[string]any{}}))
	must(t, uncommitted.Rollback())
	must(t, s.Close())

	s = reopen()
	defer s.Close()
	tx = begin(t, s)
	defer tx.Rollback()
	got, err := tx.Run(r.ID)
	must(t, err)
	if string(got.Cont) != "FLC" || got.WaitSeq != 3 {
		t.Errorf("run after reopening: %+v", got)
	}
	due, _ := tx.DueTimers(t0, 10)
	if len(due) != 1 || due[0].RunID != r.ID {
		t.Errorf("timers after reopening: %+v", due)
	}
	next := &store.Timer{ContactID: "1", Kind: store.TimerRun, RunID: r.ID, Seq: 4, At: t0}
	must(t, tx.AddTimer(next))
	if due, _ = tx.DueTimers(t0, 10); len(due) != 2 || next.ID == due[0].ID {
		t.Errorf("a timer added after reopening: %+v (id %d)", due, next.ID)
	}
	_, err = tx.Contact("lost")
	wantIs(t, "uncommitted contact", err, store.ErrNotFound)
}

func channels(t *testing.T, open Open) {
	var a, other string
	s := inTx(t, open, func(tx store.Tx) {
		sms := store.Address{ChannelID: "ch1", Channel: "sms", ExternalID: "+60123456789"}
		var created bool
		var err error
		a, created, err = tx.Identify(sms, t0)
		must(t, err)
		again, createdAgain, err := tx.Identify(sms, t0.Add(time.Minute))
		must(t, err)
		if !created || createdAgain || again != a {
			t.Errorf("the same identity twice: %q (created %v), then %q (created %v)", a, created, again, createdAgain)
		}
		if got, err := tx.Identity("ch1", "+60123456789"); err != nil || got != a {
			t.Errorf("identity: %q, %v", got, err)
		}
		_, err = tx.Identity("ch1", "+60999")
		wantIs(t, "an identity never seen", err, store.ErrNotFound)
		other, _, err = tx.Identify(store.Address{ChannelID: "ch2", Channel: "custom", ExternalID: "+60123456789"}, t0.Add(time.Second))
		must(t, err)
		if other == a || other == "" {
			t.Errorf("the same contact id on another channel is another contact: %q and %q", a, other)
		}
		must(t, tx.SaveContact(&store.Contact{ID: a, Fields: map[string]any{"phone": "+60123456789", "email": "ana@example.com"}, Created: t0}))
		must(t, tx.SaveContact(&store.Contact{ID: other, Fields: map[string]any{"phone": "+60123456789"}, Created: t0.Add(time.Second)}))
		if got, err := tx.FindContacts("phone", "+60123456789", 10); err != nil || !slices.Equal(got, []string{a, other}) {
			t.Errorf("contacts by phone: %v, %v; want %v", got, err, []string{a, other})
		}
		if got, err := tx.FindContacts("email", "ana@example.com", 10); err != nil || !slices.Equal(got, []string{a}) {
			t.Errorf("contacts by email: %v, %v", got, err)
		}
		if got, err := tx.FindContacts("email", "nobody@example.com", 10); err != nil || len(got) != 0 {
			t.Errorf("contacts by an unknown email: %v, %v", got, err)
		}
		if _, err := tx.FindContacts("firstname", "Ana", 10); err == nil {
			t.Error("contacts found by a field that is not phone or email")
		}
		_, _, err = tx.Identify(store.Address{ChannelID: "ch2", Channel: "custom", ExternalID: "ana"}, t0.Add(time.Hour))
		must(t, err)
		addrs, err := tx.Addresses(other)
		must(t, err)
		if len(addrs) != 1 || addrs[0].ChannelID != "ch2" || addrs[0].ExternalID != "+60123456789" || addrs[0].ContactID != other {
			t.Errorf("addresses of %s: %+v", other, addrs)
		}

		must(t, tx.SaveReceipt(store.Receipt{ChannelID: "ch1", MID: "m-1", ContactID: a, OutboxID: 7, At: t0}))
		r, err := tx.Receipt("ch1", "m-1")
		must(t, err)
		if r.ContactID != a || r.OutboxID != 7 || !r.At.Equal(t0) {
			t.Errorf("receipt: %+v", r)
		}
		_, err = tx.Receipt("ch2", "m-1")
		wantIs(t, "a receipt of another channel", err, store.ErrNotFound)
	})
	tx := begin(t, s)
	defer tx.Rollback()
	// several lookups at once, twice: the second a backend may answer
	// from what the first found
	for range 2 {
		got, err := tx.Identities([]store.Address{{ChannelID: "ch1", ExternalID: "+60123456789"}, {ChannelID: "ch1", ExternalID: "+60999"},
			{ChannelID: "ch2", ExternalID: "+60123456789"}, {ChannelID: "ch3", ExternalID: "+60123456789"}})
		if err != nil || !slices.Equal(got, []string{a, "", other, ""}) {
			t.Errorf("identities: %q, %v; want %q", got, err, []string{a, "", other, ""})
		}
	}
	if got, err := tx.Identity("ch2", "+60123456789"); err != nil || got != other {
		t.Errorf("identity after identities: %q, %v", got, err)
	}
	// several identified at once: one new, given twice
	news := store.Address{ChannelID: "ch1", Channel: "sms", ExternalID: "+60777"}
	ids, created, err := tx.IdentifyAll([]store.Address{{ChannelID: "ch1", Channel: "sms", ExternalID: "+60123456789"}, news, news, {ChannelID: "ch2", Channel: "custom", ExternalID: "+60123456789"}}, t0)
	must(t, err)
	if len(ids) != 4 || ids[0] != a || ids[1] == "" || ids[1] == a || ids[1] == other || ids[2] != ids[1] || ids[3] != other ||
		!slices.Equal(created, []bool{false, true, false, false}) {
		t.Errorf("IdentifyAll: %q, created %v", ids, created)
	}
	if got, err := tx.Identity("ch1", "+60777"); err != nil || got != ids[1] {
		t.Errorf("identity after IdentifyAll: %q, %v; want %q", got, err, ids[1])
	}
}

func prune(t *testing.T, open Open) {
	ats := []time.Time{t0.Add(-48 * time.Hour), t0.Add(-time.Hour), t0}
	s := inTx(t, open, func(tx store.Tx) {
		for i, at := range ats {
			_, err := tx.Seen(fmt.Sprint("k", i), at)
			must(t, err)
			o := &store.Outbound{ContactID: "1", Lane: "message", Kind: "send_message", Payload: []byte("{}"), Status: store.OutPending, NextAt: at, Created: at}
			must(t, tx.Enqueue(o))
			if i < 2 {
				o.Status = store.OutDelivered
				must(t, tx.UpdateOutbound(o))
				must(t, tx.SaveReceipt(store.Receipt{ChannelID: "ch", MID: fmt.Sprint("p", i), ContactID: "1", OutboxID: o.ID, At: at}))
			}
		}
	})
	for i, at := range ats { // each entry's transaction at its time
		tx := begin(t, s)
		must(t, tx.AddActivity(&store.Activity{ContactID: "1", At: at, Kind: "note", Text: fmt.Sprint("a", i)}))
		must(t, tx.Commit())
	}
	tx := begin(t, s)
	defer tx.Rollback()
	n, err := tx.Prune(store.Prune{Dedup: t0.Add(-2 * time.Hour), Activity: t0.Add(-30 * time.Minute), Outbox: t0.Add(-24 * time.Hour), Limit: 100})
	must(t, err)
	// dedup k0; activity a0, a1; outbox and receipt of the first
	if n != 5 {
		t.Errorf("pruned %d rows, want 5", n)
	}
	acts, _ := tx.Activity("1", 0, 10)
	if len(acts) != 1 || acts[0].Text != "a2" {
		t.Errorf("activity kept: %+v", acts)
	}
	if seen, _ := tx.Seen("k0", t0); seen {
		t.Error("an old dedup key was kept")
	}
	if seen, _ := tx.Seen("k1", t0); !seen {
		t.Error("a recent dedup key was pruned")
	}
	_, err = tx.Receipt("ch", "p0")
	wantIs(t, "the receipt of a pruned outbox row", err, store.ErrNotFound)
	if _, err := tx.Receipt("ch", "p1"); err != nil {
		t.Errorf("a recent receipt: %v", err)
	}
	if due, _ := tx.DueOutbound(t0, 10); len(due) != 1 {
		t.Errorf("a pending row was pruned: %+v", due)
	}
	if n, err := tx.OutboxDepth(); err != nil || n != 1 {
		t.Errorf("outbox depth %d, %v; want 1", n, err)
	}
}

func erase(t *testing.T, open Open) {
	var gone, kept string
	s := inTx(t, open, func(tx store.Tx) {
		var err error
		gone, _, err = tx.Identify(store.Address{ChannelID: "ch", Channel: "sms", ExternalID: "+60111"}, t0)
		must(t, err)
		kept, err = tx.NewContactNumber(t0)
		must(t, err)
		if kept == gone || kept == "" {
			t.Errorf("numbers %q and %q", gone, kept)
		}
		for _, id := range []string{gone, kept} {
			must(t, tx.SaveContact(&store.Contact{ID: id, Fields: map[string]any{"email": id + "@example.com"}, Tags: []string{"VIP"}, Created: t0}))
			must(t, tx.SaveConversation(&store.Conversation{ContactID: id, Open: true, OpenedBy: "contact", OpenedAt: t0}))
			r := &store.Run{ContactID: id, Flow: "F", Program: "abc", Status: store.RunWaiting, Wait: "reply"}
			must(t, tx.InsertRun(r))
			must(t, tx.AddTimer(&store.Timer{ContactID: id, Kind: store.TimerRun, RunID: r.ID, At: t0}))
			must(t, tx.AddEnrolment(id, "F", t0))
			must(t, tx.AddActivity(&store.Activity{ContactID: id, At: t0, Kind: "message_in", Text: "my secret"}))
			o := &store.Outbound{ContactID: id, Lane: "message", Kind: "send_message", Payload: []byte("{}"), Status: store.OutPending, NextAt: t0, Created: t0}
			must(t, tx.Enqueue(o))
			must(t, tx.SaveReceipt(store.Receipt{ChannelID: "ch", MID: "p-" + id, ContactID: id, OutboxID: o.ID, At: t0}))
		}
		must(t, tx.EraseContact(gone, t0))
	})
	tx := begin(t, s)
	defer tx.Rollback()
	_, err := tx.Contact(gone)
	wantIs(t, "an erased contact", err, store.ErrNotFound)
	_, err = tx.Identity("ch", "+60111")
	wantIs(t, "an erased contact's identity", err, store.ErrNotFound)
	_, err = tx.Receipt("ch", "p-"+gone)
	wantIs(t, "an erased contact's receipt", err, store.ErrNotFound)
	if n, _ := tx.Conversations(gone); n != 0 {
		t.Errorf("%d conversations left", n)
	}
	if runs, _ := tx.Runs(gone, 0, 10); len(runs) != 0 {
		t.Errorf("runs left: %+v", runs)
	}
	if acts, _ := tx.Activity(gone, 0, 10); len(acts) != 0 {
		t.Errorf("activity left: %+v", acts)
	}
	if ok, _ := tx.Enrolled(gone, "F"); ok {
		t.Error("enrolment left")
	}
	if ids, _ := tx.FindContacts("email", gone+"@example.com", 10); len(ids) != 0 {
		t.Errorf("found by email: %v", ids)
	}
	due, _ := tx.DueTimers(t0, 10)
	out, _ := tx.DueOutbound(t0, 10)
	if len(due) != 1 || due[0].ContactID != kept || len(out) != 1 || out[0].ContactID != kept {
		t.Errorf("timers %+v, outbox %+v: want only %s's", due, out, kept)
	}
	if c, err := tx.Contact(kept); err != nil || c.Fields["email"] != kept+"@example.com" {
		t.Errorf("the other contact: %+v, %v", c, err)
	}
	again, created, err := tx.Identify(store.Address{ChannelID: "ch", Channel: "sms", ExternalID: "+60111"}, t0)
	must(t, err)
	if !created || again == gone {
		t.Errorf("the erased contact's address again: %q (created %v); an erased number is not handed out again", again, created)
	}
}

func claims(t *testing.T, open Open) {
	s, reopen := open(t)
	tx := begin(t, s)
	add := func(contact string) *store.Outbound {
		o := &store.Outbound{ContactID: contact, Lane: "message", Kind: "send_message", Payload: []byte("{}"), Status: store.OutPending, NextAt: t0, Created: t0}
		must(t, tx.Enqueue(o))
		return o
	}
	a, b, c := add("1"), add("1"), add("2")
	x1, x2 := add("3"), add("3")
	x2.NextAt = t0.Add(time.Hour) // not due: the chain stops at it
	must(t, tx.UpdateOutbound(x2))
	add("3") // behind it
	must(t, tx.Commit())
	ids := func(os []store.Outbound, err error) []int64 {
		t.Helper()
		must(t, err)
		out := []int64{}
		for _, o := range os {
			out = append(out, o.ID)
		}
		slices.Sort(out)
		return out
	}
	tx = begin(t, s)
	claimed, err := tx.ClaimOutbound(t0, t0.Add(time.Minute), 10)
	must(t, err)
	same(t, "claimed: the heads of each contact's lane, each with its lane's due items behind it", []int64{a.ID, b.ID, c.ID, x1.ID},
		ids(claimed, nil))
	for i, o := range claimed {
		if o.ID == a.ID && (i+1 == len(claimed) || claimed[i+1].ID != b.ID) {
			t.Errorf("claimed: %v; want a lane's items together, in order", ids(claimed, nil))
		}
	}
	must(t, tx.Commit())
	tx = begin(t, s)
	same(t, "claimed again while the leases last: a claimed head holds back its lane", []int64{}, ids(tx.ClaimOutbound(t0, t0.Add(time.Minute), 10)))
	same(t, "due while claimed", []int64{}, ids(tx.DueOutbound(t0, 10)))
	same(t, "due once the leases ended", []int64{a.ID, c.ID, x1.ID}, ids(tx.DueOutbound(t0.Add(time.Minute), 10)))
	a.Attempts, a.NextAt = 1, t0.Add(30*time.Second)
	must(t, tx.UpdateOutbound(a)) // recorded: the claim ends, the next try holds
	due, err := tx.ClaimOutbound(t0.Add(30*time.Second), t0.Add(time.Hour), 10)
	if len(due) != 1 || due[0].ID != a.ID || due[0].Attempts != 1 {
		t.Errorf("claimed after the outcome: %+v, %v", due, err)
	}
	must(t, tx.Commit())
	if !s.Exclusive() {
		claimsApart(t, open)
	}
	s.Close()
	if reopen == nil {
		return
	}
	s = reopen()
	defer s.Close()
	tx = begin(t, s)
	defer tx.Rollback()
	want := []int64{c.ID, x1.ID} // a's claim holds for an hour: another process's
	if s.Exclusive() {
		want = []int64{a.ID, c.ID, x1.ID} // the claims died with the process
	}
	same(t, "due after reopening", want, ids(tx.DueOutbound(t0.Add(time.Minute), 10)))
}

// claimsPastClaimed: a claim of n items takes n, however many lanes are
// claimed already (their heads are due, and held).
func claimsPastClaimed(t *testing.T, open Open) {
	s := inTx(t, open, func(tx store.Tx) {
		for i := range 5 {
			must(t, tx.Enqueue(&store.Outbound{ContactID: fmt.Sprint("p", i), Lane: "message", Kind: "send_message",
				Payload: []byte("{}"), Status: store.OutPending, NextAt: t0, Created: t0}))
		}
	})
	defer s.Close()
	taken := map[int64]bool{}
	for _, n := range []int{3, 1, 1} {
		tx := begin(t, s)
		got, err := tx.ClaimOutbound(t0, t0.Add(time.Minute), n)
		must(t, err)
		must(t, tx.Commit())
		want := min(n, 5-len(taken))
		if len(got) != want {
			t.Errorf("claimed %d of %d items with %d claimed already; want %d", len(got), n, len(taken), want)
		}
		for _, o := range got {
			if taken[o.ID] {
				t.Errorf("item %d claimed twice", o.ID)
			}
			taken[o.ID] = true
		}
	}
}

// handOff: a transaction that hands its work off claims, as it commits,
// what a claim would take of it, and nothing else.
func handOff(t *testing.T, open Open) {
	s := inTx(t, open, func(tx store.Tx) {})
	defer s.Close()
	tx := begin(t, s)
	add := func(contact, lane string, run int64, at time.Time) *store.Outbound {
		t.Helper()
		o := &store.Outbound{ContactID: contact, Lane: lane, Kind: "send_message", RunID: run, Payload: []byte("{}"),
			Status: store.OutPending, NextAt: at, Created: t0}
		must(t, tx.Enqueue(o))
		return o
	}
	before := add("busy", "message", 1, t0)
	must(t, tx.Commit())
	if h := tx.Handed(); len(h) != 0 {
		t.Errorf("handed without a hand-off: %d items", len(h))
	}

	tx = begin(t, s)
	tx.HandOff(func() time.Time { return t0 }, time.Minute)
	behind := add("busy", "message", 1, t0) // the lane holds an item already
	f1, f2, f3 := add("free", "message", 2, t0), add("free", "message", 2, t0), add("free", "http", 2, t0)
	l1 := add("late", "message", 3, t0)
	add("late", "message", 3, t0.Add(time.Hour)) // not due: the chain stops
	add("late", "message", 3, t0)
	var long []int64
	for range store.MaxChain + 2 {
		long = append(long, add("long", "message", 4, t0).ID)
	}
	add("gone", "message", 5, t0)
	must(t, tx.WithdrawOutbound(5, "message"))
	must(t, tx.Savepoint("undone"))
	add("undone", "message", 6, t0)
	_, err := tx.DueOutbound(t0, 1) // reads the table: the item is written before the rollback
	must(t, err)
	must(t, tx.RollbackTo("undone"))
	must(t, tx.Commit())

	handed := tx.Handed()
	var got []int64
	for _, o := range handed {
		got = append(got, o.ID)
		if o.Status != store.OutPending || string(o.Payload) != "{}" || o.Kind != "send_message" {
			t.Errorf("handed %+v; want the item as enqueued", o)
		}
	}
	want := append([]int64{f1.ID, f2.ID, f3.ID, l1.ID}, long[:store.MaxChain]...)
	slices.Sort(want)
	sorted := slices.Sorted(slices.Values(got))
	same(t, "handed: each free lane's due items from its first, MaxChain at most", want, sorted)
	pos := map[int64]int{}
	for i, id := range got {
		pos[id] = i
	}
	if pos[f2.ID] != pos[f1.ID]+1 || pos[long[1]] != pos[long[0]]+1 {
		t.Errorf("handed %v; want a lane's items together, in order", got)
	}

	tx = begin(t, s)
	claimed, err := tx.ClaimOutbound(t0, t0.Add(time.Minute), 100)
	must(t, err)
	var ids []int64
	for _, o := range claimed {
		ids = append(ids, o.ID)
	}
	same(t, "claimed while the hand-off's lease lasts: the lanes handed wait behind it", []int64{before.ID, behind.ID}, ids)
	must(t, tx.Commit())
	tx = begin(t, s)
	again, err := tx.ClaimOutbound(t0.Add(time.Minute), t0.Add(2*time.Minute), 100)
	must(t, err)
	ids = ids[:0]
	for _, o := range again {
		ids = append(ids, o.ID)
	}
	if !slices.Contains(ids, f1.ID) || !slices.Contains(ids, l1.ID) {
		t.Errorf("claimed once the hand-off's lease ended: %v; want the items handed, taken over", ids)
	}
	must(t, tx.Rollback())

	// an outcome that ends its item hands off the lane's next items; one
	// to be tried again holds its lane
	later := t0.Add(time.Hour)
	tx = begin(t, s)
	tx.HandOff(func() time.Time { return later }, time.Minute)
	before.Status, before.Attempts = store.OutDelivered, 1
	must(t, tx.UpdateOutbound(before))
	first := &store.Outbound{ID: long[0], ContactID: "long", Lane: "message", Kind: "send_message", RunID: 4, Payload: []byte("{}"),
		Status: store.OutDelivered, Attempts: 1, NextAt: t0, Created: t0}
	must(t, tx.UpdateOutbound(first))
	f1.Attempts, f1.NextAt = 1, later.Add(time.Minute)
	must(t, tx.UpdateOutbound(f1))
	must(t, tx.Commit())
	got = got[:0]
	for _, o := range tx.Handed() {
		got = append(got, o.ID)
	}
	want = append([]int64{behind.ID}, long[1:1+store.MaxChain]...)
	same(t, "handed after the outcomes: the next items of each lane they freed, MaxChain at most", want, slices.Sorted(slices.Values(got)))
	tx = begin(t, s)
	claimed, err = tx.ClaimOutbound(later, later.Add(time.Minute), 100)
	must(t, err)
	for _, o := range claimed {
		if slices.Contains(got, o.ID) || o.ContactID == "free" && o.Lane == "message" {
			t.Errorf("claimed item %d of %s after the outcomes; want it handed off, or behind its lane's retry", o.ID, o.ContactID)
		}
	}
	must(t, tx.Rollback())

	// an item queued in the transaction that records the outcome ahead of
	// it goes with it
	tx = begin(t, s)
	tx.HandOff(func() time.Time { return later }, time.Minute)
	behind.Status, behind.Attempts = store.OutDelivered, 1
	must(t, tx.UpdateOutbound(behind))
	after := add("busy", "message", 1, later)
	must(t, tx.Commit())
	got = got[:0]
	for _, o := range tx.Handed() {
		got = append(got, o.ID)
	}
	same(t, "handed with the outcome ahead of it", []int64{after.ID}, got)
}

// withdrawals and recorded attempts of the same items in one transaction
// end as they would one after the other: an attempt recorded after a
// withdrawal is what the item is (here pending, to be tried again); a
// withdrawal after an attempt that left the item pending withdraws it.
func withdrawals(t *testing.T, open Open) {
	s := inTx(t, open, func(tx store.Tx) {})
	tx := begin(t, s)
	add := func(run int64) *store.Outbound {
		o := &store.Outbound{ContactID: "w", Lane: "message", RunID: run, Kind: "send_message", Payload: []byte("{}"), NextAt: t0, Created: t0}
		must(t, tx.Enqueue(o))
		return o
	}
	x, _, x2 := add(7), add(7), add(8)
	add(9)
	must(t, tx.Commit())
	tx = begin(t, s)
	must(t, tx.WithdrawOutbound(7, "message"))
	x.Attempts, x.NextAt = 1, t0.Add(time.Minute) // to be tried again: pending, as recorded last
	must(t, tx.UpdateOutbound(x))
	x2.Attempts, x2.NextAt = 1, t0.Add(time.Minute)
	must(t, tx.UpdateOutbound(x2))
	must(t, tx.WithdrawOutbound(8, "message"))
	must(t, tx.Commit())
	tx = begin(t, s)
	defer tx.Rollback()
	if n, err := tx.OutboxDepth(); err != nil || n != 2 {
		t.Errorf("pending after the withdrawals: %d, %v; want 2 (the one tried, and run 9's)", n, err)
	}
	due, err := tx.DueOutbound(t0.Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].ID != x.ID || due[0].Attempts != 1 {
		t.Errorf("due after the withdrawals: %+v, %v; want the one tried", due, err)
	}
}

// claimsApart: two transactions claiming at once take different work, and
// neither waits for the other.
func claimsApart(t *testing.T, open Open) {
	s, _ := open(t)
	defer s.Close()
	tx := begin(t, s)
	for i := range 4 {
		must(t, tx.Enqueue(&store.Outbound{ContactID: fmt.Sprint("apart", i), Lane: "message", Kind: "send_message",
			Payload: []byte("{}"), Status: store.OutPending, NextAt: t0, Created: t0}))
		must(t, tx.AddTimer(&store.Timer{ContactID: fmt.Sprint("apart", i), Kind: store.TimerAutoClose, At: t0}))
	}
	must(t, tx.Commit())
	first, second := begin(t, s), begin(t, s)
	defer first.Rollback()
	defer second.Rollback()
	o1, err := first.ClaimOutbound(t0, t0.Add(time.Minute), 2)
	must(t, err)
	o2, err := second.ClaimOutbound(t0, t0.Add(time.Minute), 10)
	must(t, err)
	t1, err := first.ClaimTimers(t0, t0.Add(time.Minute), 3)
	must(t, err)
	t2, err := second.ClaimTimers(t0, t0.Add(time.Minute), 10)
	must(t, err)
	if len(o1) != 2 || len(o2) != 2 || len(t1) != 3 || len(t2) != 1 {
		t.Errorf("claimed outbox %d and %d, timers %d and %d; want 2 and 2, 3 and 1", len(o1), len(o2), len(t1), len(t2))
	}
	for _, o := range o1 {
		for _, p := range o2 {
			if o.ID == p.ID {
				t.Errorf("outbox item %d claimed twice", o.ID)
			}
		}
	}
	for _, a := range t1 {
		for _, b := range t2 {
			if a.ID == b.ID {
				t.Errorf("timer %d claimed twice", a.ID)
			}
		}
	}
}

// shared is a fresh store that other processes may write too; a case of
// one skips the embedded store, which has one writer at a time.
func shared(t *testing.T, open Open) store.Store {
	s, _ := open(t)
	t.Cleanup(func() { s.Close() })
	if s.Exclusive() {
		t.Skipf("%s: one writer at a time", s.Name())
	}
	return s
}

// locks: a contact's lock keeps a second transaction off it until the
// first ends, and a lock taken after a savepoint that is rolled back to can
// be taken again. The embedded store has one writer: nothing to test.
func locks(t *testing.T, open Open) {
	s := shared(t, open)
	first, second := begin(t, s), begin(t, s)
	defer second.Rollback()
	must(t, first.LockContacts("b", "a", "a"))
	for id, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if got, err := second.TryLockContact(id); err != nil || got != want {
			t.Errorf("contact %s, locked by another transaction: TryLockContact = %v, %v; want %v", id, got, err, want)
		}
	}
	must(t, first.Savepoint("sp"))
	must(t, first.LockContacts("d"))
	must(t, first.RollbackTo("sp"))
	must(t, first.LockContacts("d"))
	if got, _ := second.TryLockContact("d"); got {
		t.Error("a lock taken again after a rollback to a savepoint was free")
	}
	must(t, first.LockAssignment())
	locked := make(chan error, 1)
	go func() { locked <- second.LockAssignment() }() // waits for the first to end
	must(t, first.Commit())
	must(t, <-locked)
	if got, err := second.TryLockContact("a"); err != nil || !got {
		t.Errorf("once the first transaction ended: TryLockContact = %v, %v", got, err)
	}
}

// concurrentWriters: what two transactions do at once to the same records
// ends as if one came after the other: a new identity names one contact, a
// conversation number is taken once, a de-duplication key is seen once.
func concurrentWriters(t *testing.T, open Open) {
	s := shared(t, open)
	first, second := begin(t, s), begin(t, s)
	defer second.Rollback()
	addr := store.Address{ChannelID: "ch", Channel: "sms", ExternalID: "+60123"}
	id, created, err := first.Identify(addr, t0)
	must(t, err)
	must(t, first.SaveConversation(&store.Conversation{ContactID: "9", Open: true, OpenedAt: t0}))
	seen, err := first.Seen("k", t0)
	must(t, err)
	type identified struct {
		id      string
		created bool
		err     error
	}
	got := make(chan identified, 1)
	conv := make(chan error, 1)
	dup := make(chan bool, 1)
	other := &store.Conversation{ContactID: "9", Open: false, OpenedAt: t0}
	go func() {
		conv <- second.SaveConversation(other)        // numbered before or after first commits
		id, created, err := second.Identify(addr, t0) // waits for first
		got <- identified{id, created, err}
		seen, _ := second.Seen("k", t0)
		dup <- seen
	}()
	must(t, first.Commit())
	g := <-got
	if !created || seen || g.err != nil || g.created || g.id != id {
		t.Errorf("one identity met by two transactions: %q (created %v), then %q (created %v, %v)", id, created, g.id, g.created, g.err)
	}
	if err := <-conv; !errors.Is(err, store.ErrConflict) && (err != nil || other.Number != 2) {
		t.Errorf("a second transaction's conversation: number %d, %v; want 2, or ErrConflict", other.Number, err)
	}
	if !<-dup {
		t.Error("a key recorded by a transaction that committed meanwhile was not seen")
	}
}
