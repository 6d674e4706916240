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

// Config is what the server needs besides the engine.
type Config struct {
	Channels []Channel
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
	s.routes()
	return s
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Routes are the routes the server serves, method and pattern: the
// OpenAPI document's test holds them to it.
var Routes = []string{
	"POST /custom/channel/webhook",
	"POST /custom/channel/webhook/",
	"GET /healthz",
	"GET /readyz",
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /custom/channel/webhook", s.webhook)
	s.mux.HandleFunc("POST /custom/channel/webhook/", s.webhook) // respond.io's path ends in a slash
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(r.Context()); err != nil {
				writeError(w, &apiError{Code: http.StatusServiceUnavailable, Message: "not ready: " + err.Error()})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Code: http.StatusNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
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
