package sandbox

import (
	"context"
	"slices"
	"strings"

	"github.com/flowd/flowd/interpreter"
)

// A Stub answers the http steps whose request matches: its method, URL,
// headers and body. URL, the header values and the body may contain *
// wildcards, each matching any run of characters; every other character
// matches itself.
type Stub struct {
	Method string // "" or "*" matches any method
	URL    string
	// WantHeaders must each be sent: a name, in any case, and a value
	// pattern.
	WantHeaders [][2]string
	// WantBody, when set, is the pattern the request's body must match.
	WantBody *string
	Status   int
	Body     string // the answer's
	Err      string // answer with no response: "timeout", "connection refused"
}

func (s *Stub) matches(req *interpreter.HTTPRequest) bool {
	if s.Method != "" && s.Method != "*" && !strings.EqualFold(s.Method, req.Method) {
		return false
	}
	if !globMatch(s.URL, req.URL) || s.WantBody != nil && !globMatch(*s.WantBody, req.Body) {
		return false
	}
	for _, want := range s.WantHeaders {
		if !slices.ContainsFunc(req.Headers, func(h [2]string) bool {
			return strings.EqualFold(h[0], want[0]) && globMatch(want[1], h[1])
		}) {
			return false
		}
	}
	return true
}

// globMatch reports whether s matches pattern, whose * match any run of
// characters. It takes the literal parts between stars in order, each at
// its first place, which for such patterns finds a match when there is
// one, in time linear in s for each part: a glob matcher that backtracks
// took a minute on a long class against a long URL.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	rest := s[len(first) : len(s)-len(last)]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, part)
		if i < 0 {
			return false
		}
		rest = rest[i+len(part):]
	}
	return true
}

// An Exchange is one http step's request and the answer it got.
type Exchange struct {
	Request  *interpreter.HTTPRequest
	Response interpreter.HTTPResponse
	Stub     *Stub // the stub that answered; nil for a live call or AnswerHTTP
}

// A HeldRequest is an http step's request that no stub matched while HoldHTTP
// was set (and LiveHTTP was not): its run waits until AnswerHTTP answers it.
type HeldRequest struct {
	Run     *Run
	Request *interpreter.HTTPRequest
}

// HeldHTTP returns the held requests whose runs still wait for them, oldest
// first.
func (w *World) HeldHTTP() []*HeldRequest {
	kept := w.held[:0]
	for _, h := range w.held {
		r := h.Run
		if r.Status == interpreter.Waiting && r.Wait == interpreter.WaitHTTP && r.waitSeq == h.Request.Seq {
			kept = append(kept, h)
		}
	}
	w.held = kept
	return append([]*HeldRequest(nil), kept...)
}

// AnswerHTTP answers a held request with resp and runs the flow on from
// there: a status and body are answered as a server's would be (see
// interpreter.HTTPRequest.Answer), a status of 0 as a call that got no
// response, with resp.Err. It reports false when the request is no longer
// held.
func (w *World) AnswerHTTP(h *HeldRequest, resp interpreter.HTTPResponse) bool {
	for i, x := range w.HeldHTTP() {
		if x == h {
			w.held = append(w.held[:i], w.held[i+1:]...)
			if resp.Status != 0 {
				resp = h.Request.Answer(resp.Status, resp.Redirects, resp.Body)
			}
			resp.Seq = h.Request.Seq
			w.respond(h.Run, h.Request, resp, nil)
			w.drain()
			return true
		}
	}
	return false
}

// respond writes the answer to the transcript and the exchanges, and queues it
// for the run.
func (w *World) respond(r *Run, req *interpreter.HTTPRequest, resp interpreter.HTTPResponse, stub *Stub) {
	w.logf("* http -> %s", resp.Result())
	w.Exchanges = append(w.Exchanges, Exchange{Request: req, Response: resp, Stub: stub})
	w.queue = append(w.queue, pending{r, resp})
}

// http answers a request from the stubs, or for real when LiveHTTP is set. ok
// is false when the request is to be held.
func (w *World) http(req *interpreter.HTTPRequest) (resp interpreter.HTTPResponse, stub *Stub, ok bool) {
	for _, s := range w.Stubs {
		if s.matches(req) {
			if s.Err != "" {
				return interpreter.HTTPResponse{Seq: req.Seq, Err: s.Err}, s, true
			}
			return req.Answer(s.Status, nil, []byte(s.Body)), s, true
		}
	}
	switch {
	case w.LiveHTTP != nil:
		return w.LiveHTTP.Do(context.Background(), req), nil, true
	case w.HoldHTTP:
		return interpreter.HTTPResponse{}, nil, false
	}
	return interpreter.HTTPResponse{Seq: req.Seq, Err: "no stub for " + req.Method + " " + req.URL}, nil, true
}
