package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/jmoiron/sqlx"
)

// runBench implements `flowd bench`: C concurrent contacts through the
// consent flow over HTTP for T seconds, against a flowd serve it starts (or
// one at --url), with a receiver of its own for /message; then, in the same
// run, the engine alone (the Writer on the same turns, no HTTP).
func runBench(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("bench", "flowd bench [-c 32] [-t 10s] [--db postgres://...] [--url URL --receiver ADDR]",
		"Measures turns/s and latency over HTTP through the consent flow, and the engine alone on the same turns.\n"+
			"On PostgreSQL it also runs pgbench -N at the same concurrency for the same time on the same database,\n"+
			"and prints flowd's turns/s as a ratio to its TPS (pgbench -i creates its tables there).", stderr)
	c := fl.Int("c", 32, "concurrent contacts")
	d := fl.Duration("t", 10*time.Second, "how long each measure runs")
	url := fl.String("url", "", "a running flowd serve to drive, whose FLOWD_CHANNEL_URL is http://<--receiver>, channel id bench, token bench-token (default: start one)")
	recvAddr := fl.String("receiver", "127.0.0.1:0", "where the receiver of /message listens")
	rate := fl.Float64("rate", 0, "inbound turns a second to offer in all (0: as fast as answered)")
	engineOnly := fl.Bool("engine", false, "measure the engine alone only")
	flowPath := fl.String("flow", filepath.Join("flows", "request_consent_privacy.flow"), "the consent flow")
	db := fl.String("db", "", "the store: a PostgreSQL URL (default: an embedded store in a temp dir)")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 || *c < 1 {
		return 2
	}
	src, err := os.ReadFile(*flowPath)
	if err != nil {
		fmt.Fprintf(stderr, "flowd bench: %v (run it in the repository's root, or give --flow)\n", err)
		return 1
	}
	var httpRate float64
	if !*engineOnly {
		res, err := benchHTTP(*url, *recvAddr, *db, src, *c, *d, *rate)
		if err != nil {
			fmt.Fprintf(stderr, "flowd bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "http:   C=%d %5.0f turns/s  latency p50 %v  p99 %v  max %v  (%d turns, %d outbound)\n",
			*c, res.rate, res.p50, res.p99, res.max, res.turns, res.outbound)
		httpRate = res.rate
	}
	stopProfile := profileCPU(os.Getenv) // of the engine alone
	alone, err := benchEngine(*db, src, *c, *d)
	stopProfile()
	if err != nil {
		fmt.Fprintf(stderr, "flowd bench: %v\n", err)
		return 1
	}
	where := "a file store, synchronous=FULL"
	if *db != "" {
		where = "PostgreSQL"
	}
	fmt.Fprintf(stdout, "engine: C=%d %5.0f turns/s  (%d turns, %d commits; the Writer on %s, no HTTP)\n",
		*c, alone.rate, alone.turns, alone.commits, where)
	if !isPostgres(*db) {
		return 0
	}
	tps, err := pgtest.Pgbench(*db, *c, *d)
	if err != nil {
		fmt.Fprintf(stderr, "flowd bench: pgbench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "pgbench -N: C=%d %5.0f tps\n", *c, tps)
	fmt.Fprintf(stdout, "flowd / pgbench -N: engine %.2f", alone.rate/tps)
	if httpRate > 0 {
		fmt.Fprintf(stdout, ", http %.2f", httpRate/tps)
	}
	fmt.Fprintln(stdout)
	return 0
}

// freshSchema makes a schema of its own in the database at url for one
// measure, so that none meets another's rows (an engine alone leaves its
// deliveries pending), and returns the URL that works in it, and what drops
// it.
func freshSchema(url string) (string, func(), error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("flowd_bench_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		db.Close()
		return "", nil, err
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + name, func() {
		db.Exec("DROP SCHEMA " + name + " CASCADE")
		db.Close()
	}, nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

type benchResult struct {
	turns, outbound, commits int64
	rate                     float64
	p50, p99, max            time.Duration
}

// benchTurn is one of a contact's two turns: the message, and the text the
// turn's last outbound message starts with.
var benchTurns = [2][2]string{{"Hello", "Do you accept"}, {"ACCEPT AND CONTINUE", "Thank you!"}}

// benchHTTP drives a flowd serve over HTTP.
func benchHTTP(url, recvAddr, db string, flow []byte, c int, d time.Duration, rate float64) (benchResult, error) {
	rc := &benchReceiver{waiting: map[string]chan struct{}{}}
	ln, err := net.Listen("tcp", recvAddr)
	if err != nil {
		return benchResult{}, err
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(ln)
	defer srv.Close()
	if url == "" {
		if isPostgres(db) {
			fresh, drop, err := freshSchema(db)
			if err != nil {
				return benchResult{}, err
			}
			defer drop()
			db = fresh
		}
		stop, u, err := spawnServe(flow, db, "http://"+ln.Addr().String())
		if err != nil {
			return benchResult{}, err
		}
		defer stop()
		url = u
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c * 2}, Timeout: 30 * time.Second}
	return warmed(db, d, func(d time.Duration) (benchResult, error) {
		return driveHTTP(client, rc, url, c, d, rate)
	})
}

// driveHTTP drives a flowd serve over HTTP for d.
func driveHTTP(client *http.Client, rc *benchReceiver, url string, c int, d time.Duration, rate float64) (benchResult, error) {
	var turns atomic.Int64
	lat := make([][]time.Duration, c)
	var next atomic.Int64
	stopAt := time.Now().Add(d)
	var pace <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		pace = t.C
	}
	run := fmt.Sprint(time.Now().UnixNano() % 1e9)
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				contact := fmt.Sprintf("b%s_%d", run, next.Add(1))
				for i, turn := range benchTurns {
					if pace != nil {
						<-pace
					}
					done := rc.expect(contact, turn[1])
					t0 := time.Now()
					body := fmt.Sprintf(`{"channelId":"bench","contactId":%q,"events":[{"type":"message","mId":"%s-%d","timestamp":%d,"message":{"type":"text","text":%q}}]}`,
						contact, contact, i, t0.UnixMilli(), turn[0])
					req, _ := http.NewRequest("POST", url+"/custom/channel/webhook/", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer bench-token")
					resp, err := client.Do(req)
					if err != nil {
						failed.Store(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Store(fmt.Errorf("webhook answered %d", resp.StatusCode))
						return
					}
					select {
					case <-done:
					case <-time.After(30 * time.Second):
						failed.Store(fmt.Errorf("%s: no %q within 30 s", contact, turn[1]))
						return
					}
					lat[w] = append(lat[w], time.Since(t0))
					turns.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		return benchResult{}, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := benchResult{turns: turns.Load(), outbound: rc.count.Load(), rate: float64(turns.Load()) / took.Seconds()}
	if n := len(all); n > 0 {
		res.p50, res.p99, res.max = all[n/2], all[n*99/100], all[n-1]
	}
	return res, nil
}

// spawnServe starts flowd serve on the consent flow alone, the store db (""
// is a fresh file store), and one channel delivering to the receiver; stop
// stops it.
func spawnServe(flow []byte, db, receiver string) (stop func(), url string, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "flowd-bench-")
	if err != nil {
		return nil, "", err
	}
	os.Mkdir(filepath.Join(dir, "flows"), 0o755)
	os.WriteFile(filepath.Join(dir, "flows", "consent.flow"), flow, 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	os.WriteFile(filepath.Join(dir, "flows", "flowd.toml"), []byte("[limits]\nchannel = 1000000\ncontact = 1000\n"), 0o644)
	if db == "" {
		db = filepath.Join(dir, "flowd.db")
	}
	cmd := exec.Command(exe, "serve", "--flows", filepath.Join(dir, "flows"), "--addr", addr, "--db", db)
	cmd.Env = append(os.Environ(), "FLOWD_CHANNEL_URL="+receiver, "FLOWD_CHANNEL_TOKEN=bench-token", "FLOWD_CHANNEL_ID=bench")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		os.RemoveAll(dir)
	}
	url = "http://" + addr
	if err := waitServing(url, 20*time.Second); err != nil {
		stop()
		return nil, "", fmt.Errorf("%v: %s", err, logs.String())
	}
	return stop, url, nil
}

// waitServing waits until the flowd serve at url answers /readyz.
func waitServing(url string, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("flowd serve did not start within %v", d)
}

// benchReceiver takes /message and tells the contact waiting for a text.
type benchReceiver struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // contact + text prefix
	count   atomic.Int64
}

func (rc *benchReceiver) expect(contact, prefix string) <-chan struct{} {
	ch := make(chan struct{})
	rc.mu.Lock()
	rc.waiting[contact+"\x00"+prefix] = ch
	rc.mu.Unlock()
	return ch
}

func (rc *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		ContactID string
		Message   struct{ Text, Title string }
	}
	json.NewDecoder(r.Body).Decode(&m)
	n := rc.count.Add(1)
	text := m.Message.Text + m.Message.Title
	rc.mu.Lock()
	for _, t := range benchTurns {
		if strings.HasPrefix(text, t[1]) {
			key := m.ContactID + "\x00" + t[1]
			if ch, ok := rc.waiting[key]; ok {
				close(ch)
				delete(rc.waiting, key)
			}
		}
	}
	rc.mu.Unlock()
	fmt.Fprintf(w, `{"mId":"r%d"}`, n)
}

// benchEngine runs the same turns through the Writer alone: C contacts,
// each its two messages, on the store db ("": a fresh file store), for d.
func benchEngine(db string, flow []byte, c int, d time.Duration) (benchResult, error) {
	if db == "" {
		dir, err := os.MkdirTemp("", "flowd-bench-")
		if err != nil {
			return benchResult{}, err
		}
		defer os.RemoveAll(dir)
		db = filepath.Join(dir, "flowd.db")
	} else {
		fresh, drop, err := freshSchema(db)
		if err != nil {
			return benchResult{}, err
		}
		defer drop()
		db = fresh
	}
	st, err := openStore(db)
	if err != nil {
		return benchResult{}, err
	}
	defer st.Close()
	return warmed(db, d, func(d time.Duration) (benchResult, error) { return driveEngine(st, flow, c, d) })
}

// warmup is how long a measure runs before it counts: long enough for a
// store that starts empty to hold rows its statistics can tell of.
const warmup = 2 * time.Second

// warmed runs a measure for warmup, then has PostgreSQL analyze the tables
// it filled (its schema's), as its autovacuum would a minute into a service's life, and
// runs it again for d: a fresh schema's first plans are made for empty
// tables (pgbench -i, likewise, analyzes its tables before pgbench runs).
func warmed(db string, d time.Duration, measure func(time.Duration) (benchResult, error)) (benchResult, error) {
	if !isPostgres(db) {
		return measure(d)
	}
	if _, err := measure(warmup); err != nil {
		return benchResult{}, err
	}
	conn, err := sql.Open("postgres", db)
	if err != nil {
		return benchResult{}, err
	}
	defer conn.Close()
	var tables []string // the measure's schema's alone, not the whole database's
	if err := sqlx.NewDb(conn, "postgres").Select(&tables, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`); err != nil {
		return benchResult{}, fmt.Errorf("analyze: %w", err)
	}
	if len(tables) > 0 {
		if _, err := conn.Exec("ANALYZE " + strings.Join(tables, ", ")); err != nil {
			return benchResult{}, fmt.Errorf("analyze: %w", err)
		}
	}
	return measure(d)
}

// driveEngine drives the engine alone for d.
func driveEngine(st store.Store, flow []byte, c int, d time.Duration) (benchResult, error) {
	p, _, err := interpreter.CompileSource("consent.flow", flow)
	if err != nil {
		return benchResult{}, err
	}
	flows := []runtime.Flow{{Program: p, Source: flow}}
	ctx := context.Background()
	e, err := runtime.New(ctx, st, flows, runtime.Config{})
	if err != nil {
		return benchResult{}, err
	}
	w := e.NewWriter(0)
	defer w.Close()
	var turns, next atomic.Int64
	var failed atomic.Value
	run := time.Now().UnixNano() % 1e9 // contacts of their own on a store that outlives the run
	stopAt := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stopAt) {
				from := store.Address{ChannelID: "bench", Channel: "custom", ExternalID: fmt.Sprint("e", run, "_", next.Add(1))}
				for i, turn := range benchTurns {
					in := runtime.Inbound{From: from, Type: runtime.InMessage, MID: fmt.Sprint(from.ExternalID, "-", i), Text: turn[0]}
					if err := w.Submit(ctx, in); err != nil {
						failed.Store(err)
						return
					}
					turns.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		return benchResult{}, err
	}
	_, commits := w.Stats()
	return benchResult{turns: turns.Load(), commits: commits, rate: float64(turns.Load()) / took.Seconds()}, nil
}
