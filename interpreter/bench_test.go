package interpreter

import (
	"testing"
	"time"
)

// turnFlow is a two-question flow: each turn validates a reply, branches on it,
// sends a message and asks the next question.
const turnFlow = `flow "Two questions"
trigger conversation opened by contact

size: ask number "How many people?" save People min 1 max 20 retry 2 timeout 10m
if People > 8 {
  send "For groups over 8 we will call you back."
} else {
  send "Great, a table for ${People}."
}
email: ask email "What is your email?" save contact.email retry 2 timeout 10m
send "Thanks, see you soon!"
jump to size max 10
`

// BenchmarkTurn measures one conversation turn as a service runs it: decode
// the stored continuation, resume with the contact's reply (validated, branch,
// message sent, next question asked), encode the new continuation.
func BenchmarkTurn(b *testing.B) {
	p, ds, err := CompileSource("turn.flow", []byte(turnFlow))
	if err != nil {
		b.Fatal(ds)
	}
	var m Machine
	ctx := &Context{Contact: map[string]any{"firstname": "Ana"}, Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	out := m.Start(p, ctx)
	first, err := out.Cont.Encode(nil)
	if err != nil {
		b.Fatal(err)
	}
	// state after the first answer: waiting at the email question
	c, _ := Decode(first)
	out, _ = m.Resume(p, c, ctx, Message{Text: "4"})
	second, _ := out.Cont.Encode(nil)

	replies := []Message{{Text: "4"}, {Text: "ana@example.com"}}
	states := [][]byte{first, second}
	buf := make([]byte, 0, 256)
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i & 1
		c, err := Decode(states[k])
		if err != nil {
			b.Fatal(err)
		}
		out, err := m.Resume(p, c, ctx, replies[k])
		if err != nil || out.Status != Waiting {
			b.Fatalf("turn %d: %v %v", i, out.Status, out.Err)
		}
		buf, err = out.Cont.Encode(buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		size = len(buf)
	}
	b.ReportMetric(float64(size), "cont-bytes")
}
