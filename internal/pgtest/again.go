package pgtest

import (
	"os"
	"os/exec"
	"testing"
)

// Again runs the test binary's tests again, those skip matches excepted,
// with env set to postgres: a package's tests on the shared store, as a
// run of their own. It skips when this run is such a run already, under
// -short, and without a PostgreSQL server (see Database).
func Again(t *testing.T, env, skip string) {
	if os.Getenv(env) != "" {
		t.Skip("this run is on one store already")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	Database(t) // skips, or fails under FLOWD_REQUIRE_POSTGRES=1, without a server
	cmd := exec.Command(os.Args[0], "-test.skip", skip, "-test.count", "1")
	cmd.Env = append(os.Environ(), env+"=postgres")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests on PostgreSQL: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
