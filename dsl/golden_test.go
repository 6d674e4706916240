package dsl_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update rewrites golden files with the output the tests see:
//
//	go test ./dsl -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the actual output")

// golden compares got with the contents of the file at path, or with -update
// writes got there.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dsl -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (-want +got); if the change is intended, run go test ./dsl -update\n%s",
			path, cmp.Diff(string(want), string(got)))
	}
}
