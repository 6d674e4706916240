package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// A Writer shares commits between events handed over concurrently: one
// goroutine takes whatever events are waiting, handles them in one
// transaction (each in its savepoint, so one failing never spoils the
// others) and commits once. With the store's synchronous commits, a commit
// costs about as much for one event as for thirty, so under load the
// Writer turns many events into few commits, and alone it adds no wait.
type Writer struct {
	e    *Engine
	max  int
	reqs chan *request
	stop chan struct{}
	done sync.WaitGroup
	// sending is held, shared, by each Submit handing over a request, and
	// closed is set under it alone: once Close has set closed, no request
	// can reach reqs after the loop drained it.
	sending sync.RWMutex
	closed  bool

	stats struct{ events, commits atomic.Int64 }
}

type request struct {
	ev  Event
	err chan error
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
	w.done.Add(1)
	go w.loop()
	return w
}

// Submit hands an event over and waits until it is committed: nil when it
// is, the event's error when it was undone.
func (w *Writer) Submit(ctx context.Context, ev Event) error {
	r := &request{ev: ev, err: make(chan error, 1)}
	w.sending.RLock()
	if w.closed {
		w.sending.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- r: // the loop reads on until closed is set
	case <-ctx.Done():
		w.sending.RUnlock()
		return ctx.Err()
	}
	w.sending.RUnlock()
	select {
	case err := <-r.err:
		return err
	case <-ctx.Done():
		return ctx.Err() // it may still commit
	}
}

// SubmitAll hands events over in order and waits until each is committed
// or undone: errs[i] is the error of evs[i]. A contact's events among them
// are handled in their order, and the Writer may commit them together.
func (w *Writer) SubmitAll(ctx context.Context, evs []Event) []error {
	errs := make([]error, len(evs))
	reqs := make([]*request, 0, len(evs))
	w.sending.RLock()
	for i, ev := range evs {
		if w.closed {
			errs[i] = ErrClosed
			continue
		}
		r := &request{ev: ev, err: make(chan error, 1)}
		select {
		case w.reqs <- r:
			reqs = append(reqs, r)
		case <-ctx.Done():
			errs[i] = ctx.Err()
		}
	}
	w.sending.RUnlock()
	j := 0
	for i := range evs {
		if errs[i] != nil {
			continue
		}
		select {
		case errs[i] = <-reqs[j].err:
		case <-ctx.Done():
			errs[i] = ctx.Err() // it may still commit
		}
		j++
	}
	return errs
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
	evs := make([]Event, 0, w.max)
	for {
		select {
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		case <-w.stop:
			w.drain()
			return
		}
	more:
		for len(batch) < w.max {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		w.commit(batch, evs)
	}
}

// drain handles what was handed over before Close.
func (w *Writer) drain() {
	for {
		select {
		case r := <-w.reqs:
			w.commit([]*request{r}, nil)
		default:
			return
		}
	}
}

func (w *Writer) commit(batch []*request, evs []Event) {
	evs = evs[:0]
	for _, r := range batch {
		evs = append(evs, r.ev)
	}
	errs, err := w.e.HandleAll(context.Background(), evs)
	if err != nil && len(batch) > 1 {
		for _, r := range batch { // the shared commit failed: each on its own
			w.commit([]*request{r}, nil)
		}
		return
	}
	w.stats.events.Add(int64(len(batch)))
	w.stats.commits.Add(1)
	for i, r := range batch {
		if err != nil {
			r.err <- err
		} else {
			r.err <- errs[i]
		}
	}
}
