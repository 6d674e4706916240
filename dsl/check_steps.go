package dsl

import (
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
)

// ChannelNames are the channels flowd knows by name: what a send can
// target with via or a variant, and what the workspace's channels are.
func ChannelNames() []string { return append([]string(nil), channels...) }

// Channels a send can target with via or a variant.
var channels = []string{"email", "facebook", "instagram", "line", "messenger", "sms",
	"telegram", "tiktok", "viber", "webchat", "wechat", "whatsapp", "custom"}

// branchNames are the branches each step offers.
var branchNames = map[string][]string{
	"send":   {"failure"},
	"ask":    {"invalid", "timeout", "failure"},
	"assign": {"timeout"},
	"during": {"inside", "outside"},
	"http":   {"failure"},
	"sheet":  {"failure"},
	"ai":     {"human", "unable", "idle", "failure"},
}

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func (c *checker) stmts(stmts []*Stmt) {
	for _, st := range stmts {
		c.step(st)
	}
}

func (c *checker) step(st *Stmt) {
	switch s := st.Step.(type) {
	case *Send:
		c.send(s)
	case *Ask:
		c.ask(s)
	case *Assign:
		c.assign(s)
	case *If:
		c.ifStep(s)
	case *TagStep:
		for _, t := range s.Tags {
			c.tagName(t)
		}
	case *Set:
		c.contactFieldRef(s.Field, true)
		c.text(s.Value)
		c.limit(s.Value, UseField)
	case *Clear:
		c.contactFieldRef(s.Field, true)
	case *Close:
		var cat, sum bool
		for _, o := range s.Opts {
			if o.Category != nil {
				c.dup(&cat, o.Pos, "category")
				c.text(o.Category)
				c.limit(o.Category, UseCategory)
			}
			if o.Summary != nil {
				c.dup(&sum, o.Pos, "summary")
				c.text(o.Summary)
				c.limit(o.Summary, UseSummary)
			}
		}
	case *CommentStep:
		c.nonEmpty(s.Text, "comment")
		if n := textLen(s.Text); n > MaxCommentLen {
			c.errorf(s.Text.Pos, "comment is %d characters; the limit is %d", n, MaxCommentLen)
		}
		c.text(s.Text)
	case *Jump:
		c.jump(s)
	case *Wait:
		c.duration(s.For, "wait", time.Second, maxWait)
	case *Start:
		c.nonEmpty(s.Flow, "flow name")
		c.noInterpolation(s.Flow, "a flow name")
		c.limit(s.Flow, UseFlowName)
	case *During:
		c.during(s)
	case *HTTP:
		c.http(s)
	case *Sheet:
		c.sheet(s)
	case *AI:
		c.ai(s)
	}
	for _, on := range branchesOf(st.Step) {
		c.stmts(on.Block.Stmts)
	}
	if i, ok := st.Step.(*If); ok {
		c.stmts(i.Then.Stmts)
		for _, e := range i.Elses {
			c.stmts(e.Block.Stmts)
		}
	}
}

// dup reports an option given twice; seen tracks whether it was given before.
func (c *checker) dup(seen *bool, pos lexer.Position, what string) {
	if *seen {
		c.errorf(pos, "%s given twice", what)
	}
	*seen = true
}

func (c *checker) nonEmpty(t *Text, what string) {
	if strings.TrimSpace(t.Value()) == "" {
		c.errorf(t.Pos, "%s is empty", what)
	}
}

// branches checks the names of a step's branches: known, and each at most once.
func (c *checker) branches(step string, s Step) map[string]*On {
	allowed := branchNames[step]
	got := map[string]*On{}
	for _, on := range branchesOf(s) {
		name := on.Name.Name
		if !contains(allowed, name) {
			d := c.errorf(on.Name.Pos, "%s has no branch %q", step, name)
			d.Detail = hintOr(c.didYouMean(name, allowed), step+" branches are "+listOf(allowed))
			continue
		}
		if got[name] != nil {
			c.errorf(on.Name.Pos, "branch %q given twice", name)
			continue
		}
		got[name] = on
	}
	return got
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (c *checker) send(s *Send) {
	c.message(s.Text, "message")
	c.sendOpts(s.sendOpts(), true)
	seen := map[string]bool{}
	for _, v := range s.variants() {
		ch := v.Channel.Name
		if !contains(channels, ch) {
			c.errorf(v.Channel.Pos, "unknown channel %q", ch).Detail =
				hintOr(c.didYouMean(ch, channels), "channels are "+listOf(channels))
		} else if seen[ch] {
			c.errorf(v.Channel.Pos, "channel %q has two variants", ch)
		}
		seen[ch] = true
		if v.Text != nil {
			c.message(v.Text, "message")
		} else {
			c.nonEmpty(v.Template, "template name")
			if ch != "whatsapp" && ch != "messenger" && ch != "facebook" {
				c.errorf(v.Pos, "only whatsapp, messenger and facebook variants can send a template")
			}
			if v.Language != nil {
				c.text(v.Language)
			}
			for _, p := range v.Params {
				c.text(p)
				c.limit(p, UseParam)
			}
		}
		c.sendOpts(v.Opts, false)
		for _, o := range v.Opts {
			if o.Subject != nil && ch != "email" {
				c.errorf(o.Pos, "only the email variant has a subject")
			}
		}
	}
	c.branches("send", s)
}

// message checks the text of a message: not empty, within the length limit.
func (c *checker) message(t *Text, what string) {
	c.nonEmpty(t, what)
	if n := textLen(t); n > MaxTextLen {
		c.errorf(t.Pos, "%s is %d characters; the limit is %d", what, n, MaxTextLen)
	}
	c.text(t)
}

func (c *checker) sendOpts(opts []*SendOpt, top bool) {
	var via, choices, attach, subject bool
	for _, o := range opts {
		switch {
		case o.Via != nil:
			c.dup(&via, o.Pos, "via")
			if !top {
				c.errorf(o.Pos, "a channel variant cannot choose another channel")
			} else if !contains(channels, o.Via.Name) {
				c.errorf(o.Via.Pos, "unknown channel %q", o.Via.Name).Detail =
					hintOr(c.didYouMean(o.Via.Name, channels), "channels are "+listOf(channels))
			}
		case o.Choices != nil:
			c.dup(&choices, o.Pos, "choices")
			c.choices(o.Pos, o.Choices)
		case o.Attach != nil:
			c.dup(&attach, o.Pos, "attach")
			if len(o.Attach) > maxAttachments {
				c.errorf(o.Attach[maxAttachments].Pos, "%d attachments; the limit is %d", len(o.Attach), maxAttachments)
			}
			for _, a := range o.Attach {
				c.nonEmpty(a, "attachment")
				c.text(a)
				c.limit(a, UseAttachment)
			}
		case o.Subject != nil:
			c.dup(&subject, o.Pos, "subject")
			c.text(o.Subject)
			c.limit(o.Subject, UseSubject)
		}
	}
}

// choices checks quick replies or multiple-choice options.
func (c *checker) choices(pos lexer.Position, choices []*Text) {
	if len(choices) > maxChoices {
		c.errorf(choices[maxChoices].Pos, "%d choices; the limit is %d", len(choices), maxChoices)
	}
	seen := map[string]bool{}
	for _, ch := range choices {
		v := ch.Value()
		switch {
		case strings.TrimSpace(v) == "":
			c.errorf(ch.Pos, "choice is empty")
		case utf8Len(v) > MaxChoiceLen:
			c.errorf(ch.Pos, "choice %q is %d characters; the limit is %d", v, utf8Len(v), MaxChoiceLen)
		}
		if seen[strings.ToLower(v)] {
			c.errorf(ch.Pos, "choice %q listed twice", v)
		}
		seen[strings.ToLower(v)] = true
		c.text(ch)
	}
}

func (c *checker) ask(s *Ask) {
	typ := askType(s)
	if _, ok := askTypes[typ]; !ok {
		c.errorf(s.Type.Pos, "unknown question type %q", typ).Detail =
			hintOr(c.didYouMean(typ, sortedKeys(askTypes)), "types are "+listOf(sortedKeys(askTypes)))
	}
	c.message(s.Prompt, "question")
	var retry, timeout, choices, min, max, save bool
	var minV, maxV *float64
	var hasTimeout, hasChoices bool
	for _, o := range s.allOpts() {
		switch {
		case o.Save != nil:
			c.dup(&save, o.Pos, "save")
			c.saveTargets(typ, o.Save)
		case o.Retry != nil:
			c.dup(&retry, o.Pos, "retry")
			if n := o.Retry.Count.Value; n < 1 || n > maxRetries {
				c.errorf(o.Retry.Count.Pos, "retry takes 1 to %d extra attempts, not %d", maxRetries, n)
			}
			if o.Retry.Prompt != nil {
				c.message(o.Retry.Prompt, "retry prompt")
			}
		case o.Timeout != nil:
			c.dup(&timeout, o.Pos, "timeout")
			c.duration(o.Timeout, "reply timeout", minAskTimeout, maxWait)
			hasTimeout = true
		case o.Choices != nil:
			c.dup(&choices, o.Pos, "choices")
			hasChoices = true
			if typ != "choice" {
				c.errorf(o.Pos, "only a choice question has choices").Detail = `write: ask choice "..." choices "A", "B"`
			}
			c.choices(o.Pos, o.Choices)
		case o.Min != nil:
			c.dup(&min, o.Pos, "min")
			minV = c.number(o.Min, typ)
		case o.Max != nil:
			c.dup(&max, o.Pos, "max")
			maxV = c.number(o.Max, typ)
		}
	}
	if typ == "choice" && !hasChoices {
		c.errorf(s.Pos, "a choice question needs choices").Detail = `add: choices "Yes", "No"`
	}
	if minV != nil && maxV != nil && *minV > *maxV {
		c.errorf(s.Pos, "min %v is greater than max %v", *minV, *maxV)
	}
	br := c.branches("ask", s)
	if on := br["timeout"]; on != nil && !hasTimeout {
		c.errorf(on.Name.Pos, "on timeout needs a reply timeout").Detail = "add an option such as: timeout 5m"
	}
}

func (c *checker) number(n *Num, typ string) *float64 {
	if typ != "number" {
		c.errorf(n.Pos, "only a number question has min and max")
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		c.errorf(n.Pos, "malformed number %q", n.Value)
		return nil
	}
	if n.Neg {
		v = -v
	}
	return &v
}

// saveTargets checks where an answer is saved: a contact field of a fitting
// type, a variable, or (for choices) a tag.
func (c *checker) saveTargets(typ string, targets []*Target) {
	for _, t := range targets {
		if t.Tag {
			if typ != "choice" {
				c.errorf(t.Pos, "only a choice question can save its answer as a tag")
			}
			continue
		}
		ref := t.Ref
		if len(ref.Parts) == 1 {
			continue // a variable, defined by collect
		}
		if ref.Parts[0] != "contact" {
			c.errorf(ref.Pos, "cannot save to %s", ref).Detail = "save to a contact field (contact.email), a variable (Email) or tag"
			continue
		}
		if !c.contactFieldRef(ref, true) {
			continue
		}
		field := ref.Parts[1]
		kind := c.custom[field]
		if k, ok := standardFieldKinds[field]; ok {
			kind = k
		}
		if !answerFits(typ, kind) {
			c.errorf(ref.Pos, "%s answer does not fit %s, %s field", article(typ), ref, article(kind)).Detail = "ask a matching question type, or save to a text field or a variable"
		}
	}
}

// answerFits reports whether an answer of question type typ can be stored in a
// field of the given kind ("" for a standard text field).
func answerFits(typ, kind string) bool {
	switch kind {
	case "", "text", "list":
		return true
	case "number":
		return typ == "number" || typ == "rating"
	case "checkbox":
		return false
	default: // date, email, phone, url: the question must validate the same kind
		return typ == kind
	}
}

// contactFieldRef checks a reference to a contact field; writable requires one
// a step may change. It reports whether the reference is good.
func (c *checker) contactFieldRef(ref *Ref, writable bool) bool {
	if ref.Parts[0] != "contact" || len(ref.Parts) != 2 {
		c.errorf(ref.Pos, "%s is not a contact field", ref).Detail = "contact fields are written contact.NAME"
		return false
	}
	name := ref.Parts[1]
	_, std := ContactFields[name]
	_, cus := c.custom[name]
	switch {
	case !std && !cus:
		d := c.errorf(ref.Pos, "unknown contact field %q", name)
		d.Detail = hintOr(c.didYouMean(name, sortedKeys(c.scope.ns["contact"])), "declare custom fields in the header: field "+name+" text")
		return false
	case writable && std && !writableContactFields[name]:
		d := c.errorf(ref.Pos, "contact.%s cannot be changed by a flow", name)
		if name == "tags" {
			d.Detail = "use tag add or tag remove"
		}
		return false
	}
	return true
}

func (c *checker) assign(s *Assign) {
	switch s.Kind {
	case "user", "team":
		if s.Target == nil {
			c.errorf(s.Pos, "assign %s needs a name", s.Kind).Detail = `write: assign ` + s.Kind + ` "..."`
		} else {
			c.nonEmpty(s.Target, s.Kind+" name")
			c.text(s.Target)
			c.limit(s.Target, UseTarget)
		}
	case "workspace":
		if s.Target != nil {
			c.errorf(s.Target.Pos, "assign workspace picks any user; it takes no name")
		}
	}
	var logic, online, maxOpen, timeout bool
	for _, o := range s.allOpts() {
		pooled := func(what string) {
			if s.Kind == "user" {
				c.errorf(o.Pos, "%s applies to assign team and assign workspace", what)
			}
		}
		switch {
		case o.Logic != "":
			c.dup(&logic, o.Pos, "assignment logic")
			pooled(string(o.Logic))
		case o.Online:
			c.dup(&online, o.Pos, "online only")
			pooled("online only")
		case o.MaxOpen != nil:
			c.dup(&maxOpen, o.Pos, "max open")
			pooled("max open")
			if o.MaxOpen.Value < 1 {
				c.errorf(o.MaxOpen.Pos, "max open must be at least 1")
			}
		case o.Timeout != nil:
			c.dup(&timeout, o.Pos, "timeout")
			c.duration(o.Timeout, "assignment timeout", time.Minute, maxWait)
		}
	}
	c.branches("assign", s)
}

func (c *checker) ifStep(s *If) {
	c.condition(s.Cond)
	conds := 1 // branches with a condition; a final else is not counted
	for _, e := range s.Elses {
		if e.Cond != nil {
			conds++
		}
	}
	arms := 1
	for i, e := range s.Elses {
		if e.Cond == nil {
			if i != len(s.Elses)-1 {
				c.errorf(e.Pos, "else must come last")
			}
			continue
		}
		arms++
		if arms == maxBranches+1 {
			c.errorf(e.Pos, "%d branches; the limit is %d plus else", conds, maxBranches)
		}
		c.condition(e.Cond)
	}
}

// labelNames lists the flow's labels, sorted; computed once.
func (c *checker) labelNames() []string {
	if c.labelList == nil {
		c.labelList = sortedKeys(c.labels)
	}
	return c.labelList
}

func (c *checker) jump(s *Jump) {
	if _, ok := c.labels[s.Target.Name]; !ok {
		d := c.errorf(s.Target.Pos, "unknown label %q", s.Target.Name)
		d.Detail = c.didYouMean(s.Target.Name, c.labelNames())
	}
	if s.Max == nil {
		c.errorf(s.Pos, "jump needs a maximum").Detail = "write: jump to " + s.Target.Name + " max 3 (1 to 10)"
	} else if s.Max.Value < 1 || s.Max.Value > maxJumps {
		c.errorf(s.Max.Pos, "jump maximum must be 1 to %d, not %d", maxJumps, s.Max.Value)
	}
}

// duration checks that d lies within [lo, hi].
func (c *checker) duration(d *Dur, what string, lo, hi time.Duration) {
	v, err := d.Value()
	switch {
	case err != nil:
		c.errorf(d.Pos, "%v", err)
	case time.Duration(v) < lo:
		c.errorf(d.Pos, "%s of %s is too short; the minimum is %s", what, d.Raw, Duration(lo))
	case time.Duration(v) > hi:
		c.errorf(d.Pos, "%s of %s is too long; the maximum is %s", what, d.Raw, Duration(hi))
	}
}

var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func (c *checker) during(s *During) {
	if s.Range != nil {
		r := s.Range
		start, err1 := ParseDateTime(r.StartDate, r.StartTime, false)
		end, err2 := ParseDateTime(r.EndDate, r.EndTime, true)
		switch {
		case err1 != nil:
			c.errorf(r.Pos, "%v", err1)
		case err2 != nil:
			c.errorf(r.Pos, "%v", err2)
		case !end.After(start):
			c.errorf(r.Pos, "date range is empty: it ends before or when it starts")
		}
	}
	for _, h := range s.Hours {
		for _, d := range []*Ident{h.FirstDay, h.LastDay} {
			if d != nil && !contains(weekdays, d.Name) {
				c.errorf(d.Pos, "unknown weekday %q", d.Name).Detail =
					hintOr(c.didYouMean(d.Name, weekdays), "weekdays are "+listOf(weekdays))
			}
		}
		from, err1 := ParseClock(h.From.Value)
		to, err2 := ParseClock(h.To.Value)
		switch {
		case err1 != nil:
			c.errorf(h.From.Pos, "%v", err1)
		case err2 != nil:
			c.errorf(h.To.Pos, "%v", err2)
		case from == to:
			c.errorf(h.Pos, "opening hours %s-%s are empty", h.From.Value, h.To.Value).Detail = "a range that ends before it starts runs past midnight; 00:00-24:00 is the whole day"
		}
	}
	if s.Zone != nil {
		c.noInterpolation(s.Zone, "a timezone")
		// "Local" would mean the server's own zone: a flow must not depend on where it runs
		if _, err := time.LoadLocation(s.Zone.Value()); err != nil || s.Zone.Value() == "" || s.Zone.Value() == "Local" {
			c.errorf(s.Zone.Pos, "unknown timezone %q", s.Zone.Value()).Detail = `use an IANA name such as "Europe/Madrid"`
		}
	}
	if len(c.branches("during", s)) == 0 {
		c.errorf(s.Pos, "during does nothing without on inside { } or on outside { }")
	}
}

func (c *checker) http(s *HTTP) {
	if !contains(httpMethods, s.Method.Name) {
		c.errorf(s.Method.Pos, "unknown HTTP method %q", s.Method.Name).Detail =
			hintOr(c.didYouMean(s.Method.Name, httpMethods), "methods are "+listOf(httpMethods))
	}
	c.nonEmpty(s.URL, "URL")
	if segs := s.URL.Segments(); len(segs) > 0 && segs[0].Kind == Literal {
		u := segs[0].Value
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			c.errorf(s.URL.Pos, "URL must start with http:// or https://")
		}
	}
	c.text(s.URL)
	c.limit(s.URL, UseURL)
	var timeout, body, status bool
	headers, maps := 0, 0
	contentType := false
	vars := map[string]bool{}
	for _, o := range s.allOpts() {
		switch {
		case o.Timeout != nil:
			c.dup(&timeout, o.Pos, "timeout")
			c.duration(o.Timeout, "HTTP timeout", time.Second, maxHTTPTimeout)
		case o.Header != nil:
			headers++
			if headers == maxHeaders+1 {
				c.errorf(o.Pos, "more than %d headers", maxHeaders)
			}
			c.nonEmpty(o.Header.Name, "header name")
			c.noInterpolation(o.Header.Name, "a header name")
			if strings.EqualFold(o.Header.Name.Value(), "Content-Type") {
				contentType = true
			}
			c.text(o.Header.Value)
			c.limit(o.Header.Value, UseHeader)
		case o.Body != nil:
			c.dup(&body, o.Pos, "body")
			c.text(o.Body)
			c.limit(o.Body, UseBody)
		case o.Map != nil:
			maps++
			if maps == maxMappings+1 {
				c.errorf(o.Pos, "more than %d response mappings", maxMappings)
			}
			c.jsonPath(o.Map.Path)
			if vars[o.Map.Var.Name] {
				c.errorf(o.Map.Var.Pos, "variable %q is mapped twice", o.Map.Var.Name)
			}
			vars[o.Map.Var.Name] = true
		case o.Status != nil:
			c.dup(&status, o.Pos, "status")
		}
	}
	if body && !contentType {
		c.warn(s.Pos, "request has a body but no Content-Type header").Detail = `add: header "Content-Type": "application/json"`
	}
	c.branches("http", s)
}

// jsonPath checks a response path: $ followed by .name and [index] parts.
func (c *checker) jsonPath(t *Text) {
	c.noInterpolation(t, "a JSON path")
	if _, err := ParsePath(t.Value()); err != nil {
		c.errorf(t.Pos, "malformed JSON path %q: %v", t.Value(), err).Detail = `paths look like "$.data.contacts[1].firstName"`
	}
}

func (c *checker) sheet(s *Sheet) {
	c.nonEmpty(s.Doc, "spreadsheet")
	c.text(s.Doc)
	c.limit(s.Doc, UseSheetName)
	if s.Tab != nil {
		c.text(s.Tab)
		c.limit(s.Tab, UseSheetName)
	}
	cols := map[string]bool{}
	n := 0
	for _, o := range s.Body.Clauses {
		if o.Column == nil {
			continue
		}
		n++
		c.nonEmpty(o.Column, "column name")
		c.noInterpolation(o.Column, "a column name")
		if cols[o.Column.Value()] {
			c.errorf(o.Column.Pos, "column %q given twice", o.Column.Value())
		}
		cols[o.Column.Value()] = true
		c.text(o.Value)
		c.limit(o.Value, UseSheet)
	}
	if n == 0 {
		c.errorf(s.Pos, "a sheet row needs at least one column").Detail = `write: "Name": "$contact.name"`
	} else if n > maxSheetColumns {
		c.errorf(s.Pos, "%d columns; the limit is %d", n, maxSheetColumns)
	}
	c.branches("sheet", s)
}

func (c *checker) ai(s *AI) {
	c.nonEmpty(s.Text, map[string]string{"reply": "instructions", "handoff": "agent name"}[s.Mode])
	c.text(s.Text)
	if s.Mode == "handoff" {
		c.limit(s.Text, UseAgent)
	} else {
		c.limit(s.Text, UseAI)
	}
	var save, idle bool
	for _, o := range s.allOpts() {
		if s.Mode == "handoff" && o.On == nil {
			c.errorf(o.Pos, "ai handoff takes no options").Detail = "the AI agent takes over the conversation"
			continue
		}
		switch {
		case o.Save != nil:
			c.dup(&save, o.Pos, "save")
		case o.Idle != nil:
			c.dup(&idle, o.Pos, "idle")
			c.duration(o.Idle, "idle timeout", time.Minute, maxWait)
		}
	}
	br := c.branches("ai", s)
	if s.Mode == "handoff" && len(br) > 0 {
		c.errorf(s.Pos, "ai handoff has no branches")
	}
}

func utf8Len(s string) int { return len([]rune(s)) }

// article puts "a" or "an" before a word.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// ParseHours reads opening hours as a during step writes them, "mon-fri
// 09:00-18:00, sat 10:00-14:00", and checks them by the step's rules: the
// workspace file's business hours. A diagnostic's column counts from the
// text's start, 1 being its first character.
func ParseHours(text string) ([]*Hours, Diagnostics) {
	const before = "during "
	if strings.ContainsAny(text, "{}\n\r#\"") {
		return nil, Diagnostics{errorAt(lexer.Position{Line: 1, Column: 1}, "not opening hours such as \"mon-fri 09:00-18:00\"")}
	}
	src := "flow \"hours\"\ntrigger manual\n" + before + text + " {\n  on inside {\n    stop\n  }\n}\n"
	f, err := Parse("hours", []byte(src))
	var diags Diagnostics
	if err != nil {
		diags, _ = err.(Diagnostics)
	} else {
		diags = Check(f)
	}
	var out Diagnostics
	for _, d := range diags {
		if d.Severity != Error {
			continue
		}
		d.Pos = lexer.Position{Line: 1, Column: max(1, d.Pos.Column-len(before))}
		out = append(out, d)
	}
	if len(out) > 0 || f == nil {
		if len(out) == 0 {
			out = Diagnostics{errorAt(lexer.Position{Line: 1, Column: 1}, "not opening hours such as \"mon-fri 09:00-18:00\"")}
		}
		return nil, out
	}
	d, ok := f.Steps[0].Step.(*During)
	if !ok || len(d.Hours) == 0 || d.Zone != nil {
		return nil, Diagnostics{errorAt(lexer.Position{Line: 1, Column: 1}, "not opening hours such as \"mon-fri 09:00-18:00\"")}
	}
	return d.Hours, nil
}
