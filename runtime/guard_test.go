package runtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowd/flowd/runtime"
)

// The guard refuses what is not the public internet, by the address
// dialled: an IP written in the URL, a name that resolves to one, a
// redirect to one; the hosts the config allows pass.
func TestGuardedTransport(t *testing.T) {
	var other string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other, http.StatusFound)
			return
		}
		fmt.Fprint(w, `{"ok": true}`)
	})
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	other = "http://localhost:" + port + "/ok"
	call := func(allow []string, url string) string {
		c := &runtime.HTTPClient{Transport: runtime.GuardedTransport(allow)}
		return c.Do(context.Background(), get(url, 0, true)).Result()
	}
	for _, c := range []struct {
		allow []string
		url   string
		want  string
	}{
		{nil, srv.URL + "/ok", "error: refused: 127.0.0.1 is a loopback address; the workspace config can allow the host"},
		{nil, "http://localhost:" + port + "/ok", "error: refused: localhost is a loopback address (127.0.0.1); the workspace config can allow the host"},
		{[]string{"127.0.0.1"}, srv.URL + "/ok", "200"},
		{[]string{"127.0.0.1"}, srv.URL + "/redirect", "302 " + other + " -> error: refused: localhost is a loopback address (127.0.0.1); the workspace config can allow the host"},
		{[]string{"127.0.0.1", "LOCALHOST"}, srv.URL + "/redirect", "302 " + other + " -> 200"},
	} {
		if got := call(c.allow, c.url); got != c.want {
			t.Errorf("allow %v, %s:\n got %s\nwant %s", c.allow, c.url, got, c.want)
		}
	}
}

func TestRefusedAddress(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "100.64.0.1": true, "0.0.0.0": true, "::": true,
		"::ffff:127.0.0.1": true, "fd00:ec2::254": true, "224.0.0.1": true, "fc00::1": true,
		"93.184.216.34": false, "2606:4700::1111": false, "8.8.8.8": false,
	} {
		if got := runtime.RefusedAddress(netip.MustParseAddr(addr)) != ""; got != refused {
			t.Errorf("RefusedAddress(%s) refused = %v, want %v", addr, got, refused)
		}
	}
}
