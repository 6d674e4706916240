package repl

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/flowd/flowd/internal/textfile"
	"golang.org/x/term"
)

// A lineReader gives one input line at a time; io.EOF ends the session.
type lineReader interface {
	ReadLine() (string, error)
}

// prompt is shown before each line typed at a terminal.
const prompt = "> "

// openInput returns where the lines come from and where the output goes.
// When in and out are both a terminal, in is put into raw mode and read
// through a term.Terminal, which gives line editing and an in-memory history
// (up and down arrows); Ctrl-C and Ctrl-D end the input. Otherwise the lines
// are read as they come. restore gives the terminal back as it was.
func openInput(in io.Reader, out io.Writer) (lines lineReader, w io.Writer, terminal bool, restore func()) {
	inFile, ok1 := in.(*os.File)
	outFile, ok2 := out.(*os.File)
	if ok1 && ok2 && term.IsTerminal(int(inFile.Fd())) && term.IsTerminal(int(outFile.Fd())) {
		if t, restore, err := rawTerminal(inFile, outFile); err == nil {
			return t, t, true, restore
		}
	}
	return scanLines{textfile.NewLines(in, MaxLineLen)}, out, false, func() {}
}

// rawTerminal puts in into raw mode. The terminal is restored by the returned
// function, and also when the process is told to hang up or terminate.
func rawTerminal(in, out *os.File) (*term.Terminal, func(), error) {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, err
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, prompt)
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		t.SetSize(w, h)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			term.Restore(fd, state)
			os.Exit(1)
		case <-done:
		}
	}()
	restore := func() {
		signal.Stop(sigs)
		close(done)
		out.WriteString("\r\n") // leave the prompt's line
		term.Restore(fd, state)
	}
	return t, restore, nil
}

// MaxLineLen is the longest input line the REPL reads from a pipe or a
// file; a longer one is reported and skipped. At a terminal, x/term keeps at
// most 4096 bytes of a line.
const MaxLineLen = 1 << 20

// scanLines reads lines from a pipe or a file.
type scanLines struct{ l *textfile.Lines }

func (l scanLines) ReadLine() (string, error) {
	line, _, err := l.l.Next()
	return strings.TrimRight(line, "\r"), err
}
