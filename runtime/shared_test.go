package runtime_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// firings counts the timers an engine fired.
type firings struct{ n atomic.Int64 }

func (*firings) Handled(int, int, time.Duration) {}
func (*firings) Carried(string, string)          {}
func (f *firings) Fired(string, time.Duration)   { f.n.Add(1) }

// TestTwoEnginesOnePostgres: two engines on one PostgreSQL, as two flowd
// processes are, take the same contacts' messages at once. Each contact
// gets one conversation; round robin alternates between the two agents as
// one engine would; and each run's timer fires once, whichever engine
// claims it.
func TestTwoEnginesOnePostgres(t *testing.T) {
	url := pgtest.Database(t)
	flows := compile(t, `flow "Route"
trigger conversation opened by contact

assign workspace round robin
wait 1m
tag add "fired"
`)
	// one clock for both, always moving on, so that round robin's last
	// assignments differ
	var base, tick atomic.Int64
	base.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, base.Load()+tick.Add(1)*int64(time.Microsecond)).UTC() }
	users := runtime.Users{{ID: "ana", Name: "Ana", Email: "ana@example.com"}, {ID: "bo", Name: "Bo", Email: "bo@example.com"}}
	ctx := context.Background()
	var engines [2]*runtime.Engine
	var meters [2]firings
	var stores [2]store.Store
	var wg sync.WaitGroup
	for i := range engines {
		wg.Add(1)
		go func() { // two processes starting at once
			defer wg.Done()
			st, err := postgres.Open(url)
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = st
			engines[i], err = runtime.New(ctx, st, flows, runtime.Config{Now: now, Directory: users, Meter: &meters[i]})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, st := range stores {
		t.Cleanup(func() { st.Close() })
	}

	const contacts = 40
	writers := [2]*runtime.Writer{engines[0].NewWriter(0), engines[1].NewWriter(0)}
	for _, w := range writers {
		t.Cleanup(w.Close)
	}
	for c := range contacts {
		for i, w := range writers { // each contact's two messages, one to each engine, at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := runtime.Message{Contact: fmt.Sprint("c", c), Text: fmt.Sprint("hello ", i)}
				if err := w.Submit(ctx, ev); err != nil {
					t.Errorf("contact %d, message %d: %v", c, i, err)
				}
			}()
		}
	}
	wg.Wait()

	base.Add(int64(2 * time.Minute))
	for i := range engines { // both fire timers at once until none is left
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				fired, err := engines[i].Tick(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if fired == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()

	if fired := meters[0].n.Load() + meters[1].n.Load(); fired != contacts {
		t.Errorf("fired %d timers (%d and %d), want %d", fired, meters[0].n.Load(), meters[1].n.Load(), contacts)
	}
	tx, err := stores[0].Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	assigned := map[string]int{}
	for c := range contacts {
		id := fmt.Sprint("c", c)
		n, err := tx.Conversations(id)
		if err != nil || n != 1 {
			t.Errorf("%s: %d conversations, %v; want 1", id, n, err)
		}
		conv, err := tx.LastConversation(id)
		if err != nil {
			t.Fatal(err)
		}
		assigned[conv.Assignee]++
		acts, _ := tx.Activity(id, 0, 100)
		tags := 0
		for _, a := range acts {
			if a.Kind == runtime.KindTag {
				tags++
			}
		}
		contact, _ := tx.Contact(id)
		if tags != 1 || contact == nil || !slices.Contains(contact.Tags, "fired") {
			t.Errorf("%s: %d tag entries, contact %+v; want the timer's one tag", id, tags, contact)
		}
	}
	if assigned["ana"] != contacts/2 || assigned["bo"] != contacts/2 {
		t.Errorf("round robin on two engines: %v, want %d each", assigned, contacts/2)
	}
}

// A delivered message's outcome commits while another process holds its
// contact's lock (running the contact's next turn, say): it changes only the
// item's row, which its claim keeps to this process. (Under Run, whose
// commits hand work off, it takes the lock: see Engine.lockContacts.)
func TestOutcomeTakesNoContactLock(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	open := func() store.Store {
		st, err := postgres.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	e, err := runtime.New(ctx, open(), compile(t, `flow "Hello"
trigger conversation opened by contact

send "hello"
`), runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Handle(ctx, msg("c1", "hi")); err != nil {
		t.Fatal(err)
	}

	other, err := open().Begin(ctx) // another process, in the middle of c1's turn
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if err := other.LockContacts("c1"); err != nil {
		t.Fatal(err)
	}
	ch := &fakeChannel{}
	done := make(chan error, 1)
	go func() {
		_, err := (&runtime.Dispatcher{Engine: e, Channel: ch}).Pass(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery's outcome waited for the contact's lock")
	}
	if want := []string{"c1: hello"}; !slices.Equal(ch.got, want) {
		t.Errorf("delivered %q; want %q", ch.got, want)
	}
	if left, err := e.OutboxDepth(ctx); err != nil || left != 0 {
		t.Errorf("%d items still pending (%v); want the delivered one recorded", left, err)
	}
}
