package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// A Writer shares commits between events handed over concurrently: a loop
// takes whatever events are waiting, handles them in one transaction (each
// in its savepoint, so one failing never spoils the others) and commits
// once. With the store's synchronous commits, a commit costs about as much
// for one event as for thirty, so under load the Writer turns many events
// into few commits, and alone it adds no wait. On a shared store it runs a
// loop for each transaction the engine handles at once (Parallel): one
// fills while another commits.
type Writer struct {
	e    *Engine
	max  int
	reqs chan *request
	stop chan struct{}
	done sync.WaitGroup
	// sending is held, shared, by each Submit handing over a request, and
	// closed is set under it alone: once Close has set closed, no request
	// can reach reqs after the loops drained it.
	sending sync.RWMutex
	closed  bool

	stats struct{ events, commits atomic.Int64 }
}

// A request is events handed over together, which one transaction handles
// in their order, and their errors once it committed.
type request struct {
	evs  []Event
	errs []error
	done chan struct{}
}

// ErrClosed is the error of an event handed to a closed Writer.
var ErrClosed = errors.New("writer closed")

// DefaultBatch is how many events a Writer commits together at most.
const DefaultBatch = 64

// NewWriter starts a Writer on e that commits at most max events together;
// 0 is DefaultBatch.
func (e *Engine) NewWriter(max int) *Writer {
	if max <= 0 {
		max = DefaultBatch
	}
	w := &Writer{e: e, max: max, reqs: make(chan *request, max), stop: make(chan struct{})}
	loops := 1
	if !e.exclusive {
		loops = Parallel
	}
	for range loops {
		w.done.Add(1)
		go w.loop()
	}
	return w
}

// Submit hands an event over and waits until it is committed: nil when it
// is, the event's error when it was undone.
func (w *Writer) Submit(ctx context.Context, ev Event) error {
	return w.SubmitAll(ctx, []Event{ev})[0]
}

// SubmitAll hands events over together and waits until they are committed
// or undone: errs[i] is the error of evs[i]. They are handled in their
// order, in one transaction, which may carry others' events too.
func (w *Writer) SubmitAll(ctx context.Context, evs []Event) []error {
	r := &request{evs: evs, errs: make([]error, len(evs)), done: make(chan struct{})}
	fail := func(err error) []error {
		errs := make([]error, len(evs))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	w.sending.RLock()
	if w.closed {
		w.sending.RUnlock()
		return fail(ErrClosed)
	}
	select {
	case w.reqs <- r: // the loops read on until closed is set
	case <-ctx.Done():
		w.sending.RUnlock()
		return fail(ctx.Err())
	}
	w.sending.RUnlock()
	select {
	case <-r.done:
		return r.errs
	case <-ctx.Done():
		return fail(ctx.Err()) // they may still commit
	}
}

// Close stops the Writer once the events handed over are handled.
func (w *Writer) Close() {
	w.sending.Lock()
	if w.closed {
		w.sending.Unlock()
		return
	}
	w.closed = true
	w.sending.Unlock()
	close(w.stop)
	w.done.Wait()
}

// Stats are the events a Writer handled and the commits it took.
func (w *Writer) Stats() (events, commits int64) {
	return w.stats.events.Load(), w.stats.commits.Load()
}

func (w *Writer) loop() {
	defer w.done.Done()
	batch := make([]*request, 0, w.max)
	for {
		n := 0
		select {
		case r := <-w.reqs:
			batch, n = append(batch[:0], r), len(r.evs)
		case <-w.stop:
			w.drain()
			return
		}
	more:
		for n < w.max {
			select {
			case r := <-w.reqs:
				batch, n = append(batch, r), n+len(r.evs)
			default:
				break more
			}
		}
		w.commit(batch)
	}
}

// drain handles what was handed over before Close.
func (w *Writer) drain() {
	for {
		select {
		case r := <-w.reqs:
			w.commit([]*request{r})
		default:
			return
		}
	}
}

func (w *Writer) commit(batch []*request) {
	var evs []Event
	for _, r := range batch {
		evs = append(evs, r.evs...)
	}
	errs, err := w.e.HandleAll(context.Background(), evs)
	if err != nil && len(batch) > 1 {
		for _, r := range batch { // the shared commit failed: each on its own
			w.commit([]*request{r})
		}
		return
	}
	w.stats.events.Add(int64(len(evs)))
	w.stats.commits.Add(1)
	i := 0
	for _, r := range batch {
		for j := range r.evs {
			if err != nil {
				r.errs[j] = err
			} else {
				r.errs[j] = errs[i]
			}
			i++
		}
		close(r.done)
	}
}
