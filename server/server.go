package server

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flowd/flowd/runtime"
)

// A Channel is a channel the workspace configured: respond.io's Custom
// Channel, connected through an integration server.
type Channel struct {
	ID    string // the channel's id, as its webhook requests name it
	Name  string // the channel name flows see: custom, sms, ...
	URL   string // the integration server's API base URL
	Token string // the channel's API token, both ways
}

// Config is what the server serves.
type Config struct {
	Engine   *runtime.Engine // the admin API reads its store
	Channels []Channel
	// APIToken is the admin API's bearer token; "" turns the API off
	// (every /v2 request is answered 401).
	APIToken string
	// Flows are the flow files as loaded, failed ones included; a
	// Library's, when one is set, as it last reloaded.
	Flows   []FlowInfo
	Library *Library
	// Teams are the workspace's teams, which may have no members yet.
	Teams []string
	// WebhookSecrets are the webhook flows' secrets, by webhook id: a
	// webhook flow without one is not served.
	WebhookSecrets map[string]string
	// Metrics are served at /metrics; nil serves none.
	Metrics *Metrics
	// Submit hands events to the engine and waits until they are
	// committed: a runtime.Writer's SubmitAll.
	Submit func(ctx context.Context, evs []runtime.Event) []error
	// Ready reports whether the service can take requests (the store is
	// reachable, the flows loaded); nil is always.
	Ready func(ctx context.Context) error
	Log   *slog.Logger // nil is slog.Default()
	// The webhook's rate limits, requests a second, per channel and per
	// contact; a channel may burst to twice its rate, a contact to four
	// times. 0 is ChannelRate and ContactRate.
	ChannelRate, ContactRate float64
}

// A Server is flowd's HTTP surface.
type Server struct {
	cfg      Config
	channels map[string]*Channel
	mux      *http.ServeMux

	perChannel, perContact *limiters
	docCache
	chat webChat
}

// New returns a server on cfg.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.ChannelRate <= 0 {
		cfg.ChannelRate = ChannelRate
	}
	if cfg.ContactRate <= 0 {
		cfg.ContactRate = ContactRate
	}
	s := &Server{cfg: cfg, channels: map[string]*Channel{}, mux: http.NewServeMux(),
		perChannel: newLimiters(cfg.ChannelRate, int(2*cfg.ChannelRate)), perContact: newLimiters(cfg.ContactRate, int(4*cfg.ContactRate))}
	for i := range cfg.Channels {
		s.channels[cfg.Channels[i].ID] = &cfg.Channels[i]
	}
	s.chat = webChat{sessions: newLimiters(SessionRate, 10*SessionRate), stop: make(chan struct{})}
	s.routes()
	return s
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// A route is a method and pattern the server serves, and its handler.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// Routes are the routes the server serves, as method and pattern: the
// OpenAPI document's test holds the document to them.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.table() {
		out = append(out, r.pattern)
	}
	return out
}

func (s *Server) table() []route {
	return []route{
		{"POST /custom/channel/webhook", s.webhook},
		{"POST /custom/channel/webhook/", s.webhook}, // respond.io's path ends in a slash
		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
		{"GET /metrics", s.metrics},
		{"GET /openapi.json", s.openapi},

		{"GET /v2/contact/{identifier}", s.api(s.getContact)},
		{"POST /v2/contact/{identifier}", s.api(s.saveContact(true, false))},
		{"PUT /v2/contact/{identifier}", s.api(s.saveContact(false, true))},
		{"DELETE /v2/contact/{identifier}", s.api(s.deleteContact)},
		{"POST /v2/contact/create_or_update/{identifier}", s.api(s.saveContact(true, true))},
		{"POST /v2/contact/{identifier}/tag", s.api(s.changeTags(true))},
		{"DELETE /v2/contact/{identifier}/tag", s.api(s.changeTags(false))},
		{"POST /v2/contact/{identifier}/lifecycle/update", s.api(s.updateLifecycle)},
		{"POST /v2/contact/{identifier}/conversation/status", s.api(s.conversationStatus)},
		{"POST /v2/contact/{identifier}/conversation/assignee", s.api(s.assignee)},
		{"POST /v2/contact/{identifier}/comment", s.api(s.comment)},
		{"POST /v2/contact/{identifier}/message", s.api(s.sendMessage)},
		{"GET /v2/contact/{identifier}/message/list", s.api(s.listMessages)},
		{"GET /v2/contact/{identifier}/channels", s.api(s.contactChannels)},

		{"GET /v2/flowd/contact/{identifier}/activity", s.api(s.activity)},
		{"GET /v2/flowd/contact/{identifier}/runs", s.api(s.runs)},
		{"POST /v2/flowd/contact/{identifier}/runs/{run}/stop", s.api(s.stopRun)},
		{"POST /v2/flowd/contact/{identifier}/bot/stop", s.api(s.bot(true))},
		{"POST /v2/flowd/contact/{identifier}/bot/resume", s.api(s.bot(false))},
		{"POST /v2/flowd/contact/{identifier}/shortcut", s.api(s.shortcut)},
		{"GET /v2/flowd/flows", s.api(s.listFlows)},
		{"POST /v2/flowd/flows/{flow}/migrate", s.api(s.migrateRuns)},
		{"GET /v2/flowd/users", s.api(s.listUsers)},
		{"POST /v2/flowd/users/{user}/status", s.api(s.userStatus)},
		{"GET /v2/flowd/teams", s.api(s.listTeams)},
		{"POST /v2/flowd/webhooks/{id}", s.flowWebhook},

		{"GET /{$}", s.page},
		{"POST /webchat/session", s.newSession},
		{"POST /webchat/message", s.chatMessage},
		{"GET /webchat/events", s.events},
	}
}

// dispatched are the routes Go's mux cannot tell apart
// (/v2/contact/create_or_update/tag could be either): one pattern serves
// them, and picks by the path.
var dispatched = map[string]bool{
	"POST /v2/contact/create_or_update/{identifier}": true,
	"POST /v2/contact/{identifier}/tag":              true,
	"POST /v2/contact/{identifier}/comment":          true,
	"POST /v2/contact/{identifier}/message":          true,
}

func (s *Server) routes() {
	byPattern := map[string]http.HandlerFunc{}
	for _, r := range s.table() {
		if dispatched[r.pattern] {
			byPattern[r.pattern] = r.handler
			continue
		}
		s.mux.HandleFunc(r.pattern, r.handler)
	}
	s.mux.HandleFunc("POST /v2/contact/{first}/{second}", func(w http.ResponseWriter, r *http.Request) {
		first, second := r.PathValue("first"), r.PathValue("second")
		pattern, ident := "POST /v2/contact/{identifier}/"+second, first
		if first == "create_or_update" {
			pattern, ident = "POST /v2/contact/create_or_update/{identifier}", second
		}
		h := byPattern[pattern]
		if h == nil {
			writeError(w, &apiError{Code: http.StatusNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
			return
		}
		r.SetPathValue("identifier", ident)
		h(w, r)
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Code: http.StatusNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, &apiError{Code: http.StatusNotFound, Message: "no metrics"})
		return
	}
	s.cfg.Metrics.Handler().ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			writeError(w, &apiError{Code: http.StatusServiceUnavailable, Message: "not ready: " + err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// bearer is the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// sameToken compares tokens in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
