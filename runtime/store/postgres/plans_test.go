package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
)

// The statements that find contacts' waiting runs probe runs_active by
// contact even when the statistics say no run waits, as they do between
// two ANALYZEs while paused runs pile up: scanning runs_waiting whole would
// read every paused run in every batch (see migration 003).
func TestWaitingRunsProbedByContact(t *testing.T) {
	db, err := Open(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// many runs, none of them waiting, as the statistics see them
	if _, err := db.db.ExecContext(ctx, `INSERT INTO runs (contact_id, flow, program, status, wait, wait_seq, deadline,
		parent, err, started, updated, seq) SELECT 'c' || g, 'F', 'h', 'done', '', 0, 0, 0, '', 0, 0, 0 FROM generate_series(1, 5000) AS g`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `ANALYZE runs`); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string]string{"active_runs": `'c1'`, "ahead_runs": `ARRAY['c1', 'c2']`} {
		tx, err := db.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for _, q := range []string{`SET LOCAL plan_cache_mode = force_generic_plan`, `PREPARE p_` + name + ` AS ` + queries[name]} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatal(name, err)
			}
		}
		rows, err := tx.QueryContext(ctx, `EXPLAIN (COSTS OFF) EXECUTE p_`+name+`(`+args+`)`)
		if err != nil {
			t.Fatal(name, err)
		}
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		tx.Rollback() // PREPARE outlives it: the names differ
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "runs_active") || !strings.Contains(text, "Index Cond") || strings.Contains(text, "runs_waiting") {
			t.Errorf("%s: want a probe of runs_active by contact; planned:\n%s", name, text)
		}
	}
}
