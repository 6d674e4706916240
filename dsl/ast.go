package dsl

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar structs below are the syntax tree. Each type's comment shows the
// source it stands for. Every node records where it starts (Pos); nodes that
// hold blocks also record their closing brace (RBrace), which the formatter needs to
// put comments back inside the right block.

// A File is one .flow file, which holds exactly one flow:
//
//	flow "Request Consent: Privacy"
//	trigger conversation opened by contact
//	send "Hello!"
type File struct {
	Pos    lexer.Position
	Name   *Text    `parser:"'flow' @@"`
	Header []Header `parser:"@@*"`
	Steps  []*Stmt  `parser:"@@*"`
	EndPos lexer.Position

	Comments []Comment   // every # comment in source order, set by Parse
	Warnings Diagnostics // what Parse noticed but did not stop at (bidirectional controls); Check reports them
	Src      []byte      // the source, set by Parse
}

// Filename is the name the file was parsed under.
func (f *File) Filename() string { return f.Pos.Filename }

// Trigger returns the flow's first trigger, or nil.
func (f *File) Trigger() *Trigger {
	for _, h := range f.Header {
		if t, ok := h.(*Trigger); ok {
			return t
		}
	}
	return nil
}

// A Header item comes after `flow "name"` and before the first step.
type Header interface{ header() }

func (*Description) header() {}
func (*Trigger) header()     {}
func (*Group) header()       {}
func (*Exit) header()        {}
func (*FieldDecl) header()   {}
func (*Draft) header()       {}

// A Description documents the flow: description "Greets every new contact"
type Description struct {
	Pos  lexer.Position
	Text *Text `parser:"'description' @@"`
}

// A Trigger says what enrolls a contact:
//
//	trigger conversation opened by contact
//	  when contact.channel == "whatsapp"
//	  once per contact
type Trigger struct {
	Pos   lexer.Position
	Event Event         `parser:"'trigger' @@"`
	Opts  []*TriggerOpt `parser:"@@*"`
}

// A TriggerOpt is a condition or the once-per-contact switch of a trigger.
type TriggerOpt struct {
	Pos  lexer.Position
	When *Expr `parser:"  'when' @@"`
	Once bool  `parser:"| @'once' 'per' 'contact'"`
}

// An Event is what a trigger listens to.
type Event interface{ event() }

func (*ConversationEvent) event() {}
func (*TagEvent) event()          {}
func (*FieldEvent) event()        {}
func (*WebhookEvent) event()      {}
func (*ManualEvent) event()       {}
func (*ShortcutEvent) event()     {}
func (*AdEvent) event()           {}

// A ConversationEvent is: conversation opened by contact, user
type ConversationEvent struct {
	Pos     lexer.Position
	Action  string   `parser:"'conversation' @('opened' | 'closed')"`
	Sources []*Ident `parser:"( 'by' @@ ( ',' @@ )* )?"`
}

// A TagEvent is: tag added "VIP", "Gold"   (no tag: any tag)
type TagEvent struct {
	Pos    lexer.Position
	Action string  `parser:"'tag' @('added' | 'removed')"`
	Tags   []*Text `parser:"( @@ ( ',' @@ )* )?"`
}

// A FieldEvent is: field changed contact.email, contact.lifecycle
type FieldEvent struct {
	Pos    lexer.Position
	Fields []*Ref `parser:"'field' 'changed' @@ ( ',' @@ )*"`
}

// A WebhookEvent is: webhook identify email "$.customer.email" create
type WebhookEvent struct {
	Pos      lexer.Position
	Identify *Ident `parser:"'webhook' ( 'identify' @@"`
	Path     *Text  `parser:"  @@ )?"`
	Create   bool   `parser:"@'create'?"`
}

// A ManualEvent is: manual   (started by another flow's start step)
type ManualEvent struct {
	Pos    lexer.Position
	Manual bool `parser:"@'manual'"`
}

// A ShortcutEvent is an inbox shortcut with an optional form:
//
//	shortcut "Escalate" form reason text "Why escalate?"
type ShortcutEvent struct {
	Pos  lexer.Position
	Name *Text        `parser:"'shortcut' @@"`
	Form []*FormField `parser:"@@*"`
}

// A FormField is one answer a shortcut's form asks the agent for: form reason text "Why?"
type FormField struct {
	Pos   lexer.Position
	Name  *Ident `parser:"'form' @@"`
	Type  *Ident `parser:"@@"`
	Label *Text  `parser:"@@?"`
}

// An AdEvent is a click on a chat ad: ad click from meta
type AdEvent struct {
	Pos      lexer.Position
	Platform *Ident `parser:"'ad' 'click' ( 'from' @@ )?"`
}

// A Group makes flows that share a trigger take turns: for one event, only the
// first flow of the group (by priority, then name) whose trigger matches runs.
//
//	group "inbound" priority 2
type Group struct {
	Pos      lexer.Position
	Name     *Text   `parser:"'group' @@"`
	Priority *IntLit `parser:"( 'priority' @@ )?"`
}

// An Exit lists the events that stop a run early:
//
//	exit on agent message, manual assignment
type Exit struct {
	Pos   lexer.Position
	Conds []*ExitCond `parser:"'exit' 'on' @@ ( ',' @@ )*"`
}

// An ExitCond is one exit condition.
type ExitCond struct {
	Pos  lexer.Position
	Kind Words `parser:"@( 'agent' 'message' | 'contact' 'message' | 'manual' ( 'assignment' | 'stop' ) | 'conversation' 'closed' )"`
}

// A FieldDecl declares a custom contact field the flow uses: field city text
type FieldDecl struct {
	Pos  lexer.Position
	Name *Ident `parser:"'field' @@"`
	Type *Ident `parser:"@@"`
}

// Draft marks a flow that is checked and tested but never enrolls anyone: draft
type Draft struct {
	Pos   lexer.Position
	Draft bool `parser:"@'draft'"`
}

// A Stmt is a step, possibly labelled so that jumps can reach it and so that it
// keeps a stable id:
//
//	consent: ask choice "Do you accept?"
type Stmt struct {
	Pos   lexer.Position
	Label *Label `parser:"(?! '}') @Label?"` // at the end of a block, fail at once, not after every step
	Step  Step   `parser:"@@"`
}

// A Step is one step of a flow.
type Step interface{ step() }

func (*Send) step()        {}
func (*Ask) step()         {}
func (*Assign) step()      {}
func (*Unassign) step()    {}
func (*If) step()          {}
func (*TagStep) step()     {}
func (*Set) step()         {}
func (*Clear) step()       {}
func (*Open) step()        {}
func (*Close) step()       {}
func (*CommentStep) step() {}
func (*Jump) step()        {}
func (*Wait) step()        {}
func (*Start) step()       {}
func (*During) step()      {}
func (*HTTP) step()        {}
func (*Sheet) step()       {}
func (*AI) step()          {}
func (*Stop) step()        {}

// A Block is a brace-delimited list of steps.
type Block struct {
	Pos    lexer.Position
	Stmts  []*Stmt     `parser:"'{' @@*"`
	RBrace lexer.Token `parser:"@'}'"`
}

// An On is a named branch of a step: on timeout { ... }
type On struct {
	Pos   lexer.Position
	Name  *Ident `parser:"'on' @@"`
	Block *Block `parser:"@@"`
}

// A Send sends a message to the contact:
//
//	send "Pick a topic" choices "Sales", "Support" {
//	  whatsapp "Pick a topic, $contact.firstname"
//	  on failure { ... }
//	}
type Send struct {
	Pos  lexer.Position
	Text *Text      `parser:"'send' @@"`
	Head []*SendOpt `parser:"@@*"`
	Body *SendBody  `parser:"@@?"`
}

// SendBody is the { } part of a send.
type SendBody struct {
	Pos     lexer.Position
	Clauses []*SendClause `parser:"'{' @@*"`
	RBrace  lexer.Token   `parser:"@'}'"`
}

// A SendOpt is an option or clause of a send step.
type SendOpt struct {
	Pos     lexer.Position
	Via     *Ident  `parser:"  'via' @@"`
	Choices []*Text `parser:"| 'choices' @@ ( ',' @@ )*"`
	Attach  []*Text `parser:"| 'attach' @@ ( ',' @@ )*"`
	Subject *Text   `parser:"| 'subject' @@"`
}

// A SendClause is a line inside the { } of a send: an option, a branch, or a
// channel variant.
type SendClause struct {
	Pos     lexer.Position
	On      *On      `parser:"  @@"`
	Opt     *SendOpt `parser:"| @@"`
	Variant *Variant `parser:"| @@"`
}

// A Variant is the text one channel gets instead of the default:
//
//	whatsapp template "order_update" language "en" params "$contact.firstname"
//	email "Welcome aboard" subject "Hello"
type Variant struct {
	Pos      lexer.Position
	Channel  *Ident     `parser:"@@"`
	Text     *Text      `parser:"( @@"`
	Template *Text      `parser:"| 'template' @@"`
	Language *Text      `parser:"  ( 'language' @@ )?"`
	Params   []*Text    `parser:"  ( 'params' @@ ( ',' @@ )* )? )"`
	Opts     []*SendOpt `parser:"@@*"`
}

// An Ask sends a question and waits for a valid reply:
//
//	ask email "What is your email?" save contact.email retry 3 timeout 5m {
//	  on invalid { ... }
//	  on timeout { ... }
//	}
type Ask struct {
	Pos    lexer.Position
	Type   *Ident    `parser:"'ask' @@?"`
	Prompt *Text     `parser:"@@"`
	Head   []*AskOpt `parser:"@@*"`
	Body   *AskBody  `parser:"@@?"`
}

// AskBody is the { } part of an ask.
type AskBody struct {
	Pos     lexer.Position
	Clauses []*AskOpt   `parser:"'{' @@*"`
	RBrace  lexer.Token `parser:"@'}'"`
}

// An AskOpt is an option or clause of an ask step.
type AskOpt struct {
	Pos     lexer.Position
	Save    []*Target `parser:"  'save' @@ ( ',' @@ )*"`
	Retry   *Retry    `parser:"| @@"`
	Timeout *Dur      `parser:"| 'timeout' @@"`
	Choices []*Text   `parser:"| 'choices' @@ ( ',' @@ )*"`
	Min     *Num      `parser:"| 'min' @@"`
	Max     *Num      `parser:"| 'max' @@"`
	On      *On       `parser:"| @@"`
}

// A Retry re-asks after an invalid reply: retry 3 "Please pick one of the buttons"
type Retry struct {
	Pos    lexer.Position
	Count  *IntLit `parser:"'retry' @@"`
	Prompt *Text   `parser:"@@?"`
}

// A Target is where an answer is saved: contact.email, a variable name, or tag.
type Target struct {
	Pos lexer.Position
	Tag bool `parser:"  @'tag'"`
	Ref *Ref `parser:"| @@"`
}

// An Assign assigns the conversation:
//
//	assign user "maria@example.com"
//	assign team "Support" least open online only max open 5 timeout 1h { on timeout { ... } }
//	assign workspace round robin
type Assign struct {
	Pos    lexer.Position
	Kind   string       `parser:"'assign' @( 'user' | 'team' | 'workspace' )"`
	Target *Text        `parser:"@@?"`
	Head   []*AssignOpt `parser:"@@*"`
	Body   *AssignBody  `parser:"@@?"`
}

// AssignBody is the { } part of an assign.
type AssignBody struct {
	Pos     lexer.Position
	Clauses []*AssignOpt `parser:"'{' @@*"`
	RBrace  lexer.Token  `parser:"@'}'"`
}

// An AssignOpt is an option or clause of an assign step.
type AssignOpt struct {
	Pos     lexer.Position
	Logic   Words   `parser:"  @( 'round' 'robin' | 'least' 'open' )"`
	Online  bool    `parser:"| @'online' 'only'"`
	MaxOpen *IntLit `parser:"| 'max' 'open' @@"`
	Timeout *Dur    `parser:"| 'timeout' @@"`
	On      *On     `parser:"| @@"`
}

// Unassign removes the conversation's assignee: unassign
type Unassign struct {
	Pos      lexer.Position
	Unassign bool `parser:"@'unassign'"`
}

// An If branches on expr-lang conditions:
//
//	if CustomerType == "VIP" { ... } else if ... { ... } else { ... }
type If struct {
	Pos   lexer.Position
	Cond  *Expr   `parser:"'if' @@"`
	Then  *Block  `parser:"@@"`
	Elses []*Else `parser:"@@*"`
}

// An Else is an `else if cond { }` or a final `else { }`.
type Else struct {
	Pos   lexer.Position
	Cond  *Expr  `parser:"'else' ( 'if' @@ )?"`
	Block *Block `parser:"@@"`
}

// A TagStep adds or removes tags: tag add "Consent: Privacy"
type TagStep struct {
	Pos    lexer.Position
	Action string  `parser:"'tag' @( 'add' | 'remove' )"`
	Tags   []*Text `parser:"@@ ( ',' @@ )*"`
}

// A Set writes a contact field: set contact.city = "$City"
type Set struct {
	Pos   lexer.Position
	Field *Ref  `parser:"'set' @@"`
	Value *Text `parser:"'=' @@"`
}

// A Clear empties a contact field: clear contact.lifecycle
type Clear struct {
	Pos   lexer.Position
	Field *Ref `parser:"'clear' @@"`
}

// Open opens a conversation with the contact: open conversation
type Open struct {
	Pos  lexer.Position
	Open bool `parser:"@'open' 'conversation'"`
}

// A Close closes the conversation with an optional closing note:
//
//	close conversation category "Resolved" summary "Closed by the consent flow"
type Close struct {
	Pos  lexer.Position
	Opts []*CloseOpt `parser:"'close' 'conversation' @@*"`
}

// A CloseOpt is the category or the summary of a closing note.
type CloseOpt struct {
	Pos      lexer.Position
	Category *Text `parser:"  'category' @@"`
	Summary  *Text `parser:"| 'summary' @@"`
}

// A CommentStep adds an internal comment to the conversation: comment "VIP on the line"
type CommentStep struct {
	Pos  lexer.Position
	Text *Text `parser:"'comment' @@"`
}

// A Jump goes to a labelled step, at most Max times per run: jump to consent max 3
type Jump struct {
	Pos    lexer.Position
	Target *Ident  `parser:"'jump' 'to' @@"`
	Max    *IntLit `parser:"( 'max' @@ )?"`
}

// A Wait pauses the run: wait 1h
type Wait struct {
	Pos lexer.Position
	For *Dur `parser:"'wait' @@"`
}

// A Start starts another flow (one with a manual trigger) for the contact:
// start "Collect email"
type Start struct {
	Pos  lexer.Position
	Flow *Text `parser:"'start' @@"`
}

// A During checks opening hours, the workspace's business hours or a date
// range:
//
//	during mon-fri 09:00-18:00, sat 10:00-14:00 in "Asia/Kuala_Lumpur" {
//	  on outside { send "We are closed" }
//	}
//	during business hours { on outside { send "We are closed" } }
//	during 2026-12-24 .. 2026-12-26 18:00
type During struct {
	Pos      lexer.Position
	Range    *DateRange  `parser:"'during' ( @@"`
	Business bool        `parser:"| @'business' 'hours'"`
	Hours    []*Hours    `parser:"| @@ ( ',' @@ )* )"`
	Zone     *Text       `parser:"( 'in' @@ )?"`
	Body     *DuringBody `parser:"@@?"`
}

// DuringBody is the { } part of a during step; it holds on inside / on outside.
type DuringBody struct {
	Pos     lexer.Position
	Clauses []*On       `parser:"'{' @@*"`
	RBrace  lexer.Token `parser:"@'}'"`
}

// Hours are opening hours on some weekdays: mon-fri 09:00-18:00
type Hours struct {
	Pos      lexer.Position
	FirstDay *Ident `parser:"@@"`
	LastDay  *Ident `parser:"( \"-\" @@ )?"`
	From     *Lit   `parser:"@@"`
	To       *Lit   `parser:"\"-\" @@"`
}

// A DateRange is a span of dates, each with an optional time:
// 2026-12-24 18:00 .. 2026-12-26
type DateRange struct {
	Pos       lexer.Position
	StartDate string `parser:"@Date"`
	StartTime string `parser:"@Time?"`
	EndDate   string `parser:"'..' @Date"`
	EndTime   string `parser:"@Time?"`
}

// An HTTP step calls an external API:
//
//	http GET "https://crm.example.com/customers?email=$contact.email" timeout 10s {
//	  header "Authorization": "Bearer secret"
//	  map "$.customerType" to CustomerType
//	  status to CrmStatus
//	  on failure { ... }
//	}
type HTTP struct {
	Pos    lexer.Position
	Method *Ident     `parser:"'http' @@"`
	URL    *Text      `parser:"@@"`
	Head   []*HTTPOpt `parser:"@@*"`
	Body   *HTTPBody  `parser:"@@?"`
}

// HTTPBody is the { } part of an http step.
type HTTPBody struct {
	Pos     lexer.Position
	Clauses []*HTTPOpt  `parser:"'{' @@*"`
	RBrace  lexer.Token `parser:"@'}'"`
}

// An HTTPOpt is an option or clause of an http step.
type HTTPOpt struct {
	Pos     lexer.Position
	Timeout *Dur        `parser:"  'timeout' @@"`
	Header  *HTTPHeader `parser:"| @@"`
	Body    *Text       `parser:"| 'body' @@"`
	Map     *Mapping    `parser:"| @@"`
	Status  *Ident      `parser:"| 'status' 'to' @@"`
	On      *On         `parser:"| @@"`
}

// A HTTPHeader is one request header: header "Content-Type": "application/json"
type HTTPHeader struct {
	Pos   lexer.Position
	Name  *Text `parser:"'header' @@"`
	Value *Text `parser:"':' @@"`
}

// A Mapping copies a value of the JSON response into a variable:
// map "$.data.contacts[1].firstName" to FirstName
type Mapping struct {
	Pos  lexer.Position
	Path *Text  `parser:"'map' @@"`
	Var  *Ident `parser:"'to' @@"`
}

// A Sheet appends a row to a spreadsheet:
//
//	sheet "1AbC...xyz" tab "Leads" {
//	  "Name": "$contact.name"
//	  on failure { ... }
//	}
type Sheet struct {
	Pos  lexer.Position
	Doc  *Text      `parser:"'sheet' @@"`
	Tab  *Text      `parser:"( 'tab' @@ )?"`
	Body *SheetBody `parser:"@@"`
}

// SheetBody holds the columns of a sheet step and its failure branch.
type SheetBody struct {
	Pos     lexer.Position
	Clauses []*SheetOpt `parser:"'{' @@*"`
	RBrace  lexer.Token `parser:"@'}'"`
}

// A SheetOpt is a column ("Name": "$contact.name") or a branch.
type SheetOpt struct {
	Pos    lexer.Position
	Column *Text `parser:"  @@"`
	Value  *Text `parser:"  ':' @@"`
	On     *On   `parser:"| @@"`
}

// An AI step hands the conversation to AI:
//
//	ai reply "Answer questions about pricing" save Budget idle 30m { on human { ... } }
//	ai handoff "Sales Assistant"
type AI struct {
	Pos  lexer.Position
	Mode string   `parser:"'ai' @( 'reply' | 'handoff' )"`
	Text *Text    `parser:"@@"`
	Head []*AIOpt `parser:"@@*"`
	Body *AIBody  `parser:"@@?"`
}

// AIBody is the { } part of an ai step.
type AIBody struct {
	Pos     lexer.Position
	Clauses []*AIOpt    `parser:"'{' @@*"`
	RBrace  lexer.Token `parser:"@'}'"`
}

// An AIOpt is an option or clause of an ai step.
type AIOpt struct {
	Pos  lexer.Position
	Save []*Ident `parser:"  'save' @@ ( ',' @@ )*"`
	Idle *Dur     `parser:"| 'idle' @@"`
	On   *On      `parser:"| @@"`
}

// Stop ends the run: stop
type Stop struct {
	Pos  lexer.Position
	Stop bool `parser:"@'stop'"`
}

// An Expr is an expr-lang expression, kept as written.
type Expr struct {
	Pos lexer.Position
	Src string `parser:"@Expr"`
}

// An Ident is a name with its position.
type Ident struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}

// A Label names a step: the token is `name:`. Its position is its Stmt's.
type Label struct {
	Name string
}

// Capture implements participle.Capture, dropping the colon.
func (l *Label) Capture(values []string) error {
	l.Name = strings.TrimSuffix(values[0], ":")
	return nil
}

// A Ref is a dotted name: contact.email, CustomerType
type Ref struct {
	Pos   lexer.Position
	Parts []string `parser:"@Ident ( '.' @Ident )*"`
}

func (r *Ref) String() string { return strings.Join(r.Parts, ".") }

// An IntLit is a whole number with its position.
type IntLit struct {
	Pos   lexer.Position
	Value int `parser:"@Int"`
}

// A Num is a possibly negative, possibly fractional number: -2.5
type Num struct {
	Pos   lexer.Position
	Neg   bool   `parser:"@\"-\"?"`
	Value string `parser:"@( Int | Number )"`
}

// A Lit is a token kept as written, such as a time of day.
type Lit struct {
	Pos   lexer.Position
	Value string `parser:"@Time"`
}

// A Dur is a duration as written, with its position: 5m
type Dur struct {
	Pos lexer.Position
	Raw string `parser:"@Duration"`
}

// Value is the length of the duration; the error reports an overflow.
func (d *Dur) Value() (Duration, error) { return ParseDuration(d.Raw) }

// Words is a keyword phrase such as "round robin", captured with its spaces.
type Words string

// Capture implements participle.Capture.
func (w *Words) Capture(values []string) error {
	*w = Words(strings.Join(values, " "))
	return nil
}
