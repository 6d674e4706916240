package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

var sms = store.Address{ChannelID: "sms1", Channel: "sms", ExternalID: "+60123456789"}

func inbound(typ, mid, text string) runtime.Inbound {
	return runtime.Inbound{From: sms, Type: typ, MID: mid, Text: text}
}

const askName = `flow "Ask"
trigger conversation opened by contact
ask "Your name?" save Name timeout 1h
send "Hi $Name"
`

// An echo that overtakes the record of flowd's own message (the receiver
// has not answered yet) is still known for flowd's by its text: it stops
// nothing. Any other echo is an agent writing from the provider's app.
func TestEchoOvertakingItsReceipt(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Ask"
trigger conversation opened by contact
exit on agent message
ask "Your name?" save Name timeout 1h
send "Hi $Name"
`))
	h.do(inbound(runtime.InMessage, "m1", "hello"))
	id := h.identity(sms)
	h.want(id, "> hello", `* started "Ask" on conversation opened by contact`, "< Your name?")
	h.do(inbound(runtime.InEcho, "p1", "Your name?"))
	h.want(id, "* message p1 echoed by the channel")
	h.do(inbound(runtime.InEcho, "p2", "Mia here"))
	h.want(id, "agent: Mia here", `* exit "Ask" on agent message`)
}

// A status is recorded once per value; one for a contact flowd never saw
// is dropped.
func TestStatusRecordedOncePerValue(t *testing.T) {
	h := newHarness(t, compile(t, askName))
	h.do(inbound(runtime.InMessage, "m1", "hello"))
	id := h.identity(sms)
	h.lines(id)
	st := func(v string) runtime.Inbound {
		in := inbound(runtime.InStatus, "p1", "")
		in.Status = v
		return in
	}
	h.do(st("delivered"), st("delivered"), st("read"))
	h.want(id, "* message p1 delivered", "* message p1 read")
	stranger := st("read")
	stranger.From.ExternalID = "+60999999999"
	h.do(stranger)
	h.inTx(func(tx store.Tx) {
		if _, err := tx.Identity("sms1", "+60999999999"); err == nil {
			t.Error("a status created a contact")
		}
	})
}

// identity is the contact a channel address names.
func (h *harness) identity(a store.Address) string {
	h.t.Helper()
	var id string
	h.inTx(func(tx store.Tx) {
		var err error
		id, err = tx.Identity(a.ChannelID, a.ExternalID)
		h.must(err)
	})
	return id
}

// The dispatcher delivers to the contact's channel address through
// respond.io's /message; a 429 holds the next try back as long as its
// Retry-After says, and the receiver's mId becomes the message's receipt.
func TestCustomChannelRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		calls = append(calls, m)
		n := len(calls)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, `{"mId": "wamid.42"}`)
	}))
	defer rc.Close()
	h := newHarness(t, compile(t, askName))
	d := &runtime.Dispatcher{Engine: h.e, Channel: runtime.Channels{"sms1": &runtime.CustomChannel{ID: "sms1", URL: rc.URL, Token: "tok"}}}
	h.do(inbound(runtime.InMessage, "m1", "hello"))
	h.must(d.Drain(context.Background()))
	if len(calls) != 1 {
		t.Fatalf("calls: %v", calls)
	}
	h.now = h.now.Add(runtime.Backoff(1) + time.Second) // past the backoff, not the Retry-After
	h.must(d.Drain(context.Background()))
	if len(calls) != 1 {
		t.Fatalf("tried again before Retry-After: %v", calls)
	}
	h.now = h.now.Add(2 * time.Minute)
	h.must(d.Drain(context.Background()))
	if len(calls) != 2 || calls[0]["messageId"] != calls[1]["messageId"] || calls[1]["contactId"] != "+60123456789" || calls[1]["channelId"] != "sms1" {
		t.Fatalf("calls: %v", calls)
	}
	id := h.identity(sms)
	h.inTx(func(tx store.Tx) {
		r, err := tx.Receipt("sms1", "wamid.42")
		h.must(err)
		if r.ContactID != id || runtime.MessageID(r.OutboxID) != calls[1]["messageId"] {
			t.Errorf("receipt: %+v", r)
		}
	})
}

// A message's choices go as a quick reply; its attachments follow, each a
// message of its own, typed by their URLs.
func TestWireMessages(t *testing.T) {
	h := newHarness(t, compile(t, `flow "Menu"
trigger conversation opened by contact
send "Our menu" attach "https://example.com/menu.pdf", "https://example.com/dish.JPG?v=2"
ask choice "Pick one" choices "Tea", "Coffee"
`))
	h.do(inbound(runtime.InMessage, "m1", "hello"))
	var got []string
	h.inTx(func(tx store.Tx) {
		due, err := tx.DueOutbound(h.now, 10)
		h.must(err)
		for _, o := range due {
			var m runtime.OutMessage
			h.must(json.Unmarshal(o.Payload, &m))
			for _, w := range runtime.WireMessages(m) {
				b, _ := json.Marshal(w)
				got = append(got, string(b))
			}
			if m.To == nil || *m.To != (store.Address{ChannelID: "sms1", Channel: "sms", ExternalID: "+60123456789"}) {
				t.Errorf("address: %+v", m.To)
			}
		}
	})
	want := []string{
		`{"type":"text","text":"Our menu"}`,
		`{"type":"attachment","attachment":{"type":"file","url":"https://example.com/menu.pdf"}}`,
		`{"type":"attachment","attachment":{"type":"image","url":"https://example.com/dish.JPG?v=2"}}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("wire messages:\n%s\nwant\n%s", got, want)
	}
}

// recordingChannel keeps what it delivers.
type recordingChannel struct{ got []string }

func (c *recordingChannel) Deliver(_ context.Context, id, contact string, m runtime.OutMessage) (string, error) {
	to := ""
	if m.To != nil {
		to = m.To.ExternalID
	}
	c.got = append(c.got, to+": "+m.Message.Text)
	return "", nil
}

// An agent's message is delivered on the contact's channel, unless it was
// sent there already (an echo of the provider's app).
func TestAgentMessageDelivered(t *testing.T) {
	h := newHarness(t, compile(t, askName))
	ch := &recordingChannel{}
	d := &runtime.Dispatcher{Engine: h.e, Channel: ch}
	h.do(inbound(runtime.InMessage, "m1", "hello"))
	id := h.identity(sms)
	h.do(runtime.AgentMessage{Contact: id, User: "mia@example.com", Text: "Mia here"},
		runtime.AgentMessage{Contact: id, User: "mia@example.com", Text: "from the phone", Sent: true})
	h.must(d.Drain(context.Background()))
	want := []string{"+60123456789: Your name?", "+60123456789: Mia here"}
	if !slices.Equal(ch.got, want) {
		t.Errorf("delivered %q, want %q", ch.got, want)
	}
}

// An outside unassign frees the assignee's slot: a queued assignment goes
// ahead. Resuming the bot lets a flow an agent stopped start again.
func TestUnassignAndResumeBot(t *testing.T) {
	mia := store.User{ID: "mia", Name: "Mia", Email: "mia@example.com", Teams: []string{"Support"}, Status: "online"}
	h := newHarness(t, compile(t, `flow "Route"
trigger conversation opened by contact
exit on manual stop
assign team "Support" round robin max open 1
`), mia)
	h.do(msg("c1", "hi"), msg("c2", "hi"))
	if a := h.conversation("c1").Assignee; a != "mia" {
		t.Fatalf("c1 assigned to %q", a)
	}
	if a := h.conversation("c2").Assignee; a != "" {
		t.Fatalf("c2 assigned to %q while mia is full", a)
	}
	h.do(runtime.Unassign{Contact: "c1"})
	if a, b := h.conversation("c1").Assignee, h.conversation("c2").Assignee; a != "" || b != "mia" {
		t.Errorf("after unassigning c1: c1 %q, c2 %q", a, b)
	}
	h.do(runtime.StopBot{Contact: "c1"}, runtime.ManualStart{Contact: "c1", Flow: "Route"})
	if got := h.lines("c1"); !slices.Contains(got, `* not started: "Route": stopped by an agent for this conversation`) {
		t.Errorf("a stopped bot started: %q", got)
	}
	h.do(runtime.ResumeBot{Contact: "c1"}, runtime.ManualStart{Contact: "c1", Flow: "Route"})
	if got := h.lines("c1"); !slices.Contains(got, "* bot resumed") || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, `* assign team "Support"`) }) {
		t.Errorf("after resuming: %q", got)
	}
}

// Every outside event's text is cleaned by the engine, whoever handed it
// over: tags, fields, an agent's message, a comment.
func TestOutsideTextCleaned(t *testing.T) {
	h := newHarness(t, compile(t, askName))
	h.do(msg("c1", "hi\x00"),
		runtime.TagChange{Contact: "c1", Add: []string{"V\x1bIP"}},
		runtime.FieldChange{Contact: "c1", Field: "lifecycle", Value: "Lead\x07"},
		runtime.AgentMessage{Contact: "c1", Text: "on\x00 it"},
		runtime.Comment{Contact: "c1", Text: "note\x7f"})
	c := h.contact("c1")
	if !slices.Equal(c.Tags, []string{"VIP"}) || c.Fields["lifecycle"] != "Lead" {
		t.Errorf("contact: tags %q, fields %v", c.Tags, c.Fields)
	}
	got := strings.Join(h.lines("c1"), "\n")
	for _, want := range []string{"> hi", "agent: on it", "* note"} {
		if !strings.Contains(got, want+"\n") && !strings.HasSuffix(got, want) {
			t.Errorf("activity lacks %q:\n%s", want, got)
		}
	}
}

// An outside change cannot take a contact past its bounds: the event fails
// with ErrLimit and changes nothing.
func TestOutsideChangesBounded(t *testing.T) {
	h := newHarness(t, compile(t, askName))
	h.do(msg("c1", "hi"))
	tags := make([]string, interpreter.MaxContactTags+1)
	for i := range tags {
		tags[i] = fmt.Sprint("t", i)
	}
	err := h.e.Handle(context.Background(), runtime.TagChange{Contact: "c1", Add: tags})
	if !errors.Is(err, runtime.ErrLimit) || len(h.contact("c1").Tags) != 0 {
		t.Errorf("too many tags: %v, tags %d", err, len(h.contact("c1").Tags))
	}
	fields := map[string]*string{}
	v := "x"
	for i := 0; i <= interpreter.MaxContactFields; i++ {
		fields[fmt.Sprint("f", i)] = &v
	}
	err = h.e.Handle(context.Background(), runtime.SaveContact{Contact: "c1", Update: true, Fields: fields})
	if !errors.Is(err, runtime.ErrLimit) || len(h.contact("c1").Fields) > 1 {
		t.Errorf("too many fields: %v, fields %d", err, len(h.contact("c1").Fields))
	}
}

// A batch's events that repeat a message are taken once, whether the batch
// records its keys up front or, with an event that fails, each event in
// its own savepoint; and a batch posted again is all seen. The contact its
// first message made is made once, with the profile its channel gave.
func TestDedupInOneBatch(t *testing.T) {
	h := newHarness(t, compile(t, askName))
	in := func(mid, text string) runtime.Event { return inbound(runtime.InMessage, mid, text) }
	batch := []runtime.Event{in("m1", "hello"), in("m1", "hello"), in("m2", "Ana"), in("m2", "Ana")}
	for range 2 {
		errs, err := h.e.HandleAll(context.Background(), batch)
		h.must(err)
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	id := h.identity(sms)
	h.want(id, "> hello", `* started "Ask" on conversation opened by contact`, "< Your name?", "> Ana", "< Hi Ana", `* end "Ask"`)
	if c := h.contact(id); c.Fields["phone"] != sms.ExternalID {
		t.Errorf("a new contact's profile, taken from its first message: %v", c.Fields)
	}
	errs, err := h.e.HandleAll(context.Background(), []runtime.Event{in("m3", "bye"), runtime.ManualAssign{Contact: id, User: "nobody"}, in("m3", "bye")})
	h.must(err)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors: %v", errs)
	}
	h.want(id, "> bye")
}
