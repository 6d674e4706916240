package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepl checks that flowd repl runs the flow (the first message starts
// it), reads piped input to its
// end and exits 0, and that its usage errors exit 2 and a broken flow 1.
func TestRepl(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hello.flow")
	src := "flow \"Hello\"\ntrigger conversation opened by contact\nask text \"Name?\" save Name\nsend \"Hi $Name\"\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"repl", path}, strings.NewReader("hi\nAna\n:vars\n"), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"user: hi\nbot: Name?\nuser: Ana\nbot: Hi Ana\n* end\n", "  Name = \"Ana\"\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(dir, "bad.flow")
	os.WriteFile(bad, []byte("flow \"Bad\"\ntrigger manual\nsend \"oops\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"repl", "--flow", "Hello", dir}, 0},
		{[]string{"repl", dir, "--flow", "Hello"}, 0},
		{[]string{"repl"}, 2},
		{[]string{"repl", path, path}, 2},
		{[]string{"repl", "--nope", path}, 2},
		{[]string{"repl", filepath.Join(dir, "missing.flow")}, 2},
		{[]string{"repl", bad}, 1},
	} {
		out.Reset()
		errOut.Reset()
		if got := run(tt.args, strings.NewReader(""), &out, &errOut); got != tt.want {
			t.Errorf("flowd %s: exit %d, want %d\nstderr:\n%s", strings.Join(tt.args, " "), got, tt.want, errOut.String())
		}
	}
}
