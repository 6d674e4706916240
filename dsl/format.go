package dsl

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Format prints a parsed flow in the canonical layout: two-space indentation,
// one step per line, options on the step's first line in the order written,
// clauses and branches inside braces, at most one blank line kept between
// steps, and every comment kept. Format(Parse(Format(x))) == Format(x).
func Format(f *File) []byte {
	p := &printer{
		src:      strings.Split(string(f.Src), "\n"),
		comments: f.Comments,
		lastLine: 0,
	}
	p.file(f)
	return p.buf.Bytes()
}

// printer writes one line at a time. Comments are flushed in source order:
// before the element that follows them, or at the end of the line they were
// on when they trail code.
type printer struct {
	buf      bytes.Buffer
	line     []string // items of the line being built
	indent   int
	src      []string
	comments []Comment
	next     int       // index of the first comment not yet printed
	pending  []Comment // comments met in the middle of a line
	lastLine int       // last source line printed
	first    bool      // at the start of a block: no blank line before
}

// at announces an element from pos: comments before it are printed first, on
// their own lines or, in the middle of a line, after it.
func (p *printer) at(pos lexer.Position) {
	for p.next < len(p.comments) && p.comments[p.next].Pos.Offset < pos.Offset {
		c := p.comments[p.next]
		p.next++
		if len(p.line) > 0 {
			p.pending = append(p.pending, c)
			continue
		}
		p.blankBefore(c.Pos.Line)
		p.buf.WriteString(strings.Repeat("  ", p.indent) + c.Text + "\n")
		p.lastLine = c.Pos.Line
		p.first = false
	}
	if len(p.line) == 0 {
		p.blankBefore(pos.Line)
		p.first = false
	}
	if pos.Line > p.lastLine {
		p.lastLine = pos.Line
	}
}

// blankBefore writes an empty line if the source had one between the last line
// printed and line.
func (p *printer) blankBefore(line int) {
	if p.first || p.buf.Len() == 0 {
		return
	}
	for l := p.lastLine + 1; l < line && l <= len(p.src); l++ {
		if strings.TrimSpace(p.src[l-1]) == "" {
			p.buf.WriteString("\n")
			return
		}
	}
}

// word adds an item to the current line.
func (p *printer) word(s string) { p.line = append(p.line, s) }

// comma attaches a comma to the last item.
func (p *printer) comma() { p.line[len(p.line)-1] += "," }

// text adds a string literal and notes the source lines it covers.
func (p *printer) text(t *Text) {
	p.at(t.Pos)
	p.word(t.Raw)
	if end := t.Pos.Line + strings.Count(t.Raw, "\n"); end > p.lastLine {
		p.lastLine = end
	}
}

func (p *printer) texts(ts []*Text) {
	for i, t := range ts {
		if i > 0 {
			p.comma()
		}
		p.text(t)
	}
}

// endLine finishes the current line, with any comments that trail it.
func (p *printer) endLine() {
	if len(p.line) == 0 {
		return
	}
	for p.next < len(p.comments) && p.comments[p.next].Pos.Line <= p.lastLine {
		p.pending = append(p.pending, p.comments[p.next])
		p.next++
	}
	p.buf.WriteString(strings.Repeat("  ", p.indent) + strings.Join(p.line, " "))
	// Comments after the first go on lines of their own, which are inside the
	// block when this line opens one.
	rest := p.indent
	if p.line[len(p.line)-1] == "{" {
		rest++
	}
	for i, c := range p.pending {
		if i == 0 {
			p.buf.WriteString(" " + c.Text + "\n")
		} else {
			p.buf.WriteString(strings.Repeat("  ", rest) + c.Text + "\n")
		}
	}
	if len(p.pending) == 0 {
		p.buf.WriteString("\n")
	}
	p.line, p.pending = nil, nil
}

// open ends the line with "{" and indents what follows.
func (p *printer) open() {
	p.word("{")
	p.endLine()
	p.indent++
	p.first = true
}

// close prints the comments left inside a block and its closing brace.
func (p *printer) close(rbrace lexer.Token) {
	p.at(rbrace.Pos)
	p.indent--
	p.first = false
	p.word("}")
}

// block prints { stmts } where the opening brace ends the current line; the
// closing brace is left on the line being built so that `else` can follow it.
func (p *printer) block(b *Block) {
	if len(b.Stmts) == 0 && !p.commentsBefore(b.RBrace.Pos) {
		p.word("{}")
		return
	}
	p.open()
	for _, st := range b.Stmts {
		p.stmt(st)
	}
	p.close(b.RBrace)
}

func (p *printer) commentsBefore(pos lexer.Position) bool {
	return p.next < len(p.comments) && p.comments[p.next].Pos.Offset < pos.Offset
}

func (p *printer) file(f *File) {
	p.at(f.Pos)
	p.word("flow")
	p.text(f.Name)
	p.endLine()
	for _, h := range f.Header {
		p.header(h)
	}
	for _, st := range f.Steps {
		p.stmt(st)
	}
	// comments after the last step
	for ; p.next < len(p.comments); p.next++ {
		c := p.comments[p.next]
		p.blankBefore(c.Pos.Line)
		p.buf.WriteString(c.Text + "\n")
		p.lastLine = c.Pos.Line
	}
}

func (p *printer) header(h Header) {
	switch h := h.(type) {
	case *Description:
		p.at(h.Pos)
		p.word("description")
		p.text(h.Text)
	case *Trigger:
		p.trigger(h)
	case *Group:
		p.at(h.Pos)
		p.word("group")
		p.text(h.Name)
		if h.Priority != nil {
			p.word("priority")
			p.intLit(h.Priority)
		}
	case *Exit:
		p.at(h.Pos)
		p.word("exit")
		p.word("on")
		for i, c := range h.Conds {
			if i > 0 {
				p.comma()
			}
			p.at(c.Pos)
			p.word(string(c.Kind))
		}
	case *FieldDecl:
		p.at(h.Pos)
		p.word("field")
		p.ident(h.Name)
		p.ident(h.Type)
	case *Draft:
		p.at(h.Pos)
		p.word("draft")
	}
	p.endLine()
}

func (p *printer) trigger(t *Trigger) {
	p.at(t.Pos)
	p.word("trigger")
	switch ev := t.Event.(type) {
	case *ConversationEvent:
		p.word("conversation")
		p.word(ev.Action)
		if len(ev.Sources) > 0 {
			p.word("by")
			p.idents(ev.Sources)
		}
	case *TagEvent:
		p.word("tag")
		p.word(ev.Action)
		p.texts(ev.Tags)
	case *FieldEvent:
		p.word("field")
		p.word("changed")
		for i, r := range ev.Fields {
			if i > 0 {
				p.comma()
			}
			p.ref(r)
		}
	case *WebhookEvent:
		p.word("webhook")
		if ev.Identify != nil {
			p.word("identify")
			p.ident(ev.Identify)
			p.text(ev.Path)
		}
		if ev.Create {
			p.word("create")
		}
	case *ManualEvent:
		p.word("manual")
	case *ShortcutEvent:
		p.word("shortcut")
		p.text(ev.Name)
		p.endLine()
		p.indent++
		for _, ff := range ev.Form {
			p.at(ff.Pos)
			p.word("form")
			p.ident(ff.Name)
			p.ident(ff.Type)
			if ff.Label != nil {
				p.text(ff.Label)
			}
			p.endLine()
		}
		p.indent--
	case *AdEvent:
		p.word("ad")
		p.word("click")
		if ev.Platform != nil {
			p.word("from")
			p.ident(ev.Platform)
		}
	}
	p.endLine()
	p.indent++
	for _, o := range t.Opts {
		p.at(o.Pos)
		if o.When != nil {
			p.word("when")
			p.expr(o.When)
		} else {
			p.word("once per contact")
		}
		p.endLine()
	}
	p.indent--
}

func (p *printer) stmt(st *Stmt) {
	p.at(st.Pos)
	if st.Label != nil {
		p.word(st.Label.Name + ":")
	}
	p.step(st.Step)
	p.endLine()
}

func (p *printer) step(s Step) {
	switch s := s.(type) {
	case *Send:
		p.word("send")
		p.text(s.Text)
		p.sendOpts(s.Head)
		if s.Body != nil {
			p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
			for _, c := range s.Body.Clauses {
				p.at(c.Pos)
				switch {
				case c.On != nil:
					p.on(c.On)
				case c.Opt != nil:
					p.sendOpts([]*SendOpt{c.Opt})
				case c.Variant != nil:
					p.variant(c.Variant)
				}
				p.endLine()
			}
			p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
		}
	case *Ask:
		p.word("ask")
		if s.Type != nil {
			p.ident(s.Type)
		}
		p.text(s.Prompt)
		for _, o := range s.Head {
			p.askOpt(o)
		}
		if s.Body != nil {
			p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
			for _, o := range s.Body.Clauses {
				p.askOpt(o)
				p.endLine()
			}
			p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
		}
	case *Assign:
		p.word("assign")
		p.word(s.Kind)
		if s.Target != nil {
			p.text(s.Target)
		}
		for _, o := range s.Head {
			p.assignOpt(o)
		}
		if s.Body != nil {
			p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
			for _, o := range s.Body.Clauses {
				p.assignOpt(o)
				p.endLine()
			}
			p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
		}
	case *Unassign:
		p.word("unassign")
	case *If:
		p.word("if")
		p.expr(s.Cond)
		p.block(s.Then)
		for _, e := range s.Elses {
			p.at(e.Pos)
			p.word("else")
			if e.Cond != nil {
				p.word("if")
				p.expr(e.Cond)
			}
			p.block(e.Block)
		}
	case *TagStep:
		p.word("tag")
		p.word(s.Action)
		p.texts(s.Tags)
	case *Set:
		p.word("set")
		p.ref(s.Field)
		p.word("=")
		p.text(s.Value)
	case *Clear:
		p.word("clear")
		p.ref(s.Field)
	case *Open:
		p.word("open conversation")
	case *Close:
		p.word("close conversation")
		for _, o := range s.Opts {
			p.at(o.Pos)
			if o.Category != nil {
				p.word("category")
				p.text(o.Category)
			} else {
				p.word("summary")
				p.text(o.Summary)
			}
		}
	case *CommentStep:
		p.word("comment")
		p.text(s.Text)
	case *Jump:
		p.word("jump to")
		p.ident(s.Target)
		if s.Max != nil {
			p.word("max")
			p.intLit(s.Max)
		}
	case *Wait:
		p.word("wait")
		p.dur(s.For)
	case *Start:
		p.word("start")
		p.text(s.Flow)
	case *During:
		p.during(s)
	case *HTTP:
		p.word("http")
		p.ident(s.Method)
		p.text(s.URL)
		for _, o := range s.Head {
			p.httpOpt(o)
		}
		if s.Body != nil {
			p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
			for _, o := range s.Body.Clauses {
				p.httpOpt(o)
				p.endLine()
			}
			p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
		}
	case *Sheet:
		p.word("sheet")
		p.text(s.Doc)
		if s.Tab != nil {
			p.word("tab")
			p.text(s.Tab)
		}
		p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
		for _, o := range s.Body.Clauses {
			p.at(o.Pos)
			if o.On != nil {
				p.on(o.On)
			} else {
				p.text(o.Column)
				p.line[len(p.line)-1] += ":"
				p.text(o.Value)
			}
			p.endLine()
		}
		p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
	case *AI:
		p.word("ai")
		p.word(s.Mode)
		p.text(s.Text)
		for _, o := range s.Head {
			p.aiOpt(o)
		}
		if s.Body != nil {
			p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
			for _, o := range s.Body.Clauses {
				p.aiOpt(o)
				p.endLine()
			}
			p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
		}
	case *Stop:
		p.word("stop")
	}
}

// bodyOpen and bodyClose print the braces of a step's body; an empty body with
// no comments inside prints as {}.
func (p *printer) bodyOpen(empty bool, rbrace lexer.Token) {
	if empty && !p.commentsBefore(rbrace.Pos) {
		p.word("{}")
		return
	}
	p.open()
}

func (p *printer) bodyClose(empty bool, rbrace lexer.Token) {
	if empty && p.line != nil && p.line[len(p.line)-1] == "{}" {
		return
	}
	p.close(rbrace)
}

func (p *printer) on(on *On) {
	p.at(on.Pos)
	p.word("on")
	p.ident(on.Name)
	p.block(on.Block)
}

func (p *printer) sendOpts(opts []*SendOpt) {
	for _, o := range opts {
		p.at(o.Pos)
		switch {
		case o.Via != nil:
			p.word("via")
			p.ident(o.Via)
		case o.Choices != nil:
			p.word("choices")
			p.texts(o.Choices)
		case o.Attach != nil:
			p.word("attach")
			p.texts(o.Attach)
		case o.Subject != nil:
			p.word("subject")
			p.text(o.Subject)
		}
	}
}

func (p *printer) variant(v *Variant) {
	p.ident(v.Channel)
	if v.Text != nil {
		p.text(v.Text)
	} else {
		p.word("template")
		p.text(v.Template)
		if v.Language != nil {
			p.word("language")
			p.text(v.Language)
		}
		if len(v.Params) > 0 {
			p.word("params")
			p.texts(v.Params)
		}
	}
	p.sendOpts(v.Opts)
}

func (p *printer) askOpt(o *AskOpt) {
	p.at(o.Pos)
	switch {
	case o.Save != nil:
		p.word("save")
		for i, t := range o.Save {
			if i > 0 {
				p.comma()
			}
			if t.Tag {
				p.word("tag")
			} else {
				p.ref(t.Ref)
			}
		}
	case o.Retry != nil:
		p.word("retry")
		p.intLit(o.Retry.Count)
		if o.Retry.Prompt != nil {
			p.text(o.Retry.Prompt)
		}
	case o.Timeout != nil:
		p.word("timeout")
		p.dur(o.Timeout)
	case o.Choices != nil:
		p.word("choices")
		p.texts(o.Choices)
	case o.Min != nil:
		p.word("min")
		p.num(o.Min)
	case o.Max != nil:
		p.word("max")
		p.num(o.Max)
	case o.On != nil:
		p.on(o.On)
	}
}

func (p *printer) assignOpt(o *AssignOpt) {
	p.at(o.Pos)
	switch {
	case o.Logic != "":
		p.word(string(o.Logic))
	case o.Online:
		p.word("online only")
	case o.MaxOpen != nil:
		p.word("max open")
		p.intLit(o.MaxOpen)
	case o.Timeout != nil:
		p.word("timeout")
		p.dur(o.Timeout)
	case o.On != nil:
		p.on(o.On)
	}
}

func (p *printer) httpOpt(o *HTTPOpt) {
	p.at(o.Pos)
	switch {
	case o.Timeout != nil:
		p.word("timeout")
		p.dur(o.Timeout)
	case o.Header != nil:
		p.word("header")
		p.text(o.Header.Name)
		p.line[len(p.line)-1] += ":"
		p.text(o.Header.Value)
	case o.Body != nil:
		p.word("body")
		p.text(o.Body)
	case o.Map != nil:
		p.word("map")
		p.text(o.Map.Path)
		p.word("to")
		p.ident(o.Map.Var)
	case o.Status != nil:
		p.word("status to")
		p.ident(o.Status)
	case o.On != nil:
		p.on(o.On)
	}
}

func (p *printer) aiOpt(o *AIOpt) {
	p.at(o.Pos)
	switch {
	case o.Save != nil:
		p.word("save")
		p.idents(o.Save)
	case o.Idle != nil:
		p.word("idle")
		p.dur(o.Idle)
	case o.On != nil:
		p.on(o.On)
	}
}

func (p *printer) during(s *During) {
	p.word("during")
	if s.Business {
		p.word("business")
		p.word("hours")
	}
	if r := s.Range; r != nil {
		p.at(r.Pos)
		p.word(r.StartDate)
		if r.StartTime != "" {
			p.word(r.StartTime)
		}
		p.word("..")
		p.word(r.EndDate)
		if r.EndTime != "" {
			p.word(r.EndTime)
		}
	}
	for i, h := range s.Hours {
		if i > 0 {
			p.comma()
		}
		p.at(h.Pos)
		days := h.FirstDay.Name
		if h.LastDay != nil {
			days += "-" + h.LastDay.Name
		}
		p.word(days)
		p.word(h.From.Value + "-" + h.To.Value)
	}
	if s.Zone != nil {
		p.word("in")
		p.text(s.Zone)
	}
	if s.Body != nil {
		p.bodyOpen(s.Body.Clauses == nil, s.Body.RBrace)
		for _, on := range s.Body.Clauses {
			p.on(on)
			p.endLine()
		}
		p.bodyClose(s.Body.Clauses == nil, s.Body.RBrace)
	}
}

func (p *printer) expr(e *Expr) {
	p.at(e.Pos)
	p.word(e.Src)
	if end := e.Pos.Line + strings.Count(e.Src, "\n"); end > p.lastLine {
		p.lastLine = end
	}
}

func (p *printer) ident(id *Ident) {
	p.at(id.Pos)
	p.word(id.Name)
}

func (p *printer) idents(ids []*Ident) {
	for i, id := range ids {
		if i > 0 {
			p.comma()
		}
		p.ident(id)
	}
}

func (p *printer) ref(r *Ref) {
	p.at(r.Pos)
	p.word(r.String())
}

func (p *printer) intLit(n *IntLit) {
	p.at(n.Pos)
	p.word(strconv.Itoa(n.Value))
}

func (p *printer) num(n *Num) {
	p.at(n.Pos)
	if n.Neg {
		p.word("-" + n.Value)
	} else {
		p.word(n.Value)
	}
}

func (p *printer) dur(d *Dur) {
	p.at(d.Pos)
	p.word(d.Raw)
}
