package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/runtime/store/sqlite"
	"github.com/flowd/flowd/server"
)

// TestRunsMigrate: flowd runs migrate says which paused runs would move to
// the flows' new versions and why the others stay, moves nothing until
// --apply, then moves them.
func TestRunsMigrate(t *testing.T) {
	dir := t.TempDir()
	flows, db := filepath.Join(dir, "flows"), filepath.Join(dir, "flowd.db")
	os.Mkdir(flows, 0o755)
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(flows, "survey.flow"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("flow \"Survey\"\ntrigger manual\n\nname: ask \"Your name?\" save Name\nmood: ask \"How are you?\" save Mood\n")
	ld, err := (&server.Library{Dir: flows}).Load()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := runtime.New(ctx, st, ld.Flows, runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []runtime.Event{runtime.Message{Contact: "1", Text: "hi"}, runtime.Message{Contact: "2", Text: "hi"},
		runtime.ManualStart{Contact: "1", Flow: "Survey"}, runtime.ManualStart{Contact: "2", Flow: "Survey"},
		runtime.Message{Contact: "2", Text: "Bo"}} {
		if err := e.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	write("flow \"Survey\"\ntrigger manual\n\nname: ask \"What is your name?\" save Name\nsend \"Thanks\"\n")

	migrate := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if code := runsMigrate(ctx, append([]string{"migrate", "--db", db, "--flows", flows}, args...), func(string) string { return "" }, &out, &errs); code != 0 {
			t.Fatalf("flowd runs migrate %v: exit %d: %s", args, code, errs.String())
		}
		return out.String()
	}
	dry := migrate()
	for _, want := range []string{"Survey: run 1 (contact 1) at step name: would move from ", "Survey: run 2 (contact 2) stays on ",
		": label mood is gone\n", "1 runs would move, 1 would stay: a dry run; --apply moves them\n"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run: %q lacks %q", dry, want)
		}
	}
	if again := migrate(); again != dry {
		t.Errorf("a dry run moved something: first\n%s\nthen\n%s", dry, again)
	}
	if out := migrate("--apply", "Survey"); !strings.Contains(out, "at step name: moved from ") || !strings.HasSuffix(out, "1 runs moved, 1 stay\n") {
		t.Errorf("applied: %q", out)
	}
	if out := migrate(); !strings.HasSuffix(out, "0 runs would move, 1 would stay: a dry run; --apply moves them\n") {
		t.Errorf("after applying: %q", out)
	}
}
