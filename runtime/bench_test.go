package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/sqlite"
)

// benchFlow asks again and again: each answer is one turn that resumes the
// run, saves its continuation, queues the next question, moves its timer
// and writes the activity. Every eleventh answer closes the conversation,
// and the next message opens a new one with a new run.
const benchFlow = `flow "Bench"
trigger conversation opened

q: ask "Say something" save X timeout 1h
jump to q max 10
close conversation
`

// BenchmarkEngineTurn is one inbound message for a contact waiting at a
// question, through the Writer, committed on the file store with
// synchronous=FULL, at 1 and 32 concurrent contacts.
//
//	go test -run '^$' -bench EngineTurn -benchtime 20000x ./runtime/
func BenchmarkEngineTurn(b *testing.B) {
	for _, contacts := range []int{1, 32} {
		b.Run(fmt.Sprintf("contacts=%d", contacts), func(b *testing.B) {
			st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			e, err := runtime.New(context.Background(), st, compile(&testing.T{}, benchFlow), runtime.Config{})
			if err != nil {
				b.Fatal(err)
			}
			w := e.NewWriter(0)
			defer w.Close()
			ctx := context.Background()
			for c := 0; c < contacts; c++ { // each contact waits at the question
				if err := w.Submit(ctx, runtime.Message{Contact: fmt.Sprint("c", c), Channel: "whatsapp", Text: "hi"}); err != nil {
					b.Fatal(err)
				}
			}
			ev0, tx0 := w.Stats()
			lat := make([][]time.Duration, contacts)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < contacts; c++ {
				n := b.N / contacts
				if c < b.N%contacts {
					n++
				}
				wg.Add(1)
				go func(c, n int) {
					defer wg.Done()
					id := fmt.Sprint("c", c)
					lat[c] = make([]time.Duration, 0, n)
					for i := 0; i < n; i++ {
						t := time.Now()
						m := runtime.Message{Contact: id, Channel: "whatsapp", Text: "answer", Key: fmt.Sprintf("%s-%d", id, i)}
						if err := w.Submit(ctx, m); err != nil {
							b.Error(err)
							return
						}
						lat[c] = append(lat[c], time.Since(t))
					}
				}(c, n)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			ev, tx := w.Stats()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(ev-ev0)/elapsed.Seconds(), "turns/s")
			b.ReportMetric(float64(tx-tx0)/elapsed.Seconds(), "tx/s")
			b.ReportMetric(float64(ev-ev0)/float64(tx-tx0), "turns/tx")
		})
	}
}

// BenchmarkStoreTurn is the reference for BenchmarkEngineTurn, run beside
// it: the store's writes of one turn alone (the dedup key, the run's
// compare-and-swap, the outbound message, two activity rows, the timer
// moved), 16 turns a commit as the Writer shares them at 32 contacts, with
// no engine, no flow and no waiting callers.
func BenchmarkStoreTurn(b *testing.B) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "ref.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	tx, err := st.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	runs := make([]*store.Run, 32)
	for i := range runs {
		runs[i] = &store.Run{ContactID: fmt.Sprint("c", i), Flow: "Bench", Program: "0123456789abcdef", Status: store.RunWaiting,
			Cont: make([]byte, 40), Wait: "reply", WaitSeq: 1}
		if err := tx.InsertRun(runs[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	const perCommit = 16
	now := time.Now()
	payload := []byte(`{"channel":"whatsapp","message":{"step":"q","text":"Say something","question":true}}`)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += perCommit {
		tx, err := st.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < min(i+perCommit, b.N); j++ {
			r := runs[j%len(runs)]
			must := func(err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			_, err := tx.Seen(fmt.Sprintf("%s-%d", r.ContactID, j), now)
			must(err)
			must(tx.AddActivity(&store.Activity{ContactID: r.ContactID, At: now, Kind: "message_in", Text: "answer"}))
			must(tx.DeleteRunTimers(r.ID, r.WaitSeq))
			r.WaitSeq++
			must(tx.AddTimer(&store.Timer{ContactID: r.ContactID, Kind: store.TimerRun, RunID: r.ID, Seq: r.WaitSeq, At: now.Add(time.Hour)}))
			must(tx.Enqueue(&store.Outbound{ContactID: r.ContactID, Lane: "message", Kind: "send_message", RunID: r.ID, Payload: payload, NextAt: now, Created: now}))
			must(tx.AddActivity(&store.Activity{ContactID: r.ContactID, At: now, Kind: "message_out", Text: "Say something", Data: payload}))
			r.Updated = now
			must(tx.UpdateRun(r))
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}
