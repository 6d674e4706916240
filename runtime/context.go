package runtime

import (
	"context"
	"strings"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// context is what r's sprint reads: the contact, conversation and assignee
// as the turn has them now, built afresh, since a sprint's effects change
// them for the next.
func (t *turn) context(r *liveRun) *interpreter.Context {
	return &interpreter.Context{
		Contact:       t.contactValues(r.prog),
		Conversation:  t.conversationValues(),
		Assignee:      t.assigneeValues(),
		Trigger:       r.trigger,
		Now:           t.now,
		Location:      t.e.cfg.Location,
		BusinessHours: t.e.cfg.BusinessHours,
	}
}

// Namespaces are the contact, conversation and assignee of a contact as a
// run of p would read them now: what a flow test asserts on.
func (e *Engine) Namespaces(ctx context.Context, contactID string, p *interpreter.Program) (contact, conversation, assignee map[string]any, err error) {
	err = e.inTx(ctx, func(tx store.Tx) error {
		t, err := e.newTurn(tx, contactID, nil)
		if err != nil {
			return err
		}
		contact, conversation, assignee = t.contactValues(p), t.conversationValues(), t.assigneeValues()
		return nil
	})
	return contact, conversation, assignee, err
}

// contactValues is the contact namespace: its fields, typed as p declares
// them, its id, tags and last channel.
func (t *turn) contactValues(p *interpreter.Program) map[string]any {
	m := make(map[string]any, len(t.c.Fields)+3)
	for k, v := range t.c.Fields {
		if s, ok := v.(string); ok {
			m[k] = interpreter.FieldValue(p.FieldTypes[k], s)
		} else {
			m[k] = v
		}
	}
	m["id"] = t.c.ID
	m["tags"] = t.c.Tags
	if t.c.Channel != "" {
		m["channel"] = t.c.Channel
	}
	return m
}

// conversationValues is the conversation namespace: the open conversation,
// or the one that closed last.
func (t *turn) conversationValues() map[string]any {
	c := t.conv
	if c == nil {
		return map[string]any{"open": false, "previous": 0}
	}
	m := map[string]any{"open": c.Open, "previous": c.Number - 1, "source": c.OpenedBy}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("last_incoming", c.LastIncoming)
	put("last_outgoing", c.LastOutgoing)
	put("last_outgoing_source", c.LastOutgoingSource)
	if !c.LastIncomingAt.IsZero() {
		m["last_incoming_at"] = c.LastIncomingAt
	}
	if !c.LastOutgoingAt.IsZero() {
		m["last_outgoing_at"] = c.LastOutgoingAt
	}
	return m
}

// aiPrefix marks an assignee that is an AI agent, not a user.
const aiPrefix = "ai:"

// assigneeValues is the assignee namespace: empty when unassigned.
func (t *turn) assigneeValues() map[string]any {
	if t.conv == nil || t.conv.Assignee == "" {
		return nil
	}
	if name, ok := strings.CutPrefix(t.conv.Assignee, aiPrefix); ok {
		return interpreter.Agent{ID: name, Name: name, Status: "online"}.Values()
	}
	u := t.user(t.conv.Assignee)
	if u == nil {
		return interpreter.Agent{ID: t.conv.Assignee, Team: t.conv.Team}.Values()
	}
	return agentOf(u, t.conv.Team).Values()
}

// user is the workspace user with the id, read once a turn, or nil.
func (t *turn) user(id string) *store.User {
	if u, ok := t.users[id]; ok {
		return u
	}
	u, err := t.tx.User(id)
	if err != nil {
		u = nil
	}
	t.users[id] = u
	return u
}

// agentOf is a user as assignee.* reads it, with the team of the
// assignment.
func agentOf(u *store.User, team string) interpreter.Agent {
	first, last, _ := strings.Cut(u.Name, " ")
	return interpreter.Agent{ID: u.ID, Name: u.Name, FirstName: first, LastName: last, Email: u.Email,
		Status: u.Status, Team: team}
}
