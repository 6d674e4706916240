package flowtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/sandbox"
)

// DefaultNow is the clock at the start of every case unless `now` sets it:
// a Monday morning, so that business-hours flows are open.
var DefaultNow = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// A Result is the outcome of one case.
type Result struct {
	File     string
	Case     *Case
	Failures []string      // empty when the case passed
	Took     time.Duration // how long the case ran, from its world's start
}

// Passed reports whether the case passed.
func (r *Result) Passed() bool { return len(r.Failures) == 0 }

// RunFile runs every case of a .flowtest file. The error reports a file that
// cannot be read or a flow that does not compile; failing cases are results.
func RunFile(path string) ([]*Result, error) {
	src, err := textfile.Read(path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	flowPath := f.Flow
	if flowPath == "" {
		flowPath = strings.TrimSuffix(filepath.Base(path), ".flowtest") + ".flow"
	}
	flowPath = filepath.Join(filepath.Dir(path), flowPath)
	main, flows, err := LoadFlows(flowPath, filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	var results []*Result
	var work interpreter.Work
	for _, c := range f.Cases {
		if work.Instructions >= MaxFileInstructions || work.ExprSteps >= MaxFileExprSteps { // left is never 0, which is no limit
			results = append(results, &Result{File: path, Case: c, Failures: []string{fmt.Sprintf(
				"%s:%d: not run: the cases before it ran more than a .flowtest file may (%d instructions, %d expression steps); split the file",
				path, c.Line, MaxFileInstructions, MaxFileExprSteps)}})
			continue
		}
		left := interpreter.Work{Instructions: MaxFileInstructions - work.Instructions, ExprSteps: MaxFileExprSteps - work.ExprSteps}
		start := time.Now()
		r, w := runCase(path, c, main, flows, left)
		r.Took = time.Since(start)
		results = append(results, r)
		work.Instructions += w.Instructions
		work.ExprSteps += w.ExprSteps
	}
	return results, nil
}

// caseRun is the state of one running case.
type caseRun struct {
	file    string
	world   *sandbox.World
	main    *interpreter.Program
	known   *interpreter.Program // the names a line may use: main's variables, the fields any flow declares
	trigger map[string]any
	res     *Result
}

// runCase runs one case and returns its result and the work its runs did,
// stopping it once they have done the work left to the file.
func runCase(file string, c *Case, main *interpreter.Program, flows *Flows, left interpreter.Work) (*Result, interpreter.Work) {
	cr0 := &caseRun{file: file, res: &Result{File: file, Case: c}}
	w, err := sandbox.New(DefaultNow, main, flows.All())
	if err != nil {
		cr0.failf(c.Line, "%v", err)
		return cr0.res, interpreter.Work{}
	}
	defer w.Close()
	if ws := flows.ws; ws != nil { // as flowd serve runs: the case's own lines may change them
		w.SetBusinessHours(ws.Hours)
		w.SetTimezone(ws.Location)
	}
	w.SetLimit(left)
	cr := &caseRun{file: file, world: w, main: main, trigger: map[string]any{}, res: &Result{File: file, Case: c}}
	cr.known = flows.known
	lines := c.Lines
	for i := 0; i < len(lines); {
		l := lines[i]
		i++
		if l.Kind == Expect {
			cr.failf(l.Num, "expected line %q comes before any event", l.Text)
			continue
		}
		var err error
		switch l.Kind {
		case Setup:
			err = cr.setup(l)
		case Event:
			err = cr.event(l)
		case Assert:
			err = cr.assert(l)
		}
		if err != nil {
			cr.failf(l.Num, "%s: %v", l.Text, err)
			return cr.res, w.Work()
		}
		if w.Spent() {
			cr.failf(l.Num, "%s: stopped: the case ran more than a .flowtest file may (%d instructions, %d expression steps); split the file",
				l.Text, MaxFileInstructions, MaxFileExprSteps)
			return cr.res, w.Work()
		}
		var want []string
		for i < len(lines) && lines[i].Kind == Expect {
			want = append(want, lines[i].Text)
			i++
		}
		got := w.Transcript()
		if !equal(got, want) {
			cr.failf(l.Num, "after %s:\n%s", l.Text, Diff(want, got))
		}
	}
	return cr.res, w.Work()
}

func (cr *caseRun) failf(line int, format string, args ...any) {
	cr.res.Failures = append(cr.res.Failures, fmt.Sprintf("%s:%d: %s", cr.file, line, fmt.Sprintf(format, args...)))
}

func (cr *caseRun) setup(l Line) error {
	w := cr.world
	switch l.Verb {
	case "contact", "conversation", "assignee", "trigger":
		if l.Verb == "conversation" && l.Arg == "none" {
			return w.SetNoConversation()
		}
		name, value, ok := strings.Cut(l.Arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("want: %s NAME = VALUE", l.Verb)
		}
		value = strings.TrimSpace(value)
		if err := CheckField(cr.known, l.Verb, name); err != nil {
			return err
		}
		switch l.Verb {
		case "contact":
			return w.SetField(name, ContactValue(cr.main, name, value))
		case "conversation":
			return w.SetConversation(name, ParseValue(value))
		case "trigger":
			cr.trigger[name] = ParseValue(value)
		case "assignee":
			return w.SetAssignee(name, ParseValue(value))
		}
	case "tags":
		return w.SetTags(parseList(l.Arg))
	case "enrolled":
		flows := parseList(l.Arg)
		if len(flows) == 0 {
			return errors.New(`want: enrolled "FLOW", "OTHER" (flows the contact entered before)`)
		}
		return w.SetEnrolled(flows)
	case "published":
		if l.Arg != "" {
			return errors.New("want: published (the flow under test takes part in trigger selection, draft or not)")
		}
		return w.Publish(cr.main)
	case "timezone":
		loc, err := time.LoadLocation(l.Arg)
		if err != nil {
			return err
		}
		return w.SetTimezone(loc)
	case "now":
		t, err := ParseNow(l.Arg, w.Timezone())
		if err != nil {
			return err
		}
		return w.SetNow(t)
	case "http":
		s, err := ParseStub(l.Arg)
		if err != nil {
			return err
		}
		w.AddStub(s)
	case "agents":
		switch l.Arg {
		case "online":
			return w.SetAgentsOnline(true)
		case "offline":
			return w.SetAgentsOnline(false)
		case "none":
			w.SetNoAgents()
		default:
			return fmt.Errorf("want: agents online, agents offline, or agents none")
		}
	case "deliveries":
		switch l.Arg {
		case "fail":
			w.SetDeliveriesFail(true)
		case "ok":
			w.SetDeliveriesFail(false)
		default:
			return fmt.Errorf("want: deliveries fail, or deliveries ok")
		}
	}
	return nil
}

// took writes a case's time as -v shows it: 1.2ms, 340µs.
func took(d time.Duration) string {
	return d.Round(10 * time.Microsecond).String()
}

// ParseNow reads the clock of a `now` line, YYYY-MM-DD HH:MM[:SS] or
// YYYY-MM-DD, in the workspace timezone loc.
func ParseNow(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want: now YYYY-MM-DD HH:MM (in the workspace timezone)")
}

// ParseLocation reads the LAT, LONG of a `location:` line.
func ParseLocation(s string) (lat, long float64, err error) {
	a, b, ok := strings.Cut(s, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	long, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want: location: LAT, LONG")
	}
	return lat, long, nil
}

// AIOutcomes are the outcomes an `ai reply` step can be answered with.
var AIOutcomes = []string{"success", "human", "unable", "failure"}

// ParseAI reads `OUTCOME [Name=Value ...]`, the answer to an ai reply step:
// the outcome, one of AIOutcomes, and the values the AI collected. A value
// may be "quoted" to hold spaces.
func ParseAI(s string) (outcome string, vars map[string]string, err error) {
	words, err := splitQuoted(s)
	if err != nil {
		return "", nil, err
	}
	if len(words) == 0 {
		return "", nil, fmt.Errorf("want: ai %s [Name=Value ...]", strings.Join(AIOutcomes, "|"))
	}
	outcome = words[0]
	if !slices.Contains(AIOutcomes, outcome) {
		hint := ""
		if best := dsl.Nearest(outcome, AIOutcomes); best != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", best)
		}
		return "", nil, fmt.Errorf("unknown ai outcome %q%s: want success, human, unable or failure", outcome, hint)
	}
	vars = map[string]string{}
	for _, kv := range words[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return "", nil, fmt.Errorf("want Name=Value after the ai outcome, not %q", kv)
		}
		vars[k] = Unquote(v)
	}
	return outcome, vars, nil
}

// splitQuoted splits s at spaces outside "double quotes".
func splitQuoted(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	quoted, escaped, inWord := false, false, false
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		cur.WriteRune(c)
		inWord = true
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// stubUsage is how a stub line is written.
const stubUsage = `want: http METHOD URL [header "NAME": "VALUE"]... [body "BODY"] -> STATUS [BODY]`

// ParseStub reads `METHOD URL [header "NAME": "VALUE"]... [body "BODY"] ->
// STATUS [BODY]` or `... -> error TEXT`. The header values and the body to
// match are quoted as in a flow, and may hold *.
func ParseStub(s string) (*sandbox.Stub, error) {
	req, resp, ok := cutArrow(s)
	if !ok {
		return nil, errors.New(stubUsage)
	}
	words, err := stubWords(req)
	if err != nil {
		return nil, err
	}
	stub := &sandbox.Stub{Method: "*"}
	switch {
	case len(words) == 0:
		return nil, errors.New(stubUsage)
	case len(words) == 1 || words[1] == "header" || words[1] == "body":
		stub.URL, words = words[0], words[1:]
	default:
		stub.Method, stub.URL, words = words[0], words[1], words[2:]
	}
	for len(words) > 0 {
		switch {
		case words[0] == "header" && len(words) >= 3 && strings.HasSuffix(words[1], ":"):
			stub.WantHeaders = append(stub.WantHeaders, [2]string{strings.TrimSuffix(words[1], ":"), words[2]})
			words = words[3:]
		case words[0] == "body" && len(words) >= 2 && stub.WantBody == nil:
			body := words[1]
			stub.WantBody, words = &body, words[2:]
		default:
			return nil, fmt.Errorf("%q: %s", words[0], stubUsage)
		}
	}
	resp = strings.TrimSpace(resp)
	word, rest, _ := strings.Cut(resp, " ")
	if word == "error" {
		stub.Err = strings.TrimSpace(rest)
		if stub.Err == "" {
			stub.Err = "error"
		}
		return stub, nil
	}
	status, err := strconv.Atoi(word)
	if err != nil || status < 100 || status > 599 {
		return nil, fmt.Errorf("response status %q is not an HTTP status", word)
	}
	stub.Status, stub.Body = status, strings.TrimSpace(rest)
	return stub, nil
}

// FormatStub writes a stub as ParseStub reads it; a body is kept on one
// line as compact JSON, or with its runs of white space as one space.
func FormatStub(st *sandbox.Stub) string {
	var b strings.Builder
	method := st.Method
	if method == "" {
		method = "*"
	}
	fmt.Fprintf(&b, "http %s %s", method, st.URL)
	for _, h := range st.WantHeaders {
		fmt.Fprintf(&b, " header %q: %q", h[0], h[1])
	}
	if st.WantBody != nil {
		fmt.Fprintf(&b, " body %q", *st.WantBody)
	}
	if st.Err != "" {
		fmt.Fprintf(&b, " -> error %s", oneLine(st.Err))
	} else {
		fmt.Fprintf(&b, " -> %d %s", st.Status, oneLine(st.Body))
	}
	return strings.TrimSpace(b.String())
}

// oneLine fits a body on one line: compact JSON, or white space as spaces.
func oneLine(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) == nil {
		return b.String()
	}
	return strings.Join(strings.Fields(s), " ")
}

// cutArrow cuts s at the first -> outside quotes.
func cutArrow(s string) (before, after string, ok bool) {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				return "", "", false
			}
			i += len(q) - 1
		case strings.HasPrefix(s[i:], "->"):
			return s[:i], s[i+2:], true
		}
	}
	return "", "", false
}

// stubWords splits a stub's request into words; a quoted word is unquoted,
// and a quoted header name keeps the colon that follows it.
func stubWords(s string) ([]string, error) {
	var words []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] != '"' {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			words, s = append(words, s[:end]), s[end:]
			continue
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("bad quoted text at %s", s)
		}
		w, _ := strconv.Unquote(q)
		s = s[len(q):]
		if strings.HasPrefix(s, ":") {
			w, s = w+":", s[1:]
		}
		words = append(words, w)
	}
	return words, nil
}

func (cr *caseRun) event(l Line) error {
	w := cr.world
	switch l.Verb {
	case "start":
		return w.StartFlow(cr.main, cr.triggerData())
	case "user:":
		return w.Say(l.Arg)
	case "location:":
		lat, long, err := ParseLocation(l.Arg)
		if err != nil {
			return err
		}
		return w.SendLocation(lat, long)
	case "agent:":
		return w.AgentSays(l.Arg)
	case "assign":
		if l.Arg == "" {
			return fmt.Errorf("want: assign USER (an agent assigns the conversation by hand)")
		}
		return w.ManualAssign(Unquote(l.Arg))
	case "wait":
		d, err := dsl.ParseDuration(l.Arg)
		if err != nil {
			return err
		}
		return w.Advance(time.Duration(d))
	case "ai":
		outcome, vars, err := ParseAI(l.Arg)
		if err != nil {
			return err
		}
		return w.AnswerAI(outcome, vars)
	case "conversation":
		return ConversationEvent(w, l.Arg)
	case "tag":
		action, rest, _ := strings.Cut(l.Arg, " ")
		tags := parseList(rest)
		switch {
		case len(tags) == 0:
		case action == "add":
			return w.ChangeTags(tags, nil)
		case action == "remove":
			return w.ChangeTags(nil, tags)
		}
		return errors.New(`want: tag add "A", "B", or tag remove "A"`)
	case "field":
		name, value, ok := strings.Cut(l.Arg, "=")
		name = strings.TrimSpace(name)
		if n, clear := strings.CutSuffix(name, " clear"); !ok && clear {
			return w.ChangeField(strings.TrimSpace(n), "", true)
		}
		if !ok || name == "" {
			return errors.New("want: field NAME = VALUE, or field NAME clear")
		}
		if err := CheckField(cr.known, "contact", name); err != nil {
			return err
		}
		return w.ChangeField(name, Unquote(strings.TrimSpace(value)), false)
	case "shortcut":
		words, err := splitQuoted(l.Arg)
		if err != nil || len(words) == 0 {
			return errors.New(`want: shortcut "NAME" [Field=Value ...]`)
		}
		form, err := pairs(words[1:])
		if err != nil {
			return err
		}
		return w.Shortcut(Unquote(words[0]), form)
	case "ad":
		words, err := splitQuoted(l.Arg)
		if err != nil || len(words) < 2 {
			return errors.New("want: ad PLATFORM AD_ID [key=value ...] (the ad's referral data)")
		}
		kv, err := pairs(words[2:])
		if err != nil {
			return err
		}
		referral := map[string]any{}
		for k, v := range kv {
			referral[k] = v
		}
		return w.AdClick(words[0], Unquote(words[1]), referral)
	case "stop":
		what, flow, _ := strings.Cut(l.Arg, " ")
		if what != "bot" {
			return errors.New(`want: stop bot, or stop bot "FLOW"`)
		}
		return w.StopBot(Unquote(strings.TrimSpace(flow)))
	}
	return nil
}

// ConversationEvent does what the rest of a line `conversation opened [by
// WHO]` or `conversation closed [by WHO] [category "C"] [summary "S"]` says:
// the conversation opened or closed from outside (WHO: contact, user or
// flow; contact when opened, user when closed, unless said).
func ConversationEvent(w *sandbox.World, arg string) error {
	words, err := splitQuoted(arg)
	if err != nil || len(words) == 0 {
		return errors.New("want: conversation opened [by contact|user|flow], or conversation closed [by ...] [category \"C\"] [summary \"S\"]")
	}
	action, by := words[0], map[string]string{"opened": "contact", "closed": "user"}[words[0]]
	var category, summary string
	for rest := words[1:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			return fmt.Errorf("%q needs a value", rest[0])
		}
		switch v := Unquote(rest[1]); rest[0] {
		case "by":
			if v != "contact" && v != "user" && v != "flow" {
				return fmt.Errorf("by %q: want contact, user or flow", v)
			}
			by = v
		case "category":
			category = v
		case "summary":
			summary = v
		default:
			return fmt.Errorf("unexpected %q after conversation %s", rest[0], action)
		}
	}
	if action == "opened" {
		if category != "" || summary != "" {
			return errors.New("an opened conversation has no category or summary")
		}
		return w.OpenConversation(by)
	}
	return w.CloseConversation(by, category, summary)
}

// parseList reads `"A", "B"` (quotes optional).
func parseList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, Unquote(t))
		}
	}
	return out
}

// pairs reads Name=Value words, a value "quoted" when it holds spaces.
func pairs(words []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range words {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("want Name=Value, not %q", kv)
		}
		out[k] = Unquote(v)
	}
	return out, nil
}

func (cr *caseRun) triggerData() map[string]any {
	t := map[string]any{}
	for k, v := range cr.trigger {
		t[k] = v
	}
	return t
}

// assert evaluates an expr-lang condition over the world: contact,
// conversation, assignee, trigger, the main run's variables, and run.status
// (waiting, done, failed) and run.wait.
func (cr *caseRun) assert(l Line) error {
	if err := checkNames(cr.known, l.Arg); err != nil {
		return err
	}
	env, err := cr.env()
	if err != nil {
		return err
	}
	prog, err := interpreter.CompileCondition(l.Arg)
	if err != nil {
		return err
	}
	ok, err := cr.world.EvalCondition(prog, env) // its work counts in the case's
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("false\n%s", describe(env))
	}
	return nil
}

func (cr *caseRun) env() (map[string]any, error) {
	contact, conversation, assignee, err := cr.world.Namespaces(cr.main)
	if err != nil {
		return nil, err
	}
	env := map[string]any{
		"contact": contact, "conversation": conversation, "assignee": assignee,
		"trigger": cr.trigger, "run": map[string]any{"status": "not started", "wait": ""},
	}
	if r, ok := cr.world.MainRun(); ok {
		for k, v := range r.Vars {
			env[k] = v
		}
		env["run"] = map[string]any{"status": r.Status, "wait": r.Wait}
		if r.Trigger != nil {
			env["trigger"] = r.Trigger // what the flow saw
		}
	}
	return env, nil
}

// describe prints the world's state for a failed assertion.
func describe(env map[string]any) string {
	var b strings.Builder
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "        %s = %v\n", k, env[k])
	}
	return strings.TrimRight(b.String(), "\n")
}

// ParseValue reads a conversation, assignee or trigger value: "quoted"
// text, a whole number, a decimal, true or false, or else the text as written.
func ParseValue(s string) any {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return Unquote(s)
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if s == "true" || s == "false" {
		return s == "true"
	}
	return s
}

// ContactValue reads the value of contact field name for the flow p: text,
// however it looks (a phone number +60112233455 stays text), unless p declares
// the field a number (then a float64) or a checkbox (a bool). "Quotes" are
// taken off first.
func ContactValue(p *interpreter.Program, name, s string) any {
	return interpreter.FieldValue(p.FieldTypes[name], Unquote(s))
}

// Unquote takes the quotes off a "quoted" Go string, or returns s as it is.
func Unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Run runs the .flowtest files under paths (directories recursively) and
// writes a report like `go test -v`, ending with "N passed, N failed". It
// returns the counts.
func Run(paths []string, w io.Writer, verbose bool) (passed, failed int, err error) {
	files, err := testFiles(paths)
	if err != nil {
		return 0, 0, err
	}
	if len(files) == 0 {
		return 0, 0, fmt.Errorf("no .flowtest files in %s", strings.Join(paths, " "))
	}
	for _, f := range files {
		results, err := RunFile(f)
		if err != nil {
			fmt.Fprintf(w, "--- FAIL: %s\n    %s\n", f, strings.ReplaceAll(err.Error(), "\n", "\n    "))
			failed++
			continue
		}
		for _, r := range results {
			if r.Passed() {
				passed++
				if verbose {
					fmt.Fprintf(w, "--- PASS: %s:%d: %s (%s)\n", r.File, r.Case.Line, r.Case.Name, took(r.Took))
				}
				continue
			}
			failed++
			fmt.Fprintf(w, "--- FAIL: %s:%d: %s (%s)\n", r.File, r.Case.Line, r.Case.Name, took(r.Took))
			for _, msg := range r.Failures {
				fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(msg, "\n", "\n    "))
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed, nil
}

func testFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.Walk(p, func(path string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && strings.HasSuffix(path, ".flowtest") {
				out = append(out, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}
