package postgres_test

import (
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
	"github.com/flowd/flowd/runtime/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestContract(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) (store.Store, func() store.Store) {
		url := pgtest.Database(t)
		open := func() store.Store {
			db, err := postgres.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		return open(), open
	})
}
