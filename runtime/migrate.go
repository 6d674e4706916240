package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// A RunMove is what moving one paused run to its flow's current version did,
// or would do: Moved, or Reason why not.
type RunMove struct {
	Run     int64  `json:"run"`
	Contact string `json:"contact"`
	From    string `json:"from"` // the version it paused in
	To      string `json:"to"`   // the current version
	Step    string `json:"step"` // where it waits: a label, or #n
	Moved   bool   `json:"moved"`
	Reason  string `json:"reason,omitempty"`
}

// migrateBatch is how many runs one transaction of MigrateRuns moves.
const migrateBatch = 100

// MaxMigrate bounds the runs one call of MigrateRuns looks at.
const MaxMigrate = 10_000

// MigrateRuns moves the flow's runs paused in earlier versions to its
// current version, each to the step with the label it waits at (see
// interpreter.Migrate), and returns what it did for each. With apply false
// it moves none, and says what it would do. A run already on the current
// version is left out.
//
// It looks at the flow's waiting runs after the run id after, at most limit
// of them (at most MaxMigrate; 0 is MaxMigrate); next is where the next call
// goes on, 0 when none are left.
func (e *Engine) MigrateRuns(ctx context.Context, flow string, apply bool, after int64, limit int) (moves []RunMove, next int64, err error) {
	to := e.Flow(flow)
	if to == nil {
		return nil, 0, fmt.Errorf("%w: %q has no current version", ErrNoFlow, flow)
	}
	if limit <= 0 || limit > MaxMigrate {
		limit = MaxMigrate
	}
	for seen := 0; seen < limit; {
		var page []*store.Run
		err := e.inTx(ctx, func(tx store.Tx) error {
			var err error
			if page, err = tx.WaitingRuns(flow, after, min(migrateBatch, limit-seen)); err != nil || len(page) == 0 {
				return err
			}
			if apply { // then read each run again under its contact's lock
				ids := make([]string, len(page))
				for i, r := range page {
					ids[i] = r.ContactID
				}
				if err := tx.LockContacts(ids...); err != nil {
					return err
				}
			}
			for _, r := range page {
				if apply {
					if r, err = tx.Run(r.ID); err != nil {
						return err
					}
					if r.Status != store.RunWaiting {
						continue // ended meanwhile
					}
				}
				if r.Program == to.Hash {
					continue
				}
				m, err := e.migrateRun(tx, r, to, apply)
				if err != nil {
					return err
				}
				moves = append(moves, m)
			}
			return nil
		})
		if err != nil || len(page) == 0 {
			return moves, 0, err
		}
		seen += len(page)
		after = page[len(page)-1].ID
	}
	return moves, after, nil // more may wait after it
}

// migrateRun moves one run, or says why it does not.
func (e *Engine) migrateRun(tx store.Tx, r *store.Run, to *interpreter.Program, apply bool) (RunMove, error) {
	m := RunMove{Run: r.ID, Contact: r.ContactID, From: r.Program, To: to.Hash}
	from, err := e.program(tx, r.Program)
	if err != nil {
		m.Reason = err.Error()
		return m, nil
	}
	c, err := interpreter.Decode(r.Cont)
	if err == nil {
		err = c.Bind(from)
	}
	if err != nil {
		m.Reason = err.Error()
		return m, nil
	}
	m.Step = c.Step
	moved, err := interpreter.Migrate(c, from, to)
	if err != nil {
		m.Reason = err.Error()
		return m, nil
	}
	m.Moved = true
	if !apply {
		return m, nil
	}
	b, err := moved.Encode(nil)
	if err != nil {
		return m, err
	}
	r.Program, r.Cont, r.Updated = to.Hash, b, e.cfg.Now()
	if err := tx.UpdateRun(r); err != nil {
		if errors.Is(err, store.ErrConflict) { // an event moved it on meanwhile
			m.Moved, m.Reason = false, "it moved on while being migrated: run again"
			return m, nil
		}
		return m, err
	}
	e.cache.drop(r.ContactID) // its runs changed behind the cache's back
	return m, nil
}
