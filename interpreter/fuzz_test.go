package interpreter

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode: Decode never panics, and whatever it accepts encodes again and
// decodes to an equal continuation, with stable bytes from then on.
//
//	go test ./interpreter -run '^$' -fuzz '^FuzzDecode$' -fuzztime 5m
func FuzzDecode(f *testing.F) {
	f.Add(encoded(f))
	for _, c := range []*Continuation{
		{Program: testHash, Step: "#1"},
		{Program: testHash, Step: "a-label", Seq: math.MaxUint32, Wait: WaitAI, Retries: 3, Jumps: map[string]uint8{"#1": 0, "x": 255}},
		{Program: testHash, Step: "#2", Wait: WaitReply, Vars: map[string]any{"n": math.NaN(), "i": -1, "s": "\xff", "o": jsonValue(f, `{"a":[1,{"b":null}]}`)}},
	} {
		b, err := c.Encode(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("FLC\x01"))
	f.Add([]byte("FLC\x02\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("FLC\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\x7fabc"))
	f.Add([]byte("FLC\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x01\x01k\x06\x05\"abc\""))
	f.Add([]byte("FLC\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\x00\x00\x01\x01k\x06\x021e"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
		if err != nil {
			if c != nil {
				t.Fatalf("Decode returned %v with error %v", c, err)
			}
			return
		}
		if c.V1 { // its pc means nothing until bound to its program
			if _, err := c.Encode(nil); err == nil {
				t.Fatalf("an unbound version 1 continuation encodes: %v", c)
			}
			return
		}
		b1, err := c.Encode(nil)
		if errors.Is(err, ErrTooLarge) {
			return // its JSON values may encode longer than they were written
		}
		if err != nil {
			t.Fatalf("a decoded continuation does not encode: %v\n%v", err, c)
		}
		if c.Size() != len(b1) {
			t.Fatalf("Size() = %d, but the encoding has %d bytes", c.Size(), len(b1))
		}
		c2, err := Decode(b1)
		if err != nil {
			t.Fatalf("re-encoded continuation does not decode: %v\n%x", err, b1)
		}
		if diff := cmp.Diff(c, c2, cmp.Comparer(sameFloat)); diff != "" {
			t.Fatalf("decode(encode(c)) differs from c (-c +again):\n%s", diff)
		}
		b2, err := c2.Encode(nil)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable (%v):\n%x\n%x", err, b1, b2)
		}
	})
}

// fuzzFlow has every question type and every kind of wait, branches and a
// jump back to the top, and a condition over a value that may be missing
// (Code is unset after a network error), which must read as false.
const fuzzFlow = `flow "fuzz"
trigger manual
field score number
field birthday date
field site url
field member checkbox

top: ask choice "Pick" choices "Text", "Number", "Stop", "Skip" save Pick, tag retry 1 "Again?" timeout 5m {
  on invalid {
    send "bad pick"
  }
  on timeout {
    send "late"
  }
  on failure {
    comment "undelivered"
  }
}
if Pick == "Stop" {
  stop
}
if Pick == "Skip" {
  jump to web max 2
}
ask "Name?" save Name, contact.firstname retry 2
ask number "Count?" save Count min -5 max 100 timeout 1h {
  on invalid {
    send "not a number"
  }
}
ask date "When?" save contact.birthday, When
ask phone "Phone?" save contact.phone, Phone retry 1 {
  on invalid {
    comment "no phone"
  }
}
ask email "Email?" save contact.email
ask url "Site?" save contact.site, Site
ask rating "Rate" save contact.score, Rating timeout 10m {
  on timeout {
    send "no rating"
  }
}
ask location "Where?" save Where
set contact.member = "${Count != nil && Count > 10}"
send "Thanks $Name: $Count $When $Phone $contact.email $Site $Rating $Where ${contact.score ?? 0}" {
  on failure {
    comment "not delivered"
  }
}
web: http POST "https://api.example.com/x?n=$Name" {
  header "Content-Type": "application/json"
  body ` + "`" + `{"name": "$Name"}` + "`" + `
  map "$.n" to Num
  status to Code
  on failure {
    send "http failed $Code"
  }
}
if Code >= 400 || contact.member {
  send "big"
}
assign team "Support" round robin timeout 1h {
  on timeout {
    send "no agent"
  }
}
ai reply "Chat with $Name" save Summary idle 30m {
  on human {
    send "human"
  }
  on idle {
    send "idle"
  }
}
wait 1m
sheet "doc" {
  "Name": "$Name"
  on failure {
    comment "sheet failed"
  }
}
during mon-fri 09:00-18:00 {
  on outside {
    send "closed $Summary"
  }
}
jump to top max 3
`

var fuzzReplies = []string{
	"Text", "number", "stop", "2", "4", "", " ", "Ana", "42", "-5", "101", "1,234", "abc",
	"12/24/2026", "02/29", "Dec-24-26", "+60 11-2233 455", "123", "ana@example.com", "not@mail",
	"example.com/x", "ftp://x", "5", "⭐⭐⭐", "0", "(3.15, 101.7)", "(101.7, 3.15)", "(95, 100)",
}

var fuzzBodies = []string{`{"n": 5}`, `{"n": "five"}`, `{"n": null}`, `[]`, `not json`, ``, `{"n": [1]}`}

// fuzzInput turns the next bytes of data into an input for a run waiting
// with seq; it returns the input and how many bytes it used.
func fuzzInput(data []byte, seq uint32) (Input, int) {
	arg := func(i int) byte {
		if i < len(data) {
			return data[i]
		}
		return 0
	}
	a := int(arg(1))
	switch data[0] % 10 {
	case 0, 1:
		return Message{Text: fuzzReplies[a%len(fuzzReplies)]}, 2
	case 2:
		start := min(2, len(data))
		end := min(start+a%8, len(data))
		return Message{Text: string(data[start:end])}, end
	case 3:
		return Message{Location: &Location{Lat: float64(int8(arg(1))), Long: float64(int8(arg(2))) * 1.5}}, 3
	case 4:
		return Timeout{Seq: seq}, 1
	case 5:
		return Timeout{Seq: seq + uint32(a%3) - 1}, 2 // stale, current or future
	case 6:
		return Delivery{Seq: seq, OK: a&1 == 0, Err: "x"}, 2
	case 7:
		statuses := []int{200, 201, 204, 301, 404, 500, 0}
		resp := HTTPResponse{Seq: seq, Status: statuses[a%len(statuses)], Body: []byte(fuzzBodies[int(arg(2))%len(fuzzBodies)])}
		if resp.Status == 0 {
			resp.Err = "connection refused"
		}
		return resp, 3
	case 8:
		return AssignResult{Seq: seq, User: Agent{ID: "agent"}}, 2
	default:
		outcomes := []string{"success", "human", "unable", "failure", "idle", ""}
		return AIOutcome{Seq: seq, Outcome: outcomes[a%len(outcomes)], Vars: map[string]string{"Summary": "s"}}, 2
	}
}

// FuzzRun runs the fuzz flow with a random sequence of inputs, round-tripping
// the continuation between them, and checks the outcome invariants: no
// panic, a failure always has a RuntimeError with a position, a wait always a
// continuation, an ignored input changes nothing, timers belong to the wait.
//
//	go test ./interpreter -run '^$' -fuzz '^FuzzRun$' -fuzztime 5m
func FuzzRun(f *testing.F) {
	p, ds, err := CompileSource("fuzz.flow", []byte(fuzzFlow))
	if err != nil {
		f.Fatalf("%v\n%v", err, ds)
	}
	f.Add([]byte{0, 0, 0, 7, 0, 8, 0, 0, 9, 0, 0, 3, 0, 0, 0, 18, 0, 20, 0, 22, 0, 25, 6, 0, 7, 0, 0, 8, 0, 9, 0, 4})
	f.Add([]byte{0, 2, 0, 7, 6, 1, 7, 6, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4})
	f.Add([]byte{0, 3, 7, 5, 0, 8, 9, 1, 4})
	f.Add([]byte{2, 5, 'h', 'e', 'l', 'l', 'o', 5, 0, 5, 2, 4, 4, 3, 200, 100})
	f.Add([]byte{0, 0, 0, 7, 0, 8, 0, 14, 0, 16, 0, 18, 0, 20, 0, 23, 0, 25, 7, 6, 1})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 512 {
			data = data[:512]
		}
		var m Machine
		contact := map[string]any{"id": "1"}
		now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
		ctx := func() *Context {
			return &Context{Contact: cloneContact(contact), Conversation: map[string]any{"open": true}, Now: now}
		}
		var cont []byte
		check := func(out Outcome, before []byte) {
			t.Helper()
			switch out.Status {
			case Failed:
				if out.Err == nil || out.Err.Msg == "" || out.Err.Pos.Filename != p.File || out.Cont != nil {
					t.Fatalf("failed outcome: err %v, cont %v", out.Err, out.Cont)
				}
				// fuzzFlow guards every value it reads, so no input may make
				// it fail: a failure here is a bug, not bad data
				t.Fatalf("unexpected runtime failure: %v", out.Err)
				cont = nil
			case Done:
				if out.Err != nil || out.Cont != nil {
					t.Fatalf("done outcome: err %v, cont %v", out.Err, out.Cont)
				}
				cont = nil
			case Waiting:
				if out.Cont == nil || out.Err != nil {
					t.Fatalf("waiting outcome: err %v, cont %v", out.Err, out.Cont)
				}
				b, err := out.Cont.Encode(nil)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				if out.Ignored {
					if len(out.Effects) != 0 || !bytes.Equal(b, before) {
						t.Fatalf("an ignored input had effects %v or changed the continuation", show(out.Effects))
					}
				}
				c, err := Decode(b)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if diff := cmp.Diff(out.Cont, c, cmp.Comparer(sameFloat), encodedOnly); diff != "" {
					t.Fatalf("round trip (-before +after):\n%s", diff)
				}
				for _, e := range out.Effects {
					if st, ok := e.(*StartTimer); ok && st.Seq != c.Seq {
						t.Fatalf("timer for seq %d while the run waits with seq %d", st.Seq, c.Seq)
					}
				}
				cont = b
			default:
				t.Fatalf("status %v", out.Status)
			}
			for _, e := range out.Effects {
				if sf, ok := e.(*SetField); ok {
					contact[sf.Field] = FieldValue(p.FieldTypes[sf.Field], sf.Value)
				}
			}
		}
		check(m.Start(p, ctx()), nil)
		for len(data) > 0 {
			if cont == nil {
				// the run ended: the next conversation starts a new one
				check(m.Start(p, ctx()), nil)
				data = data[1:]
				continue
			}
			c, err := Decode(cont)
			if err != nil {
				t.Fatal(err)
			}
			in, used := fuzzInput(data, c.Seq)
			data = data[min(used, len(data)):]
			now = now.Add(7 * time.Minute)
			out, err := m.Resume(p, c, ctx(), in)
			if err != nil {
				t.Fatalf("resume of the run's own continuation: %v", err)
			}
			check(out, cont)
		}
	})
}

// FuzzExpr compiles and runs conditions built from small pieces: a head, a
// unit repeated up to thousands of times, and a tail, so that the fuzzer
// reaches long chains, deep nesting and loops over big values. Whatever
// compiles must run to an outcome, never a panic, within the budget of one
// evaluation: a failure is a positioned runtime error, and the memory it
// took is bounded. The seeds are the expressions that ran for minutes or
// exhausted memory before the budget.
//
//	go test ./interpreter -run '^$' -fuzz '^FuzzExpr$' -fuzztime 5m
func FuzzExpr(f *testing.F) {
	for _, s := range []struct {
		head, unit, tail string
		n                uint16
	}{
		{`len(repeat(repeat("a", 999999), `, "1", `000000)) > 0`, 1},
		{`(let s = repeat("A", 500000); count(1..400000, lower(s) == "x")) > 0`, "", "", 0},
		{"count(1..1000, ", "count(1..1000, ", "true) > 0", 3},
		{`(let a = repeat("x", 100000); `, "let a2 = a + a; ", "len(a)) > 0", 20},
		{`repeat("a", 200000) matches "(a|aa)*b"`, "", "", 0},
		{"", "!", "true", 5000},
		{"", "(", "true", 5000},
		{"1", " + 1", " > 0", 2000},
		{`len(join(map(1..1000, "x"), repeat("y", 10000))) > 0`, "", "", 0},
		{"sum(map(1..9999, #", " * 2", ")) > 0", 50},
		{`len(toJSON(map(1..3000, [#, string(#)]))) > 0`, "", "", 0},
		{"len(string(reduce(1..9000, ", "[", "#acc]]], 0))) > 0", 3},
		{"len(string(reduce(1..24, fromPairs([[1, #acc], [2, #acc]]), 0))) > 0", "", "", 0},
		{"len(uniq(map(1..20000, [#]))) > 0", "", "", 0},
		{`(let s = repeat("a", 400000); len(sortBy(map(1..40000, s[(# * 7919) % 40000:]), #))) > 0`, "", "", 0},
		{`"a" matches repeat("a{1000}", `, "3", "000)", 1},
		{`(let l = 1..900000; [`, "0 in l, ", "]) != nil", 300},
		{`(let f = repeat("2006", 100); count(1..10000, system.now.Format(f) != "")) > 0`, "", "", 0},
		{`len(string(reduce(1..30, {"a": #acc, "b": #acc}, 0))) > 0`, "", "", 0},
		{`(let parts = split(repeat("a", 400000), ","); all(1..3000, (let x = toJSON(parts); true)))`, "", "", 0},
		{`all(1..20, keys({"b": 1, "a": 2}) == ["a", "b"])`, "", "", 0},
	} {
		f.Add(s.head, s.unit, s.tail, s.n)
	}
	f.Fuzz(func(t *testing.T, head, unit, tail string, n uint16) {
		cond := head + strings.Repeat(unit, int(n)) + tail
		if strings.Contains(cond, "\n") || len(cond) > 64<<10 {
			return // ends the condition early: not this target's business
		}
		// in brackets, so that map literals' braces stay in the condition
		p, _, err := CompileSource("fuzz.flow", []byte("flow \"f\"\ntrigger manual\nif ("+cond+") {\n  send \"yes\"\n}\n"))
		if err != nil {
			return
		}
		var m Machine
		var out Outcome
		alloc := allocated(func() { out = m.Start(p, &Context{Now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}) })
		switch out.Status {
		case Done:
		case Failed:
			if out.Err == nil || out.Err.Pos.Line != 3 || out.Err.Pos.Column < 1 {
				t.Fatalf("failure without a position in the condition: %v", out.Err)
			}
		default:
			t.Fatalf("status %v", out.Status)
		}
		if alloc > 256<<20 {
			t.Fatalf("one condition allocated %d bytes", alloc)
		}
	})
}
