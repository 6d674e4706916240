package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/sandbox"
)

var now = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// lookup calls an API, saves a field of the answer and says what it got.
const lookup = `flow "Lookup"
trigger manual
http GET "https://crm.example.com/customers/1" {
  map "$.type" to CustomerType
  on failure {
    send "lookup failed"
    stop
  }
}
send "type ${CustomerType}"
`

func compile(t *testing.T, src string) *interpreter.Program {
	t.Helper()
	p, ds, err := interpreter.CompileSource("test.flow", []byte(src))
	if err != nil {
		t.Fatalf("compile: %v %v", err, ds)
	}
	return p
}

func wantLines(t *testing.T, w *sandbox.World, want ...string) {
	t.Helper()
	got := w.Transcript()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHoldHTTP(t *testing.T) {
	w := sandbox.New(now)
	w.HoldHTTP = true
	r := w.Start(compile(t, lookup), nil)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1") // the request, held: no answer yet
	if r.Status != interpreter.Waiting || r.Wait != interpreter.WaitHTTP {
		t.Fatalf("run is %v waiting for %v, want waiting for http", r.Status, r.Wait)
	}
	held := w.HeldHTTP()
	if len(held) != 1 || held[0].Run != r || held[0].Request.URL != "https://crm.example.com/customers/1" {
		t.Fatalf("held = %+v", held)
	}
	if !w.AnswerHTTP(held[0], interpreter.HTTPResponse{Status: 200, Body: []byte(`{"type": "VIP"}`)}) {
		t.Fatal("AnswerHTTP: the request is not held")
	}
	wantLines(t, w, "* http -> 200", "bot: type VIP", "* end")
	if len(w.HeldHTTP()) != 0 {
		t.Error("the request is still held after its answer")
	}
	if w.AnswerHTTP(held[0], interpreter.HTTPResponse{Status: 200}) {
		t.Error("AnswerHTTP answered a request twice")
	}
	if len(w.Exchanges) != 1 || w.Exchanges[0].Stub != nil || w.Exchanges[0].Response.Status != 200 {
		t.Errorf("exchanges = %+v", w.Exchanges)
	}
}

func TestHoldHTTPErrorAnswer(t *testing.T) {
	w := sandbox.New(now)
	w.HoldHTTP = true
	w.Start(compile(t, lookup), nil)
	w.AnswerHTTP(w.HeldHTTP()[0], interpreter.HTTPResponse{Err: "connection refused"})
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> error: connection refused", "bot: lookup failed", "* end")
}

func TestStubsComeBeforeHolding(t *testing.T) {
	w := sandbox.New(now)
	w.HoldHTTP = true
	stub := &sandbox.Stub{Method: "GET", URL: "https://crm.example.com/*", Status: 200, Body: `{"type": "new"}`}
	w.Stubs = append(w.Stubs, stub)
	w.Start(compile(t, lookup), nil)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> 200", "bot: type new", "* end")
	if len(w.HeldHTTP()) != 0 || len(w.Exchanges) != 1 || w.Exchanges[0].Stub != stub {
		t.Errorf("held %d, exchanges %+v", len(w.HeldHTTP()), w.Exchanges)
	}
}

func TestUnmatchedHTTPFailsWithoutHold(t *testing.T) {
	w := sandbox.New(now)
	w.Start(compile(t, lookup), nil)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> error: no stub for GET https://crm.example.com/customers/1", "bot: lookup failed", "* end")
}

func TestLiveHTTPComesBeforeHolding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Write([]byte(`{"type": "live"}`))
	}))
	defer srv.Close()
	src := strings.Replace(lookup, "https://crm.example.com/customers/1", srv.URL+"/customers/1", 1)
	w := sandbox.New(now)
	w.HoldHTTP = true
	w.LiveHTTP = &runtime.HTTPClient{Transport: srv.Client().Transport}
	w.Start(compile(t, src), nil)
	wantLines(t, w, "* http GET "+srv.URL+"/customers/1", "* http -> 200", "bot: type live", "* end")
	if len(w.Exchanges) != 1 || string(w.Exchanges[0].Response.Body) != `{"type": "live"}` {
		t.Errorf("exchanges = %+v", w.Exchanges)
	}
}

func TestStop(t *testing.T) {
	w := sandbox.New(now)
	src := "flow \"Ask\"\ntrigger manual\nask text \"name?\" timeout 5m {\n  on timeout {\n    send \"too late\"\n  }\n}\n"
	r := w.Start(compile(t, src), nil)
	wantLines(t, w, "bot: name?")
	w.Stop(r)
	wantLines(t, w, `* stopped "Ask"`)
	if r.Status != interpreter.Done || r.Cont != nil {
		t.Errorf("run is %v after Stop", r.Status)
	}
	if _, ok := w.NextTimer(); ok {
		t.Error("the ask's timer survived Stop")
	}
	w.Advance(10 * time.Minute)
	w.Stop(r) // a run that ended is left alone
	wantLines(t, w)
}

func TestStopDropsHeldRequest(t *testing.T) {
	w := sandbox.New(now)
	w.HoldHTTP = true
	r := w.Start(compile(t, lookup), nil)
	held := w.HeldHTTP()
	w.Stop(r)
	if len(w.HeldHTTP()) != 0 || w.AnswerHTTP(held[0], interpreter.HTTPResponse{Status: 200}) {
		t.Error("a stopped run's request is still held")
	}
}
