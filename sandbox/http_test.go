package sandbox_test

import (
	"fmt"
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

// newWorld returns a world running the flows of srcs, and the first flow.
func newWorld(t *testing.T, srcs ...string) (*sandbox.World, *interpreter.Program) {
	t.Helper()
	var flows []runtime.Flow
	for i, src := range srcs {
		p, ds, err := interpreter.CompileSource(fmt.Sprintf("f%d.flow", i), []byte(src))
		if err != nil {
			t.Fatalf("compile: %v %v", err, ds)
		}
		flows = append(flows, runtime.Flow{Program: p, Source: []byte(src)})
	}
	w, err := sandbox.New(now, flows[0].Program, flows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, flows[0].Program
}

// start starts p on w, which must not fail.
func start(t *testing.T, w *sandbox.World, p *interpreter.Program) {
	t.Helper()
	if err := w.StartFlow(p, nil); err != nil {
		t.Fatal(err)
	}
}

// mainRun is the state of w's main run.
func mainRun(t *testing.T, w *sandbox.World) sandbox.RunState {
	t.Helper()
	r, ok := w.MainRun()
	if !ok {
		t.Fatal("no main run")
	}
	return r
}

// held is w's held requests, which must be readable.
func held(t *testing.T, w *sandbox.World) []*sandbox.HeldRequest {
	t.Helper()
	h, err := w.HeldHTTP()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func wantLines(t *testing.T, w *sandbox.World, want ...string) {
	t.Helper()
	got := w.Transcript()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHoldHTTP(t *testing.T) {
	w, p := newWorld(t, lookup)
	w.SetHoldHTTP(true)
	start(t, w, p)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1") // the request, held: no answer yet
	if r := mainRun(t, w); r.Status != "waiting" || r.Wait != "http" {
		t.Fatalf("run is %s waiting for %s, want waiting for http", r.Status, r.Wait)
	}
	h := held(t, w)
	if len(h) != 1 || h[0].Request.URL != "https://crm.example.com/customers/1" {
		t.Fatalf("held = %+v", h)
	}
	if err := w.AnswerHTTP(h[0], interpreter.HTTPResponse{Status: 200, Body: []byte(`{"type": "VIP"}`)}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, w, "* http -> 200", "bot: type VIP", "* end")
	if len(held(t, w)) != 0 {
		t.Error("the request is still held after its answer")
	}
	if w.AnswerHTTP(h[0], interpreter.HTTPResponse{Status: 200}) == nil {
		t.Error("AnswerHTTP answered a request twice")
	}
	if x := w.Exchanges(); len(x) != 1 || x[0].Stub != nil || x[0].Response.Status != 200 {
		t.Errorf("exchanges = %+v", x)
	}
}

func TestHoldHTTPErrorAnswer(t *testing.T) {
	w, p := newWorld(t, lookup)
	w.SetHoldHTTP(true)
	start(t, w, p)
	if err := w.AnswerHTTP(held(t, w)[0], interpreter.HTTPResponse{Err: "connection refused"}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> error: connection refused", "bot: lookup failed", "* end")
}

func TestStubsComeBeforeHolding(t *testing.T) {
	w, p := newWorld(t, lookup)
	w.SetHoldHTTP(true)
	stub := &sandbox.Stub{Method: "GET", URL: "https://crm.example.com/*", Status: 200, Body: `{"type": "new"}`}
	w.AddStub(stub)
	start(t, w, p)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> 200", "bot: type new", "* end")
	if x := w.Exchanges(); len(held(t, w)) != 0 || len(x) != 1 || x[0].Stub != stub {
		t.Errorf("held %d, exchanges %+v", len(held(t, w)), x)
	}
}

func TestUnmatchedHTTPFailsWithoutHold(t *testing.T) {
	w, p := newWorld(t, lookup)
	start(t, w, p)
	wantLines(t, w, "* http GET https://crm.example.com/customers/1", "* http -> error: no stub for GET https://crm.example.com/customers/1", "bot: lookup failed", "* end")
}

func TestLiveHTTPComesBeforeHolding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Write([]byte(`{"type": "live"}`))
	}))
	defer srv.Close()
	w, p := newWorld(t, strings.Replace(lookup, "https://crm.example.com/customers/1", srv.URL+"/customers/1", 1))
	w.SetHoldHTTP(true)
	w.SetLiveHTTP(&runtime.HTTPClient{Transport: srv.Client().Transport})
	start(t, w, p)
	wantLines(t, w, "* http GET "+srv.URL+"/customers/1", "* http -> 200", "bot: type live", "* end")
	if x := w.Exchanges(); len(x) != 1 || string(x[0].Response.Body) != `{"type": "live"}` {
		t.Errorf("exchanges = %+v", x)
	}
}

func TestStop(t *testing.T) {
	w, p := newWorld(t, "flow \"Ask\"\ntrigger manual\nask text \"name?\" timeout 5m {\n  on timeout {\n    send \"too late\"\n  }\n}\n")
	start(t, w, p)
	wantLines(t, w, "bot: name?")
	if err := w.StopAll(); err != nil {
		t.Fatal(err)
	}
	wantLines(t, w, `* stopped "Ask"`)
	if r := mainRun(t, w); r.Status != "stopped" {
		t.Errorf("run is %s after StopAll", r.Status)
	}
	if _, ok, _ := w.NextTimer(); ok {
		t.Error("the ask's timer survived the stop")
	}
	w.Advance(10 * time.Minute)
	w.StopAll() // a run that ended is left alone
	wantLines(t, w)
}

func TestStopDropsHeldRequest(t *testing.T) {
	w, p := newWorld(t, lookup)
	w.SetHoldHTTP(true)
	start(t, w, p)
	h := held(t, w)
	w.StopAll()
	if len(held(t, w)) != 0 || w.AnswerHTTP(h[0], interpreter.HTTPResponse{Status: 200}) == nil {
		t.Error("a stopped run's request is still held")
	}
}
