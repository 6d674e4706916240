package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/flowd/flowd/dsl"
)

// runCheck implements `flowd check [--json] [paths...]`. It exits 1 when any
// file has an error; warnings alone exit 0.
func runCheck(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("check", "flowd check [--json] [paths...]", "Checks .flow files (directories are searched recursively; default .).", stderr)
	asJSON := fl.Bool("json", false, "print diagnostics as a JSON array on stdout")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := flowFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "flowd check: %v\n", err)
		return 2
	}
	res := checkFiles(files)
	if *asJSON {
		all := dsl.Diagnostics{}
		for _, f := range files {
			all = append(all, res.diags[f]...)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(all)
	} else {
		for _, f := range files {
			dsl.Render(stderr, res.src[f], res.diags[f])
		}
	}
	if res.failed {
		return 1
	}
	return 0
}

type checkResult struct {
	src    map[string][]byte
	diags  map[string]dsl.Diagnostics
	failed bool
}

// checkFiles checks each file on its own, then the files together with their
// sibling flows, so that a start step can name a flow in the same directory
// even when only one file is checked.
func checkFiles(files []string) checkResult {
	res := checkResult{src: map[string][]byte{}, diags: map[string]dsl.Diagnostics{}}
	requested := map[string]bool{}
	for _, f := range files {
		requested[f] = true
	}
	universe := append([]string(nil), files...)
	for _, f := range files {
		siblings, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*.flow"))
		for _, s := range siblings {
			if _, seen := requested[s]; !seen {
				requested[s] = false // loaded for start steps, not reported on
				universe = append(universe, s)
			}
		}
	}
	// CheckProject blames a duplicate flow name on the later file, so give it
	// the files in one order however they were named on the command line.
	sort.Strings(universe)
	var parsed []*dsl.File
	for _, name := range universe {
		src, err := dsl.ReadFile(name)
		if err != nil {
			msg := err.Error()
			if pe, ok := err.(*fs.PathError); ok {
				msg = pe.Err.Error() // the path is the diagnostic's
			}
			res.diags[name] = dsl.Diagnostics{{Pos: lexer.Position{Filename: name}, Summary: msg}}
			res.failed = res.failed || requested[name]
			continue
		}
		res.src[name] = src
		f, err := dsl.Parse(name, src)
		if err != nil {
			if requested[name] {
				res.diags[name] = err.(dsl.Diagnostics)
				res.failed = true
			}
			continue
		}
		parsed = append(parsed, f)
		if requested[name] {
			res.diags[name] = dsl.Check(f)
		}
	}
	for _, d := range dsl.CheckProject(parsed) {
		if requested[d.Pos.Filename] {
			res.diags[d.Pos.Filename] = append(res.diags[d.Pos.Filename], d)
		}
	}
	for name, ds := range res.diags {
		ds.Sort()
		res.diags[name] = ds.Limit()
		if ds.HasErrors() && requested[name] {
			res.failed = true
		}
	}
	return res
}
