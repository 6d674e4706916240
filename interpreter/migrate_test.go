package interpreter

import (
	"strings"
	"testing"
)

// TestMigrate: a run moves to a new version by its step's label, with its
// state and the counters of labelled jumps; an unlabelled step, a label
// that is gone or waits for something else, is refused with the reason.
func TestMigrate(t *testing.T) {
	from := compileBody(t, `send "Hi"
again: ask "Your name?" save Name timeout 1h
if Name == "again" {
  loop: jump to again max 3
}
send "Bye"
`)
	to := compileBody(t, `send "Hello there"
again: ask "What is your name?" save Name timeout 2h
if Name == "again" {
  loop: jump to again max 3
}
send "Goodbye ${Name}"
`)
	s := newSession(t, from)
	s.start()
	s.reply("again") // a jump back: loop at 1
	c := s.decoded()
	if err := c.Bind(from); err != nil {
		t.Fatal(err)
	}
	moved, err := Migrate(c, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Program != to.Hash || moved.Step != "again" || moved.Jumps["loop"] != 1 || moved.Seq != c.Seq {
		t.Errorf("moved: %v", moved)
	}
	s.p, s.cont = to, encode(t, moved)
	wantEffects(t, "the answer, in the new version", s.reply("Ana"), `cancel 2`, `send #5 "Goodbye Ana"`)

	for _, c := range []struct{ name, src, why string }{
		{"label gone", `send "x"
other: ask "Your name?" save Name
`, "label again is gone"},
		{"waits for something else", `again: wait 1h
`, "step again now waits for timer, not reply"},
		{"no longer waits", `again: tag add "x"
`, "step again no longer waits"},
	} {
		to := compileBody(t, c.src)
		if _, err := Migrate(s0(t, from), from, to); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want %q", c.name, err, c.why)
		}
	}
	unlabelled := compileBody(t, `ask "Your name?" save Name
`)
	s = newSession(t, unlabelled)
	s.start()
	if _, err := Migrate(s.decoded(), unlabelled, unlabelled); err == nil || !strings.Contains(err.Error(), "unlabelled step (#1") {
		t.Errorf("an unlabelled step: %v", err)
	}
}

// s0 is a run of p paused at its ask "again".
func s0(t *testing.T, p *Program) *Continuation {
	s := newSession(t, p)
	s.start()
	return s.decoded()
}

func encode(t *testing.T, c *Continuation) []byte {
	b, err := c.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
