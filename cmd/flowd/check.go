package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/flowd/flowd/config"
	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/project"
)

// runCheck implements `flowd check [--json] [paths...]`. It exits 1 when any
// file has an error; warnings alone exit 0. A directory's workspace file
// (flowd.toml) is checked with its flows, and so is one named.
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
	files, err := project.Files(paths)
	if err != nil {
		fmt.Fprintf(stderr, "flowd check: %v\n", err)
		return 2
	}
	res := checkFiles(files)
	for _, ws := range workspaceFiles(paths) { // checked beside the flows
		_, src, diags := config.Load(ws)
		files = append(files, ws)
		res.src[ws], res.diags[ws] = src, diags
		res.failed = res.failed || diags.HasErrors()
	}
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
// even when only one file is checked. Siblings are loaded, not reported on.
func checkFiles(files []string) checkResult {
	res := checkResult{src: map[string][]byte{}, diags: map[string]dsl.Diagnostics{}}
	requested := map[string]bool{}
	universe := append([]string(nil), files...)
	for _, f := range files {
		requested[f] = true
	}
	for _, f := range files {
		for _, s := range project.Siblings(f) {
			if _, seen := requested[s]; !seen {
				requested[s] = false // loaded for start steps, not reported on
				universe = append(universe, s)
			}
		}
	}
	for _, f := range project.Load(universe, project.Options{NoCompile: true}) {
		if !requested[f.Path] {
			continue
		}
		res.src[f.Path], res.diags[f.Path] = f.Source, f.Diags
		res.failed = res.failed || f.Diags.HasErrors()
	}
	return res
}
