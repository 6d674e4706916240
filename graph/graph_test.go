package graph

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowd/flowd/dsl"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden draws each testdata/*.flow and compares with its .mmd and .dot.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.flow")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := dsl.Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			g := Build(f)
			var mmd, dot bytes.Buffer
			g.Mermaid(&mmd)
			g.DOT(&dot)
			golden(t, strings.TrimSuffix(path, ".flow")+".mmd", mmd.Bytes())
			golden(t, strings.TrimSuffix(path, ".flow")+".dot", dot.Bytes())
		})
	}
}

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
		t.Fatalf("%v (run go test ./graph -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestEdges checks the paths a reader relies on: branches labelled, blocks
// falling through to the next step, stop going to the end, jumps both ways.
func TestEdges(t *testing.T) {
	src := `flow "x"
trigger manual
q: ask email "Email?" retry 1 timeout 5m {
  on timeout {
    stop
  }
}
if contact.email == "" {
  jump to q max 2
}
send "done"
`
	f, err := dsl.Parse("x.flow", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g := Build(f)
	label := map[string]string{}
	for _, n := range g.Nodes {
		label[n.ID] = n.Label
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, label[e.From]+" -"+e.Label+"-> "+label[e.To])
	}
	got := strings.Join(edges, "\n")
	want := strings.Join([]string{
		"started by another flow --> q: ask email Email?",
		"q: ask email Email? -timeout-> stop",
		"q: ask email Email? -answered-> if contact.email == \"\"",
		"q: ask email Email? -invalid-> end",
		"stop --> end",
		"if contact.email == \"\" -yes-> jump to q",
		"if contact.email == \"\" -no-> send done",
		"jump to q -jump (at most 2)-> q: ask email Email?",
		"jump to q -once spent-> send done",
		"send done --> end",
	}, "\n")
	if got != want {
		t.Errorf("edges:\n%s\nwant:\n%s", got, want)
	}
}

// TestImplicitPaths: a during with only one branch still has its other path,
// and outcomes without a branch end the run.
func TestImplicitPaths(t *testing.T) {
	src := `flow "x"
trigger manual
during mon-fri 09:00-18:00 {
  on inside {
    send "open"
  }
}
assign team "Support" {
  on timeout {
    send "nobody"
  }
}
ai reply "Help" {
  on human {
    stop
  }
}
`
	f, err := dsl.Parse("x.flow", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g := Build(f)
	label := map[string]string{}
	for _, n := range g.Nodes {
		label[n.ID] = n.Label
	}
	got := map[string]bool{}
	for _, e := range g.Edges {
		got[label[e.From]+" -"+e.Label+"-> "+label[e.To]] = true
	}
	for _, want := range []string{
		"during mon-fri 09:00-18:00 -inside-> send open",
		"during mon-fri 09:00-18:00 -outside-> assign team Support",
		"assign team Support -assigned-> ai reply",
		"ai reply -unable, idle, failure-> end",
		"ai reply -success-> end",
	} {
		if !got[want] {
			t.Errorf("missing edge %q in %v", want, got)
		}
	}
	for e := range got {
		if strings.HasPrefix(e, "assign team Support -timeout-> end") {
			t.Errorf("assign has a timeout branch, yet %q", e)
		}
	}
}
