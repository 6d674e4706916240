package interpreter

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowd/flowd/internal/textfile"
)

// Limits of an http step's response, applied by Answer.
const (
	// MaxHTTPBody is the most of a response body an http step takes; the
	// executor reads one byte past it, to know a body is over.
	MaxHTTPBody = 256 << 10
	// MaxJSONDepth is how deep the JSON of a mapped response may nest.
	MaxJSONDepth = 64
)

// Answer makes the response to req from what the server sent: its status,
// the redirects it went through and its body, read up to one byte past
// MaxHTTPBody. The rules are the same for every executor, real or
// simulated:
//
//   - a body over MaxHTTPBody is a failure: a cut body could map wrong
//     values;
//   - when the step maps the response, a 2xx body that is not JSON (an HTML
//     error page, say), or nests deeper than MaxJSONDepth, is a failure;
//
// a failure keeps the status, for the step's status variable, with the
// reason in Err, which the transcript shows: "200: body is not JSON".
func (req *HTTPRequest) Answer(status int, redirects []Redirect, body []byte) HTTPResponse {
	resp := HTTPResponse{Seq: req.Seq, Status: status, Redirects: redirects, Body: body}
	mapped := req.JSON && status >= 200 && status < 300
	switch {
	case len(body) > MaxHTTPBody:
		resp.Err = fmt.Sprintf("body is over %s", textfile.Size(MaxHTTPBody))
	case mapped && !json.Valid(body):
		resp.Err = "body is not JSON"
	case mapped && jsonDepth(body) > MaxJSONDepth:
		resp.Err = fmt.Sprintf("body nests deeper than %d", MaxJSONDepth)
	}
	return resp
}

// jsonDepth is how deep brackets nest in valid JSON.
func jsonDepth(b []byte) int {
	depth, most, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return most
}

// Result is how the transcript shows a response: the redirects, then the
// status or the error, and why a status counts as a failure:
// "302 https://b.example/x -> 200: body is not JSON".
func (resp HTTPResponse) Result() string {
	var b strings.Builder
	for _, r := range resp.Redirects {
		fmt.Fprintf(&b, "%d %s -> ", r.Status, r.URL)
	}
	switch {
	case resp.Status == 0:
		b.WriteString("error: " + resp.Err)
	case resp.Err != "":
		fmt.Fprintf(&b, "%d: %s", resp.Status, resp.Err)
	default:
		fmt.Fprintf(&b, "%d", resp.Status)
	}
	return b.String()
}

// escapeDotSegments escapes the dots of a path segment that interpolated
// values made "." or "..", so that a contact who answers ".." cannot make
// /users/$Id/orders climb to /orders: the segment reaches the server as
// %2E%2E, which it reads as data. filled holds the byte ranges of url that
// values filled in; segments written in the flow stay as they are.
func escapeDotSegments(url string, filled [][2]int) string {
	end := len(url)
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		end = i
	}
	start := 0
	if i := strings.Index(url, "://"); i >= 0 && i < end {
		start = i + 3 // past the scheme; the host is not a path segment
		if j := strings.IndexByte(url[start:end], '/'); j >= 0 {
			start += j
		} else {
			start = end
		}
	}
	var b strings.Builder
	b.WriteString(url[:start])
	for i := start; i < end; {
		j := strings.IndexByte(url[i+1:end], '/')
		segEnd := end
		if j >= 0 {
			segEnd = i + 1 + j
		}
		seg := url[i:segEnd] // with its leading /
		name := strings.TrimPrefix(seg, "/")
		if (name == "." || name == "..") && overlaps(filled, segEnd-len(name), segEnd) {
			seg = seg[:len(seg)-len(name)] + strings.Repeat("%2E", len(name))
		}
		b.WriteString(seg)
		i = segEnd
	}
	b.WriteString(url[end:])
	return b.String()
}

func overlaps(ranges [][2]int, from, to int) bool {
	for _, r := range ranges {
		if r[0] < to && from < r[1] {
			return true
		}
	}
	return false
}
