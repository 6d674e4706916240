package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/flowd/flowd/runtime"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
)

// The OpenAPI 3 document at /openapi.json, built from the routes the
// server serves with github.com/getkin/kin-openapi: each route's summary,
// parameters and body and answer shapes, the shapes generated from the Go
// types the handlers use. A route without a doc fails the build, and a test
// holds the document to the routes served.

// Shapes of bodies that the handlers read into anonymous types.
type (
	contactBody struct {
		FirstName    *string       `json:"firstName,omitempty"`
		LastName     *string       `json:"lastName,omitempty"`
		Phone        *string       `json:"phone,omitempty"`
		Email        *string       `json:"email,omitempty"`
		Language     *string       `json:"language,omitempty"`
		ProfilePic   *string       `json:"profilePic,omitempty"`
		CountryCode  *string       `json:"countryCode,omitempty"`
		CustomFields []customField `json:"custom_fields,omitempty"`
	}
	lifecycleBody struct {
		Name *string `json:"name"`
	}
	statusBody struct {
		Status   string `json:"status"`
		Category string `json:"category,omitempty"`
		Summary  string `json:"summary,omitempty"`
	}
	assigneeBody struct {
		Assignee *string `json:"assignee"`
	}
	commentBody struct {
		Text string `json:"text"`
	}
	sendBody struct {
		ChannelID string `json:"channelId,omitempty"`
		Message   struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"message"`
	}
	flowBody struct {
		Flow string `json:"flow,omitempty"`
	}
	shortcutBody struct {
		Name string            `json:"name"`
		User string            `json:"user,omitempty"`
		Form map[string]string `json:"form,omitempty"`
	}
	migrateBody struct {
		Apply bool  `json:"apply"`
		After int64 `json:"after,omitempty"`
		Limit int   `json:"limit,omitempty"`
	}
	migrateAnswer struct {
		Items   []runtime.RunMove `json:"items"`
		Moved   int               `json:"moved"`
		Left    int               `json:"left"`
		Applied bool              `json:"applied"`
		Next    int64             `json:"next"`
	}
	userStatusBody struct {
		Status string `json:"status"`
	}
	contactIDAnswer struct {
		ContactID int64 `json:"contactId"`
	}
	messageIDAnswer struct {
		MessageID string `json:"messageId"`
	}
	statusAnswer struct {
		Status string `json:"status"`
	}
	listAnswer struct {
		Items []map[string]any `json:"items"`
	}
	messagesAnswer struct {
		Items      []messageView `json:"items"`
		Pagination struct {
			Next     *string `json:"next"`
			Previous *string `json:"previous"`
		} `json:"pagination"`
	}
	flowsAnswer struct {
		Items []FlowInfo `json:"items"`
	}
	visitorAnswer struct {
		Token string `json:"token"`
	}
	chatMessageBody struct {
		Text string `json:"text"`
		MID  string `json:"mId"`
	}
)

// A routeDoc says what a route does and takes.
type routeDoc struct {
	summary  string
	auth     string // api, channel, webhook or "" (none)
	body     any    // nil: none
	answer   any    // nil: no JSON (metrics)
	query    []string
	ownShape bool // the answer is not JSON (metrics)
}

var routeDocs = map[string]routeDoc{
	"POST /custom/channel/webhook":  {summary: "respond.io's Custom Channel webhook: a contact's messages, echoes and status reports", auth: "channel", body: webhookBody{}, answer: map[string]any{}},
	"POST /custom/channel/webhook/": {summary: "The same, at respond.io's path with its final slash", auth: "channel", body: webhookBody{}, answer: map[string]any{}},
	"GET /healthz":                  {summary: "The process serves", answer: statusAnswer{}},
	"GET /readyz":                   {summary: "The store answers and the flows are loaded", answer: statusAnswer{}},
	"GET /metrics":                  {summary: "Prometheus metrics, in its text format", ownShape: true},
	"GET /openapi.json":             {summary: "This document", ownShape: true},

	"GET /v2/contact/{identifier}":                        {summary: "Get a contact", auth: "api", answer: contactView{}},
	"POST /v2/contact/{identifier}":                       {summary: "Create a contact (identifier phone: or email:)", auth: "api", body: contactBody{}, answer: contactIDAnswer{}},
	"PUT /v2/contact/{identifier}":                        {summary: "Update a contact; null clears a field", auth: "api", body: contactBody{}, answer: contactIDAnswer{}},
	"DELETE /v2/contact/{identifier}":                     {summary: "Erase a contact and everything kept about it", auth: "api", answer: contactIDAnswer{}},
	"POST /v2/contact/create_or_update/{identifier}":      {summary: "Create a contact, or update the one the identifier names", auth: "api", body: contactBody{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/tag":                   {summary: "Add 1 to 10 tags", auth: "api", body: []string{}, answer: contactIDAnswer{}},
	"DELETE /v2/contact/{identifier}/tag":                 {summary: "Remove 1 to 10 tags", auth: "api", body: []string{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/lifecycle/update":      {summary: "Set or clear the lifecycle", auth: "api", body: lifecycleBody{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/conversation/status":   {summary: "Open or close the conversation, with closing notes", auth: "api", body: statusBody{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/conversation/assignee": {summary: "Assign the conversation to a user (id or email), or unassign it (null)", auth: "api", body: assigneeBody{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/comment":               {summary: "Add a comment to the contact's timeline", auth: "api", body: commentBody{}, answer: contactIDAnswer{}},
	"POST /v2/contact/{identifier}/message":               {summary: "Send a message as an agent", auth: "api", body: sendBody{}, answer: messageIDAnswer{}},
	"GET /v2/contact/{identifier}/message/list":           {summary: "List the contact's messages, newest first", auth: "api", query: []string{"limit", "cursorId"}, answer: messagesAnswer{}},
	"GET /v2/contact/{identifier}/channels":               {summary: "The channels that reach the contact", auth: "api", answer: listAnswer{}},

	"GET /v2/flowd/contact/{identifier}/activity":         {summary: "The contact's activity log, oldest first", auth: "api", query: []string{"after", "limit"}, answer: listAnswer{}},
	"GET /v2/flowd/contact/{identifier}/runs":             {summary: "The contact's runs: where each is paused, on which version, waiting for what, since when", auth: "api", answer: listAnswer{}},
	"POST /v2/flowd/contact/{identifier}/runs/{run}/stop": {summary: "Stop a run", auth: "api", answer: contactIDAnswer{}},
	"POST /v2/flowd/contact/{identifier}/bot/stop":        {summary: "Stop the bot for the contact's conversation", auth: "api", body: flowBody{}, answer: contactIDAnswer{}},
	"POST /v2/flowd/contact/{identifier}/bot/resume":      {summary: "Let the bot start again for the contact's conversation", auth: "api", body: flowBody{}, answer: contactIDAnswer{}},
	"POST /v2/flowd/contact/{identifier}/shortcut":        {summary: "Run a shortcut for the contact", auth: "api", body: shortcutBody{}, answer: contactIDAnswer{}},
	"GET /v2/flowd/flows":                                 {summary: "The flows, with their diagnostics and graphs", auth: "api", answer: flowsAnswer{}},
	"POST /v2/flowd/flows/{flow}/migrate":                 {summary: "Move the flow's paused runs to its current version by their steps' labels: a dry run unless apply", auth: "api", body: migrateBody{}, answer: migrateAnswer{}},
	"GET /v2/flowd/users":                                 {summary: "The users, with status and open conversations", auth: "api", answer: listAnswer{}},
	"POST /v2/flowd/users/{user}/status":                  {summary: "Set a user's status: online, away or offline", auth: "api", body: userStatusBody{}, answer: map[string]any{}},
	"GET /v2/flowd/teams":                                 {summary: "The teams and their members", auth: "api", answer: listAnswer{}},
	"POST /v2/flowd/webhooks/{id}":                        {summary: "Start a webhook flow; the body is the trigger data", auth: "webhook", body: map[string]any{}, answer: map[string]any{}},

	"GET /{$}":              {summary: "The web chat's page", ownShape: true},
	"POST /webchat/session": {summary: "A new web chat visitor: a token naming a new contact, whose conversation opens", answer: visitorAnswer{}},
	"POST /webchat/message": {summary: "The visitor's message", auth: "visitor", body: chatMessageBody{}, answer: statusAnswer{}},
	"GET /webchat/events":   {summary: "The visitor's conversation as Server-Sent Events (message, state), resumable by Last-Event-ID", auth: "visitor", query: []string{"after"}, ownShape: true},
}

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// OpenAPI builds the document of the routes served.
func (s *Server) OpenAPI() (*openapi3.T, error) {
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: "flowd", Version: "1",
		Description: "flowd's HTTP surface: respond.io's Custom Channel webhook, the admin API in respond.io's Developer API v2 shapes, and flowd's additions. See docs/server.md."},
		Paths: openapi3.NewPaths()}
	doc.Components = &openapi3.Components{Schemas: openapi3.Schemas{}, SecuritySchemes: openapi3.SecuritySchemes{}}
	for _, name := range []string{"api", "channel", "webhook", "visitor"} {
		doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer").
			WithDescription(map[string]string{"api": "FLOWD_API_TOKEN", "channel": "the channel's API token", "webhook": "the webhook flow's own secret",
				"visitor": "a web chat visitor's token (also ?token= for EventSource)"}[name])}
	}
	errSchema, err := openapi3gen.NewSchemaRefForValue(apiError{}, doc.Components.Schemas)
	if err != nil {
		return nil, err
	}
	doc.Components.Schemas["Error"] = errSchema
	schema := func(v any) (*openapi3.SchemaRef, error) {
		return openapi3gen.NewSchemaRefForValue(v, doc.Components.Schemas)
	}
	for _, pattern := range s.Routes() {
		d, ok := routeDocs[pattern]
		if !ok {
			return nil, fmt.Errorf("route %q has no doc", pattern)
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.TrimSuffix(path, "{$}") // Go's mux: / and nothing after it
		op := openapi3.NewOperation()
		op.Summary = d.summary
		op.OperationID = strings.ToLower(method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(path)
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			p := openapi3.NewPathParameter(m[1]).WithSchema(openapi3.NewStringSchema())
			if m[1] == "identifier" {
				p.Description = "id:123, phone:+60123456789 or email:ana@example.com"
			}
			op.AddParameter(p)
		}
		for _, q := range d.query {
			op.AddParameter(openapi3.NewQueryParameter(q).WithSchema(openapi3.NewIntegerSchema()))
		}
		if d.auth != "" {
			op.Security = &openapi3.SecurityRequirements{{d.auth: []string{}}}
		}
		if d.body != nil {
			ref, err := schema(d.body)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pattern, err)
			}
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchemaRef(ref)}
		}
		ok200 := openapi3.NewResponse().WithDescription("OK")
		if d.answer != nil {
			ref, err := schema(d.answer)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pattern, err)
			}
			ok200.WithJSONSchemaRef(ref)
		}
		op.Responses = openapi3.NewResponses()
		op.AddResponse(http.StatusOK, ok200)
		op.Responses.Set("default", &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription("An error: {code, message, field}").WithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/Error", errSchema.Value))})
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(path, item)
		}
		item.SetOperation(method, op)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	return doc, nil
}

// openapi serves the document, built once.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	s.docOnce.Do(func() {
		doc, err := s.OpenAPI()
		if err == nil {
			s.doc, err = json.Marshal(doc)
		}
		s.docErr = err
	})
	if s.docErr != nil {
		writeError(w, &apiError{Code: http.StatusInternalServerError, Message: "the OpenAPI document: " + s.docErr.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.doc)
}

// docCache is the document, built at the first request.
type docCache struct {
	docOnce sync.Once
	doc     []byte
	docErr  error
}
