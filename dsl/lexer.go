package dsl

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/flowd/flowd/internal/textfile"
)

// Token types produced by the scanner. Keywords are plain Ident tokens; the grammar
// matches them by value, so a variable may still be called "status" or "to".
const (
	tokEOF                      = lexer.EOF
	tokIdent    lexer.TokenType = -2 - iota
	tokLabel                    // consent:   (a step label, colon included in the token)
	tokString                   // "text" or `raw text`, quotes kept in the value
	tokInt                      // 3
	tokNumber                   // 2.5
	tokDuration                 // 5m, 1h30m, 7d
	tokTime                     // 09:00
	tokDate                     // 2026-12-24
	tokExpr                     // the condition after `if` or `when`, up to `{` or end of line
	tokPunct                    // { } , : . .. - =
)

var tokenNames = map[string]lexer.TokenType{
	"EOF":      tokEOF,
	"Ident":    tokIdent,
	"Label":    tokLabel,
	"String":   tokString,
	"Int":      tokInt,
	"Number":   tokNumber,
	"Duration": tokDuration,
	"Time":     tokTime,
	"Date":     tokDate,
	"Expr":     tokExpr,
	"Punct":    tokPunct,
}

// exprKeywords are the words after which the scanner reads an expr-lang expression
// as a single Expr token.
var exprKeywords = map[string]bool{"if": true, "when": true}

// A Comment is a `#` comment, kept aside by the scanner so the formatter can put
// it back where it was.
type Comment struct {
	Pos  lexer.Position
	Text string // including the leading '#'
}

// flowLexer is the participle lexer definition. Parse uses the scanner directly so
// that it can keep the comments; the definition exists for the grammar builder.
type flowLexer struct{}

func (flowLexer) Symbols() map[string]lexer.TokenType { return tokenNames }

func (flowLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := textfile.ReadAll(filename, r, MaxFileSize)
	if err != nil {
		return nil, err
	}
	toks, _, _, err := scan(filename, src)
	if err != nil {
		return nil, err
	}
	return &sliceLexer{toks: toks}, nil
}

// sliceLexer hands participle tokens that were scanned in advance.
type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (l *sliceLexer) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return l.toks[len(l.toks)-1], nil // the EOF token, again
	}
	t := l.toks[l.i]
	l.i++
	return t, nil
}

// A ScanError is a lexical error: an unterminated string, a stray character.
type ScanError struct {
	Pos    lexer.Position
	Msg    string
	Detail string // a hint, or ""
}

func (e *ScanError) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// scanner turns .flow source into tokens. Columns count characters (runes), not
// bytes, so that a caret lines up under multi-byte text.
type scanner struct {
	src      []byte
	pos      lexer.Position
	toks     []lexer.Token
	comments []Comment
	warnings Diagnostics // bidirectional controls, for Check to report
	line     int         // offset where pos's line starts
	indented int         // the line whose indentation ind holds, or 0
	ind      string
	braces   []brace // the blocks open at pos
	misfit   *brace  // the first block whose } sits at another indentation than its {
	err      *ScanError
}

// A brace is an open {, with the indentation of its line.
type brace struct {
	pos    lexer.Position
	indent string
	closer lexer.Position // for misfit: the } that closed it
}

// scan tokenizes src. It stops at the first lexical error.
func scan(filename string, src []byte) ([]lexer.Token, []Comment, Diagnostics, error) {
	s := &scanner{src: src, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}
	if strings.HasPrefix(string(src[:min(3, len(src))]), "\uFEFF") {
		s.pos.Offset = 3 // a byte-order mark some editors write: not part of the flow
	}
	if err := s.checkText(); err != nil {
		return nil, nil, nil, err
	}
	s.run()
	if s.err != nil {
		return s.toks, s.comments, s.warnings, s.err
	}
	return s.toks, s.comments, s.warnings, nil
}

// checkText checks the whole source before anything else reads it: valid
// UTF-8, and no control characters but tab and newline (and the carriage
// return of a CRLF line end), strings and comments included, since a NUL or
// an ESC in a message would reach a contact's screen or a database. It notes
// the bidirectional controls, which can make code read differently from what
// it does ("Trojan Source"), as warnings.
func (s *scanner) checkText() *ScanError {
	src := s.src
	pos := s.pos
	for i := pos.Offset; i < len(src); {
		c := src[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			i++ // the common case, ASCII
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		at := pos
		at.Advance(string(src[pos.Offset:i]))
		pos = at
		switch {
		case r == utf8.RuneError && n <= 1:
			return &ScanError{Pos: at, Msg: "invalid UTF-8 encoding: .flow files are UTF-8 text"}
		case unicode.IsControl(r):
			return &ScanError{Pos: at, Msg: fmt.Sprintf("control character %U is not allowed in a .flow file", r),
				Detail: "only tab and newline may appear; write \\t or \\n in a string"}
		case IsBidiControl(r):
			s.warnings = append(s.warnings, &Diagnostic{Severity: Warning, Pos: at,
				Summary: fmt.Sprintf("bidirectional control character %U", r),
				Detail:  "it can make the text display in another order than it is read (\"Trojan Source\"); remove it, or write the text in its natural order"})
		}
		i += n
	}
	return nil
}

// IsBidiControl reports the embedding, override and isolate controls of
// Unicode's bidirectional algorithm; the marks (LRM, RLM), which right-to-left
// text needs, are fine.
func IsBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

func (s *scanner) peek(k int) rune {
	off := s.pos.Offset
	for ; k > 0 && off < len(s.src); k-- {
		_, n := utf8.DecodeRune(s.src[off:])
		off += n
	}
	if off >= len(s.src) {
		return -1
	}
	r, _ := utf8.DecodeRune(s.src[off:])
	return r
}

func (s *scanner) next() rune {
	if s.pos.Offset >= len(s.src) {
		return -1
	}
	r, n := utf8.DecodeRune(s.src[s.pos.Offset:])
	s.pos.Offset += n
	if r == '\n' {
		s.pos.Line++
		s.pos.Column = 1
		s.line = s.pos.Offset
	} else {
		s.pos.Column++
	}
	return r
}

func (s *scanner) fail(pos lexer.Position, format string, args ...any) *ScanError {
	if s.err == nil {
		s.err = &ScanError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	return s.err
}

func (s *scanner) emit(typ lexer.TokenType, start lexer.Position) {
	s.toks = append(s.toks, lexer.Token{Type: typ, Value: string(s.src[start.Offset:s.pos.Offset]), Pos: start})
}

func (s *scanner) run() {
	for s.err == nil {
		s.skipSpace(true)
		start := s.pos
		r := s.peek(0)
		switch {
		case r == -1:
			s.unclosed()
			s.toks = append(s.toks, lexer.EOFToken(start))
			return
		case r == '#':
			s.comment()
		case isIdentStart(r):
			s.ident(start)
		case isDigit(r):
			s.number(start)
		case r == '"' || r == '`':
			s.str(start)
		case r == '.' && s.peek(1) == '.':
			s.next()
			s.next()
			s.emit(tokPunct, start)
		case r == '{' || r == '}':
			s.next()
			s.brace(r, start)
			s.emit(tokPunct, start)
		case strings.ContainsRune(",:.-=", r):
			s.next()
			s.emit(tokPunct, start)
		default:
			s.fail(start, "unexpected character %q", r)
		}
	}
}

// brace keeps track of the blocks, so that nesting is bounded before the
// parser, which recurses, sees it, and so that a missing } is reported at the
// { it should close rather than at the end of the file.
func (s *scanner) brace(r rune, pos lexer.Position) {
	if r == '{' {
		if len(s.braces) == MaxBlockDepth {
			s.fail(pos, "blocks nest more than %d deep", MaxBlockDepth).Detail = "move the inner steps to a flow of their own and start it"
			return
		}
		s.braces = append(s.braces, brace{pos: pos, indent: s.indent()})
		return
	}
	n := len(s.braces)
	if n == 0 {
		s.fail(pos, "unexpected }: no block is open").Detail = "remove it, or add the { it should close"
		return
	}
	open := s.braces[n-1]
	s.braces = s.braces[:n-1]
	if ind := s.indent(); s.misfit == nil && ind != open.indent {
		// a } under another block's { suggests that the inner one lacks its }
		for _, outer := range s.braces {
			if outer.indent == ind {
				open.closer = pos
				s.misfit = &open
				break
			}
		}
	}
}

// unclosed reports, at the end of the file, a block left open: the one whose
// } went to another block, judging by indentation, or else the innermost.
func (s *scanner) unclosed() {
	n := len(s.braces)
	if n == 0 {
		return
	}
	if m := s.misfit; m != nil {
		s.fail(m.pos, "this { has no }").Detail = fmt.Sprintf("by its indentation, the } at line %d closes an outer block", m.closer.Line)
		return
	}
	s.fail(s.braces[n-1].pos, "this { has no }").Detail = "add } after the block's last step"
}

// indent is the blank space that starts the current line, found once per
// line: a line may hold thousands of braces.
func (s *scanner) indent() string {
	if s.indented != s.pos.Line {
		end := s.line
		for end < len(s.src) && (s.src[end] == ' ' || s.src[end] == '\t') {
			end++
		}
		s.indented, s.ind = s.pos.Line, string(s.src[s.line:end])
	}
	return s.ind
}

func (s *scanner) skipSpace(newlines bool) {
	for {
		switch s.peek(0) {
		case ' ', '\t', '\r':
			s.next()
		case '\n':
			if !newlines {
				return
			}
			s.next()
		default:
			return
		}
	}
}

func (s *scanner) comment() {
	start := s.pos
	for r := s.peek(0); r != '\n' && r != -1; r = s.peek(0) {
		s.next()
	}
	text := strings.TrimRight(string(s.src[start.Offset:s.pos.Offset]), " \t\r")
	s.comments = append(s.comments, Comment{Pos: start, Text: text})
}

func (s *scanner) ident(start lexer.Position) {
	for isIdentPart(s.peek(0)) {
		s.next()
	}
	word := string(s.src[start.Offset:s.pos.Offset])
	if s.peek(0) == ':' && !isDigit(s.peek(1)) {
		s.next()
		s.emit(tokLabel, start)
		return
	}
	s.emit(tokIdent, start)
	if exprKeywords[word] {
		s.expr(word)
	}
}

// expr reads an expr-lang expression: everything up to the end of the line or a
// `{` outside brackets, or a `#` comment. Brackets may span lines.
func (s *scanner) expr(keyword string) {
	s.skipSpace(false)
	start := s.pos
	depth := 0
	end := s.pos
loop:
	for {
		r := s.peek(0)
		switch {
		case r == -1:
			break loop
		case r == '\n' && depth == 0:
			break loop
		case r == '#' && depth == 0:
			break loop
		case r == '{' && depth == 0:
			break loop
		case r == '(' || r == '[' || r == '{':
			depth++
		case r == ')' || r == ']' || r == '}':
			if depth == 0 {
				s.fail(s.pos, "unbalanced %q in condition", r)
				return
			}
			depth--
		case r == '"' || r == '\'' || r == '`':
			s.quoted(r)
			end = s.pos
			continue
		}
		s.next()
		if r != ' ' && r != '\t' && r != '\r' && r != '\n' {
			end = s.pos
		}
	}
	if depth > 0 {
		s.fail(start, "unclosed bracket in condition")
		return
	}
	if end.Offset == start.Offset {
		s.fail(start, "expected a condition after %q", keyword)
		return
	}
	if op := trailingOperator(string(s.src[start.Offset:end.Offset])); op != "" {
		at := end
		at.Offset -= len(op)
		at.Column -= utf8.RuneCountInString(op)
		e := s.fail(at, "condition ends with %q", op)
		e.Detail = "something must follow it"
		if s.peek(0) != '{' {
			e.Detail = "a condition ends at the end of its line: go on on this line, or put the condition in ( ) to span lines"
		}
		return
	}
	s.toks = append(s.toks, lexer.Token{Type: tokExpr, Value: string(s.src[start.Offset:end.Offset]), Pos: start})
	s.pos = end
}

// trailingOperator returns the operator that ends cond, if any: a condition
// cut short by the end of its line.
func trailingOperator(cond string) string {
	for _, op := range []string{"&&", "||", "==", "!=", "<=", ">=", "??", "**", "..", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ",", "|", "."} {
		if strings.HasSuffix(cond, op) {
			return op
		}
	}
	i := len(cond)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(cond[:i])
		if !isIdentPart(r) {
			break
		}
		i -= n
	}
	switch word := cond[i:]; word {
	case "and", "or", "not", "in", "contains", "matches", "startsWith", "endsWith":
		return word
	}
	return ""
}

// quoted skips an expr-lang string literal.
func (s *scanner) quoted(q rune) {
	start := s.pos
	s.next()
	for {
		r := s.next()
		switch {
		case r == -1 || (r == '\n' && q != '`'):
			s.fail(start, "string not terminated")
			return
		case r == '\\' && q != '`':
			s.next()
		case r == q:
			return
		}
	}
}

func (s *scanner) number(start lexer.Position) {
	digits := s.digits()
	switch {
	case digits == 4 && s.peek(0) == '-' && isDigit(s.peek(1)):
		// 2026-12-24
		s.next()
		if s.digits() != 2 || s.peek(0) != '-' {
			s.fail(start, "malformed date: want YYYY-MM-DD")
			return
		}
		s.next()
		if s.digits() != 2 {
			s.fail(start, "malformed date: want YYYY-MM-DD")
			return
		}
		s.emit(tokDate, start)
	case digits <= 2 && s.peek(0) == ':' && isDigit(s.peek(1)):
		// 09:00
		s.next()
		if s.digits() != 2 {
			s.fail(start, "malformed time: want HH:MM")
			return
		}
		s.emit(tokTime, start)
	case s.peek(0) == '.' && isDigit(s.peek(1)):
		s.next()
		s.digits()
		s.emit(tokNumber, start)
	case isLetter(s.peek(0)):
		s.duration(start)
	default:
		s.emit(tokInt, start)
	}
	if s.err == nil && isIdentPart(s.peek(0)) {
		s.fail(start, "malformed number %q", string(s.src[start.Offset:s.pos.Offset])+string(s.peek(0)))
	}
}

// duration reads the rest of a duration such as 1h30m, having read its first digits.
func (s *scanner) duration(start lexer.Position) {
	for {
		unitStart := s.pos.Offset
		for isLetter(s.peek(0)) {
			s.next()
		}
		switch string(s.src[unitStart:s.pos.Offset]) {
		case "ms", "s", "m", "h", "d":
		default:
			s.fail(start, "malformed duration %q: units are ms, s, m, h and d", string(s.src[start.Offset:s.pos.Offset]))
			return
		}
		if !isDigit(s.peek(0)) {
			break
		}
		s.digits()
	}
	s.emit(tokDuration, start)
}

func (s *scanner) digits() int {
	n := 0
	for isDigit(s.peek(0)) {
		s.next()
		n++
	}
	return n
}

// str reads a "quoted" or `raw` string. Double-quoted strings take the escapes
// \" \\ \n \t; both kinds may span lines. Inside ${ ... } the scanner follows
// braces and quotes, so an interpolated expression may contain its own strings.
func (s *scanner) str(start lexer.Position) {
	q := s.next()
	for {
		r := s.next()
		switch {
		case r == -1:
			s.fail(start, "string not terminated")
			return
		case r == '\\' && q == '"':
			if e := s.next(); !strings.ContainsRune(`"\nt`, e) {
				s.fail(start, "unknown escape \\%c in string (use \\\" \\\\ \\n or \\t)", e)
				return
			}
		case r == '$' && s.peek(0) == '{':
			s.interpolation()
			if s.err != nil {
				return
			}
		case r == q:
			s.emit(tokString, start)
			return
		}
	}
}

// interpolation skips a ${ ... } inside a string, the '$' having been read.
func (s *scanner) interpolation() {
	start := s.pos
	s.next() // {
	depth := 1
	for depth > 0 {
		r := s.peek(0)
		switch r {
		case -1:
			s.fail(start, "${ not closed by }")
			return
		case '{':
			depth++
		case '}':
			depth--
		case '"', '\'', '`':
			s.quoted(r)
			continue
		}
		s.next()
	}
}

func isIdentStart(r rune) bool { return r == '_' || isLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || isLetter(r) || isDigit(r) }
func isDigit(r rune) bool      { return r >= '0' && r <= '9' }
func isLetter(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r > 127 && unicode.IsLetter(r))
}
