package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// A Flow is one flow the engine runs: its program and the source it was
// compiled from, which the store keeps by hash so that a run paused in this
// version can resume after the flow changed or the process restarted.
type Flow struct {
	Program *interpreter.Program
	Source  []byte
}

// Config is the workspace's settings the engine applies.
type Config struct {
	// AutoClose closes a conversation this long after an agent's last
	// message when the contact has not answered; 0 is DefaultAutoClose, a
	// negative value never.
	AutoClose time.Duration
	Location  *time.Location // the workspace timezone; nil is UTC
	// BusinessHours are the workspace's, which during business hours
	// checks; nil is interpreter.DefaultBusinessHours.
	BusinessHours []interpreter.HoursSpec
	// FiringCap and FiringWindow bound the flows one contact may enter
	// in a window before a start set off by a flow's change is refused;
	// 0 is the default.
	FiringCap    int
	FiringWindow time.Duration
	// Now is the clock; nil is time.Now. Tests and the sandbox set a
	// fake one.
	Now func() time.Time
	// Directory is the workspace's users and teams, which the engine
	// seeds the store with; nil is none.
	Directory Directory
	// ExplainDrafts records, when an event's trigger would have started a
	// draft, that it did not: a simulation shows why; in production every
	// event would list every draft listening.
	ExplainDrafts bool
	// MaxRuns, when set, bounds the runs the engine starts in all: a
	// simulated world's cap, so that flows that start each other for a
	// simulated year stop, visibly, before they fill memory.
	MaxRuns int
	// Meter is told what the engine does, for metrics; nil is none.
	Meter Meter
	// TimerLease is how long the timers one Tick claims are left to it
	// before another process may fire them (it died first); 0 is
	// DefaultTimerLease.
	TimerLease time.Duration
	// CacheContacts is how many contacts' states the engine keeps between
	// events instead of reading them back; 0 is DefaultCacheContacts, a
	// negative value none. Only an engine that is the store's one writer
	// keeps any (store.Store.Exclusive): the embedded store is one
	// process's.
	CacheContacts int
}

// A Meter is told what the engine and its dispatcher do: a service's
// metrics. Its methods are called on the engine's hot path, and must be
// quick and safe for concurrent use.
type Meter interface {
	// Handled is a transaction of events committed (failed counts those
	// undone in it) and how long it took.
	Handled(events, failed int, took time.Duration)
	// Carried is an outbox item carried out: its lane and what came of
	// it: delivered, retried or failed.
	Carried(lane, result string)
	// Fired is a timer fired, late by lag.
	Fired(kind string, lag time.Duration)
}

type noMeter struct{}

func (noMeter) Handled(int, int, time.Duration) {}
func (noMeter) Carried(string, string)          {}
func (noMeter) Fired(string, time.Duration)     {}

// Parallel is how many transactions an engine on a shared store handles at
// once: while one waits on the database, another is handled.
const Parallel = 2

// DefaultCacheContacts is the contacts an engine keeps in memory by default.
const DefaultCacheContacts = 10_000

// An Engine turns events into store transactions: it selects and enrols
// flows, resumes waiting runs, applies their effects to the contact and the
// conversation, records activity, schedules timers and queues outbound work.
// It is safe for concurrent use. On the embedded store it handles one
// transaction at a time; on a shared one, Parallel at once.
type Engine struct {
	st  store.Store
	cfg Config

	// mu guards what follows. A transaction on an exclusive store holds it
	// alone: one at a time, and the cache is its. On a shared store,
	// Parallel transactions hold it shared, each with a machine of its
	// own, so that one is handled while another waits on the database;
	// what changes the flows or the settings waits for all of them.
	mu        sync.RWMutex
	exclusive bool
	machine   interpreter.Machine       // an exclusive store's transactions'
	machines  chan *interpreter.Machine // a shared store's, one per transaction under way
	pool      []*interpreter.Machine    // the same, all of them
	flows     []*interpreter.Program    // current versions, by name
	byName    map[string]*interpreter.Program
	hashMu    sync.Mutex                      // guards byHash, which transactions fill
	byHash    map[string]*interpreter.Program // every version compiled so far
	cache     *stateCache
	started   atomic.Int64 // runs started in committed transactions, for MaxRuns

	subsMu     sync.Mutex
	subs       [wakeKinds][]chan struct{} // see Subscribe
	actSubs    map[string][]chan struct{} // by contact: see SubscribeActivity
	actWatched atomic.Int64               // how many
	// timerWake is when the timer loop will look next (Unix nanoseconds;
	// 0: it is looking): a timer added for later need not wake it.
	timerWake atomic.Int64
	// handOff is the running dispatcher's hand-offs, if one receives them
	// (handoff.go)
	handOff atomic.Pointer[handOffs]
}

// What a subscriber is woken for.
const (
	WakeTimers = iota // a committed transaction added a timer
	WakeOutbox        // a committed transaction queued outbox work
	wakeKinds
)

// Subscribe returns a channel that receives a value after a committed
// transaction did what kind says (coalesced: one value stands for any
// number), so that the loops that fire timers and carry out the outbox
// look again at once instead of at their next poll. Cancel stops the
// values; the channel is not closed.
func (e *Engine) Subscribe(kind int) (wake <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	e.subs[kind] = append(e.subs[kind], ch)
	return ch, func() {
		e.subsMu.Lock()
		defer e.subsMu.Unlock()
		e.subs[kind] = slices.DeleteFunc(e.subs[kind], func(c chan struct{}) bool { return c == ch })
	}
}

// notify wakes the subscribers of kind.
func (e *Engine) notify(kind int) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	for _, ch := range e.subs[kind] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// SubscribeActivity returns a channel that receives a value after a
// committed transaction added to the contact's activity (coalesced), so
// that a web chat's stream of one contact wakes for that contact only.
// Cancel stops the values; the channel is not closed.
func (e *Engine) SubscribeActivity(contactID string) (wake <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	if e.actSubs == nil {
		e.actSubs = map[string][]chan struct{}{}
	}
	e.actSubs[contactID] = append(e.actSubs[contactID], ch)
	e.actWatched.Add(1)
	return ch, func() {
		e.subsMu.Lock()
		defer e.subsMu.Unlock()
		e.actSubs[contactID] = slices.DeleteFunc(e.actSubs[contactID], func(c chan struct{}) bool { return c == ch })
		if len(e.actSubs[contactID]) == 0 {
			delete(e.actSubs, contactID)
		}
		e.actWatched.Add(-1)
	}
}

// notifyActivity wakes the subscribers of the contacts' activity.
func (e *Engine) notifyActivity(contacts []string) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	for _, id := range contacts {
		for _, ch := range e.actSubs[id] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// A watchTx notes what a transaction adds that a loop or a stream waits
// for.
type watchTx struct {
	store.Tx
	m              *interpreter.Machine // the transaction's turns run on it
	starting       int                  // runs it started, for MaxRuns
	timers, outbox bool
	// whether this transaction hands its outbox work off (handoff.go), and
	// whether an outcome it recorded has its item tried again
	handing, retry bool
	soonest        time.Time // of the timers added
	watched        bool      // some contact's activity has a subscriber
	touched        []string  // then, the contacts whose activity grew
	// what the batch did up front (see Engine.upFront): the inbound
	// de-duplication keys it recorded, and whether each was seen before,
	// in the order its events come; the timers it deleted, and whether
	// each was still there; the contacts it identified
	seen       map[string][]bool
	fired      map[int64]bool
	identified map[[2]string]identified
}

func (w *watchTx) AddActivity(a *store.Activity) error {
	if w.watched && (len(w.touched) == 0 || w.touched[len(w.touched)-1] != a.ContactID) {
		w.touched = append(w.touched, a.ContactID)
	}
	return w.Tx.AddActivity(a)
}

func (w *watchTx) AddTimer(t *store.Timer) error {
	if !w.timers || t.At.Before(w.soonest) {
		w.soonest = t.At
	}
	w.timers = true
	return w.Tx.AddTimer(t)
}

func (w *watchTx) Enqueue(o *store.Outbound) error {
	w.outbox = true
	return w.Tx.Enqueue(o)
}

// UpdateOutbound notes an outcome: the contact's next item of the lane
// may go now.
func (w *watchTx) UpdateOutbound(o *store.Outbound) error {
	w.outbox = true
	w.retry = w.retry || o.Status == store.OutPending
	return w.Tx.UpdateOutbound(o)
}

// New returns an engine on st running flows, whose sources it stores, and
// seeds the store with the directory's users.
func New(ctx context.Context, st store.Store, flows []Flow, cfg Config) (*Engine, error) {
	if cfg.AutoClose == 0 {
		cfg.AutoClose = DefaultAutoClose
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.FiringCap == 0 {
		cfg.FiringCap = DefaultFiringCap
	}
	if cfg.FiringWindow == 0 {
		cfg.FiringWindow = DefaultFiringWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheContacts == 0 {
		cfg.CacheContacts = DefaultCacheContacts
	}
	if cfg.TimerLease <= 0 {
		cfg.TimerLease = DefaultTimerLease
	}
	if !st.Exclusive() {
		cfg.CacheContacts = -1 // another process may change what it would keep
	}
	if cfg.Meter == nil {
		cfg.Meter = noMeter{}
	}
	e := &Engine{st: st, cfg: cfg, byHash: map[string]*interpreter.Program{}, cache: newStateCache(cfg.CacheContacts),
		exclusive: st.Exclusive()}
	if !e.exclusive {
		e.machines = make(chan *interpreter.Machine, Parallel)
		e.pool = []*interpreter.Machine{&e.machine}
		for range Parallel - 1 {
			e.pool = append(e.pool, new(interpreter.Machine))
		}
		for _, m := range e.pool {
			e.machines <- m
		}
	}
	var list []*interpreter.Program
	var byName map[string]*interpreter.Program
	err := e.inTx(ctx, func(tx store.Tx) (err error) {
		if list, byName, err = e.install(tx, flows); err != nil {
			return err
		}
		if cfg.Directory != nil {
			return seedUsers(tx, cfg.Directory.Users(), true)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.flows, e.byName = list, byName
	return e, nil
}

// install stores the flows' sources and returns them as the current
// versions are kept, once the transaction commits.
func (e *Engine) install(tx store.Tx, flows []Flow) ([]*interpreter.Program, map[string]*interpreter.Program, error) {
	byName := make(map[string]*interpreter.Program, len(flows))
	list := make([]*interpreter.Program, 0, len(flows))
	now := e.cfg.Now()
	for _, f := range flows {
		p := f.Program
		if _, dup := byName[p.Flow]; dup {
			return nil, nil, fmt.Errorf("%s: a second flow named %q", p.File, p.Flow)
		}
		if err := tx.SaveProgram(store.Program{Hash: p.Hash, Flow: p.Flow, File: p.File, Source: f.Source, Added: now}); err != nil {
			return nil, nil, err
		}
		byName[p.Flow] = p
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Flow < list[j].Flow })
	e.hashMu.Lock()
	defer e.hashMu.Unlock()
	for _, p := range list {
		e.byHash[p.Hash] = p // stored: a run may pause in it
	}
	return list, byName, nil
}

// Replace makes flows the current versions: events from now on select and
// start them. A run paused in an earlier version resumes in that version,
// compiled again from its stored source when this engine has not got it; a
// flow left out starts no new runs, and its paused runs finish.
func (e *Engine) Replace(ctx context.Context, flows []Flow) error {
	var list []*interpreter.Program
	var byName map[string]*interpreter.Program
	err := e.inTx(ctx, func(tx store.Tx) (err error) {
		list, byName, err = e.install(tx, flows)
		return err
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flows, e.byName = list, byName
	return nil
}

// SetLocation changes the workspace timezone for the events that follow.
func (e *Engine) SetLocation(loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.Location = loc
}

// SetBusinessHours changes the workspace's business hours for the events
// that follow; nil is interpreter.DefaultBusinessHours.
func (e *Engine) SetBusinessHours(hours []interpreter.HoursSpec) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.BusinessHours = hours
}

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.cfg.Now() }

// Store is the store the engine writes to.
func (e *Engine) Store() store.Store { return e.st }

// Work is what the engine's machines have done so far.
func (e *Engine) Work() interpreter.Work {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		return e.machine.Work()
	}
	var sum interpreter.Work
	for _, m := range e.pool {
		w := m.Work()
		sum.Instructions += w.Instructions
		sum.ExprSteps += w.ExprSteps
	}
	return sum
}

// EvalCondition evaluates a condition of interpreter.CompileCondition on
// the engine's machine, so that its work counts as the runs' do (a flow
// test's assert).
func (e *Engine) EvalCondition(prog *vm.Program, env map[string]any) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.machine.EvalCondition(prog, env)
}

// Handle handles one event in a transaction of its own.
func (e *Engine) Handle(ctx context.Context, ev Event) error {
	errs, err := e.HandleAll(ctx, []Event{ev})
	if err != nil {
		return err
	}
	return errs[0]
}

// HandleAll handles events in one transaction, in order, each an atomic
// unit: an event that fails is undone and reported in errs while the others
// commit. err is the transaction's: when it is set, none committed.
//
// Events rarely fail, so HandleAll first handles them all without
// savepoints, which cost two statements an event; when one fails, it rolls
// that back and handles them again, each in a savepoint of its own.
func (e *Engine) HandleAll(ctx context.Context, evs []Event) (errs []error, err error) {
	for try := 1; ; try++ {
		errs, err = e.handleAll(ctx, evs)
		busy := errors.Is(err, store.ErrBusy)
		var again []int // events undone because the store was busy
		for i, f := range errs {
			if errors.Is(f, store.ErrBusy) {
				again = append(again, i)
			}
		}
		if try == maxBusyTries || !busy && len(again) == 0 {
			return errs, err
		}
		if busy {
			continue // none committed: all again
		}
		retry := make([]Event, len(again))
		for j, i := range again {
			retry[j] = evs[i]
		}
		if errs2, err2 := e.handleAll(ctx, retry); err2 == nil {
			for j, i := range again {
				errs[i] = errs2[j]
			}
		}
		return errs, nil
	}
}

// maxBusyTries bounds how often HandleAll handles events again that a busy
// store undid (store.ErrBusy): two processes locking the same contacts in
// different orders, which the database breaks by failing one.
const maxBusyTries = 3

func (e *Engine) handleAll(ctx context.Context, evs []Event) (errs []error, err error) {
	start := time.Now()
	defer func() {
		if err == nil {
			failed := 0
			for _, f := range errs {
				if f != nil {
					failed++
				}
			}
			e.cfg.Meter.Handled(len(evs), failed, time.Since(start))
		}
	}()
	errs = make([]error, len(evs))
	var failed bool
	err = e.inTx(ctx, func(tx store.Tx) error {
		if e.exclusive { // a shared store's transactions run at once, without it
			e.cache.on = true
		}
		if err := e.lockContacts(tx, evs); err != nil {
			return err
		}
		if err := e.upFront(tx, evs); err != nil {
			return err
		}
		for i, ev := range evs {
			if errs[i] = e.handle(tx, ev); errs[i] != nil {
				failed = true
				return errs[i]
			}
		}
		return nil
	})
	switch {
	case !failed:
		return errs, err
	case len(evs) == 1:
		return errs, nil // rolled back: the event's own error
	}
	err = e.inTx(ctx, func(tx store.Tx) error {
		if err := e.lockContacts(tx, evs); err != nil {
			return err
		}
		for i, ev := range evs {
			var err error
			if errs[i], err = e.atomic(tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// lockContacts takes the locks of the contacts the events name, all at
// once, so that the store takes them in its fixed order. A channel's
// message names its contact by its identity, looked up first when another
// process may hold locks; a contact found only while its event is handled
// (a new identity, a webhook's lookup) is locked then, by newTurn.
//
// An outbox item's outcome with no answer for a run takes no lock unless
// the transaction hands work off: it changes the item's row only, which
// its claim keeps to this process, and waiting behind the contact's next
// turn would only hold its commit up. Handing work off, it hands off the
// lane's next items, which a turn of the contact may be queueing: the
// lock puts one after the other, so that the later one sees the earlier's
// (see Engine.wantsClaim).
func (e *Engine) lockContacts(tx store.Tx, evs []Event) error {
	if e.exclusive {
		return nil // no other writer: nothing to wait for
	}
	handing := false
	if w, ok := tx.(*watchTx); ok {
		handing = w.handing
	}
	ids := make([]string, 0, len(evs))
	var addrs []store.Address
	for _, ev := range evs {
		if in, ok := ev.(Inbound); ok {
			addrs = append(addrs, in.From)
		} else if o, ok := ev.(outcome); ok && o.result == nil && !handing {
			continue
		} else if id := ev.contact(); id != "" {
			ids = append(ids, id)
		}
	}
	if len(addrs) > 0 {
		found, err := tx.Identities(addrs) // one lookup for all
		if err != nil {
			return err
		}
		for _, id := range found {
			if id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return tx.LockContacts(ids...)
}

// ignoreNotFound is err, or nil when it is store.ErrNotFound.
func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// inTx runs fn in a transaction, which it commits unless fn fails. The
// contact states fn's turns leave are cached only if fn turned the cache on
// and the transaction committed.
func (e *Engine) inTx(ctx context.Context, fn func(store.Tx) error) error {
	m := &e.machine
	if e.exclusive {
		e.mu.Lock()
		defer e.mu.Unlock()
		defer func() { e.cache.on = false }()
	} else {
		e.mu.RLock()
		defer e.mu.RUnlock()
		m = <-e.machines
		defer func() { e.machines <- m }()
	}
	stx, err := e.st.Begin(ctx)
	if err != nil {
		return err
	}
	tx := &watchTx{Tx: stx, watched: e.actWatched.Load() > 0, m: m}
	ho := e.handOff.Load()
	if ho != nil && ho.open() {
		stx.HandOff(e.cfg.Now, ho.lease)
		tx.handing = true
	}
	if err := fn(tx); err != nil {
		e.cache.abort()
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		e.cache.abort()
		return err
	}
	e.cache.commit()
	e.started.Add(int64(tx.starting))
	if wakeAt := e.timerWake.Load(); tx.timers && (wakeAt == 0 || tx.soonest.UnixNano() < wakeAt) {
		e.notify(WakeTimers) // sooner than the timer loop will look
	}
	if tx.handing {
		if handed := stx.Handed(); len(handed) > 0 && !ho.put(handed) {
			go e.release(handed) // after this transaction's locks
		}
	}
	if e.wantsClaim(tx) {
		e.notify(WakeOutbox)
	}
	if len(tx.touched) > 0 {
		e.notifyActivity(tx.touched)
	}
	return nil
}

// claimTx runs fn, which claims work and runs no turn, in a transaction:
// on a shared store without a machine, so that it does not wait behind
// the transactions that run turns, which may hold them all.
func (e *Engine) claimTx(ctx context.Context, fn func(store.Tx) error) error {
	if e.exclusive {
		return e.inTx(ctx, fn)
	}
	tx, err := e.st.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// atomic handles one event in a savepoint: the event's own failure is
// rolled back and returned as failed; err is the transaction's, which a
// failed savepoint leaves unusable.
func (e *Engine) atomic(tx store.Tx, ev Event) (failed, err error) {
	const sp = "event"
	if err := tx.Savepoint(sp); err != nil {
		return nil, err
	}
	if failed = e.handle(tx, ev); failed != nil {
		return failed, tx.RollbackTo(sp) // which releases it
	}
	return nil, tx.Release(sp)
}

// handle handles one event and the assignments it lets go ahead.
func (e *Engine) handle(tx store.Tx, ev Event) error {
	if u, ok := ev.(UserStatus); ok {
		if err := tx.LockAssignment(); err != nil {
			return err
		}
		user, err := tx.User(u.User)
		if err != nil {
			return err
		}
		user.Status = u.Status
		if err := tx.SaveUser(*user); err != nil {
			return err
		}
		return e.retryAssignments(tx)
	}
	switch ev := ev.(type) {
	case Inbound:
		return e.inbound(tx, ev)
	case outcome:
		return e.record(tx, ev)
	case SaveContact:
		return e.saveContact(tx, ev)
	case Erase:
		return e.erase(tx, ev)
	case Webhook:
		if ev.Contact == "" { // named by the body: found, or created
			id, created, err := e.resolve(tx, ev.Key, ev.Value, ev.Create)
			if err != nil {
				return err
			}
			ev.Contact = id
			t, err := e.newTurn(tx, id, ev)
			if err != nil {
				return err
			}
			if created {
				t.c.Fields[ev.Key], t.contactDirty = ev.Value, true
			}
			if err := t.event(ev); err != nil {
				return err
			}
			return e.finish(t)
		}
	}
	t, err := e.newTurn(tx, ev.contact(), ev)
	if err != nil {
		return err
	}
	if err := t.event(ev); err != nil {
		return err
	}
	return e.finish(t)
}

// finish runs what the turn's event set going, writes the turn back, and
// gives queued assignments out when it freed an assignee's slot.
func (e *Engine) finish(t *turn) error {
	if err := t.run(); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if t.freed {
		return e.retryAssignments(t.tx)
	}
	return nil
}

// maxRetries bounds the queued assignments one event retries.
const maxRetries = 100

// retryAssignments gives queued assignments, oldest first, to the users
// who can take them now (one came online, a conversation closed).
func (e *Engine) retryAssignments(tx store.Tx) error {
	queued, err := tx.Queued(laneAssign, maxRetries)
	if err != nil {
		return err
	}
	for _, o := range queued {
		// the assignment lock is held: waiting for a contact's now could
		// wait for a transaction that waits for it; one busy is retried
		// by the next event that frees a slot
		if ok, err := tx.TryLockContact(o.ContactID); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		t, err := e.newTurn(tx, o.ContactID, nil)
		if err != nil {
			return err
		}
		if err := t.event(assignDue{o}); err != nil {
			return err
		}
		if err := t.run(); err != nil {
			return err
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}

// maxDue bounds the timers one Tick claims and fires in one transaction:
// a storm of timers drains in several, each committed as it is done.
const maxDue = 256

// DefaultTimerLease is how long timers claimed by one process are left to
// it before another may fire them: the claimer died before they fired.
const DefaultTimerLease = 30 * time.Second

// Tick claims the timers due by now and fires them, each as an event of its
// own, in one transaction as HandleAll handles events; each deletes its
// timer as it fires, so a timer fires once, whichever process claimed it.
// A timer whose event fails is deleted too, with the failure in the
// contact's activity: it is not fired again at every tick. Tick returns how
// many fired, and the events' errors joined.
func (e *Engine) Tick(ctx context.Context) (fired int, failed error) {
	var due []store.Timer
	err := e.claimTx(ctx, func(tx store.Tx) (err error) {
		now := e.cfg.Now()
		due, err = tx.ClaimTimers(now, now.Add(e.cfg.TimerLease), maxDue)
		return err
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	evs := make([]Event, len(due))
	for i, tm := range due {
		evs[i] = timerDue{tm}
	}
	errs, err := e.HandleAll(ctx, evs)
	if err != nil {
		return 0, err
	}
	now := e.cfg.Now() // committed: how late each fired
	for _, tm := range due {
		e.cfg.Meter.Fired(tm.Kind, now.Sub(tm.At))
	}
	var failures []error
	for i, f := range errs {
		if f == nil {
			continue
		}
		failures = append(failures, f)
		tm := due[i]
		err := e.inTx(ctx, func(tx store.Tx) error {
			// a contact's activity takes its ids under its lock, in the
			// order it commits (readers page by id)
			if err := tx.LockContacts(tm.ContactID); err != nil {
				return err
			}
			if err := tx.DeleteTimer(tm.ID); err != nil {
				return ignoreNotFound(err)
			}
			return errors.Join(tx.AddActivity(&store.Activity{ContactID: tm.ContactID,
				At: e.cfg.Now(), Kind: KindError, RunID: tm.RunID, Text: "failed: timer: " + f.Error()}))
		})
		if err != nil {
			return len(due), errors.Join(append(failures, err)...)
		}
	}
	return len(due), errors.Join(failures...)
}

// NextTimer is when the next timer falls due.
func (e *Engine) NextTimer(ctx context.Context) (time.Time, bool, error) {
	tx, err := e.st.Begin(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	defer tx.Rollback()
	return tx.NextTimer(e.cfg.Now())
}

// Flow is the current version of a flow, or nil.
func (e *Engine) Flow(name string) *interpreter.Program {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.byName[name]
}

// Flows are the current versions of the flows, by name.
func (e *Engine) Flows() []*interpreter.Program {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.flows
}

// Program is the version of a flow with the hash: one this engine runs or
// ran, or one the store keeps the source of, compiled again.
func (e *Engine) Program(ctx context.Context, hash string) (*interpreter.Program, error) {
	var p *interpreter.Program
	err := e.inTx(ctx, func(tx store.Tx) (err error) {
		p, err = e.program(tx, hash)
		return err
	})
	return p, err
}

// program is the version of a flow a run paused in: one compiled already,
// or the stored source compiled again.
func (e *Engine) program(tx store.Tx, hash string) (*interpreter.Program, error) {
	e.hashMu.Lock()
	p, ok := e.byHash[hash]
	e.hashMu.Unlock()
	if ok {
		return p, nil
	}
	rec, err := tx.Program(hash)
	if err != nil {
		return nil, err
	}
	p, _, err = interpreter.CompileSource(rec.File, rec.Source)
	if err != nil {
		return nil, fmt.Errorf("program %s (%s): %w", hash, rec.Flow, err)
	}
	switch hash {
	case p.Hash:
	case p.LegacyHash: // kept by an earlier flowd: kept by today's hash too, which its runs move to
		if err := tx.SaveProgram(store.Program{Hash: p.Hash, Flow: rec.Flow, File: rec.File, Source: rec.Source, Added: rec.Added}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("program %s (%s) compiles to %s with this flowd", hash, rec.Flow, p.Hash)
	}
	e.hashMu.Lock()
	e.byHash[hash] = p
	e.hashMu.Unlock()
	return p, nil
}

// RunTimers fires timers as they fall due until ctx ends, as a service
// does: it sleeps until the next timer's deadline, at most a second (a
// timer another process added), and wakes early when events were handled
// (one may have added a sooner timer). On a shared store it runs a loop for
// each transaction the engine handles at once (Parallel): each claims
// timers of its own.
func (e *Engine) RunTimers(ctx context.Context) {
	if e.exclusive {
		e.timerLoop(ctx)
		return
	}
	var wg sync.WaitGroup
	for range Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.timerLoop(ctx)
		}()
	}
	wg.Wait()
}

func (e *Engine) timerLoop(ctx context.Context) {
	wake, cancel := e.Subscribe(WakeTimers)
	defer cancel()
	for ctx.Err() == nil {
		at, ok, err := e.NextTimer(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				slog.Error("timers: reading the next", "err", err)
			}
		case ok && !at.After(e.cfg.Now()):
			fired, err := e.Tick(ctx)
			if err != nil && ctx.Err() == nil {
				slog.Error("timers: firing", "err", err)
			}
			if fired > 0 && err == nil {
				continue // more may be due
			}
		}
		wait := time.Second
		if ok && err == nil {
			wait = min(wait, max(at.Sub(e.cfg.Now()), time.Millisecond))
		}
		e.timerWake.Store(e.cfg.Now().Add(wait).UnixNano())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		e.timerWake.Store(0)
	}
}

// Retention is how long the store keeps what only looks back: inbound
// de-duplication keys, contacts' activity, and outbox rows done with. 0
// keeps them for ever.
type Retention struct {
	Dedup, Activity, Outbox time.Duration
}

// pruneBatch bounds the rows of each kind one transaction of Prune deletes.
const pruneBatch = 5000

// Prune deletes what is past its retention, a batch per transaction, so
// that events wait for no long one; it returns how many rows went.
func (e *Engine) Prune(ctx context.Context, r Retention) (int, error) {
	before := func(d time.Duration) time.Time {
		if d <= 0 {
			return time.Time{}
		}
		return e.cfg.Now().Add(-d)
	}
	p := store.Prune{Dedup: before(r.Dedup), Activity: before(r.Activity), Outbox: before(r.Outbox), Limit: pruneBatch}
	total := 0
	for ctx.Err() == nil {
		var n int
		err := e.inTx(ctx, func(tx store.Tx) (err error) {
			n, err = tx.Prune(p)
			return err
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, ctx.Err()
}

// OutboxDepth is how many outbox items wait to be carried out.
func (e *Engine) OutboxDepth(ctx context.Context) (int, error) {
	tx, err := e.st.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	return tx.OutboxDepth()
}
