package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flowd/flowd/interpreter"
)

// A FakeClock is a clock that moves only when told to: a simulation's.
// Config.Now = clock.Now puts an engine on it.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock that reads now.
func NewFakeClock(now time.Time) *FakeClock { return &FakeClock{now: now} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward only.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// Reset sets the clock to t, back or forth: a test setting the time. A
// timer it is set past fires at the next Advance, at the clock's time.
func (c *FakeClock) Reset(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// A SpentError stops Advance: the runs did all the work the simulation
// allows them, and the clock stays where that happened.
type SpentError struct {
	At    time.Time
	Limit interpreter.Work
}

func (e *SpentError) Error() string {
	return fmt.Sprintf("timers stopped at %s: the runs did all the work they may", e.At.Format(time.RFC3339))
}

// Advance moves clock on to end, firing each timer as it falls due, in
// time order; a timer that was already due fires at the clock's time (the
// clock never moves back). After each firing, settle, when set, does the
// work the firing queued (a simulation's Dispatcher.Drain); with settle,
// the clock also stops where outbound work falls due (a delivery's retry). Once the
// engine's machine has done the work of limit (a zero field: no bound on
// it), Advance stops with a *SpentError, the clock where the work ran out:
// a flow that waits a second and loops for a simulated year stops there.
// The errors of the events the timers fired are joined to the result.
func (e *Engine) Advance(ctx context.Context, clock *FakeClock, end time.Time, limit interpreter.Work,
	settle func(context.Context) error) error {
	var errs []error
	for {
		next, timer, err := e.next(ctx, clock.Now(), settle != nil)
		if err != nil {
			return err
		}
		if next.IsZero() || next.After(end) {
			break
		}
		if spent(e.Work(), limit) {
			return errors.Join(append(errs, &SpentError{At: clock.Now().In(e.location()), Limit: limit})...)
		}
		clock.Set(next)
		if timer {
			if _, err := e.Tick(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if settle != nil {
			if err := settle(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	clock.Set(end)
	return errors.Join(errs...)
}

// next is when the next timer falls due, or, with outbox, outbound work
// after now, whichever is sooner; zero when nothing will.
func (e *Engine) next(ctx context.Context, now time.Time, outbox bool) (at time.Time, timer bool, err error) {
	tx, err := e.st.Begin(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	defer tx.Rollback()
	at, timer, err = tx.NextTimer(now)
	if err != nil || !outbox {
		return at, timer, err
	}
	out, ok, err := tx.NextOutbound(now)
	if err == nil && ok && (!timer || out.Before(at)) {
		return out, false, nil
	}
	return at, timer, err
}

func spent(done, limit interpreter.Work) bool {
	return limit.Instructions > 0 && done.Instructions >= limit.Instructions ||
		limit.ExprSteps > 0 && done.ExprSteps >= limit.ExprSteps
}

// location is the workspace timezone.
func (e *Engine) location() *time.Location {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cfg.Location
}
