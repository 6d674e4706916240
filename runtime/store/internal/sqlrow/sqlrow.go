// Package sqlrow is what the SQL backends share below their SQL: how a
// record's columns are encoded (times as Unix nanoseconds, lists and maps
// as JSON text) and scanned back. Each backend keeps its own statements.
package sqlrow

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/flowd/flowd/runtime/store"
)

// The columns the scanners below read, in their order, for the backends'
// statements.
const (
	ConversationCols = `id, contact_id, number, open, opened_by, opened_at, closed_by, closed_at, category, summary, assignee, team,
		last_incoming, last_incoming_at, last_outgoing, last_outgoing_at, last_outgoing_source, held`
	// ConversationColsOf are ConversationCols of a conversation v left
	// joined: zeros when there is none
	ConversationColsOf = `coalesce(v.id, 0), coalesce(v.contact_id, ''), coalesce(v.number, 0), coalesce(v.open, 0),
		coalesce(v.opened_by, ''), coalesce(v.opened_at, 0), coalesce(v.closed_by, ''), coalesce(v.closed_at, 0),
		coalesce(v.category, ''), coalesce(v.summary, ''), coalesce(v.assignee, ''), coalesce(v.team, ''),
		coalesce(v.last_incoming, ''), coalesce(v.last_incoming_at, 0), coalesce(v.last_outgoing, ''),
		coalesce(v.last_outgoing_at, 0), coalesce(v.last_outgoing_source, ''), coalesce(v.held, '')`
	UserCols     = `id, name, email, teams, status, last_assigned`
	RunCols      = `id, contact_id, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq`
	ActivityCols = `id, contact_id, at, kind, flow, run_id, text, data`
	TimerCols    = `id, contact_id, kind, run_id, seq, at`
	// OutboxCols are an outbox item o's
	OutboxCols = `o.id, o.contact_id, o.lane, o.kind, o.run_id, o.seq, o.payload, o.status, o.attempts, o.next_at, o.err, o.created`
)

// SavepointName is what a savepoint's name may be: an identifier, never
// SQL of its own.
var SavepointName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,30}$`)

// Nanos is a time as stored: Unix nanoseconds, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos is the time Nanos stored.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// JSONText is v as JSON text.
func JSONText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// OrEmpty is xs, or an empty list for nil: stored as [], not null.
func OrEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// NotFound turns sql.ErrNoRows into store.ErrNotFound.
func NotFound(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// A Scanner is a row, or one of rows.
type Scanner interface{ Scan(...any) error }

// Collect reads every row of a query with scan.
func Collect[T any](rows *sql.Rows, err error, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ContactArgs are a contact's stored columns after its id: fields, tags,
// channel, channels, created.
func ContactArgs(c *store.Contact) ([]any, error) {
	fields, err1 := JSONText(c.Fields)
	tags, err2 := JSONText(OrEmpty(c.Tags))
	channels, err3 := JSONText(OrEmpty(c.Channels))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("contact %s: %w", c.ID, err)
	}
	return []any{fields, tags, c.Channel, channels, Nanos(c.Created)}, nil
}

// contactDests are the scan targets of a contact's columns (id, fields,
// tags, channel, channels, created), and what turns them into c once
// scanned.
func contactDests(c *store.Contact) ([]any, func() error) {
	var fields, tags, channels string
	var created int64
	return []any{&c.ID, &fields, &tags, &c.Channel, &channels, &created}, func() error {
		if err := errors.Join(json.Unmarshal([]byte(fields), &c.Fields), json.Unmarshal([]byte(tags), &c.Tags),
			json.Unmarshal([]byte(channels), &c.Channels)); err != nil {
			return fmt.Errorf("contact %s: %w", c.ID, err)
		}
		if c.Fields == nil {
			c.Fields = map[string]any{}
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		c.Created = FromNanos(created)
		return nil
	}
}

// ConversationArgs are a conversation's stored columns after its id and
// number: contact_id, open, opened_by, opened_at, closed_by, closed_at,
// category, summary, assignee, team, last_incoming, last_incoming_at,
// last_outgoing, last_outgoing_at, last_outgoing_source, held.
func ConversationArgs(c *store.Conversation) ([]any, error) {
	open := 0
	if c.Open {
		open = 1
	}
	held, err := JSONText(OrEmpty(c.Held))
	if err != nil {
		return nil, err
	}
	return []any{c.ContactID, open, c.OpenedBy, Nanos(c.OpenedAt), c.ClosedBy, Nanos(c.ClosedAt), c.Category, c.Summary,
		c.Assignee, c.Team, c.LastIncoming, Nanos(c.LastIncomingAt), c.LastOutgoing, Nanos(c.LastOutgoingAt), c.LastOutgoingSource, held}, nil
}

// conversationDests are the scan targets of a conversation's columns (id,
// number, then as ConversationArgs), and what turns them into c.
func conversationDests(c *store.Conversation) ([]any, func() error) {
	var open int
	var opened, closed, in, out int64
	var held string
	dests := []any{&c.ID, &c.ContactID, &c.Number, &open, &c.OpenedBy, &opened, &c.ClosedBy, &closed, &c.Category, &c.Summary,
		&c.Assignee, &c.Team, &c.LastIncoming, &in, &c.LastOutgoing, &out, &c.LastOutgoingSource, &held}
	return dests, func() error {
		c.Open = open == 1
		c.OpenedAt, c.ClosedAt, c.LastIncomingAt, c.LastOutgoingAt = FromNanos(opened), FromNanos(closed), FromNanos(in), FromNanos(out)
		if held == "[]" || held == "" {
			return nil // none reads back as nil
		}
		if err := json.Unmarshal([]byte(held), &c.Held); err != nil {
			return fmt.Errorf("conversation %d: %w", c.ID, err)
		}
		return nil
	}
}

// ScanConversation scans a conversation's columns.
func ScanConversation(row Scanner) (*store.Conversation, error) {
	c := &store.Conversation{}
	dests, finish := conversationDests(c)
	if err := row.Scan(dests...); err != nil {
		return nil, err
	}
	return c, finish()
}

// ScanUser scans a user's columns: id, name, email, teams, status,
// last_assigned.
func ScanUser(row Scanner) (store.User, error) {
	var u store.User
	var teams string
	var last int64
	if err := row.Scan(&u.ID, &u.Name, &u.Email, &teams, &u.Status, &last); err != nil {
		return u, err
	}
	u.LastAssigned = FromNanos(last)
	if err := json.Unmarshal([]byte(teams), &u.Teams); err != nil {
		return u, fmt.Errorf("user %s: %w", u.ID, err)
	}
	return u, nil
}

// UserArgs are a user's columns, as ScanUser scans them.
func UserArgs(u store.User) ([]any, error) {
	teams, err := JSONText(OrEmpty(u.Teams))
	return []any{u.ID, u.Name, u.Email, teams, u.Status, Nanos(u.LastAssigned)}, err
}

// ScanRun scans a run's columns: id, contact_id, flow, program, status,
// cont, vars, wait, wait_seq, deadline, trigger, parent, err, started,
// updated, seq.
func ScanRun(row Scanner) (*store.Run, error) {
	r := &store.Run{}
	var deadline, started, updated int64
	err := row.Scan(&r.ID, &r.ContactID, &r.Flow, &r.Program, &r.Status, &r.Cont, &r.Vars, &r.Wait, &r.WaitSeq, &deadline,
		&r.Trigger, &r.Parent, &r.Err, &started, &updated, &r.Seq)
	if err != nil {
		return nil, err
	}
	r.Deadline, r.Started, r.Updated = FromNanos(deadline), FromNanos(started), FromNanos(updated)
	return r, nil
}

// ScanActivity scans an activity entry's columns: id, contact_id, at,
// kind, flow, run_id, text, data.
func ScanActivity(row Scanner) (store.Activity, error) {
	var a store.Activity
	var at int64
	err := row.Scan(&a.ID, &a.ContactID, &at, &a.Kind, &a.Flow, &a.RunID, &a.Text, &a.Data)
	a.At = FromNanos(at)
	return a, err
}

// ScanTimer scans a timer's columns: id, contact_id, kind, run_id, seq,
// at.
func ScanTimer(row Scanner) (store.Timer, error) {
	var tm store.Timer
	var at int64
	err := row.Scan(&tm.ID, &tm.ContactID, &tm.Kind, &tm.RunID, &tm.Seq, &at)
	tm.At = FromNanos(at)
	return tm, err
}

// ScanOutbound scans an outbox item's columns: id, contact_id, lane, kind,
// run_id, seq, payload, status, attempts, next_at, err, created.
func ScanOutbound(row Scanner) (store.Outbound, error) {
	var o store.Outbound
	var next, created int64
	err := row.Scan(&o.ID, &o.ContactID, &o.Lane, &o.Kind, &o.RunID, &o.Seq, &o.Payload, &o.Status, &o.Attempts,
		&next, &o.Err, &created)
	o.NextAt, o.Created = FromNanos(next), FromNanos(created)
	return o, err
}

// ScanAddress scans an address's columns: channel_id, channel,
// external_id, contact_id.
func ScanAddress(row Scanner) (store.Address, error) {
	var a store.Address
	return a, row.Scan(&a.ChannelID, &a.Channel, &a.ExternalID, &a.ContactID)
}

// ScanString scans one text column.
func ScanString(row Scanner) (string, error) {
	var s string
	return s, row.Scan(&s)
}

// ScanReceipt scans a receipt's columns: channel_id, mid, contact_id,
// outbox_id, at.
func ScanReceipt(row Scanner) (*store.Receipt, error) {
	r := &store.Receipt{}
	var at int64
	err := row.Scan(&r.ChannelID, &r.MID, &r.ContactID, &r.OutboxID, &at)
	r.At = FromNanos(at)
	return r, err
}

// ScanProgram scans a program's columns: hash, flow, file, source, added.
func ScanProgram(row Scanner) (*store.Program, error) {
	p := &store.Program{}
	var added int64
	err := row.Scan(&p.Hash, &p.Flow, &p.File, &p.Source, &added)
	p.Added = FromNanos(added)
	return p, err
}
