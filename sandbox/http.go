package sandbox

import (
	"context"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/flowd/flowd/interpreter"
)

// A Stub answers the http steps whose method and URL match. URL may contain *
// wildcards (path.Match rules, where * also crosses / and ?).
type Stub struct {
	Method string // "" or "*" matches any method
	URL    string
	Status int
	Body   string
	Err    string // answer with no response: "timeout", "connection refused"
}

func (s *Stub) matches(method, url string) bool {
	if s.Method != "" && s.Method != "*" && !strings.EqualFold(s.Method, method) {
		return false
	}
	if s.URL == url || s.URL == "*" {
		return true
	}
	// let * span any characters, / included
	pattern := strings.NewReplacer("/", "\x00", "?", "\x01").Replace(s.URL)
	subject := strings.NewReplacer("/", "\x00", "?", "\x01").Replace(url)
	ok, err := path.Match(pattern, subject)
	return err == nil && ok
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

// AnswerHTTP answers a held request with resp (its Seq is filled in) and runs
// the flow on from there. It reports false when the request is no longer held.
func (w *World) AnswerHTTP(h *HeldRequest, resp interpreter.HTTPResponse) bool {
	for i, x := range w.HeldHTTP() {
		if x == h {
			w.held = append(w.held[:i], w.held[i+1:]...)
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
	status := strconv.Itoa(resp.Status)
	if resp.Err != "" {
		status = "error: " + resp.Err
	}
	w.logf("* http %s %s -> %s", req.Method, req.URL, status)
	w.Exchanges = append(w.Exchanges, Exchange{Request: req, Response: resp, Stub: stub})
	w.queue = append(w.queue, pending{r, resp})
}

// http answers a request from the stubs, or for real when LiveHTTP is set. ok
// is false when the request is to be held.
func (w *World) http(req *interpreter.HTTPRequest) (resp interpreter.HTTPResponse, stub *Stub, ok bool) {
	for _, s := range w.Stubs {
		if s.matches(req.Method, req.URL) {
			return interpreter.HTTPResponse{Seq: req.Seq, Status: s.Status, Body: []byte(s.Body), Err: s.Err}, s, true
		}
	}
	switch {
	case w.LiveHTTP != nil:
		return w.live(req), nil, true
	case w.HoldHTTP:
		return interpreter.HTTPResponse{}, nil, false
	}
	return interpreter.HTTPResponse{Seq: req.Seq, Err: "no stub for " + req.Method + " " + req.URL}, nil, true
}

// live makes the request for real.
func (w *World) live(req *interpreter.HTTPRequest) interpreter.HTTPResponse {
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, strings.NewReader(req.Body))
	if err != nil {
		return interpreter.HTTPResponse{Seq: req.Seq, Err: err.Error()}
	}
	for _, h := range req.Headers {
		hr.Header.Add(h[0], h[1])
	}
	resp, err := w.LiveHTTP.Do(hr)
	if err != nil {
		return interpreter.HTTPResponse{Seq: req.Seq, Err: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return interpreter.HTTPResponse{Seq: req.Seq, Err: err.Error()}
	}
	return interpreter.HTTPResponse{Seq: req.Seq, Status: resp.StatusCode, Body: body}
}
