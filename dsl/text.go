package dsl

import (
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// A Text is a string literal as written, quotes included. Texts interpolate:
//
//	"Hi $contact.firstname!"            a reference: contact field, flow variable, ...
//	"Total: ${Price * 1.1}"             an expr-lang expression
//	"Pay $$5 now"                       $$ is a dollar sign; so is $ not followed by a name
//
// In text people read (messages, questions, comments) a reference whose value
// is missing (an empty contact field, a variable never set) is left exactly as
// written, as respond.io does, so that the gap shows; in values a step stores
// or sends on (set, tags, HTTP requests) it is empty. In ${ } only nil is
// missing: write ${contact.firstname ?? "there"} to give a fallback.
type Text struct {
	Pos lexer.Position
	Raw string `parser:"@String"`
}

// SegmentKind tells literal text from interpolations.
type SegmentKind int

const (
	Literal SegmentKind = iota
	RefSegment
	ExprSegment
)

// A Segment is one piece of an interpolated text.
type Segment struct {
	Kind SegmentKind
	// Value is the literal text (escapes decoded), the dotted reference
	// (contact.firstname), or the expression source.
	Value string
	// Raw is the segment as written in the source: "$contact.firstname" or "${ ... }".
	Raw string
	// Offset is the byte offset of Value's first character within Text.Raw.
	Offset int
	// Pos is the source position of that character.
	Pos lexer.Position
}

// Segments splits the text into literals and interpolations. Adjacent literal
// pieces are merged.
func (t *Text) Segments() []Segment {
	raw := t.Raw
	if len(raw) < 2 {
		return nil
	}
	quote := raw[0]
	body := raw[1 : len(raw)-1]
	var segs []Segment
	var lit strings.Builder
	litStart := 1
	flush := func(at int) {
		if lit.Len() > 0 {
			segs = append(segs, Segment{Kind: Literal, Value: lit.String(), Offset: litStart})
			lit.Reset()
		}
		litStart = at
	}
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\' && quote == '"' && i+1 < len(body):
			switch body[i+1] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte(body[i+1])
			}
			i += 2
		case c == '$' && i+1 < len(body) && body[i+1] == '$':
			lit.WriteByte('$')
			i += 2
		case c == '$' && i+1 < len(body) && body[i+1] == '{':
			end := matchBrace(body, i+1)
			flush(1 + i)
			segs = append(segs, Segment{Kind: ExprSegment, Value: body[i+2 : end], Raw: body[i : end+1], Offset: 1 + i + 2})
			i = end + 1
			litStart = 1 + i
		case c == '$' && i+1 < len(body) && startsIdent(body[i+1:]):
			end := refEnd(body, i+1)
			flush(1 + i)
			segs = append(segs, Segment{Kind: RefSegment, Value: body[i+1 : end], Raw: body[i:end], Offset: 1 + i + 1})
			i = end
			litStart = 1 + i
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush(0)
	t.place(segs)
	return segs
}

// place sets the position of each segment, advancing once through Raw, so
// that a text with many interpolations costs no more than its length.
func (t *Text) place(segs []Segment) {
	p, off := t.Pos, 0
	for i := range segs {
		if o := min(segs[i].Offset, len(t.Raw)); o > off {
			p.Advance(t.Raw[off:o])
			off = o
		}
		segs[i].Pos = p
	}
}

// Value is the text with escapes decoded and interpolations left as written.
func (t *Text) Value() string {
	var b strings.Builder
	for _, s := range t.Segments() {
		if s.Kind == Literal {
			b.WriteString(s.Value)
		} else {
			b.WriteString(s.Raw)
		}
	}
	return b.String()
}

// PosAt is the source position of byte offset off within Raw.
func (t *Text) PosAt(off int) lexer.Position {
	p := t.Pos
	if off > len(t.Raw) {
		off = len(t.Raw)
	}
	p.Advance(t.Raw[:off])
	return p
}

// matchBrace returns the index of the } closing the { at body[open], skipping
// quoted strings. The scanner has checked that it exists.
func matchBrace(body string, open int) int {
	depth := 0
	for i := open; i < len(body); i++ {
		switch body[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		case '"', '\'', '`':
			q := body[i]
			for i++; i < len(body) && body[i] != q; i++ {
				if body[i] == '\\' && q != '`' {
					i++
				}
			}
		}
	}
	return len(body) - 1
}

func startsIdent(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isIdentStart(r)
}

// refEnd returns the end of a dotted reference starting at body[i]. A dot is part
// of the reference only when a name follows it, so "Hi $contact.firstname." ends
// before the full stop.
func refEnd(body string, i int) int {
	for {
		for i < len(body) {
			r, n := utf8.DecodeRuneInString(body[i:])
			if !isIdentPart(r) {
				break
			}
			i += n
		}
		if i+1 < len(body) && body[i] == '.' && startsIdent(body[i+1:]) {
			i++
			continue
		}
		return i
	}
}
