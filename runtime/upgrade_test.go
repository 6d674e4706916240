package runtime_test

import (
	"os"
	"slices"
	"testing"

	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
)

// TestRunPausedByAnEarlierFlowd: a run that an earlier flowd paused (a
// version 1 continuation, its program kept under that flowd's hash) resumes
// in this one, and moves to today's hash and encoding when it waits again.
func TestRunPausedByAnEarlierFlowd(t *testing.T) {
	src, err := os.ReadFile("../interpreter/testdata/continuation/menu.flow")
	if err != nil {
		t.Fatal(err)
	}
	cont, err := os.ReadFile("../interpreter/testdata/continuation/menu.v1.flc")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := interpreter.CompileSource("menu.flow", src)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil) // the flow is no current version: only the paused run knows it
	tx, err := h.st.Begin(t.Context())
	h.must(err)
	h.must(tx.SaveProgram(store.Program{Hash: p.LegacyHash, Flow: p.Flow, File: "menu.flow", Source: src, Added: t0}))
	h.must(tx.SaveContact(&store.Contact{ID: "7", Fields: map[string]any{}, Created: t0}))
	h.must(tx.SaveConversation(&store.Conversation{ContactID: "7", Open: true, OpenedBy: "contact", OpenedAt: t0}))
	run := store.Run{ContactID: "7", Flow: p.Flow, Program: p.LegacyHash, Status: store.RunWaiting, Cont: cont, Wait: "reply",
		WaitSeq: 3, Started: t0, Updated: t0}
	h.must(tx.InsertRun(&run))
	h.must(tx.Commit())

	h.do(runtime.Message{Contact: "7", Text: "Main menu"}) // its second jump back, of at most 2
	runs := h.runs("7")
	if len(runs) != 1 || runs[0].Program != p.Hash {
		t.Fatalf("after the answer: runs %+v, want the run waiting in program %s", runs, p.Hash)
	}
	if c, err := interpreter.Decode(runs[0].Cont); err != nil || c.V1 || c.Step != "menu" || c.Jumps["#7"] != 2 {
		t.Errorf("its continuation now: %v, %v; want version %d at step menu, the jump at 2", c, err, interpreter.Version)
	}
	h.do(runtime.Message{Contact: "7", Text: "Main menu"}) // the jump is spent
	if tags := h.contact("7").Tags; !slices.Equal(tags, []string{"topic: Main menu"}) || len(h.runs("7")) != 0 {
		t.Errorf("tags %v, runs %+v; want the run done, its tag added", tags, h.runs("7"))
	}
}

// TestMigrateRuns: runs paused in an earlier version of a flow move to the
// current one by their steps' labels, once applied; a dry run moves none;
// a run whose label is gone stays, with the reason.
func TestMigrateRuns(t *testing.T) {
	v1 := compile(t, `flow "Survey"
trigger manual

name: ask "Your name?" save Name timeout 1h
mood: ask "How are you?" save Mood timeout 1h
send "Thanks ${Name} (v1)"
`)
	h := newHarness(t, v1)
	h.do(runtime.Message{Contact: "1", Text: "hi"}, runtime.Message{Contact: "2", Text: "hi"})
	h.do(runtime.ManualStart{Contact: "1", Flow: "Survey"}, runtime.ManualStart{Contact: "2", Flow: "Survey"})
	h.do(runtime.Message{Contact: "2", Text: "Bo"}) // contact 2 waits at mood
	v2 := compile(t, `flow "Survey"
trigger manual

name: ask "What is your name?" save Name timeout 1h
send "Thanks ${Name} (v2)"
`)
	h.must(h.e.Replace(t.Context(), v2))

	dry, next, err := h.e.MigrateRuns(t.Context(), "Survey", false, 0, 0)
	h.must(err)
	if next != 0 {
		t.Errorf("all runs looked at, yet next is %d", next)
	}
	// a page at a time: one run, then the next from where it stopped
	first, next, err := h.e.MigrateRuns(t.Context(), "Survey", false, 0, 1)
	h.must(err)
	rest, last, err := h.e.MigrateRuns(t.Context(), "Survey", false, next, 1)
	h.must(err)
	if len(first) != 1 || next != first[0].Run || len(rest) != 1 || rest[0].Run == first[0].Run || last == 0 {
		t.Errorf("pages of one: %+v (next %d), then %+v (next %d)", first, next, rest, last)
	}
	if len(dry) != 2 || !dry[0].Moved || dry[0].Step != "name" || dry[1].Moved || dry[1].Reason != "label mood is gone" {
		t.Errorf("dry run: %+v", dry)
	}
	if runs := h.runs("1"); runs[0].Program != v1[0].Program.Hash {
		t.Errorf("a dry run moved run %+v", runs[0])
	}
	moved, _, err := h.e.MigrateRuns(t.Context(), "Survey", true, 0, 0)
	h.must(err)
	if len(moved) != 2 || !moved[0].Moved || moved[1].Moved {
		t.Errorf("applied: %+v", moved)
	}
	if again, _, _ := h.e.MigrateRuns(t.Context(), "Survey", false, 0, 0); len(again) != 1 || again[0].Contact != "2" {
		t.Errorf("after applying, left on the old version: %+v", again)
	}
	h.lines("1")
	h.do(runtime.Message{Contact: "1", Text: "Ana"})
	h.want("1", "> Ana", "< Thanks Ana (v2)", `* end "Survey"`)
	h.lines("2")
	h.do(runtime.Message{Contact: "2", Text: "fine"})
	h.want("2", "> fine", "< Thanks Bo (v1)", `* end "Survey"`)
}
