package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowd/flowd/project"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/sqlite"
	"github.com/flowd/flowd/server"
)

const (
	channelID = "sms1"
	token     = "channel-token-0123456789"
)

// A receiver is a fake integration server on 127.0.0.1: it takes
// respond.io's POST <url>/message, answers as told, and keeps what came.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	got     []received
	answer  func(n int, r received) (status int, header http.Header, body string) // nil: 200 {"mId": ...}
	arrived chan struct{}
}

type received struct {
	Auth, IdempotencyKey string
	ChannelID            string          `json:"channelId"`
	ContactID            string          `json:"contactId"`
	MessageID            string          `json:"messageId"`
	Message              json.RawMessage `json:"message"`
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, arrived: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/message" {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		var m received
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("receiver: %v: %s", err, b)
		}
		m.Auth, m.IdempotencyKey = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key")
		rc.mu.Lock()
		rc.got = append(rc.got, m)
		n, answer := len(rc.got), rc.answer
		rc.mu.Unlock()
		status, header, body := 200, http.Header{}, fmt.Sprintf(`{"mId": "provider-%d"}`, n)
		if answer != nil {
			status, header, body = answer(n, m)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
		rc.arrived <- struct{}{}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor waits until the receiver has got n calls.
func (rc *receiver) waitFor(n int) []received {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := rc.received(); len(got) >= n {
			return got
		}
		select {
		case <-rc.arrived:
		case <-deadline:
			rc.t.Fatalf("the receiver got %d calls, want %d: %+v", len(rc.received()), n, rc.received())
		}
	}
}

// text is a received message's text or title.
func (m received) text() string {
	var msg struct {
		Type, Text, Title string
		Replies           []string
	}
	json.Unmarshal(m.Message, &msg)
	if msg.Type == "quick_reply" {
		return msg.Title + " [" + strings.Join(msg.Replies, " | ") + "]"
	}
	return msg.Text
}

// A flowd is a service on a fresh store in a temp dir, over real HTTP.
type flowd struct {
	t   *testing.T
	svc *server.Service
	st  *sqlite.DB
	srv *httptest.Server
}

// startFlowd starts flowd, as startFlowdWith does, with the default options.
func startFlowd(t *testing.T, rc *receiver, files ...string) *flowd {
	t.Helper()
	return startFlowdWith(t, server.Options{}, rc, files...)
}

// startFlowdWith starts flowd with the flows named (a bare name is a bundled
// flow of flows/, a path is taken as it is) and one custom channel whose
// integration server is rc. A delivery is tried again after 5 ms.
func startFlowdWith(t *testing.T, opts server.Options, rc *receiver, files ...string) *flowd {
	t.Helper()
	var paths []string
	for _, f := range files {
		if !strings.Contains(f, "/") {
			f = filepath.Join("..", "flows", f)
		}
		paths = append(paths, f)
	}
	var flows []runtime.Flow
	loaded := project.Load(paths, project.Options{})
	opts.Info = server.FlowInfos(loaded)
	for _, f := range loaded {
		if f.Failed() {
			t.Fatalf("%s: %v", f.Path, f.Diags)
		}
		flows = append(flows, f.Runtime())
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:1" // nothing listens: a channel without a receiver
	if rc != nil {
		url = rc.srv.URL
	}
	opts.Store, opts.Flows = st, flows
	opts.Channels = []server.Channel{{ID: channelID, Name: "custom", URL: url, Token: token}, {ID: "other", Name: "sms", URL: url, Token: "other-token"}}
	opts.Backoff = func(int) time.Duration { return 5 * time.Millisecond }
	svc, err := server.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	f := &flowd{t: t, svc: svc, st: st, srv: httptest.NewServer(svc.Handler())}
	t.Cleanup(func() {
		svc.Server.StopStreams()
		f.srv.Close()
		svc.Close()
		st.Close()
	})
	return f
}

// post posts a body to path with the channel's token and returns the
// status and the answer.
func (f *flowd) post(path, tok string, body any) (int, map[string]any) {
	f.t.Helper()
	var b []byte
	switch body := body.(type) {
	case string:
		b = []byte(body)
	case []byte:
		b = body
	default:
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// message is a webhook body with one text message.
func message(contact, mid, text string) map[string]any {
	return map[string]any{"channelId": channelID, "contactId": contact, "events": []any{
		map[string]any{"type": "message", "mId": mid, "timestamp": 1767607200000, "message": map[string]any{"type": "text", "text": text}}}}
}

// say posts a message and wants it taken.
func (f *flowd) say(contact, mid, text string) {
	f.t.Helper()
	if code, out := f.post("/custom/channel/webhook/", token, message(contact, mid, text)); code != 200 {
		f.t.Fatalf("posting %q: %d %v", text, code, out)
	}
}

// contact reads the contact a channel's contact id names.
func (f *flowd) contact(external string) *store.Contact {
	f.t.Helper()
	tx, err := f.st.Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	id, _, err := tx.Identify(store.Address{ChannelID: channelID, Channel: "custom", ExternalID: external}, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := tx.Contact(id)
	if err != nil {
		f.t.Fatalf("contact %s (%s): %v", external, id, err)
	}
	return c
}

// activity is the contact's activity, as kind: text lines.
func (f *flowd) activity(contactID string) []string {
	f.t.Helper()
	tx, err := f.st.Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	acts, err := tx.Activity(contactID, 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		out = append(out, a.Kind+": "+a.Text)
	}
	return out
}

// activityOf is the activity of the contact a channel's contact id names,
// without creating one.
func (f *flowd) activityOf(external string) []string {
	f.t.Helper()
	tx, err := f.st.Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	id, created, err := tx.Identify(store.Address{ChannelID: channelID, Channel: "custom", ExternalID: external}, time.Now())
	if err != nil || created {
		return nil
	}
	acts, _ := tx.Activity(id, 0, 1000)
	var out []string
	for _, a := range acts {
		out = append(out, a.Kind+": "+a.Text)
	}
	return out
}

// waitContact waits until the contact a channel's contact id names
// satisfies ok, and returns it.
func (f *flowd) waitContact(external string, ok func(*store.Contact) bool) *store.Contact {
	f.t.Helper()
	return f.waitContactID(f.contact(external).ID, ok)
}

// waitReceipt waits until the receiver's id of a message is recorded.
func (f *flowd) waitReceipt(mid string) *store.Receipt {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tx, err := f.st.Begin(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		r, err := tx.Receipt(channelID, mid)
		tx.Rollback()
		if err == nil {
			return r
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no receipt %s: %v", mid, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const apiToken = "api-token-0123456789"

// call calls the admin API with its token and returns the status and the
// answer, decoded.
func (f *flowd) call(method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	return f.callWith(apiToken, method, path, body)
}

func (f *flowd) callWith(tok, method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		if s, ok := body.(string); ok {
			b = []byte(s)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// must calls the admin API and wants a 200.
func (f *flowd) must(method, path string, body any) map[string]any {
	f.t.Helper()
	code, out := f.call(method, path, body)
	if code != 200 {
		f.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

// after is the contact's activity after the line, which it must have: a
// reply to a message is committed with it, so what is not there never will be.
func (f *flowd) after(contactID, line string) []string {
	f.t.Helper()
	acts := f.activity(contactID)
	i := slices.Index(acts, line)
	if i < 0 {
		f.t.Fatalf("no %q in %q", line, acts)
	}
	return acts[i+1:]
}

// visitorContact is the contact a web chat visitor's token names.
func (f *flowd) visitorContact(token string) string {
	f.t.Helper()
	sum := sha256.Sum256([]byte(token))
	tx, err := f.st.Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	id, err := tx.Identity("webchat", "v"+hex.EncodeToString(sum[:20]))
	if err != nil {
		f.t.Fatalf("visitor %q: %v", token, err)
	}
	return id
}

// waitContactID waits until the contact with the id satisfies ok.
func (f *flowd) waitContactID(id string, ok func(*store.Contact) bool) *store.Contact {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tx, err := f.st.Begin(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		c, err := tx.Contact(id)
		tx.Rollback()
		if err == nil && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("contact %s: %+v, %v; activity:\n%s", id, c, err, strings.Join(f.activity(id), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
