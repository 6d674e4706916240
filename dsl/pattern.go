package dsl

import (
	"fmt"
	"regexp/syntax"
)

// MaxPatternSize bounds the program a `matches` pattern compiles to, in
// instructions, a character class counting its ranges. Go's regexp takes
// time and memory in proportion to it, and a pattern of 20 KB, a{1000}
// written 3,000 times, compiles to 3 million instructions and 700 MB before
// anything can charge it. Real patterns (an email, a phone number) have a
// few dozen.
const MaxPatternSize = 10_000

// PatternSize estimates the size of the program that the pattern src
// compiles to, without compiling it, counting no further than a little past
// MaxPatternSize; its error is the pattern's syntax error.
func PatternSize(src string) (int, error) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return 0, err
	}
	return progSize(re), nil
}

// ErrPatternTooBig is the error for a pattern over MaxPatternSize.
var ErrPatternTooBig = fmt.Errorf("pattern is too big: it would compile to more than %d instructions", MaxPatternSize)

// progSize is the estimate of PatternSize for re; syntax.Parse bounds how
// deep re nests.
func progSize(re *syntax.Regexp) int {
	const enough = MaxPatternSize + 1
	subs := 0
	for _, sub := range re.Sub {
		subs = min(enough, subs+progSize(sub))
	}
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass:
		return 1 + len(re.Rune)/2 // one instruction holding its ranges
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min + 1 // x{n,} is n copies and a star
		}
		return min(enough, max(n, 1)*(subs+1))
	}
	return min(enough, 1+subs)
}
