package sandbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// What the REPL asks of a World beyond what a flow test does: to look at
// the runs, hold and answer http steps, replace the flows.

// Now is the world's clock.
func (w *World) Now() time.Time { return w.clock.Now() }

// NextTimer is when the next timer falls due; a time before Now is one
// the next Advance fires.
func (w *World) NextTimer() (time.Time, bool, error) { return w.e.NextTimer(w.ctx) }

// SetFlows makes flows the engine's current versions (the REPL's :reload);
// a waiting run keeps the version it paused in.
func (w *World) SetFlows(flows []runtime.Flow) error { return w.e.Replace(w.ctx, flows) }

// SetLiveHTTP makes the http steps no stub matches call the real URL with
// c (nil: they do not).
func (w *World) SetLiveHTTP(c *runtime.HTTPClient) { w.http.live = c }

// SetHoldHTTP makes the http steps no stub or live call answers wait for
// AnswerHTTP instead of failing.
func (w *World) SetHoldHTTP(hold bool) { w.http.hold = hold }

// Stubs are the stubs added so far, in order.
func (w *World) Stubs() []*Stub { return w.http.stubs }

// Exchanges are the http steps answered so far, with their answers.
func (w *World) Exchanges() []Exchange { return w.http.exchanges }

// Agents is what agents lines last said: online, offline or none.
func (w *World) Agents() string {
	switch {
	case w.agents.none:
		return "none"
	case w.agents.status == "offline":
		return "offline"
	}
	return "online"
}

// DeliveriesFail reports whether deliveries of steps with on failure fail.
func (w *World) DeliveriesFail() bool { return w.channel.fail }

// HeldHTTP are the held requests whose runs still wait for them, oldest
// first.
func (w *World) HeldHTTP() ([]*HeldRequest, error) {
	waiting := map[int64]uint32{}
	err := w.read1(func(tx store.Tx) error {
		runs, err := tx.ActiveRuns(ContactID)
		for _, r := range runs {
			if r.Wait == interpreter.WaitHTTP.String() {
				waiting[r.ID] = r.WaitSeq
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	kept := w.http.held[:0]
	for _, h := range w.http.held {
		if seq, ok := waiting[h.RunID]; ok && seq == h.Request.Seq {
			kept = append(kept, h)
		}
	}
	w.http.held = kept
	return append([]*HeldRequest(nil), kept...), nil
}

// AnswerHTTP answers a held request as a server would have (see
// interpreter.HTTPRequest.Answer; a status of 0 is no response, with
// resp.Err), and runs the flow on from there.
func (w *World) AnswerHTTP(h *HeldRequest, resp interpreter.HTTPResponse) error {
	held, err := w.HeldHTTP()
	if err != nil {
		return err
	}
	for i, x := range held {
		if x != h {
			continue
		}
		w.http.held = append(w.http.held[:i], w.http.held[i+1:]...)
		if resp.Status != 0 {
			resp = h.Request.Answer(resp.Status, resp.Redirects, resp.Body)
		}
		resp.Seq = h.Request.Seq
		w.http.exchanges = append(w.http.exchanges, Exchange{Request: h.Request, Response: resp})
		return w.handle(runtime.Result{Contact: ContactID, Run: h.RunID, Input: resp, Note: "http -> " + resp.Result()})
	}
	return errors.New("the request is no longer held")
}

// A RunInfo is one of the contact's runs, as the REPL shows it.
type RunInfo struct {
	ID      int64
	Flow    string
	Program *interpreter.Program // the version it runs; nil when it cannot be had
	Hash    string
	Status  string
	Err     string
	Wait    string
	Seq     uint32
	Cont    []byte         // while it waits
	Vars    map[string]any // where it waits or ended
}

// Runs are the contact's runs, oldest first.
func (w *World) Runs() ([]RunInfo, error) {
	var recs []*store.Run
	err := w.runs(0, func(r *store.Run) bool { recs = append(recs, r); return true })
	if err != nil {
		return nil, err
	}
	out := make([]RunInfo, 0, len(recs))
	for _, r := range recs {
		info := RunInfo{ID: r.ID, Flow: r.Flow, Hash: r.Program, Status: r.Status, Err: r.Err, Wait: r.Wait,
			Seq: r.WaitSeq, Cont: r.Cont}
		info.Program, _ = w.e.Program(w.ctx, r.Program)
		info.Vars, _ = runtime.RunVars(r)
		out = append(out, info)
	}
	return out, nil
}

// StopAll stops every waiting run of the contact, by hand.
func (w *World) StopAll() error {
	var ids []int64
	err := w.read1(func(tx store.Tx) error {
		runs, err := tx.ActiveRuns(ContactID)
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		return err
	})
	for _, id := range ids {
		err = errors.Join(err, w.handle(runtime.StopRun{Contact: ContactID, Run: id}))
	}
	return err
}

// WaitingFor reports whether a run of the contact waits for kind.
func (w *World) WaitingFor(kind interpreter.WaitKind) (bool, error) {
	found := false
	err := w.read1(func(tx store.Tx) error {
		runs, err := tx.ActiveRuns(ContactID)
		for _, r := range runs {
			found = found || r.Wait == kind.String()
		}
		return err
	})
	return found, err
}

// Unset clears a contact field. The conversation and the assignee are the
// engine's, which a test sets but does not unset.
func (w *World) Unset(namespace, name string) error {
	if err := w.ready(); err != nil {
		return err
	}
	if namespace != "contact" {
		return fmt.Errorf("%s.%s: only contact fields can be unset", namespace, name)
	}
	return w.handle(runtime.Seed{Contact: ContactID, Fields: map[string]any{name: nil}})
}
