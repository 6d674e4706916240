package flowtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestPassingFiles(t *testing.T) {
	for file, cases := range map[string]int{
		"testdata/consent.flowtest": 3, "testdata/askfail.flowtest": 2,
		"testdata/when.flowtest": 3, "testdata/fields.flowtest": 3, "testdata/post.flowtest": 2, "testdata/broken.flowtest": 1,
	} {
		results, err := RunFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != cases {
			t.Fatalf("%s: got %d results, want %d", file, len(results), cases)
		}
		for _, r := range results {
			if !r.Passed() {
				t.Errorf("%s: %s failed:\n%s", file, r.Case.Name, strings.Join(r.Failures, "\n"))
			}
		}
	}
}

// TestFailuresAreReadable checks what an author sees when a case fails: the
// file and line, the event, and a diff of the transcript.
func TestFailuresAreReadable(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Run([]string{"testdata/failing.flowtest"}, &out, false)
	if err != nil {
		t.Fatal(err)
	}
	if passed != 0 || failed != 3 {
		t.Fatalf("passed %d failed %d, want 0 and 3:\n%s", passed, failed, out.String())
	}
	for _, want := range []string{
		"--- FAIL: testdata/failing.flowtest:3: wrong text",
		"testdata/failing.flowtest:4: after start:",
		"    - bot: Hello!\n",
		"    + bot: Hi there! Please read https://example.com/privacy\n",
		"      bot: Do you accept? [ACCEPT AND CONTINUE]\n",
		`testdata/failing.flowtest:12: assert run.status == "done": false`,
		"run = map[status:waiting wait:reply]",
		"    + bot: Do you accept? [ACCEPT AND CONTINUE]",
		"0 passed, 3 failed\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "no cases"},
		{"=== a\nfrobnicate\n", `x.flowtest:2: unknown line "frobnicate"`},
		{"start\n", "x.flowtest:1: expected `flow FILE` or a case"},
		{"=== a\nassert\n", "assert needs an expression"},
		{"=== empty\n=== b\nstart\n", "x.flowtest:1: case has no lines: === empty"},
		{"=== a\nstart\n# only a comment\n=== last\n\n", "x.flowtest:4: case has no lines: === last"},
	} {
		_, err := Parse("x.flowtest", strings.NewReader(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestParseStub(t *testing.T) {
	for _, tc := range []struct {
		in     string
		method string
		url    string
		status int
		body   string
		err    string
	}{
		{in: `GET https://x/* -> 200 {"a": 1}`, method: "GET", url: "https://x/*", status: 200, body: `{"a": 1}`},
		{in: `* -> 500`, method: "*", url: "*", status: 500},
		{in: `POST https://x -> error timeout`, method: "POST", url: "https://x", err: "timeout"},
	} {
		s, err := ParseStub(tc.in)
		if err != nil {
			t.Fatalf("ParseStub(%q): %v", tc.in, err)
		}
		if s.Method != tc.method || s.URL != tc.url || s.Status != tc.status || s.Body != tc.body || s.Err != tc.err {
			t.Errorf("ParseStub(%q) = %+v", tc.in, s)
		}
	}
	for _, bad := range []string{"GET https://x", "GET https://x -> 99", "a b c -> 200", `GET https://x header "A" -> 200`,
		`GET https://x body "a" body "b" -> 200`, `GET https://x body "unclosed -> 200`} {
		if _, err := ParseStub(bad); err == nil {
			t.Errorf("ParseStub(%q) succeeded", bad)
		}
	}
	// header and body patterns, an arrow inside quotes; FormatStub writes
	// what ParseStub reads
	in := `POST https://x/* header "X-Sig": "a -> b" header "Accept": "*json" body "{\"k\": \"*\"}" -> 201 {"id": 1}`
	s, err := ParseStub(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.WantHeaders) != 2 || s.WantHeaders[0] != [2]string{"X-Sig", "a -> b"} || s.WantBody == nil || *s.WantBody != `{"k": "*"}` || s.Status != 201 {
		t.Errorf("ParseStub(%q) = %+v", in, s)
	}
	out := FormatStub(s)
	again, err := ParseStub(strings.TrimPrefix(out, "http "))
	if err != nil || FormatStub(again) != out {
		t.Errorf("FormatStub = %s; read again: %+v, %v", out, again, err)
	}
}

func TestDiff(t *testing.T) {
	got := Diff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	want := "      a\n    - b\n    + x\n      c\n    + d"
	if got != want {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseValue(t *testing.T) {
	for in, want := range map[string]any{`"42"`: "42", "42": 42, "2.5": 2.5, "true": true, "ana@example.com": "ana@example.com"} {
		if got := ParseValue(in); got != want {
			t.Errorf("ParseValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}

// runOne writes a flow and one case for it to a new directory and runs it.
func runOne(t *testing.T, flow, lines string) *Result {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.flow"), []byte(flow), 0o644)
	path := filepath.Join(dir, "f.flowtest")
	os.WriteFile(path, []byte("=== case\n"+lines), 0o644)
	results, err := RunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return results[0]
}

// wantFailure checks that a case fails with a message containing want.
func wantFailure(t *testing.T, r *Result, want string) {
	t.Helper()
	msgs := strings.Join(r.Failures, "\n")
	if r.Passed() || !strings.Contains(msgs, want) {
		t.Errorf("failures %q, want one containing %q", msgs, want)
	}
}

func TestTriggerConditionError(t *testing.T) {
	r := runOne(t, "flow \"E\"\ntrigger manual when contact.score > 2\nfield score number\nsend \"hi\"\n",
		"contact score = many\nstart\nbot: hi\n")
	wantFailure(t, r, "f.flowtest:3: start: ")
	wantFailure(t, r, "trigger condition contact.score > 2: ")
}

const aiFlow = "flow \"AI\"\ntrigger manual\nai reply \"help\" save Email, Name\nsend \"$Email, $Name\"\n"

func TestAIOutcome(t *testing.T) {
	r := runOne(t, aiFlow, "start\n* ai reply \"help\"\nai success Email=a@b.c Name=\"Ana Lima\"\nbot: a@b.c, Ana Lima\n* end\n")
	if !r.Passed() {
		t.Errorf("failed: %s", strings.Join(r.Failures, "\n"))
	}
	r = runOne(t, aiFlow, "start\n* ai reply \"help\"\nai sucess\n")
	wantFailure(t, r, `f.flowtest:4: ai sucess: unknown ai outcome "sucess" (did you mean "success"?)`)
	r = runOne(t, aiFlow, "start\n* ai reply \"help\"\nai success Email\n")
	wantFailure(t, r, `want Name=Value after the ai outcome, not "Email"`)
}

func TestParseAI(t *testing.T) {
	outcome, vars, err := ParseAI(`success Email=a@b.c  Name="Ana \"Lu\" Lima" Empty=`)
	if err != nil || outcome != "success" || len(vars) != 3 || vars["Email"] != "a@b.c" || vars["Name"] != `Ana "Lu" Lima` || vars["Empty"] != "" {
		t.Errorf("ParseAI = %q %q %v", outcome, vars, err)
	}
	for in, want := range map[string]string{
		"":              "want: ai success|human|unable|failure",
		"sucess":        `unknown ai outcome "sucess" (did you mean "success"?)`,
		"idle":          `unknown ai outcome "idle": want success, human, unable or failure`,
		"human =x":      `want Name=Value after the ai outcome, not "=x"`,
		`success A="b`:  "unterminated quote",
		"failure x y=1": `not "x"`,
	} {
		if _, _, err := ParseAI(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAI(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestParseLocationAndNow(t *testing.T) {
	if lat, long, err := ParseLocation(" 3.1 , -101.6"); err != nil || lat != 3.1 || long != -101.6 {
		t.Errorf("ParseLocation = %v %v %v", lat, long, err)
	}
	if _, _, err := ParseLocation("here"); err == nil {
		t.Error("ParseLocation(here) succeeded")
	}
	for _, in := range []string{"2026-03-01 12:00", "2026-03-01 12:00:00"} {
		if got, err := ParseNow(in, DefaultNow.Location()); err != nil || got.Format("2006-01-02 15:04") != "2026-03-01 12:00" {
			t.Errorf("ParseNow(%q) = %v %v", in, got, err)
		}
	}
	if _, err := ParseNow("tomorrow", DefaultNow.Location()); err == nil {
		t.Error("ParseNow(tomorrow) succeeded")
	}
}

// TestNowPastATimer: a timer the clock was set past fires at the next wait,
// at the current time.
func TestNowPastATimer(t *testing.T) {
	r := runOne(t, "flow \"W\"\ntrigger manual\nwait 5m\nsend \"$system.current_datetime\"\n",
		"start\nnow 2026-03-01 12:00\nwait 1s\nbot: 2026-03-01 12:00:00\n* end\n")
	if !r.Passed() {
		t.Errorf("failed: %s", strings.Join(r.Failures, "\n"))
	}
}

// TestStartItself: flowd test loads flows as flowd check does: a flow that
// starts itself is refused with check's diagnostic (the engine's own guard,
// a run not started again while it runs, is tested in sandbox).
func TestStartItself(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f.flow", "flow \"A\"\ntrigger manual\nstart \"A\"\n")
	_, err := RunFile(writeFile(t, dir, "f.flowtest", "=== a\nstart\n"))
	if err == nil || !strings.Contains(err.Error(), "f.flow:1:6: error: flow \"A\" starts itself through start steps") {
		t.Errorf("RunFile: %v", err)
	}
}

// TestBoundedFiles: a .flowtest line over MaxLineLen is an error with its
// line number (it was "bufio.Scanner: token too long"), and the flow a
// .flowtest names is read only if it is a regular file under the cap.
func TestBoundedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("a.flow", "flow \"A\"\ntrigger manual\nsend \"hi\"\n")
	long := write("long.flowtest", "flow a.flow\n=== long\nstart\nbot: "+strings.Repeat("x", MaxLineLen)+"\n")
	if _, err := RunFile(long); err == nil || err.Error() != long+":4: line is longer than 1 MiB" {
		t.Errorf("a long line: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.flow")); err != nil {
		t.Fatal(err)
	}
	zero := write("zero.flowtest", "flow zero.flow\n=== zero\nstart\n")
	if _, err := RunFile(zero); err == nil || !strings.HasSuffix(err.Error(), "zero.flow: not a regular file but a character device") {
		t.Errorf("a flow that is /dev/zero: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero2.flowtest")); err != nil {
		t.Fatal(err)
	}
	if _, err := RunFile(filepath.Join(dir, "zero2.flowtest")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a .flowtest that is /dev/zero: %v", err)
	}
}

// TestFileWork: the cases of one .flowtest file share a bound on what their
// flows do, so that a small file of heavy events cannot run for minutes;
// the cases past it are not run, and fail.
func TestFileWork(t *testing.T) {
	dir := t.TempDir()
	flow := "flow \"Heavy\"\ntrigger manual\n" + strings.Repeat("if count(1..330000, true) > 0 {\n  comment \"c\"\n}\n", 9)
	writeFile(t, dir, "heavy.flow", flow)
	path := writeFile(t, dir, "heavy.flowtest", "flow heavy.flow\n"+strings.Repeat("=== heavy\nstart\n", 8))
	results, err := RunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	notRun := 0
	for _, r := range results {
		for _, f := range r.Failures {
			if strings.Contains(f, "not run: the cases before it ran more than a .flowtest file may (1000000 instructions, 50000000 expression steps)") {
				notRun++
			}
		}
	}
	// each case takes 8.9 million steps: the sixth crosses 50 million, and
	// stops there
	if notRun != 2 {
		t.Errorf("%d cases not run, want 2", notRun)
	}
	if f := results[5].Failures; len(f) != 1 || !strings.HasSuffix(f[0], ":13: start: stopped: the case ran more than a .flowtest file may (1000000 instructions, 50000000 expression steps); split the file") {
		t.Errorf("the sixth case: %q", f)
	}

	// one case of many events stops at the event that crosses the bound
	writeFile(t, dir, "heavy.flowtest", "flow heavy.flow\n=== heavy\n"+strings.Repeat("start\n"+strings.Repeat("* comment \"c\"\n", 9)+"* end\n", 8))
	if results, err = RunFile(path); err != nil {
		t.Fatal(err)
	}
	if f := results[0].Failures; len(f) != 1 || !strings.HasSuffix(f[0], ":58: start: stopped: the case ran more than a .flowtest file may (1000000 instructions, 50000000 expression steps); split the file") {
		t.Errorf("one case of 8 events: %q", f)
	}
}

// TestDiffBounded: two long transcripts that differ everywhere made a table
// of their lengths' product (6,000 expected lines against 100,000: 4.7 GB);
// now the diff is bounded in memory and output, and a few differing lines in
// a long transcript show with their context.
func TestDiffBounded(t *testing.T) {
	lines := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s %d", s, i)
		}
		return out
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d := Diff(lines(6000, "* x"), lines(100000, "* comment"))
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d bytes", alloc)
	}
	if n := strings.Count(d, "\n"); n > 201 || !strings.HasSuffix(d, "    … (106000 lines in all)") || !strings.HasPrefix(d, "    - * x 0\n") {
		t.Errorf("%d lines, starting %q, ending %q", n, d[:20], d[len(d)-40:])
	}
	want := lines(1000, "* c")
	got := append(append(append([]string{}, want[:500]...), "* surprise"), want[501:]...)
	if d := Diff(want, got); d != "    … (497 lines as expected)\n      * c 497\n      * c 498\n      * c 499\n    - * c 500\n    + * surprise\n      * c 501\n      * c 502\n      * c 503\n    … (496 lines as expected)" {
		t.Errorf("one line changed:\n%s", d)
	}
}

// TestAssertWork: the work of asserts counts in the file's bound: 1,000
// asserts of a million steps each took half a minute.
func TestAssertWork(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.flow", "flow \"A\"\ntrigger manual\nstop\n")
	path := writeFile(t, dir, "a.flowtest", "flow a.flow\n=== heavy asserts\n"+strings.Repeat("assert sum(1..450000) > 0\n", 1000))
	results, err := RunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f := results[0].Failures; len(f) != 1 || !strings.Contains(f[0], ": assert sum(1..450000) > 0: stopped: the case ran more than a .flowtest file may") {
		t.Errorf("failures: %q", f)
	}
}

// TestSiblingsOnDemand: the flows beside a .flowtest are compiled when a
// start step names one, not all of them for each file: twenty directories'
// worth of 256 KiB flows took two minutes and half a gigabyte.
func TestSiblingsOnDemand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) { writeFile(t, dir, name, src) }
	big := strings.Repeat("if contact.name == \"x\" {\n  comment \"c\"\n}\n", 4000)
	for i := range 10 {
		write(fmt.Sprintf("big%d.flow", i), fmt.Sprintf("# a big flow\n\nflow \"Big %d\"\ntrigger manual\n%s", i, big))
	}
	write("main.flow", "flow \"Main\"\ntrigger manual\nstart \"Small\"\n")
	write("small.flow", "flow \"Small\"\ntrigger manual\nsend \"hi from small\"\n")
	write("main.flowtest", "=== starts a sibling\nstart\n* start \"Small\"\nbot: hi from small\n* end \"Small\"\n* end\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	results, err := RunFile(filepath.Join(dir, "main.flowtest"))
	runtime.ReadMemStats(&after)
	if err != nil || len(results) != 1 || len(results[0].Failures) != 0 {
		t.Fatalf("%v %v", err, results)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("allocated %d bytes for ten flows that nothing starts", alloc)
	}
}

// writeFile writes src to name in dir, and returns its path.
func writeFile(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A case that shows a runtime error passes from any working directory:
// the error names the flow's file relative to the .flowtest's folder.
func TestFailedLineFromAnotherDirectory(t *testing.T) {
	abs, err := filepath.Abs("testdata/broken.flowtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	results, err := RunFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || !results[0].Passed() {
		t.Errorf("from another directory: %+v", results[0].Failures)
	}
}

// The flow and the asserts see the trigger data the flow started with,
// its type included; a flow triggered by a close starts with the
// conversation closed.
func TestTriggerSeenAsInProduction(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "vip.flow", "flow \"VIP\"\ntrigger tag added \"VIP\"\nsend \"type=${trigger.type} tag=${trigger.tag}\"\n")
	writeFile(t, dir, "csat.flow", "flow \"CSAT\"\ntrigger conversation closed\nsend \"open=${conversation.open} source=${trigger.source}\"\n")
	writeFile(t, dir, "vip.flowtest", "=== tag\ntrigger tag = VIP\nstart\nbot: type=tag added tag=VIP\n* end\n"+
		"assert trigger.type == \"tag added\" && trigger.tag == \"VIP\"\n")
	writeFile(t, dir, "csat.flowtest", "=== closed\ntrigger source = user\nstart\nbot: open=false source=user\n* end\n"+
		"assert conversation.open == false && trigger.type == \"conversation closed\"\n")
	for _, f := range []string{"vip.flowtest", "csat.flowtest"} {
		results, err := RunFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if !r.Passed() {
				t.Errorf("%s: %s", f, strings.Join(r.Failures, "\n"))
			}
		}
	}
}

// A name that does not exist fails the case at its line, in an assert or
// a setup line, with a hint: misspelled, it would read as nil and pass.
func TestUnknownNamesFail(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.flow", "flow \"A\"\ntrigger manual\nfield score number\nask \"Score?\" save Score\n")
	for _, c := range []struct{ line, want string }{
		{"assert Scroe == nil", `unknown name "Scroe" (did you mean "Score"?)`},
		{`assert "x" not in contact.tagz`, `contact has no field "tagz" (did you mean "tags"?)`},
		{"assert contact.emial == nil", `contact has no field "emial" (did you mean "email"?)`},
		{"assert conversation.opn", `conversation has no field "opn" (did you mean "open"?)`},
		{"assert run.stauts == \"done\"", `run has no field "stauts" (did you mean "status"?)`},
		{"contact firstnme = Ana", `contact has no field "firstnme" (did you mean "firstname"?)`},
		{"assignee emial = bob@example.com", `assignee has no field "emial" (did you mean "email"?)`},
	} {
		path := writeFile(t, dir, "a.flowtest", "flow a.flow\n=== case\nstart\nbot: Score?\n"+c.line+"\n")
		results, err := RunFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f := results[0].Failures; len(f) != 1 || !strings.Contains(f[0], "a.flowtest:5: "+c.line+": "+c.want) {
			t.Errorf("%s: failures %q, want one at line 5 with %q", c.line, f, c.want)
		}
	}
	// names that exist pass: declared fields, variables, lets
	path := writeFile(t, dir, "a.flowtest", "flow a.flow\n=== case\ncontact score = 3\nstart\nbot: Score?\n"+
		"assert contact.score == 3 && Score == nil && run.wait == \"reply\" && (let x = 1; x == 1) && len(contact.tags) == 0\n")
	if results, err := RunFile(path); err != nil || !results[0].Passed() {
		t.Errorf("known names: %v %v", err, results[0].Failures)
	}
}

// flowd test -v names each case with the time it took.
func TestVerboseShowsTime(t *testing.T) {
	var out bytes.Buffer
	if _, _, err := Run([]string{"testdata/consent.flowtest"}, &out, true); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^--- PASS: testdata/consent.flowtest:\d+: accepts \([0-9.]+(µs|ms|s)\)$`).MatchString(out.String()) {
		t.Errorf("verbose output:\n%s", out.String())
	}
}

// The cases of testdata/events: real events through trigger selection
// across a folder of flows.
func TestEvents(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Run([]string{"testdata/events"}, &out, false)
	if err != nil || failed > 0 || passed < 19 {
		t.Errorf("%d passed, %d failed, %v\n%s", passed, failed, err, out.String())
	}
}

// Two flows that set each other off are stopped by the firing cap, with a
// visible error, in a case that lists every line they wrote.
func TestLoopStoppedByCap(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ping.flow", "flow \"Ping\"\ntrigger tag added \"ping\"\n\ntag remove \"ping\"\ntag add \"pong\"\n")
	writeFile(t, dir, "pong.flow", "flow \"Pong\"\ntrigger tag added \"pong\"\n\ntag remove \"pong\"\ntag add \"ping\"\n")
	var b strings.Builder
	b.WriteString("=== ping pong\ntag add \"ping\"\n")
	for i := 0; i < 50; i++ { // runtime.DefaultFiringCap
		flow, tag, next := "Ping", "ping", "pong"
		if i%2 == 1 {
			flow, tag, next = "Pong", "pong", "ping"
		}
		fmt.Fprintf(&b, "* started %q on tag added %q\n* tag remove %q\n* tag add %q\n* end %q\n", flow, tag, tag, next, flow)
	}
	b.WriteString("* not started: \"Ping\": 50 flows started for this contact within 10m0s; flows that set each other off?\n")
	path := writeFile(t, dir, "ping.flowtest", b.String())
	results, err := RunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !results[0].Passed() {
		t.Errorf("%s", strings.Join(results[0].Failures, "\n"))
	}
}

// The workspace file beside a flow sets its cases' timezone and business
// hours, as flowd serve's does: testdata/workspace's hours are not the
// default ones.
func TestWorkspaceFile(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Run([]string{"testdata/workspace"}, &out, false)
	if err != nil || failed > 0 || passed != 5 {
		t.Errorf("%d passed, %d failed, %v\n%s", passed, failed, err, out.String())
	}
}
