package main

import (
	"fmt"
	"io"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/graph"
	"github.com/flowd/flowd/interpreter"
)

// runGraph implements `flowd graph [--dot] FILE`: the flow as a Mermaid (or
// DOT) diagram with its branches labelled.
func runGraph(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("graph", "flowd graph [--dot] FILE", "", stderr)
	dot := fl.Bool("dot", false, "print Graphviz DOT instead of Mermaid")
	if err := fl.Parse(args); err != nil {
		return 2 // flag has printed the problem and the usage
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	f, src, code := parseOne(fl.Arg(0), stderr)
	if f == nil {
		return code
	}
	if ds := dsl.Check(f); ds.HasErrors() {
		dsl.Render(stderr, src, ds)
		return 1
	}
	g := graph.Build(f)
	if *dot {
		g.DOT(stdout)
	} else {
		g.Mermaid(stdout)
	}
	return 0
}

// runDisasm implements `flowd disasm FILE`: the compiled program, one
// instruction a line with its step and .flow position.
func runDisasm(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: flowd disasm FILE")
		return 2
	}
	src, err := dsl.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "flowd disasm: %v\n", err)
		return 2
	}
	p, ds, err := interpreter.CompileSource(args[0], src)
	if err != nil {
		if ds.HasErrors() {
			dsl.Render(stderr, src, ds)
		} else {
			fmt.Fprintf(stderr, "flowd disasm: %v\n", err)
		}
		return 1
	}
	p.Disassemble(stdout)
	return 0
}

// parseOne reads and parses a file, rendering any syntax error; on failure it
// returns a nil file and the exit code.
func parseOne(path string, stderr io.Writer) (*dsl.File, []byte, int) {
	src, err := dsl.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "flowd: %v\n", err)
		return nil, nil, 2
	}
	f, err := dsl.Parse(path, src)
	if err != nil {
		dsl.Render(stderr, src, err.(dsl.Diagnostics))
		return nil, src, 1
	}
	return f, src, 0
}
