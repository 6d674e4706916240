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

	"github.com/flowd/flowd/internal/pgtest"
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
	src, err := os.ReadFile("../../flows/request_consent_privacy.flow")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "flowd.db")
	run := crashLoad{flow: src, db: db, procs: 1, contacts: 200, workers: 16, contact: "+6010%07d"}
	rc, n := run.drive(t)

	// every inbound message that got a 2xx was processed exactly once
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	processed, _, depth := checkCrashStore(t, st, run.contacts, run.contact)
	// every outbound message reached the receiver, always the same
	received, redelivered := rc.check(t, run.contacts)
	fmt.Printf("crash test: %d contacts, %d kills; inbound: %d answered 2xx, %d tries refused or cut off and sent again, %d processed (each once); outbound: %d messages, %d deliveries (%d again after a crash, each with its messageId and content); %d outbox items left\n",
		run.contacts, n.kills, n.accepted, n.retried, processed, received, received+redelivered, redelivered, depth)
}

// A crashLoad is the crash tests' load: contacts driven through a consent
// flow by workers, over the Custom Channel, against procs flowd serve
// processes on one store, one of them killed with SIGKILL and restarted at
// a third of the answers and another at two thirds. A contact's first
// message goes to process i%procs, its answer to the next one, and a post
// a process does not take goes to the next: a load balancer's failover.
type crashLoad struct {
	flow              []byte
	db                string // a file, or a PostgreSQL URL
	procs             int
	contacts, workers int
	contact           string   // the contacts' ids, a format of their number
	env               []string // more of flowd serve's environment
}

// crashCounts are what a crash load did.
type crashCounts struct {
	accepted, retried, kills int64
	took                     time.Duration
}

// drive runs the load until every contact was thanked, stops the processes
// with SIGTERM, and returns the receiver and the counts.
func (l crashLoad) drive(t *testing.T) (*crashReceiver, crashCounts) {
	dir := t.TempDir()
	bin := buildFlowd(t, dir)
	flows := filepath.Join(dir, "flows")
	os.Mkdir(flows, 0o755)
	os.WriteFile(filepath.Join(flows, "consent.flow"), l.flow, 0o644)
	rc := newCrashReceiver()
	t.Cleanup(rc.srv.Close)
	var logs strings.Builder
	var logMu sync.Mutex
	logged := func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() }
	addrs := make([]string, l.procs)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	start := func(i int) *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--flows", flows, "--addr", addrs[i], "--db", l.db)
		cmd.Env = append(append(os.Environ(), "FLOWD_CHANNEL_URL="+rc.srv.URL, "FLOWD_CHANNEL_TOKEN=crash-token", "FLOWD_CHANNEL_ID=crash"), l.env...)
		w := &lockedWriter{w: &logs, mu: &logMu}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitServing("http://"+addrs[i], 20*time.Second); err != nil {
			t.Fatalf("%v:\n%s", err, logged())
		}
		return cmd
	}
	var procMu sync.Mutex
	procs := make([]*exec.Cmd, l.procs)
	for i := range procs {
		procs[i] = start(i)
	}

	var n crashCounts
	var accepted, retried, answered, killed atomic.Int64
	post := func(i int, contact, mid, text string) {
		body := fmt.Sprintf(`{"channelId":"crash","contactId":%q,"events":[{"type":"message","mId":%q,"timestamp":%d,"message":{"type":"text","text":%q}}]}`,
			contact, mid, time.Now().UnixMilli(), text)
		for try := 0; ; try++ {
			req, _ := http.NewRequest("POST", "http://"+addrs[(i+try)%l.procs]+"/custom/channel/webhook/", strings.NewReader(body))
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
			retried.Add(1) // down, or stopping: the same mId again
			time.Sleep(20 * time.Millisecond)
		}
	}
	kills := []int64{int64(l.contacts) / 3, 2 * int64(l.contacts) / 3}
	killer := func() {
		procMu.Lock()
		defer procMu.Unlock()
		k := killed.Load()
		if int(k) >= len(kills) || answered.Load() < kills[k] {
			return
		}
		killed.Add(1)
		victim := int(k) % l.procs
		procs[victim].Process.Signal(syscall.SIGKILL)
		procs[victim].Wait()
		procs[victim] = start(victim)
	}

	began := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := fmt.Sprintf(l.contact, i)
				post(i%l.procs, c, fmt.Sprintf("c%d-1", i), "Hello")
				if !rc.wait(c, "Do you accept", 60*time.Second) {
					t.Errorf("%s: no question", c)
					continue
				}
				post((i+1)%l.procs, c, fmt.Sprintf("c%d-2", i), "ACCEPT AND CONTINUE")
				answered.Add(1)
				killer()
			}
		}()
	}
	for i := range l.contacts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for i := range l.contacts {
		if c := fmt.Sprintf(l.contact, i); !rc.wait(c, "Thank you!", 60*time.Second) {
			t.Errorf("%s: not thanked", c)
		}
	}
	n.took = time.Since(began)
	procMu.Lock()
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Errorf("flowd serve stopped with %v", err)
		}
	}
	procMu.Unlock()
	n.accepted, n.retried, n.kills = accepted.Load(), retried.Load(), killed.Load()
	if n.kills != int64(len(kills)) {
		t.Errorf("killed %d times, want %d", n.kills, len(kills))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("flowd's logs:\n%s", logged())
		}
	})
	return rc, n
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
	// on PostgreSQL, each measure in a schema of its own, then pgbench -N
	url := pgtest.Database(t)
	out, err = exec.Command(bin, "bench", "-c", "4", "-t", "300ms", "--db", url, "--flow", "../../flows/request_consent_privacy.flow").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"http:   C=4 ", "engine: C=4 ", "the Writer on PostgreSQL", "pgbench -N: C=4 ", "flowd / pgbench -N: engine ", ", http "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("on PostgreSQL, no %q in:\n%s", want, out)
		}
	}
}
