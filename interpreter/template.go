package interpreter

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/vm"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
)

// A Template is an interpolated text, compiled: literal pieces, $references and
// ${expressions}. How a missing value renders, and how long the text may
// grow, depends on the text's use (limits.go).
type Template struct {
	Raw   string // the string literal as written, quotes included
	parts []part
	use   dsl.TextUse
	pos   lexer.Position // of the string literal
}

type part struct {
	lit  string         // literal text, when ref and prog are empty
	ref  []string       // a $reference: contact.firstname
	prog *vm.Program    // a ${ } expression
	raw  string         // the piece as written, rendered when the value is missing
	pos  lexer.Position // where the expression starts, for run-time errors
}

// compileTemplate compiles a dsl.Text for its use; expressions are compiled
// once here.
func compileTemplate(t *dsl.Text, c *compiler, u dsl.TextUse) *Template {
	if t == nil {
		return nil
	}
	tpl := &Template{Raw: t.Raw, use: u, pos: t.Pos}
	for _, seg := range t.Segments() {
		switch seg.Kind {
		case dsl.Literal:
			tpl.parts = append(tpl.parts, part{lit: seg.Value})
		case dsl.RefSegment:
			ref := strings.Split(seg.Value, ".")
			if ref[0] == "system" {
				c.prog.UsesSystem = true
			}
			tpl.parts = append(tpl.parts, part{ref: ref, raw: seg.Raw})
		case dsl.ExprSegment:
			pos := seg.Pos
			prog := c.expr(seg.Value, pos, false)
			tpl.parts = append(tpl.parts, part{prog: prog, raw: seg.Raw, pos: pos})
		}
	}
	return tpl
}

// literal returns the text of a template with no interpolation, or "" and
// false.
func (t *Template) literal() (string, bool) {
	if len(t.parts) == 0 {
		return "", true
	}
	if len(t.parts) == 1 && t.parts[0].ref == nil && t.parts[0].prog == nil {
		return t.parts[0].lit, true
	}
	return "", false
}

// text renders a template for its use: in a text people read a missing
// value is left as written, so the gap shows, and a text over its limit is
// cut; in a value a step stores or sends on (a contact field, a tag, an HTTP
// header) a missing value is empty, never the reference's own text, and a
// value over its limit fails the run.
func (r *run) text(t *Template) (string, error) { return r.interpolate(t, nil) }

// interpolate renders a template as text does. escape, if set, transforms
// each interpolated value given the text rendered before it.
func (r *run) interpolate(t *Template, escape func(before, value string) string) (string, error) {
	if t == nil {
		return "", nil
	}
	s, ok := t.literal()
	if !ok {
		var err error
		if s, err = r.fill(t, escape); err != nil {
			return "", err
		}
	}
	if overLimit(s, t.use.Max) {
		if !t.use.Read {
			return "", &placedError{pos: t.pos, msg: tooLong(t.use).Error()}
		}
		s = cut(s, t.use.Max)
	}
	r.m.work.ExprSteps += int64(len(s)) // rendering is work too: events and test files are bounded by it
	if r.rendered += len(s); r.rendered > MaxSprintText {
		return "", fmt.Errorf("this sprint rendered more than %s of text without waiting: a loop?", textfile.Size(MaxSprintText))
	}
	return s, nil
}

// fill puts the values into a template's text. It stops once the text is
// sure to be over its limit: a value may be long, the text it goes into
// needs no more than its limit.
func (r *run) fill(t *Template, escape func(before, value string) string) (string, error) {
	enough := utf8.UTFMax*t.use.Max + len(ellipsis)
	var b strings.Builder
	for _, p := range t.parts {
		if b.Len() > enough {
			break
		}
		var v any
		switch {
		case p.ref != nil:
			v = lookup(r.env, p.ref)
		case p.prog != nil:
			var err error
			if v, err = r.m.eval(p.prog, r.env); err != nil {
				return "", exprErr(err, strings.TrimSuffix(strings.TrimPrefix(p.raw, "${"), "}"), p.pos)
			}
		default:
			b.WriteString(p.lit)
			continue
		}
		if err := r.m.chargeText(v); err != nil {
			return "", &placedError{pos: p.pos, msg: err.Error()}
		}
		s, ok := textOf(v)
		if p.prog != nil {
			ok = v != nil // an expression's empty result is deliberate (x ?? ""); only nil is missing
		}
		switch {
		case !ok && t.use.Read:
			b.WriteString(p.raw)
		case !ok:
		case escape != nil:
			b.WriteString(escape(b.String(), s))
		default:
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

// escapeURL escapes a value interpolated into a URL: as a query value after
// the "?", as a path segment before it, and not at all at the very start (a
// variable holding the base URL).
func escapeURL(before, value string) string {
	switch {
	case before == "":
		return value
	case strings.Contains(before, "?"):
		return url.QueryEscape(value)
	}
	return url.PathEscape(value)
}

// escapeJSON escapes a value interpolated into a JSON body so that it stays
// inside the string it is written in: {"email": "$contact.email"}.
func escapeJSON(_, value string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // & < > are fine in JSON; \u0026 surprises readers
	enc.Encode(value)
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// lookup follows a dotted reference through maps and JSON values.
func lookup(env map[string]any, ref []string) any {
	var v any = env
	for _, key := range ref {
		switch m := v.(type) {
		case map[string]any:
			v = m[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(m) {
				return nil
			}
			v = m[i]
		default:
			return nil
		}
	}
	return v
}

// textOf renders a value as text; ok is false for a missing value.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, v != ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	case []string:
		return strings.Join(v, ", "), len(v) > 0
	case time.Time:
		return v.Format("2006-01-02 15:04:05"), !v.IsZero()
	case time.Duration:
		return v.String(), true
	case []any:
		return listText(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// listText renders a JSON array of plain values as a list, "a, b"; an empty
// one is missing. Arrays of objects stay JSON.
func listText(items []any) (string, bool) {
	if len(items) == 0 {
		return "", false
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		switch it.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(items)
			return string(b), err == nil
		}
		s, _ := textOf(it)
		parts = append(parts, s)
	}
	return strings.Join(parts, ", "), true
}
