package runtime

import (
	"context"
	"errors"
	"slices"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime/store"
)

// A Directory is the workspace's users and the teams they are in: who the
// workspace has, not what they are doing. The engine adds each user the
// store lacks; a user's status, last assignment and open conversations are
// store state, which the directory never overwrites.
type Directory interface {
	// Users are the users the engine seeds the store with when it starts.
	Users() []store.User
	// Named are users an assign step names that the store may lack. A
	// workspace's directory names none beyond Users; a simulation makes
	// up the user or team member a test's flow asks for.
	Named(a *interpreter.Assign) []store.User
}

// Users is a fixed directory: the workspace configuration's users.
type Users []store.User

// Users implements Directory.
func (us Users) Users() []store.User { return us }

// Named implements Directory: a fixed directory makes no one up.
func (Users) Named(*interpreter.Assign) []store.User { return nil }

// seedUsers adds the users the store lacks, with their status (offline
// when none is given). With update, it also brings the name, email and
// teams of those it has up to date; their status and last assignment are
// store state, and stay.
func seedUsers(tx store.Tx, users []store.User, update bool) error {
	if len(users) == 0 {
		return nil
	}
	if err := tx.LockAssignment(); err != nil {
		return err
	}
	for _, u := range users {
		old, err := tx.User(u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if u.Status == "" {
				u.Status = "offline"
			}
		case err != nil:
			return err
		case !update:
			continue
		default:
			u.Status, u.LastAssigned = old.Status, old.LastAssigned
			if u.Name == old.Name && u.Email == old.Email && slices.Equal(u.Teams, old.Teams) {
				continue
			}
		}
		if err := tx.SaveUser(u); err != nil {
			return err
		}
	}
	return nil
}

// SeedUsers adds users to the store as a directory's (see Directory), and
// gives the queued assignments to those who can take them now: users
// joined the workspace, or a simulation's directory makes them up again.
func (e *Engine) SeedUsers(ctx context.Context, users []store.User) error {
	return e.inTx(ctx, func(tx store.Tx) error {
		if err := seedUsers(tx, users, true); err != nil {
			return err
		}
		return e.retryAssignments(tx)
	})
}
