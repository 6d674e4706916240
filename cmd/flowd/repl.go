package main

import (
	"io"

	"github.com/flowd/flowd/repl"
)

// runRepl implements `flowd repl [--flow NAME] FILE|DIR`: chat with a flow as
// its contact. The session itself lives in package repl.
func runRepl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("repl", "flowd repl [--flow NAME] FILE|DIR", "Starts the flow as if the contact opened a conversation; type messages, or :help for commands.", stderr)
	flow := fl.String("flow", "", "with a directory: the flow to run (default: the first inbound flow by group priority)")
	var paths []string
	for {
		if err := fl.Parse(args); err != nil {
			return 2
		}
		if fl.NArg() == 0 {
			break
		}
		paths, args = append(paths, fl.Arg(0)), fl.Args()[1:]
	}
	if len(paths) != 1 {
		fl.Usage()
		return 2
	}
	return repl.Run(repl.Options{Path: paths[0], Flow: *flow}, stdin, stdout, stderr)
}
