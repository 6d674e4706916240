package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The executors that call a service of their own (Google Sheets, an AI
// endpoint) make their calls alike: JSON, a bearer token, a bounded
// answer, and a status other than 2xx as an error that says whether trying
// again can help.

// maxServiceAnswer bounds what a service's answer may be read of.
const maxServiceAnswer = 1 << 20

// defaultCallTimeout bounds a call of an executor that has no step timeout.
const defaultCallTimeout = 30 * time.Second

// serviceCall makes one call to service and returns its answer; body, when
// not nil, is JSON.
func serviceCall(ctx context.Context, client *http.Client, service, method, u, token string, body []byte) ([]byte, error) {
	b, _, err := serviceCallHeader(ctx, client, service, method, u, token, body, nil)
	return b, err
}

// serviceCallHeader is serviceCall with headers of the caller's, which
// also returns the answer's headers (nil when none came).
func serviceCallHeader(ctx context.Context, client *http.Client, service, method, u, token string, body []byte, header http.Header) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if client == nil {
		client = &http.Client{Timeout: defaultCallTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", service, callError(err, client.Timeout))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxServiceAnswer))
	if err != nil {
		return nil, resp.Header, fmt.Errorf("%s: %w", service, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.Header, &StatusError{Service: service, Status: resp.StatusCode, Body: apiMessage(b)}
	}
	return b, resp.Header, nil
}

// A StatusError is an executor's call answered with a status other than
// 2xx: 5xx, 408 and 429 may be tried again; any other is final.
type StatusError struct {
	Service string
	Status  int
	Body    string        // the service's message, shortened
	After   time.Duration // the answer's Retry-After, if any
}

// RetryAfter is how long the service asked to be left alone.
func (e *StatusError) RetryAfter() time.Duration { return e.After }

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%s answered %d", e.Service, e.Status)
	}
	return fmt.Sprintf("%s answered %d: %s", e.Service, e.Status, e.Body)
}

// Final reports whether trying again cannot help.
func (e *StatusError) Final() bool {
	return e.Status/100 == 4 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// apiMessage is the message of a Google-style error answer, or its first
// 200 bytes.
func apiMessage(b []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// A finalError is one that trying again cannot help.
type finalError struct{ error }

func (finalError) Final() bool { return true }

func (e finalError) Unwrap() error { return e.error }
