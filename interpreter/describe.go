package interpreter

import (
	"net/url"
	"strconv"
	"strings"
)

// Describe is how a transcript and the activity log show an http step's
// request: its method, URL, headers and body, written as the step writes
// them, with secrets masked, since both are read by people who should not
// see them:
//
//	POST https://crm.example.com/leads header "Authorization": "Bearer ****" body "{\"email\":\"ana@example.com\"}"
//
// A header is secret when its name says so (Authorization, Cookie, or a
// name with key, token, secret, password, auth, session or signature in
// it), and so is a query parameter named that way and a password in the
// URL; an Authorization value keeps its scheme word.
func (req *HTTPRequest) Describe() string {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte(' ')
	b.WriteString(maskURL(req.URL))
	for _, h := range req.Headers {
		b.WriteString(" header ")
		b.WriteString(strconv.Quote(h[0]))
		b.WriteString(": ")
		b.WriteString(strconv.Quote(maskHeader(h[0], h[1])))
	}
	if req.Body != "" {
		b.WriteString(" body ")
		b.WriteString(strconv.Quote(req.Body))
	}
	return b.String()
}

// masked stands for a secret's value.
const masked = "****"

var secretWords = []string{"key", "token", "secret", "password", "passwd", "auth", "session", "signature", "cookie"}

// secretName reports whether a header or parameter name names a secret.
func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

func maskHeader(name, value string) string {
	if !secretName(name) {
		return value
	}
	if strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization") {
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " " + masked
		}
	}
	return masked
}

// maskURL masks the URL's password and the values of its secret query
// parameters, leaving the rest as the flow made it.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if _, has := u.User.Password(); has { // scheme://user:password@host...
		if i := strings.Index(raw, "://"); i >= 0 {
			rest := raw[i+3:]
			at := strings.LastIndexByte(rest[:strings.IndexAny(rest+"/", "/?#")], '@')
			if colon := strings.IndexByte(rest, ':'); at >= 0 && colon >= 0 && colon < at {
				raw = raw[:i+3] + rest[:colon+1] + masked + rest[at:]
			}
		}
	}
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return raw
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	params := strings.Split(query, "&")
	for i, p := range params {
		name, _, isPair := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil && isPair && secretName(n) {
			params[i] = name + "=" + masked
		}
	}
	out := base + "?" + strings.Join(params, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}
