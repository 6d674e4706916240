package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowd/flowd/internal/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

// TestMain lets the test binary act as flowd, so that scripts run the real
// command: `exec flowd check x.flow` runs run() in a child process with real
// standard streams, arguments and exit code.
func TestMain(m *testing.M) {
	testscript.Main(stopsPostgres{m}, map[string]func(){
		"flowd": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// stopsPostgres runs the tests, then stops the PostgreSQL they started.
type stopsPostgres struct{ m *testing.M }

func (s stopsPostgres) Run() int { return pgtest.Run(s.m) }

// TestScript runs testdata/script/*.txtar. With -update, a failing
// `cmp stdout want` or `cmp stderr want` rewrites the want file in the script.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Cmds:          map[string]func(ts *testscript.TestScript, neg bool, args []string){"jsondiags": jsonDiags},
	})
}

// jsonDiags checks that a file (stdout, or a path) holds the JSON form of
// flowd check --json: an array of objects, each with a file, a line, a column,
// a severity that is "error" or "warning", and a summary; and that it holds
// exactly the number of diagnostics given.
//
//	jsondiags stdout 3
func jsonDiags(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsondiags file count")
	}
	var diags []map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &diags); err != nil {
		ts.Fatalf("%s is not a JSON array of objects: %v", args[0], err)
	}
	if fmt.Sprint(len(diags)) != args[1] {
		ts.Fatalf("%s holds %d diagnostics, want %s", args[0], len(diags), args[1])
	}
	for i, d := range diags {
		for key, kind := range map[string]string{"file": "string", "line": "number", "column": "number", "severity": "string", "summary": "string"} {
			v, ok := d[key]
			if !ok {
				ts.Fatalf("diagnostic %d has no %q: %v", i, key, d)
			}
			if got := map[bool]string{true: "string", false: "number"}[isString(v)]; got != kind {
				ts.Fatalf("diagnostic %d: %q is a %s, want a %s", i, key, got, kind)
			}
		}
		if s := d["severity"]; s != "error" && s != "warning" {
			ts.Fatalf("diagnostic %d: severity %q", i, s)
		}
		if n := d["line"].(float64); n < 1 {
			ts.Fatalf("diagnostic %d: line %v", i, n)
		}
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// TestExitCodes checks the exit code of each outcome, which scripts can only
// tell apart as zero or not: 0 for success and warnings, 1 when check finds an
// error, 2 for a usage error or a file fmt cannot parse.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.flow", "flow \"Good\"\ntrigger manual\nsend \"hi\"\n")
	warn := write("warn.flow", "flow \"Warn\"\ntrigger manual\nstop\nsend \"never\"\n")
	bad := write("bad.flow", "flow \"Bad\"\ntrigger manual\nsend \"oops\n")
	label := write("label.flow", "flow \"Label\"\ntrigger manual\njump to nowhere max 1\n")
	tests := []struct {
		args  []string
		stdin string
		want  int
	}{
		{nil, "", 0},
		{[]string{"help"}, "", 0},
		{[]string{"nope"}, "", 2},
		{[]string{"check", good}, "", 0},
		{[]string{"check", warn}, "", 0},
		{[]string{"check", "--json", warn}, "", 0},
		{[]string{"check", bad}, "", 1},
		{[]string{"check", label}, "", 1},
		{[]string{"check", "--json", label}, "", 1},
		{[]string{"check", good, label}, "", 1},
		{[]string{"check", filepath.Join(dir, "missing.flow")}, "", 2},
		{[]string{"check", "--nope"}, "", 2},
		{[]string{"fmt", good}, "", 0},
		{[]string{"fmt", "-l", dir}, "", 2}, // bad.flow does not parse
		{[]string{"fmt", bad}, "", 2},
		{[]string{"fmt"}, "flow \"x\"\ntrigger manual\n", 0},
		{[]string{"fmt"}, "flow \"x\"\nsend \"", 2},
		{[]string{"fmt", "-w"}, "flow \"x\"\ntrigger manual\n", 2},
		{[]string{"fmt", "-x"}, "", 2},
		{[]string{"fmt"}, strings.Repeat("# a big standard input\n", 20000), 2}, // over the file cap
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		got := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if got != tt.want {
			t.Errorf("flowd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
				strings.Join(tt.args, " "), got, tt.want, stdout.String(), stderr.String())
		}
	}
}
