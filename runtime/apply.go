package runtime

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// An OutMessage is the outbox's form of a message to a contact: the
// channel it goes on and what the flow sent.
type OutMessage struct {
	Channel string                   `json:"channel"`
	Message *interpreter.SendMessage `json:"message"`
	// To is where the channel reaches the contact, when a channel ever
	// named it: a channel's own contact id.
	To *store.Address `json:"to,omitempty"`
}

// apply carries out one effect of r's sprint.
func (t *turn) apply(r *liveRun, e interpreter.Effect) {
	switch e := e.(type) {
	case *interpreter.SendMessage:
		channel := e.Channel
		if channel == "" {
			channel = t.c.Channel
		}
		payload := t.enqueue(r, laneMessage, e, e.Seq, OutMessage{Channel: channel, Message: e, To: t.address(channel)})
		t.note(r, KindMessageOut, e.Text, payload)
		if c := t.conv; c != nil && c.Open {
			c.LastOutgoing, c.LastOutgoingAt, c.LastOutgoingSource = e.Text, t.now, "flow"
			t.convTouched = true
		}
	case *interpreter.StartTimer:
		t.timer(r, store.TimerRun, e.Seq, t.now.Add(e.After))
	case *interpreter.CancelTimer:
		t.fail(t.tx.DeleteRunTimers(r.rec.ID, e.Seq))
	case *interpreter.AddTags:
		t.note(r, KindTag, "tag add "+quoteAll(e.Tags), nil)
		t.addTags(e.Tags, true)
	case *interpreter.RemoveTags:
		t.note(r, KindTag, "tag remove "+quoteAll(e.Tags), nil)
		t.removeTags(e.Tags, true)
	case *interpreter.SetField:
		t.note(r, KindField, fmt.Sprintf("set contact.%s = %q", e.Field, e.Value), nil)
		t.setField(e.Field, e.Value, true)
	case *interpreter.ClearField:
		t.note(r, KindField, "clear contact."+e.Field, nil)
		t.clearField(e.Field, true)
	case *interpreter.Assign:
		t.note(r, KindAssign, DescribeAssign(e), nil)
		t.assign(r, e)
	case *interpreter.CancelAssign:
		t.fail(t.tx.WithdrawOutbound(r.rec.ID, laneAssign))
	case *interpreter.Unassign:
		t.note(r, KindAssign, "unassign", nil)
		if c := t.conv; c != nil && c.Assignee != "" {
			c.Assignee, c.Team, t.convDirty, t.freed = "", "", true, true
		}
	case *interpreter.OpenConversation:
		t.note(r, KindConversation, "open conversation", nil)
		if t.open("flow") {
			t.fireOpened("flow", true)
		}
	case *interpreter.CloseConversation:
		line := "close conversation"
		if e.Category != "" {
			line += fmt.Sprintf(" category %q", e.Category)
		}
		if e.Summary != "" {
			line += fmt.Sprintf(" summary %q", e.Summary)
		}
		t.note(r, KindConversation, line, nil)
		t.close("flow", e.Category, e.Summary, true)
	case *interpreter.AddComment:
		t.note(r, KindStep, fmt.Sprintf("comment %q", e.Text), nil)
	case *interpreter.StartFlow:
		t.startFlow(r, e.Flow)
	case *interpreter.HTTPRequest:
		r.httpWait = e.Timeout
		t.enqueue(r, laneHTTP, e, e.Seq, e)
		t.note(r, KindStep, "http "+e.Describe(), nil) // secrets masked: the outbox alone keeps them
	case *interpreter.SheetRow:
		var cols []string
		for _, c := range e.Columns {
			cols = append(cols, fmt.Sprintf("%q: %q", c[0], c[1]))
		}
		line := fmt.Sprintf("sheet %q", e.Spreadsheet)
		if e.Tab != "" {
			line += fmt.Sprintf(" tab %q", e.Tab)
		}
		t.enqueue(r, laneSheet, e, e.Seq, e)
		t.note(r, KindStep, line+" {"+strings.Join(cols, ", ")+"}", nil)
	case *interpreter.AIReply:
		payload := t.enqueue(r, laneAI, e, e.Seq, e)                             // its first turn
		t.note(r, KindStep, fmt.Sprintf("ai reply %q", e.Instructions), payload) // where its conversation begins
	case *interpreter.StopAI:
		t.fail(t.tx.WithdrawOutbound(r.rec.ID, laneAI))
	case *interpreter.AIHandoff:
		t.note(r, KindStep, fmt.Sprintf("ai handoff %q", e.Agent), nil)
		if t.conv != nil && t.conv.Open {
			t.conv.Assignee, t.conv.Team, t.convDirty = aiPrefix+e.Agent, "", true
		}
	default:
		t.fail(fmt.Errorf("effect %s: not applied by this engine", e.Type()))
	}
}

// enqueue queues outbound work for r and returns its JSON.
func (t *turn) enqueue(r *liveRun, lane string, e interpreter.Effect, seq uint32, payload any) []byte {
	b, err := json.Marshal(payload)
	if t.fail(err); err != nil {
		return nil
	}
	t.fail(t.tx.Enqueue(&store.Outbound{ContactID: t.c.ID, Lane: lane, Kind: e.Type(), RunID: r.rec.ID, Seq: seq,
		Payload: b, Status: store.OutPending, NextAt: t.now, Created: t.now}))
	return b
}

// addTags adds tags to the contact and fires tag added for each it lacked.
func (t *turn) addTags(tags []string, byFlow bool) {
	for _, tag := range tags {
		if containsTag(t.c.Tags, tag) {
			continue
		}
		t.c.Tags = interpreter.WithTags(t.c.Tags, []string{tag})
		t.contactDirty = true
		t.fire(Firing{Event: interpreter.EventTagAdded, Tag: tag}, map[string]any{"tag": tag}, byFlow)
	}
}

func (t *turn) removeTags(tags []string, byFlow bool) {
	for _, tag := range tags {
		if !containsTag(t.c.Tags, tag) {
			continue
		}
		t.c.Tags = interpreter.WithoutTags(t.c.Tags, []string{tag})
		t.contactDirty = true
		t.fire(Firing{Event: interpreter.EventTagRemoved, Tag: tag}, map[string]any{"tag": tag}, byFlow)
	}
}

func containsTag(tags []string, tag string) bool {
	for _, x := range tags {
		if x == tag {
			return true
		}
	}
	return false
}

// setField writes a contact field, as text, and fires field changed when
// its value changed.
func (t *turn) setField(field, value string, byFlow bool) {
	old, had := t.c.Fields[field]
	if had && old == value {
		return
	}
	t.c.Fields[field] = value
	t.contactDirty = true
	t.fire(Firing{Event: interpreter.EventFieldChanged, Field: field},
		map[string]any{"field": field, "old": old, "new": value}, byFlow)
}

func (t *turn) clearField(field string, byFlow bool) {
	old, had := t.c.Fields[field]
	if !had {
		return
	}
	delete(t.c.Fields, field)
	t.contactDirty = true
	t.fire(Firing{Event: interpreter.EventFieldChanged, Field: field},
		map[string]any{"field": field, "old": old, "new": nil}, byFlow)
}

// startFlow carries out a start step: the flow starts now, before the rest
// of r's effects, unless it is a draft or already running.
func (t *turn) startFlow(r *liveRun, name string) {
	t.note(r, KindFlow, fmt.Sprintf("start %q", name), nil)
	p := t.e.byName[name]
	switch {
	case p == nil:
		t.note(r, KindError, fmt.Sprintf("failed: no flow is named %q", name), nil)
		return
	case p.Draft:
		t.note(r, KindFlow, fmt.Sprintf("not started: %q is a draft", name), nil)
		return
	case t.active(name): // this run's own flow, or one that started it
		t.note(r, KindFlow, fmt.Sprintf("not started: %q is already running", name), nil)
		return
	}
	if err := t.budget.Start(name); err != nil {
		t.note(r, KindFlow, "not started: "+err.Error(), nil)
		return
	}
	t.enrol(p, map[string]any{"type": interpreter.EventManual, "parent": r.rec.Flow}, false, r, "")
}

// DescribeAssign writes an assign effect as the activity shows it.
func DescribeAssign(a *interpreter.Assign) string {
	var opts []string
	if a.Logic != "" {
		opts = append(opts, a.Logic)
	}
	if a.OnlineOnly {
		opts = append(opts, "online only")
	}
	if a.MaxOpen > 0 {
		opts = append(opts, "max open "+strconv.Itoa(a.MaxOpen))
	}
	if a.Kind == "workspace" {
		return strings.TrimSpace("assign workspace " + strings.Join(opts, " "))
	}
	return strings.TrimSpace(fmt.Sprintf("assign %s %q %s", a.Kind, a.Target, strings.Join(opts, " ")))
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// address is where the contact is reached on the named channel: the
// address the event came from, or the newest a channel of that name gave
// it (any channel's when none of that name did); nil when no channel ever
// named the contact (a simulation, an imported contact).
func (t *turn) address(channel string) *store.Address {
	if t.addr != nil && t.addr.Channel == channel {
		return t.addr
	}
	if t.addrs == nil {
		addrs, err := t.tx.Addresses(t.c.ID)
		if t.fail(err); err != nil {
			return nil
		}
		t.addrs = append(addrs, store.Address{}) // read: not again
	}
	addrs := t.addrs[:len(t.addrs)-1]
	if len(addrs) == 0 {
		return t.addr
	}
	for i := range addrs {
		if addrs[i].Channel == channel {
			return &addrs[i]
		}
	}
	return &addrs[0]
}
