package postgres

import "github.com/flowd/flowd/runtime/store/internal/sqlrow"

// withLatest is contacts c with each one's latest conversation v (nulls
// when it has none), found by an index probe per contact. A contact's
// conversations are numbered in the order they were opened.
//
// Statements that take a batch's keys as arrays are written so that their
// only sensible plan probes indexes key by key (LATERAL ... LIMIT, or a
// redundant "= ANY" on an indexed column): they are prepared once, and a
// generic plan chosen while a table was small would otherwise go on
// scanning it whole as it grows.
const withLatest = `contacts c LEFT JOIN LATERAL (SELECT * FROM conversations WHERE contact_id = c.id ORDER BY number DESC LIMIT 1) v ON true`

// lease makes a claim's transaction commit without waiting for its WAL to
// reach the disk: a claim is a lease, and one that a crash of the database
// loses only lets another process take the work again, which at-least-once
// delivery allows and a timer's turn, deleting it, settles. A statement
// scans it as it claims its first row (it is volatile: never inlined).
const lease = `lease AS (SELECT set_config('synchronous_commit', 'off', true))`

// queries are prepared once when the store opens.
var queries = map[string]string{
	"lock":     `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`,
	"try_lock": `SELECT pg_try_advisory_xact_lock($1)`,

	"contact": `SELECT id, fields, tags, channel, channels, created FROM contacts WHERE id = $1`,
	"contact_state": `SELECT c.id, c.fields, c.tags, c.channel, c.channels, c.created, ` + sqlrow.ConversationColsOf + `
		FROM ` + withLatest + ` WHERE c.id = $1`,
	"open_conversation": `SELECT ` + sqlrow.ConversationCols + ` FROM conversations WHERE contact_id = $1 AND open = 1`,
	"last_conversation": `SELECT ` + sqlrow.ConversationCols + ` FROM conversations WHERE contact_id = $1 ORDER BY number DESC LIMIT 1`,
	"conversations":     `SELECT count(*) FROM conversations WHERE contact_id = $1`,
	// a second open conversation, or a number another transaction took,
	// inserts nothing: no row back is store.ErrConflict, and the
	// transaction goes on
	"insert_conversation": `INSERT INTO conversations (contact_id, number, open, opened_by, opened_at, closed_by, closed_at, category, summary,
		assignee, team, last_incoming, last_incoming_at, last_outgoing, last_outgoing_at, last_outgoing_source, held)
		VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM conversations WHERE contact_id = $1),
		$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT DO NOTHING RETURNING id, number`,
	"update_conversation": `UPDATE conversations SET contact_id = $1, open = $2, opened_by = $3, opened_at = $4, closed_by = $5,
		closed_at = $6, category = $7, summary = $8, assignee = $9, team = $10, last_incoming = $11, last_incoming_at = $12,
		last_outgoing = $13, last_outgoing_at = $14, last_outgoing_source = $15, held = $16
		WHERE id = $17 AND ($2 = 0 OR NOT EXISTS (SELECT 1 FROM conversations o WHERE o.contact_id = $1 AND o.open = 1 AND o.id <> $17))`,

	"users": `SELECT ` + sqlrow.UserCols + ` FROM users ORDER BY id`,
	"user":  `SELECT ` + sqlrow.UserCols + ` FROM users WHERE id = $1`,
	"save_user": `INSERT INTO users (` + sqlrow.UserCols + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, teams = excluded.teams, status = excluded.status,
		last_assigned = excluded.last_assigned`,
	"open_counts": `SELECT assignee, count(*) FROM conversations WHERE open = 1 AND assignee <> '' GROUP BY assignee`,

	"contact_runs": `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE contact_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
	"run":          `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE id = $1`,
	"active_runs":  `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE contact_id = $1 AND status = 'waiting' ORDER BY id`,
	// flow <> '' (no flow has no name) names runs_waiting's predicate: see
	// migration 003
	"waiting_runs": `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE flow = $1 AND flow <> '' AND status = 'waiting' AND id > $2 ORDER BY id LIMIT $3`,
	"update_waiting_run": `UPDATE runs SET program = $1, cont = $2, wait = $3, wait_seq = $4, deadline = $5, updated = $6, seq = seq + 1
		WHERE id = $7 AND seq = $8 AND status = 'waiting'`,
	"update_run": `UPDATE runs SET program = $1, status = $2, cont = $3, vars = $4, wait = $5, wait_seq = $6, deadline = $7, err = $8,
		updated = $9, seq = seq + 1 WHERE id = $10 AND seq = $11`,

	"save_program": `INSERT INTO programs (hash, flow, file, source, added) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
	"program":      `SELECT hash, flow, file, source, added FROM programs WHERE hash = $1`,

	"enrolled":   `SELECT count(*) FROM enrolments WHERE contact_id = $1 AND flow = $2`,
	"enrolments": `SELECT count(*) FROM enrolments WHERE contact_id = $1 AND at >= $2`,

	// a contact's rows hold its entries in the order of their ids, and
	// the index on (contact_id, last_id) gives the rows in that order, so
	// a page reads only the rows it returns from
	"activity": `SELECT ` + activityEntries + ` WHERE a.contact_id = $1 AND a.last_id > $2 AND e.id > $2
		ORDER BY a.last_id, e.id LIMIT $3`,
	"activity_before": `SELECT ` + activityEntries + ` WHERE a.contact_id = $1 AND ($2::bigint = 0 OR a.ids[1] < $2 AND e.id < $2)
		ORDER BY a.last_id DESC, e.id DESC LIMIT $3`,

	"due_timers": `SELECT ` + sqlrow.TimerCols + ` FROM timers WHERE at <= $1 ORDER BY at, id LIMIT $2`,
	"claim_timers": `WITH ` + lease + ` UPDATE timers t SET claimed_until = $2 FROM lease
		WHERE t.id = ANY(ARRAY(SELECT id FROM timers WHERE at <= $1 AND claimed_until <= $1 ORDER BY at, id LIMIT $3 FOR UPDATE SKIP LOCKED))
		RETURNING t.id, t.contact_id, t.kind, t.run_id, t.seq, t.at`,
	"next_timer":    `SELECT at FROM timers WHERE claimed_until <= $1 ORDER BY at LIMIT 1`,
	"delete_timer":  `DELETE FROM timers WHERE id = $1`,
	"delete_timers": `DELETE FROM timers WHERE id = ANY($1::bigint[]) RETURNING id`,

	"seen":          `INSERT INTO dedup (key, at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
	"seen_all":      `INSERT INTO dedup (key, at) SELECT DISTINCT k, $2::bigint FROM unnest($1::bytea[]) AS k ON CONFLICT DO NOTHING RETURNING key`,
	"queued":        `SELECT ` + sqlrow.OutboxCols + ` FROM outbox o WHERE o.status = 'queued' AND o.lane = $1 ORDER BY o.id LIMIT $2`,
	"next_outbound": `WITH ` + lanes + ` SELECT min(next_at) FROM lanes WHERE place = 1 AND next_at > $1`,
	"due_outbound": `WITH ` + lanes + ` SELECT ` + sqlrow.OutboxCols + ` FROM outbox o
		WHERE o.id = ANY(ARRAY(SELECT id FROM lanes WHERE place = 1)) AND o.next_at <= $1 AND o.claimed_until <= $1
		ORDER BY o.next_at, o.id LIMIT $2`,
	// the heads due and unclaimed, locked as they are taken (a second
	// transaction claiming at once skips them), and behind each its lane's
	// next items up to the first one not due or claimed: they are the
	// head's to carry out, in order. Each part takes its rows by id from an
	// array that lanes made, so that every row is one probe of the primary
	// key, whatever the planner thinks of the outbox's size: joined to
	// lanes, it scanned lanes once for each item due.
	"claim_outbound": `WITH ` + lease + `, ` + lanes + `,
	d AS (SELECT o.id FROM outbox o
		WHERE o.id = ANY(ARRAY(SELECT id FROM lanes WHERE place = 1 AND waiting = 0))
			AND o.status = 'pending' AND o.next_at <= $1 AND o.claimed_until <= $1
		ORDER BY o.next_at, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED),
	h AS (UPDATE outbox c SET claimed_until = $2 FROM lease
		WHERE c.id = ANY(ARRAY(SELECT id FROM d)) RETURNING ` + claimedCols + `),
	n AS (UPDATE outbox c SET claimed_until = $2
		WHERE c.id = ANY(ARRAY(SELECT id FROM lanes WHERE place BETWEEN 2 AND $4 + 1 AND waiting = 0 AND head = ANY(ARRAY(SELECT id FROM h))))
			AND c.status = 'pending' AND c.next_at <= $1 AND c.claimed_until <= $1
		RETURNING ` + claimedCols + `)
	SELECT *, true FROM h UNION ALL SELECT *, false FROM n`,

	"identity": `SELECT contact_id FROM identities WHERE channel_id = $1 AND external_id = $2`,
	// LIMIT 1 keeps the subquery a probe of the primary key per address,
	// whatever the planner thinks of the table's size (see withLatest)
	"identities": `SELECT a.c, a.x, i.contact_id FROM unnest($1::text[], $2::text[]) AS a(c, x)
		CROSS JOIN LATERAL (SELECT contact_id FROM identities WHERE channel_id = a.c AND external_id = a.x LIMIT 1) i`,
	"identify_all": `INSERT INTO identities (channel_id, external_id, channel, contact_id, at)
		SELECT c, x, k, nextval('contact_numbers')::text, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS a(c, x, k)
		ON CONFLICT DO NOTHING RETURNING channel_id, external_id, contact_id`,
	"add_identity": `INSERT INTO identities (channel_id, external_id, channel, contact_id, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
	"addresses": `SELECT channel_id, channel, external_id, contact_id FROM identities
		WHERE contact_id = $1 ORDER BY at DESC, channel_id`,
	"contacts_by_phone": `SELECT id FROM contacts WHERE fields ->> 'phone' = $1 ORDER BY created, id LIMIT $2`,
	"contacts_by_email": `SELECT id FROM contacts WHERE fields ->> 'email' = $1 ORDER BY created, id LIMIT $2`,
	"receipt":           `SELECT channel_id, mid, contact_id, outbox_id, at FROM receipts WHERE channel_id = $1 AND mid = $2`,
	// a batch's rows are taken by key from an array, one probe each: a
	// generic plan joins to a subquery with a LIMIT it cannot see as if it
	// returned a tenth of the table, and scans the table whole (activity
	// rows are never updated, so their ctids hold still)
	"prune_dedup":    `DELETE FROM dedup WHERE key = ANY(ARRAY(SELECT key FROM dedup WHERE at < $1 LIMIT $2))`,
	"prune_activity": `DELETE FROM activity WHERE ctid = ANY(ARRAY(SELECT ctid FROM activity WHERE at < $1 LIMIT $2))`,
	"prune_receipts": `DELETE FROM receipts WHERE outbox_id = ANY(ARRAY(SELECT id FROM outbox WHERE created < $1 AND status IN ('delivered', 'failed', 'withdrawn') LIMIT $2))`,
	"prune_outbox":   `DELETE FROM outbox WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE created < $1 AND status IN ('delivered', 'failed', 'withdrawn') LIMIT $2))`,
	"outbox_depth":   `SELECT count(*) FROM outbox WHERE status = 'pending'`,
	"add_erasure":    `INSERT INTO erasures (contact_id, at) VALUES ($1, $2)`,
}

// activityEntries are the activity rows' entries, one per row, as
// sqlrow.ScanActivity reads them (the activity_entries view, written out
// so that the planner sees the rows' keys).
const activityEntries = `e.id, a.contact_id, e.at, e.kind, e.flow, e.run_id, e.text, nullif(e.data, ''::bytea)
	FROM activity a, unnest(a.ids, a.ats, a.kinds, a.flows, a.run_ids, a.texts, a.datas) AS e(id, at, kind, flow, run_id, text, data)`

// claimedCols are an outbox item c's columns, as a claim returns them.
const claimedCols = `c.id, c.contact_id, c.lane, c.kind, c.run_id, c.seq, c.payload, c.status, c.attempts, c.next_at, c.err, c.created`

// lanes are the pending outbox items in their contacts' lanes, whose items
// go one at a time, in order: each one's lane's head, its place in the
// lane (1: the head) and how many of the items up to it are not due at $1
// or are claimed. One pass over the pending items makes them, however
// many there are: a subquery per item, finding its lane's head, took a
// pass each, as the planner scans whole a partial index it thinks empty
// (the pending items come and go between two ANALYZEs).
const lanes = `lanes AS (SELECT id, first_value(id) OVER w AS head, next_at, row_number() OVER w AS place,
		count(*) FILTER (WHERE next_at > $1 OR claimed_until > $1) OVER w AS waiting
	FROM outbox WHERE status = 'pending' WINDOW w AS (PARTITION BY contact_id, lane ORDER BY id))`

// erasing deletes a contact's rows; the runs go last, as the timers are
// found through them.
var erasing = []string{
	`DELETE FROM contacts WHERE id = $1`,
	`DELETE FROM conversations WHERE contact_id = $1`,
	`DELETE FROM timers WHERE run_id IN (SELECT id FROM runs WHERE contact_id = $1)`,
	`DELETE FROM timers WHERE contact_id = $1 AND run_id = 0`,
	`DELETE FROM enrolments WHERE contact_id = $1`,
	`DELETE FROM activity WHERE contact_id = $1`,
	`DELETE FROM outbox WHERE contact_id = $1`,
	`DELETE FROM identities WHERE contact_id = $1`,
	`DELETE FROM receipts WHERE contact_id = $1`,
	`DELETE FROM runs WHERE contact_id = $1`,
}
