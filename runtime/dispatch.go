package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// The executors do the outbox's work outside any transaction: each is the
// seam where production plugs in a real service and a simulation a fake.

// A Channel delivers messages to contacts: WhatsApp, Messenger, a web
// chat. id is the same on every try of one message, so that a receiver
// that got a message whose acknowledgement was lost can drop the copy.
// mid is the receiver's own id of the message, if it gave one, which its
// status reports name.
type Channel interface {
	Deliver(ctx context.Context, id, contactID string, m OutMessage) (mid string, err error)
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
	// Jitter spreads the retries' backoff by up to half of it again; a
	// simulation leaves it off, to be repeatable.
	Jitter bool
	// Backoff is the wait before the next try after the n-th failed
	// one; nil is the package's Backoff.
	Backoff func(n int) time.Duration
	// Lease is how long a claimed item is left to this dispatcher before
	// another may take it (this one died); 0 is ClaimLease. It must
	// outlast the slowest executor's call.
	Lease time.Duration
	// Poll is how often Run looks for work due when nothing woke it: the
	// work of a process that died, a retry another process set; 0 is a
	// second.
	Poll time.Duration
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

// claim takes the outbox items due now, at most max, and leaves them to
// this dispatcher for ClaimLease: a pass or another process meanwhile
// leaves them, and a contact's later items of the lane wait behind them.
func (d *Dispatcher) claim(ctx context.Context, max int) ([]store.Outbound, error) {
	e := d.Engine
	var due []store.Outbound
	err := e.claimTx(ctx, func(tx store.Tx) (err error) {
		now := e.cfg.Now()
		lease := d.Lease
		if lease <= 0 {
			lease = ClaimLease
		}
		due, err = tx.ClaimOutbound(now, now.Add(lease), max)
		return err
	})
	return due, err
}

// Pass does the outbox items due now once and returns how many it took.
// err joins the outcomes' errors; the items are recorded either way.
func (d *Dispatcher) Pass(ctx context.Context) (int, error) {
	due, err := d.claim(ctx, maxDispatch)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	var outs []Event
	for _, chain := range chains(due) {
		outs = append(outs, d.carryChain(ctx, chain)...)
	}
	errs, err := d.Engine.HandleAll(ctx, outs)
	if err != nil {
		return 0, err
	}
	return len(due), d.recordFailed(ctx, outs, errs)
}

// recordFailed records the items whose outcome's event failed without
// the answer (see unanswered).
func (d *Dispatcher) recordFailed(ctx context.Context, outs []Event, errs []error) error {
	again := unanswered(outs, errs)
	if len(again) == 0 {
		return nil
	}
	if _, err := d.Engine.HandleAll(ctx, again); err != nil {
		return errors.Join(append(errs, err)...)
	}
	return errors.Join(errs...)
}

// unanswered are the outcomes whose event failed (the run each answered
// could not go on), without their answers: recorded so, each item is done,
// and is not carried out again.
func unanswered(outs []Event, errs []error) []Event {
	var again []Event
	for i, err := range errs {
		if err != nil {
			o := outs[i].(outcome)
			slog.Warn("outbox: the outcome's event failed", "item", o.o.ID, "contact", o.o.ContactID, "err", err)
			o.result = nil
			again = append(again, o)
		}
	}
	return again
}

// Run does the outbox's work until ctx ends, as a service does: it claims
// what is due, carries each lane's items out in order on a worker of its
// own, at most workers at once (so that a slow receiver holds up only its
// own contacts), and hands their outcomes to submit together (a Writer's
// SubmitAll, which shares commits). It looks again when the engine queued work or
// recorded an outcome, when a worker comes free while work was left
// unclaimed, when a retry falls due, and at least every Poll; it takes
// the work the engine's commits hand it off (see handoff.go) as it comes.
// When ctx ends it carries out the work handed off and waits for the
// workers under way.
func (d *Dispatcher) Run(ctx context.Context, workers int, submit func(context.Context, []Event) []error) {
	if workers <= 0 {
		workers = 1
	}
	wake, cancel := d.Engine.Subscribe(WakeOutbox)
	defer cancel()
	lease := d.Lease
	if lease <= 0 {
		lease = ClaimLease
	}
	handed, stop := d.Engine.receiveHandOffs(lease, workers)
	free := make(chan struct{}, workers)
	slots := workers
	var running sync.WaitGroup
	defer running.Wait()
	// the workers' own context outlives ctx: an item under way finishes
	// and its outcome is recorded before Run returns
	work := context.WithoutCancel(ctx)
	carry := func(chain []store.Outbound, slot bool) {
		running.Add(1)
		go func() {
			defer running.Done()
			if slot {
				defer func() { free <- struct{}{} }()
			}
			d.submit(work, d.carryChain(work, chain), submit)
		}()
	}
	start := func(chain []store.Outbound) {
		slots--
		carry(chain, true)
	}
	defer func() {
		// the work handed off is claimed: carried out before Run returns,
		// it is not left waiting for the claims' lease (past the slots,
		// with no slot to give back)
		stop()
		for _, chain := range handed.take(math.MaxInt) {
			carry(chain, false)
		}
	}()
	look, starved := true, false
	for {
		for n := len(free); n > 0; n-- {
			<-free
			slots++
		}
		wait := d.Poll
		if wait <= 0 {
			wait = time.Second
		}
		if look && slots > 0 {
			limit := min(slots, maxDispatch)
			due, err := d.claim(ctx, limit)
			if err != nil && ctx.Err() == nil {
				slog.Error("outbox: claiming work", "err", err)
			}
			look = false
			lanes := chains(due)
			starved = len(lanes) == limit // more may be due: look again as workers come free
			for _, chain := range lanes {
				start(chain)
			}
			if len(due) == 0 { // idle: sleep until the next retry falls due
				if at, ok, err := d.next(ctx); err == nil && ok {
					wait = min(wait, max(time.Until(at), time.Millisecond))
				}
			}
		}
		// the work handed off after what a claim asked for: under load it
		// comes all the time, and would starve the claims (retries, work a
		// dead process left)
		if slots > 0 {
			for _, chain := range handed.take(slots) {
				start(chain)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-wake:
			look = true
		case <-handed.wake:
			// carried out as it comes, with the slots free
		case <-timer.C:
			look = true
		case <-free:
			// a worker's outcome may let the contact's next item go: the
			// outcome's commit wakes the loop through the engine
			slots++
			look = look || starved
		}
		timer.Stop()
	}
}

// submit hands a lane's outcomes over, and those whose event failed again
// without the answer (see unanswered).
func (d *Dispatcher) submit(ctx context.Context, outs []Event, submit func(context.Context, []Event) []error) {
	again := unanswered(outs, submit(ctx, outs))
	if len(again) == 0 {
		return
	}
	for i, err := range submit(ctx, again) {
		if err != nil {
			slog.Error("outbox: recording an item", "item", again[i].(outcome).o.ID, "err", err)
		}
	}
}

// chains cuts claimed work into its lanes' chains (see
// store.Tx.ClaimOutbound): a contact's items of one lane, in order.
func chains(due []store.Outbound) [][]store.Outbound {
	var out [][]store.Outbound
	for i, o := range due {
		if i > 0 && o.ContactID == due[i-1].ContactID && o.Lane == due[i-1].Lane {
			out[len(out)-1] = append(out[len(out)-1], o)
		} else {
			out = append(out, []store.Outbound{o})
		}
	}
	return out
}

// carryChain carries out a lane's items in order, and returns their
// outcomes. After one that is not delivered (to be tried again), the rest
// wait behind it: each goes back untried, which ends its claim.
func (d *Dispatcher) carryChain(ctx context.Context, chain []store.Outbound) []Event {
	outs := make([]Event, len(chain))
	stopped := false
	for i, o := range chain {
		if stopped {
			outs[i] = outcome{o: o}
			continue
		}
		out := d.carry(ctx, o)
		stopped = out.o.Status != store.OutDelivered
		outs[i] = out
	}
	return outs
}

// next is when the next outbox item falls due.
func (d *Dispatcher) next(ctx context.Context) (time.Time, bool, error) {
	e := d.Engine
	var at time.Time
	var ok bool
	err := e.claimTx(ctx, func(tx store.Tx) (err error) {
		at, ok, err = tx.NextOutbound(e.cfg.Now())
		return err
	})
	return at, ok, err
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

// An outcome is an outbox item carried out: its new state, the receipt
// its receiver gave, and the answer a run waits for, if any, recorded in
// one event.
type outcome struct {
	o       store.Outbound
	receipt *store.Receipt
	result  Event
}

func (e outcome) contact() string { return e.o.ContactID }

// record records an outcome and hands its run the answer.
func (e *Engine) record(tx store.Tx, o outcome) error {
	if err := tx.UpdateOutbound(&o.o); err != nil {
		return err
	}
	if o.receipt != nil {
		if err := tx.SaveReceipt(*o.receipt); err != nil {
			return err
		}
	}
	if o.result == nil {
		return nil
	}
	return e.handle(tx, o.result)
}

// carry carries out one item and returns its outcome.
func (d *Dispatcher) carry(ctx context.Context, o store.Outbound) outcome {
	out := outcome{o: o}
	out.result = d.do(ctx, &out.o, &out.receipt)
	return out
}

// do carries out one item and sets its new status; the event is the answer
// its run waits for, if any.
func (d *Dispatcher) do(ctx context.Context, o *store.Outbound, receipt **store.Receipt) Event {
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
				var mid string
				mid, err = d.Channel.Deliver(ctx, MessageID(o.ID), o.ContactID, m)
				if err == nil && mid != "" && m.To != nil {
					*receipt = &store.Receipt{ChannelID: m.To.ChannelID, MID: mid, ContactID: o.ContactID, OutboxID: o.ID, At: d.Engine.cfg.Now()}
				}
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
		result := "delivered"
		if resp.Err != "" {
			result = "failed"
		}
		d.Engine.cfg.Meter.Carried(o.Lane, result)
		ev := answer(resp).(Result)
		ev.Note = "http -> " + resp.Result()
		return ev
	case laneAI:
		return d.aiTurn(ctx, o)
	}
	o.Status, o.Err = store.OutFailed, "unknown lane "+o.Lane
	return nil
}

// MessageID is the id flowd gives the message of an outbox item: the same
// on every try, so that a receiver can drop a copy.
func MessageID(outboxID int64) string { return fmt.Sprintf("flowd-%d", outboxID) }

// MaxRetryAfter bounds how long a receiver's Retry-After holds a delivery
// back.
const MaxRetryAfter = 10 * time.Minute

// delivered records a delivery's try: done, to be tried again after a
// backoff, or given up. A run that waits for the delivery (send ... on
// failure, a sheet row it needs) gets the outcome.
func (d *Dispatcher) delivered(o *store.Outbound, err error) Event {
	if err == nil {
		o.Status, o.Err = store.OutDelivered, ""
		d.Engine.cfg.Meter.Carried(o.Lane, "delivered")
		if o.Seq == 0 {
			return nil
		}
		return Result{Contact: o.ContactID, Run: o.RunID, Input: interpreter.Delivery{Seq: o.Seq, OK: true}}
	}
	o.Err = err.Error()
	limit := d.MaxAttempts
	if limit == 0 {
		limit = DefaultMaxAttempts
	}
	var final interface{ Final() bool }
	if errors.As(err, &final) && final.Final() {
		limit = o.Attempts // trying again cannot help: a 4xx
	}
	if o.Attempts < limit {
		backoff := d.Backoff
		if backoff == nil {
			backoff = Backoff
		}
		wait := backoff(o.Attempts)
		if d.Jitter && wait > 1 {
			wait += rand.N(wait / 2) // receivers that failed together are not tried together
		}
		var later interface{ RetryAfter() time.Duration }
		if errors.As(err, &later) {
			wait = max(wait, min(later.RetryAfter(), MaxRetryAfter))
		}
		o.NextAt = d.Engine.cfg.Now().Add(wait)
		d.Engine.cfg.Meter.Carried(o.Lane, "retried")
		return nil
	}
	o.Status = store.OutFailed
	d.Engine.cfg.Meter.Carried(o.Lane, "failed")
	if o.Seq == 0 {
		return nil
	}
	return Result{Contact: o.ContactID, Run: o.RunID, Input: interpreter.Delivery{Seq: o.Seq, Err: o.Err}}
}
