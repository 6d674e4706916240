package sandbox_test

import (
	"context"
	"testing"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store"
	"github.com/flowd/flowd/sandbox"
)

// On the engine world, a started flow is a run in the engine's store, its
// transcript comes from the engine's activity, and its variables outlive
// its end.
func TestEngineWorldRunsOnTheEngine(t *testing.T) {
	src := "flow \"Ask\"\ntrigger manual\nask \"Name?\" save Name\ntag add \"named\"\nsend \"Hi $Name\"\n"
	p := compile(t, src)
	w, err := sandbox.NewEngineWorld(now, p, []runtime.Flow{{Program: p, Source: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.StartFlow(p, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	wantSim(t, w, "bot: Name?")
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
	wantSim(t, w, `* tag add "named"`, "bot: Hi Ana", "* end")
	status, _, vars, ok := w.MainRun()
	if !ok || status != "done" || vars["Name"] != "Ana" {
		t.Errorf("main run: %v %q %v", ok, status, vars)
	}
	contact, _, _, err := w.Namespaces(p)
	if err != nil || len(contact["tags"].([]string)) != 1 {
		t.Errorf("contact: %v, %v", contact, err)
	}
}

// wantSim is a Sim's transcript check.
func wantSim(t *testing.T, w sandbox.Sim, want ...string) {
	t.Helper()
	got := w.Transcript()
	if len(got) != len(want) {
		t.Fatalf("transcript %q, want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("transcript %q, want %q", got, want)
		}
	}
}
