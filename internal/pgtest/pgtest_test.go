package pgtest_test

import (
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Each test gets a database of its own on a real PostgreSQL, which it can
// write; another test's database does not see its tables.
func TestDatabases(t *testing.T) {
	a, b := pgtest.Database(t), pgtest.Database(t)
	if a == b {
		t.Fatalf("one database twice: %s", a)
	}
	dba, err := sqlx.Open("postgres", a)
	if err != nil {
		t.Fatal(err)
	}
	defer dba.Close()
	if _, err := dba.Exec(`CREATE TABLE t (id bigserial PRIMARY KEY, v text NOT NULL); INSERT INTO t (v) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dba.Get(&n, `SELECT count(*) FROM t`); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	var version string
	if err := dba.Get(&version, `SHOW server_version`); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s", version)
	dbb, err := sqlx.Open("postgres", b)
	if err != nil {
		t.Fatal(err)
	}
	defer dbb.Close()
	if _, err := dbb.Exec(`SELECT 1 FROM t`); err == nil {
		t.Error("a table of another test's database is seen")
	}
}
