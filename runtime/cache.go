package runtime

import "github.com/flowd/flowd/runtime/store"

// A contactState is what a turn loads for its contact: the contact, its
// latest conversation and its active runs, decoded.
type contactState struct {
	c     *store.Contact
	conv  *store.Conversation
	runs  []*liveRun
	addrs []store.Address // as turn.addrs: nil until read
}

// A stateCache keeps the contact states the engine last committed, so that
// the next event of a contact reads nothing back: with one engine writing
// the store (the embedded one is a single process's), what it committed is
// what the store holds. An entry leaves the cache when a turn takes it; the
// turn's final state goes back only once its transaction commits, and a
// rolled back one leaves the contact to be read from the store again.
type stateCache struct {
	max     int
	on      bool // the transaction under way may use it
	entries map[string]*contactState
	pending map[string]*contactState // the states of the transaction under way
}

func newStateCache(max int) *stateCache {
	return &stateCache{max: max, entries: map[string]*contactState{}, pending: map[string]*contactState{}}
}

// take is the contact's state, if the cache has it; it leaves the cache
// either way, since the turn taking it changes it.
func (sc *stateCache) take(id string) *contactState {
	if sc.max <= 0 {
		return nil // off: a shared store's, which transactions use at once
	}
	if st, ok := sc.pending[id]; ok {
		delete(sc.pending, id)
		return st
	}
	st := sc.entries[id]
	delete(sc.entries, id)
	if !sc.on {
		return nil
	}
	return st
}

// keep holds a turn's final state until its transaction commits.
func (sc *stateCache) keep(id string, st *contactState) {
	if sc.max > 0 && sc.on {
		sc.pending[id] = st
	}
}

// commit keeps the committed transaction's states, and forgets some others
// past max.
func (sc *stateCache) commit() {
	if sc.max <= 0 {
		return
	}
	for id, st := range sc.pending {
		sc.entries[id] = st
	}
	clear(sc.pending)
	for id := range sc.entries { // map order: an entry at random
		if len(sc.entries) <= sc.max {
			break
		}
		delete(sc.entries, id)
	}
}

// abort forgets the states of a transaction that rolled back.
func (sc *stateCache) abort() {
	if sc.max > 0 {
		clear(sc.pending)
	}
}

// drop forgets the contact's state: something changed it that no turn
// did.
func (sc *stateCache) drop(id string) {
	if sc.max <= 0 {
		return
	}
	delete(sc.entries, id)
	delete(sc.pending, id)
}
