package interpreter

import (
	"encoding/json"
	"testing"
	"time"
)

// TestMarshalEffect: every effect's JSON form carries its type first, and
// decodes back to the same fields.
func TestMarshalEffect(t *testing.T) {
	tests := []struct {
		e    Effect
		want string
	}{
		{&SendMessage{Step: "q", Text: "Hi", Choices: []string{"A"}, Question: true, Seq: 2},
			`{"type":"send_message","step":"q","text":"Hi","choices":["A"],"question":true,"seq":2}`},
		{&StartTimer{Seq: 1, After: time.Minute}, `{"type":"start_timer","seq":1,"after":60000000000}`},
		{&CancelTimer{Seq: 1}, `{"type":"cancel_timer","seq":1}`},
		{&AddTags{Tags: []string{"VIP"}}, `{"type":"add_tags","tags":["VIP"]}`},
		{&RemoveTags{Tags: []string{"Lead"}}, `{"type":"remove_tags","tags":["Lead"]}`},
		{&SetField{Field: "email", Value: "a@b.c"}, `{"type":"set_field","field":"email","value":"a@b.c"}`},
		{&ClearField{Field: "email"}, `{"type":"clear_field","field":"email"}`},
		{&Assign{Kind: "team", Target: "Support", Logic: "round robin", OnlineOnly: true, MaxOpen: 3, Seq: 4},
			`{"type":"assign","kind":"team","target":"Support","logic":"round robin","online_only":true,"max_open":3,"seq":4}`},
		{&Unassign{}, `{"type":"unassign"}`},
		{&OpenConversation{}, `{"type":"open_conversation"}`},
		{&CloseConversation{}, `{"type":"close_conversation"}`},
		{&CloseConversation{Category: "Resolved", Summary: "ok"}, `{"type":"close_conversation","category":"Resolved","summary":"ok"}`},
		{&AddComment{Text: "note"}, `{"type":"add_comment","text":"note"}`},
		{&StartFlow{Flow: "Other"}, `{"type":"start_flow","flow":"Other"}`},
		{&HTTPRequest{Method: "GET", URL: "https://x", Headers: [][2]string{{"A", "b"}}, Timeout: time.Second, Seq: 1},
			`{"type":"http_request","method":"GET","url":"https://x","headers":[["A","b"]],"timeout":1000000000,"seq":1}`},
		{&SheetRow{Spreadsheet: "d", Columns: [][2]string{{"A", "1"}}}, `{"type":"sheet_row","spreadsheet":"d","columns":[["A","1"]]}`},
		{&AIReply{Instructions: "do", Save: []string{"X"}, Seq: 3}, `{"type":"ai_reply","instructions":"do","save":["X"],"seq":3}`},
		{&AIHandoff{Agent: "Bot"}, `{"type":"ai_handoff","agent":"Bot"}`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		b, err := MarshalEffect(tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("MarshalEffect(%T) =\n%s\nwant\n%s", tt.e, b, tt.want)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || m["type"] != tt.e.Type() {
			t.Errorf("%s: type %v, %v", b, m["type"], err)
		}
		seen[tt.e.Type()] = true
	}
	if len(seen) != 17 {
		t.Errorf("%d effect types covered, want all 17", len(seen))
	}
}

// TestCompileSourceErrors: a flow with errors gives diagnostics and no
// program; a warning alone does not stop compilation.
func TestCompileSourceErrors(t *testing.T) {
	for _, src := range []string{
		"flow \"x\"\ntrigger manual\nsend \n",                 // syntax
		"flow \"x\"\ntrigger manual\nsend \"$Nope\"\n",        // unknown variable
		"flow \"x\"\ntrigger manual\njump to nowhere max 1\n", // unknown label
	} {
		p, ds, err := CompileSource("x.flow", []byte(src))
		if err == nil || p != nil || len(ds) == 0 {
			t.Errorf("%q: program %v, diagnostics %v, err %v", src, p, ds, err)
		}
	}
	p, ds, err := CompileSource("x.flow", []byte("flow \"x\"\ntrigger manual\nstop\nsend \"unreachable\"\n"))
	if err != nil || p == nil || len(ds) == 0 {
		t.Errorf("warning only: program %v, diagnostics %v, err %v", p, ds, err)
	}
	if got := p.Position(-1); got.Filename != "x.flow" || got.Line != 0 {
		t.Errorf("Position(-1) = %v", got)
	}
	if got := p.StepID(len(p.Code)); got != "" {
		t.Errorf("StepID past the end = %q", got)
	}
}
