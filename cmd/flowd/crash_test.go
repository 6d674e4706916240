package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowd/flowd/runtime/store/sqlite"
)

// The crash test: flowd serve as an OS process, 200 contacts driven through
// the consent flow over the Custom Channel, killed with SIGKILL twice
// mid-load and restarted on the same store. Every inbound message that got
// a 2xx was processed exactly once; every outbound message reached the
// receiver at least once, always with the same messageId and content; no
// run is stuck. It prints the counts.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds flowd and runs it: not in -short")
	}
	const contacts, workers = 200, 16
	dir := t.TempDir()
	bin := buildFlowd(t, dir)
	flows := filepath.Join(dir, "flows")
	os.Mkdir(flows, 0o755)
	src, err := os.ReadFile("../../flows/request_consent_privacy.flow")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(flows, "consent.flow"), src, 0o644)
	db := filepath.Join(dir, "flowd.db")

	rc := newCrashReceiver()
	defer rc.srv.Close()
	addr := freeAddr(t)
	base := "http://" + addr
	var logs strings.Builder
	var logMu sync.Mutex
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--flows", flows, "--addr", addr, "--db", db)
		cmd.Env = append(os.Environ(), "FLOWD_CHANNEL_URL="+rc.srv.URL, "FLOWD_CHANNEL_TOKEN=crash-token", "FLOWD_CHANNEL_ID=crash")
		w := &lockedWriter{w: &logs, mu: &logMu}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, base, func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() })
		return cmd
	}
	var procMu sync.Mutex
	proc := start()

	var accepted, retried, answered atomic.Int64
	post := func(contact, mid, text string) {
		body := fmt.Sprintf(`{"channelId":"crash","contactId":%q,"events":[{"type":"message","mId":%q,"timestamp":%d,"message":{"type":"text","text":%q}}]}`,
			contact, mid, time.Now().UnixMilli(), text)
		for {
			req, _ := http.NewRequest("POST", base+"/custom/channel/webhook/", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer crash-token")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					accepted.Add(1)
					return
				}
			}
			retried.Add(1) // the process is down, or stopping: the same mId again
			time.Sleep(50 * time.Millisecond)
		}
	}
	kills := []int64{contacts / 3, 2 * contacts / 3}
	var killed atomic.Int64
	killer := func() {
		procMu.Lock()
		defer procMu.Unlock()
		n := killed.Load()
		if int(n) >= len(kills) || answered.Load() < kills[n] {
			return
		}
		killed.Add(1)
		proc.Process.Signal(syscall.SIGKILL)
		proc.Wait()
		proc = start()
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := fmt.Sprintf("+6010%07d", i)
				post(c, fmt.Sprintf("c%d-1", i), "Hello")
				if !rc.wait(c, "Do you accept", 60*time.Second) {
					t.Errorf("%s: no question", c)
					continue
				}
				post(c, fmt.Sprintf("c%d-2", i), "ACCEPT AND CONTINUE")
				answered.Add(1)
				killer()
				if !rc.wait(c, "Thank you!", 60*time.Second) {
					t.Errorf("%s: no confirmation", c)
				}
			}
		}()
	}
	for i := 0; i < contacts; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	procMu.Lock()
	proc.Process.Signal(syscall.SIGTERM)
	err = proc.Wait()
	procMu.Unlock()
	if err != nil {
		t.Errorf("flowd serve stopped with %v:\n%s", err, logs.String())
	}
	if killed.Load() != int64(len(kills)) {
		t.Errorf("killed %d times, want %d", killed.Load(), len(kills))
	}

	// every inbound message that got a 2xx was processed exactly once
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	processed, _, depth := checkCrashStore(t, st, contacts, "+6010%07d")
	// every outbound message reached the receiver, always the same
	received, redelivered := rc.check(t, contacts)
	fmt.Printf("crash test: %d contacts, %d kills; inbound: %d answered 2xx, %d tries refused or cut off and sent again, %d processed (each once); outbound: %d messages, %d deliveries (%d again after a crash, each with its messageId and content); %d outbox items left\n",
		contacts, killed.Load(), accepted.Load(), retried.Load(), processed, received, received+redelivered, redelivered, depth)
}

// crashReceiver is the integration server: it keeps every /message call.
type crashReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	byID   map[string][]string // messageId: the contents it came with
	texts  map[string][]string // contact: texts, in the order they came
	notify chan struct{}
}

func newCrashReceiver() *crashReceiver {
	rc := &crashReceiver{byID: map[string][]string{}, texts: map[string][]string{}, notify: make(chan struct{})}
	var n atomic.Int64
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ContactID, MessageID string
			Message              json.RawMessage
		}
		json.NewDecoder(r.Body).Decode(&m)
		var msg struct{ Text, Title string }
		json.Unmarshal(m.Message, &msg)
		rc.mu.Lock()
		rc.byID[m.MessageID] = append(rc.byID[m.MessageID], m.ContactID+"|"+string(m.Message))
		rc.texts[m.ContactID] = append(rc.texts[m.ContactID], msg.Text+msg.Title)
		close(rc.notify)
		rc.notify = make(chan struct{})
		rc.mu.Unlock()
		fmt.Fprintf(w, `{"mId": "p%d"}`, n.Add(1))
	}))
	return rc
}

// wait waits until the contact received a text starting with prefix.
func (rc *crashReceiver) wait(contact, prefix string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		rc.mu.Lock()
		for _, s := range rc.texts[contact] {
			if strings.HasPrefix(s, prefix) {
				rc.mu.Unlock()
				return true
			}
		}
		ch := rc.notify
		rc.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// check wants each messageId always with one content, and each contact's
// three messages; it returns the messages and the deliveries beyond one.
func (rc *crashReceiver) check(t *testing.T, contacts int) (messages, again int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id, got := range rc.byID {
		for _, g := range got[1:] {
			if g != got[0] {
				t.Errorf("messageId %s came with two contents: %q and %q", id, got[0], g)
			}
		}
		again += len(got) - 1
	}
	if len(rc.texts) != contacts {
		t.Errorf("%d contacts got messages, want %d", len(rc.texts), contacts)
	}
	for c, texts := range rc.texts {
		seen := map[string]bool{}
		for _, s := range texts {
			seen[s[:min(len(s), 12)]] = true
		}
		if len(seen) != 3 {
			t.Errorf("%s got %q, want the three messages of the consent flow", c, texts)
		}
	}
	return len(rc.byID), again
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// buildFlowd builds the flowd command into dir.
func buildFlowd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "flowd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// flowd bench runs: over HTTP against a flowd serve it starts, and the
// engine alone, each printing its figures. (The figures themselves are for
// the closing notes, not for a test.)
func TestBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowd and runs it: not in -short")
	}
	bin := buildFlowd(t, t.TempDir())
	out, err := exec.Command(bin, "bench", "-c", "4", "-t", "300ms", "--flow", "../../flows/request_consent_privacy.flow").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"http:   C=4 ", "turns/s  latency p50 ", "engine: C=4 "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
