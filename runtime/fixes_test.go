package runtime_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// A flow that closes the conversation and opens a new one in the same
// sprint leaves one closed and one open conversation.
func TestCloseThenOpenInOneEvent(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Reopen"
trigger conversation opened by contact

close conversation
open conversation
send "open=${conversation.open}"
`))
	h.do(msg("c1", "hi"))
	h.want("c1", "> hi", `* started "Reopen" on conversation opened by contact`, "* close conversation", "* open conversation", "< open=true", `* end "Reopen"`)
	c := h.conversation("c1")
	if !c.Open || c.Number != 2 || c.OpenedBy != "flow" {
		t.Errorf("latest conversation: %+v, want the second, open, by the flow", c)
	}
	h.inTx(func(tx store.Tx) {
		if n, err := tx.Conversations("c1"); err != nil || n != 2 {
			t.Errorf("conversations: %d, %v; want 2", n, err)
		}
	})
}

// An agent closes the conversation; a flow that fires on that close
// assigns, which opens a new conversation in the same event.
func TestAgentCloseFiresFlowThatOpens(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Reassign"
trigger conversation closed by user

assign user "sam@example.com"
send "back with ${assignee.email}"
`), store.User{ID: "sam", Name: "Sam Lee", Email: "sam@example.com", Status: "online"})
	h.do(msg("c1", "hi"), runtime.CloseConversation{Contact: "c1", By: "user"})
	h.want("c1", "> hi", "* conversation closed by user", `* started "Reassign" on conversation closed by user`, `* assign user "sam@example.com"`, `* assigned "sam@example.com"`,
		"< back with sam@example.com", `* end "Reassign"`)
	if c := h.conversation("c1"); !c.Open || c.Number != 2 || c.Assignee != "sam" {
		t.Errorf("latest conversation: %+v, want the second, open, Sam's", c)
	}
}

// A run waiting at an ask with a timeout, or at a wait, is stored with the
// deadline of its timer.
func TestRunDeadline(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Timed"
trigger conversation opened

ask "Name?" save Name timeout 5m
wait 1h
send "done"
`))
	h.do(msg("c1", "hi"))
	if runs := h.runs("c1"); len(runs) != 1 || !runs[0].Deadline.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("waiting at the ask: %+v, want deadline %v", runs, t0.Add(5*time.Minute))
	}
	h.now = h.now.Add(time.Minute)
	h.do(msg("c1", "Ana"))
	if runs := h.runs("c1"); len(runs) != 1 || !runs[0].Deadline.Equal(t0.Add(61*time.Minute)) {
		t.Fatalf("waiting at the wait: %+v, want deadline %v", runs, t0.Add(61*time.Minute))
	}
}

// Submit on a closed Writer, or racing its Close, returns at once: the
// event is handled or refused with ErrClosed, never left waiting.
func TestWriterSubmitAfterClose(t *testing.T) {
	h := newHarness(t, compile(t, askFlow))
	w := h.e.NewWriter(4)
	w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Submit(ctx, msg("c1", "hi")); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed", err)
	}
	for round := 0; round < 20; round++ {
		w := h.e.NewWriter(2)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- w.Submit(ctx, msg("c2", "x"))
			}()
		}
		w.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, runtime.ErrClosed) {
				t.Fatalf("round %d: Submit racing Close: %v", round, err)
			}
		}
	}
}
