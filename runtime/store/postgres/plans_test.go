package postgres

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
)

// The statements that find contacts' waiting runs probe runs_active by
// contact even when the statistics say no run waits, as they do between
// two ANALYZEs while paused runs pile up: scanning runs_waiting whole would
// read every paused run in every batch (see migration 003).
func TestWaitingRunsProbedByContact(t *testing.T) {
	db := openTest(t)
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
		plan := explain(t, db, name, args, "COSTS OFF")
		if !strings.Contains(plan, "runs_active") || !strings.Contains(plan, "Index Cond") || strings.Contains(plan, "runs_waiting") {
			t.Errorf("%s: want a probe of runs_active by contact; planned:\n%s", name, plan)
		}
	}
}

// openTest opens a store on a fresh database of the test's server.
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// explain plans the statement called name as a prepared statement is once
// its plan is generic, and returns what EXPLAIN with options says of it on
// args; with ANALYZE it runs it, in a transaction rolled back.
func explain(t *testing.T, db *DB, name, args, options string) string {
	t.Helper()
	ctx := context.Background()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // PREPARE outlives it: each statement is prepared once
	for _, q := range []string{`SET LOCAL plan_cache_mode = force_generic_plan`, `PREPARE p_` + name + ` AS ` + queries[name]} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(name, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `EXPLAIN (`+options+`) EXECUTE p_`+name+`(`+args+`)`)
	if err != nil {
		t.Fatal(name, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(name, err)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// A claim reads the pending items once, however many there are and
// whatever the statistics say of them: a plan that joined the pass over
// them (lanes) to the items due scanned it again for each one, so that a
// backlog of 20,000 messages (a channel down for an hour) made one claim
// take two minutes. Each scan of lanes here must happen once.
func TestClaimsScanPendingOnce(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	insert := func(status string, n int) {
		if _, err := db.db.ExecContext(ctx, `INSERT INTO outbox (contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created)
			SELECT 'c' || (g % 200), 'message', 'message', 0, 0, '\x7b7d', $1, 0, 1000, '', 0 FROM generate_series(1, $2) AS g`, status, n); err != nil {
			t.Fatal(err)
		}
	}
	insert("delivered", 2000)
	if _, err := db.db.ExecContext(ctx, `ANALYZE outbox`); err != nil { // the statistics see no pending item
		t.Fatal(err)
	}
	insert("pending", 2000)
	for name, args := range map[string]string{"claim_outbound": `2000, 3000, 256, 9`, "due_outbound": `2000, 256`} {
		plan := explain(t, db, name, args, "ANALYZE, FORMAT JSON")
		var nodes []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
			t.Fatal(name, err)
		}
		scans := 0
		var walk func(n planNode)
		walk = func(n planNode) {
			if n.CTE == "lanes" || n.Alias == "lanes" { // a CTE scan, or the subquery it was inlined as
				scans++
				if n.Loops > 1 {
					t.Errorf("%s: lanes scanned %d times in one node; want once", name, n.Loops)
				}
			}
			for _, c := range n.Plans {
				walk(c)
			}
		}
		walk(nodes[0].Plan)
		if scans == 0 {
			t.Errorf("%s: no scan of lanes in the plan:\n%s", name, plan)
		}
	}
}

// A planNode is a node of EXPLAIN's JSON.
type planNode struct {
	NodeType string     `json:"Node Type"`
	CTE      string     `json:"CTE Name"`
	Alias    string     `json:"Alias"`
	Loops    int        `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

// The store's connections use the generic plans the tests above check,
// from the first call on, and never plan a statement again per call.
func TestConnectionsPlanGenerically(t *testing.T) {
	db := openTest(t)
	db.db.SetMaxOpenConns(3)
	for i := 0; i < 3; i++ { // each connection of the pool
		tx, err := db.db.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var mode string
		if err := tx.Get(&mode, `SHOW plan_cache_mode`); err != nil {
			t.Fatal(err)
		}
		if mode != "force_generic_plan" {
			t.Errorf("connection %d: plan_cache_mode = %s; want force_generic_plan", i, mode)
		}
	}
}

// A statement that takes a batch of rows found by a subquery with a LIMIT
// takes them by key, one probe each, in the plan the store's connections
// use: the claim of due timers (a storm of 100,000 took 10 s instead of
// 8 s when it scanned the timers whole for each batch of 256) and the
// prunes. Nor do the reads of due timers scan the table, of thousands of
// rows here.
func TestBatchesTakenByKey(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO timers (contact_id, kind, run_id, seq, at) SELECT 'c' || g, 'reply', g, 1, 1000 FROM generate_series(1, 5000) AS g`,
		`INSERT INTO dedup (key, at) SELECT sha256(g::text::bytea), g FROM generate_series(1, 5000) AS g`,
		`INSERT INTO activity (contact_id, last_id, at, ids, ats, kinds, flows, run_ids, texts, datas)
			SELECT 'c' || g, g, g, ARRAY[g], ARRAY[g], ARRAY['tag'], ARRAY[''], ARRAY[0], ARRAY[''], ARRAY[''::bytea] FROM generate_series(1, 5000) AS g`,
		`INSERT INTO outbox (contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created)
			SELECT 'c' || g, 'message', 'message', 0, 0, '\x7b7d', 'delivered', 1, 1000, '', g FROM generate_series(1, 5000) AS g`,
		`INSERT INTO receipts (channel_id, mid, contact_id, outbox_id, at) SELECT 'ch', 'm' || id, contact_id, id, 0 FROM outbox`,
		`ANALYZE timers, dedup, activity, outbox, receipts`,
	} {
		if _, err := db.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for name, args := range map[string]string{
		"claim_timers":   `2000, 3000, 256`,
		"due_timers":     `2000, 256`,
		"next_timer":     `2000`,
		"prune_dedup":    `100, 50`,
		"prune_activity": `100, 50`,
		"prune_receipts": `100, 50`,
		"prune_outbox":   `100, 50`,
	} {
		plan := explain(t, db, name, args, "COSTS OFF")
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: want probes by key; planned:\n%s", name, plan)
		}
	}
}

// laneLook is a plan's line that reads the outbox as a lane's look does.
var laneLook = regexp.MustCompile(`on outbox p(_[0-9]+)?$`)

// A flush that hands its work off looks for each lane's pending items by
// the lane: planned to walk the items due instead, it read every pending
// item of every contact for each lane.
func TestHandOffProbesTheLane(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO outbox (contact_id, lane, kind, run_id, seq, payload, status, attempts, next_at, err, created)
			SELECT 'c' || g, 'message', 'message', 0, 0, '\x7b7d', CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'delivered' END, 1, 1000, '', g
			FROM generate_series(1, 5000) AS g`,
		`ANALYZE outbox`,
	} {
		if _, err := db.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	args := strings.TrimSuffix(strings.Repeat("'{}', ", len(flushTypes)), ", ")
	plan := explain(t, db, "flush", args, "COSTS OFF")
	lines := strings.Split(plan, "\n")
	lanes, probed := 0, 0
	for i, line := range lines {
		if laneLook.MatchString(line) {
			lanes++
			if strings.Contains(line, "using outbox_pending") && i+1 < len(lines) &&
				strings.Contains(lines[i+1], "Index Cond: ((contact_id = ") && strings.Contains(lines[i+1], "AND (lane = ") {
				probed++
			}
		}
	}
	// two looks at lanes: the items inserted, and those behind an outcome
	if lanes != 2 || probed != lanes {
		t.Errorf("flush: want each lane's pending items probed by contact and lane (2 looks); planned:\n%s", plan)
	}
}
