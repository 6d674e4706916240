package interpreter

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
)

// DefaultAssignTimeout is how long an assign waits when its timeout is not
// given (respond.io: 7 days).
const DefaultAssignTimeout = 7 * 24 * time.Hour

// DefaultHTTPTimeout is how long an http step without a timeout waits for
// its answer.
const DefaultHTTPTimeout = 10 * time.Second

// DefaultAIIdle is how long an ai reply waits for a silent contact.
const DefaultAIIdle = 60 * time.Minute

// CompileSource runs the whole front end: parse, check, compile. The
// diagnostics hold warnings even when compilation succeeds; the error is
// non-nil when the source has errors.
func CompileSource(filename string, src []byte) (*Program, dsl.Diagnostics, error) {
	f, err := dsl.Parse(filename, src)
	if err != nil {
		ds, _ := err.(dsl.Diagnostics)
		return nil, ds, err
	}
	ds := dsl.Check(f)
	if err := ds.Err(); err != nil {
		return nil, ds, err
	}
	p, err := Compile(f)
	return p, ds, err
}

// Compile turns a checked flow into a Program. It assumes dsl.Check found no
// errors, and reports the first problem it meets otherwise.
func Compile(f *dsl.File) (*Program, error) {
	sum := sha256.Sum256(f.Src)
	legacy := sha256.Sum256(append([]byte{1}, f.Src...)) // codegen 1 hashed its version with the source
	c := &compiler{
		prog: &Program{
			Flow:       f.Name.Value(),
			File:       f.Filename(),
			Hash:       hex.EncodeToString(sum[:8]),
			LegacyHash: hex.EncodeToString(legacy[:8]),
		},
		labels: map[string]int{},
		vars:   map[string]bool{},
	}
	for _, h := range f.Header {
		switch h := h.(type) {
		case *dsl.Exit:
			for _, cond := range h.Conds {
				c.prog.Exits = append(c.prog.Exits, exitNames[string(cond.Kind)])
			}
		case *dsl.FieldDecl:
			if c.prog.FieldTypes == nil {
				c.prog.FieldTypes = map[string]string{}
			}
			c.prog.FieldTypes[h.Name.Name] = h.Type.Name
		case *dsl.Draft:
			c.prog.Draft = true
		case *dsl.Trigger:
			c.prog.Trigger = c.trigger(h)
		case *dsl.Group:
			c.prog.Group = h.Name.Value()
			if h.Priority != nil {
				c.prog.Priority = h.Priority.Value
			}
		}
	}
	c.stmts(f.Steps)
	c.step, c.pos = -1, f.EndPos
	c.emit(END, 0, -1) // falling off the last step ends the run
	for _, fx := range c.fixups {
		pc, ok := c.labels[fx.label]
		if !ok {
			c.fail(c.prog.Pos[fx.pc], "unknown label %q", fx.label)
			continue
		}
		c.prog.Code[fx.pc].B = int32(pc)
	}
	for _, name := range sortedVars(c.vars) {
		c.prog.Vars = append(c.prog.Vars, name)
	}
	c.prog.waits = map[string]int{}
	for pc, in := range c.prog.Code {
		if waits(in.Op) {
			id := c.prog.StepID(pc)
			if _, dup := c.prog.waits[id]; dup {
				c.fail(c.prog.Pos[pc], "internal error: step %s waits at two instructions", id)
			}
			c.prog.waits[id] = pc
		}
	}
	c.budget()
	if c.err != nil {
		return nil, c.err
	}
	return c.prog, nil
}

// budget bounds what the program can run without waiting: it has no loop
// but its jumps, each of which jumps at most its max times a run, and each
// jump runs at most every instruction again. A sprint may run that much,
// and no less than DefaultBudget; a flow whose bound is over
// MaxProgramInstructions is refused here, at the jump that passes it, so
// that a flow the checker accepts never meets the runaway-loop budget.
func (c *compiler) budget() {
	n := len(c.prog.Code)
	passes := 1
	for pc, in := range c.prog.Code {
		if in.Op != JUMP {
			continue
		}
		passes += c.prog.Jumps[in.A].Max
		if n*passes > MaxProgramInstructions {
			c.fail(c.prog.Pos[pc], "this flow could run %d instructions without waiting (its %d, run again by its jumps); a flow may run at most %d: lower the jumps' max or split the flow",
				n*passes, n, MaxProgramInstructions)
			return
		}
	}
	c.prog.Budget = max(DefaultBudget, n*passes)
}

type fixup struct {
	pc    int
	label string
}

type compiler struct {
	prog   *Program
	labels map[string]int
	fixups []fixup
	vars   map[string]bool
	pos    lexer.Position
	step   int32
	err    error
	exprs  [2]*dsl.ExprCompiler // for values and for conditions, once needed
}

func (c *compiler) fail(pos lexer.Position, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: %s", pos, fmt.Sprintf(format, args...))
	}
}

// emit appends an instruction at the current step's position and returns its pc.
func (c *compiler) emit(op Opcode, a, b int) int {
	c.prog.Code = append(c.prog.Code, Instr{Op: op, A: int32(a), B: int32(b)})
	c.prog.Pos = append(c.prog.Pos, c.pos)
	c.prog.Step = append(c.prog.Step, c.step)
	return len(c.prog.Code) - 1
}

func (c *compiler) pc() int { return len(c.prog.Code) }

// patch points the jump at pc to the current end of the code.
func (c *compiler) patch(pcs []int) {
	for _, pc := range pcs {
		c.prog.Code[pc].B = int32(c.pc())
	}
}

func (c *compiler) stmts(list []*dsl.Stmt) {
	for _, st := range list {
		c.stmt(st)
	}
}

func (c *compiler) stmt(st *dsl.Stmt) {
	id := "#" + strconv.Itoa(len(c.prog.Steps)+1)
	if st.Label != nil {
		id = st.Label.Name
		c.labels[id] = c.pc()
	}
	c.prog.Steps = append(c.prog.Steps, id)
	c.step = int32(len(c.prog.Steps) - 1)
	c.pos = st.Pos
	step, pos := c.step, c.pos
	// restore after nested blocks, so trailing jumps carry the owning step
	defer func() { c.step, c.pos = step, pos }()

	switch s := st.Step.(type) {
	case *dsl.Send:
		c.send(s)
	case *dsl.Ask:
		c.ask(s)
	case *dsl.Assign:
		c.assign(s)
	case *dsl.Unassign:
		c.emit(UNASSIGN, 0, -1)
	case *dsl.If:
		c.ifStep(s)
	case *dsl.TagStep:
		spec := &TagSpec{Add: s.Action == "add"}
		for _, t := range s.Tags {
			spec.Tags = append(spec.Tags, compileTemplate(t, c, dsl.UseTag))
		}
		c.prog.Tags = append(c.prog.Tags, spec)
		c.emit(TAG, len(c.prog.Tags)-1, -1)
	case *dsl.Set:
		c.prog.Fields = append(c.prog.Fields, &FieldSpec{Field: s.Field.Parts[1], Value: compileTemplate(s.Value, c, dsl.UseField)})
		c.emit(FIELD, len(c.prog.Fields)-1, -1)
	case *dsl.Clear:
		c.prog.Fields = append(c.prog.Fields, &FieldSpec{Field: s.Field.Parts[1]})
		c.emit(FIELD, len(c.prog.Fields)-1, -1)
	case *dsl.Open:
		c.emit(OPEN, 0, -1)
	case *dsl.Close:
		spec := &CloseSpec{}
		for _, o := range s.Opts {
			if o.Category != nil {
				spec.Category = compileTemplate(o.Category, c, dsl.UseCategory)
			}
			if o.Summary != nil {
				spec.Summary = compileTemplate(o.Summary, c, dsl.UseSummary)
			}
		}
		c.prog.Closes = append(c.prog.Closes, spec)
		c.emit(CLOSE, len(c.prog.Closes)-1, -1)
	case *dsl.CommentStep:
		c.prog.Texts = append(c.prog.Texts, compileTemplate(s.Text, c, dsl.UseComment))
		c.emit(COMMENT, len(c.prog.Texts)-1, -1)
	case *dsl.Jump:
		max := 1
		if s.Max != nil {
			max = s.Max.Value
		}
		c.prog.Jumps = append(c.prog.Jumps, &JumpSpec{Label: s.Target.Name, Max: max, Step: c.prog.Steps[c.step]})
		pc := c.emit(JUMP, len(c.prog.Jumps)-1, -1)
		c.fixups = append(c.fixups, fixup{pc, s.Target.Name})
	case *dsl.Wait:
		c.prog.Waits = append(c.prog.Waits, c.duration(s.For))
		c.emit(WAIT, len(c.prog.Waits)-1, -1)
	case *dsl.Start:
		c.prog.Texts = append(c.prog.Texts, compileTemplate(s.Flow, c, dsl.UseFlowName))
		c.emit(START, len(c.prog.Texts)-1, -1)
	case *dsl.During:
		c.during(s)
	case *dsl.HTTP:
		c.http(s)
	case *dsl.Sheet:
		c.sheet(s)
	case *dsl.AI:
		c.ai(s)
	case *dsl.Stop:
		c.emit(END, 0, -1)
	default:
		c.fail(st.Pos, "cannot compile %T", s)
	}
}

// branches compiles a step's named on-blocks, in this order, right after the
// step; each ends with a jump to the code after them all. It returns each
// block's pc (-1 for a branch the step does not have) and where the run goes
// on after the step.
func (c *compiler) branches(s dsl.Step, names ...string) (pcs []int, next int) {
	var ends []int
	pcs = make([]int, len(names))
	for i, name := range names {
		pcs[i] = c.branch(s, name, &ends)
	}
	c.patch(ends)
	return pcs, c.pc()
}

// branch compiles an optional on-block right after its step; the block ends
// with a jump that the caller patches to the step's continuation. It returns
// the block's pc, or -1 when there is no such branch.
func (c *compiler) branch(s dsl.Step, name string, ends *[]int) int {
	on := dsl.Branch(s, name)
	if on == nil {
		return -1
	}
	start := c.pc()
	step, pos := c.step, c.pos
	c.stmts(on.Block.Stmts)
	c.step, c.pos = step, pos // the jump out belongs to the owning step
	*ends = append(*ends, c.emit(JMP, 0, -1))
	return start
}

func (c *compiler) expr(src string, pos lexer.Position, asBool bool) *vm.Program {
	i := 0
	if asBool {
		i = 1
	}
	if c.exprs[i] == nil {
		c.exprs[i] = newExprCompiler(asBool)
	}
	prog, err := c.exprs[i].Compile(src)
	if err != nil {
		c.fail(pos, "%v", err)
		return nil
	}
	if strings.Contains(src, "system") {
		c.prog.UsesSystem = true
	}
	return prog
}

func (c *compiler) duration(d *dsl.Dur) time.Duration {
	v, err := d.Value()
	if err != nil {
		c.fail(d.Pos, "%v", err)
	}
	return time.Duration(v)
}

func (c *compiler) message(text *dsl.Text, opts []*dsl.SendOpt) MessageSpec {
	m := MessageSpec{Text: compileTemplate(text, c, dsl.UseMessage)}
	for _, o := range opts {
		switch {
		case o.Via != nil:
			m.Via = o.Via.Name
		case o.Choices != nil:
			m.Choices = c.templates(o.Choices, dsl.UseChoice)
		case o.Attach != nil:
			m.Attach = c.templates(o.Attach, dsl.UseAttachment)
		case o.Subject != nil:
			m.Subject = compileTemplate(o.Subject, c, dsl.UseSubject)
		}
	}
	return m
}

func (c *compiler) templates(ts []*dsl.Text, u dsl.TextUse) []*Template {
	out := make([]*Template, len(ts))
	for i, t := range ts {
		out[i] = compileTemplate(t, c, u)
	}
	return out
}

func (c *compiler) send(s *dsl.Send) {
	spec := &SendSpec{MessageSpec: c.message(s.Text, s.Options())}
	for _, v := range s.Variants() {
		vs := &VariantSpec{Channel: v.Channel.Name, MessageSpec: c.message(v.Text, v.Opts)}
		if v.Template != nil {
			vs.Template = v.Template.Value()
			if v.Language != nil {
				vs.Language = v.Language.Value()
			}
			vs.Params = c.templates(v.Params, dsl.UseParam)
		}
		spec.Variants = append(spec.Variants, vs)
	}
	c.prog.Sends = append(c.prog.Sends, spec)
	c.emit(SEND, len(c.prog.Sends)-1, -1)
	pcs, next := c.branches(s, "failure")
	spec.Failure, spec.Next = pcs[0], next
}

func (c *compiler) ask(s *dsl.Ask) {
	spec := &AskSpec{Type: s.AskType(), Prompt: compileTemplate(s.Prompt, c, dsl.UseMessage)}
	for _, o := range s.Options() {
		switch {
		case o.Save != nil:
			for _, t := range o.Save {
				switch {
				case t.Tag:
					spec.SaveTag = true
				case len(t.Ref.Parts) == 1:
					spec.SaveVars = append(spec.SaveVars, t.Ref.Parts[0])
					c.vars[t.Ref.Parts[0]] = true
				default:
					spec.SaveFields = append(spec.SaveFields, t.Ref.Parts[1])
				}
			}
		case o.Retry != nil:
			spec.Retries = o.Retry.Count.Value
			spec.RetryPrompt = compileTemplate(o.Retry.Prompt, c, dsl.UseMessage)
		case o.Timeout != nil:
			spec.Timeout = c.duration(o.Timeout)
		case o.Choices != nil:
			spec.Choices = c.templates(o.Choices, dsl.UseChoice)
		case o.Min != nil:
			spec.Min = c.number(o.Min)
		case o.Max != nil:
			spec.Max = c.number(o.Max)
		}
	}
	c.prog.Asks = append(c.prog.Asks, spec)
	c.emit(ASK, len(c.prog.Asks)-1, -1)
	pcs, next := c.branches(s, "invalid", "timeout", "failure")
	spec.Invalid, spec.TimeoutPC, spec.Failure, spec.Next = pcs[0], pcs[1], pcs[2], next
}

func (c *compiler) number(n *dsl.Num) *float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		c.fail(n.Pos, "malformed number %q", n.Value)
	}
	if n.Neg {
		v = -v
	}
	return &v
}

func (c *compiler) assign(s *dsl.Assign) {
	spec := &AssignSpec{Kind: s.Kind, Target: compileTemplate(s.Target, c, dsl.UseTarget), Timeout: DefaultAssignTimeout}
	if s.Kind != "user" {
		spec.Logic = "round robin"
	}
	for _, o := range s.Options() {
		switch {
		case o.Logic != "":
			spec.Logic = string(o.Logic)
		case o.Online:
			spec.OnlineOnly = true
		case o.MaxOpen != nil:
			spec.MaxOpen = o.MaxOpen.Value
		case o.Timeout != nil:
			spec.Timeout = c.duration(o.Timeout)
		}
	}
	c.prog.Assigns = append(c.prog.Assigns, spec)
	c.emit(ASSIGN, len(c.prog.Assigns)-1, -1)
	pcs, next := c.branches(s, "timeout")
	spec.TimeoutPC, spec.Next = pcs[0], next
}

// ifStep compiles if / else if / else into conditional jumps:
//
//	BRANCH cond0 -> L1; then-block; JMP end
//	L1: BRANCH cond1 -> L2; block; JMP end
//	L2: else-block
//	end:
func (c *compiler) ifStep(s *dsl.If) {
	var ends []int
	step, pos := c.step, c.pos
	arm := func(cond *dsl.Expr, block *dsl.Block, last bool) {
		c.step, c.pos = step, pos
		skip := -1
		if cond != nil {
			c.prog.Exprs = append(c.prog.Exprs, c.expr(cond.Src, cond.Pos, true))
			c.prog.ExprSrc = append(c.prog.ExprSrc, cond.Src)
			c.pos = cond.Pos // an error in an else if condition points at it, not at the if
			skip = c.emit(BRANCH, len(c.prog.Exprs)-1, -1)
			c.pos = pos
		}
		c.stmts(block.Stmts)
		c.step, c.pos = step, pos
		if !last {
			ends = append(ends, c.emit(JMP, 0, -1))
		}
		if skip >= 0 {
			c.patch([]int{skip})
		}
	}
	arm(s.Cond, s.Then, len(s.Elses) == 0)
	for i, e := range s.Elses {
		arm(e.Cond, e.Block, i == len(s.Elses)-1)
	}
	c.patch(ends)
}

var weekdayIndex = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

func (c *compiler) during(s *dsl.During) {
	spec := &DuringSpec{}
	if s.Zone != nil {
		spec.Zone = s.Zone.Value()
		loc, err := time.LoadLocation(spec.Zone)
		if err != nil {
			c.fail(s.Zone.Pos, "unknown timezone %q", spec.Zone)
		}
		spec.Loc = loc
	}
	if r := s.Range; r != nil {
		spec.IsRange = true
		spec.From, _ = dsl.ParseDateTime(r.StartDate, r.StartTime, false) // checked by dsl.Check
		spec.To, _ = dsl.ParseDateTime(r.EndDate, r.EndTime, true)
	}
	spec.Hours, spec.Business = HoursSpecs(s.Hours), s.Business
	c.prog.Durings = append(c.prog.Durings, spec)
	pc := c.emit(DURING, len(c.prog.Durings)-1, -1)
	pcs, next := c.branches(s, "inside", "outside")
	spec.InsidePC, spec.Next = pcs[0], next
	outside := pcs[1]
	if spec.InsidePC < 0 {
		spec.InsidePC = spec.Next
	}
	if outside < 0 {
		outside = spec.Next
	}
	c.prog.Code[pc].B = int32(outside)
}

func (c *compiler) http(s *dsl.HTTP) {
	spec := &HTTPSpec{Method: s.Method.Name, URL: compileTemplate(s.URL, c, dsl.UseURL), Timeout: DefaultHTTPTimeout}
	for _, o := range s.Options() {
		switch {
		case o.Timeout != nil:
			spec.Timeout = c.duration(o.Timeout)
		case o.Header != nil:
			spec.Headers = append(spec.Headers, HeaderSpec{Name: o.Header.Name.Value(), Value: compileTemplate(o.Header.Value, c, dsl.UseHeader)})
		case o.Body != nil:
			spec.Body = compileTemplate(o.Body, c, dsl.UseBody)
		case o.Map != nil:
			path, err := dsl.ParsePath(o.Map.Path.Value())
			if err != nil {
				c.fail(o.Map.Path.Pos, "%v", err)
			}
			spec.Maps = append(spec.Maps, MapSpec{Path: path, Raw: o.Map.Path.Value(), Var: o.Map.Var.Name})
			c.vars[o.Map.Var.Name] = true
		case o.Status != nil:
			spec.StatusVar = o.Status.Name
			c.vars[o.Status.Name] = true
		}
	}
	c.prog.HTTPs = append(c.prog.HTTPs, spec)
	c.emit(HTTP, len(c.prog.HTTPs)-1, -1)
	pcs, next := c.branches(s, "failure")
	spec.Failure, spec.Next = pcs[0], next
}

func (c *compiler) sheet(s *dsl.Sheet) {
	spec := &SheetSpec{Doc: compileTemplate(s.Doc, c, dsl.UseSheetName), Tab: compileTemplate(s.Tab, c, dsl.UseSheetName)}
	for _, o := range s.Body.Clauses {
		if o.Column != nil {
			spec.Columns = append(spec.Columns, Column{Name: o.Column.Value(), Value: compileTemplate(o.Value, c, dsl.UseSheet)})
		}
	}
	c.prog.Sheets = append(c.prog.Sheets, spec)
	c.emit(SHEET, len(c.prog.Sheets)-1, -1)
	pcs, next := c.branches(s, "failure")
	spec.Failure, spec.Next = pcs[0], next
}

func (c *compiler) ai(s *dsl.AI) {
	u := dsl.UseAI
	if s.Mode == "handoff" {
		u = dsl.UseAgent
	}
	spec := &AISpec{Mode: s.Mode, Text: compileTemplate(s.Text, c, u), Idle: DefaultAIIdle, Branches: map[string]int{}}
	for _, o := range s.Options() {
		switch {
		case o.Save != nil:
			for _, id := range o.Save {
				spec.Save = append(spec.Save, id.Name)
				c.vars[id.Name] = true
			}
		case o.Idle != nil:
			spec.Idle = c.duration(o.Idle)
		}
	}
	c.prog.AIs = append(c.prog.AIs, spec)
	c.emit(AI, len(c.prog.AIs)-1, -1)
	names := []string{"human", "unable", "idle", "failure"}
	pcs, next := c.branches(s, names...)
	for i, name := range names {
		if pcs[i] >= 0 {
			spec.Branches[name] = pcs[i]
		}
	}
	spec.Next = next
}

// HoursSpecs are opening hours as the VM checks them; hours checked by
// dsl.Check or dsl.ParseHours.
func HoursSpecs(hours []*dsl.Hours) []HoursSpec {
	var out []HoursSpec
	for _, h := range hours {
		var hs HoursSpec
		first := weekdayIndex[h.FirstDay.Name]
		last := first
		if h.LastDay != nil {
			last = weekdayIndex[h.LastDay.Name]
		}
		for d := first; ; d = (d + 1) % 7 {
			hs.Days[d] = true
			if d == last {
				break
			}
		}
		hs.From, _ = dsl.ParseClock(h.From.Value)
		hs.To, _ = dsl.ParseClock(h.To.Value)
		out = append(out, hs)
	}
	return out
}

// DefaultBusinessHours are the workspace's business hours when it names
// none: Monday to Friday, 09:00 to 18:00.
var DefaultBusinessHours = func() []HoursSpec {
	h := HoursSpec{From: 9 * 60, To: 18 * 60}
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = true
	}
	return []HoursSpec{h}
}()
