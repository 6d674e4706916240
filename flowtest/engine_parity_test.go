package flowtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// differencesFile lists the bundled cases that fail on the engine world,
// each with the reason: which side is right, and why.
const differencesFile = "testdata/engine_differences.txt"

// TestBundledOnEngine runs every bundled .flowtest on the engine world
// (sandbox.EngineWorld) as well. A case that fails there must be listed in
// differencesFile with its reason; a listed case that passes fails the
// test too, so that the list only shrinks.
func TestBundledOnEngine(t *testing.T) {
	listed, err := readDifferences(differencesFile)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../flows/*.flowtest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled .flowtest files: %v", err)
	}
	seen := map[string]bool{}
	var unlisted []string
	for _, f := range files {
		results, err := RunFileOn(f, OnEngine)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range results {
			key := filepath.Base(f) + ": " + r.Case.Name
			seen[key] = true
			_, isListed := listed[key]
			switch {
			case !r.Passed() && !isListed:
				unlisted = append(unlisted, fmt.Sprintf("%s\n    %s", key, strings.ReplaceAll(strings.Join(r.Failures, "\n"), "\n", "\n    ")))
			case r.Passed() && isListed:
				t.Errorf("%s passes on the engine now: take it off %s", key, differencesFile)
			}
		}
	}
	for _, u := range unlisted {
		t.Errorf("fails on the engine, and is not in %s:\n%s", differencesFile, u)
	}
	var gone []string
	for key := range listed {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)
	for _, key := range gone {
		t.Errorf("%s lists %q, which no bundled .flowtest has", differencesFile, key)
	}
}

// readDifferences reads the list: a line `FILE: CASE` then the reason on
// lines that start with white space; # comments and blank lines aside.
func readDifferences(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	var key string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if key == "" {
				return nil, fmt.Errorf("%s:%d: a reason before any case", path, n)
			}
			out[key] = strings.TrimSpace(out[key] + " " + strings.TrimSpace(line))
		default:
			key = line
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("%s:%d: %q listed twice", path, n, key)
			}
			out[key] = ""
		}
	}
	for k, why := range out {
		if why == "" {
			return nil, fmt.Errorf("%s: %q has no reason", path, k)
		}
	}
	return out, sc.Err()
}
