package interpreter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// webhookHeader starts flows whose trigger data (trigger.body) may hold any
// JSON value, as HTTP results do.
const webhookHeader = "flow \"w\"\ntrigger webhook identify email \"$.email\"\n"

// TestIfElse checks that the first true condition wins, over contact fields,
// tags and variables, and that else catches the rest.
func TestIfElse(t *testing.T) {
	p := compileBody(t, `field city text
field age number
ask "Code?" save Code
if contact.city == "Paris" && contact.age >= 18 {
  send "adult in Paris"
} else if "VIP" in contact.tags {
  send "vip"
} else if Code == "X" || lower(Code) == "y" {
  send "code"
} else {
  send "other"
}
send "end"
`)
	tests := []struct {
		contact map[string]any
		code    string
		want    string
	}{
		{map[string]any{"city": "Paris", "age": 30.0}, "X", "adult in Paris"},
		{map[string]any{"city": "Paris", "age": 17}, "-", "other"},
		{map[string]any{"city": "Paris", "age": 17, "tags": []string{"VIP"}}, "X", "vip"},
		{map[string]any{"tags": []string{"Lead", "VIP"}}, "-", "vip"},
		{map[string]any{"tags": []string{"vip"}}, "-", "other"},
		{map[string]any{}, "X", "code"},
		{map[string]any{}, "Y", "code"},
		{map[string]any{"city": "Lyon", "age": 40}, "Z", "other"},
	}
	for _, tt := range tests {
		s := newSession(t, p)
		for k, v := range tt.contact {
			s.contact[k] = v
		}
		s.start()
		got := s.reply(tt.code)
		step := map[string]int{"adult in Paris": 3, "vip": 4, "code": 5, "other": 6}[tt.want]
		wantEffects(t, fmt.Sprintf("%v code %s", tt.contact, tt.code), got, fmt.Sprintf("send #%d %q", step, tt.want), `send #7 "end"`)
		s.wantStatus(Done)
	}
}

// TestIfSeesSprintChanges: a condition after set, tag or an answer sees the
// new value in the same sprint.
func TestIfSeesSprintChanges(t *testing.T) {
	p := compileBody(t, `field vip checkbox
set contact.lifecycle = "Customer"
tag add "VIP"
tag remove "Lead"
set contact.vip = "true"
if contact.lifecycle == "Customer" && "VIP" in contact.tags && !("Lead" in contact.tags) && contact.vip {
  send "updated"
}
clear contact.lifecycle
if contact.lifecycle == nil {
  send "cleared"
}
close conversation
if !conversation.open {
  send "closed"
}
open conversation
if conversation.open {
  send "open"
}
unassign
if assignee == nil {
  send "unassigned"
}
`)
	s := newSession(t, p)
	s.contact["tags"] = []string{"Lead"}
	s.assignee = map[string]any{"email": "a@example.com"}
	got := s.start()
	wantEffects(t, "start", got,
		`set lifecycle="Customer"`, `tag add ["VIP"]`, `tag remove ["Lead"]`, `set vip="true"`, `send #6 "updated"`,
		"clear lifecycle", `send #9 "cleared"`,
		`close category="" summary=""`, `send #12 "closed"`,
		"open", `send #15 "open"`,
		"unassign", `send #18 "unassigned"`)
	s.wantStatus(Done)
	if diff := cmp.Diff(map[string]any{"id": "42", "tags": []string{"VIP"}, "vip": true}, s.contact); diff != "" {
		t.Errorf("contact after the run (-want +got):\n%s", diff)
	}
}

// TestJumpCounters: a jump is taken at most max times per run, then skipped;
// each jump has its own counter; the counters survive waits and start again
// for a new run.
func TestJumpCounters(t *testing.T) {
	p := compileBody(t, `q: ask "Again?" save A
if A == "again" {
  jump to q max 2
  send "no more again"
}
if A == "back" {
  jump to q max 1
  send "no more back"
}
send "end"
`)
	s := newSession(t, p)
	s.start()
	wantEffects(t, "again 1", s.reply("again"), `ask q "Again?"`)
	wantEffects(t, "again 2", s.reply("again"), `ask q "Again?"`)
	if got := s.decoded().Jumps; !cmp.Equal(got, map[string]uint8{"#3": 2}) {
		t.Errorf("jump counters %v, want the first jump's (#3) at 2", got)
	}
	// the first jump is spent; the second has its own counter
	wantEffects(t, "back 1", s.reply("back"), `ask q "Again?"`)
	if got := s.decoded().Jumps; !cmp.Equal(got, map[string]uint8{"#3": 2, "#6": 1}) {
		t.Errorf("jump counters %v, want #3 at 2 and #6 at 1", got)
	}
	wantEffects(t, "again 3", s.reply("again"), `send #4 "no more again"`, `send #8 "end"`)
	s.wantStatus(Done)

	// a new run starts with fresh counters
	s = newSession(t, p)
	s.start()
	if got := s.decoded().Jumps; len(got) != 0 {
		t.Errorf("a new run starts with jump counters %v", got)
	}
	wantEffects(t, "new run, again 1", s.reply("again"), `ask q "Again?"`)
	wantEffects(t, "new run, back 1", s.reply("back"), `ask q "Again?"`)
	wantEffects(t, "new run, back 2", s.reply("back"), `send #7 "no more back"`, `send #8 "end"`)
}

// TestJumpWithinSprint: a backward jump without a wait loops max times in
// one sprint; a forward jump skips steps.
func TestJumpWithinSprint(t *testing.T) {
	s := newSession(t, compileBody(t, `top: comment "pass"
jump to top max 3
jump to end max 1
send "skipped"
end: send "end"
`))
	wantEffects(t, "start", s.start(),
		`comment "pass"`, `comment "pass"`, `comment "pass"`, `comment "pass"`, `send end "end"`)
	s.wantStatus(Done)
}

// TestStop: stop ends the run wherever it is, and the variables are returned.
func TestStop(t *testing.T) {
	s := newSession(t, compileBody(t, `ask "Name?" save Name
if Name == "x" {
  stop
}
send "Hi $Name"
`))
	s.start()
	wantEffects(t, "stop", s.reply("x"))
	s.wantStatus(Done)
	if diff := cmp.Diff(map[string]any{"Name": "x"}, s.vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
}

// TestInterpolation renders messages: values as text, numbers without
// trailing zeros, lists joined with ", ", and a missing value (nil, "" or an
// empty list) left as written so the gap shows.
func TestInterpolation(t *testing.T) {
	tests := []struct {
		text string
		body map[string]any // trigger.body
		want string
	}{
		{`Hi $contact.firstname!`, nil, `Hi Ana!`},
		{`Hi $contact.lastname!`, nil, `Hi $contact.lastname!`}, // missing
		{`Hi $contact.country!`, nil, `Hi $contact.country!`},   // ""
		{`Thanks, $contact.firstname.`, nil, `Thanks, Ana.`},
		{`Hi ${contact.lastname ?? "there"}!`, nil, `Hi there!`},
		{`Hi ${contact.firstname ?? "there"}!`, nil, `Hi Ana!`},
		// ?? only replaces nil: an empty field gives an empty result, which
		// an expression is taken to mean
		{`Hi ${contact.country ?? "there"}!`, nil, `Hi !`},
		{`Hi ${contact.lastname}!`, nil, `Hi ${contact.lastname}!`},
		{`${upper(contact.firstname)} ${len(contact.tags)}`, nil, `ANA 2`},
		{`Tags: $contact.tags`, nil, `Tags: Lead, VIP`},
		{`It costs $5, or $$6`, nil, `It costs $5, or $6`},
		{`Price $trigger.body.price`, map[string]any{"price": 2.50}, `Price 2.5`},
		{`Price $trigger.body.price`, map[string]any{"price": 3.0}, `Price 3`},
		{`Price $trigger.body.price`, map[string]any{"price": 1e21}, `Price 1000000000000000000000`},
		{`Price $trigger.body.price`, map[string]any{"price": -0.125}, `Price -0.125`},
		{`Twice ${trigger.body.price * 2}`, map[string]any{"price": 1.25}, `Twice 2.5`},
		{`Count ${len(trigger.body.items)}`, map[string]any{"items": []any{"a", "b"}}, `Count 2`},
		{`Flag $trigger.body.flag`, map[string]any{"flag": true}, `Flag true`},
		{`Order $trigger.body.order.id`, map[string]any{"order": map[string]any{"id": "A-1"}}, `Order A-1`},
		{`Order $trigger.body.order.id`, map[string]any{"order": "none"}, `Order $trigger.body.order.id`},
		{`Order $trigger.body.order`, map[string]any{"order": map[string]any{"id": "A-1", "n": 2.0}}, `Order {"id":"A-1","n":2}`},
		{`Items $trigger.body.items`, map[string]any{"items": []any{"a", 1.0}}, `Items a, 1`},
		{`No items $trigger.body.items`, map[string]any{"items": []any{}}, `No items $trigger.body.items`},
		{`Rows $trigger.body.rows`, map[string]any{"rows": []any{map[string]any{"a": 1.0}}}, `Rows [{"a":1}]`},
		{`Null $trigger.body.x`, map[string]any{"x": nil}, `Null $trigger.body.x`},
		{`Empty $trigger.body.x`, map[string]any{"x": ""}, `Empty $trigger.body.x`},
		{`No body $trigger.body.x`, nil, `No body $trigger.body.x`},
	}
	for _, tt := range tests {
		src := webhookHeader + "send \"" + tt.text + "\"\n"
		p := compileFlow(t, "w.flow", src)
		s := newSession(t, p)
		s.contact = map[string]any{"firstname": "Ana", "country": "", "tags": []string{"Lead", "VIP"}}
		s.trigger = map[string]any{"type": "webhook"}
		if tt.body != nil {
			s.trigger["body"] = tt.body
		}
		wantEffects(t, tt.text, s.start(), fmt.Sprintf("send #1 %q", tt.want))
	}
	// an empty list is missing too; an expression's value is missing only
	// when it is nil
	s := newSession(t, compileBody(t, "send \"Tags: $contact.tags / ${contact.tags} / ${contact.lastname}\"\n"))
	s.contact["tags"] = []string{}
	wantEffects(t, "no tags", s.start(), `send #1 "Tags: $contact.tags /  / ${contact.lastname}"`)
}

// TestInterpolationInData: values a step stores or sends on render a missing
// value as nothing, never as the reference's text: set clears the field, a
// tag that comes out empty is skipped.
func TestInterpolationInData(t *testing.T) {
	p := compileBody(t, `field city text
ask "City?" save City
set contact.city = "$City"
tag add "$City", "Visited: $City"
comment "City is $City"
`)
	s := newSession(t, p)
	s.contact["city"] = "Old"
	s.start()
	wantEffects(t, "set", s.reply("Paris"), `set city="Paris"`, `tag add ["Paris" "Visited: Paris"]`, `comment "City is Paris"`)

	// ask without saving, so City stays missing
	p = compileBody(t, `field city text
ask "City?"
set contact.city = "$City"
tag add "$City"
tag remove "$City"
comment "City is $City"
ask "x" save City
`)
	s = newSession(t, p)
	s.contact["city"] = "Old"
	s.start()
	wantEffects(t, "missing", s.reply("Paris"), "clear city", `comment "City is $City"`, `ask #6 "x"`)
	if _, ok := s.contact["city"]; ok {
		t.Errorf("contact.city is still %v", s.contact["city"])
	}
}

// TestSend covers a plain send, options and channel variants, and a send
// with on failure, which waits for the delivery report.
func TestSend(t *testing.T) {
	s := newSession(t, compileBody(t, `send "Hi $contact.id" attach "https://x.example/a.pdf" choices "Yes", "No" via sms
send "Email body" subject "Hello $contact.id" {
  whatsapp "Hi on WhatsApp" choices "A"
  email "Dear $contact.id" subject "Re: $contact.id"
  messenger template "welcome" language "en" params "$contact.id", "two"
}
`))
	wantEffects(t, "start", s.start(),
		`send #1 "Hi 42" choices=[Yes|No] attach=[https://x.example/a.pdf] via=sms`,
		`send #2 "Email body" subject="Hello 42" whatsapp="Hi on WhatsApp" choices=[A] email="Dear 42" subject="Re: 42" messenger="" template=welcome/en["42" "two"]`)
	s.wantStatus(Done)

	p := compileBody(t, `send "Reminder" {
  on failure {
    comment "undelivered"
  }
}
send "after"
`)
	s = newSession(t, p)
	wantEffects(t, "start", s.start(), `send #1 "Reminder" seq=1`)
	s.wantWait(WaitDelivery)
	for _, in := range []Input{Message{Text: "hi"}, Timeout{Seq: 1}, Delivery{Seq: 2, OK: true}, Delivery{Seq: 0}} {
		if !s.ignored(in) {
			t.Errorf("%#v was not ignored while waiting for a delivery", in)
		}
	}
	wantEffects(t, "delivered", s.resume(Delivery{Seq: 1, OK: true}), `send #3 "after"`)
	s.wantStatus(Done)

	s = newSession(t, p)
	s.start()
	wantEffects(t, "undelivered", s.resume(Delivery{Seq: 1, Err: "blocked"}), `comment "undelivered"`, `send #3 "after"`)
	s.wantStatus(Done)
}

// TestSheet: a row is written and the run goes on; with on failure it waits
// for the result.
func TestSheet(t *testing.T) {
	s := newSession(t, compileBody(t, `sheet "doc-$contact.id" tab "Leads" {
  "Id": "$contact.id"
  "Missing": "$contact.email"
}
sheet "doc" {
  "A": "1"
  on failure {
    comment "sheet failed"
  }
}
send "after"
`))
	wantEffects(t, "start", s.start(), `sheet "doc-42" tab="Leads" Id="42" Missing=""`, `sheet "doc" tab="" A="1" seq=1`)
	s.wantWait(WaitDelivery)
	wantEffects(t, "failed", s.resume(Delivery{Seq: 1, Err: "quota"}), `comment "sheet failed"`, `send #4 "after"`)
}

// TestWait: a wait starts a timer and continues when it fires; messages do
// not interrupt it, and a stale timer is ignored.
func TestWait(t *testing.T) {
	s := newSession(t, compileBody(t, "ask \"Q\" timeout 5m\nwait 1h30m\nsend \"later\"\n"))
	s.start()
	wantEffects(t, "answer", s.reply("x"), "cancel 1", "timer 2 1h30m0s")
	s.wantWait(WaitTimer)
	for _, in := range []Input{Message{Text: "hello?"}, Timeout{Seq: 1}, Timeout{Seq: 3}, Delivery{Seq: 2}} {
		if !s.ignored(in) {
			t.Errorf("%#v was not ignored by a wait", in)
		}
	}
	wantEffects(t, "timer", s.timeout(), `send #3 "later"`)
	s.wantStatus(Done)
}

// TestStartFlowAndSmallEffects covers the steps that emit one effect and go on.
func TestStartFlowAndSmallEffects(t *testing.T) {
	s := newSession(t, compileBody(t, `start "Sales Lead Capture"
comment "Contact $contact.id asked for ${contact.firstname ?? "someone"}"
close conversation category "Resolved $contact.id" summary "By $contact.firstname"
open conversation
ai handoff "Support Assistant"
assign user "vip@example.com"
`))
	wantEffects(t, "start", s.start(),
		`start "Sales Lead Capture"`,
		`comment "Contact 42 asked for someone"`,
		`close category="Resolved 42" summary="By $contact.firstname"`,
		"open",
		`ai handoff "Support Assistant"`,
		`assign user "vip@example.com" seq=1`,
		"timer 1 168h0m0s")
}

// TestSystemValues: system.* come from the injected clock, in the workspace
// timezone (UTC when none).
func TestSystemValues(t *testing.T) {
	p := compileBody(t, `send "$system.current_date $system.current_time | $system.current_datetime | $system.timezone"
if system.now.Hour() == 7 {
  send "morning"
}
`)
	s := newSession(t, p)
	s.now = time.Date(2026, 1, 5, 23, 30, 15, 0, time.UTC)
	s.loc = mustLoad(t, "Asia/Kuala_Lumpur")
	wantEffects(t, "KL", s.start(), `send #1 "2026-01-06 07:30:15 | 2026-01-06 07:30:15 | Asia/Kuala_Lumpur"`, `send #3 "morning"`)

	s = newSession(t, p)
	s.now = time.Date(2026, 1, 5, 23, 30, 15, 0, mustLoad(t, "America/New_York")) // no workspace zone: UTC
	wantEffects(t, "UTC", s.start(), `send #1 "2026-01-06 04:30:15 | 2026-01-06 04:30:15 | UTC"`)

	// times and durations as text
	s = newSession(t, compileBody(t, `send "$system.now / ${duration("90m")} / ${system.now.Year() + 1}"`+"\n"))
	s.loc = mustLoad(t, "Europe/Madrid")
	wantEffects(t, "time", s.start(), `send #1 "2026-01-05 11:00:00 / 1h30m0s / 2027"`)
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDuring checks business hours and date ranges at many clock times,
// in the step's timezone or the workspace's.
func TestDuring(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		spec  string
		zone  string // workspace timezone
		times map[string]bool
	}{
		{`mon-fri 09:00-18:00 in "Asia/Kuala_Lumpur"`, "", map[string]bool{ // UTC+8
			"2026-01-05 00:59": false, // Mon 08:59
			"2026-01-05 01:00": true,  // Mon 09:00
			"2026-01-05 09:59": true,  // Mon 17:59
			"2026-01-05 10:00": false, // Mon 18:00: the end is exclusive
			"2026-01-09 09:00": true,  // Fri 17:00
			"2026-01-10 03:00": false, // Sat 11:00
			"2026-01-04 17:00": false, // Mon 01:00 (Sunday in UTC)
			"2026-01-04 23:00": false, // Mon 07:00
		}},
		{`mon-fri 09:00-17:00`, "America/New_York", map[string]bool{ // the workspace zone, UTC-5 in January
			"2026-01-05 13:59": false,
			"2026-01-05 14:00": true,
			"2026-01-05 21:59": true,
			"2026-01-05 22:00": false,
			"2026-01-10 15:00": false, // Saturday
		}},
		{`mon-fri 09:00-17:00`, "", map[string]bool{ // no zone at all: UTC
			"2026-01-05 09:00": true,
			"2026-01-05 08:59": false,
		}},
		{`fri 22:00-06:00`, "", map[string]bool{ // overnight: Friday evening to Saturday morning
			"2026-01-09 21:59": false,
			"2026-01-09 22:00": true,
			"2026-01-09 23:59": true,
			"2026-01-10 00:00": true,
			"2026-01-10 05:59": true,
			"2026-01-10 06:00": false,
			"2026-01-09 05:00": false, // Friday morning belongs to Thursday night
			"2026-01-10 23:00": false, // Saturday night is not listed
			"2026-01-08 23:00": false,
		}},
		{`mon-fri 22:00-06:00 in "Europe/Madrid"`, "", map[string]bool{ // UTC+1 in January
			"2026-01-10 04:59": true,  // Sat 05:59, the end of Friday night
			"2026-01-05 04:00": false, // Mon 05:00, Sunday night
			"2026-01-05 21:00": true,  // Mon 22:00
			"2026-01-11 21:00": false, // Sun 22:00
		}},
		{`fri-mon 10:00-12:00`, "", map[string]bool{ // a span of days past Sunday
			"2026-01-11 11:00": true,  // Sun
			"2026-01-12 11:00": true,  // Mon
			"2026-01-13 11:00": false, // Tue
			"2026-01-08 11:00": false, // Thu
			"2026-01-09 11:00": true,  // Fri
		}},
		{`sat-sun 00:00-24:00`, "", map[string]bool{
			"2026-01-10 00:00": true,
			"2026-01-11 23:59": true,
			"2026-01-12 00:00": false,
			"2026-01-09 23:59": false,
		}},
		{`mon 09:00-12:00, mon 13:00-17:00`, "", map[string]bool{ // a lunch break
			"2026-01-05 11:59": true,
			"2026-01-05 12:30": false,
			"2026-01-05 13:00": true,
		}},
		{`2026-12-24 18:00 .. 2026-12-26 24:00 in "Europe/Madrid"`, "", map[string]bool{
			"2026-12-24 16:59": false, // 17:59 in Madrid
			"2026-12-24 17:00": true,  // 18:00
			"2026-12-26 22:59": true,  // 23:59 on the 26th
			"2026-12-26 23:00": false, // 27th 00:00
			"2025-12-25 12:00": false, // another year
		}},
		{`2026-12-24 .. 2026-12-25`, "Asia/Kuala_Lumpur", map[string]bool{ // an end date without a time: the whole day
			"2026-12-23 15:59": false, // 23:59 on the 23rd
			"2026-12-23 16:00": true,  // 00:00 on the 24th
			"2026-12-25 15:59": true,  // 23:59 on the 25th
			"2026-12-25 16:00": false, // 00:00 on the 26th
		}},
		{`2026-03-28 12:00 .. 2026-03-29 12:00 in "Europe/Madrid"`, "", map[string]bool{ // across the change to summer time
			"2026-03-28 10:59": false, // 11:59 CET
			"2026-03-28 11:00": true,  // 12:00 CET
			"2026-03-29 09:59": true,  // 11:59 CEST
			"2026-03-29 10:00": false, // 12:00 CEST
		}},
	}
	for _, tt := range tests {
		p := compileBody(t, "during "+tt.spec+" {\n  on inside {\n    send \"in\"\n  }\n  on outside {\n    send \"out\"\n  }\n}\n")
		for at, inside := range tt.times {
			s := newSession(t, p)
			s.now = utc(at)
			if tt.zone != "" {
				s.loc = mustLoad(t, tt.zone)
			}
			want := `send #3 "out"`
			if inside {
				want = `send #2 "in"`
			}
			wantEffects(t, fmt.Sprintf("during %s at %s UTC", tt.spec, at), s.start(), want)
			s.wantStatus(Done)
		}
	}
}

// TestDuringOneBranch: the branch that is not written continues with the
// next step.
func TestDuringOneBranch(t *testing.T) {
	p := compileBody(t, "during mon 09:00-10:00 {\n  on outside {\n    send \"closed\"\n    stop\n  }\n}\nsend \"open\"\n")
	s := newSession(t, p)
	s.now = time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	wantEffects(t, "inside", s.start(), `send #4 "open"`)
	s = newSession(t, p)
	s.now = time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC)
	wantEffects(t, "outside", s.start(), `send #2 "closed"`)

	p = compileBody(t, "during mon 09:00-10:00 {\n  on inside {\n    send \"open\"\n  }\n}\nsend \"next\"\n")
	s = newSession(t, p)
	s.now = time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC)
	wantEffects(t, "outside", s.start(), `send #3 "next"`)
}

const httpFlow = `field token text
lookup: http POST "https://api.example.com/users/$contact.firstname?q=$contact.lastname&id=$contact.id" timeout 5s {
  header "Authorization": "Bearer $contact.token"
  header "Content-Type": "application/json"
  body ` + "`" + `{"name": "$contact.firstname", "note": "$contact.lastname", "id": $contact.id}` + "`" + `
  map "$.data.contacts[1].firstName" to First
  map "$.data.count" to Count
  map "$.data.tags" to Tags
  map "$.missing" to Missing
  map "$.data.contacts[5].firstName" to Absent
  map "$.data.nothing" to Nothing
  status to Status
  on failure {
    comment "failed: $Status"
  }
}
send "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=$Status"
`

// TestHTTPRequest checks how the request is rendered: the URL, headers and
// body interpolated, values escaped for where they go.
func TestHTTPRequest(t *testing.T) {
	s := newSession(t, compileBody(t, httpFlow))
	s.contact = map[string]any{"id": "42", "firstname": "Ana María", "lastname": `O"Neil & co`, "token": "t0k"}
	got := s.start()
	wantEffects(t, "request", got,
		`http POST https://api.example.com/users/Ana%20Mar%C3%ADa?q=O%22Neil+%26+co&id=42`+
			` Authorization="Bearer t0k" Content-Type="application/json"`+
			` body={"name": "Ana María", "note": "O\"Neil & co", "id": 42} timeout=5s seq=1`)
	s.wantWait(HTTPWait)
	c := s.decoded()
	if c.PC != 0 || c.Seq != 1 {
		t.Errorf("waits at pc %d seq %d", c.PC, c.Seq)
	}
	// a missing value is empty in data
	s = newSession(t, compileBody(t, httpFlow))
	got = s.start()
	wantEffects(t, "request with missing values", got,
		`http POST https://api.example.com/users/?q=&id=42 Authorization="Bearer " Content-Type="application/json"`+
			` body={"name": "", "note": "", "id": 42} timeout=5s seq=1`)

	// without a JSON content type, the body is not escaped; the default
	// timeout is 10s
	s = newSession(t, compileFlow(t, "w.flow", webhookHeader+"http PUT \"https://$trigger.body.host/x\" {\n  header \"Content-Type\": \"text/plain\"\n  body \"a=$contact.id&b=\\\"\"\n}\n"))
	s.trigger = map[string]any{"body": map[string]any{"host": "h.example/p q"}}
	wantEffects(t, "plain body", s.start(), `http PUT https://h.example%2Fp%20q/x Content-Type="text/plain" body=a=42&b=" timeout=10s seq=1`)
}

// HTTPWait is WaitHTTP, named for readability in the tests.
const HTTPWait = WaitHTTP

// TestHTTPResponse: 2xx maps the JSON (array indexes, missing keys and
// nulls unset) and continues; another status, a 2xx whose body cannot be
// mapped, or no response takes on failure, with the status variable set, or
// unset when no response came. Responses are made by HTTPRequest.Answer, as
// every executor makes them.
func TestHTTPResponse(t *testing.T) {
	p := compileBody(t, httpFlow)
	body := `{"data": {"contacts": [{"firstName": "Ann"}, {"firstName": "Jane"}], "count": 2, "tags": ["a", "b"], "nothing": null}}`
	tests := []struct {
		name string
		resp HTTPResponse
		want []string
		vars map[string]any
	}{
		{"200", HTTPResponse{Status: 200, Body: []byte(body)},
			[]string{`send #3 "First=Jane Count=2 Tags=a, b Missing=$Missing Absent=$Absent Nothing=$Nothing Status=200"`},
			map[string]any{"First": "Jane", "Count": 2.0, "Tags": []any{"a", "b"}, "Status": 200}},
		{"204 without a body", HTTPResponse{Status: 204},
			[]string{`comment "failed: 204"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=204"`},
			map[string]any{"Status": 204}},
		{"200 not JSON", HTTPResponse{Status: 200, Body: []byte("<html>")},
			[]string{`comment "failed: 200"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=200"`},
			map[string]any{"Status": 200}},
		{"200 over the cap", HTTPResponse{Status: 200, Body: []byte(`{"a": "` + strings.Repeat("a", MaxHTTPBody) + `"}`)},
			[]string{`comment "failed: 200"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=200"`},
			map[string]any{"Status": 200}},
		{"404", HTTPResponse{Status: 404, Body: []byte(body)},
			[]string{`comment "failed: 404"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=404"`},
			map[string]any{"Status": 404}},
		{"500", HTTPResponse{Status: 500},
			[]string{`comment "failed: 500"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=500"`},
			map[string]any{"Status": 500}},
		{"301", HTTPResponse{Status: 301},
			[]string{`comment "failed: 301"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=301"`},
			map[string]any{"Status": 301}},
		{"transport error", HTTPResponse{Err: "connection refused"},
			[]string{`comment "failed: $Status"`, `send #3 "First=$First Count=$Count Tags=$Tags Missing=$Missing Absent=$Absent Nothing=$Nothing Status=$Status"`},
			nil},
	}
	for _, tt := range tests {
		s := newSession(t, p)
		s.start()
		for _, in := range []Input{Message{Text: "hi"}, Timeout{Seq: 1}, HTTPResponse{Seq: 2, Status: 200}} {
			if !s.ignored(in) {
				t.Errorf("%s: %#v was not ignored while waiting for HTTP", tt.name, in)
			}
		}
		resp := tt.resp
		if resp.Status != 0 {
			resp = (&HTTPRequest{JSON: true}).Answer(resp.Status, nil, resp.Body)
		}
		resp.Seq = 1
		wantEffects(t, tt.name, s.resume(resp), tt.want...)
		s.wantStatus(Done)
		if diff := cmp.Diff(tt.vars, s.vars); diff != "" {
			t.Errorf("%s: vars (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestHTTPWithoutFailureBranch: a failure continues after the step, and the
// mapped variables are unset, even when an earlier call had set them.
func TestHTTPWithoutFailureBranch(t *testing.T) {
	p := compileBody(t, `again: http GET "https://api.example.com/x" {
  map "$.v" to V
  status to Code
}
send "V=$V Code=$Code"
jump to again max 2
`)
	s := newSession(t, p)
	s.start()
	wantEffects(t, "ok", s.resume(HTTPResponse{Seq: 1, Status: 200, Body: []byte(`{"v": "one"}`)}),
		`send #2 "V=one Code=200"`, "http GET https://api.example.com/x timeout=10s seq=2")
	wantEffects(t, "500", s.resume(HTTPResponse{Seq: 2, Status: 500, Body: []byte(`{"v": "stale"}`)}),
		`send #2 "V=$V Code=500"`, "http GET https://api.example.com/x timeout=10s seq=3")
	if _, set := s.decoded().Vars["V"]; set {
		t.Errorf("V is still set after a failed call: %v", s.decoded().Vars)
	}
	wantEffects(t, "ok again", s.resume(HTTPResponse{Seq: 3, Status: 201, Body: []byte(`{"v": 3}`)}), `send #2 "V=3 Code=201"`)
	s.wantStatus(Done)
}

// TestAssign: the request and its timer (7 days by default); the result
// continues with the assignee set; the timeout takes on timeout or ends the
// run.
func TestAssign(t *testing.T) {
	p := compileBody(t, `assign team "Support $contact.id" least open online only max open 5 {
  on timeout {
    send "Nobody came."
    stop
  }
}
send "Assigned to $assignee.email"
assign workspace round robin timeout 1h
send "again $assignee.email"
`)
	s := newSession(t, p)
	wantEffects(t, "start", s.start(), `assign team "Support 42" logic="least open" online max=5 seq=1`, "timer 1 168h0m0s")
	s.wantWait(WaitAssign)
	for _, in := range []Input{Message{Text: "hi"}, AssignResult{Seq: 2, User: Agent{ID: "x"}}, Timeout{Seq: 0}, HTTPResponse{Seq: 1}} {
		if !s.ignored(in) {
			t.Errorf("%#v was not ignored while waiting for an assignment", in)
		}
	}
	wantEffects(t, "assigned", s.resume(AssignResult{Seq: 1, User: Agent{ID: "ana", Email: "ana@example.com"}}),
		"cancel 1", `send #4 "Assigned to ana@example.com"`, `assign workspace "" logic="round robin" seq=2`, "timer 2 1h0m0s")
	// no on timeout: the request is withdrawn and the run ends
	wantEffects(t, "timeout", s.timeout(), "cancel assign 2")
	s.wantStatus(Done)

	s = newSession(t, p)
	s.start()
	wantEffects(t, "timeout branch", s.timeout(), "cancel assign 1", `send #2 "Nobody came."`)
	s.wantStatus(Done)

	// user assignments have no logic
	s = newSession(t, compileBody(t, "assign user \"$contact.id@example.com\" timeout 5m\n"))
	wantEffects(t, "user", s.start(), `assign user "42@example.com" seq=1`, "timer 1 5m0s")
}

// TestAIReply: the outcome picks the branch; success saves the variables;
// the idle timer takes on idle; a branch that is not written ends the run.
func TestAIReply(t *testing.T) {
	p := compileBody(t, `ai reply "Get the email of $contact.id" save Email, Name idle 30m {
  on human {
    send "human"
  }
  on unable {
    send "unable"
    stop
  }
}
send "after $Email $Name"
`)
	tests := []struct {
		in   Input // Seq filled in
		want []string
		done bool
	}{
		{AIOutcome{Outcome: "success", Vars: map[string]string{"Email": "a@b.c", "Other": "x"}}, []string{"cancel 1", `send #5 "after a@b.c $Name"`}, true},
		{AIOutcome{Outcome: "human"}, []string{"cancel 1", `send #2 "human"`, `send #5 "after $Email $Name"`}, true},
		{AIOutcome{Outcome: "unable"}, []string{"cancel 1", `send #3 "unable"`}, true},
		{AIOutcome{Outcome: "failure"}, []string{"cancel 1"}, true},
		{AIOutcome{Outcome: "something new"}, []string{"cancel 1"}, true},
		{Timeout{}, []string{"stop ai 1"}, true},
	}
	for _, tt := range tests {
		s := newSession(t, p)
		wantEffects(t, "start", s.start(), `ai reply "Get the email of 42" save=[Email Name] seq=1`, "timer 1 30m0s")
		s.wantWait(WaitAI)
		for _, in := range []Input{Message{Text: "hi"}, AIOutcome{Seq: 2, Outcome: "success"}, Timeout{Seq: 2}} {
			if !s.ignored(in) {
				t.Errorf("%#v was not ignored while waiting for AI", in)
			}
		}
		var in Input
		switch x := tt.in.(type) {
		case AIOutcome:
			x.Seq = 1
			in = x
		case Timeout:
			x.Seq = 1
			in = x
		}
		wantEffects(t, fmt.Sprintf("%#v", tt.in), s.resume(in), tt.want...)
		s.wantStatus(Done)
	}

	// on idle, and the default idle time
	s := newSession(t, compileBody(t, "ai reply \"Chat\" {\n  on idle {\n    send \"bye\"\n  }\n}\n"))
	wantEffects(t, "start", s.start(), `ai reply "Chat" save=[] seq=1`, "timer 1 1h0m0s")
	wantEffects(t, "idle", s.timeout(), "stop ai 1", `send #2 "bye"`)
}

// TestBudgetFollowsTheProgram is the reproducer: a flow the checker
// accepts (47 steps, 45 jumps back to the top) ran past the 10,000
// instructions of a sprint and failed as a runaway loop. A sprint may run
// what the program's jumps allow; a flow whose jumps allow too much does
// not compile, at the jump that passes the bound.
func TestBudgetFollowsTheProgram(t *testing.T) {
	src := "flow \"Jumpy\"\ntrigger manual\ntop: comment \"c\"\ncomment \"d\"\n" + strings.Repeat("jump to top max 10\n", 45)
	p, ds, err := CompileSource("jumpy.flow", []byte(src))
	if err != nil || ds.HasErrors() {
		t.Fatalf("compile: %v %v", err, ds)
	}
	var m Machine
	out := m.Start(p, &Context{Now: time.Now()})
	if out.Status != Done || m.Work().Instructions <= DefaultBudget {
		t.Errorf("status %v after %d instructions (err %v), want done past %d", out.Status, m.Work().Instructions, out.Err, DefaultBudget)
	}
	// more jumps than any sprint may run
	var b strings.Builder
	b.WriteString("flow \"Huge\"\ntrigger manual\ntop: comment \"c\"\n")
	for i := 0; i < 1000; i++ {
		b.WriteString("jump to top max 10\n")
	}
	_, _, err = CompileSource("huge.flow", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "a flow may run at most 1000000: lower the jumps' max or split the flow") {
		t.Errorf("a flow over the bound: %v", err)
	}
}
