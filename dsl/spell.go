package dsl

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// didYouMean returns a hint naming the candidate closest to name, or "" when
// none is close enough to be a likely typo.
func didYouMean(name string, candidates []string) string {
	if best := Nearest(name, candidates); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return ""
}

// Nearest returns the candidate that name most likely misspells: the closest
// by edit distance (ignoring case), if it is close enough for a typo; else "".
func Nearest(name string, candidates []string) string {
	if len(name) > maxHinted {
		return "" // comparing long names costs their lengths multiplied
	}
	best, bestDist := "", len(name)/2+1
	if bestDist > 3 {
		bestDist = 3
	}
	lower := strings.ToLower(name)
	n := utf8.RuneCountInString(name)
	exact := false
	for _, c := range candidates {
		if c == name {
			exact = true
			continue
		}
		if abs(utf8.RuneCountInString(c)-n) > bestDist {
			continue // the lengths alone differ too much: no need to compare
		}
		if d := levenshtein(lower, strings.ToLower(c)); d < bestDist || d == bestDist && best != "" && c < best {
			best, bestDist = c, d
		}
	}
	if exact && bestDist > 0 {
		return "" // name is a candidate itself; only another case of it is a hint
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// maxHinted is the longest name, in bytes, for which a hint is looked for:
// nobody misspells a 65-character name by one letter and needs telling.
const maxHinted = 64

// levenshtein is the edit distance between a and b, counted in characters.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
