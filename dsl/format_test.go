package dsl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowd/flowd/dsl"
)

// TestFormat formats each testdata/format/NAME.input and compares the result
// with NAME.golden (go test ./dsl -update rewrites it). The golden file must
// format to itself, and must parse to the same tree as the input, positions
// aside: formatting changes the layout, never the meaning, and keeps every
// comment.
func TestFormat(t *testing.T) {
	inputs, err := filepath.Glob("testdata/format/*.input")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/format/*.input files")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, in, src)
			got := dsl.Format(f)
			goldenPath := strings.TrimSuffix(in, ".input") + ".golden"
			golden(t, goldenPath, got)

			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			g := mustParse(t, goldenPath, want)
			if again := dsl.Format(g); !bytes.Equal(again, want) {
				t.Errorf("formatting %s changes it (-golden +formatted):\n%s", goldenPath, cmp.Diff(string(want), string(again)))
			}
			if diff := cmp.Diff(shape(f), shape(g)); diff != "" {
				t.Errorf("%s and %s parse to different trees (-input +golden):\n%s", in, goldenPath, diff)
			}
		})
	}
}

// shape is the dump of a tree with positions left out, and comments reduced
// to their text: what formatting must keep.
func shape(f *dsl.File) string {
	return rePosition.ReplaceAllString(dump(f), "")
}

func mustParse(t *testing.T, name string, src []byte) *dsl.File {
	t.Helper()
	f, err := dsl.Parse(name, src)
	if err != nil {
		var b strings.Builder
		dsl.Render(&b, src, err.(dsl.Diagnostics))
		t.Fatalf("parse:\n%s", b.String())
	}
	return f
}

// TestFormatFlows guards the bundled templates: every flows/*.flow file must be
// formatted already (flowd fmt -l prints nothing) and check without errors.
func TestFormatFlows(t *testing.T) {
	paths, err := filepath.Glob("../flows/*.flow")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no flows/*.flow files: the bundled templates are missing")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := dsl.Parse(path, src)
			if err != nil {
				var b strings.Builder
				dsl.Render(&b, src, err.(dsl.Diagnostics))
				t.Fatalf("does not parse:\n%s", b.String())
			}
			if ds := dsl.Check(f); ds.HasErrors() {
				var b strings.Builder
				dsl.Render(&b, src, ds)
				t.Errorf("check reports errors:\n%s", b.String())
			}
			if got := dsl.Format(f); !bytes.Equal(got, src) {
				t.Errorf("not formatted; run flowd fmt -w %s (-file +formatted):\n%s", path, cmp.Diff(string(src), string(got)))
			}
		})
	}
}
