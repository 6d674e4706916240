package sqlite

import (
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// A buffer holds a transaction's new rows of one table until something
// needs them in the table: a read of it, a savepoint, the commit. Then one
// statement inserts up to maxRows of them, where one an event would cost
// almost as much; a turn adds two activity rows, an outbound message and a
// timer. IDs are handed out as rows are added, from the DB's counter: the
// DB is the database's only connection (locking_mode=EXCLUSIVE).
type buffer struct {
	table string
	cols  []string // the first is id
	rows  [][]any
}

// chunks are the row counts of the prepared inserts, largest first: a flush
// of 37 rows takes three statements, 32, 4 and 1.
var chunks = []int{64, 32, 16, 8, 4, 2, 1}

var (
	activityInsert = []string{"id", "contact_id", "at", "kind", "flow", "run_id", "text", "data"}
	outboxInsert   = []string{"id", "contact_id", "lane", "kind", "run_id", "seq", "payload", "status", "attempts", "next_at", "err", "created"}
	timerInsert    = []string{"id", "contact_id", "kind", "run_id", "seq", "at"}
)

// add buffers a row (without its id) and returns the id it gets.
func (t *Tx) add(b *buffer, row ...any) (int64, error) {
	id, err := t.nextID(b.table)
	if err != nil {
		return 0, err
	}
	b.rows = append(b.rows, append([]any{id}, row...))
	return id, nil
}

// flush inserts the buffered rows of b.
func (t *Tx) flush(b *buffer) error {
	for len(b.rows) > 0 {
		n := 1
		for _, c := range chunks {
			if c <= len(b.rows) {
				n = c
				break
			}
		}
		st := t.db.inserts[insertKey(b.table, n)]
		args := make([]any, 0, n*len(b.cols))
		for _, row := range b.rows[:n] {
			args = append(args, row...)
		}
		if _, err := t.tx.Stmtx(st).ExecContext(t.ctx, args...); err != nil {
			return fmt.Errorf("insert into %s: %w", b.table, err)
		}
		b.rows = b.rows[n:]
	}
	b.rows = nil
	return nil
}

// flushAll inserts every buffered row: before a savepoint is set, rolled
// back to or released, and before the commit.
func (t *Tx) flushAll() error {
	for _, b := range []*buffer{&t.activity, &t.outbox, &t.timers} {
		if err := t.flush(b); err != nil {
			return err
		}
	}
	return nil
}

// drop removes the buffered rows of b for which gone is true.
func (b *buffer) drop(gone func(row []any) bool) {
	kept := b.rows[:0]
	for _, row := range b.rows {
		if !gone(row) {
			kept = append(kept, row)
		}
	}
	clear(b.rows[len(kept):])
	b.rows = kept
}

// nextID hands out the table's next row id. A transaction that rolls back
// leaves a gap.
func (t *Tx) nextID(table string) (int64, error) {
	s := t.db
	if s.next == nil {
		s.next = map[string]int64{}
	}
	id, ok := s.next[table]
	if !ok {
		if err := t.tx.GetContext(t.ctx, &id, `SELECT coalesce(max(id), 0) + 1 FROM `+table); err != nil {
			return 0, err
		}
	}
	s.next[table] = id + 1
	return id, nil
}

func insertKey(table string, n int) string { return fmt.Sprintf("%s/%d", table, n) }

// prepareInserts prepares the buffers' inserts, for each table and chunk.
func (s *DB) prepareInserts() error {
	s.inserts = map[string]*sqlx.Stmt{}
	for _, b := range []buffer{{table: "activity", cols: activityInsert}, {table: "outbox", cols: outboxInsert}, {table: "timers", cols: timerInsert}} {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
		for _, n := range chunks {
			q := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
				strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
			st, err := s.db.Preparex(q)
			if err != nil {
				return fmt.Errorf("insert %d rows into %s: %w", n, b.table, err)
			}
			s.inserts[insertKey(b.table, n)] = st
		}
	}
	return nil
}
