package sandbox

import (
	"context"
	"io"
	"net/http"
	"path"
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
	Hits   int
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

// http answers a request from the stubs, or for real when LiveHTTP is set.
func (w *World) http(req *interpreter.HTTPRequest) interpreter.HTTPResponse {
	for _, s := range w.Stubs {
		if s.matches(req.Method, req.URL) {
			s.Hits++
			return interpreter.HTTPResponse{Seq: req.Seq, Status: s.Status, Body: []byte(s.Body), Err: s.Err}
		}
	}
	if w.LiveHTTP == nil {
		return interpreter.HTTPResponse{Seq: req.Seq, Err: "no stub for " + req.Method + " " + req.URL}
	}
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
