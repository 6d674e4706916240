package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// An ai reply step hands the conversation to an AI agent until it has done
// what its instructions ask. The engine and the agent take turns: the step
// starts a turn, and so does each message of the contact while the run
// waits for AI; each turn's answer comes back as an AIAnswer event, whose
// reply goes to the contact as the flow's message and whose outcome, once
// there is one, resumes the run. The conversation is the contact's
// activity since the step began, read from the store: any process can take
// the next turn.

// An AIAgent takes one turn of an ai reply step's conversation.
type AIAgent interface {
	Turn(ctx context.Context, s AISession) (AITurn, error)
}

// An AISession is what a turn knows: the step's instructions, the values
// it is to collect, and the conversation so far.
type AISession struct {
	Contact      string
	Instructions string
	Save         []string
	History      []AIMessage // oldest first
}

// An AIMessage is one message of the conversation: the contact's, or the
// one the agent (or the flow) sent.
type AIMessage struct {
	FromContact bool
	Text        string
}

// An AITurn is the agent's answer: what to send the contact, if anything,
// and, once the conversation is over, the outcome (success, human, unable)
// and the values collected, by the names of Save.
type AITurn struct {
	Reply   string
	Outcome string
	Values  map[string]string
}

// AIAnswer is a turn's answer, for the run that waits for it at Seq (Run 0:
// the run that most recently began waiting for AI).
type AIAnswer struct {
	Contact string
	Run     int64
	Seq     uint32
	Turn    AITurn
}

func (e AIAnswer) contact() string { return e.Contact }

// aiOutcomes are the outcomes a turn may end the conversation with.
var aiOutcomes = map[string]bool{"success": true, "human": true, "unable": true, "failure": true}

// maxAIHistory bounds the messages a turn is given, the latest kept.
const maxAIHistory = 40

// laneAI's kinds: the step's first turn, and a contact's message.
const kindAIMessage = "ai_message"

// aiAnswer applies a turn's answer to the run waiting for it: its reply is
// sent as the run's message, and its outcome resumes the run. An answer
// naming no run (Run 0) is for the run that most recently began waiting
// for AI, whatever its seq: a test giving the outcome by hand.
func (t *turn) aiAnswer(a AIAnswer) error {
	r := t.runByID(a.Run)
	if a.Run == 0 {
		if r = t.latestWaiting(interpreter.WaitAI); r == nil {
			return errors.New("no run is waiting for AI")
		}
		a.Seq = r.cont.Seq
	}
	if r == nil || r.cont == nil || r.cont.Wait != interpreter.WaitAI || r.cont.Seq != a.Seq {
		return t.err // the run moved on: an answer too late
	}
	if text := interpreter.CleanText(a.Turn.Reply); text != "" {
		t.apply(r, &interpreter.SendMessage{Text: text})
	}
	if a.Turn.Outcome == "" {
		return t.err
	}
	if !aiOutcomes[a.Turn.Outcome] {
		t.queue = append(t.queue, pending{r, interpreter.AIOutcome{Seq: a.Seq, Outcome: "failure"}})
		t.note(r, KindError, fmt.Sprintf("ai: unknown outcome %q", a.Turn.Outcome), nil)
		return t.err
	}
	t.queue = append(t.queue, pending{r, interpreter.AIOutcome{Seq: a.Seq, Outcome: a.Turn.Outcome, Vars: a.Turn.Values}})
	return t.err
}

// aiMessage queues a turn for the contact's message to r's agent.
func (t *turn) aiMessage(r *liveRun) {
	b, err := json.Marshal(map[string]uint32{"seq": r.cont.Seq})
	if t.fail(err); err != nil {
		return
	}
	t.fail(t.tx.Enqueue(&store.Outbound{ContactID: t.c.ID, Lane: laneAI, Kind: kindAIMessage, RunID: r.rec.ID,
		Seq: r.cont.Seq, Payload: b, Status: store.OutPending, NextAt: t.now, Created: t.now}))
}

// aiSession reads a run's conversation with its agent from the contact's
// activity, back from its end: the contact's latest messages and those
// sent it (the context the step began in, then what was said since), at
// most maxAIHistory, and the instructions of the run's latest ai reply
// step. It reads no further back than that step and a page before it.
func (e *Engine) aiSession(ctx context.Context, contactID string, runID int64) (AISession, error) {
	s := AISession{Contact: contactID}
	var found bool
	err := e.inTx(ctx, func(tx store.Tx) error {
		var before int64
		// once the step is found, one page more at most, for the context
		for pagesAfter := 0; !found || (len(s.History) < maxAIHistory && pagesAfter < 1); {
			if found {
				pagesAfter++
			}
			page, err := tx.ActivityBefore(contactID, before, 200)
			if err != nil {
				return err
			}
			for _, a := range page {
				before = a.ID
				switch {
				case !found && a.RunID == runID && a.Kind == KindStep && strings.HasPrefix(a.Text, "ai reply "):
					var req interpreter.AIReply
					if err := json.Unmarshal(a.Data, &req); err != nil {
						return fmt.Errorf("ai reply of run %d: %w", runID, err)
					}
					s.Instructions, s.Save, found = req.Instructions, req.Save, true
				case (a.Kind == KindMessageIn || a.Kind == KindMessageOut) && len(s.History) < maxAIHistory:
					s.History = append(s.History, AIMessage{FromContact: a.Kind == KindMessageIn, Text: a.Text})
				}
			}
			if len(page) < 200 {
				break
			}
		}
		if !found {
			return fmt.Errorf("run %d has no ai reply step in the activity", runID)
		}
		slices.Reverse(s.History) // oldest first
		return nil
	})
	return s, err
}

// aiTurn takes a turn of the run's conversation: its answer, or, when the
// agent fails for good, the failure outcome.
func (d *Dispatcher) aiTurn(ctx context.Context, o *store.Outbound) Event {
	fail := func(err error) Event {
		o.Status, o.Err = store.OutFailed, err.Error()
		return AIAnswer{Contact: o.ContactID, Run: o.RunID, Seq: o.Seq, Turn: AITurn{Outcome: "failure"}}
	}
	if d.AI == nil {
		return fail(fmt.Errorf("no AI agent is configured"))
	}
	s, err := d.Engine.aiSession(ctx, o.ContactID, o.RunID)
	if err != nil {
		return fail(err)
	}
	turn, err := d.AI.Turn(ctx, s)
	if err != nil {
		d.delivered(o, err) // tried again after a backoff, or given up
		if o.Status == store.OutFailed {
			return fail(err)
		}
		return nil
	}
	o.Status, o.Err = store.OutDelivered, ""
	if turn.Reply == "" && turn.Outcome == "" {
		return nil
	}
	return AIAnswer{Contact: o.ContactID, Run: o.RunID, Seq: o.Seq, Turn: turn}
}
