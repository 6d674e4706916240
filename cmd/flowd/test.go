package main

import (
	"fmt"
	"io"

	"github.com/flowd/flowd/flowtest"
)

// runTest implements `flowd test [-v] [paths...]`: it runs .flowtest files
// (directories recursively; default .) and exits 1 if any case fails.
func runTest(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("test", "flowd test [-v] [paths...]", "Runs the scripted conversations in .flowtest files (see docs/testing.md).", stderr)
	verbose := fl.Bool("v", false, "list passing cases too")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	paths := fl.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	_, failed, err := flowtest.Run(paths, stdout, *verbose)
	if err != nil {
		fmt.Fprintf(stderr, "flowd test: %v\n", err)
		return 2
	}
	if failed > 0 {
		return 1
	}
	return 0
}
