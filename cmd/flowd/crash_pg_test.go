package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/runtime/store/postgres"
)

// crashFlow asks for consent, then waits a second (a timer) before it
// thanks the contact.
const crashFlow = `flow "Crash consent"
trigger conversation opened by contact

send "Hi! Please read our privacy policy."
consent: ask choice "Do you accept?" choices "ACCEPT AND CONTINUE" timeout 5m
pause: wait 1s
send "Thank you!"
tag add "Consent: Privacy"
`

// The crash test on PostgreSQL: two flowd serve OS processes on one
// database share 1,000 contacts' conversations, each contact's two
// messages going to different processes, a client failing over to the
// other process when one is down. One process is killed with SIGKILL
// mid-load and restarted, then the other. At the end every inbound message
// that got a 2xx was processed exactly once, every timer fired once, every
// outbound message reached the receiver at least once with one id and one
// content, each contact's messages in order, and no run is stuck. It
// prints the counts.
func TestCrashTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds flowd and runs it: not in -short")
	}
	url := pgtest.Database(t)
	const contacts, workers = 1000, 32
	dir := t.TempDir()
	bin := buildFlowd(t, dir)
	flows := filepath.Join(dir, "flows")
	os.Mkdir(flows, 0o755)
	os.WriteFile(filepath.Join(flows, "consent.flow"), []byte(crashFlow), 0o644)

	rc := newCrashReceiver()
	defer rc.srv.Close()
	var logs strings.Builder
	var logMu sync.Mutex
	addrs := []string{freeAddr(t), freeAddr(t)}
	start := func(i int) *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--flows", flows, "--addr", addrs[i], "--db", url)
		cmd.Env = append(os.Environ(), "FLOWD_CHANNEL_URL="+rc.srv.URL, "FLOWD_CHANNEL_TOKEN=crash-token", "FLOWD_CHANNEL_ID=crash",
			"FLOWD_TIMER_LEASE=2s", "FLOWD_DELIVERY_LEASE=2s")
		w := &lockedWriter{w: &logs, mu: &logMu}
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "http://"+addrs[i], func() string { logMu.Lock(); defer logMu.Unlock(); return logs.String() })
		return cmd
	}
	var procMu sync.Mutex
	procs := []*exec.Cmd{start(0), start(1)}

	var accepted, retried, answered atomic.Int64
	// post sends to process i, and to the other while i does not answer:
	// a load balancer's failover
	post := func(i int, contact, mid, text string) {
		body := fmt.Sprintf(`{"channelId":"crash","contactId":%q,"events":[{"type":"message","mId":%q,"timestamp":%d,"message":{"type":"text","text":%q}}]}`,
			contact, mid, time.Now().UnixMilli(), text)
		for try := 0; ; try++ {
			req, _ := http.NewRequest("POST", "http://"+addrs[(i+try)%2]+"/custom/channel/webhook/", strings.NewReader(body))
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
		victim := int(n) % 2
		procs[victim].Process.Signal(syscall.SIGKILL)
		procs[victim].Wait()
		procs[victim] = start(victim)
	}

	began := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := fmt.Sprintf("+6011%07d", i)
				post(i%2, c, fmt.Sprintf("c%d-1", i), "Hello")
				if !rc.wait(c, "Do you accept", 60*time.Second) {
					t.Errorf("%s: no question", c)
					continue
				}
				post((i+1)%2, c, fmt.Sprintf("c%d-2", i), "ACCEPT AND CONTINUE")
				answered.Add(1)
				killer()
			}
		}()
	}
	for i := range contacts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for i := range contacts {
		if c := fmt.Sprintf("+6011%07d", i); !rc.wait(c, "Thank you!", 60*time.Second) {
			t.Errorf("%s: no thanks: its timer never fired", c)
		}
	}
	took := time.Since(began)
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
	if killed.Load() != int64(len(kills)) {
		t.Errorf("killed %d times, want %d", killed.Load(), len(kills))
	}

	st, err := postgres.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	processed, fired, depth := checkCrashStore(t, st, contacts, "+6011%07d")
	received, redelivered := rc.check(t, contacts)
	rc.inOrder(t, "Hi! Please", "Do you accept", "Thank you!")
	if t.Failed() {
		logMu.Lock()
		t.Logf("flowd's logs:\n%s", logs.String())
		logMu.Unlock()
	}
	fmt.Printf("crash test (PostgreSQL, 2 processes): %d contacts in %v, %d kills; inbound: %d answered 2xx, %d tries refused or cut off and sent again, %d processed (each once); timers: %d fired (each once); outbound: %d messages, %d deliveries (%d again after a crash, each with its messageId and content), each contact's in order; %d outbox items left\n",
		contacts, took.Round(time.Millisecond), killed.Load(), accepted.Load(), retried.Load(), processed, fired, received, received+redelivered, redelivered, depth)
}

// waitReady waits until a flowd serve at base answers /readyz.
func waitReady(t *testing.T, base string, logs func() string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("flowd did not start:\n%s", logs())
		}
	}
}

// inOrder wants each contact's texts, by their first arrival, in the order
// of the prefixes.
func (rc *crashReceiver) inOrder(t *testing.T, prefixes ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for c, texts := range rc.texts {
		next := 0
		for _, s := range texts {
			for i, p := range prefixes {
				if strings.HasPrefix(s, p) && i > next {
					t.Errorf("%s got %q before %q: %q", c, p, prefixes[next], texts)
					return
				} else if strings.HasPrefix(s, p) && i == next {
					next++
				}
			}
		}
	}
}

// checkCrashStore checks, in the store after a crash test, that each contact
// (named by format and its number) had each of its two messages processed
// once, its "Thank you!" sent once (after a timer, in the PostgreSQL test),
// its consent tagged, and no run waiting; and that no timer nor outbox item
// is left. It returns the messages processed, the thanks sent, and the
// outbox items left.
func checkCrashStore(t *testing.T, st store.Store, contacts int, format string) (processed, thanked, depth int) {
	tx, err := st.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range contacts {
		c := fmt.Sprintf(format, i)
		id, err := tx.Identity("crash", c)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		acts, _ := tx.Activity(id, 0, 1000)
		ins, thanks := map[string]int{}, 0
		for _, a := range acts {
			switch {
			case a.Kind == "message_in":
				ins[a.Text]++
				processed++
			case a.Kind == "message_out" && strings.HasPrefix(a.Text, "Thank you!"):
				thanks++
			}
		}
		thanked += thanks
		if ins["Hello"] != 1 || ins["ACCEPT AND CONTINUE"] != 1 || len(ins) != 2 {
			t.Errorf("%s: messages processed %v, want each once", c, ins)
		}
		if thanks != 1 {
			t.Errorf("%s: thanked %d times, want once", c, thanks)
		}
		contact, err := tx.Contact(id)
		if err != nil || !strings.Contains(strings.Join(contact.Tags, ","), "Consent: Privacy") {
			t.Errorf("%s: not tagged: %+v %v", c, contact, err)
		}
		runs, _ := tx.Runs(id, 0, 100)
		for _, r := range runs {
			if r.Status == store.RunWaiting {
				t.Errorf("%s: run %d still waiting for %s", c, r.ID, r.Wait)
			}
		}
	}
	if due, _ := tx.DueTimers(time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("timers left: %+v", due)
	}
	if depth, _ = tx.OutboxDepth(); depth != 0 {
		t.Errorf("%d outbox items left undone", depth)
	}
	return processed, thanked, depth
}
