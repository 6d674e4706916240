package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
)

// crashFlow asks for consent, then waits a second (a timer) before it
// thanks the contact.
const crashFlow = `flow "Crash consent"
trigger conversation opened by contact

send "Hi! Please read our privacy policy."
consent: ask choice "Do you accept?" choices "ACCEPT AND CONTINUE" timeout 5m
pause: wait 1s
send "Thank you!"
tag add "Consent: Privacy"
`

// The crash test on PostgreSQL: two flowd serve OS processes on one
// database share 1,000 contacts' conversations, each contact's two
// messages going to different processes, a client failing over to the
// other process when one is down. One process is killed with SIGKILL
// mid-load and restarted, then the other. At the end every inbound message
// that got a 2xx was processed exactly once, every timer fired once, every
// outbound message reached the receiver at least once with one id and one
// content, each contact's messages in order, and no run is stuck. It
// prints the counts.
func TestCrashTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds flowd and runs it: not in -short")
	}
	url := pgtest.Database(t)
	run := crashLoad{flow: []byte(crashFlow), db: url, procs: 2, contacts: 1000, workers: 32, contact: "+6011%07d",
		env: []string{"FLOWD_TIMER_LEASE=2s", "FLOWD_DELIVERY_LEASE=2s"}}
	rc, n := run.drive(t)

	st, err := postgres.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	processed, fired, depth := checkCrashStore(t, st, run.contacts, run.contact)
	received, redelivered := rc.check(t, run.contacts)
	rc.inOrder(t, "Hi! Please", "Do you accept", "Thank you!")
	fmt.Printf("crash test (PostgreSQL, 2 processes): %d contacts in %v, %d kills; inbound: %d answered 2xx, %d tries refused or cut off and sent again, %d processed (each once); timers: %d fired (each once); outbound: %d messages, %d deliveries (%d again after a crash, each with its messageId and content), each contact's in order; %d outbox items left\n",
		run.contacts, n.took.Round(time.Millisecond), n.kills, n.accepted, n.retried, processed, fired, received, received+redelivered, redelivered, depth)
}

// inOrder wants each contact's texts, by their first arrival, in the order
// of the prefixes.
func (rc *crashReceiver) inOrder(t *testing.T, prefixes ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for c, texts := range rc.texts {
		next := 0
		for _, s := range texts {
			for i, p := range prefixes {
				if strings.HasPrefix(s, p) && i > next {
					t.Errorf("%s got %q before %q: %q", c, p, prefixes[next], texts)
					return
				} else if strings.HasPrefix(s, p) && i == next {
					next++
				}
			}
		}
	}
}

// checkCrashStore checks, in the store after a crash test, that each contact
// (named by format and its number) had each of its two messages processed
// once, its "Thank you!" sent once (after a timer, in the PostgreSQL test),
// its consent tagged, and no run waiting; and that no timer nor outbox item
// is left. It returns the messages processed, the thanks sent, and the
// outbox items left.
func checkCrashStore(t *testing.T, st store.Store, contacts int, format string) (processed, thanked, depth int) {
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range contacts {
		c := fmt.Sprintf(format, i)
		id, err := tx.Identity("crash", c)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		acts, _ := tx.Activity(id, 0, 1000)
		ins, thanks := map[string]int{}, 0
		for _, a := range acts {
			switch {
			case a.Kind == "message_in":
				ins[a.Text]++
				processed++
			case a.Kind == "message_out" && strings.HasPrefix(a.Text, "Thank you!"):
				thanks++
			}
		}
		thanked += thanks
		if ins["Hello"] != 1 || ins["ACCEPT AND CONTINUE"] != 1 || len(ins) != 2 {
			t.Errorf("%s: messages processed %v, want each once", c, ins)
		}
		if thanks != 1 {
			t.Errorf("%s: thanked %d times, want once", c, thanks)
		}
		contact, err := tx.Contact(id)
		if err != nil || !strings.Contains(strings.Join(contact.Tags, ","), "Consent: Privacy") {
			t.Errorf("%s: not tagged: %+v %v", c, contact, err)
		}
		runs, _ := tx.Runs(id, 0, 100)
		for _, r := range runs {
			if r.Status == store.RunWaiting {
				t.Errorf("%s: run %d still waiting for %s", c, r.ID, r.Wait)
			}
		}
	}
	if due, _ := tx.DueTimers(time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("timers left: %+v", due)
	}
	if depth, _ = tx.OutboxDepth(); depth != 0 {
		t.Errorf("%d outbox items left undone", depth)
	}
	return processed, thanked, depth
}
