package repl

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowd/flowd/flowtest"
)

const (
	flowsDir = "testdata/flows"
	consent  = "testdata/flows/consent.flow"
)

// runSession runs a REPL session on piped input and returns its output. It
// fails the test unless the session exits 0.
func runSession(t *testing.T, opts Options, input string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Run(opts, strings.NewReader(input), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	return out.String()
}

// wantIn checks that each want line occurs in out, in order.
func wantIn(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (or has it out of order):\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// TestConsentTimeout is the scenario of the issue, with the real flow:
// printf ':wait 5m\n' | flowd repl flows/request_consent_privacy.flow
func TestConsentTimeout(t *testing.T) {
	path := "../flows/request_consent_privacy.flow"
	if _, err := os.Stat(path); err != nil {
		path = consent
	}
	out := runSession(t, Options{Path: path}, "hi\n:wait 5m\n")
	wantIn(t, out, "user: hi\nbot: Hi there!", "privacy", "\nbot: ", "[ACCEPT AND CONTINUE]\n", ":wait 5m\nbot: ",
		"\n* close conversation\n* end\n")
}

func TestTranscript(t *testing.T) {
	out := runSession(t, Options{Path: consent}, "hi\nhello\n\n:wait 4m\nnope\n")
	want := `# flow "Consent" (testdata/flows/consent.flow): type a message as the contact: it opens a conversation and starts the flow; :help lists the commands
user: hi
bot: Hi there! Please read our privacy policy: https://example.com/privacy
bot: Do you accept? [ACCEPT AND CONTINUE]
user: hello
bot: Do you accept? [ACCEPT AND CONTINUE]
:wait 4m
user: nope
bot: Sorry, we can only continue once you accept.
* end
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestNoRunWaiting(t *testing.T) {
	out := runSession(t, Options{Path: consent}, "hi\nACCEPT AND CONTINUE\nhello again\n")
	wantIn(t, out, "* end\n", "user: hello again\n# no run is waiting for a reply")
}

func TestPickFlow(t *testing.T) {
	out := runSession(t, Options{Path: "testdata/pick"}, "hi\n")
	wantIn(t, out, `# the flows of testdata/pick: type a message as the contact`, "user: hi\n", "bot: this is Alpha")
	out = runSession(t, Options{Path: "testdata/pick", Flow: "Zeta"}, "hi\n")
	wantIn(t, out, `# flow "Zeta" (testdata/pick/c_zeta.flow)`, "user: hi\nbot: this is Zeta")
}

func TestPickErrors(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		code int
		msg  string
	}{
		{Options{Path: "testdata/pick", Flow: "Alfa"}, 2, `no flow is named "Alfa" (did you mean "Alpha"?)`},
		{Options{Path: "testdata/nope.flow"}, 2, "no such file"},
		{Options{Path: t.TempDir()}, 2, "no flow in"},
		{Options{Path: brokenDir(t)}, 1, "does not compile"},
	} {
		var out, errOut bytes.Buffer
		code := Run(tt.opts, strings.NewReader(""), &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.msg) {
			t.Errorf("%+v: exit %d, stderr %q; want exit %d and %q", tt.opts, code, errOut.String(), tt.code, tt.msg)
		}
	}
}

func brokenDir(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.flow"), []byte("flow \"Bad\"\nsend \"oops\n"), 0o644)
	return dir
}

func TestCompileError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.flow")
	os.WriteFile(path, []byte("flow \"Bad\"\ntrigger manual\njump to nowhere max 1\n"), 0o644)
	var out, errOut bytes.Buffer
	if code := Run(Options{Path: path}, strings.NewReader("hello\n"), &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantIn(t, errOut.String(), "bad.flow:3:", `unknown label "nowhere"`, " | jump to nowhere max 1\n", "^")
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out.String())
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	out := runSession(t, Options{Path: consent}, ":help\n")
	for _, c := range commands {
		if !strings.Contains(out, "\n  :"+c.name) {
			t.Errorf(":help does not list :%s", c.name)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	out := runSession(t, Options{Path: consent}, ":wiat 5m\n:\n:zzzzzz\n:stat\n")
	wantIn(t, out,
		`unknown command ":wiat" (did you mean :wait?); :help lists the commands`,
		`unknown command ":"; :help lists the commands`,
		`unknown command ":zzzzzz"; :help lists the commands`,
		`unknown command ":stat" (did you mean :state?)`)
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{":wait", "usage: :wait DURATION"},
		{":wait soon", "usage: :wait DURATION"},
		{":now tomorrow", "usage: :now [YYYY-MM-DD HH:MM]"},
		{":set contact.city", "usage: :set contact|conversation|assignee.NAME VALUE"},
		{":set city Paris", "usage: :set"},
		{":unset nothing", "usage: :unset"},
		{":tag", "usage: :tag NAME"},
		{":untag", "usage: :untag NAME"},
		{":http", "usage: :http STATUS"},
		{":http 999", "usage: :http STATUS"},
		{":agent", "usage: :agent TEXT"},
		{":assign", "usage: :assign USER"},
		{":agents maybe", "usage: :agents online|offline"},
		{":ai", "usage: :ai success|human|unable|failure"},
		{":location here", "usage: :location LAT, LONG"},
	} {
		out := runSession(t, Options{Path: consent}, tt.in+"\n")
		if !strings.Contains(out, tt.in+"\n"+tt.want) {
			t.Errorf("%s: want %q after it in:\n%s", tt.in, tt.want, out)
		}
	}
}

func TestErrors(t *testing.T) {
	out := runSession(t, Options{Path: consent}, ":timezone Mars/Base\n:set contact.tags x\n:http 200\n:ai success\n:start Nope\n")
	wantIn(t, out,
		"error: unknown time zone Mars/Base",
		"error: tags are not a field: use :tag and :untag",
		"error: no http step is waiting for an answer",
		"error: no run is waiting for an ai reply",
		`error: no flow is named "Nope"`)
}

func TestClock(t *testing.T) {
	out := runSession(t, Options{Path: consent}, "hi\n:now\n:wait 1h30m\n:now\n:now 2026-03-01 08:15\n:timezone Asia/Kuala_Lumpur\n:now\n:timezone\n")
	wantIn(t, out,
		":now\n2026-01-05 10:00:00 UTC (Monday)\n",
		":wait 1h30m\nbot: We did not receive your consent.\n* close conversation\n* end\n",
		":now\n2026-01-05 11:30:00 UTC (Monday)\n",
		":now\n2026-03-01 08:15:00 +08 (Sunday)\n", // the wall clock is kept
		":timezone\nAsia/Kuala_Lumpur\n")
}

func TestContactCommands(t *testing.T) {
	out := runSession(t, Options{Path: consent},
		"hi\n:set contact.firstname Ana\n:set contact.lastname Lee\n:set conversation.previous 2\n:set assignee.status offline\n"+
			":tag VIP\n:tag \"Gold member\"\n:untag VIP\n:unset contact.lastname\n:contact\n:start\n")
	wantIn(t, out,
		":contact\ncontact.channel = \"whatsapp\"\ncontact.firstname = \"Ana\"\ncontact.id = \"1\"\ntags: \"Gold member\"\n",
		`* stopped "Consent"`, "bot: Hi Ana!")
}

func TestVarsStateDisasm(t *testing.T) {
	out := runSession(t, Options{Path: flowsDir}, ":start Helper\n:ai success Email=ana@example.com\n:vars\n:state\n:disasm\n")
	wantIn(t, out,
		":vars\nrun 1 \"Helper\" (waiting):\n  Email = \"ana@example.com\"\n",
		":state\nrun 1 \"Helper\" program ", ": waiting\n  waiting for reply, seq ",
		"at step #6: pc 6 (testdata/flows/helper.flow:15:1)\n  continuation (",
		" bytes): program ", " wait reply ", `vars {"Email":"ana@example.com"}`,
		":disasm\nflow \"Helper\" (testdata/flows/helper.flow) hash ", "ai", "ask", "location \"Where are you?\"", "end")
	if !regexp.MustCompile(`continuation \(\d+ bytes\)`).MatchString(out) {
		t.Errorf("no continuation size in:\n%s", out)
	}
}

func TestAgentsAIAndLocation(t *testing.T) {
	out := runSession(t, Options{Path: flowsDir, Flow: "Helper"},
		"hi\n:agents none\n:ai success Email=x\n:agents online\n:location 3.1, 101.6\n"+
			":start\n:ai human\n"+
			":start\n:ai success\n:agent hello\n"+
			":start\n:assign bob@example.com\n:vars\n")
	wantIn(t, out,
		":ai success Email=x\nbot: email x\n* assign team \"Support\" round robin\n* queued: no agent available\n",
		":agents online\n* assigned \"agent@support\"\nbot: Where are you?\n",
		":location 3.1, 101.6\nbot: thanks\n* end\n",
		":ai human\nbot: a human will help\n* end\n",
		":agent hello\n* exit \"Helper\" on agent message\n",
		":assign bob@example.com\n:vars\n", // Helper has no exit on manual assignment
		"run 4 \"Helper\" (waiting)")
}

func TestHTTPHold(t *testing.T) {
	out := runSession(t, Options{Path: flowsDir, Flow: "Lookup"},
		"hi\n:state\n:http 200 {\"type\": \"VIP\"}\n:start\n:http error connection refused\n"+
			":http stub GET https://crm.example.com/* -> 404\n:start\n:http stub nonsense\n")
	wantIn(t, out,
		"* http GET https://crm.example.com/customers/1\n# the http step waits for its answer: :http STATUS [BODY], or :http error TEXT\n",
		"waiting for http",
		":http 200 {\"type\": \"VIP\"}\n* http -> 200\nbot: type VIP\n* end\n",
		":start\n* http GET https://crm.example.com/customers/1\n# the http step waits",
		":http error connection refused\n* http -> error: connection refused\nbot: lookup failed\n",
		":start\n* http GET https://crm.example.com/customers/1\n* http -> 404\nbot: lookup failed\n",
		":http stub nonsense\nerror: want: http METHOD URL [header \"NAME\": \"VALUE\"]... [body \"BODY\"] -> STATUS [BODY] (after :http stub)")
}

func TestHTTPLiveAndHold(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type": "live"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	src, _ := os.ReadFile("testdata/flows/lookup.flow")
	src = bytes.ReplaceAll(src, []byte("https://crm.example.com"), []byte(srv.URL))
	os.WriteFile(filepath.Join(dir, "lookup.flow"), src, 0o644)
	out := runSession(t, Options{Path: filepath.Join(dir, "lookup.flow")}, "hi\n:http live\n:start\n:http hold\n:start\n")
	wantIn(t, out, "# the http step waits for its answer", ":http live\n# http steps that no stub matches now call the real URL\n",
		":start\n* stopped \"Lookup\"\n* http GET "+srv.URL+"/customers/1\n* http -> 200\nbot: type live\n* end\n",
		":http hold\n", ":start\n* http GET "+srv.URL+"/customers/1\n# the http step waits")
}

// dumped runs a session ending in :dump and returns the .flowtest it printed.
func dumped(t *testing.T, opts Options, input string) string {
	t.Helper()
	out := runSession(t, opts, input+":dump\n")
	i := strings.Index(out, "# a flowd repl session")
	if i < 0 {
		t.Fatalf("no dump in:\n%s", out)
	}
	return out[i:]
}

// replay writes a dump beside a copy of the flows and runs it with flowtest.
func replay(t *testing.T, dump string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"consent.flow", "lookup.flow", "helper.flow"} {
		src, _ := os.ReadFile(filepath.Join(flowsDir, name))
		os.WriteFile(filepath.Join(dir, name), src, 0o644)
	}
	replayIn(t, dir, dump)
}

func TestDump(t *testing.T) {
	dump := dumped(t, Options{Path: consent},
		":set contact.firstname Ana\n:tag VIP\n:timezone Europe/Paris\n:now 2026-02-02 09:00\n:start\nhello\n:set contact.lastname Lee\n:set contact.city Paris\n:tag Gold\n:wait 5m\n")
	want := `# a flowd repl session, written by :dump
flow consent.flow

=== repl session
trigger source = "contact"
trigger type = "conversation opened"
timezone Europe/Paris
now 2026-02-02 09:00:00
contact firstname = "Ana"
tags "VIP"
start
bot: Hi Ana! Please read our privacy policy: https://example.com/privacy
bot: Do you accept? [ACCEPT AND CONTINUE]
user: hello
bot: Do you accept? [ACCEPT AND CONTINUE]
contact lastname = "Lee"
tag add "Gold"
wait 5m
bot: We did not receive your consent.
* close conversation
* end
assert run.status == "done"
`
	if dump != want {
		t.Errorf("got:\n%s\nwant:\n%s", dump, want)
	}
	replay(t, dump)
}

func TestDumpReplays(t *testing.T) {
	for name, tt := range map[string]struct {
		opts  Options
		input string
	}{
		"waiting":  {Options{Path: consent}, "hello\n"},
		"accepted": {Options{Path: consent}, "ACCEPT AND CONTINUE\n:start\nACCEPT AND CONTINUE\n"},
		"http answers": {Options{Path: flowsDir, Flow: "Lookup"},
			":http 200 {  \"type\":   \"VIP\" }\n:start\n:http stub GET https://crm.example.com/customers/2 -> 500\n:http error timeout\n"},
		"helper": {Options{Path: flowsDir},
			":agents offline\n:start Helper\n:ai success Email=a@b.c\n:agents online\n:location 1.5, 2\n:set conversation.previous 3\n"},
		"exit": {Options{Path: flowsDir, Flow: "Helper"}, ":ai success\n:agent hi\n:assign bob\n"},
	} {
		t.Run(name, func(t *testing.T) { replay(t, dumped(t, tt.opts, tt.input)) })
	}
}

func TestDumpToFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "consent.flowtest")
	os.Mkdir(filepath.Dir(path), 0o755)
	out := runSession(t, Options{Path: consent}, "hi\nACCEPT AND CONTINUE\n:dump "+path+"\n")
	wantIn(t, out, "# wrote "+path)
	dump, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantIn(t, string(dump), "\nflow ../../", "testdata/flows/consent.flow\n", `assert run.status == "done"`)
	results, err := flowtest.RunFile(path)
	if err != nil || len(results) != 1 || !results[0].Passed() {
		t.Fatalf("flowtest: %v %+v", err, results)
	}
}

func TestDumpNotesDifferentAnswers(t *testing.T) {
	dump := dumped(t, Options{Path: flowsDir, Flow: "Lookup"}, "hi\n:http 200 {}\n:http stub GET https://crm.example.com/customers/1 -> 500\n")
	wantIn(t, dump, "# note: GET https://crm.example.com/customers/1 got different answers")
}

// started loads and starts a flow as Run does, for tests that act between
// input lines.
func started(t *testing.T, opts Options) (*session, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	proj, ff, code := loadAndPick(opts, &out)
	if proj == nil {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	s, err := newSession(proj, ff, &out, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.world.Close() })
	s.start(ff)
	return s, &out
}

func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "consent.flow")
	src, _ := os.ReadFile(consent)
	os.WriteFile(path, src, 0o644)
	s, out := started(t, Options{Path: path})
	main, _ := s.world.MainRun()
	old := main.Program
	s.handle(":reload")
	wantIn(t, out.String(), ":reload\n# no changes\n")

	os.WriteFile(path, bytes.Replace(src, []byte("Thank you!"), []byte("Thanks!"), 1), 0o644)
	s.handle(":reload")
	s.handle("ACCEPT AND CONTINUE") // the paused run keeps the program it paused in
	wantIn(t, out.String(), "# reloaded "+path+": program ", "# run 1 keeps program "+old+" until it ends",
		"user: ACCEPT AND CONTINUE\nbot: Thank you!\n")

	os.WriteFile(path, append(src, "send \"broken\n"...), 0o644)
	s.handle(":reload")
	wantIn(t, out.String(), "consent.flow:21:6: error: ", " | send \"broken\n", "^",
		"# "+path+" has errors: keeping the version that compiled")
	s.handle(":start") // new starts use the last version that compiled
	s.handle("ACCEPT AND CONTINUE")
	s.handle(":dump")
	wantIn(t, out.String(), ":start\nbot: Hi there!", "user: ACCEPT AND CONTINUE\nbot: Thanks!\n",
		"# note: "+path+" does not compile now")
}

func TestQuit(t *testing.T) {
	out := runSession(t, Options{Path: consent}, ":quit\nhello\n")
	if strings.Contains(out, "user: hello") {
		t.Errorf("input after :quit was read:\n%s", out)
	}
}

// TestLongInputLine: a line over MaxLineLen is reported with its number and
// skipped, and the session reads on; it used to end the session, exit 0,
// with the rest of the input unread.
func TestLongInputLine(t *testing.T) {
	input := "nope\n" + strings.Repeat("x", MaxLineLen+1) + "\naccept and continue\n"
	out := runSession(t, Options{Path: consent}, input)
	wantIn(t, out, "user: nope\n", "error: input line 2: line is longer than 1 MiB; it was skipped\n",
		"user: accept and continue\n", "* end\n")
}

// TestControlCharactersInInput: what a person types is cleaned as a
// contact's message is, and echoed harmlessly.
func TestControlCharactersInInput(t *testing.T) {
	out := runSession(t, Options{Path: consent}, "no\x1b[2J\x00pe\n:agent hi\u202e\n")
	wantIn(t, out, "user: no[2Jpe\n", `:agent hi\u202e`)
	if strings.ContainsAny(out, "\x1b\x00\u202e") {
		t.Errorf("the output holds control characters: %q", out)
	}
}

// TestRecordingBounded: what :dump would write is kept only up to what a
// .flowtest file may hold; past it, the session goes on and :dump says why
// it cannot.
func TestRecordingBounded(t *testing.T) {
	var in strings.Builder
	value := strings.Repeat("v", 60000)
	for i := 0; i < 80; i++ { // 4.8 MB of setup lines
		fmt.Fprintf(&in, ":set contact.firstname %s%d\n", value, i)
	}
	in.WriteString(":dump\n")
	out := runSession(t, Options{Path: consent}, in.String())
	wantIn(t, out, "error: the session since the flow started is too long for a .flowtest file (over 4 MiB); :start begins a new one")
}

// TestWaitIsBounded: one line may make the runs do what one .flowtest file
// may; a :wait over a flow that loops on heavy work stops firing timers
// there, and says so, and the session goes on.
func TestWaitIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "heavy.flow")
	heavy := "flow \"Heavy\"\ntrigger manual\na: wait 1s\n" +
		strings.Repeat("if count(1..330000, true) > 0 {\n  comment \"c\"\n}\n", 9) + "jump to a max 9\n"
	if err := os.WriteFile(path, []byte(heavy), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runSession(t, Options{Path: path}, "hi\n:wait 1m\n:now\n")
	wantIn(t, out, ":wait 1m\n", "* timers stopped at 2026-01-05T10:00:06Z: the runs did all the work they may", ":now\n")
	if n := strings.Count(out, "* comment \"c\""); n != 6*9 {
		t.Errorf("%d comments, want the work of 6 timers", n)
	}
}

// TestStartsAsProduction: on the bundled flows, the contact's first
// message opens the conversation and the triggers choose the flow (consent,
// for a new contact); after a close, the next message opens a second
// conversation, and VIP routing takes it: consent is once per contact.
func TestStartsAsProduction(t *testing.T) {
	out := runSession(t, Options{Path: "../flows"}, "hola\nACCEPT AND CONTINUE\n:close\nhi again\n")
	wantIn(t, out,
		"user: hola\n", `* started "Request Consent: Privacy" on conversation opened by contact`,
		"\nbot: Hi there! Before we continue, please read our privacy policy", "[ACCEPT AND CONTINUE]\n",
		"user: ACCEPT AND CONTINUE\nbot: Thank you!",
		":close\n",
		"user: hi again\n", `* not started: "Request Consent: Privacy": once per contact`,
		`* started "Routing: VIP Contacts" on conversation opened by contact`,
		"\nbot: To help you faster, what is your email address?\n")
	if n := strings.Count(out, "privacy policy: https://"); n != 1 {
		t.Errorf("the privacy message shows %d times, want once", n)
	}
	// a dump of it replays as a .flowtest beside the flows
	dump := dumped(t, Options{Path: "../flows"}, "hola\nACCEPT AND CONTINUE\n:close\nhi again\n")
	wantIn(t, dump, "conversation none\n", "user: hola\n", "conversation closed by user\n", "user: hi again\n")
	dir := t.TempDir()
	files, _ := filepath.Glob("../flows/*.flow")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), src, 0o644)
	}
	replayIn(t, dir, dump)
}
