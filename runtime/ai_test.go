package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/flowd/flowd/runtime"
)

// fakeModel is an OpenAI-compatible endpoint on 127.0.0.1 that asks for an
// email until the customer gives one, then ends the conversation.
type fakeModel struct {
	requests []map[string]any
}

func (f *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	json.NewDecoder(r.Body).Decode(&req)
	f.requests = append(f.requests, req)
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error": {"message": "bad key"}}`)
		return
	}
	msgs := req["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	answer := `{"reply": "What is your email address?", "outcome": ""}`
	if last["role"] == "user" && strings.Contains(last["content"].(string), "@") {
		answer = fmt.Sprintf(`{"reply": "Thanks!", "outcome": "success", "values": {"Email": %q, "Other": "x"}}`, last["content"])
	}
	json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": answer}}}})
}

// An ai reply step talks with the contact through the agent: the agent's
// first turn asks, the contact's answer is the next turn, and its outcome
// resumes the run with the values it collected.
func TestAIConversation(t *testing.T) {
	model := &fakeModel{}
	srv := server(t, model.ServeHTTP)
	h := newHarness(t, compile(t, `flow "Email"
trigger conversation opened

ai reply "Ask the contact for their email address." save Email
send "Got $Email"
`))
	ch := &fakeChannel{}
	d := &runtime.Dispatcher{Engine: h.e, Channel: ch, AI: &runtime.OpenAIClient{BaseURL: srv.URL + "/v1", Key: "k", Model: "m"}}
	h.do(msg("c1", "hi"))
	h.must(d.Drain(context.Background()))
	h.want("c1", "> hi", `* started "Email" on conversation opened by contact`, `* ai reply "Ask the contact for their email address."`,
		"< What is your email address?")
	h.do(msg("c1", "ana@example.com"))
	h.must(d.Drain(context.Background()))
	h.want("c1", "> ana@example.com", "< Thanks!", "< Got ana@example.com", `* end "Email"`)
	if got := strings.Join(ch.got, " | "); got != "c1: What is your email address? | c1: Thanks! | c1: Got ana@example.com" {
		t.Errorf("delivered: %s", got)
	}
	if len(model.requests) != 2 {
		t.Fatalf("%d model calls, want 2", len(model.requests))
	}
	msgs := model.requests[1]["messages"].([]any)
	system := msgs[0].(map[string]any)["content"].(string)
	if !strings.HasPrefix(system, "Ask the contact for their email address.") || !strings.Contains(system, "by name: Email}") {
		t.Errorf("system prompt: %s", system)
	}
	var convo []string
	for _, m := range msgs[1:] {
		mm := m.(map[string]any)
		convo = append(convo, mm["role"].(string)+": "+mm["content"].(string))
	}
	if want := "user: hi | assistant: What is your email address? | user: ana@example.com"; strings.Join(convo, " | ") != want {
		t.Errorf("conversation sent: %q, want %q", strings.Join(convo, " | "), want)
	}
}

// An endpoint that refuses the key fails the step: its failure path.
func TestAIFailure(t *testing.T) {
	model := &fakeModel{}
	srv := server(t, model.ServeHTTP)
	h := newHarness(t, compile(t, `flow "Email"
trigger conversation opened

ai reply "Ask for the email." save Email {
  on failure {
    send "The assistant is not available."
  }
}
`))
	d := &runtime.Dispatcher{Engine: h.e, Channel: &fakeChannel{}, AI: &runtime.OpenAIClient{BaseURL: srv.URL + "/v1", Key: "wrong"}}
	h.do(msg("c1", "hi"))
	h.must(d.Drain(context.Background()))
	h.want("c1", "> hi", `* started "Email" on conversation opened by contact`, `* ai reply "Ask for the email."`,
		"< The assistant is not available.", `* end "Email"`)
}
