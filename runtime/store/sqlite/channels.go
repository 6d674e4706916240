package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
)

// The channels' records: identities, contact numbers and receipts.

func init() {
	for name, q := range map[string]string{
		"identity":     `SELECT contact_id FROM identities WHERE channel_id = ? AND external_id = ?`,
		"new_number":   `INSERT INTO contact_numbers (at) VALUES (?) RETURNING id`,
		"add_identity": `INSERT INTO identities (channel_id, external_id, channel, contact_id, at) VALUES (?, ?, ?, ?, ?)`,
		"addresses": `SELECT channel_id, channel, external_id, contact_id FROM identities INDEXED BY identities_contact
			WHERE contact_id = ? ORDER BY at DESC, channel_id`,
		"contacts_by_phone": `SELECT id FROM contacts WHERE json_extract(fields, '$.phone') = ? ORDER BY created, id LIMIT ?`,
		"contacts_by_email": `SELECT id FROM contacts WHERE json_extract(fields, '$.email') = ? ORDER BY created, id LIMIT ?`,
		"save_receipt":      `INSERT OR REPLACE INTO receipts (channel_id, mid, contact_id, outbox_id, at) VALUES (?, ?, ?, ?, ?)`,
		"prune_dedup":       `DELETE FROM dedup WHERE key IN (SELECT key FROM dedup WHERE at < ? LIMIT ?)`,
		"prune_activity":    `DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE at < ? LIMIT ?)`,
		"prune_receipts":    `DELETE FROM receipts WHERE outbox_id IN (SELECT id FROM outbox WHERE created < ? AND status IN ('delivered', 'failed', 'withdrawn') LIMIT ?)`,
		"prune_outbox":      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created < ? AND status IN ('delivered', 'failed', 'withdrawn') LIMIT ?)`,
		"outbox_depth":      `SELECT count(*) FROM outbox INDEXED BY outbox_pending WHERE status = 'pending'`,
		"add_erasure":       `INSERT INTO erasures (contact_id, at) VALUES (?, ?)`,
		"receipt":           `SELECT channel_id, mid, contact_id, outbox_id, at FROM receipts WHERE channel_id = ? AND mid = ?`,
	} {
		queries[name] = q
	}
}

// Identify implements store.Tx.
func (t *Tx) Identify(a store.Address, at time.Time) (string, bool, error) {
	var id string
	err := t.stmt("identity").QueryRowContext(t.ctx, a.ChannelID, a.ExternalID).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if err != sql.ErrNoRows {
		return "", false, fmt.Errorf("identity: %w", err)
	}
	var n int64
	if err := t.stmt("new_number").QueryRowContext(t.ctx, sqlrow.Nanos(at)).Scan(&n); err != nil {
		return "", false, fmt.Errorf("new contact number: %w", err)
	}
	id = strconv.FormatInt(n, 10)
	if _, err := t.exec("add_identity", a.ChannelID, a.ExternalID, a.Channel, id, sqlrow.Nanos(at)); err != nil {
		return "", false, conflict(err)
	}
	return id, true, nil
}

// IdentifyAll implements store.Tx: one at a time, as a statement of the
// embedded store costs no round trip.
func (t *Tx) IdentifyAll(addrs []store.Address, at time.Time) ([]string, []bool, error) {
	ids, created := make([]string, len(addrs)), make([]bool, len(addrs))
	for i, a := range addrs {
		var err error
		if ids[i], created[i], err = t.Identify(a, at); err != nil {
			return nil, nil, err
		}
	}
	return ids, created, nil
}

// Identity implements store.Tx.
func (t *Tx) Identity(channelID, externalID string) (string, error) {
	var id string
	if err := t.stmt("identity").QueryRowContext(t.ctx, channelID, externalID).Scan(&id); err != nil {
		return "", sqlrow.NotFound("identity "+externalID, err)
	}
	return id, nil
}

// Identities implements store.Tx: one lookup each, as reading the embedded
// store costs no round trip.
func (t *Tx) Identities(addrs []store.Address) ([]string, error) {
	ids := make([]string, len(addrs))
	for i, a := range addrs {
		id, err := t.Identity(a.ChannelID, a.ExternalID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// Addresses implements store.Tx.
func (t *Tx) Addresses(contactID string) ([]store.Address, error) {
	rows, err := t.stmt("addresses").QueryContext(t.ctx, contactID)
	return sqlrow.Collect(rows, err, sqlrow.ScanAddress)
}

// FindContacts implements store.Tx.
func (t *Tx) FindContacts(field, value string, limit int) ([]string, error) {
	var q string
	switch field {
	case "phone":
		q = "contacts_by_phone"
	case "email":
		q = "contacts_by_email"
	default:
		return nil, fmt.Errorf("contacts are not found by %q", field)
	}
	rows, err := t.stmt(q).QueryContext(t.ctx, value, limit)
	return sqlrow.Collect(rows, err, sqlrow.ScanString)
}

// SaveReceipt implements store.Tx.
func (t *Tx) SaveReceipt(r store.Receipt) error {
	_, err := t.exec("save_receipt", r.ChannelID, r.MID, r.ContactID, r.OutboxID, sqlrow.Nanos(r.At))
	return err
}

// Receipt implements store.Tx.
func (t *Tx) Receipt(channelID, mid string) (*store.Receipt, error) {
	r, err := sqlrow.ScanReceipt(t.stmt("receipt").QueryRowContext(t.ctx, channelID, mid))
	if err != nil {
		return nil, sqlrow.NotFound("receipt "+mid, err)
	}
	return r, nil
}

// Prune implements store.Tx.
func (t *Tx) Prune(p store.Prune) (int, error) {
	if err := t.flushAll(); err != nil {
		return 0, err
	}
	return sqlrow.Prune(t.affected, p)
}

// NewContactNumber implements store.Tx.
func (t *Tx) NewContactNumber(at time.Time) (string, error) {
	var n int64
	if err := t.stmt("new_number").QueryRowContext(t.ctx, sqlrow.Nanos(at)).Scan(&n); err != nil {
		return "", fmt.Errorf("new contact number: %w", err)
	}
	return strconv.FormatInt(n, 10), nil
}

// erasing deletes a contact's rows, each statement by an index: timers
// through their runs and the contact's own (auto-close), as an index of
// timers by contact would cost every turn's timer a write more; the runs
// go last.
var erasing = []string{
	`DELETE FROM contacts WHERE id = ?1`,
	`DELETE FROM conversations WHERE contact_id = ?1`,
	`DELETE FROM timers WHERE run_id IN (SELECT id FROM runs WHERE contact_id = ?1)`,
	`DELETE FROM timers WHERE contact_id = ?1 AND run_id = 0`,
	`DELETE FROM enrolments WHERE contact_id = ?1`,
	`DELETE FROM activity WHERE contact_id = ?1`,
	`DELETE FROM outbox WHERE contact_id = ?1`,
	`DELETE FROM identities WHERE contact_id = ?1`,
	`DELETE FROM receipts WHERE contact_id = ?1`,
	`DELETE FROM runs WHERE contact_id = ?1`,
}

// EraseContact implements store.Tx.
func (t *Tx) EraseContact(id string, at time.Time) error {
	if err := t.flushAll(); err != nil {
		return err
	}
	for _, q := range erasing {
		if _, err := t.tx.ExecContext(t.ctx, q, id); err != nil {
			return fmt.Errorf("erase: %s: %w", q, err)
		}
	}
	_, err := t.exec("add_erasure", id, sqlrow.Nanos(at))
	return err
}

// OutboxDepth implements store.Tx.
func (t *Tx) OutboxDepth() (int, error) {
	if err := t.flush(&t.outbox); err != nil {
		return 0, err
	}
	var n int
	err := t.stmt("outbox_depth").QueryRowContext(t.ctx).Scan(&n)
	return n, err
}
