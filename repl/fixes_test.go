package repl

import (
	"bytes"
	"github.com/flowd/flowd/flowtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFlow writes a flow file to a new directory and returns its path.
func writeFlow(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStartItself is the reproducer: printf 'x\n' | flowd repl a.flow, where
// the flow starts itself, overflowed the stack. The REPL loads flows as
// flowd check does, so it refuses the cycle with check's diagnostic; the
// engine's own guard is tested in sandbox.
func TestStartItself(t *testing.T) {
	path := writeFlow(t, "a.flow", "flow \"A\"\ntrigger manual\nstart \"A\"\n")
	var out, errOut bytes.Buffer
	if code := Run(Options{Path: path}, strings.NewReader("x\n"), &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errOut.String())
	}
	wantIn(t, errOut.String(), "a.flow:1:6: error: flow \"A\" starts itself through start steps", "flowd repl: "+path+" does not compile")
}

// TestClockNeverGoesBack is the reproducer: :now past a pending timer, then
// :wait 1s fired the timer at its own time, in the past.
func TestClockNeverGoesBack(t *testing.T) {
	path := writeFlow(t, "w.flow", "flow \"W\"\ntrigger manual\nwait 5m\nsend \"$system.current_datetime\"\n")
	out := runSession(t, Options{Path: path}, "hi\n:now\n:now 2026-03-01 12:00\n:wait 1s\n:now\n")
	wantIn(t, out,
		":now\n2026-01-05 10:00:00 UTC (Monday)\n# next timer: 2026-01-05 10:05:00 (in 5m)\n",
		":now 2026-03-01 12:00\n# a timer was due at 2026-01-05 10:05:00: it fires at the next :wait\n",
		":wait 1s\nbot: 2026-03-01 12:00:00\n* end\n",
		":now\n2026-03-01 12:00:01 UTC (Sunday)\n")
}

const vipFlow = "flow \"VIP\"\ntrigger conversation opened by contact when \"VIP\" in contact.tags\ndraft\nsend \"Hi VIP!\"\n"

// TestStartHonoursCondition: the flow starts only when its trigger's `when`
// condition holds, and a dump of a start that did not start replays.
func TestStartHonoursCondition(t *testing.T) {
	path := writeFlow(t, "vip.flow", vipFlow)
	out := runSession(t, Options{Path: path}, "hi\n:tag VIP\n:start\n")
	wantIn(t, out, "* not started: \"VIP\": trigger condition is false\n", ":start\nbot: Hi VIP!\n* end\n")

	dump := dumped(t, Options{Path: path}, "hi\n")
	wantIn(t, dump, "user: hi\nstart\n* not started: \"VIP\": trigger condition is false\nassert run.status == \"not started\"\n")
	replayIn(t, filepath.Dir(path), dump)
}

func TestStartConditionError(t *testing.T) {
	path := writeFlow(t, "e.flow", "flow \"E\"\ntrigger manual when contact.score > 2\nfield score number\nsend \"hi\"\n")
	out := runSession(t, Options{Path: path}, ":set contact.score many\n:start\n:set contact.score 3\n:start\n")
	wantIn(t, out, ":start\nerror: ", "trigger condition contact.score > 2: ", ":start\nbot: hi\n* end\n")
}

// TestSetContactIsText: contact fields are text unless the flow declares
// them number or checkbox, as in a .flowtest.
func TestSetContactIsText(t *testing.T) {
	path := writeFlow(t, "p.flow", "flow \"P\"\ntrigger manual\nfield score number\nfield vip checkbox\n"+
		"if contact.phone startsWith \"+60\" && contact.score > 40 && contact.vip {\n  send \"yes\"\n}\n")
	dump := dumped(t, Options{Path: path}, ":set contact.phone +60112233455\n:set contact.score 41\n:set contact.vip true\n:start\n:contact\n")
	wantIn(t, dump, "contact phone = \"+60112233455\"\ncontact score = 41.0\ncontact vip = true\nstart\nbot: yes\n* end\n")
	replayIn(t, filepath.Dir(path), dump)
}

// TestDumpRefusesToOverwrite is the reproducer: :dump w.flow destroyed the
// flow being run.
func TestDumpRefusesToOverwrite(t *testing.T) {
	path := writeFlow(t, "w.flow", "flow \"W\"\ntrigger manual\nsend \"hi\"\n")
	dir := filepath.Dir(path)
	existing := filepath.Join(dir, "old.flowtest")
	os.WriteFile(existing, []byte("keep me\n"), 0o644)
	out := runSession(t, Options{Path: path}, ":dump "+path+"\n:dump "+existing+"\n:dump "+filepath.Join(dir, "new.txt")+"\n")
	wantIn(t, out,
		"error: "+path+": :dump writes a .flowtest file; give a name ending in .flowtest\n",
		"error: "+existing+" already exists: :dump does not overwrite files; remove it or choose another name\n",
		"error: "+filepath.Join(dir, "new.txt")+": :dump writes a .flowtest file")
	for file, want := range map[string]string{path: "flow \"W\"\ntrigger manual\nsend \"hi\"\n", existing: "keep me\n"} {
		if got, _ := os.ReadFile(file); string(got) != want {
			t.Errorf("%s was changed to:\n%s", file, got)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.txt")); err == nil {
		t.Error("new.txt was written")
	}
}

// TestAIOutcomeChecked: :ai parses its line as a .flowtest's ai line does.
func TestAIOutcomeChecked(t *testing.T) {
	out := runSession(t, Options{Path: flowsDir, Flow: "Helper"},
		"hi\n:ai sucess\n:ai success Email\n:ai success Email=\"ana lima@example.com\"\n")
	wantIn(t, out,
		":ai sucess\nerror: unknown ai outcome \"sucess\" (did you mean \"success\"?): want success, human, unable or failure\n",
		":ai success Email\nerror: want Name=Value after the ai outcome, not \"Email\"\n",
		"bot: email ana lima@example.com\n")
	dump := dumped(t, Options{Path: flowsDir, Flow: "Helper"}, "hi\n:ai success Email=\"ana lima@example.com\"\n")
	wantIn(t, dump, "\nai success Email=\"ana lima@example.com\"\nbot: email ana lima@example.com\n")
	replay(t, dump)
}

// replayIn runs a dump written beside the flows of dir.
func replayIn(t *testing.T, dir, dump string) {
	t.Helper()
	path := filepath.Join(dir, "session.flowtest")
	os.WriteFile(path, []byte(dump), 0o644)
	results, err := flowtest.RunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("the dump fails:\n%s\n%s", dump, strings.Join(r.Failures, "\n"))
		}
	}
}
