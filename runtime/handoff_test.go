package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// A running dispatcher that never polls still delivers every reply: a
// commit that queues a message hands it off, or, when the contact's
// previous message is still on its way, that message's outcome hands it
// off. Contacts answer as soon as their question arrives, so that their
// answers' replies are queued while the question's outcome commits.
func TestRunNeedsNoPolling(t *testing.T) {
	ctx := context.Background()
	ch := &awaitedChannel{waiting: map[string]chan struct{}{}}
	r := runDispatcher(t, `flow "Ask"
trigger conversation opened by contact

send "one"
ask "two?" save Answer timeout 1h
send "three"
`, ch, 8)
	w := r.w

	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				contact := fmt.Sprint("c", g, "_", i)
				for _, turn := range [][2]string{{"hi", "two?"}, {"yes", "three"}} {
					arrived := ch.await(contact, turn[1])
					if err := w.Submit(ctx, msg(contact, turn[0])); err != nil {
						t.Error(err)
						return
					}
					select {
					case <-arrived:
					case <-time.After(10 * time.Second):
						t.Errorf("%s: no %q within 10 s of %q, with no polling", contact, turn[1], turn[0])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// A dispatching engine is an engine on a fresh test store, with a Writer
// and a running dispatcher that never polls.
type dispatching struct {
	st      store.Store
	w       *runtime.Writer
	stop    context.CancelFunc // ends Run
	stopped chan struct{}      // closed once Run returned
}

// runDispatcher starts an engine running the flow src, and its dispatcher
// with workers on ch; the test's end stops them.
func runDispatcher(t *testing.T, src string, ch runtime.Channel, workers int) *dispatching {
	t.Helper()
	ctx := context.Background()
	st, err := openTestStore(t, filepath.Join(t.TempDir(), "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.New(ctx, st, compile(t, src), runtime.Config{})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	running, stop := context.WithCancel(ctx)
	d := &dispatching{st: st, w: e.NewWriter(0), stop: stop, stopped: make(chan struct{})}
	go func() {
		defer close(d.stopped)
		(&runtime.Dispatcher{Engine: e, Channel: ch, Poll: time.Hour}).Run(running, workers, d.w.SubmitAll)
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-d.stopped:
		case <-time.After(10 * time.Second): // the test says why
		}
		d.w.Close()
		st.Close()
	})
	return d
}

// awaitedChannel delivers at once, and tells who awaits a text that it
// arrived.
type awaitedChannel struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // contact and text
}

func (c *awaitedChannel) await(contact, text string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	c.waiting[contact+"\x00"+text] = ch
	return ch
}

func (c *awaitedChannel) Deliver(_ context.Context, _, contact string, m runtime.OutMessage) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := contact + "\x00" + strings.TrimSpace(m.Message.Text)
	if ch, ok := c.waiting[key]; ok {
		close(ch)
		delete(c.waiting, key)
	}
	return "", nil
}

// A dispatcher that stops carries out the work handed off to it first,
// more of it than it has workers free, and then returns: none of it waits
// for its claim's lease.
func TestRunStopsWithWorkInHand(t *testing.T) {
	ctx := context.Background()
	ch := &gatedChannel{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	r := runDispatcher(t, `flow "Hello"
trigger conversation opened by contact

send "hello"
`, ch, 1)
	w := r.w
	if err := w.Submit(ctx, msg("a", "hi")); err != nil {
		t.Fatal(err)
	}
	<-ch.started // the one worker holds a's message
	for _, c := range []string{"b", "c"} {
		if err := w.Submit(ctx, msg(c, "hi")); err != nil {
			t.Fatal(err)
		}
	}
	r.stop()
	close(ch.gate)
	select {
	case <-r.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its end")
	}
	if got := slices.Sorted(slices.Values(ch.delivered())); !slices.Equal(got, []string{"a: hello", "b: hello"}) {
		t.Errorf("delivered %q before Run returned; want a's and b's", got)
	}
	// c's came while the dispatcher had b's in hand and no worker free: it
	// was left to the claims, and the next one takes it at once
	tx, err := r.st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	left, err := tx.ClaimOutbound(time.Now(), time.Now().Add(time.Minute), 10)
	if err != nil || len(left) != 1 || left[0].ContactID != "c" {
		t.Errorf("claimed after Run returned: %+v, %v; want c's message alone", left, err)
	}
}

// gatedChannel holds each delivery until the gate opens.
type gatedChannel struct {
	gate    chan struct{}
	started chan struct{}
	mu      sync.Mutex
	got     []string
}

func (c *gatedChannel) Deliver(_ context.Context, _, contact string, m runtime.OutMessage) (string, error) {
	c.started <- struct{}{}
	<-c.gate
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, contact+": "+m.Message.Text)
	return "", nil
}

func (c *gatedChannel) delivered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}
