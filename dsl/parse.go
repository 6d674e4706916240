package dsl

import (
	"errors"
	"fmt"

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
		return nil, Diagnostics{syntaxDiagnostic(filename, err)}
	}
	f.Comments = comments
	f.Src = src
	return f, nil
}

// syntaxDiagnostic turns participle's error into a diagnostic that names tokens
// the way an author writes them.
func syntaxDiagnostic(filename string, err error) *Diagnostic {
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
		if ute.Expect != "" {
			d.Detail = "expected " + ute.Expect
		}
		return d
	}
	return errorAt(pos, "%s", perr.Message())
}
