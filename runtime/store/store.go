// Package store defines what the engine keeps and how it asks for it: the
// Store and Tx interfaces and the records they hold. Backends (store/sqlite,
// and PostgreSQL next) implement them, each with its SQL beside it, and each
// runs the contract suite in store/storetest. The engine above never writes
// SQL.
package store

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// A Store is a backend. The engine writes through one transaction at a time
// per process, and groups several events in it, each in a savepoint.
type Store interface {
	// Begin starts a transaction; ctx governs it, each of its statements
	// included, until it commits or rolls back.
	Begin(ctx context.Context) (Tx, error)
	Close() error
	// Name names the backend, as the contract suite's subtests do: "sqlite".
	Name() string
	// Exclusive reports whether this process is the database's only
	// writer (the embedded store), so that what it committed last is what
	// the database holds: the engine may then keep contacts in memory.
	Exclusive() bool
}

// A Tx is one transaction: every read and write the engine makes while it
// handles events. Getters return ErrNotFound for a missing record.
//
// Several processes may share a database. A contact's events are
// serialized by the contact's lock, which a transaction takes before it
// reads the contact and holds until it ends; the state that assignment
// shares between contacts (users, open counts, the queue) by the
// workspace's assignment lock, taken after the contact locks. A backend
// that finds two transactions waiting for each other ends one with an
// error wrapping ErrBusy: the engine handles its events again.
type Tx interface {
	// LockContacts takes the contacts' locks, in the backend's fixed
	// order, so that two transactions locking the same contacts never wait
	// for each other; a lock already held is not taken again.
	LockContacts(ids ...string) error
	// TryLockContact takes the contact's lock if no other transaction
	// holds it, without waiting: false when one does.
	TryLockContact(id string) (bool, error)
	// LockAssignment takes the workspace's assignment lock.
	LockAssignment() error

	Commit() error
	Rollback() error
	// Savepoint, RollbackTo and Release bound one event inside the
	// transaction, so that a failing event leaves the others alone.
	// RollbackTo undoes what followed the savepoint and releases it.
	Savepoint(name string) error
	RollbackTo(name string) error
	Release(name string) error

	Contact(id string) (*Contact, error)
	// ContactState is the contact and its latest conversation, open or
	// closed (nil when it never had one): what every event reads first.
	ContactState(id string) (*Contact, *Conversation, error)
	// SaveContact inserts the contact or updates the one saved: its
	// fields, tags and channels; Created stays the first save's.
	SaveContact(c *Contact) error

	// OpenConversation is the contact's open conversation; ErrNotFound
	// when it has none.
	OpenConversation(contactID string) (*Conversation, error)
	// LastConversation is the contact's latest conversation, open or
	// closed; ErrNotFound when it never had one.
	LastConversation(contactID string) (*Conversation, error)
	// Conversations counts the contact's conversations, open or closed.
	Conversations(contactID string) (int, error)
	// SaveConversation inserts c (ID 0: it sets the ID and Number, one
	// past the contact's latest) or updates it. A contact has at most one
	// open conversation, and each number once: opening a second, or two
	// transactions numbering the same one, is ErrConflict.
	SaveConversation(c *Conversation) error
	// TouchConversation saves only the last message fields of a saved
	// conversation (last_incoming, last_outgoing, ...): what most events
	// change.
	TouchConversation(c *Conversation) error

	Users() ([]User, error)
	User(id string) (*User, error)
	SaveUser(u User) error
	// OpenCounts is how many open conversations each user is assigned.
	OpenCounts() (map[string]int, error)

	// InsertRun stores a new run and sets its ID and Seq.
	InsertRun(r *Run) error
	Run(id int64) (*Run, error)
	// Runs are the contact's runs after the given ID, whatever their
	// status, oldest first, at most limit.
	Runs(contactID string, after int64, limit int) ([]*Run, error)
	// ActiveRuns are the contact's waiting runs, oldest first.
	ActiveRuns(contactID string) ([]*Run, error)
	// WaitingRuns are the waiting runs of a flow, whatever their contact,
	// after the given ID, oldest first, at most limit.
	WaitingRuns(flow string, after int64, limit int) ([]*Run, error)
	// UpdateRun saves r if it is still at the Seq it was loaded with, and
	// then bumps r.Seq; a stale update (another event moved the run on)
	// changes nothing and is ErrConflict. A run that ended never waits
	// again: saving it as waiting is ErrConflict too.
	UpdateRun(r *Run) error

	// SaveProgram keeps the source a program was compiled from, by hash;
	// saving a hash again changes nothing.
	SaveProgram(p Program) error
	Program(hash string) (*Program, error)

	// AddEnrolment records that the contact entered the flow; Enrolled
	// says whether it ever did (once per contact).
	AddEnrolment(contactID, flow string, at time.Time) error
	Enrolled(contactID, flow string) (bool, error)
	// Enrolments counts the contact's enrolments in any flow since a time.
	Enrolments(contactID string, since time.Time) (int, error)

	// AddActivity adds an entry to the contact's timeline and sets its
	// ID. The caller holds the contact's lock, so that a contact's entries
	// take IDs in the order their transactions commit: readers page by ID.
	AddActivity(a *Activity) error
	// Activity lists the contact's activity after the given ID, oldest
	// first, at most limit entries.
	Activity(contactID string, after int64, limit int) ([]Activity, error)
	// ActivityBefore lists the contact's activity before the given ID (0:
	// from the latest), newest first, at most limit entries: reading a
	// conversation back from its end.
	ActivityBefore(contactID string, before int64, limit int) ([]Activity, error)

	AddTimer(t *Timer) error
	// DeleteRunTimers drops a run's timers: the one of its wait seq, or
	// all of them when seq is 0 (the run ended).
	DeleteRunTimers(runID int64, seq uint32) error
	// DeleteContactTimers drops the contact's timers of a kind that
	// belongs to no run (auto-close).
	DeleteContactTimers(contactID, kind string) error
	// DueTimers are the timers due at now, soonest first, claimed or not.
	DueTimers(now time.Time, limit int) ([]Timer, error)
	// ClaimTimers claims the timers due at now that no other claim holds,
	// soonest first, at most limit, until the lease ends: until then no
	// other claim takes them, and a process that dies holding them leaves
	// them to another once the lease is over. A timer's claim ends when it
	// is deleted, as it fires.
	ClaimTimers(now, until time.Time, limit int) ([]Timer, error)
	// NextTimer is when the next timer no other claim holds at now is due;
	// ok is false when none is.
	NextTimer(now time.Time) (at time.Time, ok bool, err error)
	// DeleteTimer deletes a timer as it fires: ErrNotFound when it is
	// gone already (another transaction fired it).
	DeleteTimer(id int64) error
	// DeleteTimers deletes several timers at once, as DeleteTimer each:
	// gone is true for one that was gone already.
	DeleteTimers(ids []int64) (gone []bool, err error)

	Enqueue(o *Outbound) error
	// DueOutbound is the outbound work ready at now that no claim holds:
	// for each contact and lane only the oldest undelivered item, so that
	// a contact's messages go in order, retries included.
	DueOutbound(now time.Time, limit int) ([]Outbound, error)
	// NextOutbound is when the next item DueOutbound would return falls
	// due after now; ok is false when none will.
	NextOutbound(now time.Time) (at time.Time, ok bool, err error)
	// ClaimOutbound claims the work DueOutbound would return, at most
	// limit, for a dispatcher until the lease ends: no other claim takes
	// an item meanwhile, nor the contact's later items of its lane. A claim
	// ends when the item's outcome is recorded (UpdateOutbound), or with
	// the lease, so that a dispatcher that died leaves its work to
	// another. The embedded store keeps its claims in memory (one process,
	// whose claims die with it); a shared one in the rows.
	//
	// Behind each item, it claims its lane's next items (MaxChain in all),
	// and returns them after it, oldest first: a lane's due work, for one
	// dispatcher to carry out in order without a claim each. The chain
	// stops at the first item not due.
	ClaimOutbound(now, until time.Time, limit int) ([]Outbound, error)
	// HandOff has the work this transaction enqueues from now on claimed
	// as it is written, for the caller for lease, as ClaimOutbound would
	// claim it then (now tells the time): each lane's first pending item,
	// due, when the lane held no pending item but those this transaction's
	// outcomes end, and the items of this transaction that follow it in the
	// lane, MaxChain in all, up to the first not due. So are the pending
	// items of the lanes its outcomes free (see Freed), from the first on,
	// while due and unclaimed. Other work is left to the claims. Handed
	// returns, after Commit, the work so claimed, each lane's items
	// together and in order: a dispatcher carries it out without a claim
	// of its own.
	HandOff(now func() time.Time, lease time.Duration)
	Handed() []Outbound
	// UpdateOutbound records an attempt: its status, attempts, next try
	// and error; the item's claim ends.
	UpdateOutbound(o *Outbound) error
	// Queued is the work of a lane waiting for the engine itself (an
	// assignment nobody can take yet), oldest first.
	Queued(lane string, limit int) ([]Outbound, error)
	// WithdrawOutbound withdraws a run's pending and queued work in lanes:
	// the run no longer waits for it (a timeout, an exit).
	WithdrawOutbound(runID int64, lanes ...string) error

	// Seen records an inbound de-duplication key and reports whether it
	// was recorded before.
	Seen(key string, at time.Time) (bool, error)
	// SeenAll records several keys at once, as Seen would one after
	// another: a key given twice is seen the second time.
	SeenAll(keys []string, at time.Time) ([]bool, error)

	// Identify is the contact a channel's contact id names: the one it
	// named before, or a new contact number (created), which is never
	// handed out again. a.ContactID is ignored.
	Identify(a Address, at time.Time) (contactID string, created bool, err error)
	// IdentifyAll identifies several addresses at once, as Identify each
	// in turn: an address given twice is created the first time only.
	IdentifyAll(addrs []Address, at time.Time) (contactIDs []string, created []bool, err error)
	// NewContactNumber hands out a contact number, as Identify does, for
	// a contact no channel names (one the API creates).
	NewContactNumber(at time.Time) (string, error)
	// EraseContact deletes everything the store holds about the contact:
	// its fields and tags, conversations, runs, enrolments, activity,
	// timers, outbox items, identities and receipts; and records that a
	// contact with this id was erased, and when, and nothing else.
	EraseContact(id string, at time.Time) error
	// Identity is the contact a channel's contact id names, without
	// creating one: ErrNotFound when it names none.
	Identity(channelID, externalID string) (contactID string, err error)
	// Identities looks up several channels' contact ids at once, as
	// Identity does: the contact each names, in order, "" for none.
	Identities(addrs []Address) ([]string, error)
	// Addresses are where the channels reach the contact, newest first.
	Addresses(contactID string) ([]Address, error)
	// FindContacts are the contacts whose standard field (phone or
	// email) holds the value, oldest first, at most limit.
	FindContacts(field, value string, limit int) ([]string, error)
	// SaveReceipt records the id a channel gave a message flowd sent;
	// Receipt finds it by that id.
	SaveReceipt(r Receipt) error
	Receipt(channelID, mid string) (*Receipt, error)

	// OutboxDepth is how many outbox items wait to be carried out.
	OutboxDepth() (int, error)

	// Prune deletes what is past its retention: de-duplication keys
	// recorded before p.Dedup, activity before p.Activity, and outbox rows
	// done (delivered, failed, withdrawn) before p.Outbox, with their
	// receipts; a zero time keeps all. A backend may keep the activity
	// entries one transaction added together, until the newest of them is
	// past. It deletes at most p.Limit rows of each and returns how many it
	// deleted.
	Prune(p Prune) (int, error)
}

// Prune says what Tx.Prune deletes.
type Prune struct {
	Dedup, Activity, Outbox time.Time
	Limit                   int
}

// An Address is where a channel reaches a contact: the channel's id, the
// name flows know the channel by (custom, sms, webchat), and the contact's
// id on it (a phone number in E.164 form, or the channel's own id).
type Address struct {
	ChannelID  string `json:"channelId"`
	Channel    string `json:"channel"`
	ExternalID string `json:"contactId"`
	ContactID  string `json:"-"`
}

// A Receipt is the id a channel's receiver gave a message flowd sent it.
type Receipt struct {
	ChannelID, MID, ContactID string
	OutboxID                  int64
	At                        time.Time
}

// MaxChain bounds the items of one lane ClaimOutbound claims together.
const MaxChain = 8

// Chain orders claimed work as ClaimOutbound returns it: each of heads,
// then the items of next of its contact and lane, by id.
func Chain(heads, next []Outbound) []Outbound {
	type lane struct{ contact, name string }
	behind := map[lane][]Outbound{}
	for _, o := range next {
		k := lane{o.ContactID, o.Lane}
		behind[k] = append(behind[k], o)
	}
	out := make([]Outbound, 0, len(heads)+len(next))
	for _, h := range heads {
		out = append(out, h)
		tail := behind[lane{h.ContactID, h.Lane}]
		slices.SortFunc(tail, func(a, b Outbound) int { return cmp.Compare(a.ID, b.ID) })
		out = append(out, tail...)
	}
	return out
}

// A Lane is a contact's lane of outbox work, whose items go one at a time,
// in order.
type Lane struct{ Contact, Name string }

// LaneOf is the lane of an outbox item.
func LaneOf(o Outbound) Lane { return Lane{o.ContactID, o.Lane} }

// Freed are the lanes whose outcomes, recorded by one transaction, all
// end their items (delivered, failed): their next items may go, and a
// hand-off claims them; ended are the items those outcomes end. An item to
// be tried again still holds its lane.
func Freed(outcomes []Outbound) (lanes []Lane, ended []int64) {
	free := map[Lane]bool{}
	for _, o := range outcomes {
		l := LaneOf(o)
		was, seen := free[l]
		free[l] = (was || !seen) && o.Status != OutPending
		if !seen {
			lanes = append(lanes, l)
		}
		if o.Status != OutPending {
			ended = append(ended, o.ID)
		}
	}
	return slices.DeleteFunc(lanes, func(l Lane) bool { return !free[l] }), ended
}

// Leading reports which of work, enqueued by one transaction in order of
// id, a hand-off claims if their lanes held no pending item before (see
// Tx.HandOff): in each lane, the pending items up to the first not due at
// now, MaxChain in all. Items not pending (withdrawn meanwhile, queued)
// neither go nor hold the others back.
func Leading(work []Outbound, now time.Time) []bool {
	taken := map[Lane]int{} // -1: stopped
	lead := make([]bool, len(work))
	for i, o := range work {
		if o.Status != OutPending {
			continue
		}
		k := LaneOf(o)
		n := taken[k]
		if n < 0 || n == MaxChain || o.NextAt.After(now) {
			taken[k] = -1
			continue
		}
		taken[k] = n + 1
		lead[i] = true
	}
	return lead
}

// Errors the backends return.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrBusy ends a transaction that waited for another that waited for
	// it (a deadlock the database broke), or that lost a race another
	// process won (a serialization failure): its work may be done again.
	ErrBusy = errors.New("busy: try again")
)

// A Contact is an end customer: standard and custom fields, tags, channels.
type Contact struct {
	ID       string
	Fields   map[string]any // firstname, email, ... and the custom fields
	Tags     []string
	Channel  string   // the last channel the contact used
	Channels []string // every channel the contact has written from
	Created  time.Time
}

// A Conversation is the span from opened to closed; a contact has at most
// one open.
type Conversation struct {
	ID                 int64
	ContactID          string
	Number             int // the contact's first conversation is 1; set when it is saved first
	Open               bool
	OpenedBy           string // contact, user, flow, ad
	OpenedAt           time.Time
	ClosedBy           string
	ClosedAt           time.Time
	Category, Summary  string // the closing note
	Assignee           string // user id, or "" unassigned
	Team               string // the team of the assignment
	LastIncoming       string
	LastIncomingAt     time.Time
	LastOutgoing       string
	LastOutgoingAt     time.Time
	LastOutgoingSource string   // flow or user
	Held               []string // flows an agent stopped for the rest of the conversation
}

// A User is an agent of the workspace.
type User struct {
	ID, Name, Email string
	Teams           []string
	Status          string    // online, away, offline
	LastAssigned    time.Time // round robin takes the user waiting longest
}

// Run statuses.
const (
	RunWaiting = "waiting"
	RunDone    = "done"
	RunFailed  = "failed"
	RunStopped = "stopped" // by an exit condition or by hand
)

// A Run is one contact's journey through one flow.
type Run struct {
	ID        int64
	ContactID string
	Flow      string
	Program   string // hash of the program it runs
	Status    string
	Cont      []byte // the encoded continuation while waiting
	Vars      []byte // once it ended: its variables, as an encoded continuation
	Wait      string // what it waits for: reply, timer, ...
	WaitSeq   uint32 // the continuation's seq: answers carry it
	Deadline  time.Time
	Trigger   []byte // the trigger data, JSON
	Parent    int64  // the run whose start step started it
	Err       string
	Started   time.Time
	Updated   time.Time
	Seq       int64 // bumped at every save: compare-and-swap
}

// A Program is a flow version's source, kept by hash so that a paused run
// can be resumed in the code it paused in.
type Program struct {
	Hash, Flow, File string
	Source           []byte
	Added            time.Time
}

// An Activity is one entry of a contact's timeline: a message in or out, a
// step, a change, an error.
type Activity struct {
	ID        int64
	ContactID string
	At        time.Time
	Kind      string // message_in, message_out, tag, field, assign, error, ...
	Flow      string
	RunID     int64
	Text      string
	Data      []byte // what the entry needs beyond its text: a message's JSON
}

// Timer kinds.
const (
	TimerRun       = "run"        // a run's wait: its seq answers it
	TimerAutoClose = "auto_close" // an idle conversation closes
)

// A Timer fires an event at a time.
type Timer struct {
	ID        int64
	ContactID string
	Kind      string
	RunID     int64
	Seq       uint32
	At        time.Time
}

// Outbound statuses.
const (
	OutPending   = "pending"
	OutDelivered = "delivered"
	OutFailed    = "failed"    // given up
	OutQueued    = "queued"    // waits for the engine: no one can take the assignment yet
	OutWithdrawn = "withdrawn" // its run no longer waits for it
)

// Outbound is work for the outside world: a message to deliver, an HTTP
// call, a sheet row, an AI request. Lane orders a contact's items: the
// items of one lane go one at a time, in order.
type Outbound struct {
	ID        int64
	ContactID string
	Lane      string // message, http, sheet, ai
	Kind      string
	RunID     int64
	Seq       uint32
	Payload   []byte // JSON
	Status    string
	Attempts  int
	NextAt    time.Time
	Err       string
	Created   time.Time
}
