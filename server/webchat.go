package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// The web chat: respond.io's website widget in small. GET / serves a page
// where a person chats with the flows as a new contact. The page never sees
// a channel's or the API's token: it gets a visitor token of its own, which
// names its contact and nothing else, and uses the endpoints below, which
// feed the engine the same events a channel's webhook does. Replies come as
// Server-Sent Events read from the store's activity, so that a reply any
// process delivered reaches the page, and a page that reconnects resumes
// where it left off (Last-Event-ID: the activity id).

//go:embed webchat
var webchatFiles embed.FS

// WebChatChannel is the web chat's channel: its id and the name flows see.
const WebChatChannel = "webchat"

// Limits of the web chat.
const (
	// SessionRate is how many visitor sessions one address may start a
	// second (bursts to ten times that: five).
	SessionRate = 0.5
	// MaxStreams bounds the event streams open at once in a process.
	MaxStreams = 1000
	// streamPoll is how often a stream looks at the store when this
	// process's commits did not wake it: another process may have written.
	streamPoll = time.Second
)

// webChat is the web chat's state in a process: limits and open streams.
type webChat struct {
	sessions *limiters
	streams  atomic.Int64
	stop     chan struct{} // closed when the server shuts down: streams end
}

// StopStreams ends the web chat's event streams, which would otherwise keep
// a server's Shutdown waiting.
func (s *Server) StopStreams() {
	select {
	case <-s.chat.stop:
	default:
		close(s.chat.stop)
	}
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	b, err := webchatFiles.ReadFile("webchat/index.html")
	if err != nil {
		writeError(w, &apiError{Code: http.StatusInternalServerError, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Write(b)
}

// clientAddress is the address a request came from: the peer's, or, when
// the peer is a reverse proxy on this host (loopback, as docs/server.md
// sets it up), the address the proxy appended to X-Forwarded-For; a header
// from anyone else is not believed.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			parts := strings.Split(fwd[len(fwd)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}

// visitorAddress is the web chat address a visitor token names: a hash of
// it, so that the store holds nothing a visitor could present.
func visitorAddress(token string) store.Address {
	sum := sha256.Sum256([]byte(token))
	return store.Address{ChannelID: WebChatChannel, Channel: WebChatChannel, ExternalID: "v" + hex.EncodeToString(sum[:20])}
}

// newSession makes a visitor: a token, a contact, and an open conversation,
// which fires conversation opened flows as a contact's first message would.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request) {
	host := clientAddress(r)
	if s.chat.sessions.limited(w, host, "new web chat sessions from "+host) {
		return
	}
	raw := make([]byte, 24)
	rand.Read(raw)
	token := hex.EncodeToString(raw)
	in := runtime.Inbound{From: visitorAddress(token), Type: runtime.InOpen}
	if err := s.submit(r.Context(), in); err != nil {
		writeError(w, asAPIError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token})
}

// visitor is the contact the request's visitor token names.
func (s *Server) visitor(r *http.Request) (store.Address, string, error) {
	token := bearer(r)
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	if len(token) != 48 {
		return store.Address{}, "", &apiError{Code: http.StatusUnauthorized, Message: "a visitor token is wanted: POST /webchat/session gives one"}
	}
	a := visitorAddress(token)
	var id string
	err := s.read(r.Context(), func(tx store.Tx) (err error) {
		id, err = tx.Identity(a.ChannelID, a.ExternalID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return a, "", &apiError{Code: http.StatusUnauthorized, Message: "this visitor token names no contact: start a new session"}
	}
	return a, id, err
}

func (s *Server) chatMessage(w http.ResponseWriter, r *http.Request) {
	from, id, err := s.visitor(r)
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	if s.perContact.limited(w, WebChatChannel+"\x00"+id, "this visitor") {
		return
	}
	var body struct {
		Text string `json:"text"`
		MID  string `json:"mId"`
	}
	b, apiErr := readBody(w, r, 64<<10)
	if apiErr == nil {
		apiErr = decodeJSON(b, &body)
	}
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if strings.TrimSpace(body.Text) == "" {
		writeError(w, badRequest("text", "text is empty"))
		return
	}
	if apiErr := checkID("mId", body.MID, messageIDChars, "A-Z a-z 0-9 _ = + / @ . : -"); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	in := runtime.Inbound{From: from, Type: runtime.InMessage, MID: body.MID, At: time.Now(), Text: body.Text}
	if err := s.submit(r.Context(), in); err != nil {
		writeError(w, asAPIError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// chatEvent is what the page gets of one activity entry.
type chatEvent struct {
	From    string   `json:"from"` // contact, bot, agent
	Text    string   `json:"text"`
	Choices []string `json:"choices,omitempty"`
	Files   []string `json:"files,omitempty"`
}

// chatState is the conversation as the page shows it.
type chatState struct {
	Open     bool   `json:"open"`
	Assignee string `json:"assignee,omitempty"`
}

// events streams the visitor's conversation as Server-Sent Events: each
// message (event "message", id the activity id) and the conversation's
// state when it changes (event "state").
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	_, id, err := s.visitor(r)
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, &apiError{Code: http.StatusInternalServerError, Message: "streaming is not supported here"})
		return
	}
	if s.chat.streams.Add(1) > MaxStreams {
		s.chat.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		writeError(w, &apiError{Code: http.StatusServiceUnavailable, Message: "too many web chats open: retry"})
		return
	}
	defer s.chat.streams.Add(-1)
	after, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	if a, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64); err == nil && a > after {
		after = a
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // a proxy must not hold the stream back
	w.WriteHeader(http.StatusOK)
	wake, cancel := s.cfg.Engine.SubscribeActivity(id)
	defer cancel()
	var last chatState
	first := true
	for {
		acts, state, err := s.conversation(r.Context(), id, after)
		if err != nil {
			if r.Context().Err() == nil {
				s.cfg.Log.Warn("web chat: reading the conversation", "contact", id, "err", err)
			}
			return
		}
		for _, a := range acts {
			after = a.ID
			if ev, ok := chatEventOf(a); ok {
				b, _ := json.Marshal(ev)
				fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", a.ID, b)
			}
		}
		if first || state != last {
			b, _ := json.Marshal(state)
			fmt.Fprintf(w, "event: state\ndata: %s\n\n", b)
			last, first = state, false
		}
		flusher.Flush()
		t := time.NewTimer(streamPoll)
		select {
		case <-r.Context().Done():
		case <-s.chat.stop:
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		if r.Context().Err() != nil {
			return
		}
		select {
		case <-s.chat.stop:
			return
		default:
		}
	}
}

// conversation reads the contact's activity after an id, and its
// conversation's state.
func (s *Server) conversation(ctx context.Context, id string, after int64) ([]store.Activity, chatState, error) {
	var acts []store.Activity
	var st chatState
	err := s.read(ctx, func(tx store.Tx) error {
		var err error
		if acts, err = tx.Activity(id, after, 100); err != nil {
			return err
		}
		conv, err := tx.LastConversation(id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		st.Open = conv.Open
		if conv.Open && conv.Assignee != "" {
			st.Assignee = conv.Assignee
			if u, err := tx.User(conv.Assignee); err == nil && u.Name != "" {
				st.Assignee = u.Name
			}
		}
		return nil
	})
	return acts, st, err
}

// chatEventOf is what the page shows of an activity entry, if anything.
func chatEventOf(a store.Activity) (chatEvent, bool) {
	switch a.Kind {
	case runtime.KindMessageIn:
		return chatEvent{From: "contact", Text: a.Text}, true
	case runtime.KindAgentMessage:
		return chatEvent{From: "agent", Text: a.Text}, true
	case runtime.KindMessageOut:
		var m runtime.OutMessage
		if json.Unmarshal(a.Data, &m) != nil || m.Message == nil {
			return chatEvent{From: "bot", Text: a.Text}, true
		}
		v := m.Message.On(WebChatChannel)
		return chatEvent{From: "bot", Text: v.Text, Choices: v.Choices, Files: v.Attachments}, true
	}
	return chatEvent{}, false
}

// webChatChannel delivers to the web chat: the page reads its messages
// from the store, so a message is delivered once it is committed.
type webChatChannel struct{}

func (webChatChannel) Deliver(context.Context, string, string, runtime.OutMessage) (string, error) {
	return "", nil
}
