package postgres

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/lib/pq"
)

// A transaction puts its writes off until something needs them in the
// tables: a statement that reads or writes them (see needsFlush), a
// savepoint, the commit. Then one statement makes them all, each table's
// rows from arrays (unnest) in a data-modifying WITH of its own, where a
// statement each would cost a round trip each: a turn adds about four
// activity rows, an outbox item or two and a timer, and saves its contact,
// conversation and runs.
//
// One statement sees the tables as they were before it, so each row is in
// it once: a row written twice is merged into its last image, and a new row
// changed again goes in as changed. Deletes and withdrawals see only rows
// that were in the tables before: the rows added since they were asked for
// are dropped or withdrawn here, in the buffers.
//
// A write that could be refused (a run's compare-and-swap, a second open
// conversation) is put off only when the transaction knows the rows it
// depends on (see ahead.go), and refuses it itself, at once; otherwise it
// is made at once.
//
// New rows' ids come from the tables' sequences, taken ahead (idsPerContact)
// so that a row has its id when it is added; a batch takes them in the
// round trip of its locks. Ids are taken after the locks of the contacts
// they serve, and the unused ones dropped when another lock is taken:
// a contact's rows get ids in the order their transactions committed,
// which is the order its activity is read back in.
type buffers struct {
	activity []store.Activity
	outbox   []store.Outbound
	timers   []store.Timer

	contacts   [][]any // one per contact, at contactAt: its row, encoded as saved
	contactAt  map[string]int
	convs      []convWrite // one per conversation, at convAt
	convAt     map[int64]int
	runs       []runWrite // one per run, at runAt
	runAt      map[int64]int
	enrolments [][3]any // contact, flow, at

	outUpdates []store.Outbound // one per item, at outAt
	outAt      map[int64]int
	receipts   []store.Receipt // one per channel's message id, at receiptAt
	receiptAt  map[[2]string]int

	runTimers  []int64    // delete all of a run's
	runTimer   [][2]int64 // delete a run's of a seq
	kindTimers [][2]string
	withdraw   []withdrawal

	ids     map[string][]int64 // by sequence: ids taken, not yet used
	numbers []int64            // contact numbers taken, not yet used
}

// A convWrite is a conversation to insert or update whole, or only its
// last message fields (touch).
type convWrite struct {
	c     store.Conversation
	touch bool
}

// A runWrite is a run to insert (from 0), or to update if its seq is still
// from.
type runWrite struct {
	r    store.Run
	from int64
}

type withdrawal struct {
	run  int64
	lane string
}

// empty reports whether nothing waits.
func (b *buffers) empty() bool {
	return len(b.activity)+len(b.outbox)+len(b.timers)+len(b.contacts)+len(b.convs)+len(b.runs)+len(b.enrolments)+
		len(b.outUpdates)+len(b.receipts)+len(b.runTimers)+len(b.runTimer)+len(b.kindTimers)+len(b.withdraw) == 0
}

// drop forgets what waits: a rollback to a savepoint undid it.
func (b *buffers) drop() {
	b.activity, b.outbox, b.timers = b.activity[:0], b.outbox[:0], b.timers[:0]
	b.contacts, b.convs, b.runs, b.enrolments = b.contacts[:0], b.convs[:0], b.runs[:0], b.enrolments[:0]
	clear(b.contactAt)
	clear(b.convAt)
	clear(b.runAt)
	b.outUpdates, b.receipts = b.outUpdates[:0], b.receipts[:0]
	clear(b.outAt)
	clear(b.receiptAt)
	b.runTimers, b.runTimer, b.kindTimers, b.withdraw = b.runTimers[:0], b.runTimer[:0], b.kindTimers[:0], b.withdraw[:0]
}

// idsPerContact is how many ids of each sequence (in the order of
// sequences) one round trip takes for each contact of the transaction:
// about what a turn adds, so that most batches take their ids with their
// locks and need no round trip of their own.
var idsPerContact = [len(sequences)]int{10, 4, 2, 2, 2}

// needsFlush are the statements that may read or write the rows the
// buffers hold; the others (locks, ids, identities, dedup keys, programs)
// go ahead of them.
func needsFlush(name string) bool {
	switch name {
	case "lock", "lock_ids", "try_lock", "numbers", "identity", "identities", "identify_all", "add_identity", "seen", "seen_all", "program", "save_program":
		return false
	}
	return true
}

func init() {
	// the locks first (none: only ids), then the ids: the subqueries
	// depend on the count
	queries["lock_ids"] = `SELECT ` + lockIDs() + `
		FROM (SELECT count(*) AS n FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k) l) l`
	queries["numbers"] = `SELECT nextval('contact_numbers') FROM generate_series(1, $1)`
	// each UPDATE and DELETE names its rows' keys with "= ANY" too, so that
	// it probes an index (see withLatest). An outbox item handed off (see
	// HandOff) is claimed where its lane has no pending item but those whose
	// outcomes ended them ($98), found in the lane's order, so that the plan
	// probes the lane (NOT EXISTS walked all the items due); nx hands off
	// the items behind the outcomes that ended theirs ($94, $95), checking
	// each row again as it updates it, so that a claim another transaction
	// made meanwhile stays its
	queries["flush"] = `WITH
		dt1 AS (DELETE FROM timers WHERE run_id = ANY($1::bigint[])),
		dt2 AS (DELETE FROM timers t USING unnest($2::bigint[], $3::bigint[]) AS d(r, s) WHERE t.run_id = d.r AND t.seq = d.s AND t.run_id = ANY($2::bigint[])),
		dt3 AS (DELETE FROM timers t USING unnest($4::text[], $5::text[]) AS d(c, k) WHERE t.contact_id = d.c AND t.kind = d.k AND t.run_id = 0 AND t.contact_id = ANY($4::text[])),
		wo AS (UPDATE outbox o SET status = 'withdrawn' FROM unnest($6::bigint[], $7::text[]) AS w(r, l)
			WHERE o.run_id = w.r AND o.lane = w.l AND o.status IN ('pending', 'queued') AND o.id <> ALL($83::bigint[])
				AND o.run_id = ANY($6::bigint[])),
		co AS (INSERT INTO contacts (id, fields, tags, channel, channels, created)
			SELECT i, f::jsonb, g::jsonb, c, h::jsonb, t FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])
				AS u(i, f, g, c, h, t)
			ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, tags = excluded.tags, channel = excluded.channel, channels = excluded.channels),
		v AS (SELECT * FROM unnest($14::boolean[], $15::bigint[], $16::integer[], $17::text[], $18::smallint[], $19::text[], $20::bigint[],
			$21::text[], $22::bigint[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::bigint[], $29::text[], $30::bigint[],
			$31::text[], $32::text[]) AS u(touch, id, number, contact_id, open, opened_by, opened_at, closed_by, closed_at, category, summary,
			assignee, team, last_incoming, last_incoming_at, last_outgoing, last_outgoing_at, last_outgoing_source, held)),
		cv AS (INSERT INTO conversations (id, number, contact_id, open, opened_by, opened_at, closed_by, closed_at, category, summary,
				assignee, team, last_incoming, last_incoming_at, last_outgoing, last_outgoing_at, last_outgoing_source, held)
			SELECT id, number, contact_id, open, opened_by, opened_at, closed_by, closed_at, category, summary, assignee, team,
				last_incoming, last_incoming_at, last_outgoing, last_outgoing_at, last_outgoing_source, held
			FROM v WHERE NOT touch ORDER BY open, id
			ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id, open = excluded.open, opened_by = excluded.opened_by,
				opened_at = excluded.opened_at, closed_by = excluded.closed_by, closed_at = excluded.closed_at, category = excluded.category,
				summary = excluded.summary, assignee = excluded.assignee, team = excluded.team, last_incoming = excluded.last_incoming,
				last_incoming_at = excluded.last_incoming_at, last_outgoing = excluded.last_outgoing, last_outgoing_at = excluded.last_outgoing_at,
				last_outgoing_source = excluded.last_outgoing_source, held = excluded.held),
		ct AS (UPDATE conversations c SET last_incoming = v.last_incoming, last_incoming_at = v.last_incoming_at,
				last_outgoing = v.last_outgoing, last_outgoing_at = v.last_outgoing_at, last_outgoing_source = v.last_outgoing_source
			FROM v WHERE v.touch AND c.id = v.id AND c.id = ANY($15::bigint[])),
		r AS (SELECT * FROM unnest($33::bigint[], $34::bigint[], $35::text[], $36::text[], $37::text[], $38::text[], $39::bytea[], $40::bytea[],
			$41::text[], $42::bigint[], $43::bigint[], $44::bytea[], $45::bigint[], $46::text[], $47::bigint[], $48::bigint[], $49::bigint[])
			AS u(id, f, contact_id, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq)),
		ri AS (INSERT INTO runs (id, contact_id, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq)
			SELECT id, contact_id, flow, program, status, nullif(cont, ''::bytea), nullif(vars, ''::bytea), wait, wait_seq, deadline,
				nullif(trigger, ''::bytea), parent, err, started, updated, seq FROM r WHERE f = 0),
		ru AS (UPDATE runs SET program = r.program, status = r.status, cont = nullif(r.cont, ''::bytea), vars = nullif(r.vars, ''::bytea),
				wait = r.wait, wait_seq = r.wait_seq, deadline = r.deadline, err = r.err, updated = r.updated, seq = r.seq
			FROM r WHERE r.f <> 0 AND runs.id = r.id AND runs.seq = r.f AND runs.id = ANY($33::bigint[]) RETURNING runs.id),
		en AS (INSERT INTO enrolments (contact_id, flow, at) SELECT * FROM unnest($50::text[], $51::text[], $52::bigint[])),
		ac AS (INSERT INTO activity (contact_id, last_id, at, ids, ats, kinds, flows, run_ids, texts, datas)
			SELECT c, l, a, ($53::bigint[])[f:t], ($54::bigint[])[f:t], ($55::text[])[f:t], ($56::text[])[f:t], ($57::bigint[])[f:t], ($58::text[])[f:t],
				($59::bytea[])[f:t]
			FROM unnest($60::text[], $61::integer[], $62::integer[], $63::bigint[], $64::bigint[]) AS u(c, f, t, l, a)),
		ob AS (INSERT INTO outbox (id, contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created, claimed_until)
			SELECT id, contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created,
				CASE WHEN claim > 0 AND (SELECT p.id FROM outbox p WHERE p.contact_id = u.contact_id AND p.lane = u.lane AND p.status = 'pending'
					AND p.id <> ALL($98::bigint[]) ORDER BY p.contact_id, p.lane, p.id LIMIT 1) IS NULL THEN claim ELSE 0 END
			FROM unnest($65::bigint[], $66::text[], $67::text[], $68::text[], $69::bigint[], $70::bigint[], $71::bytea[], $72::text[],
				$73::integer[], $74::bigint[], $75::text[], $76::bigint[], $93::bigint[])
				AS u(id, contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created, claim)
			RETURNING id, claimed_until),
		ti AS (INSERT INTO timers (id, contact_id, kind, run_id, seq, at)
			SELECT * FROM unnest($77::bigint[], $78::text[], $79::text[], $80::bigint[], $81::bigint[], $82::bigint[])),
		ou AS (UPDATE outbox o SET status = u.s, attempts = u.a, next_at = u.n, err = u.e, claimed_until = 0
			FROM unnest($83::bigint[], $84::text[], $85::integer[], $86::bigint[], $87::text[]) AS u(i, s, a, n, e) WHERE o.id = u.i AND o.id = ANY($83::bigint[])),
		re AS (INSERT INTO receipts (channel_id, mid, contact_id, outbox_id, at)
			SELECT * FROM unnest($88::text[], $89::text[], $90::text[], $91::bigint[], $92::bigint[])
			ON CONFLICT (channel_id, mid) DO UPDATE SET contact_id = excluded.contact_id, outbox_id = excluded.outbox_id, at = excluded.at),
		nx AS (UPDATE outbox c SET claimed_until = ($96::bigint[])[1]
			WHERE c.id = ANY(ARRAY(SELECT q.id FROM unnest($94::text[], $95::text[]) AS f(c, l)
				CROSS JOIN LATERAL (SELECT p.id, bool_and(p.next_at <= ($97::bigint[])[1] AND p.claimed_until <= ($97::bigint[])[1]) OVER (ORDER BY p.id) AS go
					FROM (SELECT p.id, p.next_at, p.claimed_until, p.run_id, p.lane FROM outbox p
						WHERE p.contact_id = f.c AND p.lane = f.l AND p.status = 'pending' AND p.id <> ALL($83::bigint[])
						ORDER BY p.contact_id, p.lane, p.id LIMIT ` + fmt.Sprint(store.MaxChain) + `) p
					WHERE NOT EXISTS (SELECT FROM unnest($6::bigint[], $7::text[]) AS w(r, l) WHERE w.r = p.run_id AND w.l = p.lane)) q
				WHERE q.go))
				AND c.status = 'pending' AND c.claimed_until <= ($97::bigint[])[1]
			RETURNING ` + claimedCols + `)
		SELECT ` + claimedCols + `, false, 0::bigint, NULL::bigint[] FROM nx c
		UNION ALL SELECT 0, '', '', '', 0, 0, ''::bytea, '', 0, 0, '', 0, true, (SELECT count(*) FROM ru), ARRAY(SELECT id FROM ob WHERE claimed_until > 0)`
}

// sequences are the sequences new rows take their ids from, in the
// order the lock_ids statement takes them.
var sequences = [...]string{"activity_id_seq", "outbox_id_seq", "timers_id_seq", "runs_id_seq", "conversations_id_seq"}

// lockIDs are the lock_ids statement's columns: an array of ids from each
// sequence, as many as its parameter ($2 on) asks for.
func lockIDs() string {
	var cols []string
	for i, seq := range sequences {
		cols = append(cols, fmt.Sprintf("ARRAY(SELECT nextval('%s') FROM generate_series(1, $%d + 0 * l.n))", seq, i+2))
	}
	return strings.Join(cols, ", ")
}

// takeIDs takes the locks of keys (none: ids only), in their order, and
// then ids for the transaction's contacts (see buffers: a contact's rows take ids after
// its lock). It adds to the ids not yet used.
func (t *Tx) takeIDs(keys []int64, contacts int) error {
	args := []any{pq.Array(keys)}
	for _, per := range idsPerContact {
		args = append(args, per*max(contacts, 1))
	}
	var got [len(sequences)]pq.Int64Array
	dests := make([]any, len(got))
	for i := range got {
		dests[i] = &got[i]
	}
	if err := t.stmt("lock_ids").QueryRowContext(t.ctx, args...).Scan(dests...); err != nil {
		return fmt.Errorf("lock: %w", classify(err))
	}
	if t.buf.ids == nil {
		t.buf.ids = map[string][]int64{}
	}
	for i, name := range sequences {
		t.buf.ids[name] = append(t.buf.ids[name], got[i]...)
	}
	return nil
}

// nextID is a new row's id from the sequence. A round trip takes ids of
// every sequence: a batch of turns adds rows to most tables.
func (t *Tx) nextID(seq string) (int64, error) {
	if len(t.buf.ids[seq]) == 0 {
		if err := t.takeIDs(nil, len(t.locked)+len(t.fresh)); err != nil {
			return 0, err
		}
	}
	id := t.buf.ids[seq][0]
	t.buf.ids[seq] = t.buf.ids[seq][1:]
	return id, nil
}

// AddActivity implements store.Tx.
func (t *Tx) AddActivity(a *store.Activity) error {
	id, err := t.nextID("activity_id_seq")
	if err != nil {
		return err
	}
	a.ID = id
	t.buf.activity = append(t.buf.activity, *a)
	return nil
}

// AddTimer implements store.Tx.
func (t *Tx) AddTimer(tm *store.Timer) error {
	id, err := t.nextID("timers_id_seq")
	if err != nil {
		return err
	}
	tm.ID = id
	t.buf.timers = append(t.buf.timers, *tm)
	return nil
}

// Enqueue implements store.Tx.
func (t *Tx) Enqueue(o *store.Outbound) error {
	if o.Status == "" {
		o.Status = store.OutPending
	}
	id, err := t.nextID("outbox_id_seq")
	if err != nil {
		return err
	}
	o.ID = id
	t.buf.outbox = append(t.buf.outbox, *o)
	return nil
}

// bufferContact puts off saving the contact, encoded now: the caller may
// change its fields after.
func (t *Tx) bufferContact(c *store.Contact) error {
	args, err := sqlrow.ContactArgs(c)
	if err != nil {
		return err
	}
	row := append([]any{c.ID}, args...)
	if t.buf.contactAt == nil {
		t.buf.contactAt = map[string]int{}
	}
	if i, ok := t.buf.contactAt[c.ID]; ok {
		row[len(row)-1] = t.buf.contacts[i][len(row)-1] // created: the first save's stays
		t.buf.contacts[i] = row
		return nil
	}
	t.buf.contactAt[c.ID] = len(t.buf.contacts)
	t.buf.contacts = append(t.buf.contacts, row)
	return nil
}

// bufferConv puts off inserting or updating a conversation, whole or
// touched.
func (t *Tx) bufferConv(c *store.Conversation, touch bool) {
	if t.buf.convAt == nil {
		t.buf.convAt = map[int64]int{}
	}
	i, ok := t.buf.convAt[c.ID]
	switch {
	case !ok:
		t.buf.convAt[c.ID] = len(t.buf.convs)
		t.buf.convs = append(t.buf.convs, convWrite{c: *c, touch: touch})
		t.buf.convs[len(t.buf.convs)-1].c.Held = slices.Clone(c.Held) // the caller's to change
	case touch: // what waits, with these last message fields
		w := &t.buf.convs[i].c
		w.LastIncoming, w.LastIncomingAt, w.LastOutgoing, w.LastOutgoingAt, w.LastOutgoingSource =
			c.LastIncoming, c.LastIncomingAt, c.LastOutgoing, c.LastOutgoingAt, c.LastOutgoingSource
	default:
		t.buf.convs[i] = convWrite{c: *c}
		t.buf.convs[i].c.Held = slices.Clone(c.Held)
	}
}

// bufferRun puts off inserting a run (from 0) or updating it from the seq
// the database holds.
func (t *Tx) bufferRun(r *store.Run, from int64) {
	if t.buf.runAt == nil {
		t.buf.runAt = map[int64]int{}
	}
	if i, ok := t.buf.runAt[r.ID]; ok {
		t.buf.runs[i].r = *r // from stays: the database's
		return
	}
	t.buf.runAt[r.ID] = len(t.buf.runs)
	t.buf.runs = append(t.buf.runs, runWrite{r: *r, from: from})
}

// updateOutbound puts off recording an item's attempt.
func (b *buffers) updateOutbound(o store.Outbound) {
	if b.outAt == nil {
		b.outAt = map[int64]int{}
	}
	if i, ok := b.outAt[o.ID]; ok {
		b.outUpdates[i] = o
		return
	}
	b.outAt[o.ID] = len(b.outUpdates)
	b.outUpdates = append(b.outUpdates, o)
}

// saveReceipt puts off saving a receipt.
func (b *buffers) saveReceipt(r store.Receipt) {
	if b.receiptAt == nil {
		b.receiptAt = map[[2]string]int{}
	}
	key := [2]string{r.ChannelID, r.MID}
	if i, ok := b.receiptAt[key]; ok {
		b.receipts[i] = r
		return
	}
	b.receiptAt[key] = len(b.receipts)
	b.receipts = append(b.receipts, r)
}

// flush makes every write that waits, in one statement. A contact's
// activity entries go in as one row (see migration 005).
func (t *Tx) flush() error {
	b := &t.buf
	if b.empty() {
		return nil
	}
	var a flushArgs
	for _, id := range b.runTimers {
		a.add(0, id)
	}
	for _, rs := range b.runTimer {
		a.add(1, rs[0], rs[1])
	}
	for _, ck := range b.kindTimers {
		a.add(3, ck[0], ck[1])
	}
	for _, w := range b.withdraw {
		a.add(5, w.run, w.lane)
	}
	for _, row := range b.contacts {
		a.add(7, row...)
	}
	// the conversations closed go first: a contact's next may open as one
	// closes, and at most one is open at any row
	slices.SortStableFunc(b.convs, func(x, y convWrite) int {
		switch {
		case x.c.Open == y.c.Open:
			return 0
		case y.c.Open:
			return -1
		}
		return 1
	})
	for i := range b.convs {
		w := &b.convs[i]
		args, err := sqlrow.ConversationArgs(&w.c)
		if err != nil {
			return err
		}
		a.add(13, append([]any{w.touch, w.c.ID, int64(w.c.Number), w.c.ContactID}, args[1:]...)...)
	}
	updates := int64(0)
	for _, w := range b.runs {
		r := &w.r
		if w.from != 0 {
			updates++
		}
		a.add(32, r.ID, w.from, r.ContactID, r.Flow, r.Program, r.Status, r.Cont, r.Vars, r.Wait, int64(r.WaitSeq),
			sqlrow.Nanos(r.Deadline), r.Trigger, r.Parent, r.Err, sqlrow.Nanos(r.Started), sqlrow.Nanos(r.Updated), r.Seq)
	}
	for _, e := range b.enrolments {
		a.add(49, e[:]...)
	}
	addActivity(&a, b.activity)
	for _, o := range b.outbox {
		payload := o.Payload
		if payload == nil {
			payload = []byte{}
		}
		a.add(64, o.ID, o.ContactID, o.Lane, o.Kind, o.RunID, int64(o.Seq), payload, o.Status, int64(o.Attempts),
			sqlrow.Nanos(o.NextAt), o.Err, sqlrow.Nanos(o.Created))
	}
	now, until := t.hand.clock()
	for _, c := range t.hand.claims(b.outbox, now, until) {
		a.add(92, c)
	}
	freed, ended := t.hand.freed(b.outUpdates)
	for _, l := range freed {
		a.add(93, l.Contact, l.Name)
	}
	for _, id := range ended {
		a.add(97, id)
	}
	a.add(95, sqlrow.Nanos(until))
	a.add(96, sqlrow.Nanos(now))
	for _, tm := range b.timers {
		a.add(76, tm.ID, tm.ContactID, tm.Kind, tm.RunID, int64(tm.Seq), sqlrow.Nanos(tm.At))
	}
	for _, o := range b.outUpdates {
		a.add(82, o.ID, o.Status, int64(o.Attempts), sqlrow.Nanos(o.NextAt), o.Err)
	}
	for _, r := range b.receipts {
		a.add(87, r.ChannelID, r.MID, r.ContactID, r.OutboxID, sqlrow.Nanos(r.At))
	}
	var inserted []store.Outbound // for the hand-off
	if t.hand.now != nil {
		inserted = slices.Clone(b.outbox)
	}
	b.drop()
	var n int64
	var handed []int64
	var next []store.Outbound // the items an outcome let go, handed off
	rows, err := t.stmt("flush").QueryContext(t.ctx, a.values()...)
	for err == nil && rows.Next() {
		var summary bool
		var o store.Outbound
		o, err = sqlrow.ScanOutbound(extra{rows, []any{&summary, &n, pq.Array(&handed)}})
		if !summary {
			next = append(next, o)
		}
	}
	if err == nil {
		err = rows.Err()
	}
	if rows != nil {
		rows.Close()
	}
	if err != nil {
		return fmt.Errorf("flush: %w", classify(err))
	}
	t.hand.took(inserted, handed, next)
	if n != updates {
		return fmt.Errorf("flush: %d of %d runs updated, the others moved on: %w", n, updates, store.ErrConflict)
	}
	return nil
}

// addActivity adds the entries as rows of the activity table, one per
// contact: the entries, grouped by contact in the order of their ids, and
// each row's slice of them (1-based, inclusive, as SQL slices arrays).
func addActivity(a *flushArgs, entries []store.Activity) {
	byContact := slices.Clone(entries)
	slices.SortFunc(byContact, func(x, y store.Activity) int {
		return cmp.Or(strings.Compare(x.ContactID, y.ContactID), cmp.Compare(x.ID, y.ID))
	})
	from, at := 0, int64(0) // the contact's first entry, and the newest time of its entries
	for i, x := range byContact {
		data := x.Data
		if data == nil {
			data = []byte{}
		}
		n := sqlrow.Nanos(x.At)
		a.add(52, x.ID, n, x.Kind, x.Flow, x.RunID, x.Text, data)
		if i == from || n > at {
			at = n
		}
		if i+1 < len(byContact) && byContact[i+1].ContactID == x.ContactID {
			continue
		}
		a.add(59, x.ContactID, from+1, i+1, x.ID, at)
		from = i + 1
	}
}

// flushArgs are the flush statement's arrays, one per parameter.
type flushArgs [len(flushTypes)][]any

// add appends a row's values to the arrays from parameter at on (0-based).
func (a *flushArgs) add(at int, vals ...any) {
	for i, v := range vals {
		a[at+i] = append(a[at+i], v)
	}
}

// values are the arrays as pq encodes them, each as its element type.
func (a *flushArgs) values() []any {
	out := make([]any, len(a))
	for i, col := range a {
		out[i] = column(flushTypes[i], col)
	}
	return out
}

// flushTypes are the element types of the flush statement's parameters:
// b boolean, i integer, s text, x bytea.
const flushTypes = "i" + "ii" + "ss" + "is" + "sssssi" +
	"biisisisisssssisis" + "s" +
	"iissssxxsiixisiii" + "ssi" + "iissisx" + "siiii" + "isssiixsiisi" + "issiii" +
	"isiis" + "sssii" + "i" + "ss" + "i" + "i" + "i"

// column is one parameter's values as an array pq encodes.
func column(typ byte, vals []any) any {
	switch typ {
	case 'b':
		out := make([]bool, len(vals))
		for i, v := range vals {
			out[i] = v.(bool)
		}
		return pq.Array(out)
	case 'i':
		out := make([]int64, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case int64:
				out[i] = v
			case int:
				out[i] = int64(v)
			default:
				panic(fmt.Sprintf("flush: an integer parameter of %T", v))
			}
		}
		return pq.Array(out)
	case 'x':
		out := make([][]byte, len(vals))
		for i, v := range vals {
			out[i] = v.([]byte)
		}
		return pq.Array(out)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.(string)
	}
	return pq.Array(out)
}

// dropTimers removes the buffered timers for which gone is true, and
// reports whether it removed any.
func (t *Tx) dropTimers(gone func(store.Timer) bool) bool {
	n := len(t.buf.timers)
	t.buf.timers = slices.DeleteFunc(t.buf.timers, gone)
	return len(t.buf.timers) < n
}
