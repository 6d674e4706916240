package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
)

// server is a fake CRM on 127.0.0.1.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(url string, timeout time.Duration, json bool) *interpreter.HTTPRequest {
	return &interpreter.HTTPRequest{Method: "GET", URL: url, Timeout: timeout, JSON: json, Seq: 7}
}

func TestHTTPAnswers(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			fmt.Fprint(w, `{"customerType": "VIP"}`)
		case "/html":
			fmt.Fprint(w, "<html>OK</html>")
		case "/cap":
			fmt.Fprintf(w, "%q", strings.Repeat("a", interpreter.MaxHTTPBody-2)) // exactly the cap
		case "/over":
			fmt.Fprintf(w, "%q", strings.Repeat("a", interpreter.MaxHTTPBody-1))
		case "/deep":
			fmt.Fprint(w, strings.Repeat("[", 65)+strings.Repeat("]", 65))
		case "/missing":
			http.Error(w, "<html>not found</html>", http.StatusNotFound)
		case "/broken": // says 100 bytes, sends 2
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, "{}")
		}
	})
	cases := []struct {
		path   string
		json   bool // the step maps the response
		result string
	}{
		{"/json", true, "200"},
		{"/html", true, "200: body is not JSON"},
		{"/html", false, "200"}, // nothing to map: any body will do
		{"/cap", true, "200"},
		{"/over", true, "200: body is over 256 KiB"},
		{"/over", false, "200: body is over 256 KiB"},
		{"/deep", true, "200: body nests deeper than 64"},
		{"/missing", true, "404"},                // a failure by its status; its body is not read as JSON
		{"/broken", true, "200: unexpected EOF"}, // the status came, the body broke off
	}
	var c runtime.HTTPClient
	for _, tc := range cases {
		resp := c.Do(context.Background(), get(srv.URL+tc.path, 5*time.Second, tc.json))
		if got := resp.Result(); got != tc.result || resp.Seq != 7 {
			t.Errorf("%s (json %v): %q seq %d, want %q", tc.path, tc.json, got, resp.Seq, tc.result)
		}
	}
}

// TestHTTPTimeout: the step's own timeout bounds the call, whatever the
// server does: one that never answers gets the step's reason.
func TestHTTPTimeout(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the client gives up
	})
	var c runtime.HTTPClient
	if got := c.Do(context.Background(), get(srv.URL+"/slow", 200*time.Millisecond, false)).Result(); got != "error: no answer within 200ms" {
		t.Errorf("a server that never answers: %q", got)
	}
}

func TestHTTPRedirects(t *testing.T) {
	var srv *httptest.Server
	srv = server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new", http.StatusFound)
		case "/new":
			if r.Header.Get("X-Api-Key") != "k" {
				http.Error(w, "no key", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"ok": true}`)
		case "/away":
			http.Redirect(w, r, "http://forbidden.example/x", http.StatusMovedPermanently)
		case "/ftp":
			w.Header().Set("Location", "ftp://files.example/x")
			w.WriteHeader(http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	})
	c := runtime.HTTPClient{CheckURL: func(u *url.URL) error {
		if u.Hostname() != "127.0.0.1" {
			return errors.New("only the test server is allowed")
		}
		return nil
	}}
	req := get(srv.URL+"/old", 5*time.Second, true)
	req.Headers = [][2]string{{"X-Api-Key", "k"}}
	resp := c.Do(context.Background(), req)
	if got, want := resp.Result(), "302 "+srv.URL+"/new -> 200"; got != want {
		t.Errorf("a redirect: %q, want %q", got, want)
	}
	for path, want := range map[string]string{
		"/away": "301 http://forbidden.example/x -> error: only the test server is allowed",
		"/ftp":  "302 ftp://files.example/x -> error: URL ftp://files.example/x is not http or https",
	} {
		if got := c.Do(context.Background(), get(srv.URL+path, 5*time.Second, false)).Result(); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	resp = c.Do(context.Background(), get(srv.URL+"/loop", 5*time.Second, false))
	if len(resp.Redirects) != runtime.MaxRedirects || !strings.HasSuffix(resp.Result(), "-> error: more than 5 redirects") {
		t.Errorf("a redirect loop: %q", resp.Result())
	}
}

func TestHTTPRequestSent(t *testing.T) {
	var got string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = fmt.Sprintf("%s %s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), body)
	})
	var c runtime.HTTPClient
	req := &interpreter.HTTPRequest{Method: "POST", URL: srv.URL + "/users/%2E%2E/orders?q=a%2Bb", Timeout: time.Second,
		Headers: [][2]string{{"Content-Type", "application/json"}}, Body: `{"a": 1}`}
	if resp := c.Do(context.Background(), req); resp.Err != "" {
		t.Fatal(resp.Err)
	}
	// an escaped dot segment reaches the server as it was written
	if want := `POST /users/%2E%2E/orders?q=a%2Bb application/json {"a": 1}`; got != want {
		t.Errorf("server saw %q, want %q", got, want)
	}
	for _, bad := range []string{"ftp://x.example/", "http:///path", "://nothing"} {
		if resp := c.Do(context.Background(), get(bad, time.Second, false)); resp.Status != 0 || resp.Err == "" {
			t.Errorf("%s: %+v", bad, resp)
		}
	}
}
