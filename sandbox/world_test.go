package sandbox_test

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowd/flowd/interpreter"
	flowdruntime "github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/sandbox"
)

// world returns a world that runs the flows of srcs, and the first flow.
func world(t *testing.T, srcs ...string) (*sandbox.World, *interpreter.Program) {
	t.Helper()
	return newWorld(t, srcs...)
}

// runs counts the contact's runs.
func runs(t *testing.T, w *sandbox.World) []sandbox.RunInfo {
	t.Helper()
	rs, err := w.Runs()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestStartItself is the reproducer of a flow that starts itself: it used to
// overflow the Go stack. respond.io does not start a flow again for a contact
// while a run of it is active.
func TestStartItself(t *testing.T) {
	w, a := world(t, "flow \"A\"\ntrigger manual\nstart \"A\"\n")
	start(t, w, a)
	wantLines(t, w, `* start "A"`, `* not started: "A" is already running`, "* end")
	if r, n := mainRun(t, w), len(runs(t, w)); r.Status != "done" || n != 1 {
		t.Errorf("run is %s, %d runs", r.Status, n)
	}
}

func TestStartCycle(t *testing.T) {
	w, a := world(t,
		"flow \"A\"\ntrigger manual\nstart \"B\"\n",
		"flow \"B\"\ntrigger manual\nstart \"A\"\n")
	start(t, w, a)
	wantLines(t, w, `* start "B"`, `* start "A"`, `* not started: "A" is already running`, `* end "B"`, "* end")
}

// TestStartFanOut: flows that each start the next several times used to
// fan out to millions of runs from one event; one event starts at most
// interpreter.MaxEventStarts, and says so for the starts it refuses.
func TestStartFanOut(t *testing.T) {
	var srcs []string
	for i, name := range []string{"A", "B", "C", "D", "E"} {
		next := "start \"" + string(rune('B'+i)) + "\"\n"
		if name == "E" {
			next = "comment \"leaf\"\n"
		}
		srcs = append(srcs, "flow \""+name+"\"\ntrigger manual\n"+strings.Repeat(next, 9))
	}
	w, a := world(t, srcs...)
	start(t, w, a)
	lines := w.Transcript()
	refused := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "* not started: ") && strings.HasSuffix(l, ": one event may start at most 25 flows (flows that start each other?)") {
			refused++
		}
	}
	if n := len(runs(t, w)); n != 1+interpreter.MaxEventStarts || refused == 0 {
		t.Errorf("%d runs, %d starts refused; want %d runs", n, refused, 1+interpreter.MaxEventStarts)
	}
	// the next event starts afresh
	start(t, w, a)
	if got := len(runs(t, w)); got != 2*(1+interpreter.MaxEventStarts) {
		t.Errorf("after a second event: %d runs", got)
	}
}

// TestStartWhileWaiting: a run that waits is still active.
func TestStartWhileWaiting(t *testing.T) {
	w, a := world(t,
		"flow \"A\"\ntrigger manual\nstart \"B\"\nstart \"B\"\nask text \"name?\"\nstart \"B\"\n",
		"flow \"B\"\ntrigger manual\nask text \"B?\"\n")
	start(t, w, a)
	wantLines(t, w, `* start "B"`, "bot: B?", `* start "B"`, `* not started: "B" is already running`, "bot: name?")
	w.Say("Ana") // answers A, which asked last; B still waits
	wantLines(t, w, `* start "B"`, `* not started: "B" is already running`, "* end")
	w.Say("yes") // answers B
	wantLines(t, w, `* end "B"`)
}

// TestChildLinesFollowStart: a started flow's first lines come right after
// `* start`, before the rest of its parent's.
func TestChildLinesFollowStart(t *testing.T) {
	w, a := world(t,
		"flow \"A\"\ntrigger manual\nsend \"one\"\nstart \"B\"\nsend \"two\"\n",
		"flow \"B\"\ntrigger manual\nsend \"b\"\nstart \"C\"\nsend \"b again\"\n",
		"flow \"C\"\ntrigger manual\nsend \"c\"\n")
	start(t, w, a)
	wantLines(t, w, "bot: one", `* start "B"`, "bot: b", `* start "C"`, "bot: c", `* end "C"`,
		"bot: b again", `* end "B"`, "bot: two", "* end")
}

// depthTransport answers every request with 200 and records how deep the
// Go stack is when it is called.
type depthTransport struct{ depths []int }

func (d *depthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pcs := make([]uintptr, 4096)
	d.depths = append(d.depths, runtime.Callers(0, pcs))
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// TestStartsDoNotNest: each start step in a chain of flows runs from the
// world's loop, not from inside the sprint of the flow that started it, so
// the Go stack does not grow with the chain.
func TestStartsDoNotNest(t *testing.T) {
	var srcs []string
	for _, name := range []string{"F1", "F2", "F3", "F4"} {
		next := map[string]string{"F1": "F2", "F2": "F3", "F3": "F4"}[name]
		src := "flow \"" + name + "\"\ntrigger manual\nsend \"in " + name + "\"\nhttp GET \"https://example.com/" + name + "\" {\n  on failure {\n    stop\n  }\n}\n"
		if next != "" {
			src += "start \"" + next + "\"\n"
		}
		srcs = append(srcs, src)
	}
	w, f1 := world(t, srcs...)
	d := &depthTransport{}
	w.SetLiveHTTP(&flowdruntime.HTTPClient{Transport: d})
	start(t, w, f1)
	if got := strings.Join(w.Transcript(), "\n"); !strings.Contains(got, `* end "F4"`) {
		t.Fatalf("the chain did not run:\n%s", got)
	}
	if len(d.depths) != 4 {
		t.Fatalf("%d requests, want 4", len(d.depths))
	}
	for i, depth := range d.depths {
		if depth != d.depths[0] {
			t.Errorf("request %d made %d frames deep, the first %d: starts nest", i+1, depth, d.depths[0])
		}
	}
}

// TestTimerAlreadyDue is the reproducer of the clock running backwards: the
// clock was set past a pending timer, which then fired at its own time.
func TestTimerAlreadyDue(t *testing.T) {
	w, p := world(t, "flow \"W\"\ntrigger manual\nwait 5m\nsend \"$system.current_datetime\"\n")
	start(t, w, p)
	w.SetNow(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if next, ok, _ := w.NextTimer(); !ok || !next.Before(w.Now()) {
		t.Fatalf("NextTimer = %v %v, want the due timer", next, ok)
	}
	w.Advance(time.Second)
	wantLines(t, w, "bot: 2026-03-01 12:00:00", "* end")
	if want := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC); !w.Now().Equal(want) {
		t.Errorf("clock at %v, want %v", w.Now(), want)
	}
}

// TestTimersFireInOrder: a timer within the advance fires at its own time.
func TestTimersFireInOrder(t *testing.T) {
	w, p := world(t, "flow \"W\"\ntrigger manual\nwait 5m\nsend \"$system.current_datetime\"\nwait 1h\nsend \"$system.current_datetime\"\n")
	start(t, w, p)
	w.Advance(2 * time.Hour)
	wantLines(t, w, "bot: 2026-01-05 10:05:00", "bot: 2026-01-05 11:05:00", "* end")
	if !w.Now().Equal(now.Add(2 * time.Hour)) {
		t.Errorf("clock at %v", w.Now())
	}
}

// TestEnroll: a trigger's `when` condition decides whether the flow starts;
// a draft starts (it is being tried); a flow that is active is not started.
func TestEnroll(t *testing.T) {
	w, p := world(t, "flow \"VIP\"\ntrigger conversation opened by contact when \"VIP\" in contact.tags\ndraft\nask text \"hi VIP\"\n")
	start(t, w, p)
	if _, ok := w.MainRun(); ok {
		t.Fatal("started though the condition is false")
	}
	wantLines(t, w, `* not started: "VIP": trigger condition is false`)
	w.SetTags([]string{"VIP"})
	start(t, w, p)
	wantLines(t, w, "bot: hi VIP")
	start(t, w, p)
	wantLines(t, w, `* not started: "VIP" is already running`)
}

func TestEnrollConditionError(t *testing.T) {
	w, p := world(t, "flow \"E\"\ntrigger manual when contact.score > 2\nfield score number\nsend \"hi\"\n")
	w.SetField("score", "many")
	if err := w.StartFlow(p, nil); err == nil || !strings.Contains(err.Error(), "trigger condition") {
		t.Errorf("StartFlow error = %v, want the condition's", err)
	}
	wantLines(t, w)
}

// TestTrailingSpaces: a message ending in whitespace shows it, as a .flowtest
// line cannot end with it.
func TestTrailingSpaces(t *testing.T) {
	w, p := world(t, "flow \"S\"\ntrigger manual\nsend \"hi  \"\nsend \"a\\nb \\n\"\nsend \"tab\\t\" choices \"x\"\nsend \"  lead\"\n")
	start(t, w, p)
	wantLines(t, w, `bot: hi\x20\x20`, `bot: a\nb \n`, `bot: tab\t [x]`, "bot:   lead", "* end")
}

// TestAIIdle: when the contact goes quiet the idle timer stops the ai reply
// (StopAI): no transcript line, and no run waits for AI any more.
func TestAIIdle(t *testing.T) {
	w, p := world(t, "flow \"AI\"\ntrigger manual\nai reply \"help\" idle 10m {\n  on idle {\n    send \"bye\"\n  }\n}\n")
	start(t, w, p)
	wantLines(t, w, `* ai reply "help"`)
	if waiting, _ := w.WaitingFor(interpreter.WaitAI); !waiting {
		t.Fatal("no run waits for AI")
	}
	w.Advance(10 * time.Minute)
	wantLines(t, w, "bot: bye", "* end")
	if waiting, _ := w.WaitingFor(interpreter.WaitAI); waiting {
		t.Error("a run still waits for AI")
	}
	if _, ok, _ := w.NextTimer(); ok {
		t.Error("a timer is left")
	}
}

// TestContactText: what a contact sends is cleaned where it enters the
// world, so tags, fields and transcripts get no NUL, ESC or CR, and is cut
// at interpreter.MaxMessageLen.
func TestContactText(t *testing.T) {
	src := "flow \"Name\"\ntrigger manual\nask \"Name?\" save contact.firstname\ntag add \"Name: $contact.firstname\"\nask \"More?\" save More\n"
	w, p := world(t, src)
	start(t, w, p)
	w.Transcript()
	w.Say("An\x00a\x1b[31m\r")
	wantLines(t, w, `* set contact.firstname = "Ana[31m"`, `* tag add "Name: Ana[31m"`, "bot: More?")
	w.Say(strings.Repeat("x", interpreter.MaxMessageLen+1))
	if got := mainRun(t, w).Vars["More"]; got != strings.Repeat("x", interpreter.MaxMessageLen) {
		t.Errorf("a long message is kept as %d characters", len(got.(string)))
	}
}

// TestTranscriptEscapes: a transcript line shows what a terminal would act
// on, or display in another order, as escapes.
func TestTranscriptEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":           "plain text",
		"two\nlines":           `two\nlines`,
		"red \x1b[31m":         `red \x1b[31m`,
		"abc\u202edef":         `abc\u202edef`,
		"bad \xff byte":        `bad \xff byte`,
		"C1 \u0085, byte \x85": `C1 \u0085, byte \x85`,
		"emoji 👨\u200d👩":       "emoji 👨\u200d👩",
		"ends in space ":       `ends in space\x20`,
	} {
		if got := sandbox.Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEventWork: the runs one event sets off share its work: flows that start
// one another, each within its own sprint's budget, cannot add up without
// end; the run past the event's budget fails, and says so.
func TestEventWork(t *testing.T) {
	heavy := strings.Repeat("if count(1..330000, true) > 0 {\n  comment \"c\"\n}\n", 9)
	w, a := world(t,
		"flow \"A\"\ntrigger manual\n"+heavy+"start \"B\"\n",
		"flow \"B\"\ntrigger manual\n"+heavy+"start \"C\"\n",
		"flow \"C\"\ntrigger manual\ncomment \"never\"\n")
	start(t, w, a)
	lines := strings.Join(w.Transcript(), "\n")
	want := `* failed: "C": this event did all the work one event may (50000 instructions, 10000000 expression steps); a loop between flows?`
	if !strings.Contains(lines, want) || strings.Contains(lines, "never") {
		t.Errorf("transcript:\n%s", lines)
	}
}

// TestTimersWithoutEnd: two flows that each wait a second and start the
// other made a year's Advance fire 31 million timers, holding the world for
// minutes and its runs and transcript in memory. A world has at most
// MaxRuns runs, keeps at most MaxTranscript lines between reads, and past
// its Limit fires no more timers.
func TestTimersWithoutEnd(t *testing.T) {
	w, tick := world(t,
		"flow \"Tick\"\ntrigger manual\nwait 1s\nstart \"Tock\"\n",
		"flow \"Tock\"\ntrigger manual\nwait 1s\nstart \"Tick\"\n")
	start(t, w, tick)
	w.Advance(365 * 24 * time.Hour)
	lines := w.Transcript()
	if n := len(runs(t, w)); n != sandbox.MaxRuns {
		t.Errorf("%d runs, want %d", n, sandbox.MaxRuns)
	}
	if last := lines[len(lines)-2]; last != `* not started: "Tock": a world may have 1000 runs in all` && last != `* not started: "Tick": a world may have 1000 runs in all` {
		t.Errorf("transcript ends %q", lines[len(lines)-2:])
	}

	// one run whose loops wait again and again, under a limit
	loops := ""
	for _, l := range []string{"a", "b", "c", "d", "e"} {
		loops = l + ": wait 1s\n" + loops + "jump to " + l + " max 9\n"
	}
	w, nest := world(t, "flow \"Nest\"\ntrigger manual\n"+loops)
	w.SetLimit(interpreter.Work{Instructions: 50})
	start(t, w, nest)
	w.Advance(365 * 24 * time.Hour)
	lines = w.Transcript()
	last := lines[len(lines)-1]
	if !w.Spent() || !strings.HasPrefix(last, "* timers stopped at 20") || !strings.HasSuffix(last, ": the runs did all the work they may") {
		t.Errorf("spent %v, transcript ends %q", w.Spent(), last)
	}
	if _, pending, _ := w.NextTimer(); !pending {
		t.Error("the timers past the limit are dropped, not kept")
	}

	// the transcript keeps MaxTranscript lines between reads
	w, tick = world(t,
		"flow \"Tick\"\ntrigger manual\nwait 1s\n"+strings.Repeat("comment \"c\"\n", 120)+"start \"Tock\"\n",
		"flow \"Tock\"\ntrigger manual\nwait 1s\n"+strings.Repeat("comment \"c\"\n", 120)+"start \"Tick\"\n")
	start(t, w, tick)
	w.Advance(365 * 24 * time.Hour)
	lines = w.Transcript()
	if len(lines) != sandbox.MaxTranscript+1 || lines[len(lines)-1] != "* transcript cut: more than 100000 lines or 16 MiB since the last look" {
		t.Errorf("%d lines, the last %q", len(lines), lines[len(lines)-1])
	}
	// and 16 MiB
	long := "comment \"" + strings.Repeat("x", 1000) + "\"\n"
	w2, tick2 := world(t,
		"flow \"Tick\"\ntrigger manual\nwait 1s\n"+strings.Repeat(long, 20)+"start \"Tock\"\n",
		"flow \"Tock\"\ntrigger manual\nwait 1s\n"+strings.Repeat(long, 20)+"start \"Tick\"\n")
	start(t, w2, tick2)
	w2.Advance(365 * 24 * time.Hour)
	lines2 := w2.Transcript()
	size := 0
	for _, l := range lines2 {
		size += len(l)
	}
	if size > sandbox.MaxTranscriptBytes+200 || lines2[len(lines2)-1] != "* transcript cut: more than 100000 lines or 16 MiB since the last look" {
		t.Errorf("%d lines of %d bytes, the last %q", len(lines2), size, lines2[len(lines2)-1])
	}
	start(t, w, tick)
	if lines = w.Transcript(); len(lines) != 1 || lines[0] != `* not started: "Tick": a world may have 1000 runs in all` {
		t.Errorf("after a read: %q", lines)
	}
}
