package sqlite

import (
	"errors"
	"fmt"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// queries are prepared once when the store opens.
var queries = map[string]string{
	"contact": `SELECT id, fields, tags, channel, channels, created FROM contacts WHERE id = ?`,
	"save_contact": `INSERT INTO contacts (id, fields, tags, channel, channels, created) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, tags = excluded.tags, channel = excluded.channel, channels = excluded.channels`,

	"contact_state": `SELECT c.id, c.fields, c.tags, c.channel, c.channels, c.created, ` + sqlrow.ConversationColsOf + `
		FROM contacts c LEFT JOIN conversations v ON v.id = (SELECT max(id) FROM conversations WHERE contact_id = c.id)
		WHERE c.id = ?`,
	"open_conversation": `SELECT ` + sqlrow.ConversationCols + ` FROM conversations WHERE contact_id = ? AND open = 1`,
	"last_conversation": `SELECT ` + sqlrow.ConversationCols + ` FROM conversations WHERE contact_id = ? ORDER BY id DESC LIMIT 1`,
	"conversations":     `SELECT count(*) FROM conversations WHERE contact_id = ?`,
	"insert_conversation": `INSERT INTO conversations (` + sqlrow.ConversationCols[4:] + `)
		VALUES (?, (SELECT coalesce(max(number), 0) + 1 FROM conversations WHERE contact_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id, number`,
	"touch_conversation": `UPDATE conversations SET last_incoming = ?, last_incoming_at = ?, last_outgoing = ?,
		last_outgoing_at = ?, last_outgoing_source = ? WHERE id = ?`,
	"update_conversation": `UPDATE conversations SET contact_id = ?, open = ?, opened_by = ?, opened_at = ?, closed_by = ?,
		closed_at = ?, category = ?, summary = ?, assignee = ?, team = ?, last_incoming = ?, last_incoming_at = ?,
		last_outgoing = ?, last_outgoing_at = ?, last_outgoing_source = ?, held = ? WHERE id = ?`,

	"users": `SELECT ` + sqlrow.UserCols + ` FROM users ORDER BY id`,
	"user":  `SELECT ` + sqlrow.UserCols + ` FROM users WHERE id = ?`,
	"save_user": `INSERT INTO users (` + sqlrow.UserCols + `) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, teams = excluded.teams, status = excluded.status,
		last_assigned = excluded.last_assigned`,
	"open_counts": `SELECT assignee, count(*) FROM conversations WHERE open = 1 AND assignee != '' GROUP BY assignee`,

	"insert_run": `INSERT INTO runs (contact_id, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
	"contact_runs": `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE contact_id = ? AND id > ? ORDER BY id LIMIT ?`,
	"run":          `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE id = ?`,
	"active_runs":  `SELECT ` + sqlrow.RunCols + ` FROM runs INDEXED BY runs_active WHERE contact_id = ? AND status = 'waiting' ORDER BY id`,
	"waiting_runs": `SELECT ` + sqlrow.RunCols + ` FROM runs INDEXED BY runs_waiting WHERE flow = ? AND status = 'waiting' AND id > ? ORDER BY id LIMIT ?`,
	"update_waiting_run": `UPDATE runs SET program = ?, cont = ?, wait = ?, wait_seq = ?, deadline = ?, updated = ?, seq = seq + 1
		WHERE id = ? AND seq = ? AND status = 'waiting'`,
	"update_run": `UPDATE runs SET program = ?, status = ?, cont = ?, vars = ?, wait = ?, wait_seq = ?, deadline = ?, err = ?, updated = ?, seq = seq + 1
		WHERE id = ? AND seq = ?`,

	"save_program": `INSERT OR IGNORE INTO programs (hash, flow, file, source, added) VALUES (?, ?, ?, ?, ?)`,
	"program":      `SELECT hash, flow, file, source, added FROM programs WHERE hash = ?`,

	"add_enrolment": `INSERT INTO enrolments (contact_id, flow, at) VALUES (?, ?, ?)`,
	"enrolled":      `SELECT count(*) FROM enrolments WHERE contact_id = ? AND flow = ?`,
	"enrolments":    `SELECT count(*) FROM enrolments WHERE contact_id = ? AND at >= ?`,

	"activity":        `SELECT id, contact_id, at, kind, flow, run_id, text, data FROM activity WHERE contact_id = ? AND id > ? ORDER BY id LIMIT ?`,
	"activity_before": `SELECT id, contact_id, at, kind, flow, run_id, text, data FROM activity WHERE contact_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,

	"delete_run_timers":  `DELETE FROM timers WHERE run_id = ?`,
	"delete_run_timer":   `DELETE FROM timers WHERE run_id = ? AND seq = ?`,
	"delete_kind_timers": `DELETE FROM timers WHERE contact_id = ? AND kind = ? AND run_id = 0`,
	"due_timers":         `SELECT id, contact_id, kind, run_id, seq, at FROM timers WHERE at <= ? ORDER BY at, id LIMIT ?`,
	"next_timer":         `SELECT at FROM timers ORDER BY at LIMIT 1`,
	"delete_timer":       `DELETE FROM timers WHERE id = ?`,
	"update_outbound":    `UPDATE outbox SET status = ?, attempts = ?, next_at = ?, err = ? WHERE id = ?`,
	"seen":               `INSERT OR IGNORE INTO dedup (key, at) VALUES (?, ?)`,
	"withdraw":           `UPDATE outbox SET status = 'withdrawn' WHERE run_id = ? AND lane IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'queued')`,
	"queued":             `SELECT ` + sqlrow.OutboxCols + ` FROM outbox o WHERE o.status = 'queued' AND o.lane = ? ORDER BY o.id LIMIT ?`,
	"next_outbound":      `SELECT min(o.next_at) FROM outbox o WHERE o.status = 'pending' AND o.next_at > ? AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.contact_id = o.contact_id AND p.lane = o.lane AND p.status = 'pending')`,
	"lane_after":         `SELECT ` + sqlrow.OutboxCols + ` FROM outbox o WHERE o.contact_id = ? AND o.lane = ? AND o.status = 'pending' AND o.id > ? ORDER BY o.id LIMIT ?`,
	"due_outbound":       `SELECT ` + sqlrow.OutboxCols + ` FROM outbox o WHERE o.status = 'pending' AND o.next_at <= ? AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.contact_id = o.contact_id AND p.lane = o.lane AND p.status = 'pending') ORDER BY o.next_at, o.id LIMIT ?`,
}

// Contact implements store.Tx.
func (t *Tx) Contact(id string) (*store.Contact, error) {
	c, err := sqlrow.ScanContact(t.stmt("contact").QueryRowContext(t.ctx, id))
	if err != nil {
		return nil, sqlrow.NotFound("contact "+id, err)
	}
	return c, nil
}

// SaveContact implements store.Tx.
func (t *Tx) SaveContact(c *store.Contact) error {
	args, err := sqlrow.ContactArgs(c)
	if err != nil {
		return err
	}
	_, err = t.exec("save_contact", append([]any{c.ID}, args...)...)
	return err
}

// ContactState implements store.Tx: one query for the contact and its
// latest conversation, which every event reads.
func (t *Tx) ContactState(id string) (*store.Contact, *store.Conversation, error) {
	c, conv, err := sqlrow.ScanContactState(t.stmt("contact_state").QueryRowContext(t.ctx, id))
	if err != nil {
		return nil, nil, sqlrow.NotFound("contact "+id, err)
	}
	return c, conv, nil
}

// OpenConversation implements store.Tx.
func (t *Tx) OpenConversation(contactID string) (*store.Conversation, error) {
	c, err := sqlrow.ScanConversation(t.stmt("open_conversation").QueryRowContext(t.ctx, contactID))
	if err != nil {
		return nil, sqlrow.NotFound("open conversation of "+contactID, err)
	}
	return c, nil
}

// LastConversation implements store.Tx.
func (t *Tx) LastConversation(contactID string) (*store.Conversation, error) {
	c, err := sqlrow.ScanConversation(t.stmt("last_conversation").QueryRowContext(t.ctx, contactID))
	if err != nil {
		return nil, sqlrow.NotFound("conversation of "+contactID, err)
	}
	return c, nil
}

// Conversations implements store.Tx.
func (t *Tx) Conversations(contactID string) (int, error) {
	var n int
	err := t.stmt("conversations").QueryRowContext(t.ctx, contactID).Scan(&n)
	return n, err
}

// SaveConversation implements store.Tx.
func (t *Tx) SaveConversation(c *store.Conversation) error {
	args, err := sqlrow.ConversationArgs(c)
	if err != nil {
		return err
	}
	if c.ID == 0 {
		insert := append([]any{c.ContactID, c.ContactID}, args[1:]...)
		err := t.stmt("insert_conversation").QueryRowContext(t.ctx, insert...).Scan(&c.ID, &c.Number)
		return conflict(err)
	}
	_, err = t.exec("update_conversation", append(args, c.ID)...)
	return conflict(err)
}

// TouchConversation implements store.Tx.
func (t *Tx) TouchConversation(c *store.Conversation) error {
	_, err := t.exec("touch_conversation", c.LastIncoming, sqlrow.Nanos(c.LastIncomingAt), c.LastOutgoing, sqlrow.Nanos(c.LastOutgoingAt),
		c.LastOutgoingSource, c.ID)
	return err
}

// conflict reports a broken uniqueness rule as store.ErrConflict.
func conflict(err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// Users implements store.Tx.
func (t *Tx) Users() ([]store.User, error) {
	rows, err := t.stmt("users").QueryContext(t.ctx)
	return sqlrow.Collect(rows, err, sqlrow.ScanUser)
}

// User implements store.Tx.
func (t *Tx) User(id string) (*store.User, error) {
	u, err := sqlrow.ScanUser(t.stmt("user").QueryRowContext(t.ctx, id))
	if err != nil {
		return nil, sqlrow.NotFound("user "+id, err)
	}
	return &u, nil
}

// SaveUser implements store.Tx.
func (t *Tx) SaveUser(u store.User) error {
	args, err := sqlrow.UserArgs(u)
	if err != nil {
		return err
	}
	_, err = t.exec("save_user", args...)
	return err
}

// OpenCounts implements store.Tx.
func (t *Tx) OpenCounts() (map[string]int, error) {
	rows, err := t.stmt("open_counts").QueryContext(t.ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
