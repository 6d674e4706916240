package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
)

// InsertRun implements store.Tx.
func (t *Tx) InsertRun(r *store.Run) error {
	res, err := t.exec("insert_run", r.ContactID, r.Flow, r.Program, r.Status, r.Cont, r.Vars, r.Wait, r.WaitSeq, sqlrow.Nanos(r.Deadline),
		r.Trigger, r.Parent, r.Err, sqlrow.Nanos(r.Started), sqlrow.Nanos(r.Updated))
	if err != nil {
		return err
	}
	r.ID, err = res.LastInsertId()
	r.Seq = 1
	return err
}

// Run implements store.Tx.
func (t *Tx) Run(id int64) (*store.Run, error) {
	r, err := sqlrow.ScanRun(t.stmt("run").QueryRowContext(t.ctx, id))
	if err != nil {
		return nil, sqlrow.NotFound(fmt.Sprintf("run %d", id), err)
	}
	return r, nil
}

// ActiveRuns implements store.Tx.
func (t *Tx) ActiveRuns(contactID string) ([]*store.Run, error) {
	rows, err := t.stmt("active_runs").QueryContext(t.ctx, contactID)
	return sqlrow.Collect(rows, err, sqlrow.ScanRun)
}

// WaitingRuns implements store.Tx.
func (t *Tx) WaitingRuns(flow string, after int64, limit int) ([]*store.Run, error) {
	rows, err := t.stmt("waiting_runs").QueryContext(t.ctx, flow, after, limit)
	return sqlrow.Collect(rows, err, sqlrow.ScanRun)
}

// Runs implements store.Tx.
func (t *Tx) Runs(contactID string, after int64, limit int) ([]*store.Run, error) {
	rows, err := t.stmt("contact_runs").QueryContext(t.ctx, contactID, after, limit)
	return sqlrow.Collect(rows, err, sqlrow.ScanRun)
}

// UpdateRun implements store.Tx.
func (t *Tx) UpdateRun(r *store.Run) error { return sqlrow.UpdateRun(t.affected, r) }

// SaveProgram implements store.Tx.
func (t *Tx) SaveProgram(p store.Program) error {
	_, err := t.exec("save_program", p.Hash, p.Flow, p.File, p.Source, sqlrow.Nanos(p.Added))
	return err
}

// Program implements store.Tx.
func (t *Tx) Program(hash string) (*store.Program, error) {
	p, err := sqlrow.ScanProgram(t.stmt("program").QueryRowContext(t.ctx, hash))
	if err != nil {
		return nil, sqlrow.NotFound("program "+hash, err)
	}
	return p, nil
}

// AddEnrolment implements store.Tx.
func (t *Tx) AddEnrolment(contactID, flow string, at time.Time) error {
	_, err := t.exec("add_enrolment", contactID, flow, sqlrow.Nanos(at))
	return err
}

// Enrolled implements store.Tx.
func (t *Tx) Enrolled(contactID, flow string) (bool, error) {
	var n int
	err := t.stmt("enrolled").QueryRowContext(t.ctx, contactID, flow).Scan(&n)
	return n > 0, err
}

// Enrolments implements store.Tx.
func (t *Tx) Enrolments(contactID string, since time.Time) (int, error) {
	var n int
	err := t.stmt("enrolments").QueryRowContext(t.ctx, contactID, sqlrow.Nanos(since)).Scan(&n)
	return n, err
}

// AddActivity implements store.Tx.
func (t *Tx) AddActivity(a *store.Activity) error {
	var err error
	a.ID, err = t.add(&t.activity, a.ContactID, sqlrow.Nanos(a.At), a.Kind, a.Flow, a.RunID, a.Text, a.Data)
	return err
}

// Activity implements store.Tx.
func (t *Tx) Activity(contactID string, after int64, limit int) ([]store.Activity, error) {
	return t.activityRows("activity", contactID, after, limit)
}

// ActivityBefore implements store.Tx.
func (t *Tx) ActivityBefore(contactID string, before int64, limit int) ([]store.Activity, error) {
	return t.activityRows("activity_before", contactID, before, before, limit)
}

func (t *Tx) activityRows(query string, args ...any) ([]store.Activity, error) {
	if err := t.flush(&t.activity); err != nil {
		return nil, err
	}
	rows, err := t.stmt(query).QueryContext(t.ctx, args...)
	return sqlrow.Collect(rows, err, sqlrow.ScanActivity)
}

// AddTimer implements store.Tx.
func (t *Tx) AddTimer(tm *store.Timer) error {
	var err error
	tm.ID, err = t.add(&t.timers, tm.ContactID, tm.Kind, tm.RunID, tm.Seq, sqlrow.Nanos(tm.At))
	return err
}

// DeleteRunTimers implements store.Tx.
func (t *Tx) DeleteRunTimers(runID int64, seq uint32) error {
	t.timers.drop(func(row []any) bool { return row[3] == runID && (seq == 0 || row[4] == seq) })
	var err error
	if seq == 0 {
		_, err = t.exec("delete_run_timers", runID)
	} else {
		_, err = t.exec("delete_run_timer", runID, seq)
	}
	return err
}

// DeleteContactTimers implements store.Tx.
func (t *Tx) DeleteContactTimers(contactID, kind string) error {
	t.timers.drop(func(row []any) bool { return row[1] == contactID && row[2] == kind && row[3] == int64(0) })
	_, err := t.exec("delete_kind_timers", contactID, kind)
	return err
}

// DueTimers implements store.Tx.
func (t *Tx) DueTimers(now time.Time, limit int) ([]store.Timer, error) {
	if err := t.flush(&t.timers); err != nil {
		return nil, err
	}
	rows, err := t.stmt("due_timers").QueryContext(t.ctx, sqlrow.Nanos(now), limit)
	return sqlrow.Collect(rows, err, sqlrow.ScanTimer)
}

// NextTimer implements store.Tx. The claims are this process's, which
// fires the timers it claims at once: none is left out.
func (t *Tx) NextTimer(time.Time) (time.Time, bool, error) {
	if err := t.flush(&t.timers); err != nil {
		return time.Time{}, false, err
	}
	var at int64
	err := t.stmt("next_timer").QueryRowContext(t.ctx).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return sqlrow.FromNanos(at), true, nil
}

// DeleteTimer implements store.Tx.
// DeleteTimers implements store.Tx: one at a time, as a statement of the
// embedded store costs no round trip.
func (t *Tx) DeleteTimers(ids []int64) ([]bool, error) {
	gone := make([]bool, len(ids))
	for i, id := range ids {
		err := t.DeleteTimer(id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			gone[i] = true
		case err != nil:
			return nil, err
		}
	}
	return gone, nil
}

// DeleteTimer implements store.Tx.
func (t *Tx) DeleteTimer(id int64) error {
	buffered := len(t.timers.rows)
	t.timers.drop(func(row []any) bool { return row[0] == id })
	if len(t.timers.rows) < buffered {
		return nil
	}
	res, err := t.exec("delete_timer", id)
	if err != nil {
		return err
	}
	t.db.timerClaims.release(id)
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(fmt.Errorf("timer %d: %w", id, store.ErrNotFound), err)
	}
	return nil
}

// ClaimTimers implements store.Tx: the claims are the process's, in
// memory, as ClaimOutbound's.
func (t *Tx) ClaimTimers(now, until time.Time, limit int) ([]store.Timer, error) {
	due, err := t.DueTimers(now, limit+t.db.timerClaims.live(now))
	if err != nil {
		return nil, err
	}
	due = slices.DeleteFunc(due, func(tm store.Timer) bool { return t.db.timerClaims.held(tm.ID, now) })
	if len(due) > limit {
		due = due[:limit]
	}
	for _, tm := range due {
		t.db.timerClaims.claim(tm.ID, until)
	}
	return due, nil
}

// Enqueue implements store.Tx.
func (t *Tx) Enqueue(o *store.Outbound) error {
	if o.Status == "" {
		o.Status = store.OutPending
	}
	var err error
	o.ID, err = t.add(&t.outbox, o.ContactID, o.Lane, o.Kind, o.RunID, o.Seq, o.Payload, o.Status, o.Attempts,
		sqlrow.Nanos(o.NextAt), o.Err, sqlrow.Nanos(o.Created))
	if err == nil {
		t.hand.enqueue(o)
	}
	return err
}

// DueOutbound implements store.Tx.
func (t *Tx) DueOutbound(now time.Time, limit int) ([]store.Outbound, error) {
	if err := t.flush(&t.outbox); err != nil {
		return nil, err
	}
	// a claimed item is left to its claimer, and the contact's later items
	// of its lane wait behind it: the query gives only the first of each,
	// claimed or not, so it takes as many more as there are claims
	rows, err := t.stmt("due_outbound").QueryContext(t.ctx, sqlrow.Nanos(now), limit+t.db.claims.size())
	due, err := sqlrow.Collect(rows, err, sqlrow.ScanOutbound)
	due = slices.DeleteFunc(due, func(o store.Outbound) bool { return t.db.claims.held(o.ID, now) })
	return due[:min(len(due), limit)], err
}

// NextOutbound implements store.Tx.
func (t *Tx) NextOutbound(now time.Time) (time.Time, bool, error) {
	if err := t.flush(&t.outbox); err != nil {
		return time.Time{}, false, err
	}
	var at sql.NullInt64
	if err := t.stmt("next_outbound").QueryRowContext(t.ctx, sqlrow.Nanos(now)).Scan(&at); err != nil {
		return time.Time{}, false, err
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return sqlrow.FromNanos(at.Int64), true, nil
}

// Queued implements store.Tx.
func (t *Tx) Queued(lane string, limit int) ([]store.Outbound, error) {
	if err := t.flush(&t.outbox); err != nil {
		return nil, err
	}
	rows, err := t.stmt("queued").QueryContext(t.ctx, lane, limit)
	return sqlrow.Collect(rows, err, sqlrow.ScanOutbound)
}

// WithdrawOutbound implements store.Tx.
func (t *Tx) WithdrawOutbound(runID int64, lanes ...string) error {
	// rows not inserted yet are withdrawn where they wait: no flush
	for _, row := range t.outbox.rows {
		if row[4] == runID && slices.Contains(lanes, row[2].(string)) && (row[7] == store.OutPending || row[7] == store.OutQueued) {
			row[7] = store.OutWithdrawn
		}
	}
	list, err := sqlrow.JSONText(lanes)
	if err != nil {
		return err
	}
	_, err = t.exec("withdraw", runID, list)
	return err
}

// ClaimOutbound implements store.Tx: the claims are the process's, in
// memory (see DB.claims), and hold even if the transaction rolls back.
func (t *Tx) ClaimOutbound(now, until time.Time, limit int) ([]store.Outbound, error) {
	due, err := t.DueOutbound(now, limit)
	if err != nil {
		return nil, err
	}
	var next []store.Outbound
	for _, h := range due {
		rows, err := t.stmt("lane_after").QueryContext(t.ctx, h.ContactID, h.Lane, h.ID, store.MaxChain-1)
		after, err := sqlrow.Collect(rows, err, sqlrow.ScanOutbound)
		if err != nil {
			return nil, err
		}
		for _, o := range after {
			if o.NextAt.After(now) || t.db.claims.held(o.ID, now) {
				break // the chain stops: what follows waits for it
			}
			next = append(next, o)
		}
	}
	due = store.Chain(due, next)
	for _, o := range due {
		t.db.claims.claim(o.ID, until)
	}
	return due, nil
}

// UpdateOutbound implements store.Tx.
func (t *Tx) UpdateOutbound(o *store.Outbound) error {
	if err := t.flush(&t.outbox); err != nil {
		return err
	}
	_, err := t.exec("update_outbound", o.Status, o.Attempts, sqlrow.Nanos(o.NextAt), o.Err, o.ID)
	if err == nil {
		t.db.claims.release(o.ID)
		t.hand.outcome(o)
	}
	return err
}

// Seen implements store.Tx.
func (t *Tx) Seen(key string, at time.Time) (bool, error) {
	res, err := t.exec("seen", key, sqlrow.Nanos(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

// SeenAll implements store.Tx: one key at a time, as a statement of the
// embedded store costs no round trip.
func (t *Tx) SeenAll(keys []string, at time.Time) ([]bool, error) {
	seen := make([]bool, len(keys))
	for i, k := range keys {
		var err error
		if seen[i], err = t.Seen(k, at); err != nil {
			return nil, err
		}
	}
	return seen, nil
}
