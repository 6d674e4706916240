package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// Limits of a webhook request, beyond which it is refused whole.
const (
	MaxWebhookBody   = 1 << 20 // bytes
	MaxWebhookEvents = 100
	MaxIDLen         = 50   // contactId and mId, as respond.io's
	MaxProfileLen    = 255  // each field of the contact block
	MaxURLLen        = 2048 // an attachment's URL
	MaxReferralBody  = 8 << 10
)

// contactIDChars are the characters respond.io allows in a custom contact
// id; an E.164 phone number is one such id. A message id may also hold the
// - . and : of the ids providers give (UUIDs, WhatsApp's wamid.…).
var (
	contactIDChars = regexp.MustCompile(`^[A-Za-z0-9_=+/@]+$`)
	messageIDChars = regexp.MustCompile(`^[A-Za-z0-9_=+/@.:-]+$`)
)

// webhookBody is respond.io's Custom Channel webhook request.
type webhookBody struct {
	ChannelID string          `json:"channelId"`
	ContactID string          `json:"contactId"`
	Events    []webhookEvent  `json:"events"`
	Contact   *webhookContact `json:"contact"`
}

type webhookEvent struct {
	Type      string           `json:"type"`
	MID       string           `json:"mId"`
	Timestamp *float64         `json:"timestamp"`
	Message   *webhookMessage  `json:"message"`
	Status    *webhookStatus   `json:"status"`
	Referral  *webhookReferral `json:"referral"` // flowd's extension: see docs/server.md
}

type webhookMessage struct {
	Type       string              `json:"type"`
	Text       string              `json:"text"`
	Attachment *runtime.Attachment `json:"attachment"`
	Latitude   *float64            `json:"latitude"`
	Longitude  *float64            `json:"longitude"`
}

type webhookStatus struct {
	Value   string `json:"value"`
	Message string `json:"message"`
}

type webhookReferral struct {
	Platform string          `json:"platform"`
	AdID     string          `json:"adId"`
	Data     json.RawMessage `json:"data"`
}

type webhookContact struct {
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	ProfilePic  string `json:"profilePic"`
	Locale      string `json:"locale"`
	CountryCode string `json:"countryCode"`
	Timezone    any    `json:"timezone"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	Language    string `json:"language"`
}

// webhook takes respond.io's Custom Channel webhook: the events of one
// contact on one channel. It answers 200 once every event is committed,
// and 5xx when one failed after others committed: the sender's retry is
// safe, as the committed ones are known by their mId.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.takeWebhook(rec, r)
	if rec.status >= 400 {
		s.cfg.Metrics.rejected(rec.status)
	}
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) takeWebhook(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	sender := s.channelOfToken(token)
	if sender == nil {
		writeError(w, &apiError{Code: http.StatusUnauthorized, Message: "a channel's API token is wanted: Authorization: Bearer <token>"})
		return
	}
	if s.perChannel.limited(w, sender.ID, "channel "+sender.ID) {
		return
	}
	body, apiErr := readBody(w, r, MaxWebhookBody)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	var req webhookBody
	if err := decodeJSON(body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.ChannelID == "" {
		writeError(w, badRequest("channelId", "channelId is required"))
		return
	}
	ch, ok := s.channels[req.ChannelID]
	if !ok {
		writeError(w, &apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("no channel %q", req.ChannelID), Field: "channelId"})
		return
	}
	if !sameToken(token, ch.Token) {
		writeError(w, &apiError{Code: http.StatusUnauthorized, Message: fmt.Sprintf("the token is not channel %q's", req.ChannelID)})
		return
	}
	evs, apiErr := req.events(ch, time.Now())
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if s.perContact.limited(w, ch.ID+"\x00"+req.ContactID, "contact "+req.ContactID) {
		return
	}
	errs := s.cfg.Submit(r.Context(), evs)
	for i, err := range errs {
		if err == nil {
			continue
		}
		s.cfg.Log.Error("webhook: an event failed", "channel", ch.ID, "event", i, "err", err)
		code := http.StatusInternalServerError
		if errors.Is(err, runtime.ErrClosed) {
			code = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
		}
		writeError(w, &apiError{Code: code, Message: fmt.Sprintf("event %d was not taken: retry the request (events taken already are known by their mId)", i),
			Field: fmt.Sprintf("events[%d]", i)})
		return
	}
	s.cfg.Metrics.taken(ch.ID, evs)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "events": len(evs)})
}

// channelOfToken is a channel whose token this is, or nil.
func (s *Server) channelOfToken(token string) *Channel {
	var found *Channel
	for _, ch := range s.cfg.Channels {
		if sameToken(token, ch.Token) && found == nil { // every one compared: no timing says which
			found = s.channels[ch.ID]
		}
	}
	return found
}

// readBody reads a request's body up to max bytes: 413 past it.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *apiError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &apiError{Code: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the body is over %d bytes", max)}
	case err != nil:
		return nil, badRequest("", "reading the body: %v", err)
	}
	return b, nil
}

// decodeJSON decodes one JSON value, naming where it went wrong.
func decodeJSON(b []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(te.Field, "%s: want a JSON %s, not %s", te.Field, te.Type.Kind(), te.Value)
		}
		return badRequest("", "the body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("", "the body holds more than one JSON value")
	}
	return nil
}

// events validates the request whole and turns it into the engine's
// events, in order.
func (req *webhookBody) events(ch *Channel, now time.Time) ([]runtime.Event, *apiError) {
	if err := checkID("contactId", req.ContactID, contactIDChars, "A-Z a-z 0-9 _ = + / @"); err != nil {
		return nil, err
	}
	switch {
	case req.Events == nil:
		return nil, badRequest("events", "events is required")
	case len(req.Events) == 0:
		return nil, badRequest("events", "events is empty")
	case len(req.Events) > MaxWebhookEvents:
		return nil, badRequest("events", "%d events: at most %d a request", len(req.Events), MaxWebhookEvents)
	}
	profile, apiErr := req.Contact.profile()
	if apiErr != nil {
		return nil, apiErr
	}
	from := store.Address{ChannelID: ch.ID, Channel: ch.Name, ExternalID: req.ContactID}
	evs := make([]runtime.Event, 0, len(req.Events))
	for i := range req.Events {
		ev, err := req.Events[i].event(fmt.Sprintf("events[%d]", i), from, now)
		if err != nil {
			return nil, err
		}
		ev.Profile = profile
		evs = append(evs, ev)
	}
	return evs, nil
}

func checkID(field, id string, chars *regexp.Regexp, allowed string) *apiError {
	switch {
	case id == "":
		return badRequest(field, "%s is required", field)
	case len(id) > MaxIDLen:
		return badRequest(field, "%s is %d characters: at most %d", field, len(id), MaxIDLen)
	case !chars.MatchString(id):
		return badRequest(field, "%s %q: only %s may be used", field, id, allowed)
	}
	return nil
}

func (e *webhookEvent) event(at string, from store.Address, now time.Time) (runtime.Inbound, *apiError) {
	in := runtime.Inbound{From: from, Type: e.Type, MID: e.MID, At: now}
	if err := checkID(at+".mId", e.MID, messageIDChars, "A-Z a-z 0-9 _ = + / @ . : -"); err != nil {
		return in, err
	}
	if e.Timestamp != nil {
		ms := *e.Timestamp
		if ms < 0 || ms > 1e15 || math.IsNaN(ms) {
			return in, badRequest(at+".timestamp", "%s.timestamp: want milliseconds since 1970", at)
		}
		in.At = time.UnixMilli(int64(ms)).UTC()
	}
	switch e.Type {
	case runtime.InMessage, runtime.InEcho:
		if err := e.Message.fill(at+".message", &in); err != nil {
			return in, err
		}
		if e.Referral != nil {
			if e.Type != runtime.InMessage {
				return in, badRequest(at+".referral", "%s.referral: only a message comes from an ad", at)
			}
			ad, err := e.Referral.adClick(at + ".referral")
			if err != nil {
				return in, err
			}
			in.Referral = ad
		}
	case runtime.InStatus:
		if e.Status == nil {
			return in, badRequest(at+".status", "%s.status is required for a message_status", at)
		}
		switch e.Status.Value {
		case "sent", "delivered", "read", "failed":
		default:
			return in, badRequest(at+".status.value", "%s.status.value %q: want sent, delivered, read or failed", at, e.Status.Value)
		}
		in.Status, in.StatusMessage = e.Status.Value, limit(e.Status.Message, 1000) // the engine cleans it
	case "":
		return in, badRequest(at+".type", "%s.type is required", at)
	default:
		return in, badRequest(at+".type", "%s.type %q: want message, message_echo or message_status", at, e.Type)
	}
	return in, nil
}

func (m *webhookMessage) fill(at string, in *runtime.Inbound) *apiError {
	if m == nil {
		return badRequest(at, "%s is required", at)
	}
	switch m.Type {
	case "text":
		if strings.TrimSpace(m.Text) == "" {
			return badRequest(at+".text", "%s.text is empty", at)
		}
		in.Text = m.Text // cleaned and cut by the engine
	case "attachment":
		a := m.Attachment
		if a == nil {
			return badRequest(at+".attachment", "%s.attachment is required", at)
		}
		switch a.Type {
		case "image", "video", "audio", "file":
		default:
			return badRequest(at+".attachment.type", "%s.attachment.type %q: want image, video, audio or file", at, a.Type)
		}
		if err := checkURL(at+".attachment.url", a.URL); err != nil {
			return err
		}
		in.Attachment = &runtime.Attachment{Type: a.Type, URL: a.URL}
		in.Text = m.Text
	case "location":
		if m.Latitude == nil || m.Longitude == nil || math.Abs(*m.Latitude) > 90 || math.Abs(*m.Longitude) > 180 {
			return badRequest(at, "%s: a location wants latitude (-90..90) and longitude (-180..180)", at)
		}
		in.Location = &interpreter.Location{Lat: *m.Latitude, Long: *m.Longitude}
	case "":
		return badRequest(at+".type", "%s.type is required", at)
	default:
		return badRequest(at+".type", "%s.type %q: want text, attachment or location", at, m.Type)
	}
	return nil
}

func checkURL(field, s string) *apiError {
	if len(s) > MaxURLLen {
		return badRequest(field, "%s is %d characters: at most %d", field, len(s), MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return badRequest(field, "%s %q: want an http or https URL", field, s)
	}
	return nil
}

func (r *webhookReferral) adClick(at string) (*runtime.AdClick, *apiError) {
	if r.Platform == "" {
		return nil, badRequest(at+".platform", "%s.platform is required", at)
	}
	if len(r.Platform) > MaxIDLen || len(r.AdID) > 255 {
		return nil, badRequest(at, "%s: platform is at most %d characters, adId 255", at, MaxIDLen)
	}
	ad := &runtime.AdClick{Platform: r.Platform, AdID: r.AdID}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		if len(r.Data) > MaxReferralBody {
			return nil, badRequest(at+".data", "%s.data is over %d bytes", at, MaxReferralBody)
		}
		if err := json.Unmarshal(r.Data, &ad.Referral); err != nil {
			return nil, badRequest(at+".data", "%s.data: want a JSON object", at)
		}
	}
	return ad, nil
}

// profile is the contact block as flowd's standard fields.
func (c *webhookContact) profile() (map[string]string, *apiError) {
	if c == nil {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range []struct{ name, value string }{
		{"firstName", c.FirstName}, {"lastName", c.LastName}, {"email", c.Email}, {"phone", c.Phone},
		{"language", c.Language}, {"countryCode", c.CountryCode}, {"profilePic", c.ProfilePic}, {"locale", c.Locale},
	} {
		at := "contact." + f.name
		if len(f.value) > MaxProfileLen {
			return nil, badRequest(at, "%s is %d characters: at most %d", at, len(f.value), MaxProfileLen)
		}
		field := fieldName(f.name)
		if field == "" || f.value == "" {
			continue
		}
		if err := checkField(at, field, f.value); err != nil {
			return nil, err
		}
		out[field] = f.value
	}
	return out, nil
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
