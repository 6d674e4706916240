// Package postgres is the shared store: PostgreSQL through sqlx and lib/pq,
// one database for any number of flowd processes, with no leader. Its
// migrations are embedded and applied on Open, under an advisory lock, so
// that processes starting at once apply each migration once.
//
// What makes sharing safe: a contact's events are serialized by an
// advisory lock on the contact (class 1), taken in ascending key order for
// all the contacts one batch names; assignment state by one workspace lock
// (class 2) taken after them. Due timers and outbox work are claimed with
// FOR UPDATE SKIP LOCKED and a lease in the row (claimed_until), which
// another process takes over once the claimer is gone. Deadlocks and
// serialization failures are reported as store.ErrBusy, so that the
// engine handles the events again.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

//go:embed migration/*.sql
var migrations embed.FS

// A DB is the shared store.
type DB struct {
	db    *sqlx.DB
	stmts map[string]*sqlx.Stmt // prepared once, bound to each transaction
}

// MaxConns bounds the connections one process opens.
const MaxConns = 16

// Open connects to the database at url (postgres://...), migrates it and
// prepares the statements.
func Open(url string) (*DB, error) {
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Redact(url), err)
	}
	db := sqlx.NewDb(sql.OpenDB(genericPlans{c}), "postgres")
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &DB{db: db}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", Redact(url), err)
	}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", Redact(url), err)
	}
	return s, nil
}

// genericPlans opens connections that plan each prepared statement once,
// for any arguments (plan_cache_mode = force_generic_plan). The statements
// are written so that their generic plans are index probes, and the plan
// tests check them in that mode. Left to choose, PostgreSQL planned the
// read-ahead statements afresh on every call, since a batch of few
// contacts looks cheaper than the ten a generic plan assumes: the planning
// took as long as the execution.
type genericPlans struct{ driver.Connector }

func (g genericPlans) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := g.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`, nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Redact is a connection URL without its password, for errors and logs.
func Redact(url string) string { return password.ReplaceAllString(url, "://$1:xxx@") }

var password = regexp.MustCompile(`://([^:/@]*):[^@]*@`)

// Name implements store.Store.
func (*DB) Name() string { return "postgres" }

// Exclusive implements store.Store: other processes may write.
func (*DB) Exclusive() bool { return false }

// Close implements store.Store.
func (s *DB) Close() error { return s.db.Close() }

// migrationLock is the advisory lock migrations are applied under.
const migrationLock = 0x666c6f7764 // "flowd"

// migrate applies the embedded migrations the database lacks, in order of
// their number, all in one transaction under the migration lock: a second
// process starting meanwhile waits, then finds them applied.
func (s *DB) migrate() error {
	list, err := sqlrow.Migrations(migrations)
	if err != nil {
		return err
	}
	tx, err := s.db.Beginx()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied bigint NOT NULL)`); err != nil {
		return err
	}
	var applied []int
	if err := tx.Select(&applied, `SELECT version FROM schema_migrations`); err != nil {
		return err
	}
	for _, m := range list {
		if slices.Contains(applied, m.Version) {
			continue
		}
		if _, err := tx.Exec(m.Body); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`, m.Version, time.Now().UnixNano()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *DB) prepare() (err error) {
	s.stmts, err = sqlrow.Prepare(s.db, queries)
	return err
}

// Begin implements store.Store.
func (s *DB) Begin(ctx context.Context) (store.Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{ctx: ctx, tx: tx, db: s, bound: map[string]*sqlx.Stmt{}}, nil
}

// A Tx is a transaction on the shared store, READ COMMITTED: what a
// statement reads is what had committed when it began, and the locks keep
// two transactions off one contact.
type Tx struct {
	ctx    context.Context // Begin's
	tx     *sqlx.Tx
	db     *DB
	bound  map[string]*sqlx.Stmt
	locked map[int64]bool // the advisory locks held
	// identities are the lookups of channels' contact ids so far: the
	// engine looks a message's contact up to lock it, then to handle it
	identities map[[2]string]string // "": none
	// fresh are the contacts this transaction numbered: no other has
	// rows of theirs, so their locks need no new ids (see buffers)
	fresh map[string]bool

	buf   buffers        // writes put off: see buffer.go
	ahead ahead          // rows read ahead: see ahead.go
	taken []int64        // the same, in the order taken
	marks map[string]int // len(taken) at each savepoint
	hand  handoff        // see HandOff
}

// stmt is the prepared statement name, bound to this transaction.
func (t *Tx) stmt(name string) *sqlx.Stmt {
	if st, ok := t.bound[name]; ok {
		return st
	}
	st := t.tx.StmtxContext(t.ctx, t.db.stmts[name])
	t.bound[name] = st
	return st
}

// exec runs a prepared statement and returns how many rows it changed.
func (t *Tx) exec(name string, args ...any) (int64, error) {
	if err := t.flushFor(name); err != nil {
		return 0, err
	}
	res, err := t.stmt(name).ExecContext(t.ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, classify(err))
	}
	return res.RowsAffected()
}

// flushFor makes the writes put off that the statement may need.
func (t *Tx) flushFor(name string) error {
	if needsFlush(name) {
		return t.flush()
	}
	return nil
}

// classify wraps the errors the engine acts on: deadlocks, serialization
// failures and lock timeouts are store.ErrBusy, broken uniqueness
// store.ErrConflict.
func classify(err error) error {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "40P01", "40001", "55P03":
		return fmt.Errorf("%w: %v", store.ErrBusy, err)
	case "23505":
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}

// Commit implements store.Tx.
func (t *Tx) Commit() error {
	if err := t.flush(); err != nil {
		t.tx.Rollback()
		return err
	}
	return classify(t.tx.Commit())
}

// Rollback implements store.Tx.
func (t *Tx) Rollback() error { return t.tx.Rollback() }

func (t *Tx) savepoint(verb, name string) error {
	if !sqlrow.SavepointName.MatchString(name) {
		return fmt.Errorf("savepoint name %q: want a lower-case identifier", name)
	}
	_, err := t.tx.ExecContext(t.ctx, verb+" "+name)
	return classify(err)
}

// Savepoint implements store.Tx.
func (t *Tx) Savepoint(name string) error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.savepoint("SAVEPOINT", name); err != nil {
		return err
	}
	if t.marks == nil {
		t.marks = map[string]int{}
	}
	t.marks[name] = len(t.taken)
	t.hand.mark(name)
	return nil
}

// RollbackTo implements store.Tx: it undoes what followed the savepoint,
// and releases it. PostgreSQL releases the advisory locks taken since, as
// part of what it undoes: they are no longer held.
func (t *Tx) RollbackTo(name string) error {
	// the buffers were flushed at the savepoint: what they hold came after
	// it, and goes with what the database undoes (which a failed statement
	// may have left refusing any other)
	t.buf.drop()
	t.forget()
	clear(t.identities) // one added since may be undone
	if err := t.savepoint("ROLLBACK TO SAVEPOINT", name); err != nil {
		return err
	}
	if mark, ok := t.marks[name]; ok {
		for _, k := range t.taken[mark:] {
			delete(t.locked, k)
		}
		t.taken = t.taken[:mark]
	}
	t.hand.rollbackTo(name)
	return t.savepoint("RELEASE SAVEPOINT", name)
}

// Release implements store.Tx.
func (t *Tx) Release(name string) error {
	if err := t.flush(); err != nil {
		return err
	}
	return t.savepoint("RELEASE SAVEPOINT", name)
}

// Lock classes: the high 32 bits of an advisory lock's key.
const (
	classContact    = 1
	classAssignment = 2
)

// contactKey is the advisory lock key of a contact: its class and a hash
// of its id. Two contacts may share a key; they are then serialized
// together, which is only slower.
func contactKey(id string) int64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return classContact<<32 | int64(h.Sum32())
}

// LockContacts implements store.Tx: the keys are taken in ascending order,
// in one statement.
func (t *Tx) LockContacts(ids ...string) error {
	var keys []int64
	for _, id := range ids {
		switch k := contactKey(id); {
		case t.locked[k]:
		case t.fresh[id]: // see holds
		default:
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	clear(t.buf.ids) // see buffers: ids taken after the lock
	// ids for the contacts held and these, and for the ones the addresses
	// looked up and not found will be
	contacts := len(t.locked) + len(keys) + len(t.fresh)
	for _, id := range t.identities {
		if id == "" {
			contacts++
		}
	}
	if err := t.takeIDs(keys, contacts); err != nil {
		return err
	}
	t.hold(keys...)
	return t.readAhead(ids)
}

// holds reports whether the transaction holds the contact's lock. A
// contact it numbered needs none: no other transaction knows it until this
// one commits. (Its key is not held: another contact may share it.)
func (t *Tx) holds(id string) bool { return t.fresh[id] || t.locked[contactKey(id)] }

func (t *Tx) hold(keys ...int64) {
	if t.locked == nil {
		t.locked = map[int64]bool{}
	}
	for _, k := range keys {
		t.locked[k] = true
	}
	t.taken = append(t.taken, keys...)
}

// TryLockContact implements store.Tx.
func (t *Tx) TryLockContact(id string) (bool, error) {
	k := contactKey(id)
	if t.locked[k] {
		return true, nil
	}
	if t.fresh[id] {
		return true, nil // see holds
	}
	var ok bool
	if err := t.stmt("try_lock").QueryRowContext(t.ctx, k).Scan(&ok); err != nil {
		return false, classify(err)
	}
	if ok {
		t.hold(k)
		clear(t.buf.ids) // see buffers: ids taken after the lock
	}
	return ok, nil
}

// LockAssignment implements store.Tx.
func (t *Tx) LockAssignment() error {
	const k = classAssignment << 32
	if t.locked[k] {
		return nil
	}
	if _, err := t.exec("lock", pq.Array([]int64{k})); err != nil {
		return err
	}
	t.hold(k)
	return nil
}
