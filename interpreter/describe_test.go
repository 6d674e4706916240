package interpreter

import "testing"

// A request shows as the step writes it, with its secrets masked.
func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		req  HTTPRequest
		want string
	}{
		{HTTPRequest{Method: "GET", URL: "https://crm.example.com/c?email=ana%40example.com"},
			"GET https://crm.example.com/c?email=ana%40example.com"},
		{HTTPRequest{Method: "POST", URL: "https://crm.example.com/leads",
			Headers: [][2]string{{"Authorization", "Bearer abc123"}, {"Content-Type", "application/json"}, {"X-Api-Key", "k"}},
			Body:    `{"email":"ana@example.com"}`},
			`POST https://crm.example.com/leads header "Authorization": "Bearer ****" header "Content-Type": "application/json" header "X-Api-Key": "****" body "{\"email\":\"ana@example.com\"}"`},
		{HTTPRequest{Method: "GET", URL: "https://bob:pw@api.example.com/x?api_key=s3cret&q=1&access_token=t#top"},
			"GET https://bob:****@api.example.com/x?api_key=****&q=1&access_token=****#top"},
		{HTTPRequest{Method: "GET", URL: "https://api.example.com/x", Headers: [][2]string{{"Cookie", "sid=1"}, {"Authorization", "opaque"}}},
			`GET https://api.example.com/x header "Cookie": "****" header "Authorization": "****"`},
	} {
		if got := c.req.Describe(); got != c.want {
			t.Errorf("Describe:\n got %s\nwant %s", got, c.want)
		}
	}
}
