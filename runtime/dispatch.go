package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// The executors do the outbox's work outside any transaction: each is the
// seam where production plugs in a real service and a simulation a fake.

// A Channel delivers messages to contacts: WhatsApp, Messenger, a web
// chat. id is the same on every try of one message, so that a receiver
// that got a message whose acknowledgement was lost can drop the copy.
type Channel interface {
	Deliver(ctx context.Context, id, contactID string, m OutMessage) error
}

// An HTTPCaller makes the calls of http steps. held is true when the
// answer comes later, as a Result event (a test holding a request).
type HTTPCaller interface {
	Call(ctx context.Context, contactID string, runID int64, req *interpreter.HTTPRequest) (resp interpreter.HTTPResponse, held bool)
}

// Call implements HTTPCaller: a real call, answered at once.
func (c *HTTPClient) Call(ctx context.Context, _ string, _ int64, req *interpreter.HTTPRequest) (interpreter.HTTPResponse, bool) {
	return c.Do(ctx, req), false
}

// A SheetAppender appends spreadsheet rows (Google Sheets' values.append).
type SheetAppender interface {
	Append(ctx context.Context, row *interpreter.SheetRow) error
}

// A Dispatcher does the outbox's work: it claims the items due (each
// contact's items of a lane one at a time, in order), hands them to their
// executor outside any transaction, records each outcome, retries failed
// deliveries with backoff, and hands the runs waiting on them their answer
// through the engine, as Result events.
type Dispatcher struct {
	Engine  *Engine
	Channel Channel
	HTTP    HTTPCaller
	Sheets  SheetAppender
	AI      AIAgent
	// MaxAttempts is how often a message or row is tried before it
	// fails; 0 is DefaultMaxAttempts.
	MaxAttempts int
}

// DefaultMaxAttempts is how often the dispatcher tries a delivery.
const DefaultMaxAttempts = 5

// ClaimLease is how long a claimed item is left to its executor before
// another pass may take it again: a dispatcher that died mid-call.
const ClaimLease = 5 * time.Minute

// Backoff is the wait before the next try of a delivery that failed for the
// n-th time: 2s, 4s, 8s, ..., at most 10 minutes.
func Backoff(n int) time.Duration {
	if n > 9 { // 2^10 s is past the cap
		return 10 * time.Minute
	}
	return time.Duration(1<<n) * time.Second
}

// maxDispatch bounds the items one pass takes.
const maxDispatch = 256

// Pass does the outbox items due now once and returns how many it took.
// err joins the answers' events' errors; the items are recorded either way.
func (d *Dispatcher) Pass(ctx context.Context) (int, error) {
	e := d.Engine
	var due []store.Outbound
	err := e.inTx(ctx, func(tx store.Tx) error {
		var err error
		if due, err = tx.DueOutbound(e.cfg.Now(), maxDispatch); err != nil {
			return err
		}
		for i := range due { // claimed: a pass that runs meanwhile leaves them
			claim := due[i]
			claim.NextAt = e.cfg.Now().Add(ClaimLease)
			if err := tx.UpdateOutbound(&claim); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	var results []Event
	for i := range due {
		if ev := d.do(ctx, &due[i]); ev != nil {
			results = append(results, ev)
		}
	}
	err = e.inTx(ctx, func(tx store.Tx) error {
		for i := range due {
			if err := tx.UpdateOutbound(&due[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(results) > 0 {
		errs, err := e.HandleAll(ctx, results)
		if err != nil {
			return len(due), err
		}
		return len(due), errors.Join(errs...)
	}
	return len(due), nil
}

// maxDrain bounds the passes of one Drain: answers queue more work (an
// HTTP step's answer sends a message), but not forever.
const maxDrain = 1000

// Drain makes passes until nothing is due now: the synchronous mode, in
// which a simulation sees an HTTP step's answer before its next line.
// Retries wait for their time, which a simulated clock reaches later.
func (d *Dispatcher) Drain(ctx context.Context) error {
	var errs []error
	for i := 0; i < maxDrain; i++ {
		n, err := d.Pass(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		if n == 0 {
			return errors.Join(errs...)
		}
	}
	return errors.Join(append(errs, fmt.Errorf("outbox: still work due after %d passes", maxDrain))...)
}

// do carries out one item and sets its new status; the event is the answer
// its run waits for, if any.
func (d *Dispatcher) do(ctx context.Context, o *store.Outbound) Event {
	o.Attempts++
	answer := func(in interpreter.Input) Event { return Result{Contact: o.ContactID, Run: o.RunID, Input: in} }
	switch o.Lane {
	case laneMessage:
		var m OutMessage
		err := json.Unmarshal(o.Payload, &m)
		if err == nil {
			if d.Channel == nil {
				err = errors.New("no channel delivers messages")
			} else {
				err = d.Channel.Deliver(ctx, fmt.Sprintf("flowd-%d", o.ID), o.ContactID, m)
			}
		}
		return d.delivered(o, err)
	case laneSheet:
		var row interpreter.SheetRow
		err := json.Unmarshal(o.Payload, &row)
		if err == nil {
			if d.Sheets == nil {
				err = errors.New("no spreadsheet is configured")
			} else {
				err = d.Sheets.Append(ctx, &row)
			}
		}
		return d.delivered(o, err)
	case laneHTTP:
		o.Status = store.OutDelivered // tried once: the step's failure path does the rest
		var req interpreter.HTTPRequest
		if err := json.Unmarshal(o.Payload, &req); err != nil || d.HTTP == nil {
			o.Status, o.Err = store.OutFailed, "no HTTP caller"
			if err != nil {
				o.Err = err.Error()
			}
			return answer(interpreter.HTTPResponse{Seq: o.Seq, Err: o.Err})
		}
		resp, held := d.HTTP.Call(ctx, o.ContactID, o.RunID, &req)
		if held {
			return nil
		}
		resp.Seq = req.Seq
		ev := answer(resp).(Result)
		ev.Note = "http -> " + resp.Result()
		return ev
	case laneAI:
		return d.aiTurn(ctx, o)
	}
	o.Status, o.Err = store.OutFailed, "unknown lane "+o.Lane
	return nil
}

// delivered records a delivery's try: done, to be tried again after a
// backoff, or given up. A run that waits for the delivery (send ... on
// failure, a sheet row it needs) gets the outcome.
func (d *Dispatcher) delivered(o *store.Outbound, err error) Event {
	if err == nil {
		o.Status, o.Err = store.OutDelivered, ""
		if o.Seq == 0 {
			return nil
		}
		return Result{Contact: o.ContactID, Run: o.RunID, Input: interpreter.Delivery{Seq: o.Seq, OK: true}}
	}
	o.Err = err.Error()
	max := d.MaxAttempts
	if max == 0 {
		max = DefaultMaxAttempts
	}
	var final interface{ Final() bool }
	if errors.As(err, &final) && final.Final() {
		max = o.Attempts // trying again cannot help: a 4xx
	}
	if o.Attempts < max {
		o.NextAt = d.Engine.cfg.Now().Add(Backoff(o.Attempts))
		return nil
	}
	o.Status = store.OutFailed
	if o.Seq == 0 {
		return nil
	}
	return Result{Contact: o.ContactID, Run: o.RunID, Input: interpreter.Delivery{Seq: o.Seq, Err: o.Err}}
}
