package dsl_test

import (
	"testing"

	"github.com/flowd/flowd/dsl"
)

// TestGrammar keeps a snapshot of the grammar participle derives from the
// syntax tree types, so that every change to the language shows up in review
// as a diff of testdata/grammar.ebnf. Run go test ./dsl -update after an
// intended change.
func TestGrammar(t *testing.T) {
	golden(t, "testdata/grammar.ebnf", []byte(dsl.Grammar()+"\n"))
}
