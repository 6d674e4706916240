package flowtest

import (
	"fmt"
	"strings"

	"github.com/flowd/flowd/dsl"
)

// maxDiffCells bounds the table Diff fills to line up the lines that differ:
// past it (thousands of lines on each side that differ), the two sides are
// shown one after the other instead.
const maxDiffCells = 4 << 20

// maxDiffLineLen is how many characters of a line Diff shows, the middle of
// a longer one elided: a failure's report stays small.
const maxDiffLineLen = 1000

// context is how many of the lines as expected Diff shows on each side of a
// difference, when there are many more.
const context = 3

// maxDiffLines is how many lines of a difference Diff shows; the rest is
// counted.
const maxDiffLines = 200

// Diff renders the difference between the expected and the actual transcript
// lines: common lines indented, missing ones with "-", unexpected ones with
// "+". The lines both start and end with are set aside first, so that a long
// transcript that differs in a few lines costs what those lines cost.
func Diff(want, got []string) string {
	if len(want) == 0 && len(got) == 0 {
		return "    (nothing)"
	}
	pre := 0
	for pre < len(want) && pre < len(got) && want[pre] == got[pre] {
		pre++
	}
	suf := 0
	for suf < len(want)-pre && suf < len(got)-pre && want[len(want)-1-suf] == got[len(got)-1-suf] {
		suf++
	}
	var lines []string
	add := func(mark, line string) {
		if len(lines) <= maxDiffLines {
			lines = append(lines, "    "+mark+" "+dsl.Elide(line, maxDiffLineLen))
		}
	}
	common := func(ls []string) {
		for _, l := range ls {
			add(" ", l)
		}
	}
	if pre > 2*context {
		add("…", fmt.Sprintf("(%d lines as expected)", pre-context))
		common(want[pre-context : pre])
	} else {
		common(want[:pre])
	}
	diffMiddle(want[pre:len(want)-suf], got[pre:len(got)-suf], add)
	if tail := want[len(want)-suf:]; suf > 2*context {
		common(tail[:context])
		add("…", fmt.Sprintf("(%d lines as expected)", suf-context))
	} else {
		common(tail)
	}
	if total := len(want) + len(got) - pre - suf; len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], fmt.Sprintf("    … (%d lines in all)", total))
	}
	return strings.Join(lines, "\n")
}

// diffMiddle lines up want and got by their longest common subsequence when
// the table for it is small enough, and else lists want's lines, then got's.
func diffMiddle(want, got []string, add func(mark, line string)) {
	n, m := len(want), len(got)
	if n*m > maxDiffCells {
		for _, l := range want {
			add("-", l)
		}
		for _, l := range got {
			add("+", l)
		}
		return
	}
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			add(" ", want[i])
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			add("-", want[i])
			i++
		default:
			add("+", got[j])
			j++
		}
	}
}
