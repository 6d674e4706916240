package dsl_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/flowd/flowd/dsl"
)

// FuzzParse feeds arbitrary bytes to Parse and, when they parse, to Check.
// Neither may panic; a failed parse must come back as one positioned error.
//
//	go test ./dsl -run '^$' -fuzz '^FuzzParse$' -fuzztime 5m
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := dsl.Parse("fuzz.flow", src)
		if err != nil {
			ds, ok := err.(dsl.Diagnostics)
			if !ok || len(ds) != 1 || ds[0].Pos.Line < 1 || ds[0].Pos.Column < 1 {
				t.Fatalf("Parse error is not one positioned diagnostic: %#v", err)
			}
			return
		}
		for _, d := range dsl.Check(file) {
			if d.Pos.Line < 1 || d.Pos.Column < 1 {
				t.Fatalf("diagnostic without a position: %v", d)
			}
		}
	})
}

// FuzzFormat checks the formatter on every input that parses: its output must
// parse again, to the same tree (positions aside) with the same comments, and
// formatting that output must change nothing.
//
//	go test ./dsl -run '^$' -fuzz '^FuzzFormat$' -fuzztime 5m
func FuzzFormat(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := dsl.Parse("fuzz.flow", src)
		if err != nil {
			return
		}
		once := dsl.Format(file)
		again, err := dsl.Parse("fuzz.flow", once)
		if err != nil {
			t.Fatalf("formatted output does not parse: %v\ninput:\n%s\noutput:\n%s", err, src, once)
		}
		if a, b := shape(file), shape(again); a != b {
			t.Fatalf("formatting changed the tree\ninput:\n%s\noutput:\n%s\ntree before:\n%s\ntree after:\n%s", src, once, a, b)
		}
		if a, b := commentTexts(file), commentTexts(again); a != b {
			t.Fatalf("formatting changed the comments\ninput:\n%s\noutput:\n%s", src, once)
		}
		if twice := dsl.Format(again); !bytes.Equal(once, twice) {
			t.Fatalf("formatting is not a fixed point\ninput:\n%q\nonce:\n%q\ntwice:\n%q", src, once, twice)
		}
	})
}

// FuzzRepeat builds big inputs from small ones: a head, a unit repeated up
// to a few hundred thousand times, and a tail, so that the fuzzer explores
// deep nesting and long runs (of brackets, operators, blocks, references)
// that byte-level mutation of a small file never reaches. Parse, Check and
// Render must not crash, whatever the depth, and every diagnostic has a
// position. The seeds are the inputs that crashed flowd check before it
// bounded nesting.
//
//	go test ./dsl -run '^$' -fuzz '^FuzzRepeat$' -fuzztime 5m
func FuzzRepeat(f *testing.F) {
	head := "flow \"x\"\ntrigger manual\n"
	for _, s := range []struct {
		head, unit, tail string
		n                uint32
	}{
		{head, "if true {\n", "stop\n", 200000},
		{head, "if true {\n", "stop\n", 26000}, // under the file cap
		{head + "if ", "(", "true {}\n", 1000000},
		{head + "if ", "!", "true {}\n", 1000000},
		{head + "send \"${", "(", "1}\"\n", 1000000},
		{head + "send \"${", "!", "true}\"\n", 1000000},
		{head + "send \"", "$contact.firstname", "\"\n", 100000},
		{head + "if 1", " + 1", " > 0 {}\n", 100000},
		{head + "if ", "[", "1] {}\n", 100000},
		{head, "send \"$x\"\n", "", 50000},
		{head + "ask \"q\" {\n", "on invalid {\n", "", 100000},
		{head + "if contact.name matches \"", "a{1000}", "\" {}\n", 3000},
		{head + "if contact.name matches (\"\"", " + \"a{1000}\"", ") {}\n", 3000},
	} {
		f.Add(s.head, s.unit, s.tail, s.n)
	}
	f.Fuzz(func(t *testing.T, head, unit, tail string, n uint32) {
		if len(unit) == 0 {
			return
		}
		n %= 1 << 20
		// up to a few times the file cap: what crashed flowd was bigger than
		// the cap, and a file just under it must not crash either
		const most = 4 << 20
		if size := int64(len(head)) + int64(len(unit))*int64(n) + int64(len(tail)); size > most {
			n = uint32(max(0, most-len(head)-len(tail)) / len(unit))
		}
		src := []byte(head + strings.Repeat(unit, int(n)) + tail)
		var ds dsl.Diagnostics
		file, err := dsl.Parse("fuzz.flow", src)
		if err != nil {
			var ok bool
			if ds, ok = err.(dsl.Diagnostics); !ok || len(ds) != 1 {
				t.Fatalf("Parse error is not one diagnostic: %#v", err)
			}
		} else {
			ds = dsl.Check(file)
		}
		if len(ds) > dsl.MaxDiagnostics+1 {
			t.Fatalf("%d diagnostics, more than the cap", len(ds))
		}
		for _, d := range ds {
			if d.Pos.Line < 1 || d.Pos.Column < 1 {
				t.Fatalf("diagnostic without a position: %v", d)
			}
		}
		dsl.Render(io.Discard, src, ds)
	})
}

func commentTexts(f *dsl.File) string {
	var b strings.Builder
	for _, c := range f.Comments {
		b.WriteString(c.Text + "\n")
	}
	return b.String()
}

// addSeeds adds every flow of testdata/ (the sections of the parse archives,
// the chunks of errors.flow, the format inputs and goldens) and of ../flows,
// and a few inline flows.
func addSeeds(f *testing.F) {
	for _, s := range []string{
		"",
		"flow \"a\"\ntrigger manual\n",
		"flow \"a\" # c\ntrigger manual\nif a == 1 { stop } else if b { } else { send \"x\" } # d\n",
		"flow \"x\"\ntrigger manual\nsend \"${ {\"a\": \"}\"}[\"a\"] } $contact.name $$ ${'x'}\"\n",
		"flow \"x\"\ntrigger manual\nl: ask \"q\" timeout 5m {\n  # c\n  on timeout { jump to l max 2 }\n}\n",
	} {
		f.Add([]byte(s))
	}
	add := func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		switch {
		case strings.HasSuffix(path, ".txtar"):
			for _, file := range txtar.Parse(data).Files {
				if strings.HasSuffix(file.Name, ".flow") {
					f.Add(file.Data)
				}
			}
		case filepath.Base(path) == "errors.flow":
			for _, chunk := range strings.Split(string(data), "\n---\n") {
				f.Add([]byte(chunk))
			}
		default:
			f.Add(data)
		}
	}
	for _, pattern := range []string{"testdata/*.flow", "testdata/*/*.txtar", "testdata/format/*", "../flows/*.flow"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			add(p)
		}
	}
}
