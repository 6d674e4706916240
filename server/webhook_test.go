package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/server"
)

// The consent flow end to end: a new contact's first message, posted in
// respond.io's Custom Channel format, makes flowd post the privacy message
// and the ACCEPT AND CONTINUE quick reply to <url>/message; the answer
// leaves the contact tagged.
func TestConsentThroughTheCustomChannel(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "request_consent_privacy.flow")
	f.say("+60123456789", "in-1", "Hello")
	got := rc.waitFor(2)
	if got[0].text() != "Hi there! Before we continue, please read our privacy policy: https://example.com/privacy" {
		t.Errorf("first message: %q", got[0].text())
	}
	if want := "Do you accept our privacy policy? Tap the button below to continue. [ACCEPT AND CONTINUE]"; got[1].text() != want {
		t.Errorf("question: %q, want %q", got[1].text(), want)
	}
	for _, m := range got {
		if m.Auth != "Bearer "+token || m.ChannelID != channelID || m.ContactID != "+60123456789" || m.MessageID == "" || m.IdempotencyKey != m.MessageID {
			t.Errorf("a /message call: %+v", m)
		}
	}
	f.say("+60123456789", "in-2", "ACCEPT AND CONTINUE")
	got = rc.waitFor(3)
	if !strings.HasPrefix(got[2].text(), "Thank you! You have accepted") {
		t.Errorf("after the answer: %q", got[2].text())
	}
	c := f.contact("+60123456789")
	if !slices.Contains(c.Tags, "Consent: Privacy") || c.Fields["phone"] != "+60123456789" {
		t.Errorf("the contact: tags %v, fields %v", c.Tags, c.Fields)
	}
}

// Each bad request gets its status and one error shape naming the problem,
// and changes nothing: not even the request's good events are taken.
func TestBadWebhookRequests(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/echo.flow")
	good := map[string]any{"type": "message", "mId": "ok1", "message": map[string]any{"type": "text", "text": "hi"}}
	body := func(contact string, evs ...any) map[string]any {
		return map[string]any{"channelId": channelID, "contactId": contact, "events": evs}
	}
	many := make([]any, 101)
	for i := range many {
		many[i] = map[string]any{"type": "message", "mId": fmt.Sprintf("m%d", i), "message": map[string]any{"type": "text", "text": "hi"}}
	}
	for _, c := range []struct {
		name  string
		token string
		body  any
		code  int
		field string
		msg   string
	}{
		{"no token", "", body("c1", good), 401, "", "token"},
		{"a wrong token", "nope", body("c1", good), 401, "", "token"},
		{"another channel's token", "other-token", body("c1", good), 401, "", `not channel "sms1"'s`},
		{"over the limit", token, `{"channelId":"sms1","contactId":"c1","events":[{"type":"message","mId":"a","message":{"type":"text","text":"` + strings.Repeat("x", 1<<20) + `"}}]}`, 413, "", "over"},
		{"malformed JSON", token, `{"channelId": "sms1", "events": [`, 400, "", "not valid JSON"},
		{"a wrong type", token, `{"channelId": "sms1", "contactId": 5, "events": []}`, 400, "contactId", "contactId"},
		{"no channelId", token, map[string]any{"contactId": "c1", "events": []any{good}}, 400, "channelId", "required"},
		{"an unknown channel", token, map[string]any{"channelId": "nope", "contactId": "c1", "events": []any{good}}, 404, "channelId", `no channel "nope"`},
		{"no contactId", token, body("", good), 400, "contactId", "required"},
		{"a long contactId", token, body(strings.Repeat("1", 51), good), 400, "contactId", "at most 50"},
		{"a contactId with a space", token, body("ana smith", good), 400, "contactId", "only A-Z"},
		{"no events", token, map[string]any{"channelId": channelID, "contactId": "c1"}, 400, "events", "required"},
		{"too many events", token, body("c1", many...), 400, "events", "at most 100"},
		{"no mId", token, body("c1", good, map[string]any{"type": "message", "message": map[string]any{"type": "text", "text": "x"}}), 400, "events[1].mId", "required"},
		{"a long mId", token, body("c1", map[string]any{"type": "message", "mId": strings.Repeat("m", 51), "message": map[string]any{"type": "text", "text": "x"}}), 400, "events[0].mId", "at most 50"},
		{"an unknown event", token, body("c1", good, map[string]any{"type": "typing", "mId": "t1"}), 400, "events[1].type", "typing"},
		{"an empty text", token, body("c1", map[string]any{"type": "message", "mId": "e1", "message": map[string]any{"type": "text", "text": " "}}), 400, "events[0].message.text", "empty"},
		{"no message", token, body("c1", map[string]any{"type": "message", "mId": "e1"}), 400, "events[0].message", "required"},
		{"an attachment without a URL", token, body("c1", map[string]any{"type": "message", "mId": "e1", "message": map[string]any{"type": "attachment", "attachment": map[string]any{"type": "image", "url": "file:///etc/passwd"}}}), 400, "events[0].message.attachment.url", "http"},
		{"a status without a value", token, body("c1", map[string]any{"type": "message_status", "mId": "s1", "status": map[string]any{"value": "lost"}}), 400, "events[0].status.value", "lost"},
		{"a bad email", token, map[string]any{"channelId": channelID, "contactId": "c1", "events": []any{good}, "contact": map[string]any{"email": "not an email"}}, 400, "contact.email", "not an email"},
		{"a bad phone", token, map[string]any{"channelId": channelID, "contactId": "c1", "events": []any{good}, "contact": map[string]any{"phone": "0123"}}, 400, "contact.phone", "E.164"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := f.post("/custom/channel/webhook", c.token, c.body)
			if code != c.code || out["code"] != float64(c.code) || out["field"] != nilIfEmpty(c.field) || !strings.Contains(fmt.Sprint(out["message"]), c.msg) {
				t.Errorf("got %d %v; want %d, field %q, a message with %q", code, out, c.code, c.field, c.msg)
			}
		})
	}
	if got := rc.received(); len(got) != 0 {
		t.Errorf("bad requests reached the flows: %+v", got)
	}
	if acts := f.activityOf("c1"); len(acts) != 0 {
		t.Errorf("bad requests left activity: %v", acts)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// A repeated mId is the same message: processed once, answered 200 each
// time. The same mId on another channel is another message.
func TestRepeatedMessageProcessedOnce(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/echo.flow")
	f.say("c1", "m1", "Hi")
	rc.waitFor(1) // the question
	f.say("c1", "m2", "Ana")
	f.say("c1", "m2", "Ana") // the integration server retried
	f.say("c1", "m2", "Ana")
	got := rc.waitFor(2)
	if got[1].text() != "Hello Ana" {
		t.Errorf("answer: %q", got[1].text())
	}
	c := f.contact("c1")
	want := []string{"message_in: Hi", "message_in: Ana"}
	var ins []string
	for _, a := range f.activity(c.ID) {
		if strings.HasPrefix(a, "message_in") {
			ins = append(ins, a)
		}
	}
	if !slices.Equal(ins, want) {
		t.Errorf("messages in: %v, want %v", ins, want)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.received()); n != 2 {
		t.Errorf("the receiver got %d messages, want 2", n)
	}
}

// Statuses are recorded in the activity of the message's contact, each
// value once: delivered and read both count, a repeated delivered does not.
// An echo of flowd's own message is a confirmation; any other echo is an
// agent writing from the provider's app.
func TestStatusesAndEchoes(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/echo.flow")
	f.say("+60111111111", "m1", "Hi")
	got := rc.waitFor(1)
	mid := "provider-1" // what the receiver answered
	f.waitReceipt(mid)
	status := func(sid, value string) map[string]any {
		return map[string]any{"type": "message_status", "mId": mid, "timestamp": 1767607260000, "status": map[string]any{"value": value}}
	}
	body := map[string]any{"channelId": channelID, "contactId": "+60111111111", "events": []any{
		status("s1", "sent"), status("s2", "delivered"), status("s3", "delivered"), status("s4", "read"),
		map[string]any{"type": "message_echo", "mId": mid, "message": map[string]any{"type": "text", "text": got[0].text()}},
		map[string]any{"type": "message_echo", "mId": "agent-7", "message": map[string]any{"type": "text", "text": "Mia here, from the phone"}},
	}}
	if code, out := f.post("/custom/channel/webhook/", token, body); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	f.post("/custom/channel/webhook/", token, body) // again: nothing new
	c := f.contact("+60111111111")
	var saw []string
	for _, a := range f.activity(c.ID) {
		if strings.HasPrefix(a, "message_status") || strings.HasPrefix(a, "agent_message") {
			saw = append(saw, a)
		}
	}
	want := []string{
		"message_status: message provider-1 sent", "message_status: message provider-1 delivered", "message_status: message provider-1 read",
		"message_status: message provider-1 echoed by the channel", "agent_message: Mia here, from the phone",
	}
	if !slices.Equal(saw, want) {
		t.Errorf("activity:\n%s\nwant:\n%s", strings.Join(saw, "\n"), strings.Join(want, "\n"))
	}
}

// A final 4xx from /message takes the send's on failure branch at once; it
// is not tried again.
func TestFinal4xxTakesOnFailure(t *testing.T) {
	rc := newReceiver(t)
	rc.answer = func(int, received) (int, http.Header, string) {
		return 400, nil, `{"error": {"message": "the provider refused the number"}}`
	}
	f := startFlowd(t, rc, "testdata/notify.flow")
	f.say("c1", "m1", "Where is my order?")
	rc.waitFor(1)
	c := f.waitContact("c1", func(c *store.Contact) bool { return slices.Contains(c.Tags, "Undelivered") })
	if slices.Contains(c.Tags, "Notified") {
		t.Errorf("tags %v: the run went on as if delivered", c.Tags)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.received()); n != 1 {
		t.Errorf("a final 4xx was tried %d times", n)
	}
}

// A receiver that fails twice (a 503, then a 429) and then takes the
// message gets the same messageId three times; the message counts as
// delivered once, and the contact's next message waits behind it.
func TestDeliveryRetriedWithTheSameID(t *testing.T) {
	rc := newReceiver(t)
	rc.answer = func(n int, _ received) (int, http.Header, string) {
		switch n {
		case 1:
			return 503, nil, "busy"
		case 2:
			return 429, http.Header{"Retry-After": {"0"}}, "slow down"
		}
		return 200, nil, fmt.Sprintf(`{"mId": "p%d"}`, n)
	}
	f := startFlowd(t, rc, "testdata/notify.flow")
	f.say("c1", "m1", "Where is my order?")
	got := rc.waitFor(3)
	if got[0].MessageID != got[1].MessageID || got[1].MessageID != got[2].MessageID || got[2].IdempotencyKey != got[0].MessageID {
		t.Errorf("messageIds: %q %q %q", got[0].MessageID, got[1].MessageID, got[2].MessageID)
	}
	c := f.waitContact("c1", func(c *store.Contact) bool { return slices.Contains(c.Tags, "Notified") })
	if slices.Contains(c.Tags, "Undelivered") {
		t.Errorf("tags %v", c.Tags)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rc.received()); n != 3 {
		t.Errorf("the receiver got %d calls, want 3", n)
	}
}

// A reply queued while the contact's earlier message waits for its next
// try goes after it: the commit that queues it hands it to no one, and the
// earlier one's outcome lets it go.
func TestReplyWaitsBehindARetry(t *testing.T) {
	rc := newReceiver(t)
	queued := make(chan struct{})
	rc.answer = func(n int, _ received) (int, http.Header, string) {
		if n == 1 {
			<-queued // the reply to the answer is queued meanwhile
			return 503, nil, "busy"
		}
		return 200, nil, fmt.Sprintf(`{"mId": "p%d"}`, n)
	}
	f := startFlowd(t, rc, "testdata/echo.flow")
	f.say("c1", "m1", "Hi")
	f.eventually(func() bool { return len(rc.received()) == 1 }, func() string { return "the question never reached the receiver" })
	f.say("c1", "m2", "Ana")
	close(queued)
	got := rc.waitFor(3)
	var texts []string
	for _, m := range got {
		texts = append(texts, m.text())
	}
	if want := []string{"What is your name?", "What is your name?", "Hello Ana"}; !slices.Equal(texts, want) {
		t.Errorf("the receiver got %q; want %q", texts, want)
	}
}

// A receiver slow for one contact does not hold up another; each contact's
// messages arrive in the order the flow sent them.
func TestSlowContactDelaysNoOther(t *testing.T) {
	rc := newReceiver(t)
	release := make(chan struct{})
	rc.answer = func(n int, m received) (int, http.Header, string) {
		if m.ContactID == "slow" {
			<-release
		}
		return 200, nil, fmt.Sprintf(`{"mId": "p%d"}`, n)
	}
	f := startFlowd(t, rc, "request_consent_privacy.flow")
	f.say("slow", "m1", "Hello")
	f.say("fast", "m2", "Hello")
	deadline := time.After(10 * time.Second)
	for {
		var fast []string
		for _, m := range rc.received() {
			if m.ContactID == "fast" {
				fast = append(fast, m.text())
			}
		}
		if len(fast) == 2 {
			if !strings.HasPrefix(fast[0], "Hi there!") || !strings.HasPrefix(fast[1], "Do you accept") {
				t.Errorf("fast contact's messages out of order: %q", fast)
			}
			break
		}
		select {
		case <-rc.arrived:
		case <-deadline:
			t.Fatalf("the fast contact got %d messages while the slow one's receiver hung", len(fast))
		}
	}
	close(release)
	got := rc.waitFor(4)
	var slow []string
	for _, m := range got {
		if m.ContactID == "slow" {
			slow = append(slow, m.text())
		}
	}
	if len(slow) != 2 || !strings.HasPrefix(slow[0], "Hi there!") {
		t.Errorf("slow contact's messages: %q", slow)
	}
}

// The contact block fills a new contact's fields, but a phone or email that
// is another contact's is not taken: the activity says so.
func TestNoSilentMerge(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/echo.flow")
	first := message("ana", "m1", "Hi")
	first["contact"] = map[string]any{"firstName": "Ana", "email": "ana@example.com"}
	if code, out := f.post("/custom/channel/webhook/", token, first); code != 200 {
		t.Fatal(code, out)
	}
	second := message("+60122222222", "m2", "Hi")
	second["contact"] = map[string]any{"firstName": "Anna", "email": "ana@example.com"}
	if code, out := f.post("/custom/channel/webhook/", token, second); code != 200 {
		t.Fatal(code, out)
	}
	ana, other := f.contact("ana"), f.contact("+60122222222")
	if ana.Fields["email"] != "ana@example.com" || ana.Fields["firstname"] != "Ana" {
		t.Errorf("first contact: %v", ana.Fields)
	}
	if _, has := other.Fields["email"]; has || other.Fields["phone"] != "+60122222222" || other.Fields["firstname"] != "Anna" || other.ID == ana.ID {
		t.Errorf("second contact %s: %v", other.ID, other.Fields)
	}
	want := fmt.Sprintf(`field: contact.email not set: "ana@example.com" is contact %s's`, ana.ID)
	if !slices.Contains(f.activity(other.ID), want) {
		t.Errorf("activity of the second: %v, want %q", f.activity(other.ID), want)
	}
}

// Text is cleaned at intake: the log, the run and the fields see it clean.
// An attachment reaches the flow as its URL, kept in the activity's data.
func TestTextCleanedAtIntake(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/echo.flow")
	f.say("c1", "m1", "Hi")
	rc.waitFor(1)
	f.say("c1", "m2", "An\x1b[31ma\x00")
	got := rc.waitFor(2)
	if got[1].text() != "Hello An[31ma" {
		t.Errorf("answer: %q", got[1].text())
	}
	if acts := f.activity(f.contact("c1").ID); !slices.Contains(acts, "message_in: An[31ma") {
		t.Errorf("activity: %q", acts)
	}
}

// A wait's timer fires on its own, without another event, soon after its
// deadline (docs/server.md: within a second).
func TestTimerFiresWhileServing(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "testdata/wait.flow")
	f.say("c1", "m1", "Hi")
	got := rc.waitFor(2)
	if got[0].text() != "One moment" || got[1].text() != "Done waiting" {
		t.Errorf("messages: %q, %q", got[0].text(), got[1].text())
	}
}

// Past its rate, a contact is answered 429 with Retry-After and the
// X-RateLimit-* headers, and its message is not taken; another contact
// still is.
func TestRateLimitedContact(t *testing.T) {
	f := startFlowdWith(t, server.Options{ContactRate: 1}, newReceiver(t), "testdata/echo.flow")
	var last *http.Response
	for i := 0; i < 10; i++ { // a burst of four is let through
		b, _ := json.Marshal(message("c1", fmt.Sprintf("m%d", i), "hi"))
		req, _ := http.NewRequest("POST", f.srv.URL+"/custom/channel/webhook", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" || last.Header.Get("X-RateLimit-Limit") != "1" || last.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("the tenth request: %d %v", last.StatusCode, last.Header)
	}
	if code, out := f.post("/custom/channel/webhook", token, message("c2", "n1", "hi")); code != 200 {
		t.Errorf("another contact: %d %v", code, out)
	}
	var ins int
	for _, a := range f.activity(f.contact("c1").ID) {
		if strings.HasPrefix(a, "message_in") {
			ins++
		}
	}
	if ins < 4 || ins > 5 {
		t.Errorf("%d of c1's messages were taken, want the burst of 4 (5 if a second passed)", ins)
	}
}

// The VIP flow end to end: a copy whose CRM URL points at a fake CRM on
// 127.0.0.1, which the workspace allows. A VIP goes to the VIP agent; a
// contact without an email is asked for one, looked up, and goes to
// Support. Without the allow-list, the guard refuses the CRM's private
// address and the flow's failure path routes the contact to Support.
func TestVIPThroughTheCustomChannel(t *testing.T) {
	var mu sync.Mutex
	var lookups []string
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lookups = append(lookups, r.URL.Query().Get("email")+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		typ := "Regular"
		if r.URL.Query().Get("email") == "vip@example.com" {
			typ = "VIP"
		}
		fmt.Fprintf(w, `{"customerType": %q}`, typ)
	}))
	defer crm.Close()
	src, err := os.ReadFile("../flows/routing_vip_contacts.flow")
	if err != nil {
		t.Fatal(err)
	}
	vip := filepath.Join(t.TempDir(), "vip.flow")
	if err := os.WriteFile(vip, bytes.ReplaceAll(src, []byte("https://crm.example.com"), []byte(crm.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	users := runtime.Users{
		{ID: "vip-agent@example.com", Email: "vip-agent@example.com", Teams: []string{"Support"}, Status: "online"},
		{ID: "mia@example.com", Email: "mia@example.com", Teams: []string{"Support"}, Status: "online"},
	}
	assignee := func(f *flowd, contact string) string {
		var got string
		f.waitContact(contact, func(c *store.Contact) bool {
			tx, _ := f.st.Begin(context.Background())
			defer tx.Rollback()
			if conv, err := tx.LastConversation(c.ID); err == nil {
				got = conv.Assignee
			}
			return got != ""
		})
		return got
	}

	rc := newReceiver(t)
	f := startFlowdWith(t, server.Options{HTTPAllow: []string{"127.0.0.1"}, Engine: runtime.Config{Directory: users}}, rc, vip)
	first := message("+60100000001", "v1", "Hello")
	first["contact"] = map[string]any{"email": "vip@example.com"}
	if code, out := f.post("/custom/channel/webhook/", token, first); code != 200 {
		t.Fatal(code, out)
	}
	if a := assignee(f, "+60100000001"); a != "vip-agent@example.com" {
		t.Errorf("the VIP went to %q", a)
	}
	f.say("+60100000002", "r1", "Hello")
	if got := rc.waitFor(1); got[0].text() != "To help you faster, what is your email address?" {
		t.Errorf("question: %q", got[0].text())
	}
	f.say("+60100000002", "r2", "bob@example.com")
	if a := assignee(f, "+60100000002"); a != "mia@example.com" && a != "vip-agent@example.com" {
		t.Errorf("the regular contact went to %q", a)
	}
	mu.Lock()
	want := []string{"vip@example.com Bearer YOUR_CRM_API_KEY", "bob@example.com Bearer YOUR_CRM_API_KEY"}
	if !slices.Equal(lookups, want) {
		t.Errorf("CRM lookups: %q, want %q", lookups, want)
	}
	mu.Unlock()

	guarded := startFlowdWith(t, server.Options{Engine: runtime.Config{Directory: users}}, newReceiver(t), vip)
	if code, out := guarded.post("/custom/channel/webhook/", token, first); code != 200 {
		t.Fatal(code, out)
	}
	if a := assignee(guarded, "+60100000001"); a == "" {
		t.Error("not routed")
	}
	acts := strings.Join(guarded.activity(guarded.contact("+60100000001").ID), "\n")
	if !strings.Contains(acts, "refused: 127.0.0.1 is") || !strings.Contains(acts, "CRM lookup failed for vip@example.com") {
		t.Errorf("activity with the guard:\n%s", acts)
	}
	mu.Lock()
	if len(lookups) != 2 {
		t.Errorf("the guard let a call through: %q", lookups)
	}
	mu.Unlock()
}

// /metrics counts what the service did, in Prometheus' text format.
func TestMetrics(t *testing.T) {
	rc := newReceiver(t)
	f := startFlowd(t, rc, "request_consent_privacy.flow")
	f.say("c1", "m1", "Hello")
	rc.waitFor(2)
	f.post("/custom/channel/webhook", "wrong", message("c1", "m2", "x"))
	f.post("/custom/channel/webhook", token, `{`)
	f.waitReceipt("provider-2")
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`flowd_inbound_events_total{channel="sms1",type="message"} 1`,
		`flowd_inbound_rejected_total{reason="unauthorized"} 1`,
		`flowd_inbound_rejected_total{reason="bad_request"} 1`,
		`flowd_outbound_total{lane="message",result="delivered"} 2`,
		`flowd_events_total{outcome="committed"}`,
		`flowd_commit_seconds_count`,
		"flowd_outbox_depth 0",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
