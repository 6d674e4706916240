package sqlite

import (
	"slices"
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
)

// handoff is what a transaction's hand-off asked for: the items it
// enqueued since and the outcomes it recorded, and, once it committed, the
// items it claimed (see store.Tx.HandOff). The claims are made as
// ClaimOutbound's are, in memory, once the commit went through.
type handoff struct {
	now      func() time.Time // nil: no hand-off
	lease    time.Duration
	until    time.Time        // of the claims lead found
	lanes    []store.Lane     // of the items enqueued, in order, once each
	enqueued map[int64]bool   // the items enqueued
	outcomes []store.Outbound // the outcomes recorded
	handed   []store.Outbound
}

// HandOff implements store.Tx.
func (t *Tx) HandOff(now func() time.Time, lease time.Duration) {
	t.hand.now, t.hand.lease = now, lease
}

// Handed implements store.Tx.
func (t *Tx) Handed() []store.Outbound { return t.hand.handed }

// enqueue notes an item enqueued under a hand-off.
func (h *handoff) enqueue(o *store.Outbound) {
	if h.now == nil {
		return
	}
	if h.enqueued == nil {
		h.enqueued = map[int64]bool{}
	}
	h.enqueued[o.ID] = true
	if l := store.LaneOf(*o); !slices.Contains(h.lanes, l) {
		h.lanes = append(h.lanes, l)
	}
}

// outcome notes an outcome recorded under a hand-off.
func (h *handoff) outcome(o *store.Outbound) {
	if h.now != nil {
		h.outcomes = append(h.outcomes, *o)
	}
}

// lead finds, before the commit, the items the hand-off claims: in each
// lane it enqueued to or its outcomes freed, the pending items from the
// first on, as long as they are due, not claimed and this transaction's
// (any, in a lane freed), MaxChain at most.
func (t *Tx) lead() error {
	h := &t.hand
	h.handed = nil
	now := h.now()
	h.until = now.Add(h.lease)
	freed, _ := store.Freed(h.outcomes)
	lanes := slices.Clone(h.lanes)
	for _, l := range freed {
		if !slices.Contains(lanes, l) {
			lanes = append(lanes, l)
		}
	}
	for _, l := range lanes {
		rows, err := t.stmt("lane_after").QueryContext(t.ctx, l.Contact, l.Name, 0, store.MaxChain)
		pending, err := sqlrow.Collect(rows, err, sqlrow.ScanOutbound)
		if err != nil {
			return err
		}
		free := slices.Contains(freed, l)
		for _, o := range pending {
			if !h.enqueued[o.ID] && !free || o.NextAt.After(now) || t.db.claims.held(o.ID, now) {
				break
			}
			h.handed = append(h.handed, o)
		}
	}
	return nil
}

// claim claims the handed items, once the commit went through.
func (t *Tx) claim() {
	for _, o := range t.hand.handed {
		t.db.claims.claim(o.ID, t.hand.until)
	}
}
