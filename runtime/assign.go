package runtime

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// assign carries out an assign step: the conversation goes to an eligible
// user now, or the request waits, queued, until one is (a user comes online,
// a conversation closes and frees a slot) or the step's timeout withdraws it.
func (t *turn) assign(r *liveRun, a *interpreter.Assign) {
	u, err := t.pick(a)
	if t.fail(err); err != nil {
		return
	}
	if u != nil {
		t.assignTo(r, a, u)
		return
	}
	t.enqueueAssign(r, a)
}

func (t *turn) enqueueAssign(r *liveRun, a *interpreter.Assign) {
	b, err := json.Marshal(a)
	if t.fail(err); err != nil {
		return
	}
	t.fail(t.tx.Enqueue(&store.Outbound{ContactID: t.c.ID, Lane: laneAssign, Kind: a.Type(), RunID: r.rec.ID, Seq: a.Seq,
		Payload: b, Status: store.OutQueued, NextAt: t.now, Created: t.now}))
	t.note(r, KindAssign, "queued: no agent available", nil)
}

// assignTo gives the conversation to u, opening one if none is open, and
// answers the run's assign step.
func (t *turn) assignTo(r *liveRun, a *interpreter.Assign, u *store.User) {
	if t.open("flow") {
		t.fireOpened("flow", true)
	}
	team := ""
	if a.Kind == "team" {
		team = a.Target
	}
	t.conv.Assignee, t.conv.Team, t.convDirty = u.ID, team, true
	// after every assignment before it, whatever the clocks of the
	// transactions and processes that made them: round robin's order
	u.LastAssigned = t.now
	if !t.lastAssigned.Before(u.LastAssigned) {
		u.LastAssigned = t.lastAssigned.Add(time.Microsecond)
	}
	t.fail(t.tx.SaveUser(*u))
	t.users[u.ID] = u
	t.note(r, KindAssign, fmt.Sprintf("assigned %q", u.Email), nil)
	t.queue = append(t.queue, pending{r, interpreter.AssignResult{Seq: a.Seq, User: agentOf(u, team)}})
}

// pick chooses who an assign step gets, or nil when no one is eligible:
// the users it names (a user by id, email or name; a team's members; the
// workspace), less those offline when it wants online only and those at
// its max open; then the one with fewest open conversations (least open)
// or the one whose last assignment is oldest (round robin, the default).
func (t *turn) pick(a *interpreter.Assign) (*store.User, error) {
	if err := t.tx.LockAssignment(); err != nil {
		return nil, err
	}
	if d := t.e.cfg.Directory; d != nil {
		if err := seedUsers(t.tx, d.Named(a), false); err != nil {
			return nil, err
		}
	}
	users, err := t.tx.Users()
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.LastAssigned.After(t.lastAssigned) {
			t.lastAssigned = u.LastAssigned
		}
	}
	counts, err := t.tx.OpenCounts()
	if err != nil {
		return nil, err
	}
	var best *store.User
	better := func(u *store.User) bool {
		if best == nil {
			return true
		}
		if a.Logic == "least open" && counts[u.ID] != counts[best.ID] {
			return counts[u.ID] < counts[best.ID]
		}
		return u.LastAssigned.Before(best.LastAssigned)
	}
	for i := range users {
		u := &users[i]
		switch {
		case !targets(a, u):
		case a.OnlineOnly && u.Status != "online":
		case a.MaxOpen > 0 && counts[u.ID] >= a.MaxOpen:
		case better(u):
			best = u
		}
	}
	return best, nil
}

// targets reports whether the assign step's target takes in u.
func targets(a *interpreter.Assign, u *store.User) bool {
	switch a.Kind {
	case "user":
		return u.ID == a.Target || strings.EqualFold(u.Email, a.Target) || u.Name == a.Target
	case "team":
		for _, team := range u.Teams {
			if strings.EqualFold(team, a.Target) {
				return true
			}
		}
		return false
	}
	return true
}

// retryAssign tries a queued assignment again; it is dropped when its run no
// longer waits for it.
func (t *turn) retryAssign(o store.Outbound) {
	r := t.runByID(o.RunID)
	if r == nil || r.cont == nil || r.cont.Wait != interpreter.WaitAssign || r.cont.Seq != o.Seq {
		o.Status = store.OutWithdrawn
		t.fail(t.tx.UpdateOutbound(&o))
		return
	}
	var a interpreter.Assign
	if err := json.Unmarshal(o.Payload, &a); err != nil {
		t.fail(fmt.Errorf("queued assignment %d: %w", o.ID, err))
		return
	}
	u, err := t.pick(&a)
	if t.fail(err); err != nil || u == nil {
		return
	}
	o.Status, o.Attempts = store.OutDelivered, o.Attempts+1
	t.fail(t.tx.UpdateOutbound(&o))
	t.assignTo(r, &a, u)
}
