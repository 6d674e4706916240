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
func (t *Tx) Handed() []store.Outbound {
	var heads, next []store.Outbound
	for i, o := range t.hand.handed {
		if i > 0 && o.ContactID == t.hand.handed[i-1].ContactID && o.Lane == t.hand.handed[i-1].Lane {
			next = append(next, o)
		} else {
			heads = append(heads, o)
		}
	}
	return store.Chain(heads, next)
}

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
// items (delivered, failed): their next items may go, and the flush hands
// them off; ended are the items those outcomes end, which hold back no new
// item of their lanes.
func (h *handoff) freed(outcomes []store.Outbound) (lanes [][2]string, ended []int64) {
	if h.now == nil {
		return nil, nil
	}
	free := map[[2]string]bool{}
	for _, o := range outcomes {
		l := [2]string{o.ContactID, o.Lane}
		was, seen := free[l]
		free[l] = (was || !seen) && o.Status != store.OutPending
		if !seen {
			lanes = append(lanes, l)
		}
		if o.Status != store.OutPending {
			ended = append(ended, o.ID)
		}
	}
	return slices.DeleteFunc(lanes, func(l [2]string) bool { return !free[l] }), ended
}

// let notes the items the flush handed off behind the outcomes it
// recorded: each lane's together, in order of id.
func (h *handoff) let(next []store.Outbound) {
	slices.SortFunc(next, func(a, b store.Outbound) int {
		return cmp.Or(strings.Compare(a.ContactID, b.ContactID), strings.Compare(a.Lane, b.Lane), cmp.Compare(a.ID, b.ID))
	})
	h.handed = append(h.handed, next...)
}

// took notes the items of work the flush claimed (ids), each lane's
// together, in order of id.
func (h *handoff) took(work []store.Outbound, ids []int64) {
	if len(ids) == 0 {
		return
	}
	start := len(h.handed)
	for _, o := range work {
		if slices.Contains(ids, o.ID) {
			h.handed = append(h.handed, o)
		}
	}
	slices.SortStableFunc(h.handed[start:], func(a, b store.Outbound) int {
		return cmp.Or(strings.Compare(a.ContactID, b.ContactID), strings.Compare(a.Lane, b.Lane))
	})
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
