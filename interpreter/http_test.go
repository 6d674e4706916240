package interpreter

import (
	"testing"
)

// TestDotSegments: a value that would make a path segment "." or ".." has
// its dots escaped, so that a contact's answer cannot make the request climb
// to another resource; segments written in the flow, and dots inside
// longer values, stay as they are.
func TestDotSegments(t *testing.T) {
	cases := []struct{ url, id, want string }{
		{"https://crm.example/users/$Id/orders", "..", "https://crm.example/users/%2E%2E/orders"},
		{"https://crm.example/users/$Id/orders", ".", "https://crm.example/users/%2E/orders"},
		{"https://crm.example/users/$Id", "..", "https://crm.example/users/%2E%2E"},
		{"https://crm.example/users/.$Id/x", ".", "https://crm.example/users/%2E%2E/x"},
		{"https://crm.example/users/$Id/orders", "v1.2", "https://crm.example/users/v1.2/orders"},
		{"https://crm.example/users/$Id/orders", "../admin", "https://crm.example/users/..%2Fadmin/orders"},
		{"https://crm.example/a/../users/$Id?next=$Id", "..", "https://crm.example/a/../users/%2E%2E?next=.."},
		{"https://$Id/users", "..", "https://../users"}, // a host is not a path: the request fails there
	}
	for _, c := range cases {
		p := compileBody(t, "ask \"Id?\" save Id\nhttp GET \""+c.url+"\"\n")
		s := newSession(t, p)
		s.start()
		got := s.reply(c.id)
		if len(got) != 1 || got[0] != "http GET "+c.want+" timeout=10s seq=2" {
			t.Errorf("%s with Id %q: %v, want %s", c.url, c.id, got, c.want)
		}
	}
}

// TestHTTPUnusableAnswer: a 2xx that cannot be mapped takes on failure with
// the status variable set, so the flow can tell it from no answer at all;
// a JSON answer that lacks a mapped key is a success with that variable
// unset.
func TestHTTPUnusableAnswer(t *testing.T) {
	p := compileBody(t, `http GET "https://crm.example/c" {
  map "$.customerType" to CustomerType
  status to Code
  on failure {
    comment "failed with $Code"
    stop
  }
}
send "type ${CustomerType ?? "none"}"
`)
	req := &HTTPRequest{JSON: true, Seq: 1}
	s := newSession(t, p)
	s.start()
	wantEffects(t, "HTML", s.resume(req.Answer(200, nil, []byte("<html>OK</html>"))), `comment "failed with 200"`)
	s = newSession(t, p)
	s.start()
	wantEffects(t, "no customerType", s.resume(req.Answer(200, nil, []byte(`{"name": "Ana"}`))), `send #4 "type none"`)
	s = newSession(t, p)
	s.start()
	wantEffects(t, "no answer", s.resume(HTTPResponse{Seq: 1, Err: "no answer within 10s"}), `comment "failed with $Code"`)
}

// Mappings are RFC 9535 JSON paths: one value, a list when the path selects
// several, and no value (the variable unset) when it selects none; a name a
// dotted path cannot hold is written in brackets.
func TestJSONPathMappings(t *testing.T) {
	p := compileBody(t, `http GET "https://crm.example/x" {
  map "$.customer['first-name']" to First
  map "$.orders[*].id" to Ids
  map "$.orders[?@.total > 100].id" to Big
  map "$..email" to Email
  map "$.missing" to Missing
}
send "$First $Ids $Big $Email"
`)
	s := newSession(t, p)
	s.start()
	body := `{"customer": {"first-name": "Ana", "email": "ana@example.com"}, "orders": [{"id": 1, "total": 50}, {"id": 2, "total": 150}]}`
	s.resume(HTTPResponse{Seq: s.seq(), Status: 200, Body: []byte(body)})
	s.wantStatus(Done)
	for k, want := range map[string]any{"First": "Ana", "Email": "ana@example.com"} {
		if s.vars[k] != want {
			t.Errorf("%s = %#v, want %#v", k, s.vars[k], want)
		}
	}
	if ids, ok := s.vars["Ids"].([]any); !ok || len(ids) != 2 || ids[0] != 1.0 || ids[1] != 2.0 {
		t.Errorf("Ids = %#v, want the list [1 2]", s.vars["Ids"])
	}
	if s.vars["Big"] != 2.0 {
		t.Errorf("Big = %#v, want 2", s.vars["Big"])
	}
	if _, set := s.vars["Missing"]; set {
		t.Errorf("Missing is set: %#v", s.vars["Missing"])
	}
}
