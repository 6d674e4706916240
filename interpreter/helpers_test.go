package interpreter

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// monday is the default clock of the tests: Monday 5 January 2026, 10:00 UTC.
var monday = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// header starts every flow built by compileBody; steps start on line 3.
const header = "flow \"t\"\ntrigger manual\n"

// compileBody compiles the header followed by body (header items such as
// `field x text` may open the body).
func compileBody(t testing.TB, body string) *Program {
	t.Helper()
	return compileFlow(t, "t.flow", header+body)
}

// compileFlow compiles a whole flow and fails the test on any error.
func compileFlow(t testing.TB, name, src string) *Program {
	t.Helper()
	p, ds, err := CompileSource(name, []byte(src))
	if err != nil {
		t.Fatalf("compile %s: %v\n%v", name, err, ds)
	}
	return p
}

// A session drives one run the way a service does: between sprints the run
// exists only as its encoded continuation, which is decoded again for every
// input. It also plays the world: it applies the effects that change the
// contact and the conversation, and gives each sprint a fresh Context built
// from them, so a test sees what a runtime would.
type session struct {
	t            testing.TB
	p            *Program
	m            Machine
	contact      map[string]any
	conversation map[string]any
	assignee     map[string]any
	trigger      map[string]any
	now          time.Time
	loc          *time.Location

	cont   []byte // the encoded continuation while the run waits
	status Status
	vars   map[string]any // variables at the end (Done or Failed)
	err    *RuntimeError
}

func newSession(t testing.TB, p *Program) *session {
	return &session{t: t, p: p, contact: map[string]any{"id": "42"}, conversation: map[string]any{"open": true}, now: monday}
}

func (s *session) context() *Context {
	var assignee map[string]any
	if s.assignee != nil {
		assignee = maps.Clone(s.assignee)
	}
	return &Context{
		Contact:      cloneContact(s.contact),
		Conversation: maps.Clone(s.conversation),
		Assignee:     assignee,
		Trigger:      s.trigger,
		Now:          s.now,
		Location:     s.loc,
	}
}

func cloneContact(c map[string]any) map[string]any {
	out := maps.Clone(c)
	if tags, ok := out["tags"].([]string); ok {
		out["tags"] = slices.Clone(tags)
	}
	return out
}

// start begins the run and returns its effects.
func (s *session) start() []string {
	s.t.Helper()
	out := s.m.Start(s.p, s.context())
	if out.Ignored {
		s.t.Fatalf("start: outcome marked ignored")
	}
	s.settle(out)
	return show(out.Effects)
}

// resume decodes the stored continuation, resumes it with in, and encodes the
// new one. It returns the effects.
func (s *session) resume(in Input) []string {
	s.t.Helper()
	out := s.resumeOutcome(in)
	return show(out.Effects)
}

func (s *session) resumeOutcome(in Input) Outcome {
	s.t.Helper()
	if s.cont == nil {
		s.t.Fatalf("resume %#v: the run is not waiting (%v)", in, s.status)
	}
	c, err := Decode(s.cont)
	if err != nil {
		s.t.Fatalf("decode: %v", err)
	}
	before := slices.Clone(s.cont)
	out, err := s.m.Resume(s.p, c, s.context(), in)
	if err != nil {
		s.t.Fatalf("resume %#v: %v", in, err)
	}
	if after, _ := c.Encode(nil); !c.V1 && !bytes.Equal(after, before) { // version 1 encodes no more
		s.t.Fatalf("resume %#v: changed the continuation it was given", in)
	}
	if out.Ignored {
		if out.Status != Waiting || len(out.Effects) != 0 {
			s.t.Fatalf("resume %#v: ignored input has status %v and effects %v", in, out.Status, show(out.Effects))
		}
		after, err := out.Cont.Encode(nil)
		if err != nil || !bytes.Equal(after, before) {
			s.t.Fatalf("resume %#v: ignored input changed the continuation (%v)", in, err)
		}
		return out
	}
	s.settle(out)
	return out
}

// ignored reports whether the run ignores in, leaving everything as it was.
func (s *session) ignored(in Input) bool {
	s.t.Helper()
	return s.resumeOutcome(in).Ignored
}

// settle checks an outcome's invariants, applies its effects to the world
// and stores the encoded continuation.
func (s *session) settle(out Outcome) {
	s.t.Helper()
	s.apply(out.Effects)
	s.status, s.vars, s.err = out.Status, out.Vars, out.Err
	s.cont = nil
	switch out.Status {
	case Waiting:
		if out.Cont == nil || out.Err != nil {
			s.t.Fatalf("waiting outcome with cont %v, err %v", out.Cont, out.Err)
		}
		b, err := out.Cont.Encode(nil)
		if err != nil {
			s.t.Fatalf("encode: %v", err)
		}
		c, err := Decode(b)
		if err != nil {
			s.t.Fatalf("decode of a fresh encoding: %v", err)
		}
		if diff := cmp.Diff(out.Cont, c, cmp.Comparer(sameFloat), encodedOnly); diff != "" {
			s.t.Fatalf("continuation changed in an Encode/Decode round trip (-before +after):\n%s", diff)
		}
		s.cont = b
		s.vars = c.Vars
	case Done:
		if out.Cont != nil || out.Err != nil {
			s.t.Fatalf("done outcome with cont %v, err %v", out.Cont, out.Err)
		}
	case Failed:
		if out.Err == nil || out.Cont != nil {
			s.t.Fatalf("failed outcome with cont %v, err %v", out.Cont, out.Err)
		}
	}
}

// encodedOnly compares continuations by what they encode: PC is the
// program's, set by Bind.
var encodedOnly = cmpopts.IgnoreFields(Continuation{}, "PC")

// sameFloat compares floats bit for bit, so NaN equals NaN.
func sameFloat(a, b float64) bool {
	return a == b && (a != 0 || 1/a == 1/b) || a != a && b != b
}

// apply is the world's side of the effects.
func (s *session) apply(effects []Effect) {
	for _, e := range effects {
		switch e := e.(type) {
		case *SetField:
			// as a runtime must: a number field holds a number
			s.contact[e.Field] = FieldValue(s.p.FieldTypes[e.Field], e.Value)
		case *ClearField:
			delete(s.contact, e.Field)
		case *AddTags:
			tags, _ := s.contact["tags"].([]string)
			for _, t := range e.Tags {
				if !slices.Contains(tags, t) {
					tags = append(tags, t)
				}
			}
			s.contact["tags"] = tags
		case *RemoveTags:
			tags, _ := s.contact["tags"].([]string)
			s.contact["tags"] = slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return slices.Contains(e.Tags, t) })
		case *OpenConversation:
			s.conversation["open"] = true
		case *CloseConversation:
			s.conversation["open"] = false
		case *Unassign:
			s.assignee = nil
		}
	}
}

// decoded returns the stored continuation, decoded.
func (s *session) decoded() *Continuation {
	s.t.Helper()
	if s.cont == nil {
		s.t.Fatalf("the run is not waiting (%v, %v)", s.status, s.err)
	}
	c, err := Decode(s.cont)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// seq is the sequence number the current wait expects.
func (s *session) seq() uint32 { return s.decoded().Seq }

// reply sends a message from the contact.
func (s *session) reply(text string) []string { return s.resume(Message{Text: text}) }

// timeout fires the current wait's timer.
func (s *session) timeout() []string { return s.resume(Timeout{Seq: s.seq()}) }

func (s *session) wantStatus(want Status) {
	s.t.Helper()
	if s.status != want {
		s.t.Fatalf("status %v, want %v (err %v)", s.status, want, s.err)
	}
}

func (s *session) wantWait(want WaitKind) {
	s.t.Helper()
	s.wantStatus(Waiting)
	if got := s.decoded().Wait; got != want {
		s.t.Fatalf("waits for %v, want %v", got, want)
	}
}

// wantEffects compares effects as show renders them.
func wantEffects(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: effects differ (-want +got):\n%s", what, diff)
	}
}

// show renders effects compactly, one string each, with every field that is
// set, so that tables of expected effects stay readable:
//
//	send #1 "Hi"                         a message
//	ask q "Pick one" choices=[A|B]       a question
//	timer 2 5m0s / cancel 1              timers by seq
func show(effects []Effect) []string {
	var out []string
	for _, e := range effects {
		out = append(out, showEffect(e))
	}
	return out
}

func showEffect(e Effect) string {
	var b strings.Builder
	opt := func(format string, args ...any) { fmt.Fprintf(&b, " "+format, args...) }
	switch e := e.(type) {
	case *SendMessage:
		verb := "send"
		if e.Question {
			verb = "ask"
		}
		fmt.Fprintf(&b, "%s %s %q", verb, e.Step, e.Text)
		if e.Choices != nil {
			opt("choices=[%s]", strings.Join(e.Choices, "|"))
		}
		if e.Attachments != nil {
			opt("attach=[%s]", strings.Join(e.Attachments, "|"))
		}
		if e.Subject != "" {
			opt("subject=%q", e.Subject)
		}
		if e.Channel != "" {
			opt("via=%s", e.Channel)
		}
		for _, v := range e.Variants {
			opt("%s=%q", v.Channel, v.Text)
			if v.Template != "" {
				opt("template=%s/%s%q", v.Template, v.Language, v.Params)
			}
			if v.Choices != nil {
				opt("choices=[%s]", strings.Join(v.Choices, "|"))
			}
			if v.Attachments != nil {
				opt("attach=[%s]", strings.Join(v.Attachments, "|"))
			}
			if v.Subject != "" {
				opt("subject=%q", v.Subject)
			}
		}
		if e.Seq != 0 {
			opt("seq=%d", e.Seq)
		}
	case *StartTimer:
		fmt.Fprintf(&b, "timer %d %v", e.Seq, e.After)
	case *CancelTimer:
		fmt.Fprintf(&b, "cancel %d", e.Seq)
	case *CancelAssign:
		fmt.Fprintf(&b, "cancel assign %d", e.Seq)
	case *StopAI:
		fmt.Fprintf(&b, "stop ai %d", e.Seq)
	case *AddTags:
		fmt.Fprintf(&b, "tag add %q", e.Tags)
	case *RemoveTags:
		fmt.Fprintf(&b, "tag remove %q", e.Tags)
	case *SetField:
		fmt.Fprintf(&b, "set %s=%q", e.Field, e.Value)
	case *ClearField:
		fmt.Fprintf(&b, "clear %s", e.Field)
	case *Assign:
		fmt.Fprintf(&b, "assign %s %q", e.Kind, e.Target)
		if e.Logic != "" {
			opt("logic=%q", e.Logic)
		}
		if e.OnlineOnly {
			opt("online")
		}
		if e.MaxOpen != 0 {
			opt("max=%d", e.MaxOpen)
		}
		opt("seq=%d", e.Seq)
	case *Unassign:
		b.WriteString("unassign")
	case *OpenConversation:
		b.WriteString("open")
	case *CloseConversation:
		fmt.Fprintf(&b, "close category=%q summary=%q", e.Category, e.Summary)
	case *AddComment:
		fmt.Fprintf(&b, "comment %q", e.Text)
	case *StartFlow:
		fmt.Fprintf(&b, "start %q", e.Flow)
	case *HTTPRequest:
		fmt.Fprintf(&b, "http %s %s", e.Method, e.URL)
		for _, h := range e.Headers {
			opt("%s=%q", h[0], h[1])
		}
		if e.Body != "" {
			opt("body=%s", e.Body)
		}
		opt("timeout=%v seq=%d", e.Timeout, e.Seq)
	case *SheetRow:
		fmt.Fprintf(&b, "sheet %q tab=%q", e.Spreadsheet, e.Tab)
		for _, c := range e.Columns {
			opt("%s=%q", c[0], c[1])
		}
		if e.Seq != 0 {
			opt("seq=%d", e.Seq)
		}
	case *AIReply:
		fmt.Fprintf(&b, "ai reply %q save=%v seq=%d", e.Instructions, e.Save, e.Seq)
	case *AIHandoff:
		fmt.Fprintf(&b, "ai handoff %q", e.Agent)
	default:
		fmt.Fprintf(&b, "%T %+v", e, e)
	}
	return b.String()
}
