package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowd/flowd/graph"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/project"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// flowd's additions to the admin API, under /v2/flowd/.

// A FlowInfo is a flow file as flowd loaded it: what GET /v2/flowd/flows
// shows.
type FlowInfo struct {
	Name    string `json:"name"`
	File    string `json:"file"`
	Version string `json:"version,omitempty"` // the program's hash; "" when it failed
	Serving bool   `json:"serving"`
	// Stale is a file with errors whose last good version (Version)
	// serves.
	Stale       bool     `json:"stale,omitempty"`
	Draft       bool     `json:"draft"`
	Trigger     string   `json:"trigger,omitempty"`
	Webhook     string   `json:"webhook,omitempty"` // its URL's path, for a webhook flow
	Diagnostics []string `json:"diagnostics"`
	Graph       string   `json:"graph,omitempty"` // Mermaid
}

// FlowInfos describe loaded flows.
func FlowInfos(flows []*project.Flow) []FlowInfo {
	out := make([]FlowInfo, 0, len(flows))
	for _, f := range flows {
		info := FlowInfo{Name: f.Name, File: f.Path, Serving: !f.Failed(), Diagnostics: []string{}}
		for _, d := range f.Diags {
			info.Diagnostics = append(info.Diagnostics, fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Summary))
		}
		if p := f.Program; p != nil {
			info.Name, info.Version, info.Draft = p.Flow, p.Hash, p.Draft
			if p.Trigger != nil {
				info.Trigger = p.Trigger.Event
				if p.Trigger.Event == interpreter.EventWebhook {
					info.Webhook = "/v2/flowd/webhooks/" + runtime.WebhookID(p.Flow)
				}
			}
		}
		if f.File != nil {
			var b bytes.Buffer
			graph.Build(f.File).Mermaid(&b)
			info.Graph = b.String()
		}
		out = append(out, info)
	}
	return out
}

// migrateRuns moves a flow's paused runs to its current version by their
// steps' labels; a dry run unless the body says apply. It looks at a page of
// runs: next, when not 0, is the after of the next call.
func (s *Server) migrateRuns(w http.ResponseWriter, r *http.Request) error {
	var body migrateBody
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, &body); err != nil {
			return err
		}
	}
	if body.After < 0 || body.Limit < 0 || body.Limit > runtime.MaxMigrate {
		return badRequest("limit", "after: a run id; limit: 1 to %d runs looked at (0: %d)", runtime.MaxMigrate, runtime.MaxMigrate)
	}
	moves, next, err := s.cfg.Engine.MigrateRuns(r.Context(), r.PathValue("flow"), body.Apply, body.After, body.Limit)
	if err != nil {
		return err
	}
	answer := migrateAnswer{Items: moves, Applied: body.Apply, Next: next}
	if answer.Items == nil {
		answer.Items = []runtime.RunMove{}
	}
	for _, m := range moves {
		if m.Moved {
			answer.Moved++
		} else {
			answer.Left++
		}
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) error {
	flows := s.cfg.Flows
	if s.cfg.Library != nil {
		flows = s.cfg.Library.Infos()
	}
	if flows == nil {
		flows = []FlowInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": flows})
	return nil
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	return s.itemsOf(w, r, id, func(tx store.Tx) (items []map[string]any, err error) {
		acts, err := tx.Activity(id, int64(after), limit)
		for _, a := range acts {
			item := map[string]any{"id": a.ID, "at": a.At.Format(time.RFC3339Nano), "kind": a.Kind, "text": a.Text}
			if a.Flow != "" {
				item["flow"], item["run"] = a.Flow, a.RunID
			}
			items = append(items, item)
		}
		return items, err
	})
}

func (s *Server) runs(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	return s.itemsOf(w, r, id, func(tx store.Tx) (items []map[string]any, err error) {
		runs, err := tx.Runs(id, 0, 1000)
		for _, run := range runs {
			item := map[string]any{"id": run.ID, "flow": run.Flow, "version": run.Program, "status": run.Status,
				"started": run.Started.Format(time.RFC3339Nano), "updated": run.Updated.Format(time.RFC3339Nano)}
			if run.Status == store.RunWaiting {
				item["waitingFor"], item["since"] = run.Wait, run.Updated.Format(time.RFC3339Nano)
				if !run.Deadline.IsZero() {
					item["deadline"] = run.Deadline.Format(time.RFC3339Nano)
				}
			}
			if run.Err != "" {
				item["error"] = run.Err
			}
			items = append(items, item)
		}
		return items, err
	})
}

// itemsOf answers {"items": [...]} with what list reads of a contact.
func (s *Server) itemsOf(w http.ResponseWriter, r *http.Request, id string, list func(store.Tx) ([]map[string]any, error)) error {
	var items []map[string]any
	err := s.read(r.Context(), func(tx store.Tx) (err error) {
		items, err = list(tx)
		return err
	})
	if err != nil {
		return err
	}
	if items == nil {
		items = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) stopRun(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	run, err := strconv.ParseInt(r.PathValue("run"), 10, 64)
	if err != nil {
		return badRequest("run", "run %q: want a run id", r.PathValue("run"))
	}
	if err := s.submit(r.Context(), runtime.StopRun{Contact: id, Run: run}); err != nil {
		return err
	}
	return okContact(w, id)
}

// bot stops (StopBot) or resumes the bot for the contact, for one flow or
// all.
func (s *Server) bot(stop bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.contactID(r)
		if err != nil {
			return err
		}
		var body struct{ Flow string }
		if r.ContentLength != 0 {
			if err := decodeBody(w, r, &body); err != nil {
				return err
			}
		}
		var ev runtime.Event = runtime.ResumeBot{Contact: id, Flow: body.Flow}
		if stop {
			ev = runtime.StopBot{Contact: id, Flow: body.Flow}
		}
		if err := s.submit(r.Context(), ev); err != nil {
			return err
		}
		return okContact(w, id)
	}
}

func (s *Server) shortcut(w http.ResponseWriter, r *http.Request) error {
	id, err := s.contactID(r)
	if err != nil {
		return err
	}
	var body struct {
		Name, User string
		Form       map[string]string
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if body.Name == "" {
		return required("name")
	}
	known := false
	for _, p := range s.cfg.Engine.Flows() {
		known = known || p.Trigger != nil && p.Trigger.Event == interpreter.EventShortcut && p.Trigger.Shortcut == body.Name
	}
	if !known {
		return &apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("no flow has the shortcut %q", body.Name), Field: "name"}
	}
	if len(body.Form) > MaxCustomFields {
		return badRequest("form", "at most %d answers", MaxCustomFields)
	}
	for k, v := range body.Form {
		if len(v) > MaxCommentLen {
			return tooLong("form."+k, len(v), MaxCommentLen)
		}
	}
	if err := s.submit(r.Context(), runtime.Shortcut{Contact: id, Name: body.Name, User: body.User, Form: body.Form}); err != nil {
		return err
	}
	return okContact(w, id)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	items := []map[string]any{}
	err := s.read(r.Context(), func(tx store.Tx) error {
		users, err := tx.Users()
		if err != nil {
			return err
		}
		counts, err := tx.OpenCounts()
		for _, u := range users {
			items = append(items, map[string]any{"id": u.ID, "name": u.Name, "email": u.Email, "teams": u.Teams,
				"status": u.Status, "openConversations": counts[u.ID]})
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	members := map[string][]string{}
	var names []string
	err := s.read(r.Context(), func(tx store.Tx) error {
		users, err := tx.Users()
		for _, u := range users {
			for _, t := range u.Teams {
				if _, ok := members[t]; !ok {
					names = append(names, t)
				}
				members[t] = append(members[t], u.ID)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, t := range s.cfg.Teams {
		if _, ok := members[t]; !ok {
			names = append(names, t)
			members[t] = []string{}
		}
	}
	items := []map[string]any{}
	for _, t := range names {
		items = append(items, map[string]any{"name": t, "members": members[t]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) userStatus(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r, r.PathValue("user"))
	if err != nil {
		return err
	}
	var body struct{ Status string }
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	switch body.Status {
	case "online", "away", "offline":
	case "":
		return required("status")
	default:
		return badRequest("status", "status %q: want online, away or offline", body.Status)
	}
	if err := s.submit(r.Context(), runtime.UserStatus{User: u.ID, Status: body.Status}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "status": body.Status})
	return nil
}

// webhook starts the flow whose webhook URL this is: authenticated by the
// flow's own secret, the body is the trigger data, and the contact is the
// one the trigger's identify names, found or created.
func (s *Server) flowWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var flow *interpreter.Program
	for _, p := range s.cfg.Engine.Flows() {
		if p.Trigger != nil && p.Trigger.Event == interpreter.EventWebhook && !p.Draft && runtime.WebhookID(p.Flow) == id {
			flow = p
		}
	}
	secret := s.cfg.WebhookSecrets[id]
	if flow == nil || secret == "" {
		writeError(w, &apiError{Code: http.StatusNotFound, Message: fmt.Sprintf("no webhook %q: a flow with a webhook trigger whose secret the workspace names", id)})
		return
	}
	if !sameToken(bearer(r), secret) {
		writeError(w, &apiError{Code: http.StatusUnauthorized, Message: "the webhook's secret is wanted: Authorization: Bearer <secret>"})
		return
	}
	b, apiErr := readBody(w, r, MaxAPIBody)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	var body any
	if err := decodeJSON(b, &body); err != nil {
		writeError(w, err)
		return
	}
	key, value, err := runtime.WebhookContact(flow, body)
	if err != nil {
		writeError(w, badRequest(flow.Trigger.Path, "%v", err))
		return
	}
	if key == runtime.ByPhone && !runtime.IsE164(value) || len(value) > MaxFieldLen {
		writeError(w, badRequest(flow.Trigger.Path, "the contact's %s %q is not one flowd takes", key, value))
		return
	}
	ev := runtime.Webhook{Flow: flow.Flow, Body: body, Key: key, Value: strings.TrimSpace(value), Create: flow.Trigger.Create}
	if err := s.submit(r.Context(), ev); err != nil {
		writeError(w, asAPIError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "flow": flow.Flow})
}
