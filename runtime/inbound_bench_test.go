package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/sqlite"
)

// BenchmarkInboundConsent is a channel's contacts through the consent flow,
// through the Writer at 32 concurrent contacts on the file store: each new
// contact's first message (found or created by its address, its
// conversation opened, the flow started, two messages queued) and its
// answer (the run resumed, the contact tagged, a message queued). An op is
// one turn. flowd bench runs the same turns for a time.
//
//	go test -run '^$' -bench InboundConsent -benchtime 20000x ./runtime/
func BenchmarkInboundConsent(b *testing.B) {
	src, err := os.ReadFile("../flows/request_consent_privacy.flow")
	if err != nil {
		b.Fatal(err)
	}
	p, _, err := interpreter.CompileSource("consent.flow", src)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	e, err := runtime.New(ctx, st, []runtime.Flow{{Program: p, Source: src}}, runtime.Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := e.NewWriter(0)
	defer w.Close()
	const contacts = 32
	var next, left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := 0; c < contacts; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := store.Address{ChannelID: "bench", Channel: "custom", ExternalID: fmt.Sprint("e", next.Add(1))}
				for i, text := range []string{"Hello", "ACCEPT AND CONTINUE"} {
					if left.Add(-1) < 0 {
						return
					}
					in := runtime.Inbound{From: from, Type: runtime.InMessage, MID: fmt.Sprint(from.ExternalID, "-", i), Text: text}
					if err := w.Submit(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	ev, tx := w.Stats()
	b.ReportMetric(float64(ev)/float64(tx), "turns/tx")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}
