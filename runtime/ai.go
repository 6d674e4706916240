package runtime

import (
	"context"
	"encoding/json"
	"fmt"
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

// AIAnswer is a turn's answer, for the run that waits for it at Seq.
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
// sent as the run's message, and its outcome resumes the run.
func (t *turn) aiAnswer(a AIAnswer) {
	r := t.runByID(a.Run)
	if r == nil || r.cont == nil || r.cont.Wait != interpreter.WaitAI || r.cont.Seq != a.Seq {
		return // the run moved on: an answer too late
	}
	if text := interpreter.CleanText(a.Turn.Reply); text != "" {
		t.apply(r, &interpreter.SendMessage{Text: text})
	}
	if a.Turn.Outcome == "" {
		return
	}
	if !aiOutcomes[a.Turn.Outcome] {
		t.queue = append(t.queue, pending{r, interpreter.AIOutcome{Seq: a.Seq, Outcome: "failure"}})
		t.note(r, KindError, fmt.Sprintf("ai: unknown outcome %q", a.Turn.Outcome), nil)
		return
	}
	t.queue = append(t.queue, pending{r, interpreter.AIOutcome{Seq: a.Seq, Outcome: a.Turn.Outcome, Vars: a.Turn.Values}})
}

// aiWaiting is the run that most recently began waiting for AI, or nil:
// the contact's message is for its agent.
func (t *turn) aiWaiting() *liveRun {
	var target *liveRun
	for _, r := range t.runs {
		if r.ended || r.busy || r.cont == nil || r.cont.Wait != interpreter.WaitAI {
			continue
		}
		if target == nil || !r.rec.Updated.Before(target.rec.Updated) {
			target = r
		}
	}
	return target
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
// activity: the instructions of the run's latest ai reply step, and the
// contact's latest messages and those sent it (the context the step began
// in, then what was said since), at most maxAIHistory.
func (e *Engine) aiSession(ctx context.Context, contactID string, runID int64) (AISession, error) {
	s := AISession{Contact: contactID}
	err := e.inTx(ctx, func(tx store.Tx) error {
		var after int64
		var acts []store.Activity
		for {
			page, err := tx.Activity(contactID, after, 1000)
			if err != nil {
				return err
			}
			for _, a := range page {
				after = a.ID
				if a.RunID == runID && a.Kind == KindStep && strings.HasPrefix(a.Text, "ai reply ") {
					var req interpreter.AIReply
					if err := json.Unmarshal(a.Data, &req); err != nil {
						return fmt.Errorf("ai reply of run %d: %w", runID, err)
					}
					s.Instructions, s.Save = req.Instructions, req.Save
					continue
				}
				if a.Kind == KindMessageIn || a.Kind == KindMessageOut {
					acts = append(acts, a)
					if len(acts) > 2*maxAIHistory {
						acts = append(acts[:0], acts[len(acts)-maxAIHistory:]...)
					}
				}
			}
			if len(page) < 1000 {
				break
			}
		}
		if s.Instructions == "" {
			return fmt.Errorf("run %d has no ai reply step in the activity", runID)
		}
		if len(acts) > maxAIHistory {
			acts = acts[len(acts)-maxAIHistory:]
		}
		for _, a := range acts {
			s.History = append(s.History, AIMessage{FromContact: a.Kind == KindMessageIn, Text: a.Text})
		}
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
