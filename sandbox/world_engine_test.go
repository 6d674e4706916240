package sandbox_test

import (
	"context"
	"testing"

	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/sandbox"
)

// On the engine world, a started flow is a run in the engine's store, its
// transcript comes from the engine's activity, and its variables outlive
// its end.
func TestWorldRunsOnTheEngine(t *testing.T) {
	src := "flow \"Ask\"\ntrigger manual\nask \"Name?\" save Name\ntag add \"named\"\nsend \"Hi $Name\"\n"
	w, p := newWorld(t, src)
	start(t, w, p)
	wantLines(t, w, "bot: Name?")
	tx, err := w.Engine().Store().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	runs, err := tx.ActiveRuns(sandbox.ContactID)
	tx.Rollback()
	if err != nil || len(runs) != 1 || runs[0].Flow != "Ask" || runs[0].Status != store.RunWaiting {
		t.Fatalf("the engine's store holds %+v, %v; want the waiting run", runs, err)
	}
	if err := w.Say("Ana"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, w, `* tag add "named"`, "bot: Hi Ana", "* end")
	r, ok := w.MainRun()
	if !ok || r.Status != "done" || r.Vars["Name"] != "Ana" || r.Trigger["type"] != "manual" {
		t.Errorf("main run: %v %+v", ok, r)
	}
	contact, _, _, err := w.Namespaces(p)
	if err != nil || len(contact["tags"].([]string)) != 1 {
		t.Errorf("contact: %v, %v", contact, err)
	}
}
