package interpreter

import (
	"fmt"
	"github.com/theory/jsonpath"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
)

// A Program is a compiled flow: immutable, safe to share between goroutines,
// and identified by the hash of the source it was compiled from, so that a
// paused run resumes against the very code it paused in.
type Program struct {
	Flow string // the flow's name
	File string // the file it was compiled from
	// Hash is the hex content hash of the source: the same source has the
	// same hash whichever flowd compiles it. LegacyHash is the hash flowd
	// gave it before (of codegen 1 and the source), which version 1
	// continuations name.
	Hash, LegacyHash string

	Code []Instr
	Pos  []lexer.Position // source position of each instruction
	Step []int32          // step of each instruction, an index into Steps

	Steps   []string      // step ids: the label, or "#n" for the n-th step in the file
	Exprs   []*vm.Program // conditions, compiled once
	ExprSrc []string

	Sends   []*SendSpec
	Asks    []*AskSpec
	Assigns []*AssignSpec
	Tags    []*TagSpec
	Fields  []*FieldSpec
	Closes  []*CloseSpec
	Texts   []*Template // comments, start targets, ai handoff agents
	Jumps   []*JumpSpec
	Waits   []time.Duration
	Durings []*DuringSpec
	HTTPs   []*HTTPSpec
	Sheets  []*SheetSpec
	AIs     []*AISpec
	Draft   bool     // checked and tested, but never enrolls anyone
	Trigger *Trigger // what enrolls a contact; nil only for a flow without one
	// Group and Priority make flows that share a trigger take turns (see
	// docs/language.md §8); "" is no group.
	Group    string
	Priority int
	Exits    []Exit   // what stops a waiting run early
	Vars     []string // flow variables steps may set, sorted
	// FieldTypes are the declared custom contact fields and their types
	// (text, number, checkbox, ...), so that a field the run writes reads back
	// with the type the checker gave it.
	FieldTypes map[string]string
	UsesSystem bool // whether any expression or text reads system.*
	// Budget is how many instructions a sprint of the program may run:
	// the most it can run without waiting (see the compiler's budget).
	Budget int

	waits map[string]int // the waiting instruction of each step that waits
}

// WaitPC is the instruction where the step with the id waits.
func (p *Program) WaitPC(step string) (int, bool) {
	pc, ok := p.waits[step]
	return pc, ok
}

// waits reports whether a run may pause at an instruction op.
func waits(op Opcode) bool { return waitOf(op) != WaitNone }

// Position returns the source position of the instruction at pc.
func (p *Program) Position(pc int) lexer.Position {
	if pc >= 0 && pc < len(p.Pos) {
		return p.Pos[pc]
	}
	return lexer.Position{Filename: p.File}
}

// StepID returns the id of the step the instruction at pc belongs to.
func (p *Program) StepID(pc int) string {
	if pc >= 0 && pc < len(p.Step) && p.Step[pc] >= 0 {
		return p.Steps[p.Step[pc]]
	}
	return ""
}

// SendSpec is a send step.
type SendSpec struct {
	MessageSpec
	Variants []*VariantSpec
	Failure  int // pc of the on failure block, or -1
	Next     int // pc after the step
}

// MessageSpec is the content of a message: text, quick replies, attachments.
type MessageSpec struct {
	Text    *Template
	Via     string
	Choices []*Template
	Attach  []*Template
	Subject *Template
}

// VariantSpec is the message one channel gets instead of the default.
type VariantSpec struct {
	Channel string
	MessageSpec
	Template string // WhatsApp or Messenger template name, instead of Text
	Language string
	Params   []*Template
}

// AskSpec is an ask step.
type AskSpec struct {
	Type        string
	Prompt      *Template
	RetryPrompt *Template // nil: re-ask with Prompt
	Retries     int       // extra attempts after an invalid reply
	Timeout     time.Duration
	Choices     []*Template
	Min, Max    *float64
	SaveFields  []string // contact fields
	SaveVars    []string
	SaveTag     bool
	Invalid     int // pcs of the branches, or -1
	TimeoutPC   int
	Failure     int
	Next        int
}

// AssignSpec is an assign step.
type AssignSpec struct {
	Kind       string // user, team, workspace
	Target     *Template
	Logic      string // round robin, least open
	OnlineOnly bool
	MaxOpen    int
	Timeout    time.Duration
	TimeoutPC  int
	Next       int
}

// TagSpec adds or removes tags.
type TagSpec struct {
	Add  bool
	Tags []*Template
}

// FieldSpec sets (Value != nil) or clears a contact field.
type FieldSpec struct {
	Field string
	Value *Template
}

// CloseSpec is the closing note of a close step.
type CloseSpec struct {
	Category, Summary *Template
}

// JumpSpec is a bounded jump; its counter lives in the continuation.
type JumpSpec struct {
	Label string
	Max   int
	Step  string // the jump step's own id, which keys its counter
}

// DuringSpec is a business-hours or date-range check.
type DuringSpec struct {
	Zone     string         // IANA name; "" is the workspace timezone
	Loc      *time.Location // Zone loaded; nil for the workspace timezone
	Hours    []HoursSpec
	Business bool      // the workspace's business hours (Context.BusinessHours)
	From, To time.Time // date range, wall clock in Zone (zero when Hours)
	IsRange  bool
	InsidePC int // pc of on inside, or -1 (continue)
	Next     int
}

// HoursSpec is one opening-hours line: days and a span of minutes after
// midnight. A span whose end is before its start runs past midnight.
type HoursSpec struct {
	Days     [7]bool // indexed by time.Weekday
	From, To int
}

// HTTPSpec is an http step.
type HTTPSpec struct {
	Method    string
	URL       *Template
	Headers   []HeaderSpec
	Body      *Template
	Timeout   time.Duration
	Maps      []MapSpec
	StatusVar string
	Failure   int
	Next      int
}

// HeaderSpec is one request header.
type HeaderSpec struct {
	Name  string
	Value *Template
}

// MapSpec copies the value at Path in the JSON response into Var: the
// value the path selects, a list of them when it selects several, nothing
// (Var unset) when it selects none.
type MapSpec struct {
	Path *jsonpath.Path
	Raw  string
	Var  string
}

// SheetSpec appends a spreadsheet row.
type SheetSpec struct {
	Doc, Tab *Template
	Columns  []Column
	Failure  int
	Next     int
}

// Column is one cell of a sheet row.
type Column struct {
	Name  string
	Value *Template
}

// AISpec hands the conversation to AI.
type AISpec struct {
	Mode     string // reply or handoff
	Text     *Template
	Save     []string
	Idle     time.Duration
	Branches map[string]int // human, unable, idle, failure -> pc
	Next     int
}

// Disassemble writes the program as text, one instruction a line:
//
//	pc  op      operands            step     position
func (p *Program) Disassemble(w io.Writer) {
	fmt.Fprintf(w, "flow %q (%s) hash %s\n", p.Flow, p.File, p.Hash)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for pc, in := range p.Code {
		fmt.Fprintf(tw, "%4d\t%s\t%s\t%s\t%d:%d\n", pc, in.Op, p.operands(in), p.StepID(pc), p.Pos[pc].Line, p.Pos[pc].Column)
	}
	tw.Flush()
}

// operands renders an instruction's operands readably.
func (p *Program) operands(in Instr) string {
	target := func() string { return fmt.Sprintf("-> %d", in.B) }
	switch in.Op {
	case SEND:
		s := p.Sends[in.A]
		return quote(s.Text.Raw) + branchList("failure", s.Failure)
	case ASK:
		a := p.Asks[in.A]
		out := a.Type + " " + quote(a.Prompt.Raw)
		if a.Retries > 0 {
			out += fmt.Sprintf(" retry %d", a.Retries)
		}
		if a.Timeout > 0 {
			out += " timeout " + dsl.Duration(a.Timeout).String()
		}
		return out + branchList("invalid", a.Invalid) + branchList("timeout", a.TimeoutPC) + branchList("failure", a.Failure)
	case ASSIGN:
		a := p.Assigns[in.A]
		out := a.Kind
		if a.Target != nil {
			out += " " + quote(a.Target.Raw)
		}
		return out + branchList("timeout", a.TimeoutPC)
	case JMP:
		return target()
	case BRANCH:
		return fmt.Sprintf("unless %s %s", p.ExprSrc[in.A], target())
	case TAG:
		t := p.Tags[in.A]
		verb := "remove"
		if t.Add {
			verb = "add"
		}
		var names []string
		for _, tag := range t.Tags {
			names = append(names, quote(tag.Raw))
		}
		return verb + " " + strings.Join(names, ", ")
	case FIELD:
		f := p.Fields[in.A]
		if f.Value == nil {
			return "clear contact." + f.Field
		}
		return "contact." + f.Field + " = " + quote(f.Value.Raw)
	case COMMENT, START:
		return quote(p.Texts[in.A].Raw)
	case JUMP:
		j := p.Jumps[in.A]
		return fmt.Sprintf("%s max %d %s", j.Label, j.Max, target())
	case WAIT:
		return dsl.Duration(p.Waits[in.A]).String()
	case DURING:
		return "outside " + target()
	case HTTP:
		h := p.HTTPs[in.A]
		return h.Method + " " + quote(h.URL.Raw) + branchList("failure", h.Failure)
	case SHEET:
		return quote(p.Sheets[in.A].Doc.Raw) + branchList("failure", p.Sheets[in.A].Failure)
	case AI:
		a := p.AIs[in.A]
		out := a.Mode + " " + quote(a.Text.Raw)
		for _, name := range []string{"human", "unable", "idle", "failure"} {
			if pc, ok := a.Branches[name]; ok {
				out += branchList(name, pc)
			}
		}
		return out
	}
	return ""
}

func branchList(name string, pc int) string {
	if pc < 0 {
		return ""
	}
	return fmt.Sprintf(" %s -> %d", name, pc)
}

func quote(raw string) string {
	if len(raw) > 40 {
		cut := 37
		for cut > 0 && !utf8.RuneStart(raw[cut]) {
			cut-- // never cut a character in two
		}
		return raw[:cut] + "..."
	}
	return raw
}
