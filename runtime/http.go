package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowd/flowd/interpreter"
)

// MaxRedirects is how many redirects an http step follows.
const MaxRedirects = 5

// An HTTPClient makes the calls of http steps. It waits for each as long as
// its step says (the request's Timeout), reads at most
// interpreter.MaxHTTPBody of the answer, and follows at most MaxRedirects
// redirects, each checked as the first URL was and shown in the response.
// The zero value is ready to use; it is safe for concurrent use.
type HTTPClient struct {
	// Transport makes the requests; nil is http.DefaultTransport.
	Transport http.RoundTripper
	// CheckURL, when set, must accept every URL a call goes to: the
	// request's and each redirect's.
	CheckURL func(*url.URL) error
}

// errRedirects stops a call that redirects too often.
var errRedirects = fmt.Errorf("more than %d redirects", MaxRedirects)

// Do makes req's call and answers it with interpreter.HTTPRequest.Answer's
// rules; a call that gets no response answers with the reason.
func (c *HTTPClient) Do(ctx context.Context, req *interpreter.HTTPRequest) interpreter.HTTPResponse {
	fail := func(err error) interpreter.HTTPResponse {
		return interpreter.HTTPResponse{Seq: req.Seq, Err: err.Error()}
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return fail(fmt.Errorf("bad URL: %v", err))
	}
	if err := c.check(u); err != nil {
		return fail(err)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = interpreter.DefaultHTTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, strings.NewReader(req.Body))
	if err != nil {
		return fail(err)
	}
	for _, h := range req.Headers {
		hr.Header.Add(h[0], h[1])
	}
	var redirects []interpreter.Redirect
	client := &http.Client{
		Transport: c.Transport,
		// no Timeout: the context carries the step's own
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			status := 0
			if next.Response != nil {
				status = next.Response.StatusCode
			}
			if len(via) > MaxRedirects {
				return errRedirects
			}
			redirects = append(redirects, interpreter.Redirect{Status: status, URL: next.URL.String()})
			return c.check(next.URL)
		},
	}
	resp, err := client.Do(hr)
	if err != nil {
		out := fail(callError(err, timeout))
		out.Redirects = redirects
		return out
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, interpreter.MaxHTTPBody+1))
	if err != nil { // the answer broke off: its status came
		out := fail(callError(err, timeout))
		out.Status, out.Redirects = resp.StatusCode, redirects
		return out
	}
	return req.Answer(resp.StatusCode, redirects, body)
}

// check applies the rules every URL of a call must follow.
func (c *HTTPClient) check(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %s is not http or https", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("URL %s has no host", u.Redacted())
	}
	if c.CheckURL != nil {
		return c.CheckURL(u)
	}
	return nil
}

// callError says in a few words why a call got no response.
func callError(err error, timeout time.Duration) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer within %s", timeout)
	case errors.Is(err, errRedirects):
		return errRedirects
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused // the dial's wrapping says nothing more
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // without the method and URL, which the transcript shows
	}
	return err
}
