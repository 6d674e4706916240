// Command flowd runs chat-automation flows written as .flow files: serve
// runs them as a service, and check, fmt, test, repl, disasm and graph are
// the flow authors' tools. Each subcommand is a thin layer over its
// package: server, config, dsl, flowtest, repl, interpreter, graph.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// A command is one subcommand: it takes its arguments and the standard streams
// and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the flows as a service: respond.io's Custom Channel webhook over HTTP", runServe},
		{"check", "report errors and warnings in .flow files and the workspace file", runCheck},
		{"fmt", "print .flow files in the canonical layout", runFmt},
		{"test", "run the scripted conversations in .flowtest files", runTest},
		{"repl", "chat with a flow as its contact", runRepl},
		{"disasm", "print the bytecode a .flow file compiles to", runDisasm},
		{"graph", "print a flow as a Mermaid (or DOT) diagram", runGraph},
		{"runs", "runs migrate: move paused runs to their flows' new versions by label", runRuns},
		{"bench", "measure turns/s and latency over HTTP, and the engine alone", runBench},
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// gcPercent is flowd's GOGC unless the environment sets one: its live heap
// is small (flows, a contact cache, the turns under way), and a turn
// allocates much that dies with it, so collecting when the heap has grown
// four times over, not twice, leaves the CPU to turns. GOMEMLIMIT bounds
// the heap where memory is tight.
const gcPercent = 400

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "flowd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// newFlags makes a subcommand's flag set, whose -h prints the usage line,
// what the command does, and its flags.
func newFlags(name, usage, about string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: "+usage)
		if about != "" {
			fmt.Fprintln(stderr, about)
		}
		fl.PrintDefaults()
	}
	return fl
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: flowd <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "run 'flowd <command> -h' for a command's options")
}
