// Package repl owns `flowd repl`: a session in which a person plays the
// contact of a flow. It loads the flow (and its sibling flows, for start
// steps) into a sandbox world, starts it as if the contact had just opened a
// conversation, and prints the world's transcript as the flow acts:
//
//	bot: Do you accept our privacy policy? [ACCEPT AND CONTINUE]
//	> :wait 5m
//	bot: We did not receive your consent, so we are closing this conversation.
//	* close conversation
//	* end
//
// Each input line is a message from the contact, or a command when it starts
// with ':' (the table is in commands.go; :help lists it). Commands move the
// clock, change the contact, answer HTTP requests the world holds, show the
// runs' variables, continuations and bytecode, reload the files, and dump the
// session since the flow last started as a .flowtest case (session.go).
//
// The package reads from an io.Reader and writes to an io.Writer; when the
// reader is a terminal it adds line editing and history (term.go).
package repl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flowd/flowd/internal/textfile"
	"github.com/flowd/flowd/interpreter"
	"github.com/flowd/flowd/sandbox"
)

// Options says what to run.
type Options struct {
	Path string // a .flow file, or a directory of them
	Flow string // the flow to run, by name; "" runs the file, or a directory's first inbound flow
}

// Run loads the flows, starts the chosen one, and reads input lines until the
// input ends or :quit. It returns the exit code: 0 at the end of the input, 1
// when the flow does not compile (its diagnostics go to errOut), 2 when there
// is nothing to run.
func Run(opts Options, in io.Reader, out, errOut io.Writer) int {
	proj, ff, code := loadAndPick(opts, errOut)
	if proj == nil {
		return code
	}
	lines, out, terminal, restore := openInput(in, out)
	defer restore()
	s, err := newSession(proj, ff, out, !terminal)
	if err != nil {
		fmt.Fprintf(errOut, "flowd repl: %v\n", err)
		return 1
	}
	defer s.world.Close()
	direct := !proj.dir || opts.Flow != ""
	s.banner(ff, direct)
	s.begin(ff, direct)
	for !s.quit {
		line, err := lines.ReadLine()
		var long *textfile.LineTooLongError
		switch {
		case errors.As(err, &long):
			s.printf("error: input line %d: %v; it was skipped", long.Line, err)
			continue
		case err == io.EOF:
			return 0
		case err != nil:
			fmt.Fprintf(errOut, "flowd repl: reading input: %v\n", err)
			return 1
		}
		s.handle(line)
	}
	return 0
}

// loadAndPick loads the project and picks the flow to run; on failure it reports to
// errOut and returns a nil project and the exit code.
func loadAndPick(opts Options, errOut io.Writer) (*project, *flowFile, int) {
	proj, err := loadProject(opts.Path, errOut)
	if err == nil {
		var ff *flowFile
		if ff, err = proj.pick(opts.Flow); err == nil {
			return proj, ff, 0
		}
	}
	fmt.Fprintf(errOut, "flowd repl: %v\n", err)
	if errors.Is(err, errCompile) {
		return nil, nil, 1
	}
	return nil, nil, 2
}

func (s *session) banner(ff *flowFile, direct bool) {
	if direct {
		s.printf("# flow %q (%s): type a message as the contact: it opens a conversation and starts the flow; :help lists the commands", ff.prog.Flow, ff.path)
		return
	}
	s.printf("# the flows of %s: type a message as the contact: it opens a conversation, and the flows whose triggers take it start; :help lists the commands", s.proj.path)
}

// handle acts on one input line. A bug met on the way is reported, and the
// session goes on.
func (s *session) handle(line string) {
	defer func() {
		if e := recover(); e != nil {
			s.printf("error: internal error: %v", e)
		}
	}()
	line = strings.TrimSpace(line)
	switch {
	case line == "":
	case strings.HasPrefix(line, ":"):
		if s.piped {
			s.printf("%s", sandbox.Escape(line))
		}
		s.command(line)
	default:
		s.say(line)
	}
}

// say delivers a message from the contact, cleaned as any text from
// outside is (and so recorded for :dump).
func (s *session) say(text string) {
	text = interpreter.CleanText(text)
	if s.piped {
		s.printf("user: %s", sandbox.Escape(text))
	}
	if ff := s.pending; ff != nil { // the first message starts the flow
		s.pending = nil
		s.do("user: "+text, func() { s.report(s.world.Say(text)) })
		trigger := triggerData(ff.file)
		s.rec.setup = append(s.rec.setup, fieldLines("trigger", trigger, nil)...)
		s.do("start", func() { s.report(s.world.StartFlow(ff.prog, trigger)) })
		return
	}
	waiting, err := s.world.WaitingFor(interpreter.WaitReply)
	s.report(err)
	if n := s.do("user: "+text, func() { s.report(s.world.Say(text)) }); !waiting && n == 0 {
		s.printf("# no run is waiting for a reply (:state shows the runs; :start starts the flow again)")
	}
}
