package postgres

import (
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
	"github.com/lib/pq"
)

// A transaction reads ahead. Once it holds a batch's contact locks, no
// other transaction changes those contacts' rows, so it reads what their
// turns will read first (the contact, its latest conversation, its waiting
// runs) in one query each for all of them, where a turn would make a round
// trip each. A contact this transaction numbered has no rows but its own,
// and is known without reading.
//
// What it knows of the rows then lets it put writes off (see buffer.go):
// a run's seq and whether it ended (a run's update is a compare-and-swap),
// and a contact's conversation numbers and open conversation (a new
// conversation takes the next number, and at most one is open).
type ahead struct {
	states map[string]*state     // by contact: read at its lock, until a turn takes it
	runs   map[int64]runMark     // by run: as the database holds it, or will once flushed
	convs  map[string]*convsMark // by contact
	// enrolled are the enrolments this transaction added; of the contacts
	// in whole, all the enrolments there are
	enrolled map[[2]string]bool
	whole    map[string]bool
}

// knowing makes the maps.
func (t *Tx) knowing() {
	if t.ahead.states == nil {
		t.ahead = ahead{states: map[string]*state{}, runs: map[int64]runMark{}, convs: map[string]*convsMark{},
			enrolled: map[[2]string]bool{}, whole: map[string]bool{}}
	}
}

// A state is a contact's rows as read ahead; each part is served once,
// since the turn that takes it changes it.
type state struct {
	c                       *store.Contact // nil: none
	conv                    *store.Conversation
	runs                    []*store.Run
	contactTaken, runsTaken bool
}

// A runMark is what the transaction knows of a run.
type runMark struct {
	seq   int64
	ended bool
}

// A convsMark is what the transaction knows of a contact's conversations:
// the highest number, and the open one's id (0: none).
type convsMark struct {
	last int
	open int64
}

func init() {
	queries["ahead_states"] = `SELECT c.id, c.fields, c.tags, c.channel, c.channels, c.created, ` + sqlrow.ConversationColsOf + `,
coalesce(v.number, 0),
			coalesce((SELECT id FROM conversations WHERE contact_id = c.id AND open = 1), 0)
		FROM ` + withLatest + ` WHERE c.id = ANY($1::text[])`
	queries["ahead_runs"] = `SELECT ` + sqlrow.RunCols + ` FROM runs WHERE contact_id = ANY($1::text[]) AND status = 'waiting' ORDER BY id`
}

// readAhead reads the states of contacts just locked, the fresh ones
// excepted.
func (t *Tx) readAhead(ids []string) error {
	t.knowing()
	var read []string
	for _, id := range ids {
		if _, ok := t.ahead.states[id]; !ok && !t.fresh[id] {
			read = append(read, id)
		}
	}
	if len(read) == 0 {
		return nil
	}
	for _, id := range read {
		t.ahead.states[id] = &state{} // none, unless found
	}
	type found struct {
		c    *store.Contact
		conv *store.Conversation
		mark convsMark
	}
	list, err := rows(t, func(r sqlrow.Scanner) (f found, err error) {
		f.c, f.conv, err = sqlrow.ScanContactState(extra{r, []any{&f.mark.last, &f.mark.open}})
		return f, err
	}, "ahead_states", pq.Array(read))
	if err != nil {
		return err
	}
	for _, f := range list {
		t.ahead.states[f.c.ID].c, t.ahead.states[f.c.ID].conv = f.c, f.conv
		mark := f.mark
		t.ahead.convs[f.c.ID] = &mark
	}
	runs, err := rows(t, sqlrow.ScanRun, "ahead_runs", pq.Array(read))
	if err != nil {
		return err
	}
	for _, r := range runs {
		st := t.ahead.states[r.ContactID]
		st.runs = append(st.runs, r)
	}
	t.markRuns(runs)
	return nil
}

// extra scans a row's further columns into dests after the ones asked for.
type extra struct {
	sqlrow.Scanner
	dests []any
}

func (e extra) Scan(dests ...any) error { return e.Scanner.Scan(append(dests, e.dests...)...) }

// freshContact notes a contact this transaction numbered: it has no rows yet.
func (t *Tx) freshContact(id string) {
	if t.fresh == nil {
		t.fresh = map[string]bool{}
	}
	t.fresh[id] = true
	t.knowing()
	t.ahead.states[id] = &state{}
	t.ahead.convs[id] = &convsMark{}
	t.ahead.whole[id] = true
}

// markRuns notes the runs read, as the database holds them.
func (t *Tx) markRuns(runs []*store.Run) {
	t.knowing()
	for _, r := range runs {
		t.ahead.runs[r.ID] = runMark{seq: r.Seq, ended: r.Status != store.RunWaiting}
	}
}

// changed notes that the transaction writes the contact's rows: what was
// read ahead of them is no longer served.
func (t *Tx) changed(contactID string) {
	delete(t.ahead.states, contactID)
}

// aheadState serves what was read ahead of the contact: its contact row
// and latest conversation (runs false), or its waiting runs (runs true);
// ok is false when it holds nothing.
func (t *Tx) aheadState(id string, runs bool) (st *state, ok bool) {
	st = t.ahead.states[id]
	if st == nil || (runs && st.runsTaken) || (!runs && st.contactTaken) {
		return nil, false
	}
	if runs {
		st.runsTaken = true
	} else {
		st.contactTaken = true
	}
	if st.runsTaken && st.contactTaken {
		delete(t.ahead.states, id)
	}
	return st, true
}

// forget drops what the transaction knows: a rollback to a savepoint
// makes the database what it was, which it may not have known then.
func (t *Tx) forget() {
	clear(t.ahead.states)
	clear(t.ahead.runs)
	clear(t.ahead.convs)
	clear(t.ahead.enrolled)
	clear(t.ahead.whole)
}
