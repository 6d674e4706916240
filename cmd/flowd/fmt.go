package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/flowd/flowd/dsl"
	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/project"
)

// runFmt implements `flowd fmt [-l] [-w] [paths...]` with gofmt's conventions:
// without paths it formats standard input; it exits 2 if a file does not parse.
func runFmt(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := newFlags("fmt", "flowd fmt [-l] [-w] [paths...]", "Formats .flow files (directories are searched recursively; no path: stdin).", stderr)
	list := fl.Bool("l", false, "list files whose formatting differs from flowd fmt's")
	write := fl.Bool("w", false, "write the result to the file instead of stdout")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		if *write {
			fmt.Fprintln(stderr, "flowd fmt: cannot use -w with standard input")
			return 2
		}
		src, err := textfile.ReadAll("standard input", stdin, dsl.MaxFileSize)
		if err != nil {
			fmt.Fprintf(stderr, "flowd fmt: %v\n", err)
			return 2
		}
		return formatOne("<standard input>", src, *list, false, stdout, stderr)
	}
	files, err := project.Files(fl.Args())
	if err != nil {
		fmt.Fprintf(stderr, "flowd fmt: %v\n", err)
		return 2
	}
	code := 0
	for _, name := range files {
		src, err := dsl.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "flowd fmt: %v\n", err)
			code = 2
			continue
		}
		if c := formatOne(name, src, *list, *write, stdout, stderr); c > code {
			code = c
		}
	}
	return code
}

func formatOne(name string, src []byte, list, write bool, stdout, stderr io.Writer) int {
	f, err := dsl.Parse(name, src)
	if err != nil {
		dsl.Render(stderr, src, err.(dsl.Diagnostics))
		return 2
	}
	out := dsl.Format(f)
	changed := !bytes.Equal(out, src)
	if list && changed {
		fmt.Fprintln(stdout, name)
	}
	if write {
		if changed {
			if err := os.WriteFile(name, out, 0o644); err != nil {
				fmt.Fprintf(stderr, "flowd fmt: %v\n", err)
				return 2
			}
		}
		return 0
	}
	if !list {
		stdout.Write(out)
	}
	return 0
}
