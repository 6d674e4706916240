package sqlite

import (
	"time"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/internal/sqlrow"
)

// handoff is what a transaction's hand-off asked for: the items it
// enqueued since, and, once it committed, those it claimed (see
// store.Tx.HandOff). The claims are made as ClaimOutbound's are, in memory,
// once the commit went through.
type handoff struct {
	now      func() time.Time // nil: no hand-off
	lease    time.Duration
	until    time.Time      // of the claims lead found
	lanes    [][2]string    // of the items enqueued and the outcomes, in order, once each
	enqueued map[int64]bool // the items enqueued
	// freed are the lanes of the outcomes recorded: true while each
	// ended its item (delivered, failed), which lets the next items go
	freed  map[[2]string]bool
	handed []store.Outbound
}

// HandOff implements store.Tx.
func (t *Tx) HandOff(now func() time.Time, lease time.Duration) {
	t.hand.now, t.hand.lease = now, lease
}

// Handed implements store.Tx.
func (t *Tx) Handed() []store.Outbound { return t.hand.handed }

// enqueued notes an item enqueued under a hand-off.
func (h *handoff) enqueue(o *store.Outbound) {
	if h.now == nil {
		return
	}
	if h.enqueued == nil {
		h.enqueued = map[int64]bool{}
	}
	h.enqueued[o.ID] = true
	h.note([2]string{o.ContactID, o.Lane})
}

// outcome notes an outcome recorded under a hand-off.
func (h *handoff) outcome(o *store.Outbound) {
	if h.now == nil {
		return
	}
	if h.freed == nil {
		h.freed = map[[2]string]bool{}
	}
	l := [2]string{o.ContactID, o.Lane}
	was, seen := h.freed[l]
	h.freed[l] = (was || !seen) && o.Status != store.OutPending
	h.note(l)
}

func (h *handoff) note(lane [2]string) {
	for _, l := range h.lanes {
		if l == lane {
			return
		}
	}
	h.lanes = append(h.lanes, lane)
}

// lead finds, before the commit, the items the hand-off claims: each
// lane's pending items from its first on, as long as they are due, not
// claimed and this transaction's (any, in a lane its outcomes freed),
// MaxChain at most.
func (t *Tx) lead() error {
	h := &t.hand
	h.handed = nil
	now := h.now()
	h.until = now.Add(h.lease)
	for _, l := range h.lanes {
		rows, err := t.stmt("lane_after").QueryContext(t.ctx, l[0], l[1], 0, store.MaxChain)
		pending, err := sqlrow.Collect(rows, err, sqlrow.ScanOutbound)
		if err != nil {
			return err
		}
		for _, o := range pending {
			if !h.enqueued[o.ID] && !h.freed[l] || o.NextAt.After(now) || t.db.claims.held(o.ID, now) {
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
