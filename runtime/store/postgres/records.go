package postgres

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/lib/pq"
)

// row runs a prepared query that gives one row.
func (t *Tx) row(name string, args ...any) sqlrow.Scanner {
	if err := t.flushFor(name); err != nil {
		return failed{err}
	}
	return t.stmt(name).QueryRowContext(t.ctx, args...)
}

// failed is a row that could not be read.
type failed struct{ err error }

func (f failed) Scan(...any) error { return f.err }

// rows runs a prepared query and scans each row.
func rows[T any](t *Tx, scan func(sqlrow.Scanner) (T, error), name string, args ...any) ([]T, error) {
	if err := t.flushFor(name); err != nil {
		return nil, err
	}
	rs, err := t.stmt(name).QueryContext(t.ctx, args...)
	out, err := sqlrow.Collect(rs, classify(err), scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// scanned is the error of scanning one row: store.ErrNotFound for none.
func scanned(what string, err error) error {
	if err == nil {
		return nil
	}
	return sqlrow.NotFound(what, classify(err))
}

// Contact implements store.Tx.
func (t *Tx) Contact(id string) (*store.Contact, error) {
	c, err := sqlrow.ScanContact(t.row("contact", id))
	if err := scanned("contact "+id, err); err != nil {
		return nil, err
	}
	return c, nil
}

// SaveContact implements store.Tx.
func (t *Tx) SaveContact(c *store.Contact) error {
	t.changed(c.ID)
	return t.bufferContact(c)
}

// ContactState implements store.Tx.
func (t *Tx) ContactState(id string) (*store.Contact, *store.Conversation, error) {
	if st, ok := t.aheadState(id, false); ok {
		if st.c == nil {
			return nil, nil, fmt.Errorf("contact %s: %w", id, store.ErrNotFound)
		}
		return st.c, st.conv, nil
	}
	c, conv, err := sqlrow.ScanContactState(t.row("contact_state", id))
	if err := scanned("contact "+id, err); err != nil {
		return nil, nil, err
	}
	return c, conv, nil
}

func (t *Tx) conversation(query, contactID string) (*store.Conversation, error) {
	c, err := sqlrow.ScanConversation(t.row(query, contactID))
	if err := scanned("conversation of "+contactID, err); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenConversation implements store.Tx.
func (t *Tx) OpenConversation(contactID string) (*store.Conversation, error) {
	return t.conversation("open_conversation", contactID)
}

// LastConversation implements store.Tx.
func (t *Tx) LastConversation(contactID string) (*store.Conversation, error) {
	return t.conversation("last_conversation", contactID)
}

// Conversations implements store.Tx.
func (t *Tx) Conversations(contactID string) (int, error) {
	var n int
	return n, scanned("conversations", t.row("conversations", contactID).Scan(&n))
}

// SaveConversation implements store.Tx. It is put off when the
// transaction holds the contact's lock and knows its conversations.
func (t *Tx) SaveConversation(c *store.Conversation) error {
	args, err := sqlrow.ConversationArgs(c)
	if err != nil {
		return err
	}
	mark := t.ahead.convs[c.ContactID]
	if mark != nil && t.holds(c.ContactID) {
		if c.Open && mark.open != 0 && mark.open != c.ID {
			return fmt.Errorf("conversation of %s: another is open: %w", c.ContactID, store.ErrConflict)
		}
		if c.ID == 0 {
			if c.ID, err = t.nextID("conversations_id_seq"); err != nil {
				return err
			}
			mark.last++
			c.Number = mark.last
		}
		switch {
		case c.Open:
			mark.open = c.ID
		case mark.open == c.ID:
			mark.open = 0
		}
		t.changed(c.ContactID)
		t.bufferConv(c, false)
		return nil
	}
	delete(t.ahead.convs, c.ContactID) // known again once read ahead
	if c.ID == 0 {
		err := t.row("insert_conversation", args...).Scan(&c.ID, &c.Number)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation of %s: another is open, or took its number: %w", c.ContactID, store.ErrConflict)
		}
		return classify(err)
	}
	n, err := t.exec("update_conversation", append(args, c.ID)...)
	if err == nil && n == 0 {
		return fmt.Errorf("conversation %d: another is open: %w", c.ID, store.ErrConflict)
	}
	return err
}

// TouchConversation implements store.Tx.
func (t *Tx) TouchConversation(c *store.Conversation) error {
	t.changed(c.ContactID)
	t.bufferConv(c, true)
	return nil
}

// Users implements store.Tx.
func (t *Tx) Users() ([]store.User, error) { return rows(t, sqlrow.ScanUser, "users") }

// User implements store.Tx.
func (t *Tx) User(id string) (*store.User, error) {
	u, err := sqlrow.ScanUser(t.row("user", id))
	if err := scanned("user "+id, err); err != nil {
		return nil, err
	}
	return &u, nil
}

// SaveUser implements store.Tx.
func (t *Tx) SaveUser(u store.User) error {
	args, err := sqlrow.UserArgs(u)
	if err != nil {
		return err
	}
	_, err = t.exec("save_user", args...)
	return err
}

// OpenCounts implements store.Tx.
func (t *Tx) OpenCounts() (map[string]int, error) {
	type count struct {
		user string
		n    int
	}
	list, err := rows(t, func(r sqlrow.Scanner) (c count, err error) { return c, r.Scan(&c.user, &c.n) }, "open_counts")
	out := map[string]int{}
	for _, c := range list {
		out[c.user] = c.n
	}
	return out, err
}

// InsertRun implements store.Tx.
func (t *Tx) InsertRun(r *store.Run) error {
	id, err := t.nextID("runs_id_seq")
	if err != nil {
		return err
	}
	r.ID, r.Seq = id, 1
	t.changed(r.ContactID)
	t.bufferRun(r, 0)
	t.markRuns([]*store.Run{r})
	return nil
}

// Run implements store.Tx.
func (t *Tx) Run(id int64) (*store.Run, error) {
	r, err := sqlrow.ScanRun(t.row("run", id))
	if err := scanned(fmt.Sprintf("run %d", id), err); err != nil {
		return nil, err
	}
	t.markRuns([]*store.Run{r})
	return r, nil
}

// ActiveRuns implements store.Tx.
func (t *Tx) ActiveRuns(contactID string) ([]*store.Run, error) {
	if st, ok := t.aheadState(contactID, true); ok {
		return st.runs, nil
	}
	return t.runRows("active_runs", contactID)
}

// runRows runs a query of runs, and notes what they are.
func (t *Tx) runRows(name string, args ...any) ([]*store.Run, error) {
	list, err := rows(t, sqlrow.ScanRun, name, args...)
	t.markRuns(list)
	return list, err
}

// WaitingRuns implements store.Tx.
func (t *Tx) WaitingRuns(flow string, after int64, limit int) ([]*store.Run, error) {
	return t.runRows("waiting_runs", flow, after, limit)
}

// Runs implements store.Tx.
func (t *Tx) Runs(contactID string, after int64, limit int) ([]*store.Run, error) {
	return t.runRows("contact_runs", contactID, after, limit)
}

// UpdateRun implements store.Tx. It is put off when the transaction holds
// the run's contact's lock and knows the run: it then refuses a stale
// update itself.
func (t *Tx) UpdateRun(r *store.Run) error {
	mark, ok := t.ahead.runs[r.ID]
	if !ok || !t.holds(r.ContactID) {
		err := sqlrow.UpdateRun(t.exec, r)
		if err == nil {
			t.markRuns([]*store.Run{r})
		}
		return err
	}
	if r.Seq != mark.seq || (mark.ended && r.Status == store.RunWaiting) {
		return fmt.Errorf("run %d at seq %d: %w", r.ID, r.Seq, store.ErrConflict)
	}
	t.changed(r.ContactID)
	from := r.Seq
	r.Seq++
	t.bufferRun(r, from)
	t.markRuns([]*store.Run{r})
	return nil
}

// SaveProgram implements store.Tx.
func (t *Tx) SaveProgram(p store.Program) error {
	_, err := t.exec("save_program", p.Hash, p.Flow, p.File, p.Source, sqlrow.Nanos(p.Added))
	return err
}

// Program implements store.Tx.
func (t *Tx) Program(hash string) (*store.Program, error) {
	p, err := sqlrow.ScanProgram(t.row("program", hash))
	if err := scanned("program "+hash, err); err != nil {
		return nil, err
	}
	return p, nil
}

// AddEnrolment implements store.Tx.
func (t *Tx) AddEnrolment(contactID, flow string, at time.Time) error {
	t.knowing()
	t.ahead.enrolled[[2]string{contactID, flow}] = true
	t.buf.enrolments = append(t.buf.enrolments, [3]any{contactID, flow, sqlrow.Nanos(at)})
	return nil
}

// Enrolled implements store.Tx.
func (t *Tx) Enrolled(contactID, flow string) (bool, error) {
	if t.ahead.enrolled[[2]string{contactID, flow}] {
		return true, nil
	}
	if t.ahead.whole[contactID] {
		return false, nil
	}
	var n int
	return n > 0, scanned("enrolled", t.row("enrolled", contactID, flow).Scan(&n))
}

// Enrolments implements store.Tx.
func (t *Tx) Enrolments(contactID string, since time.Time) (int, error) {
	var n int
	return n, scanned("enrolments", t.row("enrolments", contactID, sqlrow.Nanos(since)).Scan(&n))
}

// Activity implements store.Tx.
func (t *Tx) Activity(contactID string, after int64, limit int) ([]store.Activity, error) {
	return rows(t, sqlrow.ScanActivity, "activity", contactID, after, limit)
}

// ActivityBefore implements store.Tx.
func (t *Tx) ActivityBefore(contactID string, before int64, limit int) ([]store.Activity, error) {
	return rows(t, sqlrow.ScanActivity, "activity_before", contactID, before, limit)
}

// DeleteRunTimers implements store.Tx.
func (t *Tx) DeleteRunTimers(runID int64, seq uint32) error {
	t.dropTimers(func(tm store.Timer) bool { return tm.RunID == runID && (seq == 0 || tm.Seq == seq) })
	if seq == 0 {
		t.buf.runTimers = append(t.buf.runTimers, runID)
	} else {
		t.buf.runTimer = append(t.buf.runTimer, [2]int64{runID, int64(seq)})
	}
	return nil
}

// DeleteContactTimers implements store.Tx.
func (t *Tx) DeleteContactTimers(contactID, kind string) error {
	t.dropTimers(func(tm store.Timer) bool { return tm.ContactID == contactID && tm.Kind == kind && tm.RunID == 0 })
	t.buf.kindTimers = append(t.buf.kindTimers, [2]string{contactID, kind})
	return nil
}

// DueTimers implements store.Tx.
func (t *Tx) DueTimers(now time.Time, limit int) ([]store.Timer, error) {
	return rows(t, sqlrow.ScanTimer, "due_timers", sqlrow.Nanos(now), limit)
}

// ClaimTimers implements store.Tx.
func (t *Tx) ClaimTimers(now, until time.Time, limit int) ([]store.Timer, error) {
	due, err := rows(t, sqlrow.ScanTimer, "claim_timers", sqlrow.Nanos(now), sqlrow.Nanos(until), limit)
	slices.SortFunc(due, func(a, b store.Timer) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return due, err
}

// NextTimer implements store.Tx.
func (t *Tx) NextTimer(now time.Time) (time.Time, bool, error) {
	var at int64
	err := t.row("next_timer", sqlrow.Nanos(now)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, classify(err)
	}
	return sqlrow.FromNanos(at), true, nil
}

// DeleteTimer implements store.Tx.
func (t *Tx) DeleteTimer(id int64) error {
	if t.dropTimers(func(tm store.Timer) bool { return tm.ID == id }) {
		return nil
	}
	n, err := t.exec("delete_timer", id)
	if err == nil && n == 0 {
		return fmt.Errorf("timer %d: %w", id, store.ErrNotFound)
	}
	return err
}

// DeleteTimers implements store.Tx, in one statement.
func (t *Tx) DeleteTimers(ids []int64) ([]bool, error) {
	asked := map[int64]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	t.dropTimers(func(tm store.Timer) bool { // not in the table yet: deleted here
		if asked[tm.ID] {
			delete(asked, tm.ID)
			return true
		}
		return false
	})
	gone := make([]bool, len(ids))
	if len(asked) == 0 {
		return gone, nil
	}
	deleted, err := rows(t, func(r sqlrow.Scanner) (id int64, err error) { return id, r.Scan(&id) },
		"delete_timers", pq.Array(slices.Collect(maps.Keys(asked))))
	if err != nil {
		return nil, err
	}
	for _, id := range deleted {
		delete(asked, id)
	}
	for i, id := range ids {
		gone[i] = asked[id] // asked of the table, and not there
	}
	return gone, nil
}

// DueOutbound implements store.Tx.
func (t *Tx) DueOutbound(now time.Time, limit int) ([]store.Outbound, error) {
	return rows(t, sqlrow.ScanOutbound, "due_outbound", sqlrow.Nanos(now), limit)
}

// ClaimOutbound implements store.Tx.
func (t *Tx) ClaimOutbound(now, until time.Time, limit int) ([]store.Outbound, error) {
	type claimed struct {
		o    store.Outbound
		head bool
	}
	list, err := rows(t, func(r sqlrow.Scanner) (c claimed, err error) {
		o, err := sqlrow.ScanOutbound(extra{r, []any{&c.head}})
		c.o = o
		return c, err
	}, "claim_outbound", sqlrow.Nanos(now), sqlrow.Nanos(until), limit, store.MaxChain-1)
	if err != nil {
		return nil, err
	}
	var heads, next []store.Outbound
	for _, c := range list {
		if c.head {
			heads = append(heads, c.o)
		} else {
			next = append(next, c.o)
		}
	}
	slices.SortFunc(heads, func(a, b store.Outbound) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return store.Chain(heads, next), nil
}

// NextOutbound implements store.Tx.
func (t *Tx) NextOutbound(now time.Time) (time.Time, bool, error) {
	var at sql.NullInt64
	if err := t.row("next_outbound", sqlrow.Nanos(now)).Scan(&at); err != nil {
		return time.Time{}, false, classify(err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return sqlrow.FromNanos(at.Int64), true, nil
}

// Queued implements store.Tx.
func (t *Tx) Queued(lane string, limit int) ([]store.Outbound, error) {
	return rows(t, sqlrow.ScanOutbound, "queued", lane, limit)
}

// WithdrawOutbound implements store.Tx.
func (t *Tx) WithdrawOutbound(runID int64, lanes ...string) error {
	withdraw := func(o *store.Outbound) {
		if o.RunID == runID && slices.Contains(lanes, o.Lane) && (o.Status == store.OutPending || o.Status == store.OutQueued) {
			o.Status = store.OutWithdrawn
		}
	}
	for i := range t.buf.outUpdates { // see UpdateOutbound
		withdraw(&t.buf.outUpdates[i])
	}
	for i := range t.buf.outbox { // rows not inserted yet are withdrawn where they wait
		withdraw(&t.buf.outbox[i])
	}
	for _, lane := range lanes {
		t.buf.withdraw = append(t.buf.withdraw, withdrawal{runID, lane})
	}
	t.hand.drop(func(o *store.Outbound) bool { return o.RunID == runID && slices.Contains(lanes, o.Lane) })
	return nil
}

// UpdateOutbound implements store.Tx.
// An update waits with the others. The withdrawals that wait leave the
// items updated alone, which end as the updates say: a withdrawal asked
// for before an update is overwritten by it, and one asked for after it
// changed the update where it waits (see WithdrawOutbound).
func (t *Tx) UpdateOutbound(o *store.Outbound) error {
	t.hand.drop(func(h *store.Outbound) bool { return h.ID == o.ID })
	for i := range t.buf.outbox { // a row not inserted yet changes where it waits
		if w := &t.buf.outbox[i]; w.ID == o.ID {
			w.Status, w.Attempts, w.NextAt, w.Err = o.Status, o.Attempts, o.NextAt, o.Err
			return nil
		}
	}
	t.buf.updateOutbound(*o)
	return nil
}

// Seen implements store.Tx: a key another transaction is recording waits
// for it to end, and is seen if it committed.
func (t *Tx) Seen(key string, at time.Time) (bool, error) {
	n, err := t.exec("seen", []byte(key), sqlrow.Nanos(at))
	return n == 0, err
}

// SeenAll implements store.Tx, in one statement.
func (t *Tx) SeenAll(keys []string, at time.Time) ([]bool, error) {
	bs := make([][]byte, len(keys))
	for i, k := range keys {
		bs[i] = []byte(k)
	}
	added, err := rows(t, func(r sqlrow.Scanner) (k []byte, err error) { return k, r.Scan(&k) }, "seen_all", pq.Array(bs), sqlrow.Nanos(at))
	if err != nil {
		return nil, err
	}
	fresh := map[string]bool{}
	for _, k := range added {
		fresh[string(k)] = true
	}
	seen := make([]bool, len(keys))
	for i, k := range keys {
		seen[i] = !fresh[k]
		delete(fresh, k) // a second time, it is seen
	}
	return seen, nil
}

// Identify implements store.Tx. Two processes meeting a new identity at
// once both take a number; the one whose insert lands second finds the
// other's contact, and its number is never used.
func (t *Tx) Identify(a store.Address, at time.Time) (string, bool, error) {
	id, err := t.Identity(a.ChannelID, a.ExternalID)
	if !errors.Is(err, store.ErrNotFound) {
		return id, false, err
	}
	if id, err = t.NewContactNumber(at); err != nil {
		return "", false, err
	}
	n, err := t.exec("add_identity", a.ChannelID, a.ExternalID, a.Channel, id, sqlrow.Nanos(at))
	if err != nil {
		return "", false, err
	}
	key := [2]string{a.ChannelID, a.ExternalID}
	if n == 0 { // another transaction's, committed meanwhile
		delete(t.identities, key)
		id, err = t.Identity(a.ChannelID, a.ExternalID)
		return id, false, err
	}
	t.identities[key] = id
	return id, true, nil
}

// IdentifyAll implements store.Tx: the addresses it has not found are
// added in one statement, each with a new contact number. One another
// transaction added meanwhile is found, as Identify finds it.
func (t *Tx) IdentifyAll(addrs []store.Address, at time.Time) ([]string, []bool, error) {
	if _, err := t.Identities(addrs); err != nil {
		return nil, nil, err
	}
	var channels, externals, kinds []string
	asked := map[[2]string]bool{}
	for _, a := range addrs {
		key := [2]string{a.ChannelID, a.ExternalID}
		if t.identities[key] == "" && !asked[key] {
			asked[key] = true
			channels, externals, kinds = append(channels, a.ChannelID), append(externals, a.ExternalID), append(kinds, a.Channel)
		}
	}
	made := map[[2]string]bool{}
	if len(channels) > 0 {
		type added struct{ channel, external, contact string }
		list, err := rows(t, func(r sqlrow.Scanner) (a added, err error) { return a, r.Scan(&a.channel, &a.external, &a.contact) },
			"identify_all", pq.Array(channels), pq.Array(externals), pq.Array(kinds), sqlrow.Nanos(at))
		if err != nil {
			return nil, nil, err
		}
		for _, a := range list {
			key := [2]string{a.channel, a.external}
			t.identities[key], made[key] = a.contact, true
			t.freshContact(a.contact)
		}
		for key := range asked {
			if !made[key] { // another transaction's, committed meanwhile
				delete(t.identities, key)
				if _, err := t.Identity(key[0], key[1]); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	ids, created := make([]string, len(addrs)), make([]bool, len(addrs))
	for i, a := range addrs {
		key := [2]string{a.ChannelID, a.ExternalID}
		ids[i], created[i] = t.identities[key], made[key]
		delete(made, key) // the first time only
	}
	return ids, created, nil
}

// NewContactNumber implements store.Tx.
// Numbers are taken numbersChunk at a time; those a transaction leaves are
// never handed out.
func (t *Tx) NewContactNumber(time.Time) (string, error) {
	if len(t.buf.numbers) == 0 {
		rows, err := t.stmt("numbers").QueryContext(t.ctx, numbersChunk)
		ns, err := sqlrow.Collect(rows, classify(err), func(r sqlrow.Scanner) (n int64, err error) { return n, r.Scan(&n) })
		if err != nil {
			return "", fmt.Errorf("new contact number: %w", err)
		}
		t.buf.numbers = ns
	}
	id := strconv.FormatInt(t.buf.numbers[0], 10)
	t.buf.numbers = t.buf.numbers[1:]
	t.freshContact(id)
	return id, nil
}

// numbersChunk is how many contact numbers one round trip takes.
const numbersChunk = 8

// Identity implements store.Tx. What a lookup found, an identity or none,
// is kept for the rest of the transaction: an identity names its contact
// for good (erasing it takes the contact's lock, which this transaction
// holds once it handles it), and one another transaction adds meanwhile
// is found by Identify when it adds its own.
func (t *Tx) Identity(channelID, externalID string) (string, error) {
	key := [2]string{channelID, externalID}
	if t.identities == nil {
		t.identities = map[[2]string]string{}
	}
	if id, ok := t.identities[key]; ok {
		if id == "" {
			return "", fmt.Errorf("identity %s: %w", externalID, store.ErrNotFound)
		}
		return id, nil
	}
	var id string
	err := scanned("identity "+externalID, t.row("identity", channelID, externalID).Scan(&id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	t.identities[key] = id
	return id, err
}

// Identities implements store.Tx: the lookups not made yet go in one
// query, and are kept as Identity keeps its own.
func (t *Tx) Identities(addrs []store.Address) ([]string, error) {
	if t.identities == nil {
		t.identities = map[[2]string]string{}
	}
	var channels, externals []string
	for _, a := range addrs {
		if _, ok := t.identities[[2]string{a.ChannelID, a.ExternalID}]; !ok {
			channels, externals = append(channels, a.ChannelID), append(externals, a.ExternalID)
		}
	}
	if len(channels) > 0 {
		type found struct{ channel, external, contact string }
		list, err := rows(t, func(r sqlrow.Scanner) (f found, err error) { return f, r.Scan(&f.channel, &f.external, &f.contact) },
			"identities", pq.Array(channels), pq.Array(externals))
		if err != nil {
			return nil, err
		}
		for i := range channels {
			t.identities[[2]string{channels[i], externals[i]}] = "" // none, unless found
		}
		for _, f := range list {
			t.identities[[2]string{f.channel, f.external}] = f.contact
		}
	}
	ids := make([]string, len(addrs))
	for i, a := range addrs {
		ids[i] = t.identities[[2]string{a.ChannelID, a.ExternalID}]
	}
	return ids, nil
}

// Addresses implements store.Tx.
func (t *Tx) Addresses(contactID string) ([]store.Address, error) {
	return rows(t, sqlrow.ScanAddress, "addresses", contactID)
}

// FindContacts implements store.Tx.
func (t *Tx) FindContacts(field, value string, limit int) ([]string, error) {
	switch field {
	case "phone", "email":
		return rows(t, sqlrow.ScanString, "contacts_by_"+field, value, limit)
	}
	return nil, fmt.Errorf("contacts are not found by %q", field)
}

// SaveReceipt implements store.Tx.
func (t *Tx) SaveReceipt(r store.Receipt) error {
	t.buf.saveReceipt(r)
	return nil
}

// Receipt implements store.Tx.
func (t *Tx) Receipt(channelID, mid string) (*store.Receipt, error) {
	r, err := sqlrow.ScanReceipt(t.row("receipt", channelID, mid))
	if err := scanned("receipt "+mid, err); err != nil {
		return nil, err
	}
	return r, nil
}

// Prune implements store.Tx.
func (t *Tx) Prune(p store.Prune) (int, error) {
	return sqlrow.Prune(t.exec, p)
}

// EraseContact implements store.Tx.
func (t *Tx) EraseContact(id string, at time.Time) error {
	if err := t.flush(); err != nil {
		return err
	}
	clear(t.identities) // some may name it
	t.forget()
	for _, q := range erasing {
		if _, err := t.tx.ExecContext(t.ctx, q, id); err != nil {
			return fmt.Errorf("erase: %s: %w", q, classify(err))
		}
	}
	_, err := t.exec("add_erasure", id, sqlrow.Nanos(at))
	return err
}

// OutboxDepth implements store.Tx.
func (t *Tx) OutboxDepth() (int, error) {
	var n int
	return n, scanned("outbox depth", t.row("outbox_depth").Scan(&n))
}
