package interpreter

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/theory/jsonpath"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
)

// DefaultBudget is how many instructions one sprint (a start or a resume) may
// run before the VM stops it as a runaway loop, at least: a program whose
// jumps can run more gets its own bound (Program.Budget).
const DefaultBudget = 10000

// MaxProgramInstructions bounds what a flow may run without waiting, its
// jumps all taken: a flow over it does not compile.
const MaxProgramInstructions = 1_000_000

// Context is what the VM reads of the world on each sprint. The runtime
// supplies it fresh every time, and the VM never writes to it, nor to its
// maps: a sprint sees its own effects (a condition after `set contact.city =
// ...` reads the new value) in copies of its own, and the runtime applies the
// effects to the world.
type Context struct {
	Contact      map[string]any // standard and custom fields; "tags" is a []string, empty rather than absent
	Assignee     map[string]any
	Conversation map[string]any
	Trigger      map[string]any
	Now          time.Time
	Location     *time.Location // the workspace timezone; nil is UTC
	// BusinessHours are the workspace's, which during business hours
	// checks; nil is DefaultBusinessHours.
	BusinessHours []HoursSpec
}

// Status is how a sprint ended.
type Status int

const (
	Waiting Status = iota // paused; Cont says for what
	Done                  // the run ended
	Failed                // the run ended with a runtime error
)

func (s Status) String() string {
	if s < Waiting || s > Failed {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return [...]string{"waiting", "done", "failed"}[s]
}

// An Outcome is the result of one sprint.
type Outcome struct {
	Status  Status
	Effects []Effect
	Cont    *Continuation // when Waiting
	Err     *RuntimeError // when Failed
	// Vars are the run's variables when it ended (Done or Failed); a
	// waiting run keeps them in Cont.
	Vars map[string]any
	// Ignored is set when the input did not fit the wait (a stale timer, a
	// message while waiting for an HTTP response): nothing happened and Cont
	// is unchanged.
	Ignored bool
}

// A RuntimeError ends a run: bad data, an expression that fails, a loop that
// runs past the step budget. It carries the .flow position.
type RuntimeError struct {
	Pos  lexer.Position
	Step string
	Msg  string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s: step %s: %s", e.Pos, e.Step, e.Msg)
}

// A Machine runs programs. It holds scratch space reused across sprints, so a
// Machine must not be used by two goroutines at once; give each worker its own.
type Machine struct {
	Budget int // instructions per sprint; 0 means DefaultBudget
	vm     vm.VM
	meter  meter // what the expression under way may still spend
	work   Work  // done so far
}

// Work is what a Machine has done, over all its sprints: a runtime bounds
// the work of an event, or of a test file, with it.
type Work struct {
	Instructions int64 // VM instructions
	ExprSteps    int64 // steps of expression evaluations (see budget.go)
}

// Work returns what m has done so far.
func (m *Machine) Work() Work { return m.work }

// run is the state of one sprint.
type run struct {
	m   *Machine
	p   *Program
	ctx *Context
	c   *Continuation
	env map[string]any
	out Outcome

	// what the sprint did, against its limits (limits.go)
	sends, starts, rendered int
	owned                   uint8 // the namespaces env holds copies of: 1 contact, 2 conversation
}

// Matches evaluates the trigger's condition (when ...) against the event's
// context: whether the flow should enroll the contact. A flow without a
// condition matches. The runtime also applies draft, once per contact and
// groups, which need history this package does not keep.
func (m *Machine) Matches(p *Program, ctx *Context) (bool, error) {
	if p.Trigger == nil || p.Trigger.When == nil {
		return true, nil
	}
	r := m.newRun(p, ctx, &Continuation{Program: p.Hash})
	v, err := m.eval(p.Trigger.When, r.env)
	if err != nil {
		return false, fmt.Errorf("%s: trigger condition %s: %v", p.File, p.Trigger.WhenSrc, exprMessage(err))
	}
	ok, _ := v.(bool)
	return ok, nil
}

// Start begins a run of p at its first step.
func (m *Machine) Start(p *Program, ctx *Context) Outcome {
	r := m.newRun(p, ctx, &Continuation{Program: p.Hash})
	r.exec(0)
	return r.out
}

// Resume errors: the runtime handed the wrong program or a damaged
// continuation. They are the caller's mistakes, not the run's, so Resume
// reports them instead of failing the run.
var (
	ErrWrongProgram    = errors.New("continuation was made by another program")
	ErrBadContinuation = errors.New("continuation does not wait at a step of the program")
)

// Resume continues a paused run with an input. The continuation must have
// been made by p (same hash): the runtime keeps old programs for runs that
// paused in them. c is left as it is; the outcome's Cont is a new one.
func (m *Machine) Resume(p *Program, c *Continuation, ctx *Context, in Input) (Outcome, error) {
	own := *c
	own.Jumps = maps.Clone(c.Jumps)
	if err := own.Bind(p); err != nil {
		return Outcome{}, err
	}
	r := m.newRun(p, ctx, &own)
	next, ok := r.resume(in)
	switch {
	case !ok:
		return Outcome{Status: Waiting, Cont: c, Ignored: true}, nil
	case r.out.Status == Failed || next == waitAgain:
		return r.out, nil
	}
	r.exec(next)
	return r.out, nil
}

// waitsAt reports whether a run can wait for k at an instruction op: a
// continuation that says otherwise is damaged, and resuming it would run the
// wrong step's code.
func waitsAt(k WaitKind, op Opcode) bool {
	switch k {
	case WaitReply:
		return op == ASK
	case WaitTimer:
		return op == WAIT
	case WaitDelivery:
		return op == SEND || op == SHEET
	case WaitAssign:
		return op == ASSIGN
	case WaitHTTP:
		return op == HTTP
	case WaitAI:
		return op == AI
	}
	return false
}

func (m *Machine) newRun(p *Program, ctx *Context, c *Continuation) *run {
	m.meter.sprint = SprintExprBudget
	env := make(map[string]any, len(c.Vars)+6)
	for k, v := range c.Vars {
		env[k] = v
	}
	env["contact"] = orEmpty(ctx.Contact)
	env["assignee"] = ctx.Assignee
	env["conversation"] = orEmpty(ctx.Conversation)
	env["trigger"] = ctx.Trigger
	if p.UsesSystem {
		env["system"] = systemValues(ctx)
	}
	return &run{m: m, p: p, ctx: ctx, c: c, env: env}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// systemValues are the system.* names, in the workspace timezone.
func systemValues(ctx *Context) map[string]any {
	loc := ctx.Location
	if loc == nil {
		loc = time.UTC
	}
	now := ctx.Now.In(loc)
	return map[string]any{
		"now":              now,
		"current_datetime": now.Format("2006-01-02 15:04:05"),
		"current_date":     now.Format("2006-01-02"),
		"current_time":     now.Format("15:04:05"),
		"timezone":         loc.String(),
	}
}

// fail ends the run with a runtime error at pc.
func (r *run) fail(pc int, format string, args ...any) {
	r.out.Status = Failed
	r.out.Err = &RuntimeError{Pos: r.p.Position(pc), Step: r.p.StepID(pc), Msg: dsl.Elide(fmt.Sprintf(format, args...), dsl.MaxMessage)}
	r.out.Cont = nil
	r.out.Vars = r.vars()
}

// vars collects the flow variables from the environment.
func (r *run) vars() map[string]any {
	var out map[string]any
	for _, name := range r.p.Vars {
		if v, ok := r.env[name]; ok {
			if out == nil {
				out = make(map[string]any, len(r.p.Vars))
			}
			out[name] = v
		}
	}
	return out
}

func (r *run) emit(e Effect) { r.out.Effects = append(r.out.Effects, e) }

// suspend pauses the run at pc, waiting for kind, and returns the new seq.
// When the paused run would keep more than MaxContinuation, it fails the run
// instead and reports false: the caller then stops.
func (r *run) suspend(pc int, kind WaitKind) (uint32, bool) {
	r.c.Vars = r.vars()
	r.c.PC, r.c.Step = pc, r.p.StepID(pc)
	r.c.Wait = kind
	r.c.Seq++
	if n := r.c.Size(); n > MaxContinuation {
		r.fail(pc, "cannot pause: its variables take %d bytes; a paused run may keep at most %d (%s)", n, MaxContinuation, textfile.Size(MaxContinuation))
		return 0, false
	}
	r.out.Status = Waiting
	r.out.Cont = r.c
	return r.c.Seq, true
}

// count counts one more of what a sprint does a limited number of times (its
// sends, its starts), failing the run at pc and reporting false past max.
// what says it for the error, with a %d for max.
func (r *run) count(pc int, n *int, max int, what string) bool {
	if *n++; *n > max {
		r.fail(pc, "a sprint may "+what+" without waiting, and this one goes on: a loop?", max)
		return false
	}
	return true
}

// keep stores a value in variable name, unless it is over MaxVarSize: then
// it fails the run at pc and reports false.
func (r *run) keep(pc int, name string, v any) bool {
	if n := varSize(v); n > MaxVarSize {
		r.fail(pc, "variable %s would hold %d bytes; a variable holds at most %d (%s)", name, n, MaxVarSize, textfile.Size(MaxVarSize))
		return false
	}
	r.env[name] = v
	return true
}

// exec runs from pc until the run waits, ends, fails or exhausts its budget.
func (r *run) exec(pc int) {
	budget := r.m.Budget
	if budget <= 0 {
		budget = max(DefaultBudget, r.p.Budget)
	}
	p := r.p
	steps := 0
	defer func() { r.m.work.Instructions += int64(steps) }()
	for ; ; steps++ {
		if steps >= budget {
			r.fail(pc, "ran %d instructions without waiting: a loop? (the step budget is %d)", steps, budget)
			return
		}
		if pc < 0 || pc >= len(p.Code) {
			r.fail(pc, "pc %d out of range", pc)
			return
		}
		in := p.Code[pc]
		switch in.Op {
		case NOP:
			pc++
		case SEND:
			if !r.count(pc, &r.sends, MaxSprintSends, "send %d messages") {
				return
			}
			s := p.Sends[in.A]
			msg, err := r.message(&s.MessageSpec, s.Variants)
			if err != nil {
				r.failErr(pc, err)
				return
			}
			msg.Step = p.StepID(pc)
			if s.Failure < 0 {
				r.emit(msg)
				pc = s.Next
				continue
			}
			seq, ok := r.suspend(pc, WaitDelivery) // before the message goes: a run that cannot pause sends nothing
			if !ok {
				return
			}
			msg.Seq = seq
			r.emit(msg)
			return
		case ASK:
			r.pose(pc, p.Asks[in.A], 0)
			return
		case ASSIGN:
			a := p.Assigns[in.A]
			target, err := r.text(a.Target)
			if err != nil {
				r.failErr(pc, err)
				return
			}
			seq, ok := r.suspend(pc, WaitAssign)
			if !ok {
				return
			}
			r.emit(&Assign{Kind: a.Kind, Target: target, Logic: a.Logic, OnlineOnly: a.OnlineOnly, MaxOpen: a.MaxOpen, Seq: seq})
			r.startTimer(a.Timeout)
			return
		case UNASSIGN:
			r.emit(&Unassign{})
			r.env["assignee"] = map[string]any(nil) // typed: assignee.name reads nil, not an error
			pc++
		case JMP:
			pc = int(in.B)
		case BRANCH:
			v, err := r.m.eval(p.Exprs[in.A], r.env)
			if err != nil {
				r.failErr(pc, fmt.Errorf("condition %s: %w", p.ExprSrc[in.A], exprErr(err, p.ExprSrc[in.A], p.Pos[pc])))
				return
			}
			ok, isBool := v.(bool)
			if !isBool {
				r.fail(pc, "condition %s is %T, not true or false", p.ExprSrc[in.A], v)
				return
			}
			if ok {
				pc++
			} else {
				pc = int(in.B)
			}
		case TAG:
			if !r.tags(pc, p.Tags[in.A]) {
				return
			}
			pc++
		case FIELD:
			f := p.Fields[in.A]
			if f.Value == nil {
				r.clearField(f.Field)
			} else {
				v, err := r.text(f.Value)
				if err != nil {
					r.failErr(pc, err)
					return
				}
				if v == "" {
					r.clearField(f.Field)
				} else {
					r.setField(f.Field, v)
				}
			}
			pc++
		case OPEN:
			r.emit(&OpenConversation{})
			r.own("conversation")["open"] = true
			pc++
		case CLOSE:
			cl := p.Closes[in.A]
			cat, err1 := r.text(cl.Category)
			sum, err2 := r.text(cl.Summary)
			if err := firstErr(err1, err2); err != nil {
				r.failErr(pc, err)
				return
			}
			r.emit(&CloseConversation{Category: cat, Summary: sum})
			r.own("conversation")["open"] = false
			pc++
		case COMMENT:
			text, err := r.text(p.Texts[in.A])
			if err != nil {
				r.failErr(pc, err)
				return
			}
			r.emit(&AddComment{Text: text})
			pc++
		case JUMP:
			j := p.Jumps[in.A]
			if int(r.c.Jumps[j.Step]) < j.Max {
				if r.c.Jumps == nil {
					r.c.Jumps = map[string]uint8{}
				}
				r.c.Jumps[j.Step]++
				pc = int(in.B)
			} else {
				pc++ // spent: skipped
			}
		case WAIT:
			if _, ok := r.suspend(pc, WaitTimer); !ok {
				return
			}
			r.startTimer(p.Waits[in.A])
			return
		case START:
			if !r.count(pc, &r.starts, MaxSprintStarts, "start %d flows") {
				return
			}
			name, err := r.text(p.Texts[in.A])
			if err != nil {
				r.failErr(pc, err)
				return
			}
			r.emit(&StartFlow{Flow: name})
			pc++
		case DURING:
			d := p.Durings[in.A]
			if r.inside(d) {
				pc = d.InsidePC
			} else {
				pc = int(in.B)
			}
		case HTTP:
			r.httpRequest(pc, p.HTTPs[in.A])
			return
		case SHEET:
			s := p.Sheets[in.A]
			row, err := r.sheetRow(s)
			if err != nil {
				r.failErr(pc, err)
				return
			}
			if s.Failure < 0 {
				r.emit(row)
				pc = s.Next
				continue
			}
			seq, ok := r.suspend(pc, WaitDelivery)
			if !ok {
				return
			}
			row.Seq = seq
			r.emit(row)
			return
		case AI:
			a := p.AIs[in.A]
			text, err := r.text(a.Text)
			if err != nil {
				r.failErr(pc, err)
				return
			}
			if a.Mode == "handoff" {
				r.emit(&AIHandoff{Agent: text})
				pc++
				continue
			}
			seq, ok := r.suspend(pc, WaitAI)
			if !ok {
				return
			}
			r.emit(&AIReply{Instructions: text, Save: a.Save, Seq: seq})
			r.startTimer(a.Idle)
			return
		case END:
			r.out.Status = Done
			r.out.Cont = nil
			r.out.Vars = r.vars()
			return
		default:
			r.fail(pc, "illegal instruction %s", in.Op)
			return
		}
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) startTimer(d time.Duration) {
	if d > 0 {
		r.emit(&StartTimer{Seq: r.c.Seq, After: d})
	}
}

func (r *run) cancelTimer() { r.emit(&CancelTimer{Seq: r.c.Seq}) }

// message renders a message and its channel variants.
func (r *run) message(m *MessageSpec, variants []*VariantSpec) (*SendMessage, error) {
	var err error
	out := &SendMessage{Channel: m.Via}
	if out.Text, err = r.text(m.Text); err != nil {
		return nil, err
	}
	if out.Choices, err = r.renderAll(m.Choices); err != nil {
		return nil, err
	}
	if out.Attachments, err = r.renderAll(m.Attach); err != nil {
		return nil, err
	}
	if out.Subject, err = r.text(m.Subject); err != nil {
		return nil, err
	}
	for _, v := range variants {
		vo, err := r.message(&v.MessageSpec, nil)
		if err != nil {
			return nil, err
		}
		params, err := r.renderAll(v.Params)
		if err != nil {
			return nil, err
		}
		out.Variants = append(out.Variants, Variant{Channel: v.Channel, Text: vo.Text, Template: v.Template,
			Language: v.Language, Params: params, Choices: vo.Choices, Attachments: vo.Attachments, Subject: vo.Subject})
	}
	return out, nil
}

func (r *run) renderAll(ts []*Template) ([]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		s, err := r.text(t)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// pose sends the question (after an invalid reply: the retry prompt, if any)
// and waits for the reply, with a fresh timer. retries counts the invalid
// replies so far. It reports false when the run failed.
func (r *run) pose(pc int, a *AskSpec, retries int) bool {
	prompt := a.Prompt
	if retries > 0 && a.RetryPrompt != nil {
		prompt = a.RetryPrompt
	}
	if !r.count(pc, &r.sends, MaxSprintSends, "send %d messages") {
		return false
	}
	text, err := r.text(prompt)
	if err != nil {
		r.failErr(pc, err)
		return false
	}
	choices, err := r.renderAll(a.Choices)
	if err != nil {
		r.failErr(pc, err)
		return false
	}
	if a.Type == "rating" {
		choices = ratingChoices
	}
	seq, ok := r.suspend(pc, WaitReply)
	if !ok {
		return false
	}
	r.c.Retries = retries
	msg := &SendMessage{Step: r.p.StepID(pc), Text: text, Choices: choices, Question: true}
	if a.Failure >= 0 {
		msg.Seq = seq // the runtime reports a failed delivery with it
	}
	r.emit(msg)
	r.startTimer(a.Timeout)
	return true
}

var ratingChoices = []string{"1", "2", "3", "4", "5"}

// resume applies an input to the wait at c.PC and returns where to continue.
// ok is false when the input does not fit the wait.
func (r *run) resume(in Input) (next int, ok bool) {
	pc := r.c.PC
	p := r.p
	instr := p.Code[pc]
	switch r.c.Wait {
	case WaitReply:
		a := p.Asks[instr.A]
		switch in := in.(type) {
		case Message:
			in.Text = CleanText(in.Text) // what the intake cleaned already costs a scan
			return r.answer(pc, a, in), true
		case Timeout:
			if in.Seq != r.c.Seq || a.Timeout <= 0 {
				return 0, false // not our timer: an ask without timeout has none
			}
			return branchOrEnd(a.TimeoutPC, p), true
		case Delivery:
			if in.Seq != r.c.Seq || in.OK || a.Failure < 0 {
				return 0, false
			}
			r.cancelTimer()
			return a.Failure, true
		}
	case WaitTimer:
		if t, isT := in.(Timeout); isT && t.Seq == r.c.Seq {
			return pc + 1, true
		}
	case WaitDelivery:
		d, isD := in.(Delivery)
		if !isD || d.Seq != r.c.Seq {
			return 0, false
		}
		next, failure := 0, 0
		if instr.Op == SEND {
			next, failure = p.Sends[instr.A].Next, p.Sends[instr.A].Failure
		} else {
			next, failure = p.Sheets[instr.A].Next, p.Sheets[instr.A].Failure
		}
		if d.OK {
			return next, true
		}
		return failure, true
	case WaitAssign:
		a := p.Assigns[instr.A]
		switch in := in.(type) {
		case AssignResult:
			if in.Seq != r.c.Seq {
				return 0, false
			}
			r.cancelTimer()
			r.env["assignee"] = in.User.Values()
			return a.Next, true
		case Timeout:
			if in.Seq != r.c.Seq {
				return 0, false
			}
			r.emit(&CancelAssign{Seq: in.Seq}) // nobody came in time: withdraw the request
			return branchOrEnd(a.TimeoutPC, p), true
		}
	case WaitHTTP:
		h := p.HTTPs[instr.A]
		resp, isR := in.(HTTPResponse)
		if !isR || resp.Seq != r.c.Seq {
			return 0, false
		}
		return r.httpResponse(pc, h, resp), true
	case WaitAI:
		a := p.AIs[instr.A]
		switch in := in.(type) {
		case AIOutcome:
			if in.Seq != r.c.Seq {
				return 0, false
			}
			r.cancelTimer()
			if in.Outcome == "success" {
				for _, name := range a.Save {
					if v, ok := in.Vars[name]; ok && !r.keep(pc, name, CleanText(v)) {
						return pc, true
					}
				}
				return a.Next, true
			}
			pc, has := a.Branches[in.Outcome]
			if !has {
				pc = -1
			}
			return branchOrEnd(pc, p), true
		case Timeout:
			if in.Seq != r.c.Seq {
				return 0, false
			}
			r.emit(&StopAI{Seq: in.Seq}) // the contact went quiet: AI stops talking
			pc, has := a.Branches["idle"]
			if !has {
				pc = -1
			}
			return branchOrEnd(pc, p), true
		}
	}
	return 0, false
}

// branchOrEnd is where a failure goes: its branch, or, when the step has no
// such branch, the end of the run (respond.io: an empty branch ends the run).
func branchOrEnd(pc int, p *Program) int {
	if pc >= 0 {
		return pc
	}
	return len(p.Code) - 1 // the final END
}

// waitAgain is what resume returns when the input was handled and the run is
// waiting again at the same step (an ask re-asking after an invalid reply).
const waitAgain = -1

// answer handles a reply to an ask: save and go on, re-ask, or take the
// invalid branch once the retries are spent.
func (r *run) answer(pc int, a *AskSpec, in Message) int {
	choices, err := r.renderAll(a.Choices)
	if err != nil {
		r.failErr(pc, err)
		return pc
	}
	value, ok := validate(a, in, choices, r.ctx.Now)
	if !ok {
		if r.c.Retries < a.Retries {
			if a.Timeout > 0 {
				r.cancelTimer()
			}
			if !r.pose(pc, a, r.c.Retries+1) {
				return pc
			}
			return waitAgain
		}
		if a.Timeout > 0 {
			r.cancelTimer()
		}
		return branchOrEnd(a.Invalid, r.p)
	}
	if a.Timeout > 0 {
		r.cancelTimer()
	}
	text, _ := textOf(value) // at most MaxMessageLen, which a field holds: resume cleaned it
	for _, f := range a.SaveFields {
		r.setField(f, text)
	}
	for _, v := range a.SaveVars {
		if !r.keep(pc, v, value) {
			return pc
		}
	}
	if a.SaveTag && !r.addTags(pc, []string{text}) {
		return pc
	}
	return a.Next
}

func (r *run) setField(field, value string) {
	r.emit(&SetField{Field: field, Value: value})
	r.own("contact")[field] = FieldValue(r.p.FieldTypes[field], value)
}

func (r *run) clearField(field string) {
	r.emit(&ClearField{Field: field})
	delete(r.own("contact"), field)
}

// own returns the sprint's own copy of a namespace of the environment
// (contact, conversation), made at the first write: the maps of the Context
// belong to the caller.
func (r *run) own(name string) map[string]any {
	bit := uint8(1)
	if name == "conversation" {
		bit = 2
	}
	m, _ := r.env[name].(map[string]any)
	if r.owned&bit != 0 {
		return m
	}
	cp := make(map[string]any, len(m)+1)
	for k, v := range m {
		cp[k] = v
	}
	r.env[name] = cp
	r.owned |= bit
	return cp
}

// contactTags is the contact's tags as the sprint sees them.
func (r *run) contactTags() []string {
	m, _ := r.env["contact"].(map[string]any)
	tags, _ := m["tags"].([]string)
	return tags
}

// FieldValue is a field's text as expressions see it: a number for a number
// field, true or false for a checkbox, else the text.
func FieldValue(typ, text string) any {
	switch typ {
	case "number":
		if v, ok := validNumber(text, nil, nil); ok {
			return v
		}
	case "checkbox":
		if v, err := strconv.ParseBool(text); err == nil {
			return v
		}
	}
	return text
}

func (r *run) tags(pc int, t *TagSpec) bool {
	var names []string
	for _, tag := range t.Tags {
		name, err := r.text(tag)
		if err != nil {
			r.failErr(pc, err)
			return false
		}
		if name != "" { // a tag whose variable is missing is skipped
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return true
	}
	if t.Add {
		return r.addTags(pc, names)
	}
	r.emit(&RemoveTags{Tags: names})
	r.own("contact")["tags"] = WithoutTags(r.contactTags(), names)
	return true
}

// WithTags is current with the tags of add it lacks appended, in a new
// slice: how an AddTags effect changes a contact.
func WithTags(current, add []string) []string {
	next := append([]string{}, current...)
	for _, n := range add {
		if !containsString(next, n) {
			next = append(next, n)
		}
	}
	return next
}

// WithoutTags is current less the tags of remove, in a new slice: how a
// RemoveTags effect changes a contact.
func WithoutTags(current, remove []string) []string {
	kept := []string{}
	for _, c := range current {
		if !containsString(remove, c) {
			kept = append(kept, c)
		}
	}
	return kept
}

// addTags adds tags to the contact, failing the run at pc, before anything
// is emitted, when the contact would have more than MaxContactTags.
func (r *run) addTags(pc int, names []string) bool {
	next := WithTags(r.contactTags(), names)
	if len(next) > MaxContactTags {
		r.fail(pc, "a contact may have at most %d tags", MaxContactTags)
		return false
	}
	r.emit(&AddTags{Tags: names})
	r.own("contact")["tags"] = next
	return true
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// inside reports whether the clock is within the step's hours or date range.
func (r *run) inside(d *DuringSpec) bool {
	loc := d.Loc
	if loc == nil {
		loc = r.ctx.Location
	}
	if loc == nil {
		loc = time.UTC
	}
	now := r.ctx.Now.In(loc)
	if d.IsRange {
		wall := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), now.Second(), 0, time.UTC)
		return !wall.Before(d.From) && wall.Before(d.To)
	}
	mins := now.Hour()*60 + now.Minute()
	day := int(now.Weekday())
	yesterday := (day + 6) % 7
	hours := d.Hours
	if d.Business {
		if hours = r.ctx.BusinessHours; hours == nil {
			hours = DefaultBusinessHours
		}
	}
	for _, h := range hours {
		if h.From < h.To {
			if h.Days[day] && mins >= h.From && mins < h.To {
				return true
			}
			continue
		}
		// past midnight: the evening part belongs to the listed day, the
		// morning part to the day after it
		if (h.Days[day] && mins >= h.From) || (h.Days[yesterday] && mins < h.To) {
			return true
		}
	}
	return false
}

// httpRequest renders and emits the request and waits for the response (or
// fails the run).
func (r *run) httpRequest(pc int, h *HTTPSpec) {
	var filled [][2]int // where values went into the URL
	url, err := r.interpolate(h.URL, func(before, value string) string {
		v := escapeURL(before, value)
		filled = append(filled, [2]int{len(before), len(before) + len(v)})
		return v
	})
	if err != nil {
		r.failErr(pc, err)
		return
	}
	url = escapeDotSegments(url, filled)
	var headers [][2]string
	var bodyEscape func(string, string) string
	for _, hd := range h.Headers {
		v, err := r.text(hd.Value)
		if err != nil {
			r.failErr(pc, err)
			return
		}
		if strings.EqualFold(hd.Name, "Content-Type") && strings.Contains(strings.ToLower(v), "json") {
			bodyEscape = escapeJSON
		}
		headers = append(headers, [2]string{hd.Name, v})
	}
	body, err := r.interpolate(h.Body, bodyEscape)
	if err != nil {
		r.failErr(pc, err)
		return
	}
	seq, ok := r.suspend(pc, WaitHTTP)
	if !ok {
		return
	}
	r.emit(&HTTPRequest{Method: h.Method, URL: url, Headers: headers, Body: body, Timeout: h.Timeout, JSON: len(h.Maps) > 0, Seq: seq})
}

// httpResponse saves the status and the mapped values and picks the branch:
// 2xx is success, unless the response cannot be used (HTTPRequest.Answer);
// anything else, or no response, is failure, which continues
// after the step when there is no on failure branch.
func (r *run) httpResponse(pc int, h *HTTPSpec, resp HTTPResponse) int {
	if h.StatusVar != "" {
		if resp.Status == 0 {
			delete(r.env, h.StatusVar) // no response: no status
		} else {
			r.env[h.StatusVar] = resp.Status
		}
	}
	ok := resp.Err == "" && resp.Status >= 200 && resp.Status < 300
	if !ok {
		for _, m := range h.Maps {
			delete(r.env, m.Var) // unset, not left over from an earlier call
		}
		if h.Failure >= 0 {
			return h.Failure
		}
		return h.Next
	}
	if len(h.Maps) > 0 {
		doc := jsonBody(resp.Body)
		for _, m := range h.Maps {
			if v, found := selectPath(doc, m.Path); found && v != nil {
				if !r.keep(pc, m.Var, cleanValue(v)) {
					return pc
				}
			} else {
				delete(r.env, m.Var)
			}
		}
	}
	return h.Next
}

// selectPath is what a mapping's path selects in decoded JSON: the one
// value, or a list when it selects several; found is false when it selects
// none.
func selectPath(doc any, path *jsonpath.Path) (any, bool) {
	if path == nil {
		return nil, false
	}
	nodes := path.Select(doc)
	switch len(nodes) {
	case 0:
		return nil, false
	case 1:
		return nodes[0], true
	}
	return []any(nodes), true
}

func (r *run) sheetRow(s *SheetSpec) (*SheetRow, error) {
	doc, err := r.text(s.Doc)
	if err != nil {
		return nil, err
	}
	tab, err := r.text(s.Tab)
	if err != nil {
		return nil, err
	}
	row := &SheetRow{Spreadsheet: doc, Tab: tab}
	for _, col := range s.Columns {
		v, err := r.text(col.Value)
		if err != nil {
			return nil, err
		}
		row.Columns = append(row.Columns, [2]string{col.Name, v})
	}
	return row, nil
}
