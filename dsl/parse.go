package dsl

import (
	"errors"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/flowd/flowd/internal/textfile"
)

// steps are the alternatives of a Step, each starting with its own keyword.
// participle tries them in turn, so a step costs more to parse the later it
// comes: they are in order of their shortest form, so that a file of the
// cheapest-to-write steps is not also the slowest to parse.
var steps = []Step{&Stop{}, &Ask{}, &Wait{}, &If{}, &Unassign{}, &Send{}, &Start{}, &TagStep{},
	&CommentStep{}, &HTTP{}, &Jump{}, &Assign{}, &AI{}, &Clear{}, &Open{}, &Close{}, &Sheet{},
	&Set{}, &During{}}

// parser is built once; participle parsers are safe for concurrent use.
var parser = participle.MustBuild[File](
	participle.Lexer(flowLexer{}),
	participle.Union[Header](&Description{}, &Trigger{}, &Group{}, &Exit{}, &FieldDecl{}, &Draft{}),
	participle.Union[Event](&ConversationEvent{}, &TagEvent{}, &FieldEvent{}, &WebhookEvent{},
		&ManualEvent{}, &ShortcutEvent{}, &AdEvent{}),
	participle.Union[Step](steps...),
	participle.UseLookahead(2),
)

// Grammar returns the grammar in EBNF, as participle derives it from the syntax
// tree types.
func Grammar() string { return parser.String() }

// stmtParser parses a single step, to explain an error that the file's
// parser reports only as the end of the block around it.
var stmtParser = participle.MustBuild[Stmt](
	participle.Lexer(flowLexer{}),
	participle.Union[Step](steps...),
	participle.UseLookahead(2),
)

// Parse parses one .flow file. It stops at the first syntax error, which it
// returns as Diagnostics holding one error; Check finds everything else. A
// file over MaxFileSize is refused before it is read.
func Parse(filename string, src []byte) (*File, error) {
	start := lexer.Position{Filename: filename, Line: 1, Column: 1}
	if len(src) > MaxFileSize {
		d := errorAt(start, "file is %d bytes; the limit for a .flow file is %d (%s)", len(src), MaxFileSize, textfile.Size(MaxFileSize))
		d.Detail = "split it into flows that start each other"
		return nil, Diagnostics{d}
	}
	toks, comments, warnings, err := scan(filename, src)
	if err != nil {
		var se *ScanError
		errors.As(err, &se)
		d := errorAt(se.Pos, "%s", se.Msg)
		d.Detail = se.Detail
		return nil, Diagnostics{d}
	}
	peek, err := lexer.Upgrade(&sliceLexer{toks: toks})
	if err != nil {
		return nil, Diagnostics{errorAt(start, "%v", err)}
	}
	f, err := parser.ParseFromLexer(peek)
	if err != nil {
		return nil, Diagnostics{syntaxDiagnostic(filename, src, toks, err)}
	}
	f.Comments = comments
	f.Warnings = warnings
	f.Src = src
	return f, nil
}

// ReadFile reads a .flow file for parsing: a regular file of at most
// MaxFileSize bytes.
func ReadFile(path string) ([]byte, error) { return textfile.Read(path, MaxFileSize) }

// maxRefine is how many times syntaxDiagnostic looks for the error of the
// step inside the step that failed.
const maxRefine = 8

// syntaxDiagnostic turns participle's error into a diagnostic that names tokens
// the way an author writes them.
func syntaxDiagnostic(filename string, src []byte, toks []lexer.Token, err error) *Diagnostic {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return errorAt(lexer.Position{Filename: filename, Line: 1, Column: 1}, "%v", err)
	}
	pos := perr.Position()
	var ute *participle.UnexpectedTokenError
	// the block around a bad step reports only that it ends there: look for
	// the step's own error, and that step's, a few blocks deep (each look
	// parses the rest of the file: looking once per token of a file of
	// 6,000 labels took 3 s)
	for range maxRefine {
		if !errors.As(err, &ute) {
			break
		}
		inner := stepError(toks, ute.Unexpected)
		if inner == nil {
			break
		}
		err = inner
		if errors.As(err, &perr) {
			pos = perr.Position()
		}
	}
	if errors.As(err, &ute) {
		tok := ute.Unexpected
		what := quote(tok.Value)
		switch {
		case tok.EOF():
			what = "end of file"
		case tok.Type == tokString:
			what = "string " + elide(tok.Value)
		case tok.Type == tokLabel:
			what = "label " + elide(tok.Value)
		case tok.Type == tokExpr:
			what = "condition " + elide(tok.Value)
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

// stepError parses a single step from tok, the token a block's parser could
// not take, and returns that step's own error: for `tag ad "x"` inside a
// block, the "ad" that is not add or remove rather than the block's
// missing }. It returns nil when tok does not start a step, or when the step
// parses: then the block's error stands.
func stepError(toks []lexer.Token, tok lexer.Token) error {
	if tok.Type != tokIdent && tok.Type != tokLabel {
		return nil
	}
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= tok.Pos.Offset })
	if i == len(toks) || toks[i].Pos.Offset != tok.Pos.Offset {
		return nil
	}
	peek, err := lexer.Upgrade(&sliceLexer{toks: toks[i:]})
	if err != nil {
		return nil
	}
	_, err = stmtParser.ParseFromLexer(peek, participle.AllowTrailing(true))
	var ute *participle.UnexpectedTokenError
	if !errors.As(err, &ute) || ute.Unexpected.Pos.Offset == tok.Pos.Offset {
		return nil // the step parses, or fails at its first word: no better explanation
	}
	return err
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
