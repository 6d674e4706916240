package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The project checks run across the files loaded together: a name defined
// twice is an error of the later file, a start naming no flow one of the
// starting file; either has no program.
func TestLoadRunsProjectChecks(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.flow", "flow \"A\"\ntrigger manual\nstart \"Nope\"\n")
	b := write(t, dir, "b.flow", "flow \"B\"\ntrigger manual\nsend \"b\"\n")
	c := write(t, dir, "c.flow", "flow \"B\"\ntrigger manual\nsend \"c\"\n")
	flows := Load([]string{c, b, a}, Options{Name: filepath.Base})
	if len(flows) != 3 || flows[0].Path != a || flows[1].Path != b || flows[2].Path != c {
		t.Fatalf("flows not in path order: %v", flows)
	}
	want := map[string]string{"a.flow": `no flow is named "Nope"`, "b.flow": "", "c.flow": `flow "B" is also defined in b.flow`}
	for _, f := range flows {
		got := ""
		for _, d := range f.Diags {
			got += d.Summary
		}
		if w := want[f.Name]; !strings.Contains(got, w) || (w == "") != !f.Failed() {
			t.Errorf("%s: diagnostics %q, failed %v; want %q", f.Name, got, f.Failed(), w)
		}
	}
}

// A file loaded again with the same source is not compiled again; an
// edited one is.
func TestLoadCaches(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.flow", "flow \"A\"\ntrigger manual\nsend \"one\"\n")
	first := Load([]string{a}, Options{})[0]
	again := Load([]string{a}, Options{})[0]
	if first.Program == nil || again.Program != first.Program {
		t.Errorf("loaded again: %p, first %p", again.Program, first.Program)
	}
	write(t, dir, "a.flow", "flow \"A\"\ntrigger manual\nsend \"two\"\n")
	edited := Load([]string{a}, Options{})[0]
	if edited.Program == nil || edited.Program.Hash == first.Program.Hash {
		t.Errorf("an edited file kept its program")
	}
	if named := Load([]string{a}, Options{Name: filepath.Base})[0]; named.Program == edited.Program || named.Program.File != "a.flow" {
		t.Errorf("loaded under another name: %s", named.Program.File)
	}
}

// ReadHead reads the name and whether the trigger is manual without
// parsing, past a long comment too.
func TestReadHead(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		src    string
		name   string
		manual bool
		ok     bool
	}{
		{"flow \"A\"\ntrigger manual\nsend \"x\"\n", "A", true, true},
		{"# hello\n\nflow \"B C\"\ntrigger tag added \"x\"\n", "B C", false, true},
		{strings.Repeat("# long comment line\n", 400) + "flow \"D\"\ntrigger manual when contact.x\n", "D", true, true},
		{"trigger manual\n", "", false, false},
	} {
		h, ok := ReadHead(write(t, dir, "x.flow", c.src))
		if ok != c.ok || h.Name != c.name || h.Manual != c.manual {
			t.Errorf("ReadHead(%.30q) = %+v %v", c.src, h, ok)
		}
	}
}
