package dsl

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/builtin"
)

// Limits from respond.io's Workflows (section 6 of the product reference;
// docs/language.md lists them). A flow that goes past one gets an error,
// except the step count, which only warns: flowd itself has no such limit.
// The text limits are exported: the interpreter applies them to the texts
// as rendered too.
const (
	maxSteps        = 100
	MaxTextLen      = 2000
	MaxCommentLen   = 1000
	maxChoices      = 10
	MaxChoiceLen    = 20
	maxAttachments  = 5
	maxHeaders      = 10
	maxMappings     = 10
	maxConditions   = 10
	maxBranches     = 9 // plus else
	maxJumps        = 10
	maxRetries      = 10
	maxWait         = 7 * 24 * time.Hour
	minAskTimeout   = time.Minute
	maxHTTPTimeout  = 60 * time.Second
	maxSheetColumns = 50
)

// A checker holds the state of one Check call.
type checker struct {
	file  *File
	diags Diagnostics
	scope *scope
	// triggerScope is scope without flow variables
	triggerScope *scope
	labels       map[string]*Stmt  // label -> its statement
	labelList    []string          // the labels, sorted, once a hint needs them
	jumped       map[string]bool   // labels some jump targets
	custom       map[string]string // custom field -> declared type name
	steps        int
}

// Check reports every problem in one parsed flow: errors, which stop the flow
// from loading, and warnings, which do not. The result is sorted by position.
func Check(f *File) Diagnostics {
	c := &checker{
		file:   f,
		labels: map[string]*Stmt{},
		jumped: map[string]bool{},
		custom: map[string]string{},
		diags:  append(Diagnostics(nil), f.Warnings...),
	}
	c.header()
	vars := c.collect()
	if c.steps == 0 && f.Trigger() != nil {
		c.errorf(f.Trigger().Pos, "flow has no steps").Detail = "a flow needs at least one step after its trigger, such as: send \"Hello!\""
	}
	contact := map[string]Type{}
	for k, v := range ContactFields {
		contact[k] = v
	}
	for name, ty := range c.custom {
		contact[name] = fieldTypes[ty]
	}
	c.scope = newScope(contact, triggerFields(f.Trigger()), vars)
	// a trigger condition runs before any step: it sees no flow variables
	c.triggerScope = newScope(contact, triggerFields(f.Trigger()), nil)
	c.trigger()
	c.stmts(f.Steps)
	c.reachability(f.Steps)
	c.unlabelledWaits(f.Steps)
	c.loops()
	if c.steps > maxSteps {
		c.warn(f.Pos, "flow has %d steps; respond.io allows %d", c.steps, maxSteps)
	}
	c.diags.Sort()
	return c.diags.Limit()
}

func (c *checker) errorf(pos lexer.Position, format string, args ...any) *Diagnostic {
	d := errorAt(pos, format, args...)
	c.diags = append(c.diags, d)
	return d
}

func (c *checker) warn(pos lexer.Position, format string, args ...any) *Diagnostic {
	d := warningAt(pos, format, args...)
	c.diags = append(c.diags, d)
	return d
}

// didYouMean is a hint for a diagnostic, computed only while the file has few
// enough diagnostics to list them all: comparing every bad name of a huge
// file with every good one would take long for hints nobody sees.
func (c *checker) didYouMean(name string, candidates []string) string {
	if len(c.diags) > 2*MaxDiagnostics {
		return ""
	}
	return didYouMean(name, candidates)
}

// header checks everything between `flow "name"` and the first step.
func (c *checker) header() {
	f := c.file
	if f.Name.Value() == "" {
		c.errorf(f.Name.Pos, "flow name is empty")
	}
	c.noInterpolation(f.Name, "a flow name")
	exits := map[Words]bool{}
	seen := map[string]lexer.Position{}
	once := func(pos lexer.Position, what string) {
		if prev, ok := seen[what]; ok {
			c.errorf(pos, "%s given twice", what).Detail = "the first is at " + prev.String()
			return
		}
		seen[what] = pos
	}
	triggers := 0
	for _, h := range f.Header {
		switch h := h.(type) {
		case *Description:
			once(h.Pos, "description")
			c.noInterpolation(h.Text, "a description")
		case *Trigger:
			triggers++
			if triggers > 1 {
				c.errorf(h.Pos, "a flow has exactly one trigger").Detail = "split this flow in two, or use a condition: when ..."
			}
		case *Group:
			once(h.Pos, "group")
			if h.Name.Value() == "" {
				c.errorf(h.Name.Pos, "group name is empty")
			}
			c.noInterpolation(h.Name, "a group name")
		case *Exit:
			for _, ec := range h.Conds {
				if exits[ec.Kind] {
					c.errorf(ec.Pos, "exit condition %q listed twice", ec.Kind)
				}
				exits[ec.Kind] = true
			}
		case *FieldDecl:
			c.fieldDecl(h)
		case *Draft:
			once(h.Pos, "draft")
		}
	}
	if triggers == 0 {
		c.errorf(f.Name.Pos, "flow has no trigger").Detail = `add one after the name, such as: trigger conversation opened by contact`
	}
}

func (c *checker) fieldDecl(d *FieldDecl) {
	name := d.Name.Name
	if _, ok := ContactFields[name]; ok {
		c.errorf(d.Name.Pos, "%q is a standard contact field; declare only custom fields", name)
		return
	}
	if _, ok := c.custom[name]; ok {
		c.errorf(d.Name.Pos, "field %q declared twice", name)
		return
	}
	if _, ok := fieldTypes[d.Type.Name]; !ok {
		c.errorf(d.Type.Pos, "unknown field type %q", d.Type.Name).Detail =
			hintOr(c.didYouMean(d.Type.Name, sortedKeys(fieldTypes)), "field types are "+listOf(sortedKeys(fieldTypes)))
		return
	}
	c.custom[name] = d.Type.Name
}

// collect makes a first pass over the steps: labels, the variables steps
// define, and the number of steps.
func (c *checker) collect() map[string]Type {
	vars := map[string]Type{}
	define := func(id string, pos lexer.Position, ty Type) {
		if isNamespace(id) {
			c.errorf(pos, "%q is a namespace and cannot be a variable name", id)
			return
		}
		if strings.HasPrefix(id, reservedPrefix) {
			c.errorf(pos, "%q is reserved by flowd and cannot be a variable name", id)
			return
		}
		if _, ok := builtin.Index[id]; ok || exprKeywords[id] || id == "true" || id == "false" || id == "nil" {
			c.errorf(pos, "%q is a built-in name of expressions and cannot be a variable name", id).Detail = "choose another name, such as " + strings.ToUpper(id[:1]) + id[1:]
			return
		}
		if prev, ok := vars[id]; ok && prev != ty {
			ty = TypeAny
		}
		vars[id] = ty
	}
	Walk(c.file.Steps, func(st *Stmt) {
		c.steps++
		if st.Label != nil {
			if prev, ok := c.labels[st.Label.Name]; ok {
				c.errorf(st.Pos, "label %q defined twice", st.Label.Name).Detail = "the first is at " + prev.Pos.String()
			} else {
				c.labels[st.Label.Name] = st
			}
		}
		switch s := st.Step.(type) {
		case *Jump:
			c.jumped[s.Target.Name] = true
		case *Ask:
			ty := askTypes[askType(s)]
			for _, o := range s.allOpts() {
				for _, t := range o.Save {
					if t.Ref != nil && len(t.Ref.Parts) == 1 {
						define(t.Ref.Parts[0], t.Ref.Pos, ty)
					}
				}
			}
		case *HTTP:
			for _, o := range s.allOpts() {
				if o.Map != nil {
					define(o.Map.Var.Name, o.Map.Var.Pos, TypeAny)
				}
				if o.Status != nil {
					define(o.Status.Name, o.Status.Pos, TypeInt)
				}
			}
		case *AI:
			for _, o := range s.allOpts() {
				for _, id := range o.Save {
					define(id.Name, id.Pos, TypeText)
				}
			}
		}
	})
	return vars
}

func isNamespace(name string) bool {
	for _, ns := range Namespaces {
		if ns == name {
			return true
		}
	}
	return false
}

func askType(s *Ask) string {
	if s.Type == nil {
		return "text"
	}
	return s.Type.Name
}

// trigger checks the trigger and its options.
func (c *checker) trigger() {
	t := c.file.Trigger()
	if t == nil {
		return
	}
	switch ev := t.Event.(type) {
	case *ConversationEvent:
		seen := map[string]bool{}
		for _, src := range ev.Sources {
			switch src.Name {
			case "contact", "user", "flow":
			default:
				c.errorf(src.Pos, "unknown conversation source %q", src.Name).Detail =
					hintOr(c.didYouMean(src.Name, []string{"contact", "user", "flow"}), "sources are contact, user and flow")
			}
			if seen[src.Name] {
				c.errorf(src.Pos, "source %q listed twice", src.Name)
			}
			seen[src.Name] = true
		}
	case *TagEvent:
		for _, tag := range ev.Tags {
			c.tagName(tag)
			c.noInterpolation(tag, "a trigger tag")
		}
	case *FieldEvent:
		for _, ref := range ev.Fields {
			c.contactFieldRef(ref, false)
		}
	case *WebhookEvent:
		if ev.Identify != nil {
			switch ev.Identify.Name {
			case "email", "phone", "id":
			default:
				c.errorf(ev.Identify.Pos, "a webhook identifies its contact by email, phone or id, not %q", ev.Identify.Name).Detail =
					c.didYouMean(ev.Identify.Name, []string{"email", "phone", "id"})
			}
			c.jsonPath(ev.Path)
		}
	case *ShortcutEvent:
		if ev.Name.Value() == "" {
			c.errorf(ev.Name.Pos, "shortcut name is empty")
		}
		c.noInterpolation(ev.Name, "a shortcut name")
		names := map[string]bool{}
		for _, ff := range ev.Form {
			if names[ff.Name.Name] {
				c.errorf(ff.Name.Pos, "form field %q listed twice", ff.Name.Name)
			}
			names[ff.Name.Name] = true
			if ff.Label != nil {
				c.noInterpolation(ff.Label, "a form label")
			}
			if _, ok := fieldTypes[ff.Type.Name]; !ok {
				c.errorf(ff.Type.Pos, "unknown form field type %q", ff.Type.Name).Detail =
					hintOr(c.didYouMean(ff.Type.Name, sortedKeys(fieldTypes)), "types are "+listOf(sortedKeys(fieldTypes)))
			}
		}
	case *AdEvent:
		if ev.Platform != nil && ev.Platform.Name != "meta" && ev.Platform.Name != "tiktok" {
			c.errorf(ev.Platform.Pos, "unknown ad platform %q", ev.Platform.Name).Detail =
				hintOr(c.didYouMean(ev.Platform.Name, []string{"meta", "tiktok"}), "platforms are meta and tiktok")
		}
	}
	whens, onces := 0, 0
	for _, o := range t.Opts {
		switch {
		case o.When != nil:
			whens++
			if whens > 1 {
				c.errorf(o.Pos, "trigger has more than one condition").Detail = "join them with && or ||"
			}
			scope := c.scope
			c.scope = c.triggerScope
			tree := c.condition(o.When)
			c.scope = scope
			if why := neverTrue(tree); why != "" {
				c.warn(o.When.Pos, "this trigger condition is never true: %s", why).Detail = "the flow never starts on its trigger"
			}
		case o.Once:
			onces++
			if onces > 1 {
				c.errorf(o.Pos, "once per contact given twice")
			}
			if _, manual := t.Event.(*ManualEvent); manual {
				c.errorf(o.Pos, "a manual trigger cannot be once per contact").Detail = "the flow that starts it decides"
			}
		}
	}
}

// loops warns about a flow that changes what its own trigger listens to, which
// re-enrolls the contact after each run ("Workflow loop detected").
func (c *checker) loops() {
	t := c.file.Trigger()
	if t == nil {
		return
	}
	Walk(c.file.Steps, func(st *Stmt) {
		switch ev := t.Event.(type) {
		case *TagEvent:
			s, ok := st.Step.(*TagStep)
			if !ok || (s.Action == "add") != (ev.Action == "added") {
				return
			}
			for _, tag := range s.Tags {
				if len(ev.Tags) == 0 {
					c.warn(tag.Pos, "this flow's trigger fires when any tag is %s, and this step %ss one", ev.Action, s.Action).Detail = "the contact may enter the flow again: a loop"
					return
				}
				for _, tt := range ev.Tags {
					if tt.Value() == tag.Value() {
						c.warn(tag.Pos, "this step %ss tag %q, which triggers this flow", s.Action, tag.Value()).Detail = "the contact may enter the flow again: a loop"
					}
				}
			}
		case *FieldEvent:
			var refs []*Ref
			switch s := st.Step.(type) {
			case *Set:
				refs = append(refs, s.Field)
			case *Clear:
				refs = append(refs, s.Field)
			case *Ask:
				for _, o := range s.allOpts() {
					for _, tg := range o.Save {
						if tg.Ref != nil {
							refs = append(refs, tg.Ref)
						}
					}
				}
			}
			for _, r := range refs {
				for _, f := range ev.Fields {
					if r.String() == f.String() {
						c.warn(r.Pos, "this step changes %s, which triggers this flow", r).Detail = "the contact may enter the flow again: a loop"
					}
				}
			}
		case *ConversationEvent:
			switch st.Step.(type) {
			case *Open:
				if ev.Action == "opened" && sourcesInclude(ev, "flow") {
					c.warn(st.Pos, "this step opens a conversation, which triggers this flow").Detail = "the trigger listens to conversations opened by flows: a loop"
				}
			case *Close:
				if ev.Action == "closed" {
					c.warn(st.Pos, "this step closes the conversation, which triggers this flow").Detail = "the contact may enter the flow again: a loop"
				}
			}
		}
	})
}

func sourcesInclude(ev *ConversationEvent, src string) bool {
	if len(ev.Sources) == 0 {
		return true
	}
	for _, s := range ev.Sources {
		if s.Name == src {
			return true
		}
	}
	return false
}

// unlabelledWaits warns about the steps where a run may stay paused for
// long (an answer, a wait, an agent, a response) without a label: only a
// label names the step in a new version of the flow, so a run paused there
// cannot be moved to it (flowd runs migrate).
func (c *checker) unlabelledWaits(stmts []*Stmt) {
	Walk(stmts, func(st *Stmt) {
		if st.Label != nil {
			return
		}
		var what string
		switch st.Step.(type) {
		case *Ask:
			what = "an ask"
		case *Wait:
			what = "a wait"
		case *Assign:
			what = "an assign"
		case *HTTP:
			what = "an http step"
		case *AI:
			what = "an ai step"
		default:
			return
		}
		c.warn(st.Pos, "%s without a label: a run paused here stays on this version of the flow when it changes", what).Detail =
			"give it a label (name: ...) so that flowd runs migrate can move its paused runs to the next version"
	})
}

// reachability warns about steps that no path reaches: those after a stop, or
// after a step all of whose branches stop, unless a jump targets them.
func (c *checker) reachability(stmts []*Stmt) bool {
	ended := false
	reported := false
	for _, st := range stmts {
		if ended && st.Label != nil && c.jumped[st.Label.Name] {
			ended, reported = false, false
		}
		if ended && !reported {
			c.warn(st.Pos, "unreachable step").Detail = "a step before it always ends the run"
			reported = true
		}
		if c.stmtEnds(st) {
			ended = true
		}
	}
	return ended
}

// stmtEnds reports whether every path through st ends the run, checking nested
// blocks for unreachable steps on the way.
func (c *checker) stmtEnds(st *Stmt) bool {
	switch s := st.Step.(type) {
	case *Stop:
		return true
	case *If:
		all := c.reachability(s.Then.Stmts)
		hasElse := false
		for _, e := range s.Elses {
			if !c.reachability(e.Block.Stmts) {
				all = false
			}
			if e.Cond == nil {
				hasElse = true
			}
		}
		return all && hasElse
	case *During:
		ins, outs := false, false
		for _, on := range branchesOf(s) {
			ends := c.reachability(on.Block.Stmts)
			switch on.Name.Name {
			case "inside":
				ins = ends
			case "outside":
				outs = ends
			}
		}
		return ins && outs
	}
	for _, on := range branchesOf(st.Step) {
		c.reachability(on.Block.Stmts)
	}
	return false
}

// tagName checks a tag name.
func (c *checker) tagName(t *Text) {
	if t.Value() == "" {
		c.errorf(t.Pos, "tag name is empty")
	}
	c.text(t)
	c.limit(t, UseTag)
}

// noInterpolation reports $ references in a text that is used as written.
func (c *checker) noInterpolation(t *Text, what string) {
	for _, seg := range t.Segments() {
		if seg.Kind != Literal {
			start := seg.Offset - len("$") // at the $ of $name or ${
			if seg.Kind == ExprSegment {
				start -= len("{")
			}
			c.errorf(t.PosAt(start), "%s cannot contain variables", what).Detail = "write $$ for a dollar sign"
			return
		}
	}
}

// textLen counts the characters of a text as written (interpolations count as
// their source).
func textLen(t *Text) int { return utf8.RuneCountInString(t.Value()) }

func hintOr(hint, fallback string) string {
	if hint != "" {
		return hint
	}
	return fallback
}

func listOf(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	out := ""
	for i, x := range xs[:len(xs)-1] {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out + " and " + xs[len(xs)-1]
}
