package sandbox

import (
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

// A HeldRequest is an http step's request that no stub matched while
// holding was on (and live calls were off): its run waits until
// World.AnswerHTTP answers it.
type HeldRequest struct {
	RunID   int64
	Request *interpreter.HTTPRequest
}
