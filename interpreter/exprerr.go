package interpreter

import (
	"errors"
	"fmt"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/expr-lang/expr/file"
	"github.com/flowd/flowd/dsl"
)

// A placedError is a run-time error placed where it happened in the .flow
// file: in an expression, at a text too long once rendered.
type placedError struct {
	pos lexer.Position
	msg string
}

func (e *placedError) Error() string { return e.msg }

// exprErr turns expr-lang's error, which spans lines with a snippet of the
// expression, into one line placed in the .flow file; src starts at pos.
func exprErr(err error, src string, pos lexer.Position) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return &placedError{pos: dsl.AdvanceRunes(pos, src, fe.From), msg: exprMessage(err)}
	}
	return &placedError{pos: pos, msg: exprMessage(err)}
}

// exprMessage is the one-line message of an expr-lang error.
func exprMessage(err error) string {
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if msg == "memory budget exceeded" { // expr's VM counting what it builds
		return fmt.Sprintf("expression builds too much: one evaluation may build %d list and map items", dsl.ExprBudget)
	}
	if m, hint := dsl.TypeMessage(msg); hint != "" {
		return m + " (" + hint + ")"
	} else {
		return m
	}
}

// failErr ends the run with err, at the expression's position when err
// comes from one, else at the instruction's.
func (r *run) failErr(pc int, err error) {
	r.fail(pc, "%v", err)
	var ef *placedError
	if errors.As(err, &ef) && ef.pos.Line > 0 {
		r.out.Err.Pos = ef.pos
	}
}
