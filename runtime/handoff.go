package runtime

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/flowd/flowd/runtime/store"
)

// A running dispatcher (Run) takes the outbox work the engine's commits
// hand off: a transaction whose turns send a contact a message claims it
// as it commits, where a claim would take it (store.Tx.HandOff), and gives
// it straight to the dispatcher of its process, which carries it out with
// no claim of its own: one transaction less for each commit, and no wait
// for one. Work that cannot go at once (its lane is busy, it is not due)
// is left to the claims, as is all of it while the dispatcher has more in
// hand than workers to carry it out. An outcome that ends its item hands
// off the lane's next items in turn, so that a contact's replies queued
// while the last one was on its way need no claim either.

// handOffs is the work handed off to one running dispatcher and not yet
// started.
type handOffs struct {
	lease time.Duration // of the claims the commits make
	limit int           // items in hand past which the commits hand off none
	wake  chan struct{} // a value when work was handed off (coalesced)

	mu     sync.Mutex
	queue  []store.Outbound // as store.Tx.Handed returns it: a lane's items together
	closed bool
}

// open reports whether a transaction beginning now may hand work off.
func (h *handOffs) open() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.closed && len(h.queue) < h.limit
}

// put takes work a commit handed off; false when the dispatcher stopped
// meanwhile.
func (h *handOffs) put(work []store.Outbound) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.queue = append(h.queue, work...)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// release ends the claims of work handed off to a dispatcher that
// stopped before it took it, as an item that goes back untried: the
// claims of this process or another take it at once, not after the lease.
func (e *Engine) release(work []store.Outbound) {
	err := e.claimTx(context.Background(), func(tx store.Tx) error {
		for i := range work {
			if err := tx.UpdateOutbound(&work[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		slog.Warn("outbox: work handed off to a dispatcher that stopped waits for its lease", "items", len(work), "err", err)
	}
}

// take returns at most n lanes' chains of the work in hand.
func (h *handOffs) take(n int) [][]store.Outbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	taken := 0
	for i, c := range chains(h.queue) {
		if i == n {
			break
		}
		taken += len(c)
	}
	out := chains(slices.Clone(h.queue[:taken])) // the queue's array is used again
	h.queue = slices.Delete(h.queue, 0, taken)
	return out
}

// receiveHandOffs has the engine's commits hand their outbox work off to
// the dispatcher that calls it, claimed for lease, until stop; at most
// limit items wait for it. One dispatcher of an engine receives them.
func (e *Engine) receiveHandOffs(lease time.Duration, limit int) (h *handOffs, stop func()) {
	h = &handOffs{lease: lease, limit: limit, wake: make(chan struct{}, 1)}
	if !e.handOff.CompareAndSwap(nil, h) {
		h.closed = true // another dispatcher receives them
	}
	return h, func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		e.handOff.CompareAndSwap(h, nil)
	}
}

// wantsClaim reports whether a committed transaction leaves the dispatcher
// work to claim: any it queued, or whose outcome let a lane go on, unless
// it handed its work off. Then what it queued behind a busy lane needs no
// claim: the lane's outcome, which the contact's lock keeps off this
// transaction, either came first, and this one found the lane free, or
// comes after, and hands the work off in turn. Its own outcomes handed off
// their lanes' next items, save one to be tried again, which a claim takes
// when it falls due.
func (e *Engine) wantsClaim(tx *watchTx) bool {
	return tx.outbox && (!tx.handing || tx.retry)
}
