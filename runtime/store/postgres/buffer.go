package postgres

import (
	"fmt"
	"slices"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/lib/pq"
)

// A transaction's new activity, outbox and timer rows wait in buffers until
// something needs them in the tables: a read of the table, a savepoint, the
// commit. Then one statement inserts all of a table's, from arrays
// (unnest), where a statement each would cost a round trip each: a turn
// adds about four activity rows, one or two outbox items and a timer.
//
// Their ids come from the tables' sequences, taken idsChunk at a time, so
// that a row has its id when it is added. A chunk is taken after the locks
// of the contacts it serves, and dropped when another lock is taken: a
// contact's rows get ids in the order their transactions committed, which
// is the order its activity is read back in.
type buffers struct {
	activity []store.Activity
	outbox   []store.Outbound
	timers   []store.Timer
	ids      map[string][]int64 // by sequence: ids taken, not yet used
}

// idsChunk is how many ids one round trip takes from a sequence.
const idsChunk = 32

func init() {
	queries["ids"] = `SELECT nextval($1::regclass) FROM generate_series(1, $2)`
	queries["flush_activity"] = `INSERT INTO activity (id, contact_id, at, kind, flow, run_id, text, data)
		SELECT i, c, a, k, f, r, x, nullif(d, ''::bytea) FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
			$6::bigint[], $7::text[], $8::bytea[]) AS u(i, c, a, k, f, r, x, d)`
	queries["flush_outbox"] = `INSERT INTO outbox (id, contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bytea[], $8::text[],
			$9::integer[], $10::bigint[], $11::text[], $12::bigint[])`
	queries["flush_timers"] = `INSERT INTO timers (id, contact_id, kind, run_id, seq, at)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])`
}

// nextID is a new row's id from the sequence.
func (t *Tx) nextID(seq string) (int64, error) {
	if len(t.buf.ids[seq]) == 0 {
		rows, err := t.stmt("ids").QueryContext(t.ctx, seq, idsChunk)
		ids, err := sqlrow.Collect(rows, classify(err), func(r sqlrow.Scanner) (id int64, err error) { return id, r.Scan(&id) })
		if err != nil {
			return 0, fmt.Errorf("ids of %s: %w", seq, err)
		}
		if t.buf.ids == nil {
			t.buf.ids = map[string][]int64{}
		}
		t.buf.ids[seq] = ids
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

// flushActivity inserts the buffered activity.
func (t *Tx) flushActivity() error {
	rows := t.buf.activity
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	ids, contacts, ats, kinds, flows, runs, texts, data := make([]int64, n), make([]string, n), make([]int64, n),
		make([]string, n), make([]string, n), make([]int64, n), make([]string, n), make([][]byte, n)
	for i, a := range rows {
		ids[i], contacts[i], ats[i], kinds[i], flows[i], runs[i], texts[i], data[i] = a.ID, a.ContactID, sqlrow.Nanos(a.At),
			a.Kind, a.Flow, a.RunID, a.Text, a.Data
	}
	_, err := t.exec("flush_activity", pq.Array(ids), pq.Array(contacts), pq.Array(ats), pq.Array(kinds), pq.Array(flows),
		pq.Array(runs), pq.Array(texts), pq.Array(data))
	t.buf.activity = t.buf.activity[:0]
	return err
}

// flushOutbox inserts the buffered outbox items.
func (t *Tx) flushOutbox() error {
	rows := t.buf.outbox
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	ids, contacts, lanes, kinds, runs, seqs, payloads, statuses, attempts, nexts, errs, created := make([]int64, n),
		make([]string, n), make([]string, n), make([]string, n), make([]int64, n), make([]int64, n), make([][]byte, n),
		make([]string, n), make([]int64, n), make([]int64, n), make([]string, n), make([]int64, n)
	for i, o := range rows {
		ids[i], contacts[i], lanes[i], kinds[i], runs[i], seqs[i], payloads[i], statuses[i], attempts[i], nexts[i], errs[i], created[i] =
			o.ID, o.ContactID, o.Lane, o.Kind, o.RunID, int64(o.Seq), o.Payload, o.Status, int64(o.Attempts),
			sqlrow.Nanos(o.NextAt), o.Err, sqlrow.Nanos(o.Created)
		if payloads[i] == nil {
			payloads[i] = []byte{}
		}
	}
	_, err := t.exec("flush_outbox", pq.Array(ids), pq.Array(contacts), pq.Array(lanes), pq.Array(kinds), pq.Array(runs),
		pq.Array(seqs), pq.Array(payloads), pq.Array(statuses), pq.Array(attempts), pq.Array(nexts), pq.Array(errs), pq.Array(created))
	t.buf.outbox = t.buf.outbox[:0]
	return err
}

// flushTimers inserts the buffered timers.
func (t *Tx) flushTimers() error {
	rows := t.buf.timers
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	ids, contacts, kinds, runs, seqs, ats := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n),
		make([]int64, n), make([]int64, n)
	for i, tm := range rows {
		ids[i], contacts[i], kinds[i], runs[i], seqs[i], ats[i] = tm.ID, tm.ContactID, tm.Kind, tm.RunID, int64(tm.Seq), sqlrow.Nanos(tm.At)
	}
	_, err := t.exec("flush_timers", pq.Array(ids), pq.Array(contacts), pq.Array(kinds), pq.Array(runs), pq.Array(seqs), pq.Array(ats))
	t.buf.timers = t.buf.timers[:0]
	return err
}

// flushAll inserts every buffered row: before a savepoint is set, rolled
// back to or released, and before the commit.
func (t *Tx) flushAll() error {
	if err := t.flushActivity(); err != nil {
		return err
	}
	if err := t.flushOutbox(); err != nil {
		return err
	}
	return t.flushTimers()
}

// dropTimers removes the buffered timers for which gone is true, and
// reports whether it removed any.
func (t *Tx) dropTimers(gone func(store.Timer) bool) bool {
	n := len(t.buf.timers)
	t.buf.timers = slices.DeleteFunc(t.buf.timers, gone)
	return len(t.buf.timers) < n
}
