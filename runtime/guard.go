package runtime

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// An http step's URL comes from a flow, filled in with values a contact
// typed: left alone, it could reach what only flowd should, a database on
// localhost or a cloud's metadata service. The guard refuses addresses that
// are not the public internet's, checked on the address actually dialled
// (after DNS, so a name that resolves to 127.0.0.1 is caught) and so on
// every redirect, unless the workspace allows the host.

// refusedPrefixes are the ranges beyond loopback, private, link-local,
// unspecified and multicast that a call may not reach: carrier-grade NAT,
// the cloud metadata address of IPv6 (IPv4's is link-local), and IPv4
// addresses mapped or translated into IPv6.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// RefusedAddress says why a call may not reach ip, or "" when it may.
func RefusedAddress(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return "a link-local address (cloud metadata lives there)"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return "a reserved address"
		}
	}
	return ""
}

// GuardedTransport is the transport of http steps in production: it dials
// only public addresses, except for the hosts in allow (names or IP
// addresses, as the URL writes them: "crm.internal", "127.0.0.1"), and
// never goes through a proxy from the environment, whose address would
// hide the destination's.
func GuardedTransport(allow []string) *http.Transport {
	allowed := map[string]bool{}
	for _, h := range allow {
		allowed[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		if !allowed[strings.ToLower(host)] {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return err
				}
				if why := RefusedAddress(ap.Addr()); why != "" {
					return &RefusedError{Host: host, Addr: ap.Addr(), Why: why}
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// A RefusedError is a call the guard did not let through.
type RefusedError struct {
	Host string
	Addr netip.Addr
	Why  string
}

func (e *RefusedError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("refused: %s is %s; the workspace config can allow the host", e.Addr, e.Why)
	}
	return fmt.Sprintf("refused: %s is %s (%s); the workspace config can allow the host", e.Host, e.Why, e.Addr)
}
