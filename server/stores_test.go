package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
	"github.com/flowd/flowd/runtime/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// storeEnv names the store this run of the tests serves on: the embedded
// one unless it says postgres.
const storeEnv = "FLOWD_TEST_STORE"

// testStore is a fresh store of the run's kind for one test's service.
func testStore(t *testing.T) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if os.Getenv(storeEnv) == "postgres" {
		st, err = postgres.Open(pgtest.Database(t))
	} else {
		st, err = sqlite.Open(filepath.Join(t.TempDir(), "flowd.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestOnPostgres runs every other test of the package again with the
// service on PostgreSQL: what passes on the embedded store passes on the
// shared one.
func TestOnPostgres(t *testing.T) { pgtest.Again(t, storeEnv, "^TestOnPostgres$") }
