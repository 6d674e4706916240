// Package flowtest reads and runs scripted conversations with a flow: the
// `.flowtest` files that `flowd test` runs and that the REPL's :dump writes.
//
// A file holds cases. Each case sets up the world, then alternates events
// (what the contact, an agent or the clock does) with the transcript lines
// expected after each event, and may assert on the final state:
//
//	# tests for request_consent_privacy.flow (the default: the same base name)
//	flow request_consent_privacy.flow
//
//	=== the contact accepts
//	contact firstname = Ana
//	start
//	bot: Hi Ana! Please read our privacy policy: https://example.com/privacy
//	bot: Do you accept? [ACCEPT AND CONTINUE]
//	user: accept and continue
//	bot: Thank you!
//	* tag add "Consent: Privacy"
//	* end
//	assert "Consent: Privacy" in contact.tags
//
// Expected lines are compared exactly, in order, with what the flow did after
// the event before them; any line the flow produced that the case does not
// expect is a failure too. See docs/testing.md for every directive.
package flowtest

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowd/flowd/internal/textfile"
)

// A File is a parsed .flowtest file.
type File struct {
	Name  string // path of the test file
	Flow  string // the flow file, relative to the test file
	Cases []*Case
}

// A Case is one scripted conversation.
type Case struct {
	Name  string
	Line  int
	Lines []Line
}

// A Line is one line of a case.
type Line struct {
	Num  int
	Kind Kind
	Verb string // the directive or event word: contact, http, user, wait, ...
	Arg  string // the rest of the line
	Text string // the whole line as written
}

// Kind classifies a line.
type Kind int

const (
	Setup  Kind = iota // changes the world without running the flow: contact, tags, now, http, ...
	Event              // runs the flow: start, user:, wait, ...
	Expect             // a transcript line: bot: ..., * ...
	Assert             // assert EXPR
)

var setupVerbs = map[string]bool{
	"contact": true, "tags": true, "now": true, "timezone": true, "http": true,
	"agents": true, "conversation": true, "trigger": true, "deliveries": true, "assignee": true,
	"enrolled": true, "published": true,
}

var eventVerbs = map[string]bool{
	"start": true, "user:": true, "location:": true, "agent:": true, "wait": true,
	"ai": true, "assign": true, "tag": true, "field": true, "shortcut": true, "ad": true, "stop": true,
}

// Limits of a .flowtest file: the file and one line. A line holds at most
// one event or expectation; an http stub's body may make it long.
const (
	MaxFileSize = 4 << 20
	MaxLineLen  = 1 << 20
)

// What the cases of one .flowtest file may make their flows do together; a
// case after the limit is not run and fails. The bundled tests use less than
// a thousandth of it.
const (
	MaxFileInstructions = 1_000_000
	MaxFileExprSteps    = 50_000_000
)

// Parse reads a .flowtest file.
func Parse(name string, r io.Reader) (*File, error) {
	f := &File{Name: name}
	lines := textfile.NewLines(r, MaxLineLen)
	var cur *Case
	for {
		raw, n, err := lines.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		text := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case strings.HasPrefix(trimmed, "=== "):
			if err := cur.check(name); err != nil {
				return nil, err
			}
			cur = &Case{Name: strings.TrimSpace(trimmed[4:]), Line: n}
			f.Cases = append(f.Cases, cur)
			continue
		case cur == nil:
			verb, arg := split(trimmed)
			if verb != "flow" {
				return nil, fmt.Errorf("%s:%d: expected `flow FILE` or a case (=== name) before %q", name, n, trimmed)
			}
			f.Flow = arg
			continue
		}
		line, err := parseLine(trimmed)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		line.Num = n
		cur.Lines = append(cur.Lines, line)
	}
	if err := cur.check(name); err != nil {
		return nil, err
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases (a case starts with a line `=== name`)", name)
	}
	return f, nil
}

// check reports a case that has no lines: it would pass without testing
// anything. A nil case (none yet) is fine.
func (c *Case) check(file string) error {
	if c != nil && len(c.Lines) == 0 {
		return fmt.Errorf("%s:%d: case has no lines: === %s", file, c.Line, c.Name)
	}
	return nil
}

func parseLine(text string) (Line, error) {
	if strings.HasPrefix(text, "bot:") || strings.HasPrefix(text, "* ") || text == "*" {
		return Line{Kind: Expect, Text: text}, nil
	}
	verb, arg := split(text)
	switch {
	case verb == "assert":
		if arg == "" {
			return Line{}, fmt.Errorf("assert needs an expression")
		}
		return Line{Kind: Assert, Verb: verb, Arg: arg, Text: text}, nil
	case verb == "conversation" && (strings.HasPrefix(arg, "opened") || strings.HasPrefix(arg, "closed")):
		return Line{Kind: Event, Verb: verb, Arg: arg, Text: text}, nil // opened or closed from outside
	case setupVerbs[verb]:
		return Line{Kind: Setup, Verb: verb, Arg: arg, Text: text}, nil
	case eventVerbs[verb]:
		return Line{Kind: Event, Verb: verb, Arg: arg, Text: text}, nil
	}
	return Line{}, fmt.Errorf("unknown line %q (expected an event such as user: or wait, a setup such as contact or http, a transcript line bot: or *, or assert)", text)
}

// split separates the first word of a line. A word ending in ':' is a verb of
// its own (user: hello).
func split(text string) (verb, arg string) {
	if i := strings.IndexAny(text, " \t"); i >= 0 {
		verb, arg = text[:i], strings.TrimSpace(text[i+1:])
	} else {
		verb = text
	}
	if j := strings.IndexByte(verb, ':'); j >= 0 && j < len(verb)-1 {
		// "user:hello" written without a space
		arg = strings.TrimSpace(verb[j+1:] + " " + arg)
		verb = verb[:j+1]
	}
	return verb, arg
}
