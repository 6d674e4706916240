package server

import (
	"net/http/httptest"
	"testing"
)

// A visitor's address is the peer's, or, behind a proxy on loopback, the
// one the proxy appended to X-Forwarded-For; anyone else's header is not
// believed.
func TestClientAddress(t *testing.T) {
	for _, c := range []struct{ peer, fwd, want string }{
		{"203.0.113.7:5000", "", "203.0.113.7"},
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"127.0.0.1:5000", "", "127.0.0.1"},
		{"127.0.0.1:5000", "10.0.0.1, 198.51.100.1", "198.51.100.1"},
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
		{"127.0.0.1:5000", "not an address", "127.0.0.1"},
	} {
		r := httptest.NewRequest("POST", "/webchat/session", nil)
		r.RemoteAddr = c.peer
		if c.fwd != "" {
			r.Header.Set("X-Forwarded-For", c.fwd)
		}
		if got := clientAddress(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.fwd, got, c.want)
		}
	}
}
