// Package sqlite is the embedded store: SQLite through sqlx and the pure-Go
// driver modernc.org/sqlite, in WAL mode with synchronous=FULL, so that a
// committed event survives power loss. Its migrations are embedded and
// applied on Open.
//
// What it is weak at, plainly: SQLite has one writer at a time, so the pool
// holds a single connection and one process owns the file; transactions are
// taken IMMEDIATE, never upgraded. Throughput comes from the engine putting
// several events in one commit, not from concurrent writers. Several flowd
// processes on one database need the PostgreSQL backend.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migration/*.sql
var migrations embed.FS

// A DB is the embedded store.
type DB struct {
	// claims are the outbox items and the timers claimed, and until
	// when: kept in memory, as the file has one process, whose claims die
	// with it; claiming then writes nothing, and costs no commit
	claims, timerClaims claims

	db      *sqlx.DB
	stmts   map[string]*sqlx.Stmt // prepared once, bound to each transaction
	inserts map[string]*sqlx.Stmt // the buffers' inserts, by table and rows
	next    map[string]int64      // the next row id of the buffered tables
}

// Open opens (creating it if need be) the database at path and migrates it;
// ":memory:" is a database that lives as long as the DB.
func Open(path string) (*DB, error) {
	q := url.Values{}
	// temp_store: savepoints journal in memory, not in a temp file;
	// locking_mode: no other connection, so the row ids buffer.go hands out
	// are the database's
	for _, p := range []string{"locking_mode(EXCLUSIVE)", "journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)",
		"foreign_keys(1)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer: see the package comment
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &DB{db: db}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	return s, nil
}

// Name implements store.Store.
func (*DB) Name() string { return "sqlite" }

// Exclusive implements store.Store: the file is one process's.
func (*DB) Exclusive() bool { return true }

// Close implements store.Store.
func (s *DB) Close() error { return s.db.Close() }

// migrate applies the embedded migrations the database lacks, in order of
// their number, each in its own transaction.
func (s *DB) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return err
	}
	list, err := sqlrow.Migrations(migrations)
	if err != nil {
		return err
	}
	for _, m := range list {
		var n int
		if err := s.db.Get(&n, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		tx, err := s.db.Beginx()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(m.Body); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, m.Version, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func (s *DB) prepare() (err error) {
	if s.stmts, err = sqlrow.Prepare(s.db, queries); err != nil {
		return err
	}
	return s.prepareInserts()
}

// Begin implements store.Store.
func (s *DB) Begin(ctx context.Context) (store.Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{ctx: ctx, tx: tx, db: s, bound: map[string]*sqlx.Stmt{},
		activity: buffer{table: "activity", cols: activityInsert},
		outbox:   buffer{table: "outbox", cols: outboxInsert},
		timers:   buffer{table: "timers", cols: timerInsert}}, nil
}

// A Tx is a transaction on the embedded store.
type Tx struct {
	ctx   context.Context // Begin's
	tx    *sqlx.Tx
	db    *DB
	bound map[string]*sqlx.Stmt

	activity, outbox, timers buffer // rows to insert: see buffer.go
	hand                     handoff
}

// stmt is the prepared statement name, bound to this transaction.
func (t *Tx) stmt(name string) *sqlx.Stmt {
	if st, ok := t.bound[name]; ok {
		return st
	}
	st := t.tx.Stmtx(t.db.stmts[name])
	t.bound[name] = st
	return st
}

func (t *Tx) exec(name string, args ...any) (sql.Result, error) {
	res, err := t.stmt(name).ExecContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// affected runs a prepared statement and returns how many rows it changed.
func (t *Tx) affected(name string, args ...any) (int64, error) {
	res, err := t.exec(name, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Commit implements store.Tx.
func (t *Tx) Commit() error {
	if err := t.flushAll(); err != nil {
		t.tx.Rollback()
		return err
	}
	if len(t.hand.lanes)+len(t.hand.outcomes) > 0 {
		if err := t.lead(); err != nil {
			t.tx.Rollback()
			return err
		}
	}
	if err := t.tx.Commit(); err != nil {
		t.hand.handed = nil
		return err
	}
	t.claim()
	return nil
}

// Rollback implements store.Tx.
func (t *Tx) Rollback() error { return t.tx.Rollback() }

func (t *Tx) savepoint(verb, name string) error {
	if !sqlrow.SavepointName.MatchString(name) {
		return fmt.Errorf("savepoint name %q: want a lower-case identifier", name)
	}
	_, err := t.tx.ExecContext(t.ctx, verb+" "+name)
	return err
}

// Savepoint implements store.Tx.
func (t *Tx) Savepoint(name string) error {
	if err := t.flushAll(); err != nil {
		return err
	}
	return t.savepoint("SAVEPOINT", name)
}

// RollbackTo implements store.Tx: it undoes what followed the savepoint
// and releases it.
func (t *Tx) RollbackTo(name string) error {
	if err := t.flushAll(); err != nil {
		return err
	}
	if err := t.savepoint("ROLLBACK TO", name); err != nil {
		return err
	}
	return t.savepoint("RELEASE", name)
}

// Release implements store.Tx.
func (t *Tx) Release(name string) error {
	if err := t.flushAll(); err != nil {
		return err
	}
	return t.savepoint("RELEASE", name)
}

// Reset empties the database: every row of every table goes, and the
// schema and the prepared statements stay. A simulation that needs a fresh
// store for each case resets one instead of opening another, which costs
// migrating and preparing again (7 ms).
func (s *DB) Reset() error {
	var tables []string
	err := s.db.Select(&tables, `SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_migrations' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return err
	}
	tx, err := s.db.Beginx()
	if err != nil {
		return err
	}
	for _, table := range tables {
		if _, err := tx.Exec(`DELETE FROM "` + table + `"`); err != nil {
			tx.Rollback()
			return fmt.Errorf("reset %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	clear(s.next)
	s.claims.reset()
	s.timerClaims.reset()
	return nil
}

// LockContacts implements store.Tx: the transaction is the database's only
// writer already (IMMEDIATE), so there is nothing more to lock.
func (*Tx) LockContacts(...string) error { return nil }

// TryLockContact implements store.Tx, as LockContacts.
func (*Tx) TryLockContact(string) (bool, error) { return true, nil }

// LockAssignment implements store.Tx, as LockContacts.
func (*Tx) LockAssignment() error { return nil }

// claims are outbox items or timers claimed by this process.
type claims struct {
	mu    sync.Mutex
	until map[int64]time.Time
}

func (c *claims) claim(id int64, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.until == nil {
		c.until = map[int64]time.Time{}
	}
	c.until[id] = until
}

func (c *claims) release(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.until, id)
}

func (c *claims) held(id int64, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.until[id]
	return ok && now.Before(until)
}

// size is how many claims there are, held or ended.
func (c *claims) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.until)
}

// live is how many claims hold at now; it forgets those that ended.
func (c *claims) live(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, until := range c.until {
		if !now.Before(until) {
			delete(c.until, id)
		}
	}
	return len(c.until)
}

func (c *claims) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.until)
}
