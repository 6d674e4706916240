package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines collects what a command writes, line by line, for a test to wait on.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan string
}

func newLines() *lines { return &lines{seen: make(chan string, 1000)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		l.seen <- sc.Text()
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine waits for a line matching re and returns its submatches.
func (l *lines) waitLine(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-l.seen:
			if m := rx.FindStringSubmatch(s); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line matching %q in:\n%s", re, l.String())
		}
	}
}

// flowd serve on the bundled flows, with the quick-start variables naming
// a fake integration server: the Done-when conversation of issue 19. A new
// contact's first message makes flowd post the privacy question with its
// button to <url>/message; the answer tags the contact. SIGTERM (here, the
// context) stops it with exit code 0.
func TestServeBundledFlows(t *testing.T) {
	got := make(chan map[string]any, 100)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		if r.URL.Path != "/message" || r.Header.Get("Authorization") != "Bearer s3cret-token" {
			t.Errorf("receiver: %s %s %v", r.Method, r.URL.Path, r.Header)
		}
		got <- m
		io.WriteString(w, `{"mId": "p1"}`)
	}))
	defer rc.Close()
	env := map[string]string{"FLOWD_CHANNEL_URL": rc.URL, "FLOWD_CHANNEL_TOKEN": "s3cret-token", "FLOWD_CHANNEL_ID": "abc"}
	ctx, stop := context.WithCancel(context.Background())
	stdout, stderr := newLines(), newLines()
	code := make(chan int, 1)
	go func() {
		code <- serve(ctx, []string{"--flows", filepath.Join("..", "..", "flows"), "--addr", "127.0.0.1:0",
			"--db", filepath.Join(t.TempDir(), "flowd.db")}, func(k string) string { return env[k] }, stdout, stderr)
	}()
	base := stdout.waitLine(t, `listening on (http://\S+)`)[1]
	stdout.waitLine(t, `channel "abc" \(custom\): webhook`)
	post := func(mid, text string) {
		t.Helper()
		body := `{"channelId":"abc","contactId":"+60123456789","events":[{"type":"message","mId":"` + mid +
			`","timestamp":1767607200000,"message":{"type":"text","text":"` + text + `"}}],"contact":{"firstName":"Ana"}}`
		req, _ := http.NewRequest("POST", base+"/custom/channel/webhook/", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("posting %q: %d", text, resp.StatusCode)
		}
	}
	next := func() map[string]any {
		t.Helper()
		select {
		case m := <-got:
			return m["message"].(map[string]any)
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing reached the receiver; stderr:\n%s", stderr.String())
		}
		return nil
	}
	post("m1", "Hello")
	if m := next(); !strings.HasPrefix(m["text"].(string), "Hi Ana! Before we continue") {
		t.Errorf("first message: %v", m)
	}
	if m := next(); m["type"] != "quick_reply" || m["replies"].([]any)[0] != "ACCEPT AND CONTINUE" {
		t.Errorf("the question: %v", m)
	}
	post("m2", "ACCEPT AND CONTINUE")
	if m := next(); !strings.HasPrefix(m["text"].(string), "Thank you!") {
		t.Errorf("after accepting: %v", m)
	}
	stop()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("flowd serve did not stop")
	}
	if strings.Contains(stderr.String()+stdout.String(), "s3cret-token") {
		t.Error("the channel token was printed")
	}
}
