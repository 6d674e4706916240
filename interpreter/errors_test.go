package interpreter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantFailure checks that the run failed with a runtime error at line:col of
// the .flow file, in step, with a message containing msg.
func (s *session) wantFailure(line, col int, step, msg string) {
	s.t.Helper()
	s.wantStatus(Failed)
	e := s.err
	if e.Pos.Filename != s.p.File || e.Pos.Line != line || e.Pos.Column != col || e.Step != step || !strings.Contains(e.Msg, msg) {
		s.t.Errorf("runtime error %q at %s:%d:%d in step %q; want %d:%d in step %q containing %q",
			e.Msg, e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Step, line, col, step, msg)
	}
	if got := e.Error(); !strings.HasPrefix(got, fmt.Sprintf("%s:%d:%d: step %s: ", s.p.File, line, col, step)) {
		s.t.Errorf("Error() = %q", got)
	}
}

// TestRuntimeErrors: an expression that fails at run time ends the run with
// a RuntimeError at the .flow position of its step (a condition: at the
// condition), never a panic.
func TestRuntimeErrors(t *testing.T) {
	p := compileBody(t, `field age number
field city text
ask "Name?" save Name
if contact.city == "Paris" {
  send "Paris"
} else if contact.age > 3 {
  send "older"
}
send "after"
`)
	s := newSession(t, p)
	s.contact["age"] = "x" // a number field holding text: bad data from outside
	s.start()
	wantEffects(t, "fails", s.reply("Ana"))
	s.wantFailure(8, 23, "#2", "condition contact.age > 3: cannot compare text and a number") // at the >
	if s.vars["Name"] != "Ana" {
		t.Errorf("the failed run's variables are %v", s.vars)
	}

	// a number field that was never set is nil: an ordering comparison with
	// a missing value is false, so the run takes the next branch
	s = newSession(t, p)
	s.start()
	wantEffects(t, "missing value", s.reply("Ana"), `send #5 "after"`)

	// the first condition fails at its own position
	p = compileBody(t, "field age number\nif contact.age > 3 {\n  send \"x\"\n}\n")
	s = newSession(t, p)
	s.contact["age"] = true
	s.start()
	s.wantFailure(4, 16, "#1", "condition contact.age > 3")
}

// TestRuntimeErrorInText: an interpolated expression that fails (indexing
// nil, a missing member) fails the step that renders it.
func TestRuntimeErrorInText(t *testing.T) {
	src := webhookHeader + `send "first"
send "Item: ${trigger.body.items[0]}"
label: comment "${trigger.body.order.id + 1}"
`
	p := compileFlow(t, "w.flow", src)
	s := newSession(t, p)
	s.trigger = map[string]any{"type": "webhook"}
	wantEffects(t, "nil body", s.start(), `send #1 "first"`)    // the effects before the failure are kept
	s.wantFailure(4, 28, "#2", "cannot fetch items from <nil>") // at items, inside ${ }

	s = newSession(t, p)
	s.trigger = map[string]any{"body": map[string]any{"items": []any{}}}
	s.start()
	s.wantFailure(4, 33, "#2", "out of range")

	s = newSession(t, p)
	s.trigger = map[string]any{"body": map[string]any{"items": []any{"a"}, "order": map[string]any{"id": "A"}}}
	s.start()
	s.wantFailure(5, 41, "label", "cannot use + on a text and a number (a text that holds a number")

	// a condition over data of any type that is not true or false
	p = compileFlow(t, "w.flow", webhookHeader+"if trigger.body.flag {\n  send \"yes\"\n}\n")
	s = newSession(t, p)
	s.trigger = map[string]any{"body": map[string]any{"flag": "yes"}}
	s.start()
	s.wantFailure(3, 4, "#1", "trigger.body.flag")
	s = newSession(t, p)
	s.trigger = map[string]any{"body": map[string]any{"flag": true}}
	wantEffects(t, "bool flag", s.start(), `send #2 "yes"`)
}

// TestStepBudget: a loop that runs past the budget without waiting fails at
// a .flow position with the step-budget message; the budget is per sprint.
func TestStepBudget(t *testing.T) {
	// 100 comments and 10 jumps back to the top, max 10 each: about 101
	// passes of over 100 instructions, more than DefaultBudget. The
	// program's own bound lets it run (the checker accepts it, so it must
	// end); a machine's smaller budget stops it as a runaway loop.
	var b strings.Builder
	b.WriteString("top: comment \"0\"\n")
	for i := 1; i < 100; i++ {
		fmt.Fprintf(&b, "comment \"%d\"\n", i)
	}
	for i := 0; i < 10; i++ {
		b.WriteString("jump to top max 10\n")
	}
	b.WriteString("send \"at last\"\n")
	p := compileBody(t, b.String())
	if p.Budget <= DefaultBudget {
		t.Fatalf("program budget %d, want over %d", p.Budget, DefaultBudget)
	}
	s := newSession(t, p)
	s.start()
	s.wantStatus(Done)
	s = newSession(t, p)
	s.m.Budget = DefaultBudget
	s.start()
	s.wantStatus(Failed)
	want := fmt.Sprintf("ran %d instructions without waiting: a loop? (the step budget is %d)", DefaultBudget, DefaultBudget)
	if s.err.Msg != want {
		t.Errorf("message %q, want %q", s.err.Msg, want)
	}
	if s.err.Pos.Line < 3 || s.err.Pos.Line > 113 || s.err.Step == "" {
		t.Errorf("budget error at %v in step %q", s.err.Pos, s.err.Step)
	}

	// a smaller budget, and nested jumps
	p = compileBody(t, `a: comment "a"
b: comment "b"
jump to b max 10
jump to a max 10
`)
	s = newSession(t, p)
	s.m.Budget = 25
	s.start()
	s.wantStatus(Failed)
	if !strings.Contains(s.err.Msg, "ran 25 instructions") || s.err.Pos.Line < 3 || s.err.Pos.Line > 6 {
		t.Errorf("budget error %v", s.err)
	}
	// with the default budget the same flow ends
	s = newSession(t, p)
	s.start()
	s.wantStatus(Done)

	// waits reset the count: each sprint here runs a few instructions
	p = compileBody(t, "top: ask \"Q\"\ncomment \"c\"\njump to top max 10\n")
	s = newSession(t, p)
	s.m.Budget = 4
	s.start()
	for i := 0; i < 10; i++ {
		s.reply("x")
		s.wantWait(WaitReply)
	}
	s.reply("x")
	s.wantStatus(Done)
}

// TestResumeWrongProgram: a continuation resumed against another program
// (another hash) is the caller's mistake: an error naming both programs,
// nothing run.
func TestResumeWrongProgram(t *testing.T) {
	p1 := compileBody(t, "ask \"Q1\"\nsend \"one\"\n")
	p2 := compileBody(t, "ask \"Q1\"\nsend \"two\"\n")
	var m Machine
	out := m.Start(p1, &Context{Now: monday})
	out, err := m.Resume(p2, out.Cont, &Context{Now: monday}, Message{Text: "x"})
	if !errors.Is(err, ErrWrongProgram) || len(out.Effects) != 0 {
		t.Fatalf("resume against another program: %v %v", err, show(out.Effects))
	}
	if !strings.Contains(err.Error(), p1.Hash) || !strings.Contains(err.Error(), p2.Hash) {
		t.Errorf("error %v does not name both programs", err)
	}
}

// TestResumeCorrupt: a continuation with the right hash but a state the
// program cannot be in (decoded from damaged storage, say) is an error,
// not a panic nor a run that goes on.
func TestResumeCorrupt(t *testing.T) {
	p := compileBody(t, `ask "Q" timeout 5m
wait 1h
http GET "https://x.example"
send "s" {
  on failure {
    stop
  }
}
`)
	for _, c := range []Continuation{
		{PC: -1, Wait: WaitReply}, // version 1: a pc of codegen 1's layout
		{PC: len(p.Code), Wait: WaitReply},
		{PC: 1 << 40, Wait: WaitReply},
		{PC: 0, Wait: WaitNone},
		{PC: 1, Wait: WaitReply}, // a wait
		{Step: "#9", Wait: WaitReply},
		{Step: "#1", Wait: WaitNone},
		{Step: "#1", Wait: waitKinds},
		{Step: "#1", Wait: WaitHTTP},     // an ask
		{Step: "#1", Wait: WaitAssign},   // an ask
		{Step: "#1", Wait: WaitAI},       // an ask
		{Step: "#1", Wait: WaitDelivery}, // an ask
		{Step: "#2", Wait: WaitReply},    // a wait
		{Step: "#3", Wait: WaitTimer},    // an http
		{Step: "#4", Wait: WaitHTTP},     // a send
	} {
		c.Program = p.Hash
		if c.Step == "" {
			c.Program, c.V1 = p.LegacyHash, true
		}
		c.Seq = 1
		for _, in := range []Input{Message{Text: "x"}, Timeout{Seq: 1}, HTTPResponse{Seq: 1, Status: 200},
			AssignResult{Seq: 1}, AIOutcome{Seq: 1, Outcome: "success"}, Delivery{Seq: 1}} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("resume at pc %d step %q waiting for %v with %#v panics: %v", c.PC, c.Step, c.Wait, in, r)
					}
				}()
				var m Machine
				cc := c
				out, err := m.Resume(p, &cc, &Context{Now: monday}, in)
				if !errors.Is(err, ErrBadContinuation) || len(out.Effects) != 0 {
					t.Errorf("resume at pc %d step %q waiting for %v with %#v: %v %v, want ErrBadContinuation", c.PC, c.Step, c.Wait, in, err, show(out.Effects))
				}
			}()
		}
	}
}
