package interpreter

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// loop is a flow body that runs steps 11 times without waiting: once, then
// 10 jumps back.
func loop(steps string) string { return "l: " + steps + "jump to l max 10\n" }

func TestSprintSends(t *testing.T) {
	p := compileBody(t, loop(strings.Repeat("send \"hi\"\n", 10)))
	s := newSession(t, p)
	effects := s.start()
	s.wantFailure(3, 1, "l", "a sprint may send 100 messages without waiting, and this one goes on: a loop?")
	if len(effects) != MaxSprintSends {
		t.Errorf("%d messages went out, want %d", len(effects), MaxSprintSends)
	}
}

func TestSprintStarts(t *testing.T) {
	p := compileBody(t, loop("start \"B\"\n"))
	s := newSession(t, p)
	effects := s.start()
	s.wantFailure(3, 1, "l", "a sprint may start 10 flows without waiting")
	if len(effects) != MaxSprintStarts {
		t.Errorf("%d starts, want %d", len(effects), MaxSprintStarts)
	}
}

// TestRenderedMessageCut: a message longer than 2,000 characters once its
// values are in is cut to 2,000, the last one "…": the rule for every text
// people read. 98 sends of a million characters each made a gigabyte of
// messages; now each is cut, and the sprint's shared expression budget ends
// the loop.
func TestRenderedMessageCut(t *testing.T) {
	p := compileBody(t, loop(strings.Repeat("send \"${repeat('é', 499990)}\"\n", 9)))
	s := newSession(t, p)
	var effects []string
	alloc := allocated(func() { effects = s.start() })
	// each message takes a million steps, the sprint ten million: the
	// eleventh fails, the second of the loop's second pass
	s.wantFailure(4, 9, "#2", "expressions do too much work: one sprint's may take 10000000 steps together")
	if len(effects) != 10 {
		t.Fatalf("%d messages before the budget ran out", len(effects))
	}
	want := `send l "` + strings.Repeat("é", 1999) + `…"`
	if effects[0] != want {
		t.Errorf("first message: %d characters, ends %q", utf8.RuneCountInString(effects[0]), effects[0][len(effects[0])-10:])
	}
	if alloc > 256<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
	// a choice is a text people read too: cut at 20
	p = compileBody(t, "send \"Pick\" choices \"${repeat('x', 30)}\"\n")
	s = newSession(t, p)
	wantEffects(t, "choice", s.start(), `send #1 "Pick" choices=[xxxxxxxxxxxxxxxxxxx…]`)
}

// TestRenderedValueTooLong: a value a step stores or sends on is never cut,
// which would change it: it fails the run, at the text.
func TestRenderedValueTooLong(t *testing.T) {
	cases := []struct {
		step      string
		line, col int
		msg       string
	}{
		{`tag add "${repeat('a', 300)}"`, 3, 9, "tag name is longer than 255 characters once its values are filled in"},
		{`set contact.city = "${repeat('a', 5000)}"`, 4, 20, "field value is longer than 4096 characters"},
		{`http POST "https://x.example/${repeat('a', 9000)}"`, 3, 11, "URL is longer than 8192 characters"},
		{`assign team "${repeat('t', 256)}"`, 3, 13, "user or team name is longer than 255 characters"},
	}
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			body := c.step + "\n"
			if strings.Contains(c.step, "contact.city") {
				body = "field city text\n" + body
			}
			s := newSession(t, compileBody(t, body))
			wantEffects(t, c.step, s.start())
			s.wantFailure(c.line, c.col, "#1", c.msg)
		})
	}
}

func TestSprintText(t *testing.T) {
	// 100 literal comments of 1,000 characters, 11 times: 1.1 MB
	comment := "comment \"" + strings.Repeat("x", 1000) + "\"\n"
	p := compileBody(t, loop(strings.Repeat(comment, 100)))
	s := newSession(t, p)
	effects := s.start()
	// 1,048 comments fit in a MiB: the 1,049th, the 49th of the 11th pass, fails
	s.wantFailure(51, 1, "#49", "this sprint rendered more than 1 MiB of text without waiting: a loop?")
	if len(effects) != 1048 {
		t.Errorf("%d comments before the limit, want 1048", len(effects))
	}
}

func TestVariableSize(t *testing.T) {
	p := compileBody(t, "http GET \"https://crm.example/x\" {\n  map \"$.big\" to Big\n}\nwait 1m\n")
	s := newSession(t, p)
	s.start()
	body := fmt.Sprintf(`{"big": %q}`, strings.Repeat("a", 20000))
	wantEffects(t, "big value", s.resume(HTTPResponse{Seq: s.seq(), Status: 200, Body: []byte(body)}))
	s.wantFailure(3, 1, "#1", "variable Big would hold 20000 bytes; a variable holds at most 16384 (16 KiB)")
}

func TestContinuationSize(t *testing.T) {
	// five values of 15,000 bytes each: each fits a variable, not all a
	// paused run
	var maps, fields []string
	for i := range 5 {
		maps = append(maps, fmt.Sprintf("  map \"$.v%d\" to V%d\n", i, i))
		fields = append(fields, fmt.Sprintf("%q: %q", fmt.Sprintf("v%d", i), strings.Repeat("a", 15000)))
	}
	p := compileBody(t, "http GET \"https://crm.example/x\" {\n"+strings.Join(maps, "")+"}\nwait 1m\n")
	s := newSession(t, p)
	s.start()
	body := "{" + strings.Join(fields, ", ") + "}"
	s.resume(HTTPResponse{Seq: s.seq(), Status: 200, Body: []byte(body)})
	s.wantFailure(10, 1, "#2", "cannot pause: its variables take 75")
	if !strings.Contains(s.err.Msg, "a paused run may keep at most 65536 (64 KiB)") {
		t.Errorf("error: %v", s.err)
	}
}

// TestSendThatCannotPause: a send with on failure waits for its delivery;
// when the run cannot pause, it fails before the message goes, not after.
func TestSendThatCannotPause(t *testing.T) {
	var maps, fields []string
	for i := range 5 {
		maps = append(maps, fmt.Sprintf("  map \"$.v%d\" to V%d\n", i, i))
		fields = append(fields, fmt.Sprintf("%q: %q", fmt.Sprintf("v%d", i), strings.Repeat("a", 15000)))
	}
	p := compileBody(t, "http GET \"https://crm.example/x\" {\n"+strings.Join(maps, "")+"}\n"+
		"send \"hi\" {\n  on failure {\n    stop\n  }\n}\n")
	s := newSession(t, p)
	s.start()
	body := "{" + strings.Join(fields, ", ") + "}"
	wantEffects(t, "send", s.resume(HTTPResponse{Seq: s.seq(), Status: 200, Body: []byte(body)}))
	s.wantFailure(10, 1, "#2", "cannot pause: its variables take 75")
}

// TestLongAnswer: an answer longer than a message may be (MaxMessageLen) is
// cut to it, which a contact field holds.
func TestLongAnswer(t *testing.T) {
	p := compileBody(t, "ask \"Name?\" save contact.firstname\n")
	s := newSession(t, p)
	s.start()
	wantEffects(t, "long answer", s.reply(strings.Repeat("n", 5000)), `set firstname="`+strings.Repeat("n", MaxMessageLen)+`"`)
	s.wantStatus(Done)
}

// TestContactTags: a contact has at most MaxContactTags tags; the tag step
// that would give it more fails before it emits anything, and one that adds
// tags it has already is fine.
func TestContactTags(t *testing.T) {
	p := compileBody(t, "tag add \"t0\"\ntag add \"new\"\n")
	s := newSession(t, p)
	tags := make([]string, MaxContactTags)
	for i := range tags {
		tags[i] = fmt.Sprint("t", i)
	}
	s.contact["tags"] = tags
	wantEffects(t, "tags", s.start(), `tag add ["t0"]`)
	s.wantFailure(4, 1, "#2", "a contact may have at most 1000 tags")
}

// TestRenderedTextIsWork: the text a run renders counts in its work, by
// which events and test files are bounded: 800 sprints of a megabyte of
// text each, one line of a .flowtest, took 16 seconds.
func TestRenderedTextIsWork(t *testing.T) {
	p := compileBody(t, "comment \""+strings.Repeat("c", 900)+"\"\n")
	s := newSession(t, p)
	s.start()
	if w := s.m.Work(); w.ExprSteps < 900 {
		t.Errorf("work %+v for 900 characters of text", w)
	}
}
