package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/sqlite"
	"github.com/flowd/flowd/runtime/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "flowd.db")
		open := func() store.Store {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		return open(), open
	})
}

// TestMemory: ":memory:" is a working store for the sandbox.
func TestMemory(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) (store.Store, func() store.Store) {
		db, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		return db, nil
	})
}

// TestReset: a store that was used and then reset passes the contract as
// a new one does.
func TestReset(t *testing.T) {
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.Exercise(t, func(t *testing.T) (store.Store, func() store.Store) {
		if err := db.Reset(); err != nil {
			t.Fatal(err)
		}
		return noClose{db}, nil
	})
}

// noClose keeps the store open when a subtest closes it, for the next.
type noClose struct{ *sqlite.DB }

func (noClose) Close() error { return nil }
