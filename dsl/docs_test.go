package dsl_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/flowd/flowd/dsl"
)

// TestDocExamples checks every ```flow block of the language reference and
// the README. A fragment is completed with what it lacks: a name, a manual
// trigger, and a last step. Examples that show a mistake are fenced as
// ```text instead.
func TestDocExamples(t *testing.T) {
	block := regexp.MustCompile("(?s)```flow\n(.*?)```")
	for _, doc := range []string{"../docs/language.md", "../README.md"} {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		blocks := block.FindAllStringSubmatch(string(src), -1)
		if doc == "../docs/language.md" && len(blocks) < 40 {
			t.Fatalf("%s: only %d flow examples", doc, len(blocks))
		}
		for i, b := range blocks {
			code := b[1]
			// complete a fragment: a name, a trigger, a step
			if !hasLine(code, "trigger ") {
				code = "trigger manual\n" + code
			}
			if !hasLine(code, "flow ") {
				code = "flow \"example\"\n" + code
			}
			code += "\nsend \"example\"\n"
			f, err := dsl.Parse("example.flow", []byte(code))
			if err != nil {
				t.Errorf("%s: example %d does not parse: %v\n%s", doc, i+1, err, b[1])
				continue
			}
			if ds := dsl.Check(f); ds.HasErrors() {
				t.Errorf("%s: example %d: %v\n%s", doc, i+1, ds, b[1])
			}
		}
	}
}

// hasLine reports whether a line of s starts with prefix.
func hasLine(s, prefix string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), prefix) {
			return true
		}
	}
	return false
}
