package interpreter

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// invalid marks an answer the question must reject.
var invalid any = struct{ invalid bool }{true}

// TestAskValidation asks one question per type and checks what each reply
// saves, or that it is rejected (the run takes on invalid).
func TestAskValidation(t *testing.T) {
	year2031 := time.Date(2031, 6, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		typ, opts string
		reply     string
		loc       *Location
		now       time.Time // zero: monday (2026)
		want      any
	}{
		{typ: "text", reply: "hello", want: "hello"},
		{typ: "text", reply: "  padded  ", want: "padded"},
		{typ: "text", reply: "", want: invalid},
		{typ: "text", reply: " \t ", want: invalid},
		{typ: "text", reply: "ünïcödé 🤖", want: "ünïcödé 🤖"},

		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "Sales", want: "Sales"},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "sales", want: "Sales"},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "  SUPPORT ", want: "Support"},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "1", want: "Sales"},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "3", want: "Billing"},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "0", want: invalid},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "4", want: invalid},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "Sale", want: invalid},
		{typ: "choice", opts: `choices "Sales", "Support", "Billing"`, reply: "Sales and Support", want: invalid},
		{typ: "choice", opts: `choices "ACCEPT AND CONTINUE"`, reply: "accept and continue", want: "ACCEPT AND CONTINUE"},
		{typ: "choice", opts: `choices "Café", "Thé"`, reply: "CAFÉ", want: "Café"},

		{typ: "number", reply: "42", want: 42.0},
		{typ: "number", reply: "-3.5", want: -3.5},
		{typ: "number", reply: "1,234.5", want: 1234.5},
		{typ: "number", reply: "1 000 000", want: 1e6},
		{typ: "number", reply: "1_000", want: 1000.0},
		{typ: "number", reply: "abc", want: invalid},
		{typ: "number", reply: "12abc", want: invalid},
		{typ: "number", reply: "1e3", want: invalid},
		{typ: "number", reply: "0x10", want: invalid},
		{typ: "number", reply: "Inf", want: invalid},
		{typ: "number", reply: "NaN", want: invalid},
		{typ: "number", reply: ",", want: invalid},
		{typ: "number", reply: "", want: invalid},
		{typ: "number", opts: "min 1 max 20", reply: "1", want: 1.0},
		{typ: "number", opts: "min 1 max 20", reply: "20", want: 20.0},
		{typ: "number", opts: "min 1 max 20", reply: "0", want: invalid},
		{typ: "number", opts: "min 1 max 20", reply: "20.5", want: invalid},
		{typ: "number", opts: "min -10", reply: "-10", want: -10.0},
		{typ: "number", opts: "min -10", reply: "-10.01", want: invalid},
		{typ: "number", opts: "max 1000", reply: "1,000", want: 1000.0},
		{typ: "number", opts: "min 0.5", reply: "0.25", want: invalid},

		// every layout of validate.go, month first
		{typ: "date", reply: "12/24/2026", want: "2026-12-24"},
		{typ: "date", reply: "2026/12/24", want: "2026-12-24"},
		{typ: "date", reply: "12/24/26", want: "2026-12-24"},
		{typ: "date", reply: "12-24-26", want: "2026-12-24"},
		{typ: "date", reply: "Dec/24/2026", want: "2026-12-24"},
		{typ: "date", reply: "Dec-24-2026", want: "2026-12-24"},
		{typ: "date", reply: "Dec/24/26", want: "2026-12-24"},
		{typ: "date", reply: "Dec-24-26", want: "2026-12-24"},
		{typ: "date", reply: "12-24-2026", want: "2026-12-24"},
		{typ: "date", reply: "2026-12-24", want: "2026-12-24"},
		{typ: "date", reply: "1/5/2026", want: "2026-01-05"},
		{typ: "date", reply: "1-5-2026", want: "2026-01-05"},
		{typ: "date", reply: "2026/1/5", want: "2026-01-05"},
		{typ: "date", reply: "Jan/5/2026", want: "2026-01-05"},
		{typ: "date", reply: "Jan-5-2026", want: "2026-01-05"},
		{typ: "date", reply: " 12/24/2026 ", want: "2026-12-24"},
		// MM/DD and MM-DD take the year of the injected clock
		{typ: "date", reply: "12/24", now: year2031, want: "2031-12-24"},
		{typ: "date", reply: "12-24", now: year2031, want: "2031-12-24"},
		{typ: "date", reply: "1/5", now: year2031, want: "2031-01-05"},
		{typ: "date", reply: "1-5", now: year2031, want: "2031-01-05"},
		{typ: "date", reply: "02/29", now: time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), want: "2028-02-29"},
		{typ: "date", reply: "02/29", now: year2031, want: invalid}, // 2031 is not a leap year
		{typ: "date", reply: "2/29/2026", want: invalid},
		{typ: "date", reply: "2/30/2028", want: invalid},
		{typ: "date", reply: "24/12/2026", want: invalid}, // day first
		{typ: "date", reply: "13/01", want: invalid},
		{typ: "date", reply: "tomorrow", want: invalid},
		{typ: "date", reply: "2026-12-24T10:00", want: invalid},
		{typ: "date", reply: "", want: invalid},

		{typ: "phone", reply: "60112233455", want: "+60112233455"},
		{typ: "phone", reply: "+60 11-2233 455", want: "+60112233455"},
		{typ: "phone", reply: "+1 (555) 010.9999", want: "+15550109999"},
		{typ: "phone", reply: "12345678", want: "+12345678"},               // 8 digits: shortest
		{typ: "phone", reply: "123456789012345", want: "+123456789012345"}, // 15 digits: longest
		{typ: "phone", reply: "1234567", want: invalid},
		{typ: "phone", reply: "1234567890123456", want: invalid},
		{typ: "phone", reply: "60 11+2233455", want: invalid}, // + only in front
		{typ: "phone", reply: "++60112233455", want: invalid},
		{typ: "phone", reply: "call me", want: invalid},
		{typ: "phone", reply: "6011223345x", want: invalid},
		{typ: "phone", reply: "+", want: invalid},

		{typ: "email", reply: "ana@example.com", want: "ana@example.com"},
		{typ: "email", reply: "Ana.Lopez@Example.COM", want: "Ana.Lopez@example.com"},
		{typ: "email", reply: "  ana+tag@mail.example.org ", want: "ana+tag@mail.example.org"},
		{typ: "email", reply: "ana@localhost", want: invalid},
		{typ: "email", reply: "ana@example.", want: invalid},
		{typ: "email", reply: "ana@.example.com", want: invalid},
		{typ: "email", reply: "Ana <ana@example.com>", want: invalid},
		{typ: "email", reply: "ana@example.com, bob@example.com", want: invalid},
		{typ: "email", reply: "ana.example.com", want: invalid},
		{typ: "email", reply: "my email is ana@example.com", want: invalid},

		{typ: "url", reply: "https://example.com/page?q=1", want: "https://example.com/page?q=1"},
		{typ: "url", reply: "http://example.com", want: "http://example.com"},
		{typ: "url", reply: "example.com/page", want: "https://example.com/page"},
		{typ: "url", reply: "www.example.co.uk", want: "https://www.example.co.uk"},
		{typ: "url", reply: "ftp://example.com", want: invalid},
		{typ: "url", reply: "localhost", want: invalid},
		{typ: "url", reply: "https://localhost/x", want: invalid},
		{typ: "url", reply: "example.com.", want: invalid},
		{typ: "url", reply: "example .com", want: invalid},
		{typ: "url", reply: "not a url", want: invalid},

		{typ: "rating", reply: "1", want: 1},
		{typ: "rating", reply: "5", want: 5},
		{typ: "rating", reply: "0", want: invalid},
		{typ: "rating", reply: "6", want: invalid},
		{typ: "rating", reply: "3.5", want: invalid},
		{typ: "rating", reply: "⭐⭐⭐", want: 3},
		{typ: "rating", reply: "★★", want: 2},
		{typ: "rating", reply: "⭐️⭐️⭐️⭐️", want: 4}, // with variation selectors
		{typ: "rating", reply: "⭐ ⭐", want: 2},
		{typ: "rating", reply: "⭐⭐⭐⭐⭐⭐", want: invalid},
		{typ: "rating", reply: "⭐⭐ great", want: invalid},
		{typ: "rating", reply: "good", want: invalid},

		{typ: "location", loc: &Location{Lat: 3.1545313, Long: 101.7151839}, want: "3.1545313,101.7151839"},
		{typ: "location", loc: &Location{Lat: -33.8688, Long: 151.2093}, reply: "ignored caption", want: "-33.8688,151.2093"},
		{typ: "location", reply: "(3.1545313, 101.7151839)", want: "3.1545313,101.7151839"},
		{typ: "location", reply: "3.1545313,101.7151839", want: "3.1545313,101.7151839"},
		{typ: "location", reply: "(-33.8688 151.2093)", want: "-33.8688,151.2093"},
		// longitude first, as respond.io's docs say: swapped to latitude first
		{typ: "location", reply: "(101.7151839, 3.1545313)", want: "3.1545313,101.7151839"},
		{typ: "location", reply: "(45, 10)", want: "45,10"}, // ambiguous: taken as written
		{typ: "location", reply: "(95, 100)", want: invalid},
		{typ: "location", reply: "(200, 3)", want: invalid},
		{typ: "location", reply: "(3.15)", want: invalid},
		{typ: "location", reply: "(1, 2, 3)", want: invalid},
		{typ: "location", reply: "(north, south)", want: invalid},
		{typ: "location", reply: "", want: invalid},
	}
	progs := map[string]*Program{}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s/%q", tt.typ, tt.opts, tt.reply)
		if tt.loc != nil {
			name += fmt.Sprintf("/loc%v", *tt.loc)
		}
		t.Run(name, func(t *testing.T) {
			body := fmt.Sprintf("ask %s \"Q\" %s save X {\n  on invalid {\n    comment \"invalid\"\n  }\n}\nsend \"ok\"\n", tt.typ, tt.opts)
			p, ok := progs[body]
			if !ok {
				p = compileBody(t, body)
				progs[body] = p
			}
			s := newSession(t, p)
			if !tt.now.IsZero() {
				s.now = tt.now
			}
			s.start()
			s.wantWait(WaitReply)
			got := s.resume(Message{Text: tt.reply, Location: tt.loc})
			s.wantStatus(Done)
			if tt.want == invalid {
				wantEffects(t, "invalid reply", got, `comment "invalid"`, `send #3 "ok"`)
				if v, set := s.vars["X"]; set {
					t.Errorf("an invalid reply saved X = %#v", v)
				}
				return
			}
			wantEffects(t, "valid reply", got, `send #3 "ok"`)
			if diff := cmp.Diff(tt.want, s.vars["X"]); diff != "" {
				t.Errorf("saved X (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAskPrompt checks the question as sent: its step, text, choices (a
// rating offers 1 to 5) and a timer when it has a timeout.
func TestAskPrompt(t *testing.T) {
	tests := []struct {
		body string
		want []string
	}{
		{`ask "Name?"`, []string{`ask #1 "Name?"`}},
		{`q: ask choice "Pick" choices "A", "B" timeout 5m`, []string{`ask q "Pick" choices=[A|B]`, "timer 1 5m0s"}},
		{`ask rating "How did we do?"`, []string{`ask #1 "How did we do?" choices=[1|2|3|4|5]`}},
		{"field plan text\nask choice \"Plan?\" choices \"$contact.plan\", \"Pro\"",
			[]string{`ask #1 "Plan?" choices=[Basic|Pro]`}},
		{`ask "Hi $contact.id, your name?"`, []string{`ask #1 "Hi 42, your name?"`}},
	}
	for _, tt := range tests {
		s := newSession(t, compileBody(t, tt.body+"\n"))
		s.contact["plan"] = "Basic"
		wantEffects(t, tt.body, s.start(), tt.want...)
		s.wantWait(WaitReply)
	}
}

// TestAskRetry: `retry 3` sends the question up to 4 times, the retry prompt
// replacing the question on each re-ask; each re-ask cancels the previous
// timer and starts a new one under a new seq; the 4th invalid reply runs on
// invalid. A stale timer from an earlier prompt is ignored.
func TestAskRetry(t *testing.T) {
	p := compileBody(t, `q: ask number "How many?" save N retry 3 "Please send a number." timeout 5m {
  on invalid {
    send "Giving up."
  }
}
send "Got $N"
`)
	s := newSession(t, p)
	wantEffects(t, "start", s.start(), `ask q "How many?"`, "timer 1 5m0s")
	for i := 1; i <= 3; i++ {
		got := s.reply("lots")
		wantEffects(t, fmt.Sprintf("invalid reply %d", i), got,
			fmt.Sprintf("cancel %d", i), `ask q "Please send a number."`, fmt.Sprintf("timer %d 5m0s", i+1))
		c := s.decoded()
		if c.Retries != i || c.Seq != uint32(i+1) || c.Wait != WaitReply {
			t.Fatalf("after %d invalid replies: retries %d seq %d wait %v", i, c.Retries, c.Seq, c.Wait)
		}
		// the timer of the previous prompt fires late: nothing happens
		if !s.ignored(Timeout{Seq: uint32(i)}) {
			t.Fatalf("the stale timer %d was not ignored", i)
		}
	}
	wantEffects(t, "4th invalid reply", s.reply("still lots"), "cancel 4", `send #2 "Giving up."`, `send #3 "Got $N"`)
	s.wantStatus(Done)

	// a valid reply after re-asks is saved and the run goes on
	s = newSession(t, p)
	s.start()
	s.reply("lots")
	wantEffects(t, "valid after a retry", s.reply("7"), "cancel 2", `send #3 "Got 7"`)
	s.wantStatus(Done)

	// the next time the run reaches the question, the retries start again
	p = compileBody(t, `q: ask number "How many?" save N retry 1
jump to q max 1
`)
	s = newSession(t, p)
	s.start()
	s.reply("x")
	if got := s.decoded().Retries; got != 1 {
		t.Fatalf("retries %d after an invalid reply, want 1", got)
	}
	wantEffects(t, "valid, then jump back", s.reply("1"), `ask q "How many?"`)
	if got := s.decoded().Retries; got != 0 {
		t.Fatalf("retries %d when asked again, want 0", got)
	}
	wantEffects(t, "1 retry again", s.reply("x"), `ask q "How many?"`)
	wantEffects(t, "retries spent", s.reply("x"))
	s.wantStatus(Done)
}

// TestAskRetryWithoutPromptOrTimeout: the question itself is re-sent, and
// without a timeout no timer is started or cancelled.
func TestAskRetryWithoutPromptOrTimeout(t *testing.T) {
	s := newSession(t, compileBody(t, "ask email \"Email?\" save E retry 2\nsend \"ok\"\n"))
	wantEffects(t, "start", s.start(), `ask #1 "Email?"`)
	wantEffects(t, "retry 1", s.reply("nope"), `ask #1 "Email?"`)
	wantEffects(t, "retry 2", s.reply("nope"), `ask #1 "Email?"`)
	// no on invalid: the run ends
	wantEffects(t, "retries spent", s.reply("nope"))
	s.wantStatus(Done)
}

// TestAskTimeout: the timer runs on timeout; without the branch the run
// ends; a stale or foreign input changes nothing.
func TestAskTimeout(t *testing.T) {
	p := compileBody(t, `ask "Name?" save Name timeout 10m {
  on timeout {
    send "Too slow."
  }
}
send "Bye $Name"
`)
	s := newSession(t, p)
	s.start()
	for _, in := range []Input{
		Timeout{Seq: 0}, Timeout{Seq: 2}, HTTPResponse{Seq: 1, Status: 200}, AssignResult{Seq: 1, User: Agent{ID: "a"}},
		AIOutcome{Seq: 1, Outcome: "success"}, Delivery{Seq: 1, OK: false}, Delivery{Seq: 1, OK: true},
	} {
		if !s.ignored(in) {
			t.Errorf("%#v was not ignored while waiting for a reply", in)
		}
	}
	wantEffects(t, "timeout", s.timeout(), `send #2 "Too slow."`, `send #3 "Bye $Name"`)
	s.wantStatus(Done)
	// the contact answers after the run ended: nothing is waiting
	if s.cont != nil {
		t.Fatal("a continuation after the run ended")
	}

	// no on timeout: the run ends at the timeout
	s = newSession(t, compileBody(t, "ask \"Name?\" timeout 1h\nsend \"after\"\n"))
	wantEffects(t, "start", s.start(), `ask #1 "Name?"`, "timer 1 1h0m0s")
	wantEffects(t, "timeout", s.timeout())
	s.wantStatus(Done)

	// an answer in time cancels the timer
	s = newSession(t, compileBody(t, "ask \"Name?\" save N timeout 1h\nsend \"Hi $N\"\n"))
	s.start()
	wantEffects(t, "reply", s.reply("Ana"), "cancel 1", `send #2 "Hi Ana"`)
}

// TestAskMissingInvalidBranch: with no on invalid, an invalid reply (after
// the retries) ends the run and the steps after the ask do not run.
func TestAskMissingInvalidBranch(t *testing.T) {
	s := newSession(t, compileBody(t, "ask number \"N?\" timeout 5m\nsend \"after\"\n"))
	s.start()
	wantEffects(t, "invalid", s.reply("x"), "cancel 1")
	s.wantStatus(Done)
}

// TestAskDeliveryFailure: a question that cannot be delivered runs on
// failure (cancelling its timer); without that branch the failure report is
// ignored and the question still waits.
func TestAskDeliveryFailure(t *testing.T) {
	s := newSession(t, compileBody(t, `ask "Name?" timeout 5m {
  on failure {
    comment "undelivered"
  }
}
send "after"
`))
	s.start()
	if !s.ignored(Delivery{Seq: 1, OK: true}) {
		t.Error("a successful delivery report was not ignored")
	}
	wantEffects(t, "failure", s.resume(Delivery{Seq: 1, Err: "blocked"}), "cancel 1", `comment "undelivered"`, `send #3 "after"`)
	s.wantStatus(Done)

	s = newSession(t, compileBody(t, "ask \"Name?\" timeout 5m\nsend \"after\"\n"))
	s.start()
	if !s.ignored(Delivery{Seq: 1, Err: "blocked"}) {
		t.Error("a failed delivery was not ignored by a question without on failure")
	}
	s.wantWait(WaitReply)
}

// TestAskSave saves to a contact field (a SetField effect, and the contact
// as the rest of the sprint sees it), to variables and as a tag.
func TestAskSave(t *testing.T) {
	p := compileBody(t, `field city text
field guests number
ask "City?" save contact.city, City
ask number "Guests?" save contact.guests, Guests
ask choice "Interest?" choices "Sales", "Support" save tag, Interest
if contact.city == "Paris" && contact.guests == 3 && "Sales" in contact.tags {
  send "Paris for $Guests ($contact.guests), $Interest, tags $contact.tags"
}
`)
	s := newSession(t, p)
	s.contact["tags"] = []string{"VIP"}
	s.start()
	wantEffects(t, "city", s.reply("Paris"), `set city="Paris"`, `ask #2 "Guests?"`)
	if s.contact["city"] != "Paris" {
		t.Errorf("contact.city is %v after the SetField effect", s.contact["city"])
	}
	wantEffects(t, "guests", s.reply("3"), `set guests="3"`, `ask #3 "Interest?" choices=[Sales|Support]`)
	wantEffects(t, "interest", s.reply("sales"), `tag add ["Sales"]`, `send #5 "Paris for 3 (3), Sales, tags VIP, Sales"`)
	s.wantStatus(Done)
	want := map[string]any{"City": "Paris", "Guests": 3.0, "Interest": "Sales"}
	if diff := cmp.Diff(want, s.vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"VIP", "Sales"}, s.contact["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

// TestAskSaveRatingAndDate: the saved value of other types, as a field is
// written and as a variable reads.
func TestAskSaveRatingAndDate(t *testing.T) {
	p := compileBody(t, `field score number
field birthday date
ask rating "Rate us" save contact.score, Score
ask date "Birthday?" save contact.birthday, Birthday
if Score >= 4 {
  send "Thanks for $Score stars! Born $Birthday"
}
`)
	s := newSession(t, p)
	s.start()
	wantEffects(t, "rating", s.reply("⭐⭐⭐⭐"), `set score="4"`, `ask #2 "Birthday?"`)
	wantEffects(t, "date", s.reply("Jul-04-1990"), `set birthday="1990-07-04"`, `send #4 "Thanks for 4 stars! Born 1990-07-04"`)
	if diff := cmp.Diff(map[string]any{"Score": 4, "Birthday": "1990-07-04"}, s.vars); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
}

// TestAskIgnoresNonReplies: while a question waits, inputs for other waits
// change nothing.
func TestAskIgnoresNonReplies(t *testing.T) {
	s := newSession(t, compileBody(t, "ask \"Q\"\n"))
	s.start()
	for _, in := range []Input{Timeout{Seq: 1}, HTTPResponse{Seq: 1}, AssignResult{Seq: 1}, AIOutcome{Seq: 1, Outcome: "success"}} {
		if !s.ignored(in) {
			t.Errorf("%#v was not ignored", in)
		}
	}
}

// TestSavedFieldTypes: a field the run writes reads back, in the same sprint,
// with the type the checker gave it: a number field as a number, a checkbox
// as true or false, so conditions on it work; and the runtime, applying the
// effects with FieldValue, stores the same values.
func TestSavedFieldTypes(t *testing.T) {
	p := compileBody(t, `field guests number
field score number
field member checkbox
field city text
ask number "Guests?" save contact.guests, contact.city
ask rating "Rate" save contact.score
set contact.member = "${contact.guests > 2}"
if contact.guests > 2 && contact.score >= 4 && contact.member && contact.city == "3" {
  send "big group, happy, member"
}
`)
	s := newSession(t, p)
	s.start()
	s.reply("3")
	got := s.reply("4")
	s.wantStatus(Done)
	wantEffects(t, "effects", got, `set score="4"`, `set member="true"`, `send #5 "big group, happy, member"`)
	want := map[string]any{"id": "42", "guests": 3.0, "city": "3", "score": 4.0, "member": true}
	if diff := cmp.Diff(want, s.contact); diff != "" {
		t.Errorf("contact (-want +got):\n%s", diff)
	}
}

// TestContextReadOnly: the VM reads the Context and never writes to it or
// to its maps, though the sprint sees its own writes: the runtime applies
// the effects, in order, so that a flow started by a start step does not see
// a field its parent sets after the start.
func TestContextReadOnly(t *testing.T) {
	p := compileBody(t, `field city text
set contact.city = "Lima"
tag add "A"
tag remove "B"
clear contact.email
close conversation
unassign
if contact.city == "Lima" && "A" in contact.tags && !("B" in contact.tags) && contact.email == nil && !conversation.open && assignee == nil {
  send "saw its own writes"
}
open conversation
assign user "ana@example.com"
`)
	ctx := &Context{
		Contact:      map[string]any{"id": "1", "email": "a@b.c", "tags": []string{"B"}},
		Conversation: map[string]any{"open": true},
		Assignee:     map[string]any{"id": "u1"},
		Now:          monday,
	}
	before := &Context{Contact: cloneContact(ctx.Contact), Conversation: maps.Clone(ctx.Conversation),
		Assignee: maps.Clone(ctx.Assignee), Now: monday}
	var m Machine
	out := m.Start(p, ctx)
	if !slices.Contains(show(out.Effects), `send #8 "saw its own writes"`) {
		t.Errorf("the sprint did not see its own writes: %v", show(out.Effects))
	}
	c := out.Cont
	enc, _ := c.Encode(nil)
	out2, err := m.Resume(p, c, ctx, AssignResult{Seq: c.Seq, User: Agent{ID: "u2", Email: "ana@example.com", Team: "Support"}})
	if err != nil || out2.Status != Done {
		t.Fatalf("resume: %v %v", out2.Status, err)
	}
	if diff := cmp.Diff(before, ctx); diff != "" {
		t.Errorf("the Context changed (-before +after):\n%s", diff)
	}
	if after, _ := c.Encode(nil); !bytes.Equal(enc, after) {
		t.Errorf("Resume changed the continuation it was given")
	}
}
