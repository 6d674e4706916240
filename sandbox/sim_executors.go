package sandbox

import (
	"context"
	"errors"
	"sort"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// The executors of an World: what the outside world answers in a
// simulation.

// simAgents is the directory of a simulation: the user an assign step
// names exists, and a team has one agent, agent@TEAM, made up on demand
// with the world's agents' status.
type simAgents struct {
	status string // of agents made up from now on: "" is online
	none   bool   // the workspace has no agents: none is made up
	made   map[string]bool
}

func (a *simAgents) Users() []store.User { return nil }

func (a *simAgents) Named(as *interpreter.Assign) []store.User {
	if a.none {
		return nil
	}
	status := a.status
	if status == "" {
		status = "online"
	}
	var u store.User
	switch as.Kind {
	case "user":
		u = store.User{ID: as.Target, Name: as.Target, Email: as.Target}
	case "team":
		id := "agent@" + slug(as.Target)
		u = store.User{ID: id, Name: id, Email: id, Teams: []string{as.Target}}
	default:
		u = store.User{ID: "agent@workspace", Name: "agent@workspace", Email: "agent@workspace"}
	}
	u.Status = status
	a.made[u.ID] = true
	return []store.User{u}
}

func (a *simAgents) sorted() []string {
	ids := make([]string, 0, len(a.made))
	for id := range a.made {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// simChannel delivers every message, or, while fail is set, fails those
// of steps with on failure (the only ones whose failure shows).
type simChannel struct{ fail bool }

func (c *simChannel) Deliver(_ context.Context, _, _ string, m runtime.OutMessage) (string, error) {
	if c.fail && m.Message != nil && m.Message.Seq != 0 {
		return "", errors.New("delivery failed")
	}
	return "", nil
}

// simHTTP answers http steps from the stubs, or for real when live is
// set; with hold set, an unmatched request waits for an answer given by
// hand.
type simHTTP struct {
	stubs     []*Stub
	live      *runtime.HTTPClient
	hold      bool
	held      []*HeldRequest
	exchanges []Exchange
}

func (h *simHTTP) Call(ctx context.Context, _ string, run int64, req *interpreter.HTTPRequest) (interpreter.HTTPResponse, bool) {
	for _, s := range h.stubs {
		if s.matches(req) {
			resp := req.Answer(s.Status, nil, []byte(s.Body))
			if s.Err != "" {
				resp = interpreter.HTTPResponse{Seq: req.Seq, Err: s.Err}
			}
			h.exchanges = append(h.exchanges, Exchange{Request: req, Response: resp, Stub: s})
			return resp, false
		}
	}
	switch {
	case h.live != nil:
		resp := h.live.Do(ctx, req)
		h.exchanges = append(h.exchanges, Exchange{Request: req, Response: resp})
		return resp, false
	case h.hold:
		h.held = append(h.held, &HeldRequest{RunID: run, Request: req})
		return interpreter.HTTPResponse{}, true
	}
	return interpreter.HTTPResponse{Seq: req.Seq, Err: "no stub for " + req.Method + " " + req.URL}, false
}

// simAI says nothing: a test gives the outcome (an ai line).
type simAI struct{}

func (simAI) Turn(context.Context, runtime.AISession) (runtime.AITurn, error) {
	return runtime.AITurn{}, nil
}

// simSheets takes every row, or, while the channel fails, fails those of
// steps with on failure.
type simSheets struct{ c *simChannel }

func (s simSheets) Append(_ context.Context, row *interpreter.SheetRow) error {
	if s.c.fail && row.Seq != 0 {
		return errors.New("delivery failed")
	}
	return nil
}
