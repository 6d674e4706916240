package postgres

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
)

// handoff is what a transaction's hand-off asked for, and what its flushes
// claimed (see store.Tx.HandOff). A flush claims a lane's leading items as
// it inserts them, where the statement finds no pending item of the lane.
type handoff struct {
	now    func() time.Time // nil: no hand-off
	lease  time.Duration
	handed []store.Outbound
	marks  map[string]int // len(handed) at each savepoint
}

// HandOff implements store.Tx.
func (t *Tx) HandOff(now func() time.Time, lease time.Duration) {
	t.hand.now, t.hand.lease = now, lease
}

// Handed implements store.Tx.
func (t *Tx) Handed() []store.Outbound { return t.hand.handed }

// clock is the time of a flush, and the end of the claims it makes.
func (h *handoff) clock() (now, until time.Time) {
	if h.now == nil {
		return time.Time{}, time.Time{}
	}
	now = h.now()
	return now, now.Add(h.lease)
}

// claims are the flush's claimed_until values for the items it inserts:
// the hand-off's lease for the leading ones, 0 for the others.
func (h *handoff) claims(work []store.Outbound, now, until time.Time) []int64 {
	out := make([]int64, len(work))
	if h.now == nil {
		return out
	}
	for i, lead := range store.Leading(work, now) {
		if lead {
			out[i] = sqlrow.Nanos(until)
		}
	}
	return out
}

// freed are the lanes whose outcomes the flush records all end their
// items, and the items they end (see store.Freed); none without a
// hand-off.
func (h *handoff) freed(outcomes []store.Outbound) ([]store.Lane, []int64) {
	if h.now == nil {
		return nil, nil
	}
	return store.Freed(outcomes)
}

// took notes the items of work the flush claimed as it inserted them
// (ids), and those it claimed behind the outcomes it recorded (next).
func (h *handoff) took(work []store.Outbound, ids []int64, next []store.Outbound) {
	for _, o := range work {
		if slices.Contains(ids, o.ID) {
			next = append(next, o)
		}
	}
	// each lane's together, in order: a lane's items are this flush's,
	// inserted or behind an outcome, never both
	slices.SortFunc(next, func(a, b store.Outbound) int {
		return cmp.Or(strings.Compare(a.ContactID, b.ContactID), strings.Compare(a.Lane, b.Lane), cmp.Compare(a.ID, b.ID))
	})
	h.handed = append(h.handed, next...)
}

// drop forgets the handed items that a later change in the transaction
// took back: an outcome recorded, a withdrawal.
func (h *handoff) drop(gone func(o *store.Outbound) bool) {
	h.handed = slices.DeleteFunc(h.handed, func(o store.Outbound) bool { return gone(&o) })
}

// mark and rollbackTo follow the transaction's savepoints.
func (h *handoff) mark(name string) {
	if h.marks == nil {
		h.marks = map[string]int{}
	}
	h.marks[name] = len(h.handed)
}

func (h *handoff) rollbackTo(name string) {
	if m, ok := h.marks[name]; ok && m < len(h.handed) {
		h.handed = h.handed[:m]
	}
}
