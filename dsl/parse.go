package dsl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// parser is built once; participle parsers are safe for concurrent use.
var parser = participle.MustBuild[File](
	participle.Lexer(flowLexer{}),
	participle.Union[Header](&Description{}, &Trigger{}, &Group{}, &Exit{}, &FieldDecl{}, &Draft{}),
	participle.Union[Event](&ConversationEvent{}, &TagEvent{}, &FieldEvent{}, &WebhookEvent{},
		&ManualEvent{}, &ShortcutEvent{}, &AdEvent{}),
	participle.Union[Step](&Send{}, &Ask{}, &Assign{}, &Unassign{}, &If{}, &TagStep{}, &Set{},
		&Clear{}, &Open{}, &Close{}, &CommentStep{}, &Jump{}, &Wait{}, &Start{}, &During{},
		&HTTP{}, &Sheet{}, &AI{}, &Stop{}),
	participle.UseLookahead(2),
)

// Grammar returns the grammar in EBNF, as participle derives it from the syntax
// tree types.
func Grammar() string { return parser.String() }

// Parse parses one .flow file. It stops at the first syntax error, which it
// returns as Diagnostics holding one error; Check finds everything else.
func Parse(filename string, src []byte) (*File, error) {
	toks, comments, err := scan(filename, src)
	if err != nil {
		var se *ScanError
		errors.As(err, &se)
		return nil, Diagnostics{errorAt(se.Pos, "%s", se.Msg)}
	}
	peek, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		return nil, Diagnostics{errorAt(lexer.Position{Filename: filename, Line: 1, Column: 1}, "%v", err)}
	}
	f, err := parser.ParseFromLexer(peek)
	if err != nil {
		return nil, Diagnostics{syntaxDiagnostic(filename, src, err)}
	}
	f.Comments = comments
	f.Src = src
	return f, nil
}

// syntaxDiagnostic turns participle's error into a diagnostic that names tokens
// the way an author writes them.
func syntaxDiagnostic(filename string, src []byte, err error) *Diagnostic {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return errorAt(lexer.Position{Filename: filename, Line: 1, Column: 1}, "%v", err)
	}
	pos := perr.Position()
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		tok := ute.Unexpected
		what := fmt.Sprintf("%q", tok.Value)
		switch {
		case tok.EOF():
			what = "end of file"
		case tok.Type == tokString:
			what = "string " + tok.Value
		case tok.Type == tokLabel:
			what = "label " + tok.Value
		case tok.Type == tokExpr:
			what = "condition " + tok.Value
		}
		d := errorAt(pos, "unexpected %s", what)
		// participle keeps what it expected unexported; only Message shows it.
		expected := ""
		if i := strings.LastIndex(ute.Message(), " (expected "); i >= 0 {
			expected = strings.TrimSuffix(ute.Message()[i+2:], ")")
			d.Detail = "expected " + friendly(strings.TrimPrefix(expected, "expected "))
		}
		if tok.Type == tokIdent {
			hint := didYouMean(tok.Value, quotedWords(expected))
			if hint == "" && (expected == "" || startsLine(src, tok.Pos)) {
				hint = didYouMean(tok.Value, stepKeywords)
			}
			if hint != "" {
				d.Detail = hint
			}
		}
		return d
	}
	msg := perr.Message()
	if strings.Contains(msg, "value out of range") {
		msg = "number too large"
	}
	return errorAt(pos, "%s", msg)
}

// stepKeywords start the steps, header items and clauses; a misspelt one at the
// start of a line gets a suggestion even when participle's expectation is vaguer.
var stepKeywords = []string{"send", "ask", "assign", "unassign", "if", "tag", "set", "clear",
	"open", "close", "comment", "jump", "wait", "start", "during", "http", "sheet", "ai", "stop",
	"description", "trigger", "group", "exit", "field", "draft", "on", "else", "timeout", "retry",
	"save", "choices", "attach", "subject", "via", "header", "body", "map", "status", "idle",
	"category", "summary", "max", "min", "online", "round", "least", "when", "once"}

// quotedWords lists the quoted keywords of participle's expectation.
func quotedWords(expected string) []string {
	var out []string
	for _, part := range strings.Split(expected, `"`)[1:] {
		if part != "" && isIdentStart(rune(part[0])) && !strings.ContainsAny(part, " |") {
			out = append(out, part)
		}
	}
	return out
}

// startsLine reports whether only blanks precede pos on its line.
func startsLine(src []byte, pos lexer.Position) bool {
	for i := pos.Offset - 1; i >= 0 && i < len(src); i-- {
		switch src[i] {
		case '\n':
			return true
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return true
}

// grammarWords are the grammar's names for what an author writes.
var grammarWords = map[string]string{
	"Dur": "a duration such as 5m", "IntLit": "a whole number", "Num": "a number",
	"Text": "a string", "Ident": "a name", "Ref": "a name such as contact.email",
	"Block": "{", "Expr": "a condition", "Step": "a step", "Stmt": "a step",
	"Lit": "a time such as 09:00", "Target": "contact.FIELD, a variable or tag",
	"<string>": "a string", "<ident>": "a name", "<int>": "a whole number",
	"<duration>": "a duration such as 5m", "<time>": "a time such as 09:00", "<date>": "a date such as 2026-12-24",
}

// friendly rewrites participle's expectation (`Block Else*`) with the words
// an author knows, keeping only what must come next.
func friendly(expected string) string {
	first := strings.Fields(expected)
	if len(first) == 0 {
		return expected
	}
	word := first[0]
	if w, ok := grammarWords[word]; ok {
		return w
	}
	if strings.HasPrefix(word, `"`) {
		return word
	}
	return expected
}
