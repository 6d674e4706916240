package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/flowd/flowd/runtime"
	"github.com/flowd/flowd/server"
)

// runRuns implements `flowd runs migrate`: a flow's paused runs moved to its
// current version, by their steps' labels.
func runRuns(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return runsMigrate(ctx, args, os.Getenv, stdout, stderr)
}

func runsMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	or := envOr(getenv)
	fl := newFlags("runs migrate", "flowd runs migrate [--flows DIR] [--db FILE|postgres://...] [--apply] [FLOW...]",
		"Moves the runs paused in earlier versions of flows (all, or those named) to the versions in the flows' directory,\n"+
			"each to the step with the label it waits at. Without --apply, it moves none and says what it would do.\n"+
			"A run paused at an unlabelled step, or at a label that is gone or waits for something else, stays.\n"+
			"The embedded store is one process's: while flowd serve runs on it, use POST /v2/flowd/flows/{flow}/migrate.", stderr)
	if len(args) == 0 || args[0] != "migrate" {
		fl.Usage()
		return 2
	}
	var flows, db string
	var apply bool
	fl.StringVar(&flows, "flows", or("FLOWD_FLOWS", "flows"), "the flows' directory (FLOWD_FLOWS)")
	storeFlag(fl, &db, getenv)
	fl.BoolVar(&apply, "apply", false, "move the runs; without it, a dry run")
	if err := fl.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "flowd runs migrate: %v\n", err)
		return 1
	}
	ld, err := (&server.Library{Dir: flows}).Load()
	if err != nil {
		return fail(err)
	}
	if len(ld.Stale) > 0 || len(ld.Flows) < len(ld.Files) {
		return fail(fmt.Errorf("%s has flows with errors: flowd check %s", flows, flows))
	}
	st, err := openStore(db)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	e, err := runtime.New(ctx, st, ld.Flows, runtime.Config{})
	if err != nil {
		return fail(err)
	}
	names := fl.Args()
	if len(names) == 0 {
		for _, p := range e.Flows() {
			names = append(names, p.Flow)
		}
	}
	moved, left := 0, 0
	for _, name := range names {
		for after := int64(0); ; { // a page of runs at a time
			moves, next, err := e.MigrateRuns(ctx, name, apply, after, 0)
			if err != nil {
				return fail(err)
			}
			for _, m := range moves {
				if m.Moved {
					moved++
					verb := "would move"
					if apply {
						verb = "moved"
					}
					fmt.Fprintf(stdout, "%s: run %d (contact %s) at step %s: %s from %s to %s\n", name, m.Run, m.Contact, m.Step, verb, m.From, m.To)
				} else {
					left++
					fmt.Fprintf(stdout, "%s: run %d (contact %s) stays on %s: %s\n", name, m.Run, m.Contact, m.From, m.Reason)
				}
			}
			if after = next; after == 0 {
				break
			}
		}
	}
	if apply {
		fmt.Fprintf(stdout, "%d runs moved, %d stay\n", moved, left)
	} else {
		fmt.Fprintf(stdout, "%d runs would move, %d would stay: a dry run; --apply moves them\n", moved, left)
	}
	return 0
}
