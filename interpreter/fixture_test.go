package interpreter

import (
	"os"
	"testing"
)

// TestFixtureContinuations: continuations that earlier flowd releases
// wrote and checked in here keep resuming in the program compiled from the
// same source, with their seq, retries, jump counters and variables. Each
// paused menu.flow at its ask, after one "Main menu" (a jump taken, of at
// most 2) and one invalid answer (a retry, of 1). Version 1 named the pc
// and jump slots of codegen 1; version 2 names the steps.
//
// To add the fixture of a new version: pause menu.flow the same way, and
// write s.cont to testdata/continuation/menu.vN.flc.
func TestFixtureContinuations(t *testing.T) {
	src, err := os.ReadFile("testdata/continuation/menu.flow")
	if err != nil {
		t.Fatal(err)
	}
	p := compileFlow(t, "menu.flow", string(src))
	for _, name := range []string{"menu.v1.flc", "menu.v2.flc"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile("testdata/continuation/" + name)
			if err != nil {
				t.Fatal(err)
			}
			paused := func() *session {
				s := newSession(t, p)
				s.cont, s.status = b, Waiting
				return s
			}
			s := paused()
			if c := s.decoded(); c.Seq != 3 || c.Retries != 1 || c.Vars["Topic"] != "Main menu" {
				t.Errorf("decoded: %v", c)
			}
			wantEffects(t, "Sales", s.reply("Sales"), `cancel 3`, `tag add ["topic: Sales"]`)
			s.wantStatus(Done)

			// the jump taken before the pause counts: one more, then it is spent
			s = paused()
			wantEffects(t, "Main menu (2nd)", s.reply("Main menu"), `cancel 3`,
				`ask menu "What can we help you with?" choices=[Sales|Support|Main menu]`, `timer 4 30m0s`)
			wantEffects(t, "Main menu (3rd)", s.reply("Main menu"), `cancel 4`, `tag add ["topic: Main menu"]`)
			s.wantStatus(Done)

			// the retry taken before the pause counts: a second invalid answer fails the ask
			s = paused()
			wantEffects(t, "invalid", s.reply("nonsense"), `cancel 3`, `send #3 "Sorry."`)
		})
	}
}
