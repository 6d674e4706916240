package runtime_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store/postgres"
	"github.com/jmoiron/sqlx"
)

// lags records the timers an engine fired and how late.
type lags struct {
	mu  sync.Mutex
	all []time.Duration
	n   atomic.Int64
}

func (*lags) Handled(int, int, time.Duration) {}
func (*lags) Carried(string, string)          {}
func (l *lags) Fired(_ string, lag time.Duration) {
	l.n.Add(1)
	l.mu.Lock()
	l.all = append(l.all, lag)
	l.mu.Unlock()
}

// TestTimerStorm: paused runs whose reply timeouts fall due at the same
// moment, fired by two engines on one PostgreSQL (two processes): each
// fires exactly once. It prints the time to drain them, the fires/s, and
// how late they fired. FLOWD_TIMER_STORM=100000 sets how many (2,000 by
// default), and then also runs pgbench -N on the same database for the
// fires/s as a ratio to its TPS.
func TestTimerStorm(t *testing.T) {
	n := 2000
	if v := os.Getenv("FLOWD_TIMER_STORM"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("FLOWD_TIMER_STORM=%q: want a count", v)
		}
	}
	url := pgtest.Database(t)
	flows := compile(t, `flow "Storm"
trigger manual

reply: ask "Still there?" save Answer timeout 5m {
  on timeout {
    tag add "timed out"
  }
}
`)
	ctx := context.Background()
	// one paused run through the engine, then n-1 copies of it in SQL
	seed, err := postgres.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	e, err := runtime.New(ctx, seed, flows, runtime.Config{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []runtime.Event{runtime.Message{Contact: "s1", Text: "hi"}, runtime.ManualStart{Contact: "s1", Flow: "Storm"}} {
		if err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	seed.Close()
	db := sqlx.MustOpen("postgres", url)
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO contacts (id, fields, tags, channel, channels, created)
			SELECT 's' || g, fields, tags, channel, channels, created FROM contacts, generate_series(2, $1) g WHERE id = 's1'`,
		`INSERT INTO runs (contact_id, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq)
			SELECT 's' || g, flow, program, status, cont, vars, wait, wait_seq, deadline, trigger, parent, err, started, updated, seq
			FROM runs, generate_series(2, $1) g WHERE contact_id = 's1' AND status = 'waiting'`,
		`INSERT INTO timers (contact_id, kind, run_id, seq, at)
			SELECT r.contact_id, t.kind, r.id, t.seq, t.at FROM runs r, timers t
			WHERE t.contact_id = 's1' AND t.kind = 'run' AND r.contact_id <> 's1' AND $1 > 0`,
		`ANALYZE`,
	} {
		if _, err := db.Exec(q, n); err != nil && q != `ANALYZE` {
			t.Fatal(err)
		}
	}
	var timers int
	db.Get(&timers, `SELECT count(*) FROM timers WHERE kind = 'run'`)
	if timers != n {
		t.Fatalf("%d timers set, want %d", timers, n)
	}

	// the timers fall due together: the clock starts at their deadline
	due := t0.Add(5 * time.Minute)
	start := time.Now()
	now := func() time.Time { return due.Add(time.Since(start)) }
	var meters [2]lags
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range meters {
		st, err := postgres.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		e, err := runtime.New(ctx, st, flows, runtime.Config{Now: now, Meter: &meters[i]})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.RunTimers(loops)
		}()
	}
	deadline := time.Now().Add(10 * time.Minute)
	for meters[0].n.Load()+meters[1].n.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // a timer counts once its event committed
	}
	drained := time.Since(start)
	time.Sleep(100 * time.Millisecond) // a timer fired twice would show now
	stop()
	wg.Wait()

	fired := meters[0].n.Load() + meters[1].n.Load()
	if fired != int64(n) {
		t.Errorf("fired %d timers (%d and %d), want %d", fired, meters[0].n.Load(), meters[1].n.Load(), n)
	}
	var twice, tagged, left int
	db.Get(&twice, `SELECT count(*) FROM (SELECT contact_id FROM activity_entries WHERE kind = 'tag' GROUP BY contact_id HAVING count(*) > 1) x`)
	db.Get(&tagged, `SELECT count(DISTINCT contact_id) FROM activity_entries WHERE kind = 'tag'`)
	db.Get(&left, `SELECT count(*) FROM timers WHERE kind = 'run'`)
	if twice != 0 || tagged != n || left != 0 {
		t.Errorf("%d contacts tagged (want %d), %d twice (want 0); %d timers left", tagged, n, twice, left)
	}
	all := slices.Concat(meters[0].all, meters[1].all)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	rate := float64(fired) / drained.Seconds()
	msg := fmt.Sprintf("timer storm: %d timers due at once, 2 engines on PostgreSQL: drained in %v (%d and %d), %.0f fires/s, lag p50 %v p99 %v",
		n, drained.Round(time.Millisecond), meters[0].n.Load(), meters[1].n.Load(), rate,
		all[len(all)/2].Round(time.Millisecond), all[len(all)*99/100].Round(time.Millisecond))
	if os.Getenv("FLOWD_TIMER_STORM") != "" {
		if tps, err := pgtest.Pgbench(url, 32, 10*time.Second); err == nil {
			msg += fmt.Sprintf("; pgbench -N C=32 %.0f tps: %.2f of it", tps, rate/tps)
		} else {
			msg += fmt.Sprintf("; pgbench: %v", err)
		}
	}
	fmt.Println(msg)
}
