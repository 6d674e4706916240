package runtime_test

import (
	"os"
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
	"github.com/flowd/flowd/runtime/store/sqlite"
)

// storeEnv names the store this run of the tests keeps its engines' state
// in: the embedded one unless it says postgres.
const storeEnv = "FLOWD_TEST_STORE"

// databases are the PostgreSQL databases of this run's tests, one each, so
// that a harness that restarts opens its own again.
var databases = map[string]string{}

// openTestStore opens the store of a test's harness: the file at path, or
// on PostgreSQL a database of the test's own.
func openTestStore(t *testing.T, path string) (store.Store, error) {
	if os.Getenv(storeEnv) != "postgres" {
		return sqlite.Open(path)
	}
	url, ok := databases[path]
	if !ok {
		url = pgtest.Database(t)
		databases[path] = url
	}
	return postgres.Open(url)
}

// TestOnPostgres runs the package's engine tests again with their engines
// on PostgreSQL: what passes on the embedded store passes on the shared
// one. (The tests of two engines on PostgreSQL are on it already.)
func TestOnPostgres(t *testing.T) {
	pgtest.Again(t, storeEnv, `^(TestOnPostgres|TestTwoEnginesOnePostgres|TestOutcomeTakesNoContactLock|TestTimerStorm)$`)
}
