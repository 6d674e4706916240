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
	st  store.Store
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
	st := testStore(t)
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

// post posts a body to path with a channel's token and returns the
// status and the answer.
func (f *flowd) post(path, tok string, body any) (int, map[string]any) {
	f.t.Helper()
	return f.callWith(tok, http.MethodPost, path, body)
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

// read runs fn in a transaction of the service's store that reads only.
func (f *flowd) read(fn func(tx store.Tx)) {
	f.t.Helper()
	tx, err := f.st.Begin(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	fn(tx)
}

// eventually waits until ok holds, or fails the test with what says why.
func (f *flowd) eventually(ok func() bool, why func() string) {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatal(why())
		}
	}
}

// contactID is the id of the contact a channel's contact id names, or "".
func (f *flowd) contactID(external string) string {
	var id string
	f.read(func(tx store.Tx) { id, _ = tx.Identity(channelID, external) })
	return id
}

// contact reads the contact a channel's contact id names.
func (f *flowd) contact(external string) *store.Contact {
	f.t.Helper()
	id := f.contactID(external)
	var c *store.Contact
	var err error
	f.read(func(tx store.Tx) { c, err = tx.Contact(id) })
	if err != nil {
		f.t.Fatalf("contact %s: %v", external, err)
	}
	return c
}

// activity is the contact's activity, as kind: text lines.
func (f *flowd) activity(contactID string) []string {
	f.t.Helper()
	var out []string
	f.read(func(tx store.Tx) {
		acts, err := tx.Activity(contactID, 0, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, a := range acts {
			out = append(out, a.Kind+": "+a.Text)
		}
	})
	return out
}

// activityOf is the activity of the contact a channel's contact id names,
// without creating one.
func (f *flowd) activityOf(external string) []string {
	f.t.Helper()
	if id := f.contactID(external); id != "" {
		return f.activity(id)
	}
	return nil
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
	var r *store.Receipt
	var err error
	f.eventually(func() bool {
		f.read(func(tx store.Tx) { r, err = tx.Receipt(channelID, mid) })
		return err == nil
	}, func() string { return fmt.Sprintf("no receipt %s: %v", mid, err) })
	return r
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
	switch body := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(body)
	default:
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
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

// visitorContact is the contact a web chat visitor's token names: the
// store keeps the token's hash (see server/webchat.go).
func (f *flowd) visitorContact(token string) string {
	f.t.Helper()
	sum := sha256.Sum256([]byte(token))
	var id string
	var err error
	f.read(func(tx store.Tx) { id, err = tx.Identity("webchat", "v"+hex.EncodeToString(sum[:20])) })
	if err != nil {
		f.t.Fatalf("visitor %q: %v", token, err)
	}
	return id
}

// waitContactID waits until the contact with the id satisfies ok.
func (f *flowd) waitContactID(id string, ok func(*store.Contact) bool) *store.Contact {
	f.t.Helper()
	var c *store.Contact
	var err error
	f.eventually(func() bool {
		f.read(func(tx store.Tx) { c, err = tx.Contact(id) })
		return err == nil && ok(c)
	}, func() string {
		return fmt.Sprintf("contact %s: %+v, %v; activity:\n%s", id, c, err, strings.Join(f.activity(id), "\n"))
	})
	return c
}
