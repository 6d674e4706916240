package repl

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowd/flowd/flowtest"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/sandbox"
)

// A session is one REPL session: the flows, the simulated world, and the
// record of what happened since the flow last started, for :dump.
type session struct {
	out      io.Writer
	piped    bool // input is not a terminal: echo the input lines
	proj     *project
	world    *sandbox.World
	mainPath string // the file of the flow started last, or the one picked
	// pending is the flow the contact's first message starts (a file given
	// alone, or --flow); nil once started, and in a directory, where the
	// first message's triggers choose
	pending  *flowFile
	rec      *recording
	heldAt   map[*interpreter.HTTPRequest]int // the step during which each held request was made
	answered int                              // exchanges already recorded
	quit     bool
}

// newSession returns a session whose world runs the project's flows, main
// first.
func newSession(proj *project, main *flowFile, out io.Writer, piped bool) (*session, error) {
	w, err := sandbox.New(flowtest.DefaultNow, main.prog, proj.runtimeFlows())
	if err != nil {
		return nil, err
	}
	w.SetHoldHTTP(true)
	return &session{out: out, piped: piped, proj: proj, world: w}, nil
}

// report prints an action's error, if any.
func (s *session) report(err error) {
	if err != nil {
		s.printf("error: %v", err)
	}
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.out, format+"\n", args...) }

// mainFile is the latest version of the flow started last.
func (s *session) mainFile() *flowFile { return s.proj.files[s.mainPath] }

// begin sets the session up as production would meet the contact. In a
// directory, the contact never had a conversation: the first message opens
// one and fires the triggers of every flow loaded. With a file (or --flow),
// the first message starts that flow directly, drafts included.
func (s *session) begin(ff *flowFile, direct bool) {
	s.mainPath = ff.path
	if direct {
		s.pending = ff
	} else {
		s.report(s.world.SetNoConversation())
	}
	s.rec = newRecording(ff.path, s.world, ff.prog, nil)
	s.heldAt = map[*interpreter.HTTPRequest]int{}
}

// start stops the runs still waiting and starts ff's flow afresh, as if the
// contact had just opened a conversation: when its trigger's condition holds.
// The record starts over with it.
func (s *session) start(ff *flowFile) {
	s.report(s.world.StopAll())
	for _, line := range s.world.Transcript() {
		s.printf("%s", line)
	}
	trigger := triggerData(ff.file)
	s.mainPath, s.pending = ff.path, nil
	s.rec = newRecording(ff.path, s.world, ff.prog, trigger)
	s.heldAt = map[*interpreter.HTTPRequest]int{}
	s.answered = len(s.world.Exchanges())
	s.do("start", func() { s.report(s.world.StartFlow(ff.prog, trigger)) })
}

// do runs an action that the dump records as line (a .flowtest event or setup
// line), then prints and records what the flow did.
// It returns how many transcript lines the action made.
func (s *session) do(line string, action func()) int {
	// a line may make the runs do what one .flowtest file may: a :wait of
	// a year over flows that wait a second and loop stops there
	done := s.world.Work()
	s.world.SetLimit(interpreter.Work{
		Instructions: done.Instructions + flowtest.MaxFileInstructions,
		ExprSteps:    done.ExprSteps + flowtest.MaxFileExprSteps,
	})
	action()
	if !s.rec.grow(len(line)) {
		return s.settle(-1)
	}
	s.rec.steps = append(s.rec.steps, step{line: line})
	return s.settle(len(s.rec.steps) - 1)
}

// settle prints the transcript written since the last call and records it as
// the output of step i (-1: nothing is recorded any more). It records the
// http answers given and announces the requests newly held. It returns how
// many lines it printed of the transcript.
func (s *session) settle(i int) int {
	lines := s.world.Transcript()
	size := 0
	for _, line := range lines {
		s.printf("%s", line)
		size += len(line)
	}
	if i >= 0 && s.rec.grow(size) {
		s.rec.steps[i].out = append(s.rec.steps[i].out, lines...)
	}
	for _, x := range s.world.Exchanges()[s.answered:] {
		if x.Stub == nil && s.rec.grow(len(x.Response.Body)) {
			s.rec.answer(x)
		}
	}
	s.answered = len(s.world.Exchanges())
	held, err := s.world.HeldHTTP()
	s.report(err)
	for _, h := range held {
		if _, told := s.heldAt[h.Request]; !told {
			s.heldAt[h.Request] = i
			s.printf("# the http step waits for its answer: :http STATUS [BODY], or :http error TEXT")
		}
	}
	return len(lines)
}

// answerHTTP answers the oldest held request. In the dump its stub answers
// at once, so what follows the answer belongs to the step that made the request.
func (s *session) answerHTTP(resp interpreter.HTTPResponse) error {
	held, err := s.world.HeldHTTP()
	if err != nil {
		return err
	}
	if len(held) == 0 {
		return fmt.Errorf("no http step is waiting for an answer")
	}
	i := s.heldAt[held[0].Request]
	if i >= 0 && i < len(s.rec.steps)-1 {
		s.rec.notes = append(s.rec.notes, fmt.Sprintf("%s %s was answered after later events; the replay answers it at once",
			held[0].Request.Method, held[0].Request.URL))
	}
	s.report(s.world.AnswerHTTP(held[0], resp))
	s.settle(i)
	return nil
}

// A recording is the session since the flow last started, as a .flowtest case.
// It keeps no more than a .flowtest file may hold: past that, it is full, and
// records nothing more.
type recording struct {
	size int  // bytes recorded
	full bool // the session outgrew a .flowtest file

	flow  string   // the flow file
	setup []string // the world when the flow started
	stubs []string // the http answers given since, as stubs
	steps []step
	notes []string // what the case cannot replay exactly
}

// A step is an event or setup line and the transcript lines it produced.
type step struct {
	line string
	out  []string
}

// The world as it is when a case starts, which setup lines need not say.
var (
	baseContact      = map[string]any{"id": sandbox.ContactID, "channel": "whatsapp"}
	baseConversation = map[string]any{"open": true, "previous": 0}
)

// newRecording starts a record with setup lines that rebuild the world as it
// is now: trigger data, clock, contact, conversation, assignee, agents, stubs.
func newRecording(flow string, w *sandbox.World, main *interpreter.Program, trigger map[string]any) *recording {
	r := &recording{flow: flow}
	r.setup = append(r.setup, fieldLines("trigger", trigger, nil)...)
	loc, now := w.Timezone(), w.Now()
	if loc.String() != time.UTC.String() {
		r.setup = append(r.setup, "timezone "+loc.String())
	}
	if !now.Equal(flowtest.DefaultNow) || loc.String() != time.UTC.String() {
		r.setup = append(r.setup, "now "+now.In(loc).Format("2006-01-02 15:04:05"))
	}
	contact, conv, assignee, err := w.Namespaces(main)
	if err != nil {
		r.notes = append(r.notes, "the contact could not be read: "+err.Error())
	}
	r.setup = append(r.setup, fieldLines("contact", contact, baseContact)...)
	if tags, _ := contact["tags"].([]string); len(tags) > 0 {
		r.setup = append(r.setup, tagsLine(tags))
	}
	// of the conversation, a test sets whether there is one, whether it is
	// open and how many came before; the engine keeps the rest
	if _, exists := conv["source"]; !exists && err == nil {
		r.setup = append([]string{"conversation none"}, r.setup...)
	} else {
		conv = map[string]any{"open": conv["open"], "previous": conv["previous"]}
		r.setup = append(r.setup, fieldLines("conversation", conv, baseConversation)...)
	}
	if assignee != nil {
		a := map[string]any{"email": assignee["email"], "name": assignee["name"], "status": assignee["status"]}
		r.setup = append(r.setup, fieldLines("assignee", a, map[string]any{"status": "online"})...)
	}
	if agents := w.Agents(); agents != "online" {
		r.setup = append(r.setup, "agents "+agents)
	}
	if w.DeliveriesFail() {
		r.setup = append(r.setup, "deliveries fail")
	}
	for _, st := range w.Stubs() {
		r.addStub(flowtest.FormatStub(st))
	}
	return r
}

// fieldLines are setup lines (`contact NAME = VALUE`) for the fields of m
// that differ from base, in name order. Values a .flowtest cannot write
// (times, lists) are left out.
func fieldLines(verb string, m, base map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		v, ok := formatValue(m[k])
		if b, _ := formatValue(base[k]); !ok || k == "tags" || (base != nil && b == v) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s = %s", verb, k, v))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatValue writes v as flowtest.ParseValue reads it back.
func formatValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s, true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func tagsLine(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = strconv.Quote(t)
	}
	return strings.TrimSpace("tags " + strings.Join(q, ", "))
}

// grow counts n more bytes for the record, and reports whether they fit.
func (r *recording) grow(n int) bool {
	if r.size += n; r.size > flowtest.MaxFileSize {
		r.full = true
	}
	return !r.full
}

// answer records an http answer that no stub gave as a stub.
func (r *recording) answer(x sandbox.Exchange) {
	resp := x.Response
	errText := ""
	if resp.Status == 0 {
		errText = resp.Err // no response; otherwise the status and body replay it
	}
	r.addStub(flowtest.FormatStub(&sandbox.Stub{Method: x.Request.Method, URL: x.Request.URL, Status: resp.Status,
		Body: string(resp.Body), Err: errText}))
}

// addStub adds a stub line, noting when an earlier stub for the same request
// answers differently: in a .flowtest the first matching stub wins.
func (r *recording) addStub(line string) {
	if !r.grow(len(line)) {
		return
	}
	req, _, _ := strings.Cut(line, "->")
	for _, prev := range r.stubs {
		if prev == line {
			return
		}
		if p, _, _ := strings.Cut(prev, "->"); p == req {
			r.notes = append(r.notes, fmt.Sprintf("%sgot different answers; the replay gives the first each time", strings.TrimPrefix(req, "http ")))
		}
	}
	r.stubs = append(r.stubs, line)
}

// write writes the record as a .flowtest file for the flow at flowRef (a
// path relative to the file), ending with an assertion on the run's status.
func (r *recording) write(w io.Writer, flowRef, status string, notes []string) {
	fmt.Fprintf(w, "# a flowd repl session, written by :dump\nflow %s\n\n=== repl session\n", flowRef)
	for _, n := range append(notes, r.notes...) {
		fmt.Fprintf(w, "# note: %s\n", n)
	}
	for _, line := range append(r.setup, r.stubs...) {
		fmt.Fprintln(w, line)
	}
	for _, st := range r.steps {
		fmt.Fprintln(w, st.line)
		for _, line := range st.out {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "assert run.status == %q\n", status)
}
