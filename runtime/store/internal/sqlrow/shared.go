package sqlrow

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/jmoiron/sqlx"
)

// The backends' logic that is the same whatever their SQL: each runs its
// own prepared statements of the same names through an Exec.

// An Exec runs the backend's prepared statement name and returns how many
// rows it changed.
type Exec func(name string, args ...any) (int64, error)

// Prepare prepares a backend's queries, by name, once for the store.
func Prepare(db *sqlx.DB, queries map[string]string) (map[string]*sqlx.Stmt, error) {
	stmts := make(map[string]*sqlx.Stmt, len(queries))
	for name, q := range queries {
		st, err := db.Preparex(q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		stmts[name] = st
	}
	return stmts, nil
}

// UpdateRun implements store.Tx.UpdateRun with the statements
// update_waiting_run (a waiting run only ever waits again or ends: its
// status stays, and so do the indexes on it) and update_run.
func UpdateRun(exec Exec, r *store.Run) error {
	var n int64
	var err error
	if r.Status == store.RunWaiting {
		n, err = exec("update_waiting_run", r.Program, r.Cont, r.Wait, r.WaitSeq, Nanos(r.Deadline), Nanos(r.Updated), r.ID, r.Seq)
	} else {
		n, err = exec("update_run", r.Program, r.Status, r.Cont, r.Vars, r.Wait, r.WaitSeq, Nanos(r.Deadline), r.Err,
			Nanos(r.Updated), r.ID, r.Seq)
	}
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("run %d at seq %d: %w", r.ID, r.Seq, store.ErrConflict)
	}
	r.Seq++
	return nil
}

// Prune implements store.Tx.Prune with the statements prune_dedup,
// prune_activity, prune_receipts and prune_outbox, each given the time
// before which rows go and how many at most.
func Prune(exec Exec, p store.Prune) (int, error) {
	total := 0
	for _, q := range []struct {
		name   string
		before time.Time
	}{{"prune_dedup", p.Dedup}, {"prune_activity", p.Activity}, {"prune_receipts", p.Outbox}, {"prune_outbox", p.Outbox}} {
		if q.before.IsZero() {
			continue
		}
		n, err := exec(q.name, Nanos(q.before), p.Limit)
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}

// A Migration is one of a backend's embedded migration files,
// NNN_what.sql, applied in order of its version NNN.
type Migration struct {
	Version int
	Name    string
	Body    string
}

// Migrations are the migration/*.sql files of fsys, by version.
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migration/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		base := strings.TrimPrefix(name, "migration/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: no version number", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: base, Body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// ScanContact scans a contact's columns: id, fields, tags, channel,
// channels, created.
func ScanContact(row Scanner) (*store.Contact, error) {
	c := &store.Contact{}
	dests, finish := contactDests(c)
	if err := row.Scan(dests...); err != nil {
		return nil, err
	}
	return c, finish()
}

// ScanContactState scans a contact's columns and then its latest
// conversation's (ConversationColsOf): the conversation is nil when it
// never had one.
func ScanContactState(row Scanner) (*store.Contact, *store.Conversation, error) {
	c, conv := &store.Contact{}, &store.Conversation{}
	cdests, finishContact := contactDests(c)
	vdests, finishConv := conversationDests(conv)
	if err := row.Scan(append(cdests, vdests...)...); err != nil {
		return nil, nil, err
	}
	if err := finishContact(); err != nil {
		return nil, nil, err
	}
	if conv.ID == 0 {
		return c, nil, nil
	}
	return c, conv, finishConv()
}
