package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"sort"
	"strings"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// standardFields are respond.io's contact fields and flowd's names of them.
var standardFields = []struct{ api, field string }{
	{"firstName", "firstname"}, {"lastName", "lastname"}, {"phone", "phone"}, {"email", "email"},
	{"language", "language"}, {"profilePic", "profile_pic"}, {"countryCode", "country"},
}

// notCustom are the fields a contact's custom_fields leave out.
var notCustom = map[string]bool{"firstname": true, "lastname": true, "phone": true, "email": true, "language": true,
	"profile_pic": true, "country": true, "lifecycle": true}

// customFieldName is what a custom field's name may be: what a flow can
// declare.
var customFieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Limits of a contact's fields from the API.
const (
	MaxFieldLen     = 255
	MaxCustomFields = 100
	MaxTags         = 10
	MaxTagLen       = 255
	MaxCommentLen   = 10_000
)

// contactView is respond.io's contact.
type contactView struct {
	ID           any           `json:"id"`
	FirstName    any           `json:"firstName"`
	LastName     any           `json:"lastName"`
	Phone        any           `json:"phone"`
	Email        any           `json:"email"`
	Language     any           `json:"language"`
	ProfilePic   any           `json:"profilePic"`
	CountryCode  any           `json:"countryCode"`
	CustomFields []customField `json:"custom_fields"`
	Status       string        `json:"status"` // open or close
	Tags         []string      `json:"tags"`
	Assignee     *assigneeView `json:"assignee"`
	Lifecycle    any           `json:"lifecycle"`
	CreatedAt    int64         `json:"created_at"`
}

type customField struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

type assigneeView struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var v contactView
	err = s.read(r.Context(), func(tx store.Tx) error {
		c, conv, err := tx.ContactState(id)
		if err != nil {
			return err
		}
		v = contactView{ID: jsonID(c.ID), Tags: append([]string{}, c.Tags...), Status: "close", CreatedAt: c.Created.Unix(),
			CustomFields: []customField{}, Lifecycle: c.Fields["lifecycle"]}
		v.FirstName, v.LastName, v.Phone, v.Email = c.Fields["firstname"], c.Fields["lastname"], c.Fields["phone"], c.Fields["email"]
		v.Language, v.ProfilePic, v.CountryCode = c.Fields["language"], c.Fields["profile_pic"], c.Fields["country"]
		names := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			if !notCustom[k] {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			v.CustomFields = append(v.CustomFields, customField{Name: k, Value: c.Fields[k]})
		}
		if conv != nil && conv.Open {
			v.Status = "open"
		}
		if conv != nil && conv.Open && conv.Assignee != "" {
			u, err := tx.User(conv.Assignee)
			if err == nil {
				first, last, _ := strings.Cut(u.Name, " ")
				v.Assignee = &assigneeView{ID: u.ID, FirstName: first, LastName: last, Email: u.Email}
			} else {
				v.Assignee = &assigneeView{ID: conv.Assignee}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// contactFields reads a contact body: respond.io's fields and its
// custom_fields, each checked. A JSON null clears a field.
func contactFields(w http.ResponseWriter, r *http.Request) (map[string]*string, error) {
	var body map[string]json.RawMessage
	if err := decodeBody(w, r, &body); err != nil {
		return nil, err
	}
	out := map[string]*string{}
	known := map[string]string{}
	for _, f := range standardFields {
		known[f.api] = f.field
	}
	for k, raw := range body {
		if k == "custom_fields" {
			continue
		}
		field, ok := known[k]
		if !ok {
			return nil, badRequest(k, "unknown contact field %q: want firstName, lastName, phone, email, language, profilePic, countryCode or custom_fields", k)
		}
		v, err := fieldValue(k, raw)
		if err != nil {
			return nil, err
		}
		out[field] = v
	}
	if raw, ok := body["custom_fields"]; ok {
		var cfs []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &cfs); err != nil {
			return nil, badRequest("custom_fields", "custom_fields: want [{\"name\": ..., \"value\": ...}]")
		}
		if len(cfs) > MaxCustomFields {
			return nil, badRequest("custom_fields", "%d custom fields: at most %d", len(cfs), MaxCustomFields)
		}
		for i, cf := range cfs {
			at := fmt.Sprintf("custom_fields[%d]", i)
			if !customFieldName.MatchString(cf.Name) || notCustom[cf.Name] {
				return nil, badRequest(at+".name", "%s.name %q: want a-z, 0-9 and _, starting with a letter, and not a standard field", at, cf.Name)
			}
			v, err := fieldValue(at+".value", cf.Value)
			if err != nil {
				return nil, err
			}
			out[cf.Name] = v
		}
	}
	for _, f := range []string{"email", "phone"} {
		if v := out[f]; v != nil {
			if err := checkField(f, f, *v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// fieldName is flowd's name of one of respond.io's contact fields, or ""
// when flowd keeps none of it.
func fieldName(api string) string {
	for _, f := range standardFields {
		if f.api == api {
			return f.field
		}
	}
	return ""
}

// checkField checks the value of a standard field that has a form: an
// email address, or a phone number in E.164.
func checkField(at, field, value string) *apiError {
	switch field {
	case "email":
		if a, err := mail.ParseAddress(value); err != nil || a.Address != value {
			return badRequest(at, "%s %q is not an email address", at, value)
		}
	case "phone":
		if !runtime.IsE164(value) {
			return badRequest(at, "%s %q: want E.164, such as +60123456789", at, value)
		}
	}
	return nil
}

// fieldValue is a field's value: text (a number or a boolean as text), or
// nil for null.
func fieldValue(field string, raw json.RawMessage) (*string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest(field, "%s: not a JSON value", field)
	}
	var s string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case float64, bool:
		s = string(raw)
	default:
		return nil, badRequest(field, "%s: want a text, a number or a boolean", field)
	}
	if len(s) > MaxFieldLen {
		return nil, tooLong(field, len(s), MaxFieldLen)
	}
	return &s, nil // the engine cleans it
}

// saveContact serves create (POST), update (PUT) and create-or-update.
func (s *Server) saveContact(create, update bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ident := r.PathValue("identifier")
		key, value, err := runtime.ParseIdentifier(ident)
		if err != nil {
			return badRequest("identifier", "%v", err)
		}
		if create && key == runtime.ByID {
			return badRequest("identifier", "a contact is created by phone: or email:, not by id")
		}
		if err := checkField("identifier", key, value); err != nil {
			return err
		}
		fields, err := contactFields(w, r)
		if err != nil {
			return err
		}
		ev := runtime.SaveContact{Key: key, Value: value, Create: create, Update: update, Fields: fields, ID: new(string)}
		if key == runtime.ByID {
			ev.Contact = value
		}
		if err := s.submit(r.Context(), ev); err != nil {
			return err
		}
		return okContact(w, *ev.ID)
	}
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	if err := s.submit(r.Context(), runtime.Erase{Contact: id}); err != nil {
		return err
	}
	return okContact(w, id)
}

// tags reads respond.io's tag body: an array of 1 to 10 tag names.
func tags(w http.ResponseWriter, r *http.Request) ([]string, error) {
	var tags []string
	if err := decodeBody(w, r, &tags); err != nil {
		return nil, err
	}
	if len(tags) == 0 || len(tags) > MaxTags {
		return nil, badRequest("", "%d tags: want 1 to %d", len(tags), MaxTags)
	}
	for i, t := range tags {
		at := fmt.Sprintf("[%d]", i)
		if strings.TrimSpace(t) == "" {
			return nil, badRequest(at, "tag %d is empty", i)
		}
		if len(t) > MaxTagLen {
			return nil, tooLong(at, len(t), MaxTagLen)
		}
	}
	return tags, nil
}

func (s *Server) changeTags(add bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.contactID(r)
		if err != nil {
			return err
		}
		list, err := tags(w, r)
		if err != nil {
			return err
		}
		ev := runtime.TagChange{Contact: id, Remove: list}
		if add {
			ev = runtime.TagChange{Contact: id, Add: list}
		}
		if err := s.submit(r.Context(), ev); err != nil {
			return err
		}
		return okContact(w, id)
	}
}

func (s *Server) updateLifecycle(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body struct {
		Name *string `json:"name"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	ev := runtime.FieldChange{Contact: id, Field: "lifecycle", Clear: true}
	if body.Name != nil {
		if len(*body.Name) > MaxFieldLen {
			return tooLong("name", len(*body.Name), MaxFieldLen)
		}
		ev = runtime.FieldChange{Contact: id, Field: "lifecycle", Value: *body.Name}
	}
	if err := s.submit(r.Context(), ev); err != nil {
		return err
	}
	return okContact(w, id)
}

func (s *Server) conversationStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body struct {
		Status, Category, Summary string
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if len(body.Category) > MaxFieldLen || len(body.Summary) > MaxCommentLen {
		return badRequest("summary", "category is at most %d characters, summary %d", MaxFieldLen, MaxCommentLen)
	}
	var ev runtime.Event
	switch body.Status {
	case "open":
		ev = runtime.OpenConversation{Contact: id, By: "user"}
	case "close":
		ev = runtime.CloseConversation{Contact: id, By: "user", Category: body.Category, Summary: body.Summary}
	case "":
		return required("status")
	default:
		return badRequest("status", "status %q: want open or close", body.Status)
	}
	if err := s.submit(r.Context(), ev); err != nil {
		return err
	}
	return okContact(w, id)
}

func (s *Server) assignee(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	raw, ok := body["assignee"]
	if !ok {
		return required("assignee")
	}
	var who any
	json.Unmarshal(raw, &who)
	var ev runtime.Event
	switch who := who.(type) {
	case nil:
		ev = runtime.Unassign{Contact: id}
	case string, float64:
		user, err := s.user(r, fmt.Sprint(who))
		if err != nil {
			return err
		}
		ev = runtime.ManualAssign{Contact: id, User: user.ID}
	default:
		return badRequest("assignee", "assignee: want a user's id or email, or null")
	}
	if err := s.submit(r.Context(), ev); err != nil {
		return err
	}
	return okContact(w, id)
}

// user is the workspace's user with the id or email.
func (s *Server) user(r *http.Request, who string) (*store.User, error) {
	var found *store.User
	err := s.read(r.Context(), func(tx store.Tx) error {
		users, err := tx.Users()
		for i := range users {
			if users[i].ID == who || strings.EqualFold(users[i].Email, who) {
				found = &users[i]
			}
		}
		return err
	})
	if err == nil && found == nil {
		err = &apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("no user %q", who), Field: "assignee"}
	}
	return found, err
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body struct{ Text string }
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Text) == "" {
		return required("text")
	}
	if len(body.Text) > MaxCommentLen {
		return tooLong("text", len(body.Text), MaxCommentLen)
	}
	if err := s.submit(r.Context(), runtime.Comment{Contact: id, Text: body.Text}); err != nil {
		return err
	}
	return okContact(w, id)
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body struct {
		ChannelID string `json:"channelId"`
		Message   *struct {
			Type, Text string
		} `json:"message"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	switch {
	case body.Message == nil:
		return required("message")
	case body.Message.Type != "text":
		return badRequest("message.type", "message.type %q: flowd sends text from the API", body.Message.Type)
	case strings.TrimSpace(body.Message.Text) == "":
		return required("message.text")
	case len(body.Message.Text) > interpreter.MaxMessageLen*4:
		return tooLong("message.text", len(body.Message.Text), interpreter.MaxMessageLen*4)
	}
	if body.ChannelID != "" {
		if _, ok := s.channels[body.ChannelID]; !ok {
			return &apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("no channel %q", body.ChannelID), Field: "channelId"}
		}
	}
	var out int64
	if err := s.submit(r.Context(), runtime.AgentMessage{Contact: id, User: "api", Text: body.Message.Text, Out: &out}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messageId": runtime.MessageID(out)})
	return nil
}

// maxScanned bounds the activity one page of messages reads.
const maxScanned = 1000

// trafficOf is the direction of the activity that is a message.
var trafficOf = map[string]string{runtime.KindMessageIn: "incoming", runtime.KindMessageOut: "outgoing", runtime.KindAgentMessage: "outgoing"}

// messageView is respond.io's message.
type messageView struct {
	MessageID        any            `json:"messageId"`
	ChannelMessageID any            `json:"channelMessageId"`
	ContactID        any            `json:"contactId"`
	Traffic          string         `json:"traffic"` // incoming or outgoing
	Message          map[string]any `json:"message"`
	Timestamp        int64          `json:"timestamp"`
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 10, 1, 100)
	if err != nil {
		return err
	}
	cursor, err := queryInt(r, "cursorId", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	items := []messageView{}
	next := 0
	err = s.read(r.Context(), func(tx store.Tx) error {
		// at most maxScanned entries of activity are read a request: a page
		// of a contact with little to show ends early, and says where next
		for before, read := int64(cursor), 0; read < maxScanned; read += 100 {
			acts, err := tx.ActivityBefore(id, before, 100)
			if err != nil || len(acts) == 0 {
				next = 0
				return err
			}
			for _, a := range acts {
				before, next = a.ID, int(a.ID)
				traffic := trafficOf[a.Kind]
				if traffic == "" {
					continue
				}
				items = append(items, messageView{MessageID: a.ID, ContactID: jsonID(id), Traffic: traffic,
					Message: map[string]any{"type": "text", "text": a.Text}, Timestamp: a.At.UnixMilli()})
				if len(items) == limit {
					return nil
				}
			}
			if len(acts) < 100 { // the contact's first entry was read
				next = 0
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	page := map[string]any{"next": nil, "previous": nil}
	if next > 0 {
		page["next"] = fmt.Sprintf("%s?limit=%d&cursorId=%d", r.URL.Path, limit, next)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "pagination": page})
	return nil
}

func (s *Server) contactChannels(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	return s.itemsOf(w, r, id, func(tx store.Tx) (items []map[string]any, err error) {
		addrs, err := tx.Addresses(id)
		for _, a := range addrs {
			items = append(items, map[string]any{"id": a.ChannelID, "name": a.Channel, "source": "custom_channel", "contactId": a.ExternalID})
		}
		return items, err
	})
}
