package dsl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/flowd/flowd/dsl"
)

// TestParse parses each NAME.flow section of testdata/parse/*.txtar and compares
// the dump of its syntax tree with the NAME.ast section that follows it. With
// -update the .ast sections are rewritten in place.
func TestParse(t *testing.T) {
	paths, err := filepath.Glob("testdata/parse/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no testdata/parse/*.txtar files")
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			changed := false
			for i := 0; i < len(ar.Files); i++ {
				src := ar.Files[i]
				if !strings.HasSuffix(src.Name, ".flow") {
					t.Fatalf("section %q: want NAME.flow sections, each followed by NAME.ast", src.Name)
				}
				astName := strings.TrimSuffix(src.Name, ".flow") + ".ast"
				f, err := dsl.Parse(src.Name, src.Data)
				if err != nil {
					t.Errorf("%s: %v", src.Name, err)
					continue
				}
				got := dump(f)
				if i+1 >= len(ar.Files) || ar.Files[i+1].Name != astName {
					if !*update {
						t.Errorf("%s: no %s section after it (run with -update to add it)", src.Name, astName)
						continue
					}
					ar.Files = append(ar.Files[:i+1], append([]txtar.File{{Name: astName}}, ar.Files[i+1:]...)...)
				}
				i++
				want := string(ar.Files[i].Data)
				if got == want {
					continue
				}
				if *update {
					ar.Files[i].Data = []byte(got)
					changed = true
					continue
				}
				t.Errorf("%s: syntax tree differs (-want +got):\n%s", src.Name, cmp.Diff(want, got))
			}
			if changed {
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestParseKeepsComments checks that Parse hands every # comment to the
// formatter, in source order and with its position, including comments that
// follow a condition, which the scanner reads as one token.
func TestParseKeepsComments(t *testing.T) {
	src := []byte("# one\nflow \"x\" # two\ntrigger manual\nif a == 1 # three\n{\n  stop # four\n}\n# five")
	f, err := dsl.Parse("c.flow", src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.Comments {
		got = append(got, pos(c.Pos)+" "+c.Text)
	}
	want := []string{"1:1 # one", "2:10 # two", "4:11 # three", "6:8 # four", "8:1 # five"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	if !bytes.Equal(f.Src, src) {
		t.Errorf("File.Src is not the source that was parsed")
	}
	if f.Filename() != "c.flow" {
		t.Errorf("Filename() = %q, want %q", f.Filename(), "c.flow")
	}
}
