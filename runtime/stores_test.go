package runtime_test

import (
	"os"
	"os/exec"
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
	if os.Getenv(storeEnv) != "" {
		t.Skip("this run is on one store already")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	pgtest.Database(t) // skips, or fails under FLOWD_REQUIRE_POSTGRES=1, without a server
	cmd := exec.Command(os.Args[0], "-test.skip", "^(TestOnPostgres|TestTwoEnginesOnePostgres|TestTimerStorm)$", "-test.count", "1")
	cmd.Env = append(os.Environ(), storeEnv+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on PostgreSQL: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
