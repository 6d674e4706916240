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
